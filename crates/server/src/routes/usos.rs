//! Sign in with USOS. The app opens the system browser at
//! `/usos/{university}/login`; the server gets a request token and sends
//! the student to USOS to sign in and allow access; USOS sends them back
//! to `/usos/{university}/callback`, where the server trades the verifier
//! for an access token (kept sealed), learns who the student is, and
//! hands the app a session through a one-time pairing code: a
//! `legitka://pair` link that opens the app, with the code as text to type
//! as the fallback. The consumer secret and the USOS tokens never leave
//! the server.

use super::pairing::{code_page, issue_code, public_address, sentence};
use crate::error::AppResult;
use crate::registry;
use crate::state::AppState;
use crate::usos::{SCOPES, UsosSite, store};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

fn unknown_university() -> Response {
    sentence(
        StatusCode::NOT_FOUND,
        "Ten serwer nie obsługuje takiej uczelni.",
        "This server serves no such university.",
    )
}

fn usos_unavailable() -> Response {
    sentence(
        StatusCode::SERVICE_UNAVAILABLE,
        "USOS nie odpowiada. Spróbuj ponownie za chwilę.",
        "USOS is not answering. Try again in a moment.",
    )
}

fn site(state: &AppState, university: &str) -> Option<Arc<UsosSite>> {
    state.usos.get(university).cloned()
}

/// Where USOS sends the student back: this server's public address.
fn callback_url(state: &AppState, university: &str) -> String {
    format!("{}/usos/{university}/callback", public_address(state))
}

/// Starts a USOS sign-in: to USOS's page, with a fresh request token.
pub async fn login(
    State(state): State<AppState>,
    Path(university): Path<String>,
) -> AppResult<Response> {
    let Some(site) = site(&state, &university) else {
        return Ok(unknown_university());
    };
    let callback = callback_url(&state, &university);
    let request = match site.api.request_token(&callback, &SCOPES).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(university, error = %e, "USOS request token");
            return Ok(usos_unavailable());
        }
    };
    let now = state.clock.now_ms();
    store::save_login(&state.db, &state.secrets, &university, &request, now).await?;
    Ok(Redirect::to(&site.api.authorize_url(&request)).into_response())
}

#[derive(Deserialize)]
pub struct Back {
    oauth_token: Option<String>,
    oauth_verifier: Option<String>,
    error: Option<String>,
}

/// USOS sends the student back here: signed in and allowed, or not.
pub async fn callback(
    State(state): State<AppState>,
    Path(university): Path<String>,
    Query(back): Query<Back>,
) -> AppResult<Response> {
    let Some(site) = site(&state, &university) else {
        return Ok(unknown_university());
    };
    let (Some(request), Some(verifier), None) =
        (back.oauth_token, back.oauth_verifier, back.error.as_ref())
    else {
        return Ok(sentence(
            StatusCode::FORBIDDEN,
            "Nie zezwolono Legitce na dostęp do USOS. Możesz spróbować ponownie w aplikacji.",
            "Legitka was not allowed to use USOS. You can try again from the app.",
        ));
    };
    let now = state.clock.now_ms();
    let Some(request) =
        store::take_login(&state.db, &state.secrets, &university, &request, now).await?
    else {
        return Ok(sentence(
            StatusCode::BAD_REQUEST,
            "To logowanie wygasło albo już zostało użyte. Zacznij od nowa w aplikacji.",
            "This sign-in has expired or was already used. Start again from the app.",
        ));
    };
    let signed_in = async {
        let access = site.api.access_token(&request, &verifier).await?;
        let user = site.api.user(&access).await?;
        Ok::<_, crate::usos::client::UsosError>((access, user))
    };
    let (access, user) = match signed_in.await {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!(university, error = %e, "USOS sign-in");
            return Ok(usos_unavailable());
        }
    };
    let student_id = registry::upsert_external(
        &state.db.pool,
        &university,
        &user.id,
        &user.first_name,
        &user.last_name,
    )
    .await?;
    store::save_token(
        &state.db,
        &state.secrets,
        &student_id,
        &access,
        &SCOPES.join("|"),
        now,
    )
    .await?;
    // Whether USOS lets them order, in its own words, for the first screen.
    match site.api.mcard(&access).await {
        Ok(card) => {
            store::save_why_not(&state.db, &student_id, card.why_cannot_order.as_ref(), now)
                .await?;
        }
        Err(e) => tracing::warn!(university, error = %e, "USOS mcard at sign-in"),
    }
    state.cache.bump(&student_id);
    // An order USOS is still working on is watched again (the watch ends
    // when USOS drops a sign-in).
    let working = crate::orders::store::current(&state.db, &student_id)
        .await?
        .is_some_and(|o| crate::orders::rules::with_the_issuer(o.status));
    if working {
        let mut tx = state.db.begin().await?;
        store::watch(&mut tx, &student_id, now).await?;
        tx.commit().await?;
    }
    tracing::info!(university, student_id, "signed in through USOS");
    let code = issue_code(&state, &student_id).await?;
    Ok(code_page(
        &state,
        Some(&university),
        &code,
        &user.first_name,
        &user.last_name,
    )?
    .into_response())
}
