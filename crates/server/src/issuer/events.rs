//! The issuer's events, heard at `POST /issuer/v1/events` (the bridge
//! contract's callback): authenticated with the shared secret, applied
//! through the order service, harmless when repeated. Events heard at
//! about the same time are applied together ([`Applier`]).

use crate::crypto::{Secret, sha256_hex};
use crate::error::{AppError, AppResult};
use crate::orders::activation::IssuedActivation;
use crate::orders::{Applied, IssuerUpdate, Orders};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use legitka_wire::bridge::{BridgeError, BridgeErrorCode, EVENTS_PATH, IssuerEvent, IssuerStatus};
use legitka_wire::{ErrorCode, OrderStatus};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

#[derive(Clone)]
pub(super) struct Hearing {
    applier: Applier,
    /// SHA-256 of the shared secret: compared without keeping it twice.
    secret_hash: Arc<String>,
}

/// The route, for a server with an issuer bridge configured.
pub fn router(orders: Orders, secret: &Secret<String>) -> Router {
    Router::new()
        .route(EVENTS_PATH, post(hear))
        .with_state(Hearing {
            applier: Applier::start(orders),
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
    match apply(&h.applier, event).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(Refusal(status, code, message)) => refuse(status, code, message),
    }
}

struct Refusal(StatusCode, BridgeErrorCode, String);

/// One task applies the events: every event waiting when it is free (up
/// to 64) goes into one transaction (`Orders::issuer_updates`), so a wave
/// of events costs a commit per batch, not per event; an event that comes
/// alone goes at once. It runs apart from the requests, so an event whose
/// caller hung up is still applied to the end.
#[derive(Clone)]
struct Applier {
    queue: mpsc::Sender<(IssuerUpdate, oneshot::Sender<AppResult<Applied>>)>,
}

impl Applier {
    const BATCH: usize = 64;

    fn start(orders: Orders) -> Self {
        let (queue, mut waiting) = mpsc::channel(1024);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(Self::BATCH);
            while waiting.recv_many(&mut batch, Self::BATCH).await > 0 {
                let (updates, replies): (Vec<_>, Vec<oneshot::Sender<AppResult<Applied>>>) =
                    batch.drain(..).unzip();
                match orders.issuer_updates(updates).await {
                    Ok(answers) => {
                        for (reply, answer) in replies.into_iter().zip(answers) {
                            let _ = reply.send(answer);
                        }
                    }
                    Err(e) => {
                        let why = format!("{e:#}");
                        for reply in replies {
                            let _ = reply.send(Err(AppError::Unexpected(anyhow::anyhow!(
                                "applying issuer events: {why}"
                            ))));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    async fn apply(&self, update: IssuerUpdate) -> AppResult<Applied> {
        let (reply, answer) = oneshot::channel();
        let stopped = || AppError::Unexpected(anyhow::anyhow!("the issuer event applier stopped"));
        self.queue
            .send((update, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn apply(applier: &Applier, e: IssuerEvent) -> Result<(), Refusal> {
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
    let update = IssuerUpdate {
        order_id: e.order_id.clone(),
        to,
        reason: e.reason,
        activation,
    };
    match applier.apply(update).await {
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
