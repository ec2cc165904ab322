//! The versioned HTTP API. Every error leaves as `{code, message}`.

mod events;
mod session;
mod student;

use crate::error::AppError;
use crate::state::AppState;
use axum::Router;
use axum::extract::FromRequest;
use axum::routing::{get, post};
use legitka_wire::{API_PREFIX, ErrorCode};

/// `axum::Json`, with rejections in the API's error shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/session", post(session::sign_in).delete(session::sign_out))
        .route("/session/refresh", post(session::refresh))
        .route("/me", get(student::state))
        .route(
            "/orders",
            post(student::place_order).get(student::list_orders),
        )
        .route("/orders/current/reveal", post(student::reveal))
        .route("/orders/current/cancel", post(student::cancel))
        .route("/orders/current/revoke", post(student::revoke))
        .route("/orders/current/resubmit", post(student::resubmit))
        .route("/orders/current/replace", post(student::replace))
        .route("/orders/{id}/timeline", get(student::timeline))
        .route("/events", get(events::stream));
    Router::new()
        .nest(API_PREFIX, api)
        .route("/health", get(|| async { "ok" }))
        .fallback(|| async { AppError::client(ErrorCode::NotFound, "no such endpoint") })
        .with_state(state)
}
