//! A loopback Web Push service (a UnifiedPush distributor's server, or a
//! browser vendor's), checking what they check: a VAPID `Authorization`
//! (ES256 JWT verified with the `k=` key, audience = this origin, expiry at
//! most 24 hours ahead, a `mailto:`/`https:` subject, and the key the
//! subscription was made for), the `TTL`, `Content-Encoding: aes128gcm`,
//! `Urgency` and `Topic` headers, the 4096-byte record limit, and a body it
//! can decrypt with the subscription's private key (RFC 8291). It answers
//! 201 Created, 404/410 for unknown or expired subscriptions, and scripted
//! 429/503 with `Retry-After`. What it decrypted is kept for tests to read.

use crate::push::{Fake, listen, serve_on};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The largest record a push service takes (RFC 8291 §4).
const MAX_RECORD: usize = 4096;

/// A VAPID token's claims (RFC 8292).
#[derive(Deserialize)]
struct VapidClaims {
    exp: u64,
    sub: String,
}

/// A P-256 public key as the uncompressed point, base64url.
fn public_key_b64(key: &p256::PublicKey) -> String {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    B64.encode(key.to_encoded_point(false).as_bytes())
}

struct Subscription {
    secret: p256::SecretKey,
    auth: [u8; 16],
    /// The `applicationServerKey` it was made with: only that key may push.
    server_key: String,
    gone: bool,
}

pub struct WebPushEmulator {
    pub base_url: String,
    subs: Mutex<HashMap<String, Subscription>>,
    /// Scripted answers and the decrypted payloads accepted, each with
    /// `"subscription"` (its id).
    fake: Fake<Value>,
}

impl std::ops::Deref for WebPushEmulator {
    type Target = Fake<Value>;
    fn deref(&self) -> &Fake<Value> {
        &self.fake
    }
}

fn random_secret() -> p256::SecretKey {
    loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(k) = p256::SecretKey::from_slice(&bytes) {
            return k;
        }
    }
}

impl WebPushEmulator {
    pub async fn start() -> std::io::Result<Arc<Self>> {
        let (listener, base_url) = listen().await?;
        let emu = Arc::new(Self {
            base_url,
            subs: Mutex::default(),
            fake: Fake::default(),
        });
        let app = Router::new()
            .route("/wp/{id}", post(push))
            .with_state(Arc::clone(&emu));
        serve_on(listener, app);
        Ok(emu)
    }

    /// What `pushManager.subscribe({applicationServerKey})` hands the app:
    /// the subscription JSON, the device's token for platform `web_push`.
    pub fn subscribe(&self, application_server_key: &str) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let secret = random_secret();
        let auth: [u8; 16] = rand::random();
        let token = json!({
            "endpoint": format!("{}/wp/{id}", self.base_url),
            "keys": { "p256dh": public_key_b64(&secret.public_key()), "auth": B64.encode(auth) },
        })
        .to_string();
        self.subs.lock().expect("lock").insert(
            id,
            Subscription {
                secret,
                auth,
                server_key: application_server_key.to_owned(),
                gone: false,
            },
        );
        token
    }

    /// The subscription ended (the app was uninstalled): pushes get 410.
    pub fn unregister(&self, token: &str) {
        let mut subs = self.subs.lock().expect("lock");
        for (id, sub) in subs.iter_mut() {
            if token.contains(&format!("/wp/{id}\"")) {
                sub.gone = true;
            }
        }
    }
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (
        status,
        axum::Json(json!({ "code": status.as_u16(), "errno": 0, "error": why })),
    )
        .into_response()
}

/// Checks `vapid t=<jwt>, k=<key>`; returns the key, or why it is refused (401).
fn check_vapid(headers: &HeaderMap, origin: &str) -> Result<String, String> {
    let unauthorized = |why: &str| why.to_owned();
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("vapid "))
        .ok_or_else(|| unauthorized("missing VAPID authorization"))?;
    let mut t = None;
    let mut k = None;
    for part in value.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("k", v)) => k = Some(v),
            _ => {}
        }
    }
    let (Some(t), Some(k)) = (t, k) else {
        return Err(unauthorized("VAPID needs t= and k="));
    };
    let point = B64
        .decode(k)
        .ok()
        .filter(|p| p.len() == 65 && p[0] == 4)
        .ok_or_else(|| unauthorized("k= is not an uncompressed P-256 key"))?;
    let key = jsonwebtoken::DecodingKey::from_ec_components(
        &B64.encode(&point[1..33]),
        &B64.encode(&point[33..]),
    )
    .map_err(|_| unauthorized("k= is not a P-256 key"))?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&[origin]);
    v.set_required_spec_claims(&["exp", "aud"]);
    let claims = jsonwebtoken::decode::<VapidClaims>(t, &key, &v)
        .map_err(|e| unauthorized(&format!("invalid VAPID JWT: {e}")))?
        .claims;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if claims.exp > now + 24 * 3600 {
        return Err(unauthorized("VAPID exp more than 24 hours ahead"));
    }
    if !(claims.sub.starts_with("mailto:") || claims.sub.starts_with("https:")) {
        return Err(unauthorized("VAPID sub must be mailto: or https:"));
    }
    Ok(k.to_owned())
}

fn check_headers(headers: &HeaderMap) -> Result<(), &'static str> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    get("ttl")
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or("a TTL header is required")?;
    if get("content-encoding") != Some("aes128gcm") {
        return Err("Content-Encoding must be aes128gcm");
    }
    if get("urgency").is_some_and(|u| !matches!(u, "very-low" | "low" | "normal" | "high")) {
        return Err("Urgency must be very-low, low, normal or high");
    }
    if get("topic").is_some_and(|t| {
        t.len() > 32
            || !t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return Err("Topic is at most 32 base64url characters");
    }
    Ok(())
}

async fn push(
    State(emu): State<Arc<WebPushEmulator>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (secret, auth, server_key) = {
        let subs = emu.subs.lock().expect("lock");
        match subs.get(&id) {
            None => return refuse(StatusCode::NOT_FOUND, "no such subscription"),
            Some(s) if s.gone => return refuse(StatusCode::GONE, "subscription expired"),
            Some(s) => (s.secret.clone(), s.auth, s.server_key.clone()),
        }
    };
    let key = match check_vapid(&headers, &emu.base_url) {
        Ok(k) => k,
        Err(why) => return refuse(StatusCode::UNAUTHORIZED, &why),
    };
    if key != server_key {
        return refuse(
            StatusCode::FORBIDDEN,
            "VAPID key differs from the subscription's applicationServerKey",
        );
    }
    if let Err(why) = check_headers(&headers) {
        return refuse(StatusCode::BAD_REQUEST, why);
    }
    if body.len() > MAX_RECORD {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "payload too large");
    }
    let plain = match web_push_native::decrypt(
        body.to_vec(),
        &secret,
        &web_push_native::Auth::clone_from_slice(&auth),
    ) {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &format!("cannot decrypt: {e}")),
    };
    let Ok(mut payload) = serde_json::from_slice::<Value>(&plain) else {
        return refuse(StatusCode::BAD_REQUEST, "payload is not JSON");
    };
    if let Some((status, retry)) = emu.scripted() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut r = refuse(status, "scripted failure");
        if let Some(s) = retry {
            r.headers_mut().insert(header::RETRY_AFTER, s.into());
        }
        return r;
    }
    let notice = payload["notice_id"].as_str().unwrap_or_default().to_owned();
    payload["subscription"] = Value::String(id.clone());
    emu.accept(&notice, payload);
    let mut r = StatusCode::CREATED.into_response();
    if let Ok(loc) = format!("{}/m/{}", emu.base_url, uuid::Uuid::new_v4().simple()).parse() {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}
