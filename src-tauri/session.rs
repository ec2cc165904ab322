//! The shell's state: the session in memory (its tokens saved in the OS
//! keystore), token renewal, and every authenticated call to the
//! university server. Commands, the live stream and push registration use
//! it; it uses none of them.

use crate::api::{Api, Session};
use crate::error::{CommandError, CommandResult};
use crate::keystore;
use legitka_wire::{
    DeviceRegistration, ErrorCode, Locale, PushPlatform, RefreshRequest, SignInResponse, TokenPair,
    paths,
};
use reqwest::Method;
use std::sync::Mutex;

/// What the student chose in the UI's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefs {
    /// Notices and the push registration speak this language.
    pub locale: Locale,
    /// Local notices on status changes.
    pub notifications: bool,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            locale: Locale::Pl,
            notifications: true,
        }
    }
}

/// The session, its renewal and the task following its events.
#[derive(Default)]
pub struct Shell {
    prefs: Mutex<Prefs>,
    api: Api,
    session: Mutex<Option<Session>>,
    /// One refresh at a time: a second concurrent one would present a spent
    /// refresh token, which the server treats as theft.
    refresh_lock: tokio::sync::Mutex<()>,
    live: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

impl Shell {
    pub fn session(&self) -> CommandResult<Session> {
        self.session
            .lock()
            .expect("session lock")
            .clone()
            .ok_or_else(|| CommandError::new(ErrorCode::Unauthorized, "not signed in"))
    }

    pub fn api(&self) -> &Api {
        &self.api
    }

    pub fn prefs(&self) -> Prefs {
        *self.prefs.lock().expect("prefs lock")
    }

    /// From now on this session is the one in use; `live` follows its events.
    pub fn start(&self, session: Session, live: tauri::async_runtime::JoinHandle<()>) {
        *self.session.lock().expect("session lock") = Some(session);
        if let Some(old) = self.live.lock().expect("live lock").replace(live) {
            old.abort();
        }
    }

    /// Forgets the session in memory and stops following it; returns it.
    pub fn stop(&self) -> Option<Session> {
        if let Some(task) = self.live.lock().expect("live lock").take() {
            task.abort();
        }
        self.session.lock().expect("session lock").take()
    }

    pub fn set_prefs(&self, prefs: Prefs) {
        *self.prefs.lock().expect("prefs lock") = prefs;
    }

    /// Renews the tokens after `stale_access` was refused, unless another
    /// caller already did. The rotated refresh token is saved at once: the
    /// old one is spent. A refused refresh ends the session here too.
    pub async fn refresh(&self, stale_access: &str) -> CommandResult<Session> {
        let _one_at_a_time = self.refresh_lock.lock().await;
        let current = self.session()?;
        if current.access_token != stale_access {
            return Ok(current);
        }
        let req = RefreshRequest {
            refresh_token: current.refresh_token.clone(),
        };
        let renewed: CommandResult<TokenPair> = self
            .api
            .send(
                Method::POST,
                &current.server,
                paths::SESSION_REFRESH,
                None,
                Some(&req),
                None,
            )
            .await;
        match renewed {
            Ok(pair) => {
                let session = Session {
                    server: current.server,
                    access_token: pair.access_token,
                    refresh_token: pair.refresh_token,
                };
                *self.session.lock().expect("session lock") = Some(session.clone());
                let to_save = session.clone();
                if let Err(e) = blocking(move || keystore::save(&to_save)).await {
                    tracing::warn!(error = %e, "renewed session kept in memory only");
                }
                Ok(session)
            }
            Err(e) if e.code == ErrorCode::Unauthorized => {
                *self.session.lock().expect("session lock") = None;
                let _ = blocking(keystore::clear).await;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// An authenticated call; a refused access token is renewed and the call
    /// made once more (safe: a refused call did nothing).
    pub async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        idempotency_key: Option<&str>,
    ) -> CommandResult<T> {
        self.call_with(method, path, None::<&()>, idempotency_key)
            .await
    }

    pub async fn call_with<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl serde::Serialize>,
        idempotency_key: Option<&str>,
    ) -> CommandResult<T> {
        let s = self.session()?;
        let first = self
            .api
            .send(
                method.clone(),
                &s.server,
                path,
                Some(&s.access_token),
                body,
                idempotency_key,
            )
            .await;
        match first {
            Err(e) if e.code == ErrorCode::Unauthorized => {
                let s = self.refresh(&s.access_token).await?;
                self.api
                    .send(
                        method,
                        &s.server,
                        path,
                        Some(&s.access_token),
                        body,
                        idempotency_key,
                    )
                    .await
            }
            other => other,
        }
    }

    /// Tells the university server where to push this student's notices.
    pub async fn register_device(
        &self,
        platform: PushPlatform,
        token: String,
    ) -> CommandResult<()> {
        let registration = DeviceRegistration {
            platform,
            token,
            locale: self.prefs().locale,
        };
        self.call_with(Method::POST, paths::DEVICES, Some(&registration), None)
            .await
    }
}

/// A new session from a sign-in answer, saved in the keystore; false when
/// there is no keystore and it lasts for this run only.
pub async fn keep(server: String, resp: SignInResponse) -> (Session, bool) {
    let session = Session {
        server,
        access_token: resp.tokens.access_token,
        refresh_token: resp.tokens.refresh_token,
    };
    let to_save = session.clone();
    let persisted = match blocking(move || keystore::save(&to_save)).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "no OS keystore: the session lasts for this run only");
            false
        }
    };
    (session, persisted)
}

/// The session saved in the keystore, if any.
pub async fn saved() -> Option<Session> {
    blocking(keystore::load).await
}

/// Forgets the saved session.
pub async fn forget_saved() {
    if let Err(e) = blocking(keystore::clear).await {
        tracing::warn!(error = %e, "could not clear the keystore entry");
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .expect("keystore task panicked")
}
