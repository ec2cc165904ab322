//! Push notices. Each status change leaves a notice and one delivery per
//! device in the outbox (see `domain::orders`); the [`dispatcher`] drains
//! them through a [`Sender`] per push service. Only this module knows
//! provider protocols. A notice is a signal — notice id, type, order id,
//! status and a localized title and body — never activation data.

pub mod apns;
pub mod apns_emulator;
pub mod dispatcher;
pub mod fcm;
pub mod fcm_emulator;

use futures_util::future::BoxFuture;
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
    pub kind: &'static str,
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

/// The localized signal for a status change.
pub fn message(notice_id: &str, order_id: &str, status: OrderStatus, locale: Locale) -> Message {
    let (pl, en) = match status {
        OrderStatus::Pending => (
            (
                "Zamówienie przyjęte",
                "Uczelnia przekazuje je do mObywatela.",
            ),
            (
                "Order received",
                "Your university is passing it on to mObywatel.",
            ),
        ),
        OrderStatus::InProgress => (
            (
                "mLegitymacja w przygotowaniu",
                "Damy znać, gdy będzie gotowa.",
            ),
            (
                "Your mLegitymacja is being prepared",
                "We'll tell you when it's ready.",
            ),
        ),
        OrderStatus::Ready => (
            ("mLegitymacja gotowa", "Pokaż kody i dodaj ją w mObywatelu."),
            (
                "Your mLegitymacja is ready",
                "Show the codes and add it in mObywatel.",
            ),
        ),
        OrderStatus::Received => (
            ("mLegitymacja aktywna", "Jest już w mObywatelu."),
            ("Your mLegitymacja is active", "It's in mObywatel now."),
        ),
        OrderStatus::ReturnedForCorrection => (
            ("Zamówienie do poprawy", "Sprawdź, co trzeba poprawić."),
            (
                "Order returned for correction",
                "See what needs correcting.",
            ),
        ),
        OrderStatus::Error => (
            (
                "Nie udało się wydać mLegitymacji",
                "Możesz zamówić ją ponownie.",
            ),
            (
                "Your mLegitymacja could not be issued",
                "You can order it again.",
            ),
        ),
        OrderStatus::Cancelled => (
            ("Zamówienie anulowane", "Możesz zamówić ponownie."),
            ("Order cancelled", "You can order again."),
        ),
        OrderStatus::Revoked => (
            (
                "mLegitymacja unieważniona",
                "Może działać jeszcze do 24 godzin.",
            ),
            (
                "Your mLegitymacja was revoked",
                "It may keep working for up to 24 hours.",
            ),
        ),
        OrderStatus::Expired => (
            ("mLegitymacja wygasła", "Możesz zamówić nową."),
            ("Your mLegitymacja expired", "You can order a new one."),
        ),
    };
    let (title, body) = match locale {
        Locale::Pl => pl,
        Locale::En => en,
    };
    Message {
        notice_id: notice_id.to_owned(),
        kind: "order_status",
        order_id: order_id.to_owned(),
        status,
        title: title.to_owned(),
        body: body.to_owned(),
    }
}

/// Seconds from a `Retry-After` header (the delay form; dates are rare here).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_both_languages() {
        for status in OrderStatus::ALL {
            let pl = message("n", "o", status, Locale::Pl);
            let en = message("n", "o", status, Locale::En);
            assert!(!pl.title.is_empty() && !en.body.is_empty());
            assert_ne!(pl.title, en.title, "{status:?}");
        }
    }
}
