//! Mobile twin of `desktop.rs`: same names, mobile behaviour.

use crate::commands::Shell;
use keyring_core::api::CredentialStoreApi;
use legitka_wire::{OrderView, PushPlatform};
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notifications::NotificationsExt;

pub type Store = Arc<dyn CredentialStoreApi + Send + Sync>;

#[cfg(target_os = "android")]
pub const PUSH_PLATFORM: PushPlatform = PushPlatform::Fcm;
#[cfg(target_os = "ios")]
pub const PUSH_PLATFORM: PushPlatform = PushPlatform::Apns;

/// Android Keystore (via the NDK context Tauri sets up) or the iOS Keychain.
pub fn credential_store() -> keyring_core::Result<Store> {
    #[cfg(target_os = "android")]
    let store: Store = android_native_keyring_store::Store::new()?;
    #[cfg(target_os = "ios")]
    let store: Store = apple_native_keyring_store::protected::Store::new()?;
    Ok(store)
}

/// The camera scanner reads the university's pairing and setup QR codes;
/// the notifications plugin gets the FCM/APNs token and reports taps.
pub fn plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_barcode_scanner::init())
        .plugin(tauri_plugin_notifications::init())
}

/// Asks for permission, gets this phone's FCM/APNs token and registers it
/// with the university server. Token changes come back through the UI
/// (`push-token` plugin event → `register_push_token`).
pub fn register_push<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let notifications = app.notifications();
        if let Err(e) = notifications.request_permission().await {
            tracing::warn!(error = %e, "notification permission");
        }
        match notifications.register_for_push_notifications().await {
            Ok(token) => {
                let shell = app.state::<Shell>();
                if let Err(e) = shell.register_device(PUSH_PLATFORM, token).await {
                    tracing::warn!(error = %e, "registering the push token failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "no push token"),
        }
    });
}

/// Remote pushes are shown by the OS; in the foreground the UI updates live.
pub fn notify<R: Runtime>(_app: &AppHandle<R>, _title: String, _body: String, _order: OrderView) {}
