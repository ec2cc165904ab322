//! Desktop twin of `mobile.rs`: same names, desktop behaviour.

use keyring_core::api::CredentialStoreApi;
use std::sync::Arc;
use tauri::Runtime;

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
