//! A real OpenID Connect provider for one test: the npm `oidc-provider`
//! package run by node (`tests/oidc_provider.mjs`), behind a small proxy of
//! the test's own. The provider signs ID tokens with a key the test made;
//! the proxy can hand the server a token with the wrong audience, expired,
//! or with a broken signature — each validly formed, so only the server's
//! checks stand between it and a sign-in.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const CLIENT_SECRET: &str = "legitka-client-secret-for-tests";

/// What the proxy does to the token endpoint's ID token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    Nothing,
    /// Re-signed by the provider's key, for another client.
    WrongAudience,
    /// Re-signed by the provider's key, expired an hour ago.
    Expired,
    /// One byte of the signature changed.
    BrokenSignature,
}

struct Proxy {
    provider_port: std::sync::atomic::AtomicU16,
    tamper: Mutex<Tamper>,
    key_pem: String,
    http: reqwest::Client,
}

pub struct Op {
    child: Option<Child>,
    proxy: Arc<Proxy>,
    /// The provider's issuer: the proxy's address.
    pub issuer: String,
    dir: tempfile::TempDir,
}

impl Drop for Op {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Op {
    /// The proxy, listening; the provider starts once the server's
    /// callback address is known ([`Op::run`]).
    pub async fn bind() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (key_pem, _) = super::keys::ec_pair();
        let proxy = Arc::new(Proxy {
            provider_port: 0.into(),
            tamper: Mutex::new(Tamper::Nothing),
            key_pem,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(proxy.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            child: None,
            proxy,
            issuer,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The server's settings for this provider.
    pub fn settings(&self) -> legitka_server::identity::oidc::OidcSettings {
        let secret = self.dir.path().join("client-secret");
        std::fs::write(&secret, format!("{CLIENT_SECRET}\n")).unwrap();
        legitka_server::identity::oidc::OidcSettings {
            issuer: self.issuer.clone(),
            client_id: "legitka".to_owned(),
            client_secret_file: secret,
            username_claim: "preferred_username".to_owned(),
            scopes: vec!["profile".to_owned()],
            timeout_secs: 2,
        }
    }

    /// Starts the provider, sending students back to `redirect_uri`.
    pub async fn run(&mut self, redirect_uri: &str) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // The backend's tests run from its crate, the app's E2E from the root.
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let script = [
            "tests/oidc_provider.mjs",
            "crates/server/tests/oidc_provider.mjs",
        ]
        .iter()
        .map(|p| here.join(p))
        .find(|p| p.exists())
        .expect("tests/oidc_provider.mjs");
        let child = Command::new("node")
            .arg(script)
            .env("PORT", port.to_string())
            .env("ISSUER", &self.issuer)
            .env("REDIRECT_URI", redirect_uri)
            .env("SECRET", CLIENT_SECRET)
            .env("JWKS", jwks(&self.proxy.key_pem))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node (scripts/install installs oidc-provider)");
        self.child = Some(child);
        self.proxy
            .provider_port
            .store(port, std::sync::atomic::Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "oidc-provider did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn tamper(&self, how: Tamper) {
        *self.proxy.tamper.lock().unwrap() = how;
    }
}

/// The student's browser from `start` (the server's `/oidc/login`) through
/// the provider's sign-in page, answering it with `user`, `password` and
/// `decision` (allow or deny), to wherever it ends: that page and its
/// status. Redirects are followed and cookies kept by hand (a jar of
/// names and values is all the provider needs).
pub async fn through_provider(
    start: &str,
    user: &str,
    password: &str,
    decision: &str,
) -> (reqwest::StatusCode, String) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut jar: std::collections::BTreeMap<String, String> = Default::default();
    let mut url = reqwest::Url::parse(start).unwrap();
    let mut form: Option<String> = None;
    let mut answered = false;
    for _ in 0..20 {
        let cookies: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let request = match form.take() {
            Some(body) => browser
                .post(url.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
            None => browser.get(url.clone()),
        };
        let response = request
            .header("cookie", cookies.join("; "))
            .send()
            .await
            .unwrap();
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    jar.remove(name.trim());
                } else {
                    jar.insert(name.trim().to_owned(), value.to_owned());
                }
            }
        }
        if response.status().is_redirection() {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            url = url.join(&location).unwrap();
            continue;
        }
        let status = response.status();
        let page = response.text().await.unwrap();
        let action = page
            .find("action=\"/interaction/")
            .map(|at| page[at + 8..].split('"').next().unwrap().to_owned());
        match action {
            Some(action) if !answered => {
                answered = true;
                url = url.join(&action).unwrap();
                form = Some(format!(
                    "login={user}&password={password}&decision={decision}"
                ));
            }
            _ => return (status, page),
        }
    }
    panic!("the sign-in went round in circles");
}

/// The provider's signing key as a JWK set (the private key: the provider signs).
fn jwks(pem: &str) -> String {
    use base64::Engine;
    use p256::pkcs8::DecodePrivateKey;
    let key = p256::SecretKey::from_pkcs8_pem(pem).unwrap();
    let point =
        p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&key.public_key(), false);
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "test-key", "use": "sig", "alg": "ES256",
        "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()), "d": b64(&key.to_bytes()),
    }]})
    .to_string()
}

async fn forward(
    State(proxy): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let port = proxy
        .provider_port
        .load(std::sync::atomic::Ordering::SeqCst);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let mut request = proxy
        .http
        .request(method, format!("http://127.0.0.1:{port}{path}"));
    // The provider writes its endpoints' addresses from the Host it is
    // asked by: the proxy's, so everything keeps going through the proxy.
    for (name, value) in &headers {
        if name != "content-length" {
            request = request.header(name, value);
        }
    }
    let Ok(response) = request.body(body).send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = response.status();
    let mut out = HeaderMap::new();
    for (name, value) in response.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            out.append(name, value.clone());
        }
    }
    let mut body = response.bytes().await.unwrap_or_default().to_vec();
    let tamper = *proxy.tamper.lock().unwrap();
    if uri.path() == "/token" && status.is_success() && tamper != Tamper::Nothing {
        let mut json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let token = json["id_token"].as_str().unwrap().to_owned();
        json["id_token"] = serde_json::Value::String(tampered(&token, tamper, &proxy.key_pem));
        body = serde_json::to_vec(&json).unwrap();
    }
    (status, out, body).into_response()
}

fn tampered(jwt: &str, how: Tamper, key_pem: &str) -> String {
    use base64::Engine;
    let parts: Vec<&str> = jwt.split('.').collect();
    if how == Tamper::BrokenSignature {
        let mut signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap();
        signature[10] ^= 0x01;
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
        return format!("{}.{}.{signature}", parts[0], parts[1]);
    }
    let mut claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    match how {
        Tamper::WrongAudience => claims["aud"] = "another-app".into(),
        Tamper::Expired => {
            claims["iat"] = (now - 7200).into();
            claims["exp"] = (now - 3600).into();
        }
        Tamper::Nothing | Tamper::BrokenSignature => unreachable!(),
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("test-key".to_owned());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_pem(key_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}
