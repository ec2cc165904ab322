//! Sign-in with university credentials (argon2) and opaque session tokens,
//! stored only as their SHA-256.

use crate::crypto::{new_token, sha256_hex};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use legitka_wire::ErrorCode;

/// Hashes a password with argon2id (default parameters) on a blocking thread.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
    })
    .await?
}

/// Verifies on a blocking thread. A missing account still costs one
/// verification, so timing does not tell which usernames exist.
pub async fn verify_password(password: String, hash: Option<String>) -> anyhow::Result<bool> {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                         n6bwFhBH5pxLzhiSmpOJXzmBspdRcaxHvMWYV7axoXk";
    tokio::task::spawn_blocking(move || {
        let found = hash.is_some();
        let hash = hash.as_deref().unwrap_or(DUMMY);
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok();
        Ok(found && ok)
    })
    .await?
}

/// Starts a session and returns the token (shown once, stored hashed).
pub async fn create_session(state: &AppState, student_id: &str) -> AppResult<String> {
    let token = new_token();
    let now = state.clock.now_ms();
    let ttl = i64::try_from(state.settings.session_ttl.as_millis()).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO sessions (token_hash, student_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(sha256_hex(&token))
    .bind(student_id)
    .bind(now)
    .bind(now.saturating_add(ttl))
    .execute(&state.db.pool)
    .await?;
    Ok(token)
}

pub async fn end_session(state: &AppState, token: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(sha256_hex(token))
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// The signed-in student, from `Authorization: Bearer <token>`.
pub struct AuthStudent {
    pub id: String,
    pub token: String,
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
        let id: Option<String> = sqlx::query_scalar(
            "SELECT student_id FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(sha256_hex(token))
        .bind(state.clock.now_ms())
        .fetch_optional(&state.db.pool)
        .await?;
        Ok(Self {
            id: id.ok_or_else(unauthorized)?,
            token: token.to_owned(),
        })
    }
}
