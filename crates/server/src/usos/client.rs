//! The USOS API client: signed POSTs to one installation
//! (`{base_url}services/{module}/{method}`), the OAuth 1.0a token dance,
//! the `services/cards` methods, and USOS's answers sorted into what the
//! gateway does next ([`UsosError`]).

use super::oauth::{Consumer, Freshness, Token, encode, signed};
use crate::crypto::Secret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// `{"pl": …, "en": …}`: USOS's words in both languages, shown as given.
pub type LangDict = legitka_wire::UniversityText;

/// What a USOS answer means for the gateway.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsosError {
    /// The student's USOS token expired or was revoked: sign in again.
    #[error("the USOS token is no longer valid: {0}")]
    SignInAgain(String),
    /// USOS is slow, down or failing: back off and try again.
    #[error("USOS is unavailable: {0}")]
    Unavailable(String),
    /// The installation lacks the method (an older USOS, or mLegitymacja
    /// not offered through USOS API).
    #[error("this USOS installation does not offer {0}")]
    NotOffered(String),
    /// USOS refused this request; its own sentence, when it gave one.
    #[error("USOS refused ({status}): {message}")]
    Refused {
        status: u16,
        error: Option<String>,
        reason: Option<String>,
        message: String,
        user_message: Option<LangDict>,
    },
}

/// USOS's error body (`message` always; the rest often).
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    error: Option<String>,
    reason: Option<String>,
    user_messages: Option<UserMessages>,
}

#[derive(Deserialize)]
struct UserMessages {
    generic_message: Option<LangDict>,
}

/// `services/users/user`: the student's USOS id and name.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct UsosUser {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
}

/// `services/apisrv/installation`, the part the gateway reads.
#[derive(Clone, Debug, Deserialize)]
pub struct InstallationInfo {
    #[serde(default)]
    pub mcards_support: bool,
}

/// `services/cards/mcard`: whether the student may order or revoke (USOS's
/// own reasons when not), and all of their orders.
#[derive(Clone, Debug, Deserialize)]
pub struct Mcard {
    pub why_cannot_order: Option<LangDict>,
    pub why_cannot_revoke: Option<LangDict>,
    #[serde(default)]
    pub orders: Vec<McardOrder>,
}

/// One order (`services/cards/mcard_order`): `token` is the QR content,
/// `distribution_pass` the activation code, present once it is ready.
#[derive(Clone, Deserialize)]
pub struct McardOrder {
    pub id: String,
    pub order_date: Option<String>,
    pub status: String,
    pub token: Option<String>,
    pub distribution_pass: Option<String>,
    pub expiration_date: Option<String>,
}

/// Codes never print.
impl std::fmt::Debug for McardOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McardOrder")
            .field("id", &self.id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Success {
    success: bool,
}

/// One USOS API installation, with the university's consumer key.
#[derive(Clone)]
pub struct Installation {
    base_url: String,
    consumer: Consumer,
    http: reqwest::Client,
    /// Requests in flight at once.
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl Installation {
    /// `base_url` ends with `/` (e.g. `https://usosapps.uw.edu.pl/`).
    pub fn new(base_url: &str, consumer: Consumer, concurrency: usize) -> anyhow::Result<Self> {
        let base_url = if base_url.ends_with('/') {
            base_url.to_owned()
        } else {
            format!("{base_url}/")
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            base_url,
            consumer,
            http,
            in_flight: Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))),
        })
    }

    fn url(&self, method: &str) -> String {
        format!("{}services/{method}", self.base_url)
    }

    /// A signed POST; USOS's refusals sorted into [`UsosError`].
    async fn post(
        &self,
        method: &str,
        params: &[(&str, &str)],
        token: Option<&Token>,
        extra: &[(&str, &str)],
    ) -> Result<String, UsosError> {
        // Signed once a slot is free, so the timestamp is fresh when sent.
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|e| UsosError::Unavailable(format!("{method}: {e}")))?;
        let url = self.url(method);
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let body = signed(
            "POST",
            &url,
            &params,
            &self.consumer,
            token,
            extra,
            &Freshness::now(),
        );
        let form = body
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let answer = self
            .http
            .post(&url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
            .send()
            .await
            .map_err(|e| UsosError::Unavailable(format!("{method}: {e}")))?;
        let status = answer.status().as_u16();
        let text = answer
            .text()
            .await
            .map_err(|e| UsosError::Unavailable(format!("{method}: {e}")))?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        Err(classify(method, status, &text))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[(&str, &str)],
        token: Option<&Token>,
    ) -> Result<T, UsosError> {
        let text = self.post(method, params, token, &[]).await?;
        serde_json::from_str(&text)
            .map_err(|e| UsosError::Unavailable(format!("{method}: not the expected answer: {e}")))
    }

    /// Step one of signing in: a request token for `scopes`, whose
    /// authorization comes back to `callback`.
    pub async fn request_token(&self, callback: &str, scopes: &[&str]) -> Result<Token, UsosError> {
        let scopes = scopes.join("|");
        let text = self
            .post(
                "oauth/request_token",
                &[("scopes", &scopes)],
                None,
                &[("oauth_callback", callback)],
            )
            .await?;
        token_from_form("oauth/request_token", &text)
    }

    /// Where the student's browser goes to sign in to USOS and allow access.
    pub fn authorize_url(&self, request: &Token) -> String {
        format!(
            "{}?oauth_token={}",
            self.url("oauth/authorize"),
            encode(&request.key)
        )
    }

    /// Step three: the authorized request token and its verifier for an
    /// access token.
    pub async fn access_token(&self, request: &Token, verifier: &str) -> Result<Token, UsosError> {
        let text = self
            .post(
                "oauth/access_token",
                &[],
                Some(request),
                &[("oauth_verifier", verifier)],
            )
            .await?;
        token_from_form("oauth/access_token", &text)
    }

    pub async fn installation(&self) -> Result<InstallationInfo, UsosError> {
        self.call("apisrv/installation", &[("fields", "mcards_support")], None)
            .await
    }

    /// Who the token's student is.
    pub async fn user(&self, token: &Token) -> Result<UsosUser, UsosError> {
        self.call(
            "users/user",
            &[("fields", "id|first_name|last_name")],
            Some(token),
        )
        .await
    }

    pub async fn mcard(&self, token: &Token) -> Result<Mcard, UsosError> {
        self.call(
            "cards/mcard",
            &[("fields", "why_cannot_order|why_cannot_revoke|orders")],
            Some(token),
        )
        .await
    }

    /// Orders an mLegitymacja (USOS answers no id: read `mcard` after).
    pub async fn make_order(&self, token: &Token) -> Result<(), UsosError> {
        let s: Success = self
            .call("cards/make_mcard_order", &[], Some(token))
            .await?;
        succeeded("cards/make_mcard_order", s)
    }

    pub async fn order(&self, token: &Token, order_id: &str) -> Result<McardOrder, UsosError> {
        self.call(
            "cards/mcard_order",
            &[
                ("order_id", order_id),
                (
                    "fields",
                    "id|order_date|status|token|distribution_pass|expiration_date",
                ),
            ],
            Some(token),
        )
        .await
    }

    /// Cancels an order on its way, or revokes a card in use.
    pub async fn revoke(&self, token: &Token, order_id: &str) -> Result<(), UsosError> {
        let s: Success = self
            .call("cards/revoke_mcard", &[("order_id", order_id)], Some(token))
            .await?;
        succeeded("cards/revoke_mcard", s)
    }
}

fn succeeded(method: &str, s: Success) -> Result<(), UsosError> {
    if s.success {
        Ok(())
    } else {
        Err(UsosError::Refused {
            status: 200,
            error: None,
            reason: None,
            message: format!("{method} answered success: false"),
            user_message: None,
        })
    }
}

fn token_from_form(method: &str, text: &str) -> Result<Token, UsosError> {
    let mut key = None;
    let mut secret = None;
    for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
        match k.as_ref() {
            "oauth_token" => key = Some(v.into_owned()),
            "oauth_token_secret" => secret = Some(v.into_owned()),
            _ => {}
        }
    }
    match (key, secret) {
        (Some(key), Some(secret)) => Ok(Token {
            key,
            secret: Secret::new(secret),
        }),
        _ => Err(UsosError::Unavailable(format!(
            "{method}: no token in the answer"
        ))),
    }
}

/// What a refusal means: 401 is the student's token (except a nonce USOS
/// saw before, which a fresh request fixes); 5xx and 429 are USOS's
/// trouble; a method USOS does not know is not offered there; the rest is
/// a refusal with USOS's own words.
fn classify(method: &str, status: u16, text: &str) -> UsosError {
    let body: ErrorBody = serde_json::from_str(text).unwrap_or_default();
    if status >= 500 || status == 429 {
        return UsosError::Unavailable(format!("{method}: HTTP {status} {}", body.message));
    }
    if status == 401 {
        if body.message.contains("Nonce") || body.message.contains("Timestamp") {
            return UsosError::Unavailable(format!("{method}: {}", body.message));
        }
        return UsosError::SignInAgain(format!("{method}: {}", body.message));
    }
    if status == 404 || body.message.contains("Method not found") {
        return UsosError::NotOffered(method.to_owned());
    }
    UsosError::Refused {
        status,
        error: body.error,
        reason: body.reason,
        message: if body.message.is_empty() {
            format!("HTTP {status}")
        } else {
            body.message
        },
        user_message: body.user_messages.and_then(|m| m.generic_message),
    }
}

/// USOS trouble, as the student's request answers it: never a 500.
impl From<UsosError> for crate::error::AppError {
    fn from(e: UsosError) -> Self {
        use legitka_wire::ErrorCode;
        let message = e.to_string();
        let code = match e {
            UsosError::SignInAgain(_) => ErrorCode::UniversitySignInNeeded,
            UsosError::Unavailable(_) => ErrorCode::UniversityUnavailable,
            UsosError::NotOffered(_) => ErrorCode::NotOffered,
            UsosError::Refused { .. } => ErrorCode::InvalidTransition,
        };
        Self::client(code, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_sorted_by_what_to_do_next() {
        assert!(matches!(
            classify("cards/mcard", 401, r#"{"message":"Access token expired"}"#),
            UsosError::SignInAgain(_)
        ));
        assert!(matches!(
            classify("cards/mcard", 401, r#"{"message":"Nonce already used"}"#),
            UsosError::Unavailable(_)
        ));
        assert!(matches!(
            classify("cards/mcard", 503, "<html>busy</html>"),
            UsosError::Unavailable(_)
        ));
        assert_eq!(
            classify("cards/mcard", 404, r#"{"message":"Method not found"}"#),
            UsosError::NotOffered("cards/mcard".into())
        );
        let refused = classify(
            "cards/make_mcard_order",
            403,
            r#"{"message":"Cannot order","error":"method_forbidden","reason":"cannot_order",
               "user_messages":{"generic_message":{"pl":"Brak zdjęcia.","en":"No photo."}}}"#,
        );
        assert_eq!(
            refused,
            UsosError::Refused {
                status: 403,
                error: Some("method_forbidden".into()),
                reason: Some("cannot_order".into()),
                message: "Cannot order".into(),
                user_message: Some(LangDict {
                    pl: Some("Brak zdjęcia.".into()),
                    en: Some("No photo.".into())
                }),
            }
        );
    }
}
