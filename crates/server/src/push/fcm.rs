//! FCM HTTP v1: a service-account JWT (RS256) is exchanged for an OAuth
//! access token at `token_uri`, then `POST …/v1/projects/{id}/messages:send`.
//! Endpoints are settings, so tests point them at the loopback emulator.

use super::{Device, Message, Refused, SendOutcome, Sender, answered};
use crate::crypto::Secret;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

#[derive(Clone, Debug)]
pub struct FcmSettings {
    pub project_id: String,
    /// `https://fcm.googleapis.com` in production.
    pub endpoint: String,
    /// The service account's `token_uri` (`https://oauth2.googleapis.com/token`).
    pub token_uri: String,
    pub client_email: String,
    /// The service account's RSA private key, PEM.
    pub private_key_pem: Secret<String>,
}

#[derive(Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub scope: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

pub struct FcmSender {
    http: reqwest::Client,
    settings: FcmSettings,
    token: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

impl FcmSender {
    pub fn new(settings: FcmSettings) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client builds"),
            settings,
            token: Mutex::new(None),
        }
    }

    /// A cached OAuth token, renewed a minute before it ends.
    async fn access_token(&self) -> Result<String, String> {
        let mut cached = self.token.lock().await;
        if let Some((t, _)) = cached.as_ref().filter(|(_, until)| Instant::now() < *until) {
            return Ok(t.clone());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let claims = Claims {
            iss: self.settings.client_email.clone(),
            scope: SCOPE.to_owned(),
            aud: self.settings.token_uri.clone(),
            iat: now,
            exp: now + 3600,
        };
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(
            self.settings.private_key_pem.expose().as_bytes(),
        )
        .map_err(|e| format!("service-account key: {e}"))?;
        let jwt = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            &key,
        )
        .map_err(|e| format!("signing the assertion: {e}"))?;
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={jwt}"
        );
        let resp = self
            .http
            .post(&self.settings.token_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("token request: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("token request refused: {}", resp.status()));
        }
        let t: TokenResponse = resp
            .json()
            .await
            .map_err(|e| format!("token answer: {e}"))?;
        let until = Instant::now() + Duration::from_secs(t.expires_in.saturating_sub(60));
        *cached = Some((t.access_token.clone(), until));
        Ok(t.access_token)
    }

    async fn send_one(&self, device: &Device, m: &Message) -> SendOutcome {
        let token = match self.access_token().await {
            Ok(t) => t,
            Err(error) => return SendOutcome::Retry { after: None, error },
        };
        // FCM data values must be strings.
        let body = json!({ "message": {
            "token": device.token,
            "notification": { "title": m.title, "body": m.body },
            "data": {
                "notice_id": m.notice_id,
                "type": m.kind,
                "order_id": m.order_id,
                "status": m.status.as_str(),
            },
            // Held for an offline phone as long as the other providers hold it.
            "android": {
                "priority": "high",
                "collapse_key": m.order_id,
                "ttl": format!("{}s", super::HOLD_FOR.as_secs()),
            },
        }});
        let url = format!(
            "{}/v1/projects/{}/messages:send",
            self.settings.endpoint, self.settings.project_id
        );
        let sent = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await;
        let Refused {
            status,
            after,
            response,
        } = match answered(sent) {
            Ok(refused) => refused,
            Err(done) => return done,
        };
        let text = response.text().await.unwrap_or_default();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            *self.token.lock().await = None;
        }
        // FCM's advice: UNREGISTERED, and INVALID_ARGUMENT about the
        // token itself (the rest of the message is ours and valid), mean
        // the token is dead: delete it.
        if text.contains("\"UNREGISTERED\"")
            || (status == reqwest::StatusCode::BAD_REQUEST
                && text.contains("INVALID_ARGUMENT")
                && text.contains("registration token"))
        {
            return SendOutcome::Unregistered;
        }
        match status.as_u16() {
            401 | 429 | 500..=599 => SendOutcome::Retry {
                after,
                error: format!("FCM {status}"),
            },
            _ => SendOutcome::Rejected(format!(
                "FCM {status}: {}",
                text.chars().take(300).collect::<String>()
            )),
        }
    }
}

impl Sender for FcmSender {
    fn send<'a>(&'a self, device: &'a Device, message: &'a Message) -> BoxFuture<'a, SendOutcome> {
        Box::pin(self.send_one(device, message))
    }
}
