//! The issuer bridge, version 1: the small HTTP contract between a
//! university backend and whatever issues the card — the ministry's system
//! behind a connector, or a university's existing system. Published as
//! `docs/issuer-bridge.openapi.json`.
//!
//! - The backend sends commands: `POST /bridge/v1/orders` (submit, with
//!   the card's data) and `POST /bridge/v1/orders/{order_id}/invalidate`.
//!   Each carries `Authorization: Bearer <shared secret>` and an
//!   `Idempotency-Key` (the command's id): a repeat answers what the first
//!   answered, so the backend may retry anything that got no answer.
//! - The bridge answers later with events, `POST <callback_url>` with the
//!   same bearer secret: in progress, ready (with the activation data),
//!   error, returned for correction, received (activated in mObywatel). A
//!   repeated event is harmless; the bridge retries until it gets a 2xx or
//!   a 409 (the order has moved on and the event no longer applies).
//! - Invalidation is final: the card and codes of an invalidated order
//!   never activate, and a submit that arrives after it is refused with
//!   `invalidated` (commands may cross on the network).

use crate::{OrderKind, Reason};
use serde::{Deserialize, Serialize};

/// Where the bridge's own operations live.
pub const ORDERS_PATH: &str = "/bridge/v1/orders";

/// Where the backend hears the bridge's events (relative to its public URL).
pub const EVENTS_PATH: &str = "/issuer/v1/events";

/// The bridge's path for invalidating one order.
pub fn invalidate_path(order_id: &str) -> String {
    format!("{ORDERS_PATH}/{order_id}/invalidate")
}

/// Submit: issue a card for this order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitOrder {
    /// The backend's order id; every event names it.
    pub order_id: String,
    pub kind: OrderKind,
    pub card: CardData,
    /// Where the bridge posts its events for this order.
    pub callback_url: String,
}

/// What the card shows, as the university's registry has it.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardData {
    pub first_name: String,
    pub last_name: String,
    /// YYYY-MM-DD
    pub birth_date: String,
    /// 11 digits.
    pub pesel: String,
    /// The student's album (card) number.
    pub card_number: Option<String>,
    /// The paper ID (ELS) the card mirrors, if any.
    pub els_number: Option<String>,
    /// YYYY-MM-DD
    pub issued_on: String,
    /// The last day the card is valid, YYYY-MM-DD.
    pub valid_until: String,
    pub university: String,
    /// The photo as base64 JPEG, when the registry holds one; `null` means
    /// the bridge takes it from the university's photo service.
    pub photo_jpeg_base64: Option<String>,
}

impl std::fmt::Debug for CardData {
    // Personal data stays out of logs: the PESEL is masked, the photo left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardData")
            .field("pesel", &"***********")
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

/// Invalidate: the order's card and codes are void for good.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvalidateOrder {
    /// Why (cancelled by the student, revoked, replaced, superseded …).
    pub reason: Option<Reason>,
}

/// The bridge's answer to a command.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandAccepted {
    pub order_id: String,
    /// `accepted` (a submit taken) or `invalidated`.
    pub state: CommandState,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
    Accepted,
    Invalidated,
}

/// An event from the bridge about one order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuerEvent {
    /// Unique per event; a retried event keeps it.
    pub event_id: String,
    pub order_id: String,
    pub status: IssuerStatus,
    pub reason: Option<Reason>,
    /// Only with `ready`.
    pub activation: Option<IssuedCodes>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IssuerStatus {
    InProgress,
    Ready,
    Error,
    ReturnedForCorrection,
    /// Activated in mObywatel.
    Received,
}

/// The activation data of a ready order. Never printed.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedCodes {
    pub qr_payload: String,
    pub manual_code: String,
    /// 8 digits.
    pub activation_code: String,
}

impl std::fmt::Debug for IssuedCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuedCodes(..)")
    }
}

/// Every refusal on the bridge: a stable code and a sentence.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BridgeError {
    pub code: BridgeErrorCode,
    pub message: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BridgeErrorCode {
    /// 401: no or a wrong shared secret.
    Unauthorized,
    /// 400/422: the request does not follow the contract (never retried).
    BadRequest,
    /// 422: the same Idempotency-Key came with a different command.
    IdempotencyConflict,
    /// 409: the order was invalidated; a late submit is refused.
    Invalidated,
    /// 404: the bridge knows no such order.
    UnknownOrder,
    /// 409: the event does not apply to the order as it is now.
    Conflict,
    /// 5xx: try again later.
    Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> CardData {
        CardData {
            first_name: "Anna".into(),
            last_name: "Nowak".into(),
            birth_date: "2002-03-04".into(),
            pesel: "02230412345".into(),
            card_number: Some("123456".into()),
            els_number: None,
            issued_on: "2026-10-01".into(),
            valid_until: "2027-03-31".into(),
            university: "U".into(),
            photo_jpeg_base64: None,
        }
    }

    #[test]
    fn secrets_and_personal_data_never_print() {
        let printed = format!("{:?}", card());
        assert!(!printed.contains("02230412345") && !printed.contains("Nowak"));
        let codes = IssuedCodes {
            qr_payload: "MLEG1.x".into(),
            manual_code: "ABCD".into(),
            activation_code: "12345678".into(),
        };
        assert_eq!(format!("{codes:?}"), "IssuedCodes(..)");
    }

    #[test]
    fn events_read_as_the_contract_writes_them() {
        let e: IssuerEvent = serde_json::from_str(
            r#"{"event_id":"e","order_id":"o","status":"returned_for_correction","reason":"photo_rejected","activation":null}"#,
        )
        .unwrap();
        assert_eq!(e.status, IssuerStatus::ReturnedForCorrection);
        assert_eq!(e.reason, Some(Reason::PhotoRejected));
        assert_eq!(invalidate_path("o1"), "/bridge/v1/orders/o1/invalidate");
    }
}
