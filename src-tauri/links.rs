//! Links the system hands the app: a `legitka://pair` link from the USOS
//! sign-in page (the browser opens the app with it), a setup or pairing
//! link opened from anywhere. The deep-link plugin brings them — at start,
//! or, on desktop, from the second instance the system starts with the
//! link (the single-instance plugin forwards it here and that instance
//! exits). The link waits here until the UI takes it, so one that arrives
//! before the UI listens is not lost, and it is followed once.

use crate::notify::emit;
use legitka_wire::shell::events::LinkOpened;
use std::sync::Mutex;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_deep_link::DeepLinkExt;

/// The newest link the system handed over, until the UI takes it.
#[derive(Default)]
pub struct Opened(Mutex<Option<String>>);

impl Opened {
    /// Keeps the first Legitka link among `urls`; true if there was one.
    pub fn keep(&self, urls: impl IntoIterator<Item = String>) -> bool {
        let Some(link) = urls.into_iter().find(|u| legitka_wire::shell::is_link(u)) else {
            return false;
        };
        *self.0.lock().expect("opened link lock") = Some(link);
        true
    }

    pub fn take(&self) -> Option<String> {
        self.0.lock().expect("opened link lock").take()
    }
}

/// Listens for links from the system; the one the app was started with
/// (if any) is kept at once.
pub fn follow<R: Runtime>(app: &AppHandle<R>) {
    let deep_link = app.deep_link();
    if let Ok(Some(urls)) = deep_link.get_current() {
        arrived(app, urls.into_iter().map(String::from));
    }
    let handle = app.clone();
    deep_link.on_open_url(move |event| {
        arrived(&handle, event.urls().into_iter().map(String::from));
    });
}

fn arrived<R: Runtime>(app: &AppHandle<R>, urls: impl Iterator<Item = String>) {
    if app.state::<Opened>().keep(urls) {
        tracing::info!("a legitka:// link was opened");
        // The student is looking at the browser: the app comes to the front
        // (phones bring it forward themselves).
        #[cfg(desktop)]
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.set_focus();
        }
        emit(app, LinkOpened);
    }
}

/// The link the system handed over, once (`None` when there is none).
#[tauri::command]
pub fn take_opened_link(opened: State<'_, Opened>) -> Option<String> {
    opened.take()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_kept_until_taken_once() {
        let opened = Opened::default();
        assert!(!opened.keep(["https://example.org".to_owned()]));
        assert_eq!(opened.take(), None);
        // An https App Link of the university's (a phone hands those over too).
        assert!(opened.keep(["https://u.example/open/pair?code=WXYZ6789".to_owned()]));
        assert_eq!(
            opened.take().as_deref(),
            Some("https://u.example/open/pair?code=WXYZ6789")
        );
        assert!(!opened.keep(["https://u.example/other".to_owned()]));
        assert!(opened.keep([
            "--flag".to_owned(),
            "legitka://pair?server=http://127.0.0.1:8080&code=WXYZ6789".to_owned(),
        ]));
        assert_eq!(
            opened.take().as_deref(),
            Some("legitka://pair?server=http://127.0.0.1:8080&code=WXYZ6789")
        );
        assert_eq!(opened.take(), None);
    }
}
