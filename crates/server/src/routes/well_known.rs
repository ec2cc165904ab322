//! Links on the university's own domain that open the app: Android App
//! Links and iOS Universal Links. The phone asks this server, by these two
//! files, whether the app may open its links under `/open/` (setup and
//! pairing); a phone without the app shows those pages instead. Set up by `[app_links]`; off
//! (404) without it, and the pages then print `legitka://` links only.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use legitka_wire::ErrorCode;
use legitka_wire::shell::APP_LINK_PREFIX;
use serde_json::json;

fn json_file(body: serde_json::Value) -> Response {
    let mut r = axum::Json(body).into_response();
    // Phones fetch these once per install; an hour keeps a fix quick.
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

fn not_set_up() -> AppError {
    AppError::client(
        ErrorCode::NotFound,
        "links into the app are not set up here",
    )
}

/// `/.well-known/assetlinks.json`: Android's Digital Asset Links.
pub async fn assetlinks(State(state): State<AppState>) -> AppResult<Response> {
    let links = state.settings.app_links.as_ref().ok_or_else(not_set_up)?;
    let package = links.android_package.as_ref().ok_or_else(not_set_up)?;
    Ok(json_file(json!([{
        "relation": ["delegate_permission/common.handle_all_urls"],
        "target": {
            "namespace": "android_app",
            "package_name": package,
            "sha256_cert_fingerprints": links.android_sha256_cert_fingerprints,
        }
    }])))
}

/// `/.well-known/apple-app-site-association`: iOS Universal Links, for
/// the links under `/open/` only.
pub async fn apple_app_site_association(State(state): State<AppState>) -> AppResult<Response> {
    let links = state.settings.app_links.as_ref().ok_or_else(not_set_up)?;
    if links.apple_app_ids.is_empty() {
        return Err(not_set_up());
    }
    let prefix = super::pairing::public_path(&state);
    Ok(json_file(json!({
        "applinks": {
            "details": [{
                "appIDs": links.apple_app_ids,
                "components": [{ "/": format!("{prefix}{APP_LINK_PREFIX}*") }]
            }]
        }
    })))
}
