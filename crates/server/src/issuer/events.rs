//! The issuer's events, heard at `POST /issuer/v1/events` (the bridge
//! contract's callback): authenticated with the shared secret, applied
//! through the order service, harmless when repeated.

use crate::crypto::{Secret, sha256_hex};
use crate::error::AppError;
use crate::orders::activation::IssuedActivation;
use crate::orders::{Applied, Orders};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use legitka_wire::bridge::{BridgeError, BridgeErrorCode, EVENTS_PATH, IssuerEvent, IssuerStatus};
use legitka_wire::{ErrorCode, OrderStatus};
use std::sync::Arc;

#[derive(Clone)]
pub(super) struct Hearing {
    orders: Orders,
    /// SHA-256 of the shared secret: compared without keeping it twice.
    secret_hash: Arc<String>,
}

/// The route, for a server with an issuer bridge configured.
pub fn router(orders: Orders, secret: &Secret<String>) -> Router {
    Router::new()
        .route(EVENTS_PATH, post(hear))
        .with_state(Hearing {
            orders,
            secret_hash: Arc::new(sha256_hex(secret.expose())),
        })
}

fn refuse(status: StatusCode, code: BridgeErrorCode, message: impl Into<String>) -> Response {
    let body = BridgeError {
        code,
        message: message.into(),
    };
    (status, Json(body)).into_response()
}

/// Hears one event of the issuer about an order.
#[utoipa::path(post, path = "/issuer/v1/events", tag = "backend", request_body = IssuerEvent,
    security(("bearer" = [])),
    responses((status = 204, description = "applied (or applied before: a repeat)"),
        (status = 400, description = "not an event of this contract", body = BridgeError),
        (status = 401, description = "no or a wrong shared secret", body = BridgeError),
        (status = 404, description = "no such order", body = BridgeError),
        (status = 409, description = "the order has moved on: do not retry", body = BridgeError)))]
pub(super) async fn hear(
    State(h): State<Hearing>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer.is_none_or(|b| sha256_hex(b) != *h.secret_hash) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            BridgeErrorCode::Unauthorized,
            "wrong shared secret",
        );
    }
    let event: IssuerEvent = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                BridgeErrorCode::BadRequest,
                format!("not an issuer event: {e}"),
            );
        }
    };
    match apply(&h.orders, event).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(Refusal(status, code, message)) => refuse(status, code, message),
    }
}

struct Refusal(StatusCode, BridgeErrorCode, String);

async fn apply(orders: &Orders, e: IssuerEvent) -> Result<(), Refusal> {
    let to = match e.status {
        IssuerStatus::InProgress => OrderStatus::InProgress,
        IssuerStatus::Ready => OrderStatus::Ready,
        IssuerStatus::Error => OrderStatus::Error,
        IssuerStatus::ReturnedForCorrection => OrderStatus::ReturnedForCorrection,
        IssuerStatus::Received => OrderStatus::Received,
    };
    let activation = match (e.status, e.activation) {
        (IssuerStatus::Ready, Some(codes)) => Some(IssuedActivation {
            qr_payload: codes.qr_payload,
            manual_code: codes.manual_code,
            activation_code: Secret::new(codes.activation_code),
        }),
        (IssuerStatus::Ready, None) => {
            return Err(Refusal(
                StatusCode::BAD_REQUEST,
                BridgeErrorCode::BadRequest,
                "a ready event carries the activation data".into(),
            ));
        }
        _ => None,
    };
    match orders
        .issuer_update(&e.order_id, to, e.reason, activation)
        .await
    {
        // A repeat of an event already applied is fine.
        Ok(Applied::Changed | Applied::AlreadySo) => Ok(()),
        Err(err) if err.code() == ErrorCode::NoOrder => Err(Refusal(
            StatusCode::NOT_FOUND,
            BridgeErrorCode::UnknownOrder,
            "no such order".into(),
        )),
        Err(AppError::Client {
            code: ErrorCode::InvalidTransition,
            message,
        }) => Err(Refusal(
            StatusCode::CONFLICT,
            BridgeErrorCode::Conflict,
            message,
        )),
        Err(err) => {
            tracing::error!(
                error = format!("{err:#}"),
                order_id = e.order_id,
                "issuer event failed"
            );
            Err(Refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                BridgeErrorCode::Unavailable,
                "try again later".into(),
            ))
        }
    }
}
