pub mod home;
pub mod ready;
pub mod settings;
pub mod sign_in;
pub mod welcome;

use crate::app::{Action, Store, enter};
use crate::i18n::t;
use crate::invoke::{self, Link, UiError};
use crate::text::error_sentence;
use yew::{Callback, Html, MouseEvent, UseStateHandle, html};

/// The logo, the name and what the app does: the top of the screens
/// before sign-in.
pub fn brand() -> Html {
    html! {
        <header class="brand">
            <img class="logo" src="/128x128.png" alt="" />
            <h1>{ t("app-name") }</h1>
            <p class="lead">{ t("app-lead") }</p>
        </header>
    }
}

/// A form's step that talks to the shell: busy while it runs, and its
/// failure said in words.
pub fn run_busy(
    error: &UseStateHandle<Option<String>>,
    busy: &UseStateHandle<bool>,
    step: impl std::future::Future<Output = Result<(), UiError>> + 'static,
) {
    busy.set(true);
    error.set(None);
    let (error, busy) = (error.clone(), busy.clone());
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = step.await {
            error.set(Some(error_sentence(e.code)));
        }
        busy.set(false);
    });
}

/// Asks the server behind `input` (an address, or a scanned or pasted
/// `legitka://` link) who it is and goes on: the university is chosen for
/// sign-in, or (a pairing link) chosen and signed in to at once, so the
/// university the app shows is always the one the session belongs to.
pub fn follow_link(
    store: Store,
    input: String,
    error: &UseStateHandle<Option<String>>,
    busy: &UseStateHandle<bool>,
) {
    run_busy(error, busy, async move {
        match invoke::check_university(&input).await? {
            Link::Setup { university } => store.dispatch(Action::Choose(Some(university))),
            Link::Pair { university, code } => {
                let server = university.server.clone();
                store.dispatch(Action::Choose(Some(university)));
                enter(&store, &invoke::sign_in_with_code(&server, &code).await?);
            }
        }
        Ok(())
    });
}

/// Phones: a tap scans a QR code (setup or pairing) with the camera and follows it.
pub fn scan_and_follow(
    store: &Store,
    error: &UseStateHandle<Option<String>>,
    busy: &UseStateHandle<bool>,
) -> Callback<MouseEvent> {
    let (store, error, busy) = (store.clone(), error.clone(), busy.clone());
    Callback::from(move |_| {
        let (store, error, busy) = (store.clone(), error.clone(), busy.clone());
        wasm_bindgen_futures::spawn_local(async move {
            match invoke::scan_qr().await {
                Ok(content) => follow_link(store, content, &error, &busy),
                Err(_) => error.set(Some(t("scan-failed"))),
            }
        });
    })
}

/// A whole `legitka://` link rather than a typed code or address.
pub fn is_link(input: &str) -> bool {
    legitka_wire::shell::link_rest(input).is_some()
}

// The shell's event names (src-tauri/live.rs).
pub const EVENT_ORDER_STATUS: &str = "order-status";
pub const EVENT_RESYNC: &str = "resync";
pub const EVENT_CONNECTION: &str = "connection";
pub const EVENT_SIGNED_OUT: &str = "signed-out";
/// A tapped notice (src-tauri/notify.rs).
pub const EVENT_OPEN_ORDER: &str = "open-order";
