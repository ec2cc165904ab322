use super::ApiJson;
use crate::auth::{self, AuthStudent};
use crate::error::{AppError, AppResult};
use crate::registry;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use legitka_wire::{ErrorCode, SignInRequest, SignInResponse};

#[tracing::instrument(skip_all, fields(username = %req.username))]
pub async fn sign_in(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SignInRequest>,
) -> AppResult<Json<SignInResponse>> {
    if req.username.trim().is_empty() || req.password.is_empty() {
        return Err(AppError::client(
            ErrorCode::BadRequest,
            "username and password are required",
        ));
    }
    let student = registry::by_username(&state.db.pool, req.username.trim()).await?;
    let hash = student.as_ref().map(|s| s.password_hash.clone());
    if !auth::verify_password(req.password, hash).await? {
        return Err(AppError::client(
            ErrorCode::InvalidCredentials,
            "wrong username or password",
        ));
    }
    let student = student.ok_or_else(|| anyhow::anyhow!("verified a missing student"))?;
    let token = auth::create_session(&state, &student.id).await?;
    Ok(Json(SignInResponse {
        access_token: token,
        student: student.summary,
    }))
}

pub async fn sign_out(State(state): State<AppState>, who: AuthStudent) -> AppResult<StatusCode> {
    auth::end_session(&state, &who.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
