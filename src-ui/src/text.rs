//! The sentences for the codes the server and the shell send: each maps to
//! a Fluent message (see `i18n`). Raw server messages are never shown.

use crate::i18n::{t, tr};
use crate::time::date;
use legitka_wire::{CheckCode, ErrorCode, OrderStatus, Reason};

pub fn error_id(code: ErrorCode) -> String {
    format!("error-{}", code.as_str())
}

pub fn error_sentence(code: ErrorCode) -> String {
    t(&error_id(code))
}

/// The checklist item and, when it fails, what the student can do about it.
pub fn check_text(code: CheckCode) -> (String, String) {
    let id = format!("check-{}", code.as_str());
    (t(&id), t(&format!("{id}-fix")))
}

fn status_key(status: Option<OrderStatus>) -> &'static str {
    status.map_or("none", OrderStatus::as_str)
}

pub fn status_label(status: Option<OrderStatus>) -> String {
    t(&format!("status-{}", status_key(status)))
}

/// What the status means for the student now. With no order yet, the hint
/// speaks of the Order button only when there is one.
pub fn status_hint(status: Option<OrderStatus>, can_order: bool) -> String {
    if status.is_none() && !can_order {
        return t("hint-none-not-yet");
    }
    t(&format!("hint-{}", status_key(status)))
}

/// The name the university's pages (USOSweb) give a status, where it
/// differs from ours: students follow those pages too.
pub fn usosweb_name(status: OrderStatus) -> Option<String> {
    let key = match status {
        OrderStatus::Pending
        | OrderStatus::InProgress
        | OrderStatus::Ready
        | OrderStatus::Received => status.as_str(),
        _ => return None,
    };
    Some(t(&format!("usosweb-{key}")))
}

pub fn reason_text(reason: Reason) -> String {
    t(&format!("reason-{}", reason.as_str()))
}

/// "The codes can be shown 3 times in all: 2 views left." (Polish plurals by Fluent.)
pub fn reveal_warning(left: u8) -> String {
    tr("reveal-warning", &[("left", left.into())])
}

pub fn views_left(left: u8, expires_at: i64) -> String {
    tr(
        "codes-left",
        &[("left", left.into()), ("date", date(expires_at).into())],
    )
}

/// The mObywatel steps (as the universities' help pages give them: `docs/rules.md`), shown beside the codes.
pub fn mobywatel_steps() -> Vec<String> {
    (1..=6).map(|i| t(&format!("mobywatel-step-{i}"))).collect()
}

/// Every message id the UI builds from a code: both languages must have each.
pub fn code_ids() -> Vec<String> {
    let statuses = std::iter::once(None).chain(OrderStatus::ALL.iter().copied().map(Some));
    let mut ids: Vec<String> = ErrorCode::ALL.iter().copied().map(error_id).collect();
    for s in statuses {
        ids.push(format!("status-{}", status_key(s)));
        ids.push(format!("hint-{}", status_key(s)));
    }
    for c in CheckCode::ALL {
        ids.push(format!("check-{}", c.as_str()));
        ids.push(format!("check-{}-fix", c.as_str()));
    }
    ids.extend(Reason::ALL.iter().map(|r| format!("reason-{}", r.as_str())));
    ids.extend((1..=6).map(|i| format!("mobywatel-step-{i}")));
    ids.extend(
        [
            OrderStatus::Pending,
            OrderStatus::InProgress,
            OrderStatus::Ready,
            OrderStatus::Received,
        ]
        .iter()
        .map(|s| format!("usosweb-{}", s.as_str())),
    );
    ids
}
