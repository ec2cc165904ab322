//! Registry operations for the university's IT team (the admin CLI and tests).

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use legitka_wire::ErrorCode;

/// Why a student left the list (as `students.removal_reason` records it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Removal {
    Graduated,
    Removed,
}

impl Removal {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown(username: &str) -> AppError {
    AppError::client(ErrorCode::NotFound, format!("no student {username:?}"))
}

/// A new semester: the ELS is extended until `valid_until` (Unix ms).
/// The student may then renew their mLegitymacja.
pub async fn extend_els(state: &AppState, username: &str, valid_until: i64) -> AppResult<()> {
    if valid_until <= state.clock.now_ms() {
        return Err(AppError::client(
            ErrorCode::BadRequest,
            format!(
                "{} is in the past: an ELS is extended to a day to come",
                day(valid_until)
            ),
        ));
    }
    let done = sqlx::query(
        "UPDATE students SET els_valid_until = $1 WHERE username = $2 AND els_number IS NOT NULL",
    )
    .bind(valid_until)
    .bind(username)
    .execute(&state.db.pool)
    .await?;
    if done.rows_affected() == 1 {
        if let Some(s) = crate::registry::by_username(&state.db.pool, username).await? {
            state.orders.registry_changed(&s.id).await?;
        }
        return Ok(());
    }
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM students WHERE username = $1")
        .bind(username)
        .fetch_optional(&state.db.pool)
        .await?;
    match exists {
        None => Err(unknown(username)),
        Some(_) => Err(AppError::client(
            ErrorCode::BadRequest,
            format!("{username:?} has no ELS to extend"),
        )),
    }
}

/// A duplicate ELS was issued (the old one lost or damaged): its new
/// number, issued now. A card in use may then be renewed.
pub async fn record_els_duplicate(state: &AppState, username: &str, number: &str) -> AppResult<()> {
    let number = number.trim();
    if number.is_empty() {
        return Err(AppError::client(
            ErrorCode::BadRequest,
            "the duplicate's ELS number",
        ));
    }
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE students SET els_number = $1, els_issued_at = $2 \
         WHERE username = $3 AND els_number IS NOT NULL RETURNING id",
    )
    .bind(number)
    .bind(state.clock.now_ms())
    .bind(username)
    .fetch_optional(&state.db.pool)
    .await?;
    match id {
        Some(id) => state.orders.registry_changed(&id).await,
        None if crate::registry::by_username(&state.db.pool, username)
            .await?
            .is_some() =>
        {
            Err(AppError::client(
                ErrorCode::BadRequest,
                format!("{username:?} has no ELS"),
            ))
        }
        None => Err(unknown(username)),
    }
}

/// Graduation or removal from the student list: no longer active; orders on
/// the way are cancelled and their codes voided; a card in use stays valid
/// one month (`docs/rules.md`).
pub async fn remove_student(state: &AppState, username: &str, how: Removal) -> AppResult<()> {
    let now = state.clock.now_ms();
    let id: String = sqlx::query_scalar(
        "UPDATE students SET active = 0, removed_at = $1, removal_reason = $2 \
         WHERE username = $3 RETURNING id",
    )
    .bind(now)
    .bind(how.as_str())
    .bind(username)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| unknown(username))?;
    // The cancelled orders are voided at the issuer through the outbox.
    state.orders.student_removed(&id, now).await?;
    crate::auth::end_sessions_of(state, &id).await?;
    state.orders.registry_changed(&id).await
}

/// A student and their orders, for the IT team's eyes. The PESEL is masked.
pub async fn show(state: &AppState, username: &str) -> AppResult<String> {
    use crate::orders::eligibility;
    use std::fmt::Write;
    let s = crate::registry::by_username(&state.db.pool, username)
        .await?
        .ok_or_else(|| unknown(username))?;
    let masked = s.card.pesel_masked.as_deref().unwrap_or("none");
    let checks = eligibility::evaluate(&s.facts, state.settings.eligibility, state.clock.now_ms());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({username})",
        s.summary.first_name, s.summary.last_name
    );
    let _ = writeln!(
        out,
        "  album {}  PESEL {masked}  study level {}",
        s.summary.album_number.as_deref().unwrap_or("none"),
        s.facts.study_level.as_str()
    );
    let _ = writeln!(
        out,
        "  ELS valid until {}",
        s.facts.els_valid_until.map_or("none".to_owned(), day)
    );
    let _ = writeln!(
        out,
        "  eligible: {}",
        if eligibility::all_ok(&checks) {
            "yes"
        } else {
            "no"
        }
    );
    for c in checks.iter().filter(|c| !c.ok) {
        let _ = writeln!(out, "    failed: {:?}", c.code);
    }
    let orders = state.orders.all_for(&s.id).await?;
    if orders.is_empty() {
        let _ = writeln!(out, "  no orders");
    }
    for o in orders {
        let _ = writeln!(
            out,
            "  order {} ({}) {}{}  created {}  views left {}",
            o.id,
            o.kind.as_str(),
            o.status.as_str(),
            o.reason
                .map(|r| format!(" ({})", r.as_str()))
                .unwrap_or_default(),
            day(o.created_at),
            o.reveals_left
        );
        for e in state.orders.timeline(&s.id, &o.id).await? {
            let _ = writeln!(
                out,
                "    {}  {:<24} by {}{}",
                day(e.at),
                e.status.as_str(),
                e.actor.as_str(),
                e.reason
                    .map(|r| format!(" ({})", r.as_str()))
                    .unwrap_or_default()
            );
        }
    }
    Ok(out)
}

/// `YYYY-MM-DD` (a day in Poland) for Unix milliseconds.
fn day(ms: i64) -> String {
    crate::calendar::day_of(ms)
}
