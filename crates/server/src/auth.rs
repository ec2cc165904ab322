//! Sessions: opaque tokens, stored only as their SHA-256 (the password
//! checks themselves are `passwords.rs`'s).

use crate::cache::TokenEntry;
use crate::crypto::{new_token, sha256_hex};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use legitka_wire::{ErrorCode, TokenPair};

pub use crate::passwords::{hash_ok, hash_password, set_password_checks_at_once, verify_password};

/// Starts a session: a refresh token (one use, rotated) and an access token.
pub async fn create_session(state: &AppState, student_id: &str) -> AppResult<TokenPair> {
    let now = state.clock.now_ms();
    let refresh = new_token();
    let session_id = uuid::Uuid::new_v4().to_string();
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO sessions (id, student_id, refresh_hash, created_at, refresh_expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&session_id)
    .bind(student_id)
    .bind(sha256_hex(&refresh))
    .bind(now)
    .bind(now.saturating_add(ms(state.settings.session_ttl)))
    .execute(&mut *tx)
    .await?;
    let access = issue_access(state, &mut tx, &session_id, now).await?;
    tx.commit().await?;
    Ok(TokenPair {
        access_token: access.0,
        refresh_token: refresh,
        access_expires_at: access.1,
    })
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

async fn issue_access(
    state: &AppState,
    tx: &mut Tx,
    session_id: &str,
    now: i64,
) -> AppResult<(String, i64)> {
    let token = new_token();
    let expires = now.saturating_add(ms(state.settings.access_ttl));
    sqlx::query(
        "INSERT INTO access_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(sha256_hex(&token))
    .bind(session_id)
    .bind(expires)
    .execute(&mut **tx)
    .await?;
    Ok((token, expires))
}

/// Deletes a session's access tokens; returns their hashes, for the cache
/// to forget once the transaction commits.
async fn drop_access_tokens(tx: &mut Tx, session_id: &str) -> AppResult<Vec<String>> {
    let hashes: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM access_tokens WHERE session_id = $1")
            .bind(session_id)
            .fetch_all(&mut **tx)
            .await?;
    sqlx::query("DELETE FROM access_tokens WHERE session_id = $1")
        .bind(session_id)
        .execute(&mut **tx)
        .await?;
    Ok(hashes)
}

/// Ends a session: its tokens stop working and its devices get no more notices.
async fn revoke_session(tx: &mut Tx, session_id: &str, now: i64) -> AppResult<Vec<String>> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(session_id)
        .execute(&mut **tx)
        .await?;
    crate::push::store::forget_session(tx, session_id).await?;
    drop_access_tokens(tx, session_id).await
}

/// Rotates a refresh token: the old one is spent, a new pair is issued and
/// the session's older access tokens end. A spent token presented again
/// means it was copied: the whole session is revoked.
pub async fn refresh(state: &AppState, refresh_token: &str) -> AppResult<TokenPair> {
    let now = state.clock.now_ms();
    let hash = sha256_hex(refresh_token);
    let mut tx = state.db.begin().await?;
    let live: Option<String> = sqlx::query_scalar(
        "SELECT id FROM sessions WHERE refresh_hash = $1 AND revoked_at IS NULL \
         AND refresh_expires_at > $2",
    )
    .bind(&hash)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(session_id) = live else {
        return spent_again(state, tx, &hash, now).await;
    };
    let next = new_token();
    // Only if the token is still the session's: under PostgreSQL's READ
    // COMMITTED a concurrent refresh with the same token waits here for
    // the first to commit, then finds it spent (SQLite's write lock
    // orders them before the read).
    let rotated = sqlx::query(
        "UPDATE sessions SET refresh_hash = $1 WHERE id = $2 AND refresh_hash = $3 \
         AND revoked_at IS NULL",
    )
    .bind(sha256_hex(&next))
    .bind(&session_id)
    .bind(&hash)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !rotated {
        drop(tx);
        let tx = state.db.begin().await?;
        return spent_again(state, tx, &hash, now).await;
    }
    sqlx::query(
        "INSERT INTO spent_refresh_tokens (token_hash, session_id) VALUES ($1, $2) \
         ON CONFLICT (token_hash) DO NOTHING",
    )
    .bind(&hash)
    .bind(&session_id)
    .execute(&mut *tx)
    .await?;
    let dropped = drop_access_tokens(&mut tx, &session_id).await?;
    let access = issue_access(state, &mut tx, &session_id, now).await?;
    tx.commit().await?;
    state.cache.forget_tokens(&dropped);
    Ok(TokenPair {
        access_token: access.0,
        refresh_token: next,
        access_expires_at: access.1,
    })
}

/// A refresh token that is not a live session's: if it was spent before,
/// it was copied, and the whole session ends. Either way: sign in again.
async fn spent_again(state: &AppState, mut tx: Tx, hash: &str, now: i64) -> AppResult<TokenPair> {
    let stolen: Option<String> =
        sqlx::query_scalar("SELECT session_id FROM spent_refresh_tokens WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(session_id) = stolen {
        tracing::warn!(
            session_id,
            "a spent refresh token was reused: session revoked"
        );
        let dropped = revoke_session(&mut tx, &session_id, now).await?;
        tx.commit().await?;
        ended(state, &dropped, [session_id]);
    }
    Err(unauthorized())
}

/// After the commit that ended `sessions`: their access tokens leave the
/// read cache, and this process's live streams of them end.
fn ended(state: &AppState, dropped: &[String], sessions: impl IntoIterator<Item = String>) {
    state.cache.forget_tokens(dropped);
    for session_id in sessions {
        let _ = state.session_ends.send(session_id.into());
    }
}

/// Signs out: the session's refresh and access tokens all stop working.
pub async fn end_session(state: &AppState, session_id: &str) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let dropped = revoke_session(&mut tx, session_id, state.clock.now_ms()).await?;
    tx.commit().await?;
    ended(state, &dropped, [session_id.to_owned()]);
    Ok(())
}

/// Ends every session of a student the registry removed: their tokens stop
/// at once (their live streams within moments). Their devices stay: the
/// removal's notice, and the card's last month, still reach the phone. They
/// may sign in again to see their card while the registry keeps them.
pub async fn end_sessions_of(state: &AppState, student_id: &str) -> AppResult<()> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let sessions: Vec<String> = sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = $1 WHERE student_id = $2 AND revoked_at IS NULL \
         RETURNING id",
    )
    .bind(now)
    .bind(student_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut dropped = Vec::new();
    for session_id in &sessions {
        dropped.extend(drop_access_tokens(&mut tx, session_id).await?);
    }
    tx.commit().await?;
    ended(state, &dropped, sessions);
    Ok(())
}

/// Sessions that ended (signed out, revoked or run out) before `cutoff`
/// are no longer kept, with their tokens; expired access tokens, and
/// one-time codes (pairing, second screen) past their time, go at once.
/// The devices of such sessions must be gone first
/// (`push::store::prune`). Returns the rows removed.
pub async fn prune(db: &crate::db::Db, now: i64, cutoff: i64) -> AppResult<u64> {
    let ended = "(SELECT id FROM sessions WHERE revoked_at < $1 OR refresh_expires_at < $1)";
    let mut tx = db.begin().await?;
    let mut removed = crate::db::each_with(
        &mut tx,
        &[
            "DELETE FROM access_tokens WHERE expires_at < $1",
            "DELETE FROM pairing_codes WHERE expires_at < $1",
            "DELETE FROM screen_codes WHERE expires_at < $1",
        ],
        now,
    )
    .await?;
    removed += crate::db::each_with(
        &mut tx,
        &[
            &format!("DELETE FROM access_tokens WHERE session_id IN {ended}"),
            &format!("DELETE FROM spent_refresh_tokens WHERE session_id IN {ended}"),
            "DELETE FROM sessions WHERE revoked_at < $1 OR refresh_expires_at < $1",
        ],
        cutoff,
    )
    .await?;
    tx.commit().await?;
    Ok(removed)
}

/// Everything of a student's sign-ins, for `erase` (their devices must be
/// gone first): sessions, tokens, one-time codes. Returns the access
/// tokens' hashes and the sessions, for [`forget`] after the commit.
pub async fn erase_student(
    tx: &mut crate::db::Tx,
    student_id: &str,
) -> AppResult<(Vec<String>, Vec<String>)> {
    let tokens: Vec<String> = sqlx::query_scalar(
        "SELECT token_hash FROM access_tokens WHERE session_id IN \
         (SELECT id FROM sessions WHERE student_id = $1)",
    )
    .bind(student_id)
    .fetch_all(&mut **tx)
    .await?;
    let sessions: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions WHERE student_id = $1")
        .bind(student_id)
        .fetch_all(&mut **tx)
        .await?;
    let statements = [
        "DELETE FROM access_tokens WHERE session_id IN (SELECT id FROM sessions WHERE student_id = $1)",
        "DELETE FROM spent_refresh_tokens WHERE session_id IN \
         (SELECT id FROM sessions WHERE student_id = $1)",
        "DELETE FROM sessions WHERE student_id = $1",
        "DELETE FROM pairing_codes WHERE student_id = $1",
        "DELETE FROM screen_codes WHERE student_id = $1",
    ];
    crate::db::each_with(tx, &statements, student_id).await?;
    Ok((tokens, sessions))
}

/// After a commit that removed sessions: this process forgets their
/// tokens at once and ends their live streams.
pub fn forget(state: &AppState, tokens: &[String], sessions: Vec<String>) {
    ended(state, tokens, sessions);
}

/// Whether a session still stands (not signed out, revoked or expired).
pub async fn session_live(state: &AppState, session_id: &str) -> AppResult<bool> {
    let live: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sessions WHERE id = $1 AND revoked_at IS NULL AND refresh_expires_at > $2",
    )
    .bind(session_id)
    .bind(state.clock.now_ms())
    .fetch_optional(&state.db.pool)
    .await?;
    Ok(live.is_some())
}

/// The signed-in student, from `Authorization: Bearer <access token>`.
pub struct AuthStudent {
    pub id: String,
    pub session_id: String,
    /// When the access token presented stops working (Unix ms).
    pub expires_at: i64,
}

fn unauthorized() -> AppError {
    AppError::client(ErrorCode::Unauthorized, "sign in again")
}

impl FromRequestParts<AppState> for AuthStudent {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(unauthorized)?;
        let now = state.clock.now_ms();
        let hash = sha256_hex(token);
        let entry = match state.cache.token(&hash) {
            Some(e) => e,
            None => {
                let row: Option<(String, String, i64)> = sqlx::query_as(
                    "SELECT s.student_id, s.id, a.expires_at FROM access_tokens a \
                     JOIN sessions s ON s.id = a.session_id \
                     WHERE a.token_hash = $1 AND s.revoked_at IS NULL",
                )
                .bind(&hash)
                .fetch_optional(&state.db.pool)
                .await?;
                let (student_id, session_id, expires_at) = row.ok_or_else(unauthorized)?;
                let e = TokenEntry {
                    student_id,
                    session_id,
                    expires_at,
                };
                state.cache.put_token(hash, e.clone());
                e
            }
        };
        if entry.expires_at <= now {
            return Err(unauthorized());
        }
        Ok(Self {
            id: entry.student_id,
            session_id: entry.session_id,
            expires_at: entry.expires_at,
        })
    }
}
