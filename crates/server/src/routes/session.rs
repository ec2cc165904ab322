use super::ApiJson;
use crate::auth::{self, AuthStudent};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use legitka_wire::{ApiError, ErrorCode, RefreshRequest, SignInRequest, SignInResponse, TokenPair};

/// Sign in with university credentials, checked by the university's
/// adapter (the registry's passwords, or its directory).
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SignInRequest,
    responses((status = 200, description = "the result", body = SignInResponse),
        (status = 400, description = "bad input (bad_request and the like)", body = ApiError), (status = 401, description = "wrong credentials", body = ApiError),
        (status = 403, description = "the directory knows the student but the register does not (not_in_register), or the directory locked the account (account_locked)", body = ApiError),
        (status = 413, description = "body too large", body = ApiError), (status = 415, description = "body not JSON", body = ApiError),
        (status = 429, description = "rate limited (see Retry-After)", body = ApiError),
        (status = 503, description = "busy checking passwords (see Retry-After), or the university's directory is not answering (sign_in_unavailable)", body = ApiError)))]
#[tracing::instrument(skip_all, fields(username = %req.username))]
pub async fn sign_in(
    State(state): State<AppState>,
    super::client::ClientIp(client): super::client::ClientIp,
    ApiJson(req): ApiJson<SignInRequest>,
) -> AppResult<Json<SignInResponse>> {
    if req.username.trim().is_empty()
        || req.password.is_empty()
        || req.username.len() > 200
        || req.password.len() > 1000
    {
        return Err(AppError::client(
            ErrorCode::BadRequest,
            "a username (1–200 characters) and a password (1–1000) are required",
        ));
    }
    let student = crate::identity::sign_in(
        &state.identity,
        &state.db.pool,
        &state.limits,
        req.username.trim(),
        req.password,
        client,
    )
    .await?;
    let tokens = auth::create_session(&state, &student.id).await?;
    Ok(Json(SignInResponse {
        tokens,
        student: student.summary,
    }))
}

/// Trades a refresh token for a new pair (the old refresh token is spent).
#[utoipa::path(post, path = "/api/v1/session/refresh", tag = "session", request_body = RefreshRequest,
    responses((status = 200, description = "the result", body = TokenPair),
        (status = 400, description = "bad input", body = ApiError), (status = 413, description = "body too large", body = ApiError), (status = 415, description = "body not JSON", body = ApiError),
        (status = 401, description = "unknown, spent or expired refresh token", body = ApiError)))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> AppResult<Json<TokenPair>> {
    if req.refresh_token.is_empty() || req.refresh_token.len() > 200 {
        return Err(AppError::client(
            ErrorCode::BadRequest,
            "a refresh token is 1–200 characters",
        ));
    }
    Ok(Json(auth::refresh(&state, req.refresh_token.trim()).await?))
}

/// Sign out: the session's access and refresh tokens stop working.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", security(("bearer" = [])),
    responses((status = 204, description = "signed out"), (status = 401, description = "not signed in", body = ApiError)))]
pub async fn sign_out(State(state): State<AppState>, who: AuthStudent) -> AppResult<StatusCode> {
    auth::end_session(&state, &who.session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
