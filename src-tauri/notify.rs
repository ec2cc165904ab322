//! Local notices for status changes that arrive on the live stream, in the
//! student's language, and what a tap on one does.

use crate::commands::Shell;
use crate::platform;
use legitka_wire::{OrderStatus, OrderView, notice};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// UI event: the student tapped a notice about this order.
pub const OPEN_ORDER: &str = "open-order";

#[derive(Serialize, Clone)]
pub struct OpenOrder {
    pub order: OrderView,
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
    let _ = app.emit(OPEN_ORDER, OpenOrder { order });
}
