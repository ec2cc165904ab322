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
    /// `order_status`, or the reminder's kind.
    pub kind: String,
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

/// The localized signal for a notice: a status change (`kind` "status") or
/// a reminder.
pub fn message(
    notice_id: &str,
    order_id: &str,
    kind: &str,
    status: OrderStatus,
    locale: Locale,
) -> Message {
    let reminder = match kind {
        "activation_expires_3d" => Some((
            (
                "Kody wygasają za 3 dni",
                "Dodaj mLegitymację w mObywatelu, zanim wygasną.",
            ),
            (
                "Your codes expire in 3 days",
                "Add your mLegitymacja in mObywatel before they do.",
            ),
        )),
        "activation_expires_1d" => Some((
            (
                "Kody wygasają jutro",
                "Dodaj mLegitymację w mObywatelu dziś.",
            ),
            (
                "Your codes expire tomorrow",
                "Add your mLegitymacja in mObywatel today.",
            ),
        )),
        "card_ends_soon" => Some((
            (
                "mLegitymacja wkrótce straci ważność",
                "Przedłuż ELS w dziekanacie, potem odnów.",
            ),
            (
                "Your mLegitymacja ends soon",
                "Extend your ELS at the dean's office, then renew.",
            ),
        )),
        "renewal_available" => Some((
            (
                "Możesz odnowić mLegitymację",
                "ELS przedłużona: zamów mLegitymację na nowy semestr.",
            ),
            (
                "You can renew your mLegitymacja",
                "Your ELS was extended: order it for the new semester.",
            ),
        )),
        _ => None,
    };
    let (pl, en) = reminder.unwrap_or_else(|| status_texts(status));
    let (title, body) = match locale {
        Locale::Pl => pl,
        Locale::En => en,
    };
    Message {
        notice_id: notice_id.to_owned(),
        kind: if reminder.is_some() {
            kind
        } else {
            "order_status"
        }
        .to_owned(),
        order_id: order_id.to_owned(),
        status,
        title: title.to_owned(),
        body: body.to_owned(),
    }
}

type Texts = ((&'static str, &'static str), (&'static str, &'static str));

fn status_texts(status: OrderStatus) -> Texts {
    match status {
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
    }
}

/// A request that never got an answer (connection, timeout): try again.
pub fn transport_failure(e: &reqwest::Error) -> SendOutcome {
    SendOutcome::Retry {
        after: None,
        error: format!("send: {e}"),
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
            let pl = message("n", "o", "status", status, Locale::Pl);
            let en = message("n", "o", "status", status, Locale::En);
            assert!(!pl.title.is_empty() && !en.body.is_empty());
            assert_ne!(pl.title, en.title, "{status:?}");
            assert_eq!(pl.kind, "order_status");
        }
        for kind in [
            "activation_expires_3d",
            "activation_expires_1d",
            "card_ends_soon",
            "renewal_available",
        ] {
            let m = message("n", "o", kind, OrderStatus::Ready, Locale::En);
            assert_eq!(m.kind, kind);
            assert_ne!(
                m.title,
                message("n", "o", "status", OrderStatus::Ready, Locale::En).title
            );
        }
    }
}
