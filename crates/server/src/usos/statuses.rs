//! USOS's raw order statuses and what they mean in Legitka. No public
//! source shows the raw values (GUESS: USOSweb's labels), so they live in
//! this one table, to be replaced by what an installation's
//! `services/apiref/method?name=services/cards/mcard_order` documents.
//! A value not in the table is shown as in progress, with its raw label.

use legitka_wire::OrderStatus;

/// GUESS: (raw value, Legitka's status).
pub const TABLE: [(&str, OrderStatus); 7] = [
    ("Oczekuje", OrderStatus::Pending),
    ("W trakcie", OrderStatus::InProgress),
    ("Do odbioru", OrderStatus::Ready),
    ("Odebrana", OrderStatus::Received),
    ("Błąd", OrderStatus::Error),
    ("Anulowane", OrderStatus::Cancelled),
    ("Unieważnione", OrderStatus::Revoked),
];

/// Legitka's status for a raw USOS status; `None` when the table does not
/// know it (show it as in progress with the raw label, and log it once).
pub fn known(raw: &str) -> Option<OrderStatus> {
    TABLE
        .iter()
        .find(|(r, _)| r.eq_ignore_ascii_case(raw.trim()))
        .map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_the_gateway_can_show_has_one_raw_value() {
        for (raw, status) in TABLE {
            assert_eq!(known(raw), Some(status));
        }
        assert_eq!(known(" do odbioru "), Some(OrderStatus::Ready));
        assert_eq!(known("ARCHIWALNE"), None);
    }
}
