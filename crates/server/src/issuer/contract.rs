//! The issuer-bridge contract as an OpenAPI document
//! (`docs/issuer-bridge.openapi.json`): the bridge's two operations, which
//! a university's system or a ministry connector implements, and the event
//! callback this server implements. The types are `legitka_wire::bridge`.

use crate::routes::BearerAuth;
use legitka_wire::bridge::{
    BridgeError, CardData, CommandAccepted, InvalidateOrder, IssuedCodes, IssuerEvent, SubmitOrder,
};
use utoipa::OpenApi;

/// Submit an order: issue the card it describes. Answered 202 once taken;
/// the outcome comes later as events to `callback_url`.
#[utoipa::path(post, path = "/bridge/v1/orders", tag = "bridge", request_body = SubmitOrder,
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header,
        description = "the command's id: a repeat answers what the first answered")),
    responses((status = 202, description = "taken", body = CommandAccepted),
        (status = 400, description = "not a submit of this contract; no Idempotency-Key", body = BridgeError),
        (status = 401, description = "no or a wrong shared secret", body = BridgeError),
        (status = 409, description = "the order was invalidated: code `invalidated`; do not retry", body = BridgeError),
        (status = 422, description = "card data refused, or the key came with another command", body = BridgeError),
        (status = 429, description = "later (Retry-After)", body = BridgeError),
        (status = 503, description = "later (Retry-After)", body = BridgeError)))]
#[allow(dead_code)] // documents the bridge's side; the bridge adapter calls it
fn submit_order() {}

/// Invalidate an order: its card and codes are void for good, also when
/// its submit has not arrived yet.
#[utoipa::path(post, path = "/bridge/v1/orders/{order_id}/invalidate", tag = "bridge",
    request_body = InvalidateOrder, security(("bearer" = [])),
    params(("order_id" = String, Path, description = "the backend's order id"),
        ("Idempotency-Key" = String, Header,
        description = "the command's id: a repeat answers what the first answered")),
    responses((status = 200, description = "invalidated", body = CommandAccepted),
        (status = 400, description = "not an invalidation of this contract", body = BridgeError),
        (status = 401, description = "no or a wrong shared secret", body = BridgeError),
        (status = 429, description = "later (Retry-After)", body = BridgeError),
        (status = 503, description = "later (Retry-After)", body = BridgeError)))]
#[allow(dead_code)] // documents the bridge's side; the bridge adapter calls it
fn invalidate_order() {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Legitka issuer bridge",
        version = "1",
        description = "How a university backend reaches whatever issues mLegitymacja cards. \
            The backend sends commands (submit, invalidate) with `Authorization: Bearer \
            <shared secret>` and an `Idempotency-Key`; the bridge answers later with events \
            posted to the order's `callback_url` with the same secret, retried until a 2xx \
            or a 409. Invalidation is final."
    ),
    paths(submit_order, invalidate_order, super::events::hear),
    components(schemas(CardData, IssuedCodes, IssuerEvent)),
    modifiers(&BearerAuth)
)]
pub struct BridgeDoc;

/// The document as checked in: pretty JSON with a final newline.
pub fn openapi_json() -> String {
    let mut s = BridgeDoc::openapi()
        .to_pretty_json()
        .expect("the bridge document serializes");
    s.push('\n');
    s
}
