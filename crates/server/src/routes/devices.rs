//! Push registration: several devices per student; a device's token belongs
//! to whoever registered it last; sign-out removes the session's devices.

use super::ApiJson;
use crate::auth::AuthStudent;
use crate::error::{AppError, AppResult};
use crate::push::webpush::parse_subscription;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use legitka_wire::{ApiError, DeviceRegistration, ErrorCode, PushPlatform};

fn check_token(token: &str) -> AppResult<&str> {
    let t = token.trim();
    if t.is_empty() || t.len() > 4096 || t.chars().any(char::is_control) {
        return Err(AppError::client(
            ErrorCode::BadRequest,
            "a push token is 1–4096 printable characters",
        ));
    }
    Ok(t)
}

/// A Web Push token must be a subscription the sender can use.
fn check_registration<'a>(state: &AppState, d: &'a DeviceRegistration) -> AppResult<&'a str> {
    let token = check_token(&d.token)?;
    if d.platform == PushPlatform::WebPush {
        let allow_http = state
            .settings
            .web_push
            .as_ref()
            .is_some_and(|w| w.allow_http);
        parse_subscription(token, allow_http)
            .map_err(|why| AppError::client(ErrorCode::BadRequest, why))?;
    }
    Ok(token)
}

/// Registers (or re-registers, e.g. after a token change) this device.
#[utoipa::path(post, path = "/api/v1/devices", tag = "push", security(("bearer" = [])),
    request_body = DeviceRegistration,
    responses((status = 204, description = "registered"), (status = 400, body = ApiError),
        (status = 401, description = "not signed in", body = ApiError)))]
pub async fn register(
    State(state): State<AppState>,
    who: AuthStudent,
    ApiJson(d): ApiJson<DeviceRegistration>,
) -> AppResult<StatusCode> {
    let token = check_registration(&state, &d)?;
    sqlx::query(
        "INSERT INTO devices (id, student_id, session_id, platform, token, locale, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (platform, token) DO UPDATE SET student_id = $2, session_id = $3, \
         locale = $6, created_at = $7",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&who.id)
    .bind(&who.session_id)
    .bind(d.platform.as_str())
    .bind(token)
    .bind(d.locale.as_str())
    .bind(state.clock.now_ms())
    .execute(&state.db.pool)
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops notices to this device.
#[utoipa::path(delete, path = "/api/v1/devices", tag = "push", security(("bearer" = [])),
    request_body = DeviceRegistration,
    responses((status = 204, description = "removed"), (status = 400, body = ApiError),
        (status = 404, description = "not a device of this student", body = ApiError),
        (status = 401, description = "not signed in", body = ApiError)))]
pub async fn unregister(
    State(state): State<AppState>,
    who: AuthStudent,
    ApiJson(d): ApiJson<DeviceRegistration>,
) -> AppResult<StatusCode> {
    let token = check_token(&d.token)?;
    let done =
        sqlx::query("DELETE FROM devices WHERE platform = $1 AND token = $2 AND student_id = $3")
            .bind(d.platform.as_str())
            .bind(token)
            .bind(&who.id)
            .execute(&state.db.pool)
            .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::client(ErrorCode::NotFound, "no such device"));
    }
    Ok(StatusCode::NO_CONTENT)
}
