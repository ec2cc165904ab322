//! "Show the QR on a computer". Every university's help page has the
//! student scan the QR code from a computer screen with mObywatel on the
//! phone — which a phone cannot do to itself. The app asks for a one-time
//! code (five minutes, once); the student types it on the university
//! server's `/show` page on a computer, which then shows the QR code, the
//! manual-entry code and the activation code. Showing them spends one of
//! the three views, as in the app. The code travels in a form body, never
//! in a URL, so no log or history holds it; every answer is `no-store`
//! (the router's rule).

use super::pairing::{OneTime, issue, page, public_address, qr, take};
use crate::auth::AuthStudent;
use crate::error::{AppError, AppResult};
use crate::ratelimit::Bucket;
use crate::state::AppState;
use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::response::Html;
use legitka_wire::{ApiError, ErrorCode, OrderStatus, SecondScreen};
use maud::html;
use serde::Deserialize;

/// A one-time code for showing the codes on a computer.
#[utoipa::path(post, path = "/api/v1/orders/current/second-screen", tag = "orders",
    security(("bearer" = [])),
    responses((status = 200, description = "the result", body = SecondScreen),
        (status = 409, description = "no ready order with views left", body = ApiError),
        (status = 401, description = "not signed in", body = ApiError)))]
pub async fn create(
    State(state): State<AppState>,
    who: AuthStudent,
) -> AppResult<Json<SecondScreen>> {
    let order = state.orders.current(&who.id).await?;
    let now = state.clock.now_ms();
    let showable = order.as_ref().is_some_and(|o| {
        o.status == OrderStatus::Ready
            && o.reveals_left > 0
            && o.activation_expires_at.is_none_or(|t| t > now)
    });
    if !showable {
        return Err(AppError::client(
            ErrorCode::NotReady,
            "no ready order with views left",
        ));
    }
    let code = issue(&state, OneTime::Screen, &who.id).await?;
    let expires_at = now + OneTime::Screen.ttl_ms();
    Ok(Json(SecondScreen {
        code: format!("{}-{}", &code[..4], &code[4..]),
        address: format!("{}/show", public_address(&state)),
        expires_at,
    }))
}

fn form(error: Option<&str>) -> Html<String> {
    page(html! {
        h1 { "Legitka" }
        p {
            "Wpisz kod z aplikacji Legitka, aby zobaczyć tu kod QR mLegitymacji i kod aktywacyjny."
            br;
            span.muted { "Type the code from the Legitka app to see your mLegitymacja's QR code and activation code here." }
        }
        @if let Some(e) = error {
            p.error role="alert" { (e) }
        }
        form method="post" action="/show" {
            label for="code" { "Kod z aplikacji / Code from the app" }
            input id="code" name="code" autocomplete="off" autocapitalize="characters" required;
            button type="submit" { "Pokaż / Show" }
        }
    })
}

/// The page a computer opens: a form for the code.
pub async fn show_form() -> Html<String> {
    form(None)
}

#[derive(Deserialize)]
pub struct ShowForm {
    code: String,
}

/// The code typed on the computer: the codes, once.
pub async fn show(
    State(state): State<AppState>,
    super::client::ClientIp(client): super::client::ClientIp,
    form_body: Result<Form<ShowForm>, axum::extract::rejection::FormRejection>,
) -> AppResult<Html<String>> {
    let Some(f) = form_body
        .ok()
        .map(|Form(f)| f)
        .filter(|f| !f.code.contains('\0'))
    else {
        return Ok(form(Some(
            "Wpisz kod z aplikacji. / Type the code from the app.",
        )));
    };
    state
        .limits
        .check(Bucket::RevealAddress, &client.to_string())?;
    let Some(student_id) = take(&state, OneTime::Screen, &f.code).await? else {
        return Ok(form(Some(
            "Ten kod nie działa: wygasł, został użyty albo jest błędny. Poproś aplikację o nowy. \
             / This code does not work: it expired, was used, or is wrong. Ask the app for a new one.",
        )));
    };
    state.limits.check(Bucket::RevealAccount, &student_id)?;
    let data = match state.orders.reveal(&student_id).await {
        Ok(data) => data,
        Err(e) if e.code() != ErrorCode::Internal => {
            return Ok(form(Some(
                "Kodów nie da się już pokazać (wykorzystane wyświetlenia albo kody wygasły). \
                 / The codes can no longer be shown (views spent or the codes expired).",
            )));
        }
        Err(e) => return Err(e),
    };
    let drawing = qr(&data.qr_payload)?;
    Ok(page(html! {
        h1 { "mLegitymacja" }
        p {
            "Zeskanuj kod QR w mObywatelu na telefonie (Dodaj dokument → mLegitymacja studencka), potem wpisz kod aktywacyjny."
            br;
            span.muted { "Scan the QR code with mObywatel on your phone (Add document → student ID), then type the activation code." }
        }
        div.qr { (drawing) }
        p.muted { "Kod do wpisania ręcznie / Manual-entry code" }
        p.code.small-code id="manual-code" { (data.manual_code) }
        p.muted { "Kod aktywacyjny / Activation code" }
        p.code id="activation-code" { (data.activation_code) }
        p.muted id="views-left" {
            "Pozostałe wyświetlenia / Views left: " (data.reveals_left)
            ". Zamknij tę stronę po aktywacji. / Close this page once activated."
        }
    }))
}
