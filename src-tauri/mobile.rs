//! Mobile twin of `desktop.rs`: same names, mobile behaviour.

use crate::session::Shell;
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

/// mObywatel's store entry: Google Play opens the app when it is installed
/// (package `pl.nask.mobywatel`) and offers it otherwise; on iOS the App
/// Store's search for it does the same.
#[cfg(target_os = "android")]
const MOBYWATEL: [&str; 2] = [
    "market://details?id=pl.nask.mobywatel",
    "https://play.google.com/store/apps/details?id=pl.nask.mobywatel",
];
#[cfg(target_os = "ios")]
const MOBYWATEL: [&str; 2] = [
    "itms-apps://search.itunes.apple.com/WebObjects/MZSearch.woa/wa/search?media=software&term=mObywatel",
    "https://apps.apple.com/pl/search?term=mObywatel",
];

pub fn open_mobywatel<R: Runtime>(app: &AppHandle<R>) -> crate::error::CommandResult<()> {
    use tauri_plugin_opener::OpenerExt;
    let opener = app.opener();
    opener
        .open_url(MOBYWATEL[0], None::<&str>)
        .or_else(|_| opener.open_url(MOBYWATEL[1], None::<&str>))
        .map_err(|e| {
            crate::error::CommandError::new(legitka_wire::ErrorCode::Internal, e.to_string())
        })
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

/// A new FCM/APNs token, reported through the UI: registered with the server.
pub async fn register_push_token(shell: &Shell, token: String) -> crate::error::CommandResult<()> {
    shell.register_device(PUSH_PLATFORM, token).await
}

/// Remote pushes are shown by the OS; in the foreground the UI updates live.
pub fn notify<R: Runtime>(_app: &AppHandle<R>, _title: String, _body: String, _order: OrderView) {}
