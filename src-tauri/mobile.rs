//! Mobile twin of `desktop.rs`: same names, mobile behaviour.

use crate::session::Shell;
use keyring_core::api::CredentialStoreApi;
use legitka_wire::shell::Permission;
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

/// Registers this phone's FCM/APNs token with the university server if
/// notices are allowed already; never asks (the app asks at the first
/// order, with a sentence why: [`allow_notices`]).
pub fn register_push<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if notice_permission(&app).await == Permission::Granted {
            register_token(&app).await;
        }
    });
}

async fn register_token<R: Runtime>(app: &AppHandle<R>) {
    match app.notifications().register_for_push_notifications().await {
        Ok(token) => {
            let shell = app.state::<Shell>();
            if let Err(e) = shell.register_device(PUSH_PLATFORM, token).await {
                tracing::warn!(error = %e, "registering the push token failed");
            }
        }
        Err(e) => tracing::warn!(error = %e, "no push token"),
    }
}

fn permission(state: tauri_plugin_notifications::PermissionState) -> Permission {
    use tauri_plugin_notifications::PermissionState as S;
    match state {
        S::Granted => Permission::Granted,
        S::Denied => Permission::Denied,
        S::Prompt | S::PromptWithRationale => Permission::Prompt,
    }
}

/// Whether notices are allowed (Android 13+ and iOS ask; older Android allows).
pub async fn notice_permission<R: Runtime>(app: &AppHandle<R>) -> Permission {
    match app.notifications().permission_state().await {
        Ok(state) => permission(state),
        Err(e) => {
            tracing::warn!(error = %e, "notice permission unknown");
            Permission::Prompt
        }
    }
}

/// Asks the OS (the student agreed to be asked); allowed, the push token
/// is registered at once.
pub async fn allow_notices<R: Runtime>(app: &AppHandle<R>) -> Permission {
    let answer = match app.notifications().request_permission().await {
        Ok(state) => permission(state),
        Err(e) => {
            tracing::warn!(error = %e, "notice permission request");
            Permission::Denied
        }
    };
    if answer == Permission::Granted {
        register_token(app).await;
    }
    answer
}

/// A new FCM/APNs token, reported through the UI: registered with the server.
pub async fn register_push_token(shell: &Shell, token: String) -> crate::error::CommandResult<()> {
    shell.register_device(PUSH_PLATFORM, token).await
}

/// Remote pushes are shown by the OS; in the foreground the UI updates live.
pub fn notify<R: Runtime>(_app: &AppHandle<R>, _title: String, _body: String, _order: OrderView) {}
