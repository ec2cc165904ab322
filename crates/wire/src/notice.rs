//! What a notice says, in Polish and English: the server's pushes and the
//! app's own notifications use the same words.

use crate::{Locale, OrderStatus};

/// A notice's kind, title and body in one language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notice {
    /// `order_status`, or the reminder's kind.
    pub kind: &'static str,
    pub title: &'static str,
    pub body: &'static str,
}

/// The reminders the server sends besides status changes.
pub const REMINDERS: [&str; 4] = [
    "activation_expires_3d",
    "activation_expires_1d",
    "card_ends_soon",
    "renewal_available",
];

type Texts = ((&'static str, &'static str), (&'static str, &'static str));

/// The notice for `kind` (a reminder) or, for any other kind, for a change to `status`.
pub fn texts(kind: &str, status: OrderStatus, locale: Locale) -> Notice {
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
    let (kind, (pl, en)) = match reminder {
        Some(t) => (
            REMINDERS
                .into_iter()
                .find(|r| *r == kind)
                .unwrap_or("order_status"),
            t,
        ),
        None => ("order_status", status_texts(status)),
    };
    let (title, body) = match locale {
        Locale::Pl => pl,
        Locale::En => en,
    };
    Notice { kind, title, body }
}

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

/// Polish plural forms: 1 wyświetlenie, 2–4 (22–24 …) wyświetlenia, else wyświetleń.
pub fn polish_plural<'a>(n: u64, one: &'a str, few: &'a str, many: &'a str) -> &'a str {
    let (tens, ones) = (n % 100, n % 10);
    if n == 1 {
        one
    } else if (2..=4).contains(&ones) && !(12..=14).contains(&tens) {
        few
    } else {
        many
    }
}

/// What a "ready" notice adds: tapping it shows the codes, which spends a view.
pub fn reveal_hint(views_left: u8, locale: Locale) -> String {
    let n = u64::from(views_left);
    match locale {
        Locale::Pl => format!(
            "Dotknij, aby pokazać kody ({} {n} {} z 3).",
            polish_plural(n, "zostało", "zostały", "zostało"),
            polish_plural(n, "wyświetlenie", "wyświetlenia", "wyświetleń")
        ),
        Locale::En => format!("Tap to show the codes ({n} of 3 views left)."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_reminder_has_both_languages() {
        for status in OrderStatus::ALL {
            let pl = texts("status", status, Locale::Pl);
            let en = texts("status", status, Locale::En);
            assert!(!pl.title.is_empty() && !en.body.is_empty());
            assert_ne!(pl.title, en.title, "{status:?}");
            assert_eq!(pl.kind, "order_status");
        }
        for kind in REMINDERS {
            let n = texts(kind, OrderStatus::Ready, Locale::En);
            assert_eq!(n.kind, kind);
            assert_ne!(
                n.title,
                texts("status", OrderStatus::Ready, Locale::En).title
            );
        }
    }

    #[test]
    fn polish_plurals() {
        for (n, want) in [
            (0, "wyświetleń"),
            (1, "wyświetlenie"),
            (2, "wyświetlenia"),
            (4, "wyświetlenia"),
            (5, "wyświetleń"),
            (12, "wyświetleń"),
            (14, "wyświetleń"),
            (22, "wyświetlenia"),
            (25, "wyświetleń"),
            (112, "wyświetleń"),
            (122, "wyświetlenia"),
        ] {
            assert_eq!(
                polish_plural(n, "wyświetlenie", "wyświetlenia", "wyświetleń"),
                want,
                "{n}"
            );
        }
        assert!(reveal_hint(1, Locale::Pl).contains("zostało 1 wyświetlenie z 3"));
        assert!(reveal_hint(2, Locale::Pl).contains("zostały 2 wyświetlenia z 3"));
        assert!(reveal_hint(3, Locale::En).contains("3 of 3 views left"));
    }
}
