//! Web Push (RFC 8030), as UnifiedPush distributors and browsers speak it.
//! A device's token is its push subscription (`{"endpoint", "keys":
//! {"p256dh", "auth"}}`); the signal is encrypted for it (RFC 8291,
//! `aes128gcm`) and the server identifies itself with VAPID (RFC 8292): an
//! ES256 JWT whose audience is the push service's origin, and the public key.

use super::{Device, Message, Refused, SendOutcome, Sender, answered};
use crate::crypto::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use futures_util::future::BoxFuture;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::DecodePrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// VAPID tokens live 12 hours (RFC 8292 allows 24); reused for 11.
const VAPID_LIFETIME: Duration = Duration::from_secs(12 * 3600);
const VAPID_REUSE: Duration = Duration::from_secs(11 * 3600);
/// RFC 8030 push services must accept at least 4096 bytes of payload.
pub const MAX_RECORD: usize = 4096;

#[derive(Clone, Debug)]
pub struct WebPushSettings {
    /// The VAPID signing key (PKCS#8 PEM, P-256).
    pub private_key_pem: Secret<String>,
    /// `mailto:` or `https:` contact the push service may use.
    pub contact: String,
    /// The loopback stand-in: plain-HTTP endpoints on this machine are
    /// allowed (otherwise only https to public hosts); never in production.
    pub allow_http: bool,
}

/// The VAPID JWT's claims.
#[derive(Serialize, Deserialize)]
pub struct VapidClaims {
    pub aud: String,
    pub exp: u64,
    pub sub: String,
}

/// A push subscription as browsers and UnifiedPush connectors hand it out.
#[derive(Deserialize)]
struct SubscriptionJson {
    endpoint: String,
    keys: KeysJson,
}

#[derive(Deserialize)]
struct KeysJson {
    p256dh: String,
    auth: String,
}

/// A checked subscription: where to post, and whom to encrypt for.
pub struct Subscription {
    pub endpoint: reqwest::Url,
    /// `scheme://host[:port]`: the VAPID audience.
    pub origin: String,
    pub ua_public: p256::PublicKey,
    pub auth: [u8; 16],
}

/// Parses and checks a device token of platform `web_push`.
pub fn parse_subscription(token: &str, allow_http: bool) -> Result<Subscription, String> {
    let s: SubscriptionJson = serde_json::from_str(token)
        .map_err(|_| "a Web Push token is a subscription: {endpoint, keys: {p256dh, auth}}")?;
    let endpoint = reqwest::Url::parse(&s.endpoint).map_err(|_| "the endpoint is not a URL")?;
    match endpoint.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err("the endpoint must be an https:// URL".into()),
    }
    if endpoint.host_str().is_none() || !endpoint.username().is_empty() {
        return Err("the endpoint must name a host and no credentials".into());
    }
    // An address typed as digits is checked here (names at the connection).
    if !allow_http && crate::net::literal_ip(&endpoint).is_some_and(|ip| !crate::net::is_public(ip))
    {
        return Err("the endpoint must be a public internet host".into());
    }
    let p256dh = B64
        .decode(s.keys.p256dh.trim_end_matches('='))
        .map_err(|_| "keys.p256dh is not base64url")?;
    let ua_public = p256::PublicKey::from_sec1_bytes(&p256dh)
        .map_err(|_| "keys.p256dh is not a P-256 public key")?;
    let auth: [u8; 16] = B64
        .decode(s.keys.auth.trim_end_matches('='))
        .ok()
        .and_then(|a| a.try_into().ok())
        .ok_or("keys.auth must be 16 bytes, base64url")?;
    Ok(Subscription {
        origin: endpoint.origin().ascii_serialization(),
        endpoint,
        ua_public,
        auth,
    })
}

/// A P-256 public key as base64url of its uncompressed point (VAPID `k=`,
/// a subscription's `p256dh`, `applicationServerKey`).
pub fn public_key_b64(key: &p256::PublicKey) -> String {
    B64.encode(key.to_encoded_point(false).as_bytes())
}

pub struct WebPushSender {
    http: reqwest::Client,
    settings: WebPushSettings,
    signing: Result<(jsonwebtoken::EncodingKey, String), String>,
    /// VAPID tokens per push-service origin.
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The signing key and its public half (`k=`) from the PEM.
fn signing_key(pem: &str) -> Result<(jsonwebtoken::EncodingKey, String), String> {
    let secret = p256::SecretKey::from_pkcs8_pem(pem).map_err(|e| format!("VAPID key: {e}"))?;
    let key = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes())
        .map_err(|e| format!("VAPID key: {e}"))?;
    Ok((key, public_key_b64(&secret.public_key())))
}

impl WebPushSender {
    pub fn new(settings: WebPushSettings) -> Self {
        Self {
            http: crate::net::client_for_student_urls(settings.allow_http, Duration::from_secs(10)),
            signing: signing_key(settings.private_key_pem.expose()),
            settings,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// The VAPID public key: what apps pass as `applicationServerKey`.
    pub fn public_key(&self) -> Option<&str> {
        self.signing.as_ref().ok().map(|(_, k)| k.as_str())
    }

    /// `vapid t=…, k=…` for a push service's origin.
    async fn authorization(&self, origin: &str) -> Result<String, String> {
        let (key, public) = self.signing.as_ref().map_err(Clone::clone)?;
        let mut cache = self.tokens.lock().await;
        if let Some((t, _)) = cache
            .get(origin)
            .filter(|(_, at)| at.elapsed() < VAPID_REUSE)
        {
            return Ok(format!("vapid t={t}, k={public}"));
        }
        let claims = VapidClaims {
            aud: origin.to_owned(),
            exp: unix_now() + VAPID_LIFETIME.as_secs(),
            sub: self.settings.contact.clone(),
        };
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        let t = jsonwebtoken::encode(&header, &claims, key).map_err(|e| format!("VAPID: {e}"))?;
        cache.insert(origin.to_owned(), (t.clone(), Instant::now()));
        Ok(format!("vapid t={t}, k={public}"))
    }

    async fn send_one(&self, device: &Device, m: &Message) -> SendOutcome {
        let sub = match parse_subscription(&device.token, self.settings.allow_http) {
            Ok(s) => s,
            // Registration checks tokens, so this one can never work: drop it.
            Err(_) => return SendOutcome::Unregistered,
        };
        let auth = match self.authorization(&sub.origin).await {
            Ok(a) => a,
            Err(error) => return SendOutcome::Retry { after: None, error },
        };
        let payload = json!({
            "notice_id": m.notice_id,
            "type": m.kind,
            "order_id": m.order_id,
            "status": m.status.as_str(),
            "title": m.title,
            "body": m.body,
        });
        let body = match web_push_native::encrypt(
            payload.to_string().into_bytes(),
            &sub.ua_public,
            &web_push_native::Auth::clone_from_slice(&sub.auth),
        ) {
            Ok(b) => b,
            Err(e) => return SendOutcome::Rejected(format!("encrypting: {e}")),
        };
        let urgency = if m.status == legitka_wire::OrderStatus::Ready {
            "high"
        } else {
            "normal"
        };
        let resp = self
            .http
            .post(sub.endpoint)
            .header("authorization", auth)
            .header("ttl", super::HOLD_FOR.as_secs().to_string())
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            .header("urgency", urgency)
            // A newer notice of the same order replaces an undelivered one.
            .header("topic", m.order_id.replace('-', ""))
            .body(body)
            .send()
            .await;
        let Refused {
            status,
            after,
            response,
        } = match answered(resp) {
            Ok(refused) => refused,
            Err(done) => return done,
        };
        let text = response.text().await.unwrap_or_default();
        let error = format!(
            "Web Push {status} {}",
            text.chars().take(200).collect::<String>()
        );
        match status.as_u16() {
            404 | 410 => SendOutcome::Unregistered,
            429 | 500..=599 => SendOutcome::Retry { after, error },
            401 => {
                self.tokens.lock().await.remove(&sub.origin);
                SendOutcome::Retry { after, error }
            }
            _ => SendOutcome::Rejected(error),
        }
    }
}

impl Sender for WebPushSender {
    fn send<'a>(&'a self, device: &'a Device, message: &'a Message) -> BoxFuture<'a, SendOutcome> {
        Box::pin(self.send_one(device, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> String {
        let k = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
        public_key_b64(&k.public_key())
    }

    #[test]
    fn subscriptions_are_checked() {
        let auth = B64.encode([1u8; 16]);
        let sub = |endpoint: &str, p256dh: &str, auth: &str| {
            json!({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}).to_string()
        };
        let ok = sub("https://push.example/wp/abc", &key(), &auth);
        let parsed = parse_subscription(&ok, false).unwrap();
        assert_eq!(parsed.origin, "https://push.example");
        let local = sub("http://127.0.0.1:4567/wp/abc", &key(), &auth);
        assert_eq!(
            parse_subscription(&local, true).unwrap().origin,
            "http://127.0.0.1:4567"
        );
        for bad in [
            local.clone(), // http without allow_http
            sub("https://127.0.0.1:4567/wp", &key(), &auth),
            sub("https://10.0.0.7/wp", &key(), &auth),
            sub("https://169.254.169.254/latest/meta-data", &key(), &auth),
            sub("https://[::1]/wp", &key(), &auth),
            sub("https://[::ffff:192.168.0.1]/wp", &key(), &auth),
            "fcm-token".to_owned(),
            sub("ftp://push.example/x", &key(), &auth),
            sub("https://u:p@push.example/x", &key(), &auth),
            sub("https://push.example/x", "not-base64!", &auth),
            sub("https://push.example/x", &B64.encode([4u8; 65]), &auth),
            sub("https://push.example/x", &key(), &B64.encode([1u8; 8])),
        ] {
            assert!(parse_subscription(&bad, false).is_err(), "{bad}");
        }
    }
}
