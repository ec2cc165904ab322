//! Sign in at the university's OpenID Connect provider (`identity =
//! "oidc"`, see `identity::oidc`): `/oidc/login` sends the student's
//! browser there, `/oidc/callback` takes them back and hands the app a
//! session through a pairing link, with the code as text to type as the
//! fallback.

use super::pairing::{code_page, issue_code, public_address, sentence};
use crate::error::{AppError, AppResult};
use crate::identity::Identity;
use crate::identity::oidc::Refused;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use legitka_wire::ErrorCode;
use serde::Deserialize;

/// Where the provider sends the student back: this server's public address.
fn callback_url(state: &AppState) -> String {
    format!("{}/oidc/callback", public_address(state))
}

fn not_here() -> Response {
    sentence(
        StatusCode::NOT_FOUND,
        "Ta uczelnia nie loguje przez własną stronę logowania.",
        "This university does not sign in through its own sign-in page.",
    )
}

fn provider_unavailable() -> Response {
    sentence(
        StatusCode::SERVICE_UNAVAILABLE,
        "Logowanie uczelni nie odpowiada. Spróbuj ponownie za kilka minut.",
        "The university's sign-in is not answering. Try again in a few minutes.",
    )
}

/// Starts a sign-in: to the provider's page.
pub async fn login(State(state): State<AppState>) -> AppResult<Response> {
    let Identity::Oidc(provider) = &*state.identity else {
        return Ok(not_here());
    };
    let now = state.clock.now_ms();
    match provider.start(&state.db, &callback_url(&state), now).await {
        Ok(url) => Ok(Redirect::to(&url).into_response()),
        Err(AppError::Client {
            code: ErrorCode::SignInUnavailable,
            ..
        }) => Ok(provider_unavailable()),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct Back {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The provider sends the student back here: signed in and allowed, or not.
pub async fn callback(
    State(state): State<AppState>,
    Query(back): Query<Back>,
) -> AppResult<Response> {
    let Identity::Oidc(provider) = &*state.identity else {
        return Ok(not_here());
    };
    let denied = || {
        sentence(
            StatusCode::FORBIDDEN,
            "Logowanie na uczelni zostało przerwane albo odmówione. Możesz spróbować ponownie w aplikacji.",
            "Signing in at the university was cancelled or refused. You can try again from the app.",
        )
    };
    let stale = || {
        sentence(
            StatusCode::BAD_REQUEST,
            "To logowanie wygasło albo już zostało użyte. Zacznij od nowa w aplikacji.",
            "This sign-in has expired or was already used. Start again from the app.",
        )
    };
    let (Some(code), Some(login), None) = (&back.code, &back.state, &back.error) else {
        // The student said no at the provider (access_denied), or it refused.
        if let Some(login) = &back.state {
            let _ = sqlx::query("DELETE FROM oidc_logins WHERE state = $1")
                .bind(login)
                .execute(&state.db.pool)
                .await;
        }
        return Ok(denied());
    };
    if code.len() > 2000 || login.len() > 200 {
        return Ok(stale());
    }
    let now = state.clock.now_ms();
    let name = match provider
        .finish(&state.db, &callback_url(&state), login, code, now)
        .await
    {
        Ok(Ok(name)) => name,
        Ok(Err(Refused::Stale)) => return Ok(stale()),
        Ok(Err(Refused::BadToken)) => {
            return Ok(sentence(
                StatusCode::BAD_GATEWAY,
                "Uczelnia odpowiedziała czymś, czego Legitka nie może przyjąć. Zacznij od nowa w aplikacji; jeśli to się powtórzy, daj znać uczelni.",
                "The university answered with something Legitka cannot accept. Start again from the app; if it happens again, tell the university.",
            ));
        }
        Err(AppError::Client {
            code: ErrorCode::SignInUnavailable,
            ..
        }) => return Ok(provider_unavailable()),
        Err(e) => return Err(e),
    };
    let student = match crate::identity::in_register(&state.db.pool, &name).await {
        Ok(s) => s,
        Err(AppError::Client {
            code: ErrorCode::NotInRegister,
            ..
        }) => {
            return Ok(sentence(
                StatusCode::FORBIDDEN,
                "Nie ma Cię w rejestrze studentów uczelni. Jeśli tu studiujesz, poproś dziekanat o sprawdzenie Twoich danych.",
                "You are not in the university's student register. If you study there, ask the dean's office to check your record.",
            ));
        }
        Err(e) => return Err(e),
    };
    tracing::info!(student_id = %student.id, "signed in through the university's provider");
    let code = issue_code(&state, &student.id).await?;
    Ok(code_page(
        &state,
        None,
        &code,
        &student.summary.first_name,
        &student.summary.last_name,
    )?
    .into_response())
}
