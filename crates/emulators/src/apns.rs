//! A loopback stand-in for APNs, checking what Apple checks: HTTP/2 only;
//! a provider token signed ES256 with the team's key (`kid`, `iss`, an `iat`
//! under an hour old); `apns-topic` equal to the app's bundle id; a valid
//! `apns-push-type`; a numeric `apns-expiration`; an `aps` payload under
//! 4 KB; a 64-hex-digit device token. It answers with APNs's real refusals
//! (`BadDeviceToken`, 410 `Unregistered`, 429, 503) when told to.

use crate::push::{Fake, listen, serve_on};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// A provider token's claims.
#[derive(Deserialize)]
struct ProviderClaims {
    iat: u64,
}

pub struct ApnsEmulator {
    pub base_url: String,
    pub team_id: String,
    pub key_id: String,
    pub topic: String,
    public_key_pem: String,
    /// Scripted answers, dead tokens, and the pushes accepted: (device
    /// token, payload).
    fake: Fake<(String, Value)>,
}

impl std::ops::Deref for ApnsEmulator {
    type Target = Fake<(String, Value)>;
    fn deref(&self) -> &Fake<(String, Value)> {
        &self.fake
    }
}

impl ApnsEmulator {
    pub async fn start(
        team_id: &str,
        key_id: &str,
        topic: &str,
        public_key_pem: &str,
    ) -> std::io::Result<Arc<Self>> {
        let (listener, base_url) = listen().await?;
        let emu = Arc::new(Self {
            base_url,
            team_id: team_id.to_owned(),
            key_id: key_id.to_owned(),
            topic: topic.to_owned(),
            public_key_pem: public_key_pem.to_owned(),
            fake: Fake::default(),
        });
        let app = Router::new()
            .route("/3/device/{token}", post(push))
            .with_state(Arc::clone(&emu));
        serve_on(listener, app);
        Ok(emu)
    }
}

/// APNs's reason for a scripted status.
fn reason_for(status: u16) -> &'static str {
    match status {
        400 => "BadDeviceToken",
        403 => "InvalidProviderToken",
        410 => "Unregistered",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        _ => "ServiceUnavailable",
    }
}

fn refuse(status: StatusCode, reason: &str) -> Response {
    (status, Json(json!({ "reason": reason }))).into_response()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn check_provider_token(emu: &ApnsEmulator, headers: &HeaderMap) -> Result<(), &'static str> {
    let token = header(headers, "authorization")
        .and_then(|v| v.strip_prefix("bearer "))
        .ok_or("MissingProviderToken")?;
    let head = jsonwebtoken::decode_header(token).map_err(|_| "InvalidProviderToken")?;
    if head.alg != jsonwebtoken::Algorithm::ES256
        || head.kid.as_deref() != Some(emu.key_id.as_str())
    {
        return Err("InvalidProviderToken");
    }
    let key = jsonwebtoken::DecodingKey::from_ec_pem(emu.public_key_pem.as_bytes())
        .map_err(|_| "InvalidProviderToken")?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.set_issuer(&[&emu.team_id]);
    let claims = jsonwebtoken::decode::<ProviderClaims>(token, &key, &v)
        .map_err(|_| "InvalidProviderToken")?
        .claims;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if now.saturating_sub(claims.iat) > 3600 {
        return Err("ExpiredProviderToken");
    }
    Ok(())
}

async fn push(
    State(emu): State<Arc<ApnsEmulator>>,
    Path(device_token): Path<String>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if version != Version::HTTP_2 {
        return refuse(StatusCode::BAD_REQUEST, "BadRequest: HTTP/2 required");
    }
    if let Err(reason) = check_provider_token(&emu, &headers) {
        return refuse(StatusCode::FORBIDDEN, reason);
    }
    match header(&headers, "apns-topic") {
        None => return refuse(StatusCode::BAD_REQUEST, "MissingTopic"),
        Some(t) if t != emu.topic => {
            return refuse(StatusCode::BAD_REQUEST, "DeviceTokenNotForTopic");
        }
        Some(_) => {}
    }
    if !matches!(
        header(&headers, "apns-push-type"),
        Some("alert" | "background")
    ) {
        return refuse(StatusCode::BAD_REQUEST, "InvalidPushType");
    }
    if header(&headers, "apns-expiration").is_some_and(|e| e.parse::<u64>().is_err()) {
        return refuse(StatusCode::BAD_REQUEST, "BadExpirationDate");
    }
    if body.len() > 4096 {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge");
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "PayloadEmpty");
    };
    if !payload["aps"].is_object() {
        return refuse(StatusCode::BAD_REQUEST, "PayloadEmpty");
    }
    if device_token.len() != 64 || !device_token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return refuse(StatusCode::BAD_REQUEST, "BadDeviceToken");
    }
    if let Some((status, retry)) = emu.scripted() {
        let mut r = refuse(
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            reason_for(status),
        );
        if let Some(s) = retry {
            r.headers_mut().insert(header::RETRY_AFTER, s.into());
        }
        return r;
    }
    if emu.is_unregistered(&device_token) {
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        return (
            StatusCode::GONE,
            Json(json!({ "reason": "Unregistered", "timestamp": at })),
        )
            .into_response();
    }
    let notice = payload["notice_id"].as_str().unwrap_or_default().to_owned();
    emu.accept(&notice, (device_token, payload));
    StatusCode::OK.into_response()
}
