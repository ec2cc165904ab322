//! What a notice says, in Polish and English: the server's pushes and the
//! app's own notifications use the same words.

use crate::{Locale, OrderStatus};
use serde::{Deserialize, Serialize};

/// What a notice is about: a change of the order's status, or one of the
/// reminders the server sends besides status changes. The same name is the
/// push payload's `type`, the `notices.kind` column and the app's own notices.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum NoticeKind {
    /// The order moved to another status.
    OrderStatus,
    /// The activation data stops being accepted in 3 days.
    #[serde(rename = "activation_expires_3d")]
    #[strum(serialize = "activation_expires_3d")]
    ActivationExpires3d,
    /// The activation data stops being accepted tomorrow.
    #[serde(rename = "activation_expires_1d")]
    #[strum(serialize = "activation_expires_1d")]
    ActivationExpires1d,
    /// The card ends within 14 days.
    CardEndsSoon,
    /// The ELS was extended past the card: a renewal is possible.
    RenewalAvailable,
    /// The university's system (USOS) no longer accepts the student's
    /// sign-in: the order cannot be followed until they sign in again.
    SignInAgain,
    /// The student left the student list (graduated or removed): their
    /// card keeps working one more month, then ends; no renewal.
    RemovedFromList,
}

impl NoticeKind {
    /// A reminder, as opposed to a status change.
    pub fn is_reminder(self) -> bool {
        self != Self::OrderStatus
    }
}

/// A notice's kind, title and body in one language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub title: &'static str,
    pub body: &'static str,
}

type Texts = ((&'static str, &'static str), (&'static str, &'static str));

/// The notice of `kind`; a status change speaks of `status`.
pub fn texts(kind: NoticeKind, status: OrderStatus, locale: Locale) -> Notice {
    let (pl, en) = match kind {
        NoticeKind::OrderStatus => status_texts(status),
        NoticeKind::ActivationExpires3d => (
            (
                "Kody wygasają za 3 dni",
                "Dodaj mLegitymację w mObywatelu, zanim wygasną.",
            ),
            (
                "Your codes expire in 3 days",
                "Add your mLegitymacja in mObywatel before they do.",
            ),
        ),
        NoticeKind::ActivationExpires1d => (
            (
                "Kody wygasają jutro",
                "Dodaj mLegitymację w mObywatelu dziś.",
            ),
            (
                "Your codes expire tomorrow",
                "Add your mLegitymacja in mObywatel today.",
            ),
        ),
        NoticeKind::CardEndsSoon => (
            (
                "mLegitymacja wkrótce straci ważność",
                "Przedłuż ELS w dziekanacie, potem odnów.",
            ),
            (
                "Your mLegitymacja ends soon",
                "Extend your ELS at the dean's office, then renew.",
            ),
        ),
        NoticeKind::RenewalAvailable => (
            (
                "Możesz odnowić mLegitymację",
                "ELS przedłużona: zamów mLegitymację na nowy semestr.",
            ),
            (
                "You can renew your mLegitymacja",
                "Your ELS was extended: order it for the new semester.",
            ),
        ),
        NoticeKind::SignInAgain => (
            (
                "Zaloguj się ponownie przez USOS",
                "System uczelni wylogował Legitkę: bez tego nie śledzimy zamówienia.",
            ),
            (
                "Sign in again with USOS",
                "Your university's system signed Legitka out: we can't follow your order until you do.",
            ),
        ),
        NoticeKind::RemovedFromList => (
            (
                "Nie ma Cię już na liście studentów",
                "mLegitymacja działa jeszcze przez miesiąc; datę pokazuje aplikacja.",
            ),
            (
                "You are no longer on the student list",
                "Your mLegitymacja keeps working for one more month; the app shows until when.",
            ),
        ),
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
        for &status in OrderStatus::ALL {
            let pl = texts(NoticeKind::OrderStatus, status, Locale::Pl);
            let en = texts(NoticeKind::OrderStatus, status, Locale::En);
            assert!(!pl.title.is_empty() && !en.body.is_empty());
            assert_ne!(pl.title, en.title, "{status:?}");
            assert_eq!(pl.kind, NoticeKind::OrderStatus);
        }
        let ready = texts(NoticeKind::OrderStatus, OrderStatus::Ready, Locale::En);
        for &kind in NoticeKind::ALL.iter().filter(|k| k.is_reminder()) {
            let n = texts(kind, OrderStatus::Ready, Locale::En);
            assert_eq!(n.kind, kind);
            assert_ne!(n.title, ready.title);
            assert_ne!(n.title, texts(kind, OrderStatus::Ready, Locale::Pl).title);
        }
    }

    #[test]
    fn notice_kinds_keep_their_wire_names() {
        let names: Vec<_> = NoticeKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "order_status",
                "activation_expires_3d",
                "activation_expires_1d",
                "card_ends_soon",
                "renewal_available",
                "sign_in_again",
                "removed_from_list"
            ]
        );
        for &k in NoticeKind::ALL {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
            assert_eq!(NoticeKind::parse(k.as_str()), Some(k));
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
