//! Push notices. Each status change leaves a notice and one delivery per
//! device in the outbox ([`store::queue_notice`], called by the order
//! service inside the change's transaction); the [`dispatcher`] drains
//! them through a [`Sender`] per push service. Only this module knows
//! provider protocols. A notice is a signal — notice id, type, order id,
//! status and a localized title and body — never activation data.

/// How long every push service holds a notice for an offline device
/// (FCM `android.ttl`, APNs `apns-expiration`, Web Push `TTL`).
pub const HOLD_FOR: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

pub mod apns;
pub mod dispatcher;
pub mod email;
pub mod fcm;
pub mod store;
pub mod webpush;

use futures_util::future::BoxFuture;
use legitka_wire::notice::NoticeKind;
use legitka_wire::{Locale, OrderStatus, PushPlatform};
use serde::Serialize;
use std::time::Duration;

/// A registered device, as the dispatcher sends to it.
#[derive(Clone, Debug)]
pub struct Device {
    pub id: String,
    pub platform: PushPlatform,
    pub token: String,
    pub locale: Locale,
}

/// What travels to the phone.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Message {
    pub notice_id: String,
    /// A status change or a reminder (the payload's `type`).
    pub kind: NoticeKind,
    pub order_id: String,
    pub status: OrderStatus,
    pub title: String,
    pub body: String,
}

/// How one send went, as the dispatcher needs to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    Delivered,
    /// Try again later; the provider may say when (`Retry-After`).
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// The provider says the token is dead: forget the device.
    Unregistered,
    /// The provider refuses this message for good: a poison message.
    Rejected(String),
}

pub trait Sender: Send + Sync + 'static {
    fn send<'a>(&'a self, device: &'a Device, message: &'a Message) -> BoxFuture<'a, SendOutcome>;
}

/// Whether a notice asks the student to do something (fetch the codes,
/// correct the order, try again, activate before it expires, sign in
/// again, renew): its deliveries are claimed before those that only tell
/// how an order is getting on (pending, in progress, received, cancelled).
pub fn calls_for_action(kind: NoticeKind, status: OrderStatus) -> bool {
    kind.is_reminder()
        || matches!(
            status,
            OrderStatus::Ready
                | OrderStatus::ReturnedForCorrection
                | OrderStatus::Error
                | OrderStatus::Revoked
                | OrderStatus::Expired
        )
}

/// The localized signal for a notice: a status change or a reminder
/// (texts in `legitka_wire::notice`, shared with the app's local notices).
pub fn message(
    notice_id: &str,
    order_id: &str,
    kind: NoticeKind,
    status: OrderStatus,
    locale: Locale,
) -> Message {
    let notice = legitka_wire::notice::texts(kind, status, locale);
    Message {
        notice_id: notice_id.to_owned(),
        kind: notice.kind,
        order_id: order_id.to_owned(),
        status,
        title: notice.title.to_owned(),
        body: notice.body.to_owned(),
    }
}

/// A request that never got an answer (connection, timeout): try again.
fn transport_failure(e: &reqwest::Error) -> SendOutcome {
    SendOutcome::Retry {
        after: None,
        error: format!("send: {e}"),
    }
}

/// A provider's refusal, for the sender to classify.
pub struct Refused {
    pub status: reqwest::StatusCode,
    /// The provider's `Retry-After`, if it said one.
    pub after: Option<Duration>,
    pub response: reqwest::Response,
}

/// The first look every sender takes at an answer: no answer means try
/// again, a 2xx means delivered; anything else is a refusal to classify.
pub fn answered(sent: Result<reqwest::Response, reqwest::Error>) -> Result<Refused, SendOutcome> {
    let response = sent.map_err(|e| transport_failure(&e))?;
    let status = response.status();
    if status.is_success() {
        return Err(SendOutcome::Delivered);
    }
    Ok(Refused {
        status,
        after: retry_after(response.headers()),
        response,
    })
}

pub use crate::outbox::retry_after;
