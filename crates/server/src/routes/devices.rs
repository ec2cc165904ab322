//! Push registration: up to `MAX_DEVICES` per student (the oldest goes);
//! a token moves to a new session of the same student, or from a session
//! that has ended, never from another student's live one; sign-out
//! removes the session's devices. Web Push endpoints must be public hosts.

use super::ApiJson;
use crate::auth::AuthStudent;
use crate::error::{AppError, AppResult};
use crate::push::{self, webpush::parse_subscription};
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

/// A Web Push token must be a subscription the sender can use, at a
/// public internet host (a name that resolves to this machine or a private
/// network is refused now; the sender's own lookup refuses it again).
async fn check_registration<'a>(state: &AppState, d: &'a DeviceRegistration) -> AppResult<&'a str> {
    let token = check_token(&d.token)?;
    if d.platform == PushPlatform::WebPush {
        let allow_http = state
            .settings
            .web_push
            .as_ref()
            .is_some_and(|w| w.allow_http);
        let sub = parse_subscription(token, allow_http)
            .map_err(|why| AppError::client(ErrorCode::BadRequest, why))?;
        if !allow_http
            && let Some(host) = sub.endpoint.host_str()
            && let Err(crate::net::NotPublic::Private(_)) = crate::net::public_addresses(host).await
        {
            return Err(AppError::client(
                ErrorCode::BadRequest,
                "the endpoint must be a public internet host",
            ));
        }
    }
    Ok(token)
}

/// Registers (or re-registers, e.g. after a token change) this device.
#[utoipa::path(post, path = "/api/v1/devices", tag = "push", security(("bearer" = [])),
    request_body = DeviceRegistration,
    responses((status = 204, description = "registered"), (status = 400, description = "bad input (bad_request and the like)", body = ApiError),
        (status = 409, description = "the token is another signed-in student's (device_in_use)", body = ApiError),
        (status = 413, description = "body too large", body = ApiError), (status = 415, description = "body not JSON", body = ApiError),
        (status = 401, description = "not signed in", body = ApiError)))]
pub async fn register(
    State(state): State<AppState>,
    who: AuthStudent,
    ApiJson(d): ApiJson<DeviceRegistration>,
) -> AppResult<StatusCode> {
    let token = check_registration(&state, &d).await?;
    let now = state.clock.now_ms();
    push::store::register(&state.db, &who.id, &who.session_id, &d, token, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops notices to this device.
#[utoipa::path(delete, path = "/api/v1/devices", tag = "push", security(("bearer" = [])),
    request_body = DeviceRegistration,
    responses((status = 204, description = "removed"), (status = 400, description = "bad input (bad_request and the like)", body = ApiError),
        (status = 404, description = "not a device of this student", body = ApiError),
        (status = 413, description = "body too large", body = ApiError), (status = 415, description = "body not JSON", body = ApiError),
        (status = 401, description = "not signed in", body = ApiError)))]
pub async fn unregister(
    State(state): State<AppState>,
    who: AuthStudent,
    ApiJson(d): ApiJson<DeviceRegistration>,
) -> AppResult<StatusCode> {
    let token = check_token(&d.token)?;
    if !push::store::unregister(&state.db, &who.id, d.platform, token).await? {
        return Err(AppError::client(ErrorCode::NotFound, "no such device"));
    }
    Ok(StatusCode::NO_CONTENT)
}
