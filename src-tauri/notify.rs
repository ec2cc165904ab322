//! Local notices for status changes that arrive on the live stream, in the
//! student's language, once per change, and what a tap on one does.

use crate::platform;
use crate::session::Shell;
use legitka_wire::shell::events::{OpenOrder, ShellEvent};
use legitka_wire::{OrderStatus, OrderView, notice};
use std::collections::HashMap;
use std::sync::Mutex;
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// What the shell has seen of each order, so a notice is raised once per change.
#[derive(Default)]
pub struct News {
    /// The last status seen of each order.
    seen: Mutex<HashMap<String, OrderStatus>>,
    /// The status the student's own step (cancel, revoke) is bringing: the
    /// student needs no notice of what they just did.
    own_change: Mutex<Option<OrderStatus>>,
}

impl News {
    /// Records an order's status from the live stream; true if it is news.
    /// A stream opens with the current state: that is news only when the
    /// order changed since we last saw it (while offline), not on launch.
    /// The student's own change (`expect_own_change`) is not news either.
    pub fn is_news(&self, order: &OrderView, opens_stream: bool) -> bool {
        let before = self
            .seen
            .lock()
            .expect("seen lock")
            .insert(order.id.clone(), order.status);
        let changed = match before {
            Some(status) => status != order.status,
            None => !opens_stream,
        };
        let own = self
            .own_change
            .lock()
            .expect("own change lock")
            .take_if(|s| *s == order.status)
            .is_some();
        changed && !own
    }

    /// Set before the student's own step reaches the server (its change may
    /// come back on the live stream before the answer does); cleared if it fails.
    pub fn expect_own_change(&self, status: Option<OrderStatus>) {
        *self.own_change.lock().expect("own change lock") = status;
    }
}

/// Sends a shell event to the UI: its name and payload are one wire type.
pub fn emit<R: Runtime, E: ShellEvent>(app: &AppHandle<R>, event: E) {
    let _ = app.emit(E::NAME, event);
}

/// Raises a notice for a change the student did not make themselves.
pub fn status_changed<R: Runtime>(app: &AppHandle<R>, order: &OrderView) {
    let prefs = app.state::<Shell>().prefs();
    if !prefs.notifications || order.status == OrderStatus::Pending {
        return;
    }
    let texts = notice::texts(notice::NoticeKind::OrderStatus, order.status, prefs.locale);
    let body = if order.status == OrderStatus::Ready && order.reveals_left > 0 {
        format!(
            "{} {}",
            texts.body,
            notice::reveal_hint(order.reveals_left, prefs.locale)
        )
    } else {
        texts.body.to_owned()
    };
    platform::notify(app, texts.title.to_owned(), body, order.clone());
}

/// Brings the window forward and tells the UI which order to show.
#[cfg_attr(mobile, allow(dead_code))] // mobile taps reach the UI through the plugin
pub fn open_order<R: Runtime>(app: &AppHandle<R>, order: OrderView) {
    #[cfg(desktop)]
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
    emit(app, OpenOrder { order });
}

#[cfg(test)]
mod tests {
    use super::*;
    use legitka_wire::OrderStatus::{Cancelled, InProgress, Ready, Received, Revoked};

    fn order(id: &str, status: OrderStatus) -> OrderView {
        OrderView {
            id: id.into(),
            kind: legitka_wire::OrderKind::New,
            status,
            created_at: 1,
            updated_at: 2,
            reveals_left: 3,
            activation_expires_at: None,
            card_valid_until: None,
            reason: None,
            codes_emailed: false,
        }
    }

    #[test]
    fn one_notice_per_change_none_at_launch_and_missed_changes_count() {
        let news = News::default();
        // Launch: the stream opens with the current state, which is not news.
        assert!(!news.is_news(&order("a", Received), true));
        // A new order and each change are news, once.
        assert!(news.is_news(&order("b", InProgress), false));
        assert!(news.is_news(&order("b", Ready), false));
        assert!(!news.is_news(&order("b", Ready), false));
        // A reconnect repeats the current state: not news …
        assert!(!news.is_news(&order("b", Ready), true));
        // … unless it changed while the stream was down.
        assert!(news.is_news(&order("b", Received), true));
        // The student revokes: that change is theirs, not news; the next is.
        news.expect_own_change(Some(Revoked));
        assert!(!news.is_news(&order("b", Revoked), false));
        assert!(news.is_news(&order("c", InProgress), false));
        // An expectation that came to nothing (the step failed) is dropped.
        news.expect_own_change(Some(Cancelled));
        news.expect_own_change(None);
        assert!(news.is_news(&order("c", Cancelled), false));
    }
}
