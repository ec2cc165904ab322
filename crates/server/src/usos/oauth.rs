//! OAuth 1.0a request signing (RFC 5849, HMAC-SHA1), as USOS API takes it:
//! the `oauth_*` parameters travel in the form body of a POST, beside the
//! method's own parameters, and are signed together with them.
//!
//! Written on `hmac` + `sha1` rather than a client crate: USOS adds its own
//! parameters (`scopes` on `request_token`) and the body must carry
//! everything, which is simplest with the signature base string in view.
//! A test checks our signatures with Python's oauthlib, an implementation
//! of its own, and with the RFC's worked example.

use crate::crypto::Secret;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha1::Sha1;

/// RFC 3986 unreserved characters stay; everything else is encoded
/// (RFC 5849 §3.6).
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

/// The university's consumer key for its USOS API installation.
#[derive(Clone, Debug)]
pub struct Consumer {
    pub key: String,
    pub secret: Secret<String>,
}

/// A request token or an access token with its secret.
#[derive(Clone, Debug)]
pub struct Token {
    pub key: String,
    pub secret: Secret<String>,
}

/// The base string: method, URL without its query, and every parameter
/// (the method's and the `oauth_*` ones) encoded, sorted and joined
/// (RFC 5849 §3.4.1).
pub fn base_string(method: &str, url: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "oauth_signature")
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    encoded.sort();
    let joined = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(url),
        encode(&joined)
    )
}

/// HMAC-SHA1 of the base string with `consumer_secret&token_secret`, base64.
pub fn hmac_sha1(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    use base64::Engine;
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// What makes a signature unique: fixed in tests, fresh otherwise.
pub struct Freshness {
    pub nonce: String,
    pub timestamp: u64,
}

impl Freshness {
    pub fn now() -> Self {
        use rand::Rng;
        let nonce: String = rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(24)
            .map(char::from)
            .collect();
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self { nonce, timestamp }
    }
}

/// The parameters of a signed request: `params` plus the `oauth_*` ones
/// (with `extra` such as `oauth_callback` or `oauth_verifier`) and the
/// signature, ready to be sent as a form body.
pub fn signed(
    method: &str,
    url: &str,
    params: &[(String, String)],
    consumer: &Consumer,
    token: Option<&Token>,
    extra: &[(&str, &str)],
    fresh: &Freshness,
) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = params.to_vec();
    let mut oauth = vec![
        ("oauth_consumer_key", consumer.key.clone()),
        ("oauth_nonce", fresh.nonce.clone()),
        ("oauth_signature_method", "HMAC-SHA1".to_owned()),
        ("oauth_timestamp", fresh.timestamp.to_string()),
        ("oauth_version", "1.0".to_owned()),
    ];
    if let Some(t) = token {
        oauth.push(("oauth_token", t.key.clone()));
    }
    oauth.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    all.extend(oauth.into_iter().map(|(k, v)| (k.to_owned(), v)));
    let base = base_string(method, url, &all);
    let signature = hmac_sha1(
        &base,
        consumer.secret.expose(),
        token.map_or("", |t| t.secret.expose().as_str()),
    );
    all.push(("oauth_signature".to_owned(), signature));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(encode("Ladies + Gentlemen"), "Ladies%20%2B%20Gentlemen");
        assert_eq!(encode("a-b.c_d~e"), "a-b.c_d~e");
        assert_eq!(encode("zażółć|x"), "za%C5%BC%C3%B3%C5%82%C4%87%7Cx");
    }

    /// RFC 5849 §3.4.1.1's worked example, base string and all.
    #[test]
    fn the_rfc_example_signs_as_the_rfc_says() {
        let params = pairs(&[
            ("b5", "=%3D"),
            ("a3", "a"),
            ("c@", ""),
            ("a2", "r b"),
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("c2", ""),
            ("a3", "2 q"),
        ]);
        assert_eq!(
            base_string("post", "http://example.com/request", &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
             %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_\
             key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m\
             ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk\
             9d7dh3k39sjv7"
        );
    }

    /// Debian's python3, where `python3-oauthlib` is installed.
    const PYTHON: &str = "/usr/bin/python3";

    /// Python's oauthlib signs the same request; both must agree. Skipped
    /// (and said so) only where oauthlib is missing: `scripts/install` puts it
    /// on every machine that runs the suite.
    #[test]
    fn oauthlib_computes_the_same_signatures() {
        let probe = std::process::Command::new(PYTHON)
            .args(["-c", "import oauthlib"])
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            assert!(
                std::env::var_os("LEGITKA_REQUIRE_OAUTHLIB").is_none(),
                "python3-oauthlib is missing"
            );
            eprintln!("python3-oauthlib missing: cross-check skipped");
            return;
        }
        let consumer = Consumer {
            key: "ck-Zażółć".into(),
            secret: Secret::new("cs&secret/+=".into()),
        };
        let token = Token {
            key: "tok 1".into(),
            secret: Secret::new("ts~!*'()".into()),
        };
        let fresh = Freshness {
            nonce: "n0nce".into(),
            timestamp: 1_800_000_000,
        };
        let url = "https://usos.example.edu.pl/services/cards/mcard_order";
        let params = pairs(&[
            ("order_id", "17|18"),
            ("fields", "id|status|token"),
            ("note", "gęś + jaźń"),
        ]);
        let ours = signed("POST", url, &params, &consumer, Some(&token), &[], &fresh);
        let body = ours
            .iter()
            .filter(|(k, _)| !k.starts_with("oauth_"))
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let script = r#"
import sys
from oauthlib.oauth1 import Client, SIGNATURE_TYPE_BODY
ck, cs, tk, ts, url, body = sys.argv[1:7]
c = Client(ck, client_secret=cs, resource_owner_key=tk, resource_owner_secret=ts,
           signature_type=SIGNATURE_TYPE_BODY, nonce="n0nce", timestamp="1800000000")
_, _, signed = c.sign(url, http_method="POST", body=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
from urllib.parse import parse_qsl
print(dict(parse_qsl(signed))["oauth_signature"])
"#;
        let out = std::process::Command::new(PYTHON)
            .args([
                "-c",
                script,
                &consumer.key,
                consumer.secret.expose(),
                &token.key,
                token.secret.expose(),
                url,
                &body,
            ])
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = String::from_utf8(out.stdout).unwrap();
        let sig = &ours.iter().find(|(k, _)| k == "oauth_signature").unwrap().1;
        assert_eq!(sig, theirs.trim());
    }
}
