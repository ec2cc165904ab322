pub mod home;
pub mod ready;
pub mod settings;
pub mod sign_in;
pub mod welcome;

use crate::invoke::UiError;
use crate::text::error_sentence;
use yew::UseStateHandle;

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

// The shell's event names (src-tauri/live.rs).
pub const EVENT_ORDER_STATUS: &str = "order-status";
pub const EVENT_RESYNC: &str = "resync";
pub const EVENT_CONNECTION: &str = "connection";
pub const EVENT_SIGNED_OUT: &str = "signed-out";
/// A tapped notice (src-tauri/notify.rs).
pub const EVENT_OPEN_ORDER: &str = "open-order";
