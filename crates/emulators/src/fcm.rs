//! A loopback stand-in for Google's OAuth token endpoint and FCM HTTP v1,
//! checking what they check: the service-account assertion (RS256 signature
//! with the account's public key, issuer, audience, scope, expiry), the
//! bearer token on `messages:send`, the message's shape (a token; string
//! data values; a title and body), and the device token's validity. It can
//! be told to answer with FCM's real errors (UNREGISTERED, 429/503 with
//! Retry-After). What it accepted is kept for tests to read.

use crate::push::{Fake, listen, serve_on};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The OAuth scope FCM HTTP v1 needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// A service-account assertion's claims.
#[derive(Deserialize)]
struct Claims {
    scope: String,
    iat: u64,
    exp: u64,
}

pub struct FcmEmulator {
    pub project_id: String,
    pub client_email: String,
    public_key_pem: String,
    /// Its own token endpoint: the audience an assertion must name.
    pub token_uri: String,
    pub base_url: String,
    issued: Mutex<HashSet<String>>,
    /// Scripted answers, dead tokens, and the messages accepted (each the
    /// `message` object sent).
    fake: Fake<Value>,
}

impl std::ops::Deref for FcmEmulator {
    type Target = Fake<Value>;
    fn deref(&self) -> &Fake<Value> {
        &self.fake
    }
}

impl FcmEmulator {
    /// Starts on a loopback port; returns the emulator.
    pub async fn start(
        project_id: &str,
        client_email: &str,
        public_key_pem: &str,
    ) -> std::io::Result<Arc<Self>> {
        let (listener, base_url) = listen().await?;
        let emu = Arc::new(Self {
            project_id: project_id.to_owned(),
            client_email: client_email.to_owned(),
            public_key_pem: public_key_pem.to_owned(),
            token_uri: format!("{base_url}/token"),
            base_url,
            issued: Mutex::default(),
            fake: Fake::default(),
        });
        let app = Router::new()
            .route("/token", post(token))
            .route("/v1/projects/{project}/messages:send", post(send))
            .with_state(Arc::clone(&emu));
        serve_on(listener, app);
        Ok(emu)
    }
}

fn google_error(status: StatusCode, name: &str, fcm_code: Option<&str>, msg: &str) -> Response {
    let mut err = json!({ "error": { "code": status.as_u16(), "message": msg, "status": name } });
    if let Some(code) = fcm_code {
        err["error"]["details"] = json!([{
            "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
            "errorCode": code,
        }]);
    }
    (status, Json(err)).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    assertion: String,
}

async fn token(State(emu): State<Arc<FcmEmulator>>, Form(f): Form<TokenForm>) -> Response {
    let invalid = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant", "error_description": why })),
        )
            .into_response()
    };
    if f.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return invalid("unsupported grant_type");
    }
    let Ok(key) = jsonwebtoken::DecodingKey::from_rsa_pem(emu.public_key_pem.as_bytes()) else {
        return invalid("emulator misconfigured");
    };
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[&emu.token_uri]);
    v.set_issuer(&[&emu.client_email]);
    let claims = match jsonwebtoken::decode::<Claims>(&f.assertion, &key, &v) {
        Ok(d) => d.claims,
        Err(e) => return invalid(&format!("invalid JWT: {e}")),
    };
    if !claims.scope.split(' ').any(|s| s == SCOPE) || claims.exp.saturating_sub(claims.iat) > 3600
    {
        return invalid("bad scope or lifetime");
    }
    let access = uuid::Uuid::new_v4().simple().to_string();
    emu.issued.lock().expect("lock").insert(access.clone());
    Json(json!({ "access_token": access, "expires_in": 3600, "token_type": "Bearer" }))
        .into_response()
}

/// The message shape FCM accepts (the part this app uses).
fn check_message(m: &Value) -> Result<&str, &'static str> {
    let token = m["token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or("message.token is required")?;
    if let Some(data) = m.get("data") {
        let data = data.as_object().ok_or("message.data must be a map")?;
        if data.values().any(|v| !v.is_string()) {
            return Err("message.data values must be strings");
        }
    }
    let n = &m["notification"];
    if !n["title"].is_string() || !n["body"].is_string() {
        return Err("message.notification needs a title and a body");
    }
    // A Duration in JSON: seconds with an "s", at most four weeks.
    if let Some(ttl) = m.get("android").and_then(|a| a.get("ttl")) {
        let secs = ttl
            .as_str()
            .and_then(|t| t.strip_suffix('s'))
            .and_then(|t| t.parse::<f64>().ok())
            .ok_or("android.ttl must be a duration such as \"86400s\"")?;
        if !(0.0..=2_419_200.0).contains(&secs) {
            return Err("android.ttl must be between 0 and 4 weeks");
        }
    }
    Ok(token)
}

/// Whether a token could be one FCM handed out (base64url and colons).
fn well_formed(token: &str) -> bool {
    token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':'))
}

async fn send(
    State(emu): State<Arc<FcmEmulator>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|b| emu.issued.lock().expect("lock").contains(b)) {
        return google_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            None,
            "invalid credentials",
        );
    }
    if project != emu.project_id {
        return google_error(StatusCode::NOT_FOUND, "NOT_FOUND", None, "unknown project");
    }
    let message = &body["message"];
    let device_token = match check_message(message) {
        Ok(t) => t.to_owned(),
        Err(why) => {
            return google_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                Some("INVALID_ARGUMENT"),
                why,
            );
        }
    };
    if let Some((status, retry)) = emu.scripted() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let (name, code) = match status.as_u16() {
            429 => ("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
            400 => ("INVALID_ARGUMENT", "INVALID_ARGUMENT"),
            500 => ("INTERNAL", "INTERNAL"),
            _ => ("UNAVAILABLE", "UNAVAILABLE"),
        };
        let mut r = google_error(status, name, Some(code), "scripted failure");
        if let Some(s) = retry {
            r.headers_mut().insert(header::RETRY_AFTER, s.into());
        }
        return r;
    }
    if !well_formed(&device_token) {
        return google_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            Some("INVALID_ARGUMENT"),
            "The registration token is not a valid FCM registration token",
        );
    }
    if emu.is_unregistered(&device_token) {
        return google_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            Some("UNREGISTERED"),
            "Requested entity was not found.",
        );
    }
    let notice = message["data"]["notice_id"].as_str().unwrap_or_default();
    let n = emu.accept(notice, message.clone());
    let name = format!("projects/{project}/messages/{n}");
    Json(json!({ "name": name })).into_response()
}
