//! The order's rules, pure: which status changes the life cycle allows,
//! what may give way to a new order, what the student may do now, which
//! reminders are due, and the status sets the store builds its SQL from.
//! No I/O and no clock: time comes in as an argument. Where each rule comes
//! from is in `docs/rules.md`.

use crate::clock::DAY_MS;
use legitka_wire::notice::NoticeKind;
use legitka_wire::{OrderStatus, OrderView, Reason, StudentAction};

/// Activation data is accepted for 30 days after it is generated.
pub const ACTIVATION_VALIDITY_MS: i64 = 30 * DAY_MS;

/// After removal from the student list the card stays valid one month.
pub const VALID_AFTER_REMOVAL_MS: i64 = 30 * DAY_MS;

/// The statuses of an open order: the student's current one, which blocks
/// a new order unless it may give way ([`supersede_reason`]).
pub fn open_statuses() -> impl Iterator<Item = OrderStatus> {
    OrderStatus::ALL.iter().copied().filter(|s| s.is_open())
}

/// The issuer still has the order in hand: on its way or ready to be
/// picked up (USOS's orders in these statuses are watched).
pub fn with_the_issuer(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::Pending | OrderStatus::InProgress | OrderStatus::Ready
    )
}

/// Whether an order in `status` may still need its activation data: only
/// on its way (the issuer's data arrives in progress) and while ready.
/// Once received (the card is active), or ended, it is cleared.
pub fn keeps_activation(status: OrderStatus) -> bool {
    matches!(status, OrderStatus::InProgress | OrderStatus::Ready)
}

/// The statuses an order may move to `to` from.
pub fn statuses_before(to: OrderStatus) -> impl Iterator<Item = OrderStatus> {
    OrderStatus::ALL
        .iter()
        .copied()
        .filter(move |from| can_transition(*from, to))
}

/// Which status changes the life cycle allows.
pub fn can_transition(from: OrderStatus, to: OrderStatus) -> bool {
    use OrderStatus::*;
    matches!(
        (from, to),
        (
            Pending,
            InProgress | ReturnedForCorrection | Error | Cancelled
        ) | (
            InProgress,
            Ready | ReturnedForCorrection | Error | Cancelled
        ) | (Ready, Received | Cancelled | Expired)
            | (Received, Revoked | Expired)
            | (ReturnedForCorrection, Pending | Cancelled)
    )
}

/// The steps the life cycle allows from `from` to `to`, shortest first:
/// an outside system that reports only where an order is now (USOS) may
/// skip a status we show. Empty when already there; `None` when the life
/// cycle cannot get there.
pub fn path(from: OrderStatus, to: OrderStatus) -> Option<Vec<OrderStatus>> {
    let mut paths = vec![(from, vec![])];
    let mut seen = vec![from];
    while !paths.is_empty() {
        let mut next = vec![];
        for (at, steps) in paths {
            if at == to {
                return Some(steps);
            }
            for &step in OrderStatus::ALL {
                if can_transition(at, step) && !seen.contains(&step) {
                    seen.push(step);
                    let mut longer = steps.clone();
                    longer.push(step);
                    next.push((step, longer));
                }
            }
        }
        paths = next;
    }
    None
}

/// The student's ELS (the plastic student ID) as the registry has it now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Els {
    /// The last moment of its validity (the semester's sticker).
    pub valid_until: Option<i64>,
    /// When this ELS was issued (a duplicate is issued anew).
    pub issued_at: Option<i64>,
}

impl Els {
    /// A card in use may be renewed: the ELS was extended past it (a new
    /// semester) or issued again after it was ordered (a duplicate).
    pub fn renews(self, card: &OrderView) -> bool {
        let extended = self
            .valid_until
            .is_some_and(|els| card.card_valid_until.is_some_and(|c| els > c));
        let duplicate = self.issued_at.is_some_and(|at| at > card.created_at);
        extended || duplicate
    }
}

/// Why an open order may give way to a new one, if it may.
pub fn supersede_reason(o: &OrderView, els: Els, now: i64) -> Option<Reason> {
    match o.status {
        OrderStatus::Ready if o.activation_expires_at.is_none_or(|t| t <= now) => {
            Some(Reason::ActivationExpired)
        }
        OrderStatus::Ready if o.reveals_left == 0 => Some(Reason::RevealLimitReached),
        OrderStatus::Received if o.card_valid_until.is_some_and(|t| t <= now) => {
            Some(Reason::CardExpired)
        }
        // A new semester, or a duplicate ELS.
        OrderStatus::Received if els.renews(o) => Some(Reason::Renewed),
        _ => None,
    }
}

/// What the student may do now, given eligibility and the current order.
pub fn available_actions(
    eligible: bool,
    order: Option<&OrderView>,
    els: Els,
    now: i64,
) -> Vec<StudentAction> {
    use StudentAction as A;
    let Some(o) = order.filter(|o| o.status.is_open()) else {
        return if eligible { vec![A::Order] } else { vec![] };
    };
    let superseded = supersede_reason(o, els, now);
    let mut actions = match o.status {
        OrderStatus::Pending | OrderStatus::InProgress => vec![A::Cancel],
        OrderStatus::ReturnedForCorrection => vec![A::Resubmit, A::Cancel],
        OrderStatus::Ready if superseded.is_none() => vec![A::Reveal, A::Cancel],
        OrderStatus::Ready => vec![A::Cancel],
        OrderStatus::Received if superseded == Some(Reason::CardExpired) => vec![],
        OrderStatus::Received if eligible => vec![A::Revoke, A::ReplaceLostPhone],
        _ => vec![A::Revoke],
    };
    if eligible {
        match superseded {
            Some(Reason::Renewed) => actions.push(A::Renew),
            Some(_) => actions.push(A::Order),
            None => {}
        }
    }
    actions
}

/// Which reminders an order is due now (before "sent once" is applied).
/// A student no longer on the student list (`on_the_list` false) was told
/// when their card ends as they left: nothing about ending or renewing.
pub fn reminders_for(o: &OrderView, els: Els, on_the_list: bool, now: i64) -> Vec<NoticeKind> {
    let mut due = vec![];
    match o.status {
        OrderStatus::Ready if o.reveals_left > 0 => {
            if let Some(t) = o.activation_expires_at.filter(|t| *t > now) {
                if t - now <= DAY_MS {
                    due.push(NoticeKind::ActivationExpires1d);
                } else if t - now <= 3 * DAY_MS {
                    due.push(NoticeKind::ActivationExpires3d);
                }
            }
        }
        OrderStatus::Received if on_the_list => {
            if let Some(c) = o.card_valid_until {
                if c > now && c - now <= 14 * DAY_MS {
                    due.push(NoticeKind::CardEndsSoon);
                }
                if els.renews(o) {
                    due.push(NoticeKind::RenewalAvailable);
                }
            }
        }
        _ => {}
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;
    use StudentAction as A;
    use legitka_wire::OrderKind;

    #[test]
    fn allowed_transitions() {
        let allowed = [
            (Pending, InProgress),
            (Pending, ReturnedForCorrection),
            (Pending, Error),
            (Pending, Cancelled),
            (InProgress, Ready),
            (InProgress, ReturnedForCorrection),
            (InProgress, Error),
            (InProgress, Cancelled),
            (Ready, Received),
            (Ready, Cancelled),
            (Ready, Expired),
            (Received, Revoked),
            (Received, Expired),
            (ReturnedForCorrection, Pending),
            (ReturnedForCorrection, Cancelled),
        ];
        for &from in OrderStatus::ALL {
            for &to in OrderStatus::ALL {
                assert_eq!(
                    can_transition(from, to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    const NOW: i64 = 1_000 * DAY_MS;

    fn order(status: OrderStatus, reveals_left: u8) -> OrderView {
        OrderView {
            id: "o".into(),
            kind: OrderKind::New,
            status,
            created_at: NOW - 30 * DAY_MS,
            updated_at: NOW - 30 * DAY_MS,
            reveals_left,
            activation_expires_at: Some(NOW + DAY_MS),
            card_valid_until: Some(NOW + 100 * DAY_MS),
            reason: None,
            codes_emailed: false,
        }
    }

    #[test]
    fn paths_through_the_life_cycle() {
        assert_eq!(path(Pending, Pending), Some(vec![]));
        assert_eq!(path(Pending, Ready), Some(vec![InProgress, Ready]));
        assert_eq!(
            path(Pending, Received),
            Some(vec![InProgress, Ready, Received])
        );
        assert_eq!(
            path(InProgress, Revoked),
            Some(vec![Ready, Received, Revoked])
        );
        assert_eq!(path(Ready, Pending), None);
        assert_eq!(path(Cancelled, Ready), None);
        for &from in OrderStatus::ALL {
            for &to in OrderStatus::ALL {
                if let Some(steps) = path(from, to) {
                    let mut at = from;
                    for step in steps {
                        assert!(can_transition(at, step), "{at:?} -> {step:?}");
                        at = step;
                    }
                    assert_eq!(at, to);
                }
            }
        }
    }

    #[test]
    fn what_may_give_way_to_a_new_order() {
        let els = Els {
            valid_until: Some(NOW + 100 * DAY_MS),
            issued_at: Some(NOW - 400 * DAY_MS),
        };
        let check = |o: OrderView, els, want| assert_eq!(supersede_reason(&o, els, NOW), want);
        check(order(Ready, 1), els, None);
        check(order(Ready, 0), els, Some(Reason::RevealLimitReached));
        let mut expired = order(Ready, 2);
        expired.activation_expires_at = Some(NOW);
        check(expired, els, Some(Reason::ActivationExpired));
        check(order(Received, 0), els, None);
        let extended = Els {
            valid_until: Some(NOW + 280 * DAY_MS),
            ..els
        };
        check(order(Received, 0), extended, Some(Reason::Renewed));
        // A duplicate ELS, issued after the card was ordered.
        let mut card = order(Received, 0);
        card.created_at = NOW - 10 * DAY_MS;
        let duplicate = Els {
            issued_at: Some(NOW - DAY_MS),
            ..els
        };
        check(card.clone(), duplicate, Some(Reason::Renewed));
        let before = Els {
            issued_at: Some(NOW - 11 * DAY_MS),
            ..els
        };
        check(card, before, None);
        let mut card_over = order(Received, 0);
        card_over.card_valid_until = Some(NOW);
        check(card_over, els, Some(Reason::CardExpired));
        let far = Els {
            valid_until: Some(NOW + 999 * DAY_MS),
            issued_at: Some(NOW),
        };
        for s in [Pending, InProgress, ReturnedForCorrection] {
            check(order(s, 3), far, None);
        }
    }

    #[test]
    fn actions_follow_the_order() {
        let els = Els {
            valid_until: Some(NOW + 100 * DAY_MS),
            issued_at: None,
        };
        let acts =
            |o: Option<OrderView>, eligible| available_actions(eligible, o.as_ref(), els, NOW);
        assert_eq!(acts(None, true), [A::Order]);
        assert_eq!(acts(None, false), []);
        assert_eq!(acts(Some(order(Pending, 3)), true), [A::Cancel]);
        assert_eq!(acts(Some(order(InProgress, 3)), true), [A::Cancel]);
        assert_eq!(
            acts(Some(order(ReturnedForCorrection, 3)), true),
            [A::Resubmit, A::Cancel]
        );
        assert_eq!(acts(Some(order(Ready, 2)), true), [A::Reveal, A::Cancel]);
        assert_eq!(acts(Some(order(Ready, 0)), true), [A::Cancel, A::Order]);
        assert_eq!(acts(Some(order(Ready, 0)), false), [A::Cancel]);
        assert_eq!(
            acts(Some(order(Received, 0)), true),
            [A::Revoke, A::ReplaceLostPhone]
        );
        assert_eq!(acts(Some(order(Received, 0)), false), [A::Revoke]);
        for s in [Cancelled, Revoked, Expired, Error] {
            assert_eq!(acts(Some(order(s, 0)), true), [A::Order]);
        }
        let renew = available_actions(
            true,
            Some(&order(Received, 0)),
            Els {
                valid_until: Some(NOW + 280 * DAY_MS),
                issued_at: None,
            },
            NOW,
        );
        assert_eq!(renew, [A::Revoke, A::ReplaceLostPhone, A::Renew]);
    }
}
