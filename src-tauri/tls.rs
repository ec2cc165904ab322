//! Whom the app trusts over HTTPS.
//!
//! - **Desktop**: the operating system's own verifier
//!   (`rustls-platform-verifier`, reqwest's default): the system's roots,
//!   including a university's own CA an administrator installed.
//! - **Phones**: the Mozilla root set bundled in the app
//!   (`webpki-root-certs`), checked by rustls' WebPKI verifier. The
//!   platform verifier would need, on Android, its Kotlin component in the
//!   APK and a JNI initialisation from the app's context before the first
//!   request — without both, every HTTPS request fails. Bundled roots need
//!   neither and behave the same on Android and iOS. The price: a server
//!   whose certificate chains to a private CA is refused on phones (a
//!   university serves Legitka with a public certificate, as it does its
//!   USOSweb), and a root added or withdrawn reaches phones with an app
//!   update.

use reqwest::{Certificate, ClientBuilder};

/// The roots a client trusts.
#[derive(Clone, Debug)]
pub enum Roots {
    /// The operating system's verifier and store.
    System,
    /// The bundled Mozilla set, and these extra roots (DER; tests name
    /// their own CA here, taking the same path the phones take).
    Bundled { extra: Vec<Vec<u8>> },
}

/// What this build trusts.
pub fn for_this_platform() -> Roots {
    if cfg!(mobile) {
        Roots::Bundled { extra: Vec::new() }
    } else {
        Roots::System
    }
}

/// `builder` trusting `roots`.
pub fn trusting(builder: ClientBuilder, roots: &Roots) -> ClientBuilder {
    match roots {
        Roots::System => builder,
        Roots::Bundled { extra } => {
            let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|der| der.as_ref())
                .chain(extra.iter().map(Vec::as_slice))
                .filter_map(|der| Certificate::from_der(der).ok());
            builder.tls_certs_only(bundled)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Api;
    use legitka_wire::ErrorCode;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A test CA and an HTTPS server on loopback whose certificate (for
    /// `names`) that CA signed. Returns the server's address and the CA.
    async fn https_server(names: &[&str]) -> (String, Vec<u8>) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let leaf = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), ca.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let body = br#"{"answered":true}"#;
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = tls.write_all(head.as_bytes()).await;
                    let _ = tls.write_all(body).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        (format!("https://localhost:{port}"), ca.der().to_vec())
    }

    async fn ask(roots: Roots, server: &str) -> Result<serde_json::Value, ErrorCode> {
        Api::with_roots(&roots)
            .send::<serde_json::Value>(
                reqwest::Method::GET,
                server,
                "/university",
                None,
                None::<&()>,
                None,
            )
            .await
            .map_err(|e| e.code)
    }

    #[tokio::test]
    async fn the_phones_roots_accept_a_valid_chain_and_refuse_others() {
        let (server, ca) = https_server(&["localhost"]).await;
        // The phones' path: the bundled set does not know our test CA …
        let bundled = Roots::Bundled { extra: Vec::new() };
        assert_eq!(
            ask(bundled, &server).await.unwrap_err(),
            ErrorCode::ServerUnreachable
        );
        // … and, once the CA is among its roots, the same path accepts the chain.
        let with_ca = Roots::Bundled { extra: vec![ca] };
        assert_eq!(
            ask(with_ca.clone(), &server).await.unwrap()["answered"],
            true
        );
        // A chain from a known CA for another name is refused all the same.
        let (other, other_ca) = https_server(&["legitka.example.edu.pl"]).await;
        let knows_it = Roots::Bundled {
            extra: vec![other_ca],
        };
        assert_eq!(
            ask(knows_it, &other).await.unwrap_err(),
            ErrorCode::ServerUnreachable
        );
    }

    #[tokio::test]
    async fn the_desktop_verifier_refuses_an_unknown_ca() {
        let (server, _) = https_server(&["localhost"]).await;
        assert_eq!(
            ask(Roots::System, &server).await.unwrap_err(),
            ErrorCode::ServerUnreachable
        );
    }

    #[test]
    fn the_bundled_set_holds_the_roots_university_servers_use() {
        let subjects: Vec<String> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|der| String::from_utf8_lossy(der.as_ref()).into_owned())
            .collect();
        assert!(subjects.len() > 100, "{} roots", subjects.len());
        // Let's Encrypt (most university servers) and GEANT's TCS issuer, DigiCert.
        for name in ["ISRG Root X1", "DigiCert Global Root G2", "USERTrust RSA"] {
            assert!(subjects.iter().any(|s| s.contains(name)), "{name}");
        }
    }
}
