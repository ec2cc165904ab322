//! Mobile twin of `desktop.rs`: same names, mobile behaviour.

use keyring_core::api::CredentialStoreApi;
use std::sync::Arc;
use tauri::Runtime;

pub type Store = Arc<dyn CredentialStoreApi + Send + Sync>;

/// Android Keystore (via the NDK context Tauri sets up) or the iOS Keychain.
pub fn credential_store() -> keyring_core::Result<Store> {
    #[cfg(target_os = "android")]
    let store: Store = android_native_keyring_store::Store::new()?;
    #[cfg(target_os = "ios")]
    let store: Store = apple_native_keyring_store::protected::Store::new()?;
    Ok(store)
}

/// The camera scanner reads the university's pairing and setup QR codes.
pub fn plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.plugin(tauri_plugin_barcode_scanner::init())
}
