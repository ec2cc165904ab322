//! APNs over HTTP/2 with a provider token: an ES256 JWT (`kid` = key id,
//! `iss` = team id, `iat`), reused for up to 50 minutes, then
//! `POST /3/device/{token}` with `apns-topic`, `apns-push-type`,
//! `apns-priority`, `apns-expiration` and `apns-collapse-id`.

use super::{Device, Message, Refused, SendOutcome, Sender, answered};
use crate::crypto::Secret;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

#[derive(Clone, Debug)]
pub struct ApnsSettings {
    /// `https://api.push.apple.com` in production.
    pub endpoint: String,
    pub team_id: String,
    pub key_id: String,
    /// The `.p8` signing key (PKCS#8 PEM, P-256).
    pub private_key_pem: Secret<String>,
    /// The app's bundle id.
    pub topic: String,
}

#[derive(Serialize, Deserialize)]
pub struct ProviderClaims {
    pub iss: String,
    pub iat: u64,
}

pub struct ApnsSender {
    http: reqwest::Client,
    settings: ApnsSettings,
    token: Mutex<Option<(String, Instant)>>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(Deserialize)]
struct Refusal {
    reason: String,
}

impl ApnsSender {
    pub fn new(settings: ApnsSettings) -> Self {
        let mut b = reqwest::Client::builder().timeout(Duration::from_secs(10));
        // APNs speaks only HTTP/2; over TLS it is negotiated, on a
        // plain-text loopback emulator it must be assumed.
        if settings.endpoint.starts_with("http://") {
            b = b.http2_prior_knowledge();
        }
        Self {
            http: b.build().expect("HTTP client builds"),
            settings,
            token: Mutex::new(None),
        }
    }

    async fn provider_token(&self) -> Result<String, String> {
        let mut cached = self.token.lock().await;
        if let Some((t, _)) = cached
            .as_ref()
            .filter(|(_, at)| at.elapsed() < Duration::from_secs(50 * 60))
        {
            return Ok(t.clone());
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.settings.key_id.clone());
        let key = jsonwebtoken::EncodingKey::from_ec_pem(
            self.settings.private_key_pem.expose().as_bytes(),
        )
        .map_err(|e| format!("APNs key: {e}"))?;
        let claims = ProviderClaims {
            iss: self.settings.team_id.clone(),
            iat: unix_now(),
        };
        let t =
            jsonwebtoken::encode(&header, &claims, &key).map_err(|e| format!("signing: {e}"))?;
        *cached = Some((t.clone(), Instant::now()));
        Ok(t)
    }

    async fn send_one(&self, device: &Device, m: &Message) -> SendOutcome {
        let jwt = match self.provider_token().await {
            Ok(t) => t,
            Err(error) => return SendOutcome::Retry { after: None, error },
        };
        let body = json!({
            "aps": { "alert": { "title": m.title, "body": m.body }, "sound": "default" },
            "notice_id": m.notice_id,
            "type": m.kind,
            "order_id": m.order_id,
            "status": m.status.as_str(),
        });
        let url = format!("{}/3/device/{}", self.settings.endpoint, device.token);
        let resp = self
            .http
            .post(url)
            .header("authorization", format!("bearer {jwt}"))
            .header("apns-topic", &self.settings.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", "10")
            // A status notice is worth delivering for a day, not longer.
            .header(
                "apns-expiration",
                (unix_now() + super::HOLD_FOR.as_secs()).to_string(),
            )
            .header("apns-collapse-id", &m.order_id)
            .header("apns-id", &m.notice_id)
            .json(&body)
            .send()
            .await;
        if let Some(refused) = resp.as_ref().ok().and_then(|r| only_http2(r.version())) {
            return refused;
        }
        let Refused {
            status,
            after,
            response,
        } = match answered(resp) {
            Ok(refused) => refused,
            Err(done) => return done,
        };
        let reason = response
            .json::<Refusal>()
            .await
            .map_or_else(|_| String::new(), |r| r.reason);
        match (status.as_u16(), reason.as_str()) {
            (410, _) | (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => {
                SendOutcome::Unregistered
            }
            (403, "ExpiredProviderToken" | "InvalidProviderToken") => {
                *self.token.lock().await = None;
                SendOutcome::Retry {
                    after: None,
                    error: format!("APNs {status} {reason}"),
                }
            }
            (429 | 500..=599, _) => SendOutcome::Retry {
                after,
                error: format!("APNs {status} {reason}"),
            },
            _ => SendOutcome::Rejected(format!("APNs {status} {reason}")),
        }
    }
}

/// APNs speaks only HTTP/2 (over TLS it is negotiated): an endpoint that
/// answers in another version is a setting to fix, not trouble to wait
/// out, so the delivery is refused with a clear reason, never retried.
fn only_http2(version: reqwest::Version) -> Option<SendOutcome> {
    (version != reqwest::Version::HTTP_2).then(|| {
        tracing::error!(?version, "the APNs endpoint does not speak HTTP/2: check apns_endpoint");
        SendOutcome::Rejected(format!(
            "the APNs endpoint answered over {version:?}, and APNs speaks only HTTP/2: check apns_endpoint"
        ))
    })
}

impl Sender for ApnsSender {
    fn send<'a>(&'a self, device: &'a Device, message: &'a Message) -> BoxFuture<'a, SendOutcome> {
        Box::pin(self.send_one(device, message))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_answer_over_anything_but_http2_is_refused_for_good() {
        use reqwest::Version;
        assert_eq!(super::only_http2(Version::HTTP_2), None);
        for v in [Version::HTTP_11, Version::HTTP_10] {
            match super::only_http2(v) {
                Some(super::SendOutcome::Rejected(why)) => assert!(why.contains("HTTP/2"), "{why}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
