//! The one HTTP error type. Every status mapping lives in [`status_for`].

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use legitka_wire::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A client mistake or a refused action: shown to the client with its code.
    #[error("{message}")]
    Client { code: ErrorCode, message: String },
    /// Too many requests: answered 429 with `Retry-After`.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// Anything unexpected: logged with its cause chain, never shown.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AppError {
    pub fn client(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Client {
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Client { code, .. } => *code,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unexpected(_) => ErrorCode::Internal,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        Self::Unexpected(anyhow::Error::new(e).context("database error"))
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        Self::client(ErrorCode::BadRequest, r.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        Self::client(ErrorCode::BadRequest, r.body_text())
    }
}

pub fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::InvalidCredentials | ErrorCode::InvalidPairingCode | ErrorCode::Unauthorized => {
            StatusCode::UNAUTHORIZED
        }
        ErrorCode::NotFound | ErrorCode::NoOrder => StatusCode::NOT_FOUND,
        ErrorCode::NotEligible => StatusCode::FORBIDDEN,
        ErrorCode::OrderExists
        | ErrorCode::AlreadyActivated
        | ErrorCode::NotReady
        | ErrorCode::DeviceInUse
        | ErrorCode::InvalidTransition => StatusCode::CONFLICT,
        ErrorCode::RevealLimitReached | ErrorCode::ActivationExpired => StatusCode::GONE,
        ErrorCode::InvalidActivationCode => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Internal | ErrorCode::BadResponse => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::ServerUnreachable => StatusCode::BAD_GATEWAY,
        ErrorCode::UniversityUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::UniversitySignInNeeded | ErrorCode::NotOffered => StatusCode::FORBIDDEN,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (code, message) = match self {
            Self::Client { code, message } => (code, message),
            Self::RateLimited { retry_after_secs } => {
                let body = ApiError {
                    code: ErrorCode::RateLimited,
                    message: format!("too many requests; retry in {retry_after_secs} s"),
                };
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(
                        axum::http::header::RETRY_AFTER,
                        retry_after_secs.to_string(),
                    )],
                    Json(body),
                )
                    .into_response();
            }
            Self::Unexpected(e) => {
                tracing::error!(error = format!("{e:#}"), "unexpected error");
                (ErrorCode::Internal, "internal error".to_owned())
            }
        };
        (status_for(code), Json(ApiError { code, message })).into_response()
    }
}

pub type AppResult<T> = Result<T, AppError>;
