//! The versioned HTTP API. Every error leaves as `{code, message}`.

pub mod client;
mod devices;
mod events;
mod oidc;
mod pairing;
mod photo;
mod second_screen;
mod session;
mod student;
mod university;
mod usos;
pub mod well_known;

use crate::error::AppError;
use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use legitka_wire::{API_PREFIX, ErrorCode, paths};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// `axum::Json`, with rejections in the API's error shape, and no NUL
/// character in any string (PostgreSQL cannot store one; both databases
/// get the same refusal).
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        if has_nul(&value) {
            return Err(nul_refused());
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| AppError::client(ErrorCode::BadRequest, format!("invalid body: {e}")))
    }
}

fn has_nul(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

pub(crate) fn nul_refused() -> AppError {
    AppError::client(ErrorCode::BadRequest, "text may not contain NUL characters")
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            paths::SESSION,
            post(session::sign_in).delete(session::sign_out),
        )
        .route(paths::SESSION_REFRESH, post(session::refresh))
        .route(paths::SESSION_PAIR, post(pairing::exchange))
        .route(paths::UNIVERSITY, get(university::university))
        .route(paths::ME, get(student::state))
        .route(paths::ME_PHOTO, get(photo::photo))
        .route(
            paths::ORDERS,
            post(student::place_order).get(student::list_orders),
        )
        .route(paths::REVEAL, post(student::reveal))
        .route(paths::CANCEL, post(student::cancel))
        .route(paths::REVOKE, post(student::revoke))
        .route(paths::RESUBMIT, post(student::resubmit))
        .route(paths::REPLACE, post(student::replace))
        .route(paths::SECOND_SCREEN, post(second_screen::create))
        .route(paths::TIMELINE, get(student::timeline))
        .route(paths::EVENTS, get(events::stream))
        .route(
            paths::DEVICES,
            post(devices::register).delete(devices::unregister),
        )
        .route(
            paths::OPENAPI,
            get(|| async { axum::Json(ApiDoc::openapi()) }),
        );
    Router::new()
        .nest(API_PREFIX, api)
        .route("/health", get(crate::ops::ready::health))
        .route("/ready", get(crate::ops::ready::ready))
        .route("/pair", get(pairing::pair_page).post(pairing::create_code))
        .route("/setup", get(university::setup_page))
        .route(legitka_wire::shell::SETUP_PATH, get(university::setup_page))
        .route(legitka_wire::shell::PAIR_PATH, get(pairing::open_pair))
        .route("/.well-known/assetlinks.json", get(well_known::assetlinks))
        .route(
            "/.well-known/apple-app-site-association",
            get(well_known::apple_app_site_association),
        )
        .route(
            "/show",
            get(second_screen::show_form).post(second_screen::show),
        )
        .route("/oidc/login", get(oidc::login))
        .route("/oidc/callback", get(oidc::callback))
        .route("/usos/{university}/login", get(usos::login))
        .route("/usos/{university}/callback", get(usos::callback))
        .fallback(|| async { AppError::client(ErrorCode::NotFound, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            AppError::client(
                ErrorCode::MethodNotAllowed,
                "this endpoint does not take that method",
            )
        })
        // Its pages load nothing from elsewhere, run no script, post only
        // to themselves, and are never framed; no answer is sniffed or
        // leaks its address onwards.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // Nothing this server answers may be kept by a browser or a proxy:
        // student data, sessions, activation codes.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}

/// The API document, served at `/api/v1/openapi.json` and checked in as
/// `docs/openapi.json` (a test keeps the two equal).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Legitka university API",
        description = "Orders for mLegitymacja: eligibility, statuses, activation data, live events. \
                       Every error is {code, message} with a stable code."
    ),
    paths(
        session::sign_in,
        session::refresh,
        session::sign_out,
        pairing::exchange,
        university::university,
        student::state,
        photo::photo,
        student::place_order,
        student::list_orders,
        student::timeline,
        student::reveal,
        student::cancel,
        student::revoke,
        student::resubmit,
        student::replace,
        second_screen::create,
        events::stream,
        devices::register,
        devices::unregister,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The bearer scheme every authenticated operation names (also the bridge contract's).
pub(crate) struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = api.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

impl ApiDoc {
    /// The document as JSON, for tests that walk every operation.
    pub fn openapi_value() -> serde_json::Value {
        serde_json::to_value(Self::openapi()).expect("the API document serializes")
    }
}

/// The document as checked in: pretty JSON with a final newline.
pub fn openapi_json() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the API document serializes");
    s.push('\n');
    s
}

/// A request that changes something runs to completion even when the
/// client hangs up mid-way: the handler runs in a task of its own, so a
/// commit is always followed by what comes after it (the read cache's
/// bump, the outboxes' wake-up, the live streams). Reads are left to be
/// dropped with their connection.
pub async fn run_to_completion(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    use axum::response::IntoResponse;
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    use tracing::Instrument;
    match tokio::spawn(next.run(request).in_current_span()).await {
        Ok(response) => response,
        Err(e) => {
            AppError::Unexpected(anyhow::anyhow!("a request's task failed: {e}")).into_response()
        }
    }
}
