//! The one error the UI sees from a command: a stable code (translated by the
//! UI) and a developer message (never shown as-is).

use legitka_wire::{ApiError, ErrorCode};
use serde::Serialize;

#[derive(Debug, thiserror::Error, Serialize, Clone, PartialEq, Eq)]
#[error("{code:?}: {message}")]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<ApiError> for CommandError {
    fn from(e: ApiError) -> Self {
        Self {
            code: e.code,
            message: e.message,
        }
    }
}

impl From<reqwest::Error> for CommandError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_connect() || e.is_timeout() || e.is_request() {
            Self::new(ErrorCode::ServerUnreachable, e.to_string())
        } else {
            Self::new(ErrorCode::BadResponse, e.to_string())
        }
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
