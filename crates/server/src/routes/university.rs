//! Which universities this server serves: the app asks before sign-in
//! (`GET /api/v1/university`), and the setup page the IT team prints
//! points the app at one of them (`/setup`).

use super::pairing::{page, public_address, qr};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Html;
use legitka_wire::{ApiError, ErrorCode, SignInMethod, UniversityInfo};
use maud::html;
use serde::Deserialize;

/// The universities this server serves, the default first: its own
/// registry when it has an issuer bridge, then each USOS university.
pub(super) fn universities(state: &AppState) -> Vec<UniversityInfo> {
    let native = UniversityInfo {
        id: None,
        name: state.settings.university_name.clone(),
        sign_in: state.identity.method(),
        help_contact: state.settings.help_contact.clone(),
        terms_url: state.settings.terms_url.clone(),
    };
    let mut usos: Vec<UniversityInfo> = state
        .usos
        .values()
        .map(|site| UniversityInfo {
            id: Some(site.university.id.clone()),
            name: site.university.name.clone(),
            sign_in: SignInMethod::Usos,
            help_contact: site.university.help_contact.clone(),
            terms_url: site.university.terms_url.clone(),
        })
        .collect();
    usos.sort_by(|a, b| a.id.cmp(&b.id));
    let has_native = state.settings.issuer.is_some() || usos.is_empty();
    has_native
        .then_some(native)
        .into_iter()
        .chain(usos)
        .collect()
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Which {
    /// A university's id on this server (its USOS universities); none: the default.
    university: Option<String>,
}

/// The university a request names, or the server's default.
fn find(state: &AppState, which: &Which) -> AppResult<UniversityInfo> {
    let all = universities(state);
    let found = match &which.university {
        None => all.into_iter().next(),
        Some(id) => all.into_iter().find(|u| u.id.as_deref() == Some(id)),
    };
    found.ok_or_else(|| {
        AppError::client(ErrorCode::NotFound, "this server serves no such university")
    })
}

/// The setup page the IT team prints or shows: the university's name and
/// a QR code that points the app at it on this server; when the server
/// serves several universities, links to the others' pages.
pub async fn setup_page(
    State(state): State<AppState>,
    Query(which): Query<Which>,
) -> AppResult<Html<String>> {
    let university = find(&state, &which)?;
    let server = public_address(&state);
    // The setup link: a scan points the app at this very university.
    // With links into the app set up, the poster's QR is one a phone's own
    // camera opens (the app, or this page); else only the app's scanner reads it.
    let link = if state.settings.app_links.is_some() {
        legitka_wire::shell::setup_app_link(&server, university.id.as_deref())
    } else {
        legitka_wire::shell::setup_link(&server, university.id.as_deref())
    };
    let drawing = qr(&link)?;
    let others: Vec<(String, String)> = universities(&state)
        .into_iter()
        .filter(|u| u.id != university.id)
        .map(|u| {
            let href = u.id.map_or_else(
                || "/setup".to_owned(),
                |id| format!("/setup?university={id}"),
            );
            (href, u.name)
        })
        .collect();
    Ok(page(html! {
        h1 { (university.name) }
        p {
            "Zeskanuj ten kod w aplikacji Legitka, aby wybrać uczelnię, albo wpisz adres."
            br;
            span.muted { "Scan this code in the Legitka app to choose the university, or type the address." }
        }
        div.qr data-link=(link) { (drawing) }
        p.code.small-code id="server-address" { (server) }
        (super::pairing::install_note())
        @if !others.is_empty() {
            p.muted { "Inne uczelnie na tym serwerze / Other universities on this server:" }
            ul id="other-universities" {
                @for (href, name) in &others {
                    li { a href=(href) { (name) } }
                }
            }
        }
    }))
}

/// Which university this is (the server's default, or the one named): the
/// app shows its name before sign-in and offers its way of signing in.
#[utoipa::path(get, path = "/api/v1/university", tag = "session", params(Which),
    responses((status = 200, description = "the result", body = UniversityInfo),
        (status = 404, description = "no such university on this server", body = ApiError)))]
pub async fn university(
    State(state): State<AppState>,
    Query(which): Query<Which>,
) -> AppResult<Json<UniversityInfo>> {
    Ok(Json(find(&state, &which)?))
}
