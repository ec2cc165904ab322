//! The commands the UI calls: thin and typed, each a few calls into the
//! session (`session.rs`), the live stream and the platform twin; errors
//! carry a stable code.

use crate::api::normalize_server;
use crate::error::{CommandError, CommandResult};
use crate::notify::News;
use crate::session::{self, Prefs, Shell};
use crate::university::{Target, parse_link};
use legitka_wire::is_university_id;
use legitka_wire::shell::{ActionOutcome, OrderAction, Permission, RevealedCodes, SessionInfo};
use legitka_wire::{
    ActivationData, CardPhoto, ErrorCode, Locale, OrderStatus, OrderView, PairRequest,
    RevokeResponse, SecondScreen, SignInRequest, SignInResponse, StudentState, TimelineEntry,
    paths,
};
use reqwest::Method;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_clipboard_manager::ClipboardExt;

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

/// Whether the app may raise notices here (asked by the UI at the first
/// order, not at start).
#[tauri::command]
pub async fn notice_permission<R: Runtime>(app: AppHandle<R>) -> Permission {
    crate::platform::notice_permission(&app).await
}

/// Asks the OS to allow notices (the student tapped "turn on").
#[tauri::command]
pub async fn allow_notices<R: Runtime>(app: AppHandle<R>) -> Permission {
    crate::platform::allow_notices(&app).await
}

/// Starts using a session: follows its events and registers for push
/// (where notices are allowed already).
fn follow<R: Runtime>(app: AppHandle<R>, shell: &Shell, s: crate::api::Session) {
    shell.start(s, crate::live::spawn(app.clone()));
    crate::platform::register_push(&app);
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
    let Some(saved) = session::saved().await else {
        return Ok(None);
    };
    let server = saved.server.clone();
    follow(app, &shell, saved);
    Ok(Some(SessionInfo {
        server,
        persisted: true,
    }))
}

/// Keeps a new session (in the keystore, or in memory, saying so) and follows it.
async fn begin<R: Runtime>(
    app: AppHandle<R>,
    shell: &Shell,
    server: String,
    resp: SignInResponse,
) -> SessionInfo {
    let (s, persisted) = session::keep(server.clone(), resp).await;
    follow(app, shell, s);
    SessionInfo { server, persisted }
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
        .api()
        .send(
            Method::POST,
            &server,
            paths::SESSION,
            None,
            Some(&req),
            None,
        )
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
    let req = PairRequest { code };
    let resp: SignInResponse = shell
        .api()
        .send(
            Method::POST,
            &server,
            paths::SESSION_PAIR,
            None,
            Some(&req),
            None,
        )
        .await?;
    Ok(begin(app, &shell, server, resp).await)
}

/// Sign in in the system browser: at the server's USOS login for a USOS
/// university (`university`: its id), or at the university's own sign-in
/// page (OpenID Connect) for the server's own registry (`None`). The
/// server's page that ends the sign-in opens the app with a
/// `legitka://pair` link (see `links`) or shows the code to type. The app
/// never sees the student's password.
#[tauri::command]
pub fn sign_in_in_browser<R: Runtime>(
    app: AppHandle<R>,
    server: String,
    university: Option<String>,
) -> CommandResult<()> {
    use tauri_plugin_opener::OpenerExt;
    let server = normalize_server(&server)?;
    let start = match university {
        Some(id) if is_university_id(&id) => format!("{server}/usos/{id}/login"),
        Some(_) => {
            return Err(CommandError::new(
                ErrorCode::BadRequest,
                "not a university id",
            ));
        }
        None => format!("{server}/oidc/login"),
    };
    app.opener()
        .open_url(start, None::<&str>)
        .map_err(|e| CommandError::new(ErrorCode::Internal, format!("no browser to open: {e}")))
}

/// The server and code a pairing input names: a typed code (for the chosen
/// server) or a whole pairing link.
fn pairing_target(server: &str, input: &str) -> CommandResult<(String, String)> {
    let bad = || CommandError::new(ErrorCode::BadRequest, "not a pairing code or link");
    match parse_link(input) {
        Ok(Some(Target::Pair { place, code })) => Ok((place.server, code)),
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

#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>) -> CommandResult<()> {
    let ended = shell.stop();
    session::forget_saved().await;
    if let Some(s) = ended {
        // Best effort: the local session is gone whatever the server says.
        let _: CommandResult<()> = shell
            .api()
            .send(
                Method::DELETE,
                &s.server,
                paths::SESSION,
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
    shell.set_prefs(Prefs {
        locale,
        notifications,
    });
}

/// A new FCM/APNs token (the mobile plugin reports token changes to the UI).
#[tauri::command]
pub async fn register_push_token(shell: State<'_, Shell>, token: String) -> CommandResult<()> {
    crate::platform::register_push_token(&shell, token).await
}

/// "Show the QR on a computer": a one-time code to type at the university
/// server's `/show` page (showing the codes there spends a view).
#[tauri::command]
pub async fn second_screen(shell: State<'_, Shell>) -> CommandResult<SecondScreen> {
    shell.call(Method::POST, paths::SECOND_SCREEN, None).await
}

/// The registry's photo for the card preview.
#[tauri::command]
pub async fn card_photo(shell: State<'_, Shell>) -> CommandResult<CardPhoto> {
    shell.call(Method::GET, paths::ME_PHOTO, None).await
}

#[tauri::command]
pub async fn student_state(shell: State<'_, Shell>) -> CommandResult<StudentState> {
    shell.call(Method::GET, paths::ME, None).await
}

#[tauri::command]
pub async fn place_order(
    shell: State<'_, Shell>,
    idempotency_key: String,
) -> CommandResult<OrderView> {
    shell
        .call(Method::POST, paths::ORDERS, Some(&idempotency_key))
        .await
}

/// Cancel, revoke, resubmit, or new codes after a lost phone.
#[tauri::command]
pub async fn order_action(
    shell: State<'_, Shell>,
    news: State<'_, News>,
    action: OrderAction,
) -> CommandResult<ActionOutcome> {
    news.expect_own_change(match action {
        OrderAction::Cancel => Some(OrderStatus::Cancelled),
        OrderAction::Revoke => Some(OrderStatus::Revoked),
        // A resubmitted or replacement order starts pending: never a notice.
        OrderAction::Resubmit | OrderAction::Replace => None,
    });
    let outcome = if action == OrderAction::Revoke {
        shell
            .call(Method::POST, action.path(), None)
            .await
            .map(|r: RevokeResponse| ActionOutcome {
                order: r.order,
                may_stay_valid_until: Some(r.may_stay_valid_until),
            })
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
        news.expect_own_change(None);
    }
    outcome
}

/// One order's history: each status with who moved it, why and when.
#[tauri::command]
pub async fn order_timeline(
    shell: State<'_, Shell>,
    order_id: String,
) -> CommandResult<Vec<TimelineEntry>> {
    if order_id.is_empty()
        || order_id.len() > 64
        || !order_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(CommandError::new(ErrorCode::BadRequest, "not an order id"));
    }
    shell
        .call(Method::GET, &paths::timeline(&order_id), None)
        .await
}

#[tauri::command]
pub async fn reveal(shell: State<'_, Shell>) -> CommandResult<RevealedCodes> {
    let data: ActivationData = shell.call(Method::POST, paths::REVEAL, None).await?;
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
