//! Desktop twin of `mobile.rs`: same names, desktop behaviour.

use keyring_core::api::CredentialStoreApi;
use legitka_wire::OrderView;
use legitka_wire::shell::Permission;
use std::sync::Arc;
use tauri::{AppHandle, Runtime};

pub type Store = Arc<dyn CredentialStoreApi + Send + Sync>;

/// The OS keystore: Secret Service on Linux, Keychain on macOS.
pub fn credential_store() -> keyring_core::Result<Store> {
    #[cfg(target_os = "linux")]
    let store: Store = zbus_secret_service_keyring_store::Store::new()?;
    #[cfg(target_os = "macos")]
    let store: Store = apple_native_keyring_store::protected::Store::new()?;
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    let store: Store = return Err(keyring_core::Error::NotSupportedByStore(
        "no keystore wired for this desktop".into(),
    ));
    Ok(store)
}

/// Desktop has no camera scanner: the pairing code is typed instead.
pub fn plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
}

/// mObywatel runs on phones only; the UI offers no button here.
pub fn open_mobywatel<R: Runtime>(_app: &AppHandle<R>) -> crate::error::CommandResult<()> {
    Err(crate::error::CommandError::new(
        legitka_wire::ErrorCode::BadRequest,
        "mObywatel runs on phones only",
    ))
}

/// Desktop has no remote push: the live event stream brings every change
/// while the app runs, and [`notify`] raises the notice.
pub fn register_push<R: Runtime>(_app: &AppHandle<R>) {}

/// Desktop notices need no permission.
pub async fn notice_permission<R: Runtime>(_app: &AppHandle<R>) -> Permission {
    Permission::NotNeeded
}

/// Desktop notices need no permission.
pub async fn allow_notices<R: Runtime>(_app: &AppHandle<R>) -> Permission {
    Permission::NotNeeded
}

/// Desktop has no push token to register.
pub async fn register_push_token(
    _shell: &crate::session::Shell,
    _token: String,
) -> crate::error::CommandResult<()> {
    Err(crate::error::CommandError::new(
        legitka_wire::ErrorCode::BadRequest,
        "desktop follows the live stream instead of remote push",
    ))
}

/// A desktop notice (freedesktop notifications on Linux); clicking it opens
/// the order in the app.
#[cfg(target_os = "linux")]
pub fn notify<R: Runtime>(app: &AppHandle<R>, title: String, body: String, order: OrderView) {
    let app = app.clone();
    // `wait_for_action` blocks until the notice is clicked or closed.
    std::thread::spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname("Legitka")
            .summary(&title)
            .body(&body)
            .action("default", &title)
            .show();
        match shown {
            Ok(handle) => handle.wait_for_action(|action| {
                if action == "default" {
                    crate::notify::open_order(&app, order);
                }
            }),
            Err(e) => tracing::warn!(error = %e, "no desktop notification service"),
        }
    });
}

#[cfg(not(target_os = "linux"))]
pub fn notify<R: Runtime>(_app: &AppHandle<R>, _title: String, _body: String, _order: OrderView) {}
