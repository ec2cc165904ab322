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
    /// The server is at capacity for this work: answered 503 with `Retry-After`.
    #[error("busy; retry in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
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
            Self::Busy { .. } => ErrorCode::Busy,
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
        let code = match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            _ => ErrorCode::BadRequest,
        };
        Self::client(code, r.body_text())
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
        ErrorCode::NotEligible | ErrorCode::NotInRegister | ErrorCode::AccountLocked => {
            StatusCode::FORBIDDEN
        }
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
        ErrorCode::UniversityUnavailable | ErrorCode::Busy | ErrorCode::SignInUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::UniversitySignInNeeded | ErrorCode::NotOffered => StatusCode::FORBIDDEN,
    }
}

/// An answer that says when to try again.
fn later(code: ErrorCode, what: &str, retry_after_secs: u64) -> Response {
    let body = ApiError {
        code,
        message: format!("{what}; retry in {retry_after_secs} s"),
    };
    (
        status_for(code),
        [(
            axum::http::header::RETRY_AFTER,
            retry_after_secs.to_string(),
        )],
        Json(body),
    )
        .into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (code, message) = match self {
            Self::Client { code, message } => (code, message),
            Self::RateLimited { retry_after_secs } => {
                return later(
                    ErrorCode::RateLimited,
                    "too many requests",
                    retry_after_secs,
                );
            }
            Self::Busy { retry_after_secs } => {
                return later(ErrorCode::Busy, "the server is busy", retry_after_secs);
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
