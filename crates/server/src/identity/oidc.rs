//! The university's OpenID Connect provider (Keycloak, Entra ID,
//! Shibboleth's OP): the authorization code flow with PKCE, in the
//! student's system browser. The app opens `/oidc/login`; the server sends
//! the student to the provider with a fresh state, nonce and PKCE
//! challenge (kept in `oidc_logins` for ten minutes, one use); the
//! provider sends them back to `/oidc/callback`, where the server trades
//! the code (with the verifier and its client secret) for an ID token,
//! checks it (signature by the provider's published keys, issuer,
//! audience, expiry, nonce) and reads the claim that names the student in
//! the registry. The app gets its session through a pairing link, as with
//! USOS.

use crate::crypto::Secret;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// `[oidc]` in the settings file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// The provider's issuer URL (its discovery document is at
    /// `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    /// The file holding the client secret (a confidential client).
    pub client_secret_file: std::path::PathBuf,
    /// The ID token claim whose value is the student's username in the registry.
    #[serde(default = "default_claim")]
    pub username_claim: String,
    /// Scopes besides `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Each request to the provider gives up after this long.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_claim() -> String {
    "preferred_username".to_owned()
}

fn default_scopes() -> Vec<String> {
    vec!["profile".to_owned()]
}

fn default_timeout() -> u64 {
    5
}

/// How long a sign-in may sit at the provider.
pub const LOGIN_TTL_MS: i64 = 10 * 60 * 1000;
/// How long the provider's discovery document (and keys) are kept.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// The ID token signatures accepted: public-key ones only.
const ALGORITHMS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

pub struct Provider {
    settings: OidcSettings,
    issuer: IssuerUrl,
    secret: Secret<String>,
    http: reqwest::Client,
    metadata: tokio::sync::Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

/// Why a sign-in at the provider did not give a student.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Unknown, used or expired state: start again.
    Stale,
    /// The ID token failed a check (signature, issuer, audience, expiry,
    /// nonce) or does not name the student.
    BadToken,
}

impl Provider {
    pub fn new(settings: OidcSettings) -> anyhow::Result<Self> {
        use anyhow::Context;
        let url = url::Url::parse(&settings.issuer).context("oidc: issuer")?;
        let host = url.host_str().unwrap_or_default();
        anyhow::ensure!(
            url.scheme() == "https"
                || (url.scheme() == "http" && crate::net::is_loopback_host(host)),
            "oidc: the issuer must be https:// (http:// only on this machine)"
        );
        anyhow::ensure!(!settings.client_id.is_empty(), "oidc: client_id");
        anyhow::ensure!(!settings.username_claim.is_empty(), "oidc: username_claim");
        let secret = std::fs::read_to_string(&settings.client_secret_file)
            .with_context(|| format!("reading {}", settings.client_secret_file.display()))?
            .trim()
            .to_owned();
        anyhow::ensure!(!secret.is_empty(), "oidc: the client secret file is empty");
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()?;
        Ok(Self {
            issuer: IssuerUrl::new(settings.issuer.clone()).context("oidc: issuer")?,
            settings,
            secret: Secret::new(secret),
            http,
            metadata: tokio::sync::Mutex::new(None),
        })
    }

    /// The provider's metadata and keys: discovered, then kept an hour (a
    /// token signed by a key the cache lacks discovers again).
    async fn metadata(&self, fresh: bool) -> AppResult<CoreProviderMetadata> {
        let mut cached = self.metadata.lock().await;
        if let Some((m, at)) = cached.as_ref()
            && !fresh
            && at.elapsed() < METADATA_TTL
        {
            return Ok(m.clone());
        }
        let http = self.http_client();
        let m = CoreProviderMetadata::discover_async(self.issuer.clone(), &http)
            .await
            .map_err(|e| unavailable(&format!("discovery: {e}")))?;
        *cached = Some((m.clone(), Instant::now()));
        Ok(m)
    }

    fn http_client(
        &self,
    ) -> impl Fn(
        openidconnect::HttpRequest,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<openidconnect::HttpResponse, reqwest::Error>>
                + Send,
        >,
    > {
        let client = self.http.clone();
        move |request: openidconnect::HttpRequest| {
            let client = client.clone();
            Box::pin(async move {
                let (parts, body) = request.into_parts();
                let response = client
                    .request(parts.method, parts.uri.to_string())
                    .headers(parts.headers)
                    .body(body)
                    .send()
                    .await?;
                let mut answer = axum::http::Response::builder().status(response.status());
                for (name, value) in response.headers() {
                    answer = answer.header(name, value);
                }
                let body = response.bytes().await?.to_vec();
                Ok(answer.body(body).expect("a response from a response"))
            })
        }
    }

    fn client(&self, metadata: CoreProviderMetadata, redirect: &str) -> AppResult<ClientOf> {
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.secret.expose().clone())),
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect.to_owned()).map_err(|e| anyhow::anyhow!("redirect: {e}"))?,
        ))
    }

    /// Starts a sign-in: where to send the student's browser.
    pub async fn start(&self, db: &Db, redirect: &str, now: i64) -> AppResult<String> {
        let client = self.client(self.metadata(false).await?, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        sqlx::query(
            "INSERT INTO oidc_logins (state, nonce, pkce_verifier, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(state.secret())
        .bind(nonce.secret())
        .bind(verifier.secret())
        .bind(now)
        .execute(&db.pool)
        .await?;
        Ok(url.to_string())
    }

    /// Finishes a sign-in the provider sent back: the student's registry
    /// username, or why not.
    pub async fn finish(
        &self,
        db: &Db,
        redirect: &str,
        state: &str,
        code: &str,
        now: i64,
    ) -> AppResult<Result<String, Refused>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "DELETE FROM oidc_logins WHERE state = $1 AND created_at > $2 \
             RETURNING nonce, pkce_verifier",
        )
        .bind(state)
        .bind(now - LOGIN_TTL_MS)
        .fetch_optional(&db.pool)
        .await?;
        let Some((nonce, verifier)) = row else {
            return Ok(Err(Refused::Stale));
        };
        let http = self.http_client();
        let client = self.client(self.metadata(false).await?, redirect)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| unavailable(&format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&http)
            .await;
        let token = match token {
            Ok(t) => t,
            Err(openidconnect::RequestTokenError::ServerResponse(e)) => {
                tracing::warn!(error = %e.error(), "the provider refused the code");
                return Ok(Err(Refused::Stale));
            }
            Err(e) => return Err(unavailable(&format!("token: {e}"))),
        };
        let Some(id_token) = token.id_token() else {
            tracing::warn!("the provider answered without an ID token");
            return Ok(Err(Refused::BadToken));
        };
        let nonce = Nonce::new(nonce);
        let mut verified = {
            let verifier = client.id_token_verifier().set_allowed_algs(ALGORITHMS);
            id_token.claims(&verifier, &nonce).map(|_| ())
        };
        if verified.is_err() {
            // Perhaps a key the provider rotated in since: its keys afresh.
            let client = self.client(self.metadata(true).await?, redirect)?;
            let verifier = client.id_token_verifier().set_allowed_algs(ALGORITHMS);
            verified = id_token.claims(&verifier, &nonce).map(|_| ());
        }
        if let Err(e) = verified {
            tracing::warn!(error = %e, "an ID token failed its checks");
            return Ok(Err(Refused::BadToken));
        }
        // Checked: its payload names the student.
        let claim = payload_claim(&id_token.to_string(), &self.settings.username_claim);
        Ok(claim.ok_or_else(|| {
            tracing::warn!(
                claim = %self.settings.username_claim,
                "the ID token lacks the claim that names the student"
            );
            Refused::BadToken
        }))
    }
}

type ClientOf = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// A string claim of a (verified) JWT's payload.
fn payload_claim(jwt: &str, claim: &str) -> Option<String> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    json.get(claim)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn unavailable(why: &str) -> AppError {
    tracing::warn!(why, "the university's sign-in provider is not answering");
    AppError::client(
        legitka_wire::ErrorCode::SignInUnavailable,
        "the university's sign-in service is not answering; try again in a few minutes",
    )
}

/// Sign-ins at the provider that were never finished, once past their time.
pub async fn prune(db: &Db, now: i64) -> AppResult<u64> {
    Ok(sqlx::query("DELETE FROM oidc_logins WHERE created_at < $1")
        .bind(now - LOGIN_TTL_MS)
        .execute(&db.pool)
        .await?
        .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_read_from_the_payload() {
        use base64::Engine;
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jwt = format!(
            "{}.{}.sig",
            enc(r#"{"alg":"ES256"}"#),
            enc(r#"{"preferred_username":"anna","email":"a@u.example","n":1}"#)
        );
        assert_eq!(
            payload_claim(&jwt, "preferred_username").as_deref(),
            Some("anna")
        );
        assert_eq!(payload_claim(&jwt, "email").as_deref(), Some("a@u.example"));
        assert_eq!(payload_claim(&jwt, "n"), None);
        assert_eq!(payload_claim(&jwt, "missing"), None);
        assert_eq!(payload_claim("garbage", "x"), None);
    }
}
