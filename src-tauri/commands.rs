//! The commands the UI calls. Small and typed; errors carry a stable code.

use crate::api::{Api, Session, normalize_server};
use crate::error::{CommandError, CommandResult};
use crate::university::{Target, parse_link};
use crate::{keystore, live};
use legitka_wire::shell::{ActionOutcome, OrderAction, RevealedCodes, SessionInfo};
use legitka_wire::{
    DeviceRegistration, ErrorCode, Locale, OrderView, PushPlatform, RefreshRequest, SignInRequest,
    SignInResponse, StudentState, TokenPair,
};
use reqwest::Method;
use std::sync::Mutex;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_clipboard_manager::ClipboardExt;

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

/// The shell's state: the session in memory and the task following its events.
#[derive(Default)]
pub struct Shell {
    prefs: Mutex<Prefs>,
    /// The last status seen of each order, so a notice is raised once per change.
    seen: Mutex<std::collections::HashMap<String, legitka_wire::OrderStatus>>,
    /// The status the student's own step (cancel, revoke) is bringing: the
    /// student needs no notice of what they just did.
    own_change: Mutex<Option<legitka_wire::OrderStatus>>,
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

    /// Records an order's status from the live stream; true if it is news.
    /// A stream opens with the current state: that is news only when the
    /// order changed since we last saw it (while offline), not on launch.
    /// The student's own change (`expect_own_change`) is not news either.
    pub fn is_news(&self, order: &OrderView, opens_stream: bool) -> bool {
        let before = self
            .seen
            .lock()
            .expect("seen lock")
            .insert(order.id.clone(), order.status);
        let changed = match before {
            Some(status) => status != order.status,
            None => !opens_stream,
        };
        let own = self
            .own_change
            .lock()
            .expect("own change lock")
            .take_if(|s| *s == order.status)
            .is_some();
        changed && !own
    }

    /// Set before the student's own step reaches the server (its change may
    /// come back on the live stream before the answer does); cleared if it fails.
    pub fn expect_own_change(&self, status: Option<legitka_wire::OrderStatus>) {
        *self.own_change.lock().expect("own change lock") = status;
    }

    fn start<R: Runtime>(&self, app: AppHandle<R>, session: Session) {
        *self.session.lock().expect("session lock") = Some(session);
        crate::platform::register_push(&app);
        let task = live::spawn(app);
        if let Some(old) = self.live.lock().expect("live lock").replace(task) {
            old.abort();
        }
    }

    fn stop(&self) {
        *self.session.lock().expect("session lock") = None;
        if let Some(task) = self.live.lock().expect("live lock").take() {
            task.abort();
        }
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
                "/session/refresh",
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
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        idempotency_key: Option<&str>,
    ) -> CommandResult<T> {
        self.call_with(method, path, None::<&()>, idempotency_key)
            .await
    }

    async fn call_with<T: serde::de::DeserializeOwned>(
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
        self.call_with(Method::POST, "/devices", Some(&registration), None)
            .await
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .expect("keystore task panicked")
}

/// With `LEGITKA_STARTUP_PROBE` set (the startup benchmark), prints the
/// wall-clock time a start-up stage was reached.
pub fn startup_mark(stage: &str) {
    if std::env::var_os("LEGITKA_STARTUP_PROBE").is_some() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        println!("startup {stage} {now}");
    }
}

/// How far the UI got; once its first screen is painted the startup
/// benchmark's run is over.
#[tauri::command]
pub fn first_paint<R: Runtime>(app: AppHandle<R>, stage: String) {
    startup_mark(&stage);
    if stage == "screen" && std::env::var_os("LEGITKA_STARTUP_PROBE").is_some() {
        app.exit(0);
    }
}

/// Switches to mObywatel to type the codes in (phones; on Android its Play
/// page, which opens or installs it; on iOS its App Store entry).
#[tauri::command]
pub fn open_mobywatel<R: Runtime>(app: AppHandle<R>) -> CommandResult<()> {
    crate::platform::open_mobywatel(&app)
}

/// Resumes the session saved in the keystore, if any.
#[tauri::command]
pub async fn restore_session<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
) -> CommandResult<Option<SessionInfo>> {
    if let Ok(s) = shell.session() {
        return Ok(Some(SessionInfo {
            server: s.server,
            persisted: false,
        }));
    }
    let Some(session) = blocking(keystore::load).await else {
        return Ok(None);
    };
    let info = SessionInfo {
        server: session.server.clone(),
        persisted: true,
    };
    shell.start(app, session);
    Ok(Some(info))
}

#[tauri::command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    server: String,
    username: String,
    password: String,
) -> CommandResult<SessionInfo> {
    let server = normalize_server(&server)?;
    let req = SignInRequest {
        username: username.trim().to_owned(),
        password,
    };
    let resp: SignInResponse = shell
        .api
        .send(Method::POST, &server, "/session", None, Some(&req), None)
        .await?;
    Ok(begin(app, &shell, server, resp).await)
}

/// Signs in with a one-time pairing code from the university's `/pair`
/// page: typed, or the whole `legitka://pair?server=…&code=…` link (which
/// names its server).
#[tauri::command]
pub async fn sign_in_with_code<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    server: String,
    code: String,
) -> CommandResult<SessionInfo> {
    let (server, code) = pairing_target(&server, &code)?;
    let req = legitka_wire::PairRequest { code };
    let resp: SignInResponse = shell
        .api
        .send(
            Method::POST,
            &server,
            "/session/pair",
            None,
            Some(&req),
            None,
        )
        .await?;
    Ok(begin(app, &shell, server, resp).await)
}

/// The server and code a pairing input names: a typed code (for the chosen
/// server) or a whole pairing link.
fn pairing_target(server: &str, input: &str) -> CommandResult<(String, String)> {
    let bad = || CommandError::new(ErrorCode::BadRequest, "not a pairing code or link");
    match parse_link(input) {
        Ok(Some(Target::Pair { server, code })) => Ok((server, code)),
        Ok(Some(Target::Setup { .. })) | Err(_) => Err(bad()),
        Ok(None) => {
            let input = input.trim();
            if input.is_empty() || input.len() > 32 {
                return Err(bad());
            }
            Ok((normalize_server(server)?, input.to_owned()))
        }
    }
}

/// Keeps a new session in the keystore (or in memory, saying so) and starts following it.
async fn begin<R: Runtime>(
    app: AppHandle<R>,
    shell: &Shell,
    server: String,
    resp: SignInResponse,
) -> SessionInfo {
    let session = Session {
        server: server.clone(),
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
    shell.start(app, session);
    SessionInfo { server, persisted }
}

#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>) -> CommandResult<()> {
    let session = shell.session().ok();
    shell.stop();
    if let Err(e) = blocking(keystore::clear).await {
        tracing::warn!(error = %e, "could not clear the keystore entry");
    }
    if let Some(s) = session {
        // Best effort: the local session is gone whatever the server says.
        let _: CommandResult<()> = shell
            .api
            .send(
                Method::DELETE,
                &s.server,
                "/session",
                Some(&s.access_token),
                None::<&()>,
                None,
            )
            .await;
    }
    Ok(())
}

/// The UI's settings: language and whether to raise notices.
#[tauri::command]
pub fn set_preferences(shell: State<'_, Shell>, locale: Locale, notifications: bool) {
    *shell.prefs.lock().expect("prefs lock") = Prefs {
        locale,
        notifications,
    };
}

/// A new FCM/APNs token (the mobile plugin reports token changes to the UI).
#[tauri::command]
pub async fn register_push_token(shell: State<'_, Shell>, token: String) -> CommandResult<()> {
    #[cfg(mobile)]
    return shell
        .register_device(crate::platform::PUSH_PLATFORM, token)
        .await;
    #[cfg(desktop)]
    {
        let _ = (shell, token);
        Err(CommandError::new(
            ErrorCode::BadRequest,
            "desktop follows the live stream instead of remote push",
        ))
    }
}

#[tauri::command]
pub async fn student_state(shell: State<'_, Shell>) -> CommandResult<StudentState> {
    shell.call(Method::GET, "/me", None).await
}

#[tauri::command]
pub async fn place_order(
    shell: State<'_, Shell>,
    idempotency_key: String,
) -> CommandResult<OrderView> {
    shell
        .call(Method::POST, "/orders", Some(&idempotency_key))
        .await
}

/// Cancel, revoke, resubmit, or new codes after a lost phone.
#[tauri::command]
pub async fn order_action(
    shell: State<'_, Shell>,
    action: OrderAction,
) -> CommandResult<ActionOutcome> {
    use legitka_wire::OrderStatus;
    shell.expect_own_change(match action {
        OrderAction::Cancel => Some(OrderStatus::Cancelled),
        OrderAction::Revoke => Some(OrderStatus::Revoked),
        // A resubmitted or replacement order starts pending: never a notice.
        OrderAction::Resubmit | OrderAction::Replace => None,
    });
    let outcome = if action == OrderAction::Revoke {
        shell.call(Method::POST, action.path(), None).await.map(
            |r: legitka_wire::RevokeResponse| ActionOutcome {
                order: r.order,
                may_stay_valid_until: Some(r.may_stay_valid_until),
            },
        )
    } else {
        shell
            .call(Method::POST, action.path(), None)
            .await
            .map(|order: OrderView| ActionOutcome {
                order,
                may_stay_valid_until: None,
            })
    };
    if outcome.is_err() {
        shell.expect_own_change(None);
    }
    outcome
}

/// One order's history: each status with who moved it, why and when.
#[tauri::command]
pub async fn order_timeline(
    shell: State<'_, Shell>,
    order_id: String,
) -> CommandResult<Vec<legitka_wire::TimelineEntry>> {
    if order_id.is_empty()
        || order_id.len() > 64
        || !order_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(CommandError::new(ErrorCode::BadRequest, "not an order id"));
    }
    shell
        .call(Method::GET, &format!("/orders/{order_id}/timeline"), None)
        .await
}

#[tauri::command]
pub async fn reveal(shell: State<'_, Shell>) -> CommandResult<RevealedCodes> {
    let data: legitka_wire::ActivationData = shell
        .call(Method::POST, "/orders/current/reveal", None)
        .await?;
    Ok(RevealedCodes {
        qr_svg: legitka_wire::qr::inline_svg(&data.qr_payload, 256)
            .map_err(|e| CommandError::new(ErrorCode::BadResponse, format!("QR payload: {e}")))?,
        qr_payload: data.qr_payload,
        manual_code: data.manual_code,
        activation_code: data.activation_code,
        expires_at: data.expires_at,
        reveals_left: data.reveals_left,
    })
}

#[tauri::command]
pub fn copy_text<R: Runtime>(app: AppHandle<R>, text: String) -> CommandResult<()> {
    app.clipboard()
        .write_text(text)
        .map_err(|e| CommandError::new(ErrorCode::Internal, format!("clipboard: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: &str, status: legitka_wire::OrderStatus) -> OrderView {
        OrderView {
            id: id.into(),
            kind: legitka_wire::OrderKind::New,
            status,
            created_at: 1,
            updated_at: 2,
            reveals_left: 3,
            activation_expires_at: None,
            card_valid_until: None,
            reason: None,
        }
    }

    #[test]
    fn one_notice_per_change_none_at_launch_and_missed_changes_count() {
        use legitka_wire::OrderStatus::{InProgress, Ready, Received};
        let _ = rustls::crypto::ring::default_provider().install_default();
        let shell = Shell::default();
        // Launch: the stream opens with the current state, which is not news.
        assert!(!shell.is_news(&order("a", Received), true));
        // A new order and each change are news, once.
        assert!(shell.is_news(&order("b", InProgress), false));
        assert!(shell.is_news(&order("b", Ready), false));
        assert!(!shell.is_news(&order("b", Ready), false));
        // A reconnect repeats the current state: not news …
        assert!(!shell.is_news(&order("b", Ready), true));
        // … unless it changed while the stream was down.
        assert!(shell.is_news(&order("b", Received), true));
        // The student revokes: that change is theirs, not news; the next is.
        shell.expect_own_change(Some(legitka_wire::OrderStatus::Revoked));
        assert!(!shell.is_news(&order("b", legitka_wire::OrderStatus::Revoked), false));
        assert!(shell.is_news(&order("c", InProgress), false));
        // An expectation that came to nothing (the step failed) is dropped.
        shell.expect_own_change(Some(legitka_wire::OrderStatus::Cancelled));
        shell.expect_own_change(None);
        assert!(shell.is_news(&order("c", legitka_wire::OrderStatus::Cancelled), false));
    }

    #[test]
    fn pairing_inputs() {
        let typed = pairing_target("https://u.example/", " ABCD2345 ").unwrap();
        assert_eq!(typed, ("https://u.example".into(), "ABCD2345".into()));
        let link = pairing_target(
            "https://ignored.example",
            "legitka://pair?server=https%3A%2F%2Flegitka.uczelnia.pl&code=WXYZ6789",
        )
        .unwrap();
        assert_eq!(
            link,
            ("https://legitka.uczelnia.pl".into(), "WXYZ6789".into())
        );
        for bad in [
            "",
            "legitka://pair?code=X",
            "legitka://pair?server=ftp%3A%2F%2Fx&code=X",
        ] {
            assert!(pairing_target("https://u.example", bad).is_err(), "{bad:?}");
        }
    }
}
