//! Sign-in by pairing QR. A student signs in on a small server-rendered web
//! page and sees a one-time code, as a QR code and as text: valid 5 minutes,
//! usable once. The app scans (or types) it and trades it for tokens.

use super::ApiJson;
use crate::auth;
use crate::crypto::sha256_hex;
use crate::error::{AppError, AppResult};
use crate::ratelimit::Bucket;
use crate::registry;
use crate::state::AppState;
use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Html;
use legitka_wire::{ApiError, ErrorCode, PairRequest, SignInResponse};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use rand::Rng;
use serde::Deserialize;

/// How long a pairing code is accepted.
pub const PAIRING_TTL_MS: i64 = 5 * 60 * 1000;

/// How long a code for showing the codes on a computer is accepted.
pub const SCREEN_TTL_MS: i64 = 5 * 60 * 1000;

/// Unambiguous letters and digits, typed on a desktop without a camera.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn new_code() -> String {
    let mut rng = rand::rng();
    (0..8)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Codes compare without case, spaces or dashes.
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The pages' look: small, readable on a phone, nothing loaded from
/// elsewhere (the CSP allows inline style only).
const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#1b1b1f}\
h1{font-size:1.4rem} label{display:block;margin-top:.8rem;font-weight:600}\
input{font:inherit;width:100%;padding:.7rem;border:1px solid #bbb;border-radius:.6rem;box-sizing:border-box}\
button,.button{display:block;text-align:center;text-decoration:none;box-sizing:border-box;font:inherit;font-weight:600;margin-top:1rem;width:100%;padding:.8rem;border:0;border-radius:.6rem;background:#b3122e;color:#fff}\
.code{font:700 2rem ui-monospace,monospace;letter-spacing:.15em;text-align:center}\
.small-code{font-size:1.1rem;letter-spacing:.05em;word-break:break-all}\
.qr svg{display:block;width:16rem;height:auto;margin:1rem auto}\
.error{color:#b00020;font-weight:600} .muted{color:#555}";

/// A whole page around `body`. The pages are maud templates: what they
/// print is escaped at compile time, except the QR drawings (our own SVG).
pub(super) fn page(body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="pl" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { "Legitka — parowanie / pairing" }
                    style { (PreEscaped(STYLE)) }
                }
                body { (body) }
            }
        }
        .into_string(),
    )
}

/// A page with a sentence in both languages, and its status.
pub(super) fn sentence(
    status: axum::http::StatusCode,
    pl: &str,
    en: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        status,
        page(maud::html! {
            h1 { "Legitka" }
            p id="message" { (pl) br; span.muted { (en) } }
        }),
    )
        .into_response()
}

/// A QR drawing, as markup (our own SVG, not text to escape).
pub(super) fn qr(payload: &str) -> AppResult<Markup> {
    Ok(PreEscaped(qr_svg(payload)?))
}

fn form(university: &str, error: Option<&str>) -> Html<String> {
    page(html! {
        h1 { "Legitka" }
        p id="university" { strong { (university) } }
        p {
            "Zaloguj się kontem uczelnianym, aby połączyć aplikację."
            br;
            span.muted { "Sign in with your university account to pair the app." }
        }
        @if let Some(e) = error {
            p.error role="alert" { (e) }
        }
        form method="post" action="/pair" {
            label for="username" { "Login / Username" }
            input id="username" name="username" autocomplete="username" required;
            label for="password" { "Hasło / Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            button type="submit" { "Pokaż kod parowania / Show pairing code" }
        }
    })
}

/// The sign-in form.
/// The sign-in form; where the university signs students in on its own
/// page (OpenID Connect), a way there instead.
pub async fn pair_page(State(state): State<AppState>) -> Html<String> {
    if matches!(*state.identity, crate::identity::Identity::Oidc(_)) {
        return page(html! {
            h1 { "Legitka" }
            p id="university" { strong { (state.settings.university_name) } }
            p {
                "Zaloguj się kontem uczelnianym na stronie uczelni, aby połączyć aplikację."
                br;
                span.muted { "Sign in with your university account on the university's page to pair the app." }
            }
            p { a.button id="sign-in-at-university" href="/oidc/login" { "Zaloguj się / Sign in" } }
        });
    }
    form(&state.settings.university_name, None)
}

#[derive(Deserialize)]
pub struct PairForm {
    username: String,
    password: String,
}

/// This server's address as the browser reached it (loopback is plain
/// HTTP, anything else HTTPS behind the university's proxy).
/// A form posted from another site (a page that would sign a student in
/// here without their knowing): browsers say so in `Sec-Fetch-Site`, or
/// name the other origin in `Origin`.
pub(super) fn cross_site(state: &AppState, headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|s| s == "cross-site") {
        return true;
    }
    header("origin").is_some_and(|o| o != public_address(state))
}

/// This server's address as students reach it: `public_url`, or the bound
/// address. Never the request's `Host` header, which the sender chooses:
/// a link or QR on these pages must not point anywhere else.
pub(super) fn public_address(state: &AppState) -> String {
    state.settings.public_url.as_deref().map_or_else(
        || format!("http://{}", state.settings.bind),
        |u| u.trim_end_matches('/').to_owned(),
    )
}

/// The path this server lives under on its host (`""` at the root).
pub(super) fn public_path(state: &AppState) -> String {
    let address = public_address(state);
    let after_scheme = address
        .split_once("://")
        .map_or(address.as_str(), |(_, r)| r);
    after_scheme
        .split_once('/')
        .map_or_else(String::new, |(_, path)| format!("/{path}"))
}

pub(super) fn qr_svg(payload: &str) -> AppResult<String> {
    Ok(legitka_wire::qr::inline_svg(payload, 240).map_err(|e| anyhow::anyhow!("QR: {e}"))?)
}

/// Checks the credentials and shows a fresh pairing code.
pub async fn create_code(
    State(state): State<AppState>,
    super::client::ClientIp(client): super::client::ClientIp,
    headers: HeaderMap,
    form_body: Result<Form<PairForm>, axum::extract::rejection::FormRejection>,
) -> AppResult<Html<String>> {
    // A form that is not this page's (another site's post, a bot): the
    // page again, never framework text.
    if cross_site(&state, &headers) {
        return Ok(form(
            &state.settings.university_name,
            Some("Otwórz tę stronę bezpośrednio. / Open this page directly."),
        ));
    }
    let Ok(Form(f)) = form_body else {
        return Ok(form(
            &state.settings.university_name,
            Some("Wypełnij formularz na tej stronie. / Fill in the form on this page."),
        ));
    };
    let username = f.username.trim().to_owned();
    if username.contains('\0') || f.password.contains('\0') {
        return Ok(form(
            &state.settings.university_name,
            Some("Nieprawidłowy login lub hasło. / Wrong username or password."),
        ));
    }
    if username.is_empty() || f.password.is_empty() {
        return Ok(form(
            &state.settings.university_name,
            Some("Podaj login i hasło. / Enter your username and password."),
        ));
    }
    let student = match crate::identity::sign_in(
        &state.identity,
        &state.db.pool,
        &state.limits,
        &username,
        f.password,
        client,
    )
    .await
    {
        Ok(student) => student,
        Err(AppError::Client { code, .. }) => {
            let said = match code {
                ErrorCode::NotInRegister => {
                    "Nie ma Cię w rejestrze studentów uczelni. / You are not in the university's student register."
                }
                ErrorCode::AccountLocked => {
                    "Uczelnia zablokowała to konto: odblokuje je dział IT. / The university has locked this account: its IT helpdesk unlocks it."
                }
                ErrorCode::SignInUnavailable => {
                    "Logowanie uczelni nie odpowiada. Spróbuj za kilka minut. / The university's sign-in is not answering. Try again in a few minutes."
                }
                _ => "Nieprawidłowy login lub hasło. / Wrong username or password.",
            };
            return Ok(form(&state.settings.university_name, Some(said)));
        }
        Err(e) => return Err(e),
    };
    let code = issue_code(&state, &student.id).await?;
    code_page(
        &state,
        None,
        &code,
        &student.summary.first_name,
        &student.summary.last_name,
    )
}

/// A fresh one-time pairing code for the student (kept only as its hash).
pub(super) async fn issue_code(state: &AppState, student_id: &str) -> AppResult<String> {
    issue(state, OneTime::Pairing, student_id).await
}

/// The one-time codes a student is handed: each kind in a table of its
/// own, stored only as a hash, taken once before it expires.
#[derive(Clone, Copy)]
pub(super) enum OneTime {
    /// Signs an app in (`/pair`, the USOS sign-in).
    Pairing,
    /// Shows the codes on a computer (`/show`).
    Screen,
}

impl OneTime {
    fn table(self) -> &'static str {
        match self {
            Self::Pairing => "pairing_codes",
            Self::Screen => "screen_codes",
        }
    }

    pub(super) fn ttl_ms(self) -> i64 {
        match self {
            Self::Pairing => PAIRING_TTL_MS,
            Self::Screen => SCREEN_TTL_MS,
        }
    }
}

/// A fresh code of `kind` for the student (eight unambiguous characters).
pub(super) async fn issue(state: &AppState, kind: OneTime, student_id: &str) -> AppResult<String> {
    let code = new_code();
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO {} (code_hash, student_id, expires_at) VALUES ($1, $2, $3)",
        kind.table()
    ));
    sqlx::query(sql)
        .bind(sha256_hex(&code))
        .bind(student_id)
        .bind(state.clock.now_ms() + kind.ttl_ms())
        .execute(&state.db.pool)
        .await?;
    Ok(code)
}

/// Takes a typed code of `kind` in one conditional UPDATE: the student it
/// was issued to, once, before it expires.
pub(super) async fn take(
    state: &AppState,
    kind: OneTime,
    typed: &str,
) -> AppResult<Option<String>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET used_at = $1 \
         WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING student_id",
        kind.table()
    ));
    Ok(sqlx::query_scalar(sql)
        .bind(state.clock.now_ms())
        .bind(sha256_hex(&normalize(typed)))
        .fetch_optional(&state.db.pool)
        .await?)
}

/// The page that hands a pairing code to the app: the `legitka://pair`
/// link as a QR code and a button (the app opens on this phone), and the
/// code as text to type.
pub(super) fn code_page(
    state: &AppState,
    university: Option<&str>,
    code: &str,
    first_name: &str,
    last_name: &str,
) -> AppResult<Html<String>> {
    let server = public_address(state);
    let link = legitka_wire::shell::pair_link(&server, university, code);
    // The server and the code in one scan: with links into the app set
    // up, one a phone's own camera opens (the app, or the page that says
    // what to do without it); the button is for the phone showing the page.
    let scanned = if state.settings.app_links.is_some() {
        legitka_wire::shell::pair_app_link(&server, university, code)
    } else {
        link.clone()
    };
    let drawing = qr(&scanned)?;
    let shown = format!("{}-{}", &code[..4], &code[4..]);
    Ok(page(html! {
        h1 { (first_name) " " (last_name) }
        p {
            "Zeskanuj kod w aplikacji Legitka albo wpisz go ręcznie. Ważny 5 minut, jednorazowy."
            br;
            span.muted { "Scan it in the Legitka app or type it. Valid 5 minutes, once." }
        }
        p { a.button id="open-app" href=(link) { "Otwórz aplikację Legitka / Open the Legitka app" } }
        div.qr data-link=(scanned) { (drawing) }
        p.code id="pairing-code" { (shown) }
    }))
}

#[derive(Deserialize)]
pub struct Opened {
    code: Option<String>,
    university: Option<String>,
}

/// `/open/pair?code=…`: a pairing link on a phone without the app (or a
/// computer): the code to type, and the `legitka://` link for an app that
/// is installed but not linked to this domain.
pub async fn open_pair(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<Opened>,
) -> AppResult<Html<String>> {
    let code = q.code.as_deref().map(normalize).unwrap_or_default();
    let university = q.university.filter(|u| !u.is_empty());
    if code.len() != 8
        || university
            .as_deref()
            .is_some_and(|u| !legitka_wire::is_university_id(u))
    {
        return Err(AppError::client(
            ErrorCode::NotFound,
            "not a pairing link: sign in again at /pair",
        ));
    }
    let link =
        legitka_wire::shell::pair_link(&public_address(&state), university.as_deref(), &code);
    let shown = format!("{}-{}", &code[..4], &code[4..]);
    Ok(page(html! {
        h1 { "Legitka" }
        p {
            "Otwórz aplikację Legitka albo wpisz w niej ten kod. Ważny 5 minut, jednorazowy."
            br;
            span.muted { "Open the Legitka app or type this code in it. Valid 5 minutes, once." }
        }
        p { a.button id="open-app" href=(link) { "Otwórz aplikację Legitka / Open the Legitka app" } }
        p.code id="pairing-code" { (shown) }
        (install_note())
    }))
}

/// What a phone without the app is told.
pub(super) fn install_note() -> Markup {
    html! {
        p.muted id="install" {
            "Nie masz aplikacji? Zainstaluj Legitkę z Google Play lub App Store."
            br;
            "No app yet? Install Legitka from Google Play or the App Store."
        }
    }
}

/// The app trades a pairing code for a session. The code is taken in one
/// conditional UPDATE: it works once, within five minutes.
#[utoipa::path(post, path = "/api/v1/session/pair", tag = "session", request_body = PairRequest,
    responses((status = 200, description = "the result", body = SignInResponse),
        (status = 400, description = "bad input", body = ApiError), (status = 413, description = "body too large", body = ApiError), (status = 415, description = "body not JSON", body = ApiError),
        (status = 401, description = "unknown, used or expired code", body = ApiError),
        (status = 429, description = "rate limited", body = ApiError)))]
pub async fn exchange(
    State(state): State<AppState>,
    super::client::ClientIp(client): super::client::ClientIp,
    ApiJson(req): ApiJson<PairRequest>,
) -> AppResult<Json<SignInResponse>> {
    if req.code.is_empty() || req.code.len() > 100 {
        return Err(AppError::client(
            ErrorCode::BadRequest,
            "a pairing code is 1–100 characters",
        ));
    }
    state
        .limits
        .check(Bucket::SignInAddress, &client.to_string())?;
    let student_id = take(&state, OneTime::Pairing, &req.code).await?;
    let student_id = student_id.ok_or_else(|| {
        AppError::client(
            ErrorCode::InvalidPairingCode,
            "this pairing code is unknown, used or expired",
        )
    })?;
    let student = registry::by_id(&state.db.pool, &student_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("pairing code of a missing student"))?;
    let tokens = auth::create_session(&state, &student_id).await?;
    Ok(Json(SignInResponse {
        tokens,
        student: student.summary,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typeable_and_compare_loosely() {
        let c = new_code();
        assert_eq!(c.len(), 8);
        assert!(c.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(normalize(" abcd-efgh "), "ABCDEFGH");
    }

    #[test]
    fn a_page_prints_text_as_text() {
        let Html(page) = form("<b>\"Uczelnia\"</b>", Some("<i>x</i>"));
        assert!(
            page.contains("&lt;b&gt;&quot;Uczelnia&quot;&lt;/b&gt;"),
            "{page}"
        );
        assert!(
            page.contains("&lt;i&gt;x&lt;/i&gt;") && !page.contains("<i>"),
            "{page}"
        );
    }
}
