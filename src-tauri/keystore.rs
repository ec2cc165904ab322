//! The session token lives in the OS keystore and nowhere else (Secret
//! Service on Linux, Android Keystore, iOS Keychain). Without a keystore the
//! session stays in memory for this run; it is never written to a file.

use crate::api::Session;
use crate::platform;
use keyring_core::{Entry, Error};
use std::sync::OnceLock;

const SERVICE: &str = "pl.legitka.app";
const ACCOUNT: &str = "session";

static STORE: OnceLock<Result<(), String>> = OnceLock::new();

/// Sets up the platform's store once; `Err` says why there is none.
fn ready() -> Result<(), String> {
    STORE
        .get_or_init(|| {
            let store = platform::credential_store().map_err(|e| e.to_string())?;
            keyring_core::set_default_store(store);
            Ok(())
        })
        .clone()
}

fn entry() -> Result<Entry, String> {
    ready()?;
    Entry::new(SERVICE, ACCOUNT).map_err(|e| e.to_string())
}

/// Saves the session. `Err` means it is kept in memory only.
pub fn save(session: &Session) -> Result<(), String> {
    let json = serde_json::to_string(session).map_err(|e| e.to_string())?;
    entry()?.set_password(&json).map_err(|e| e.to_string())
}

/// The saved session, if there is one and the keystore can be read.
pub fn load() -> Option<Session> {
    let json = entry().ok()?.get_password().ok()?;
    serde_json::from_str(&json).ok()
}

/// Wipes the saved session.
pub fn clear() -> Result<(), String> {
    match entry()?.delete_credential() {
        Ok(()) | Err(Error::NoEntry) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}
