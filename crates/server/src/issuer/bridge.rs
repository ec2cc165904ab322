//! The issuer-bridge adapter: commands as HTTP requests of the published
//! contract (`legitka_wire::bridge`, `docs/issuer-bridge.openapi.json`),
//! authenticated with the shared secret, the command id as
//! `Idempotency-Key`.

use super::{Issuer, Sent};
use crate::crypto::Secret;
use crate::outbox::retry_after;
use futures_util::future::BoxFuture;
use legitka_wire::bridge::{
    BridgeError, BridgeErrorCode, InvalidateOrder, ORDERS_PATH, SubmitOrder, invalidate_path,
};
use reqwest::StatusCode;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct BridgeSettings {
    /// The bridge's base URL (https, or http on loopback only).
    pub url: String,
    /// Authenticates us to the bridge and the bridge's events to us.
    pub secret: Secret<String>,
}

impl BridgeSettings {
    /// Checks the URL: https anywhere; plain http only to this machine.
    pub fn new(url: &str, secret: String) -> anyhow::Result<Self> {
        crate::net::https_or_loopback(url, "issuer_url")?;
        anyhow::ensure!(
            secret.trim().len() >= 16,
            "the issuer secret must be at least 16 characters"
        );
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            secret: Secret::new(secret.trim().to_owned()),
        })
    }
}

pub struct Bridge {
    settings: BridgeSettings,
    http: reqwest::Client,
}

impl Bridge {
    pub fn new(settings: BridgeSettings) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client without custom TLS builds");
        Self { settings, http }
    }

    async fn post<T: serde::Serialize + Sync>(
        &self,
        command_id: &str,
        path: &str,
        body: &T,
    ) -> Sent {
        let sent = self
            .http
            .post(format!("{}{path}", self.settings.url))
            .bearer_auth(self.settings.secret.expose())
            .header("idempotency-key", command_id)
            .json(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Sent::Retry {
                    after: None,
                    error: format!("issuer bridge unreachable: {e}"),
                };
            }
        };
        let status = response.status();
        if status.is_success() {
            return Sent::Accepted;
        }
        let after = retry_after(response.headers());
        let error: Option<BridgeError> = response.json().await.ok();
        let said = error.as_ref().map_or_else(
            || status.to_string(),
            |e| format!("{status}: {}", e.message),
        );
        match (status, error.map(|e| e.code)) {
            (StatusCode::CONFLICT, Some(BridgeErrorCode::Invalidated)) => Sent::AlreadyInvalidated,
            // A wrong secret is a setting to fix, not a poison command.
            (StatusCode::UNAUTHORIZED, _) | (StatusCode::TOO_MANY_REQUESTS, _) => {
                Sent::Retry { after, error: said }
            }
            (s, _) if s.is_server_error() => Sent::Retry { after, error: said },
            _ => Sent::Refused(said),
        }
    }
}

impl Issuer for Bridge {
    fn submit<'a>(&'a self, command_id: &'a str, order: &'a SubmitOrder) -> BoxFuture<'a, Sent> {
        Box::pin(self.post(command_id, ORDERS_PATH, order))
    }

    fn invalidate<'a>(
        &'a self,
        command_id: &'a str,
        order_id: &'a str,
        body: &'a InvalidateOrder,
    ) -> BoxFuture<'a, Sent> {
        Box::pin(async move {
            self.post(command_id, &invalidate_path(order_id), body)
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::BridgeSettings;

    #[test]
    fn personal_data_leaves_only_over_https_or_to_this_machine() {
        let secret = || "s".repeat(16);
        assert!(BridgeSettings::new("https://bridge.uczelnia.example", secret()).is_ok());
        for local in ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"] {
            assert!(BridgeSettings::new(local, secret()).is_ok(), "{local}");
        }
        for refused in [
            "http://bridge.uczelnia.example",
            "http://10.0.0.1",
            "ftp://x",
            "bridge",
        ] {
            assert!(BridgeSettings::new(refused, secret()).is_err(), "{refused}");
        }
        assert!(BridgeSettings::new("https://b.example", "short".into()).is_err());
        let s = BridgeSettings::new("https://b.example/", format!("{}\n", secret())).unwrap();
        assert_eq!(
            (s.url.as_str(), s.secret.expose().len()),
            ("https://b.example", 16)
        );
    }
}
