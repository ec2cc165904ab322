//! The typed HTTP client for the university backend.

use crate::error::{CommandError, CommandResult};
use legitka_wire::{API_PREFIX, ApiError, ErrorCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A signed-in session: which server, and its tokens (kept in the OS keystore).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Session {
    pub server: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.server)
            .field("tokens", &"***")
            .finish()
    }
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// For the event stream: no overall timeout.
    streaming: reqwest::Client,
}

impl Api {
    pub fn new() -> Self {
        Self::with_roots(&crate::tls::for_this_platform())
    }

    /// A client trusting `roots` (see `tls`).
    pub fn with_roots(roots: &crate::tls::Roots) -> Self {
        let builder = || {
            let builder = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .user_agent(concat!("Legitka/", env!("CARGO_PKG_VERSION")));
            crate::tls::trusting(builder, roots)
        };
        Self {
            http: builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("HTTP client builds"),
            streaming: builder().build().expect("HTTP client builds"),
        }
    }

    pub fn streaming(&self) -> &reqwest::Client {
        &self.streaming
    }

    pub async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        server: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&impl Serialize>,
        idempotency_key: Option<&str>,
    ) -> CommandResult<T> {
        let mut req = self.http.request(method, url(server, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        let resp = req.send().await?;
        read(resp).await
    }
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}

pub fn url(server: &str, path: &str) -> String {
    format!("{server}{API_PREFIX}{path}")
}

/// Success bodies decode as `T` (an empty body as `null`); failures as the API's error shape.
pub async fn read<T: DeserializeOwned>(resp: reqwest::Response) -> CommandResult<T> {
    let status = resp.status();
    let bytes = resp.bytes().await?;
    if status.is_success() {
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        return serde_json::from_slice(bytes).map_err(|e| {
            CommandError::new(ErrorCode::BadResponse, format!("unexpected answer: {e}"))
        });
    }
    match serde_json::from_slice::<ApiError>(&bytes) {
        Ok(e) => Err(e.into()),
        Err(_) => Err(CommandError::new(
            ErrorCode::BadResponse,
            format!("the server answered {status} without an API error"),
        )),
    }
}

/// Checks and normalises the server address a student typed.
pub fn normalize_server(input: &str) -> CommandResult<String> {
    let s = input.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(s)
        .map_err(|_| CommandError::new(ErrorCode::BadRequest, "invalid server address"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(CommandError::new(
            ErrorCode::BadRequest,
            "the server address must start with https:// (or http:// for a local test server)",
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        for (input, out) in [
            (
                "https://legitka.uczelnia.pl/",
                Some("https://legitka.uczelnia.pl"),
            ),
            (" http://127.0.0.1:8080 ", Some("http://127.0.0.1:8080")),
            ("ftp://x", None),
            ("legitka.pl", None),
            ("", None),
        ] {
            assert_eq!(normalize_server(input).ok().as_deref(), out, "{input:?}");
        }
    }

    #[test]
    fn session_debug_hides_the_token() {
        let s = Session {
            server: "https://u".into(),
            access_token: "abcdef".into(),
            refresh_token: "ghijkl".into(),
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("abcdef") && !shown.contains("ghijkl"));
    }
}
