//! Registry operations for the university's IT team (the admin CLI and tests).

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use legitka_wire::ErrorCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    Graduated,
    Removed,
}

impl Removal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Graduated => "graduated",
            Self::Removed => "removed",
        }
    }
}

fn unknown(username: &str) -> AppError {
    AppError::client(ErrorCode::NotFound, format!("no student {username:?}"))
}

/// A new semester: the ELS is extended until `valid_until` (Unix ms).
/// The student may then renew their mLegitymacja.
pub async fn extend_els(state: &AppState, username: &str, valid_until: i64) -> AppResult<()> {
    let done = sqlx::query(
        "UPDATE students SET els_valid_until = $1 WHERE username = $2 AND els_number IS NOT NULL",
    )
    .bind(valid_until)
    .bind(username)
    .execute(&state.db.pool)
    .await?;
    if done.rows_affected() == 1 {
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

/// Graduation or removal from the student list: no longer active; orders on
/// the way are cancelled and their codes voided; a card in use stays valid
/// one month (seed 002).
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
    for order_id in state.orders.student_removed(&id, now).await? {
        state.issuer.invalidate(order_id).await?;
    }
    Ok(())
}
