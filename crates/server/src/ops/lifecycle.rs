//! Keeping personal data no longer than it is needed. `prune` (on the
//! sweeper's schedule, hourly) removes what has done its work: ended
//! sessions and their tokens, used or expired one-time codes, delivered
//! notices, the devices of sessions that ran out, idempotency keys past
//! their day, unfinished sign-ins, and dead letters older than
//! `retention`. `erase` removes everything the server keeps of one
//! student, leaving their orders' history anonymous. Each table's owner
//! does its own part; this module only says when and in which order.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use legitka_wire::ErrorCode;

/// What one prune removed, by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Devices of ended sessions, and delivered notices.
    pub notices: u64,
    /// Ended sessions, their tokens, expired one-time codes.
    pub sign_ins: u64,
    pub idempotency_keys: u64,
    /// Unfinished sign-ins at USOS or the university's provider.
    pub unfinished: u64,
    pub dead_letters: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.notices + self.sign_ins + self.idempotency_keys + self.unfinished + self.dead_letters
    }
}

pub async fn prune(state: &AppState) -> AppResult<Pruned> {
    let now = state.clock.now_ms();
    let cutoff = now - i64::try_from(state.settings.retention.as_millis()).unwrap_or(i64::MAX);
    let db = &state.db;
    // Devices reference sessions: they go first.
    let notices = crate::push::store::prune(db, cutoff).await?;
    let sign_ins = crate::auth::prune(db, now, cutoff).await?;
    let idempotency_keys = crate::orders::store::prune(db, now).await?;
    let unfinished =
        crate::usos::store::prune(db, now).await? + crate::identity::oidc::prune(db, now).await?;
    let mut dead_letters = 0;
    for q in super::queues() {
        dead_letters += crate::outbox::purge(db, q, None, cutoff).await?;
    }
    Ok(Pruned {
        notices,
        sign_ins,
        idempotency_keys,
        unfinished,
        dead_letters,
    })
}

/// Erases a student's personal data (`erase`): refused while an order of
/// theirs is open (the card must end first: `remove`). In one
/// transaction: their sign-ins, devices, notices, USOS tokens and
/// idempotency keys go, their record is emptied, and the action is
/// recorded under the operator's name with the student's id only.
/// Returns the erased student's id.
pub async fn erase(state: &AppState, username: &str, operator: &str) -> AppResult<String> {
    let student = crate::registry::by_username(&state.db.pool, username)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::NotFound, format!("no student {username:?}")))?;
    if let Some(open) = crate::orders::store::open_status(&state.db, &student.id).await? {
        return Err(AppError::client(
            ErrorCode::InvalidTransition,
            format!(
                "{username} has an order that is {}: end it first \
                 (`remove {username} --reason removed` ends a card in use a month on), then erase",
                open.as_str()
            ),
        ));
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    crate::push::store::erase_student(&mut tx, &student.id).await?;
    let (tokens, sessions) = crate::auth::erase_student(&mut tx, &student.id).await?;
    crate::usos::store::erase_student(&mut tx, &student.id).await?;
    crate::orders::store::erase_student(&mut tx, &student.id).await?;
    crate::registry::erase(&mut tx, &student.id, now).await?;
    super::audit::record(&mut *tx, now, operator, "erase", Some(&student.id), None).await?;
    tx.commit().await?;
    crate::auth::forget(state, &tokens, sessions);
    state.cache.bump(&student.id);
    Ok(student.id)
}
