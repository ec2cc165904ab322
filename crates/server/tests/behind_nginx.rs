//! The server behind a real nginx (Debian's), configured from the sample
//! in `deploy/nginx-legitka.conf` with only its addresses and certificate
//! paths changed: TLS at nginx, the live stream unbuffered, rate limits
//! keyed on the client address nginx forwards (and only nginx), and the
//! pages' links from `public_url`, whatever Host a client sends.

mod common;

use common::{Db, spawn_app_with};
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Nginx {
    child: Child,
    /// `https://127.0.0.1:<port>`
    base: String,
    ca: reqwest::Certificate,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The shipped sample, made to run here: its addresses, its certificate,
/// no port-80 redirect (that needs the privileged port).
fn sample_for(upstream: u16, port: u16, cert: &str, key: &str) -> String {
    let sample = include_str!("../../../deploy/nginx-legitka.conf");
    let https = sample
        .split("\nserver {")
        .nth(1)
        .expect("the sample's HTTPS server block");
    let upstream_block = sample
        .split("\nserver {")
        .next()
        .unwrap()
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{upstream}"));
    let https = https
        .lines()
        .filter(|l| !l.contains("listen [::]"))
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("listen 443") {
                format!("    listen 127.0.0.1:{port} ssl http2;")
            } else if t.starts_with("ssl_certificate ") {
                format!("    ssl_certificate {cert};")
            } else if t.starts_with("ssl_certificate_key") {
                format!("    ssl_certificate_key {key};")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let https_block = https
        .rsplit_once("\n}")
        .map(|(body, _)| format!("server {{{body}\n}}"))
        .unwrap();
    format!("{upstream_block}\n{https_block}\n")
}

fn start_nginx(upstream: u16, port: u16) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(root.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(root.join("key.pem"), key.serialize_pem()).unwrap();
    let site = sample_for(
        upstream,
        port,
        &root.join("cert.pem").display().to_string(),
        &root.join("key.pem").display().to_string(),
    );
    for d in ["tmp", "logs"] {
        std::fs::create_dir(root.join(d)).unwrap();
    }
    let conf = format!(
        "worker_processes 1;\nerror_log {root}/logs/error.log warn;\npid {root}/nginx.pid;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log {root}/logs/access.log;\n\
           client_body_temp_path {root}/tmp/body;\n  proxy_temp_path {root}/tmp/proxy;\n\
           fastcgi_temp_path {root}/tmp/fcgi;\n  uwsgi_temp_path {root}/tmp/uwsgi;\n\
           scgi_temp_path {root}/tmp/scgi;\n\n{site}}}\n",
        root = root.display()
    );
    std::fs::write(root.join("nginx.conf"), &conf).unwrap();
    // nginx's workers run as `nobody` when started by root: let them in.
    let _ = Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(root)
        .status();
    let child = Command::new("/usr/sbin/nginx")
        .args(["-p", &root.display().to_string(), "-c"])
        .arg(root.join("nginx.conf"))
        .args(["-g", "daemon off; user root;"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("nginx (Debian's nginx package; scripts/install)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start:\n{conf}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Nginx {
        child,
        base: format!("https://127.0.0.1:{port}"),
        ca: reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap(),
        _dir: dir,
    }
}

impl Nginx {
    /// A client of nginx's, from its own loopback address.
    fn client(&self, from: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_certs_only([self.ca.clone()])
            .local_address(from.parse::<IpAddr>().unwrap())
            .build()
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn behind_nginx_the_stream_flows_limits_see_the_client_and_links_ignore_host() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Students reach the server at nginx's address: that is its public_url.
    let port = free_port();
    let public = format!("https://127.0.0.1:{port}");
    let app = spawn_app_with(Db::Sqlite, |s| {
        s.public_url = Some(public.clone());
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.rates.sign_in_per_address = 3;
        s.rates.sign_in_per_account = 100;
    })
    .await;
    let upstream: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    let nginx = start_nginx(upstream, port);

    // TLS at nginx; the request id nginx made reaches the server and back.
    let a = nginx.client("127.0.0.2");
    let r = a
        .get(format!("{}/health", nginx.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"].len(), 32, "nginx's $request_id");

    // The live stream flows through as it is written.
    let token = {
        let r = a
            .post(format!("{}/api/v1/session", nginx.base))
            .json(&serde_json::json!({"username": "anna", "password": "legitka"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    };
    let mut stream = a
        .get(format!("{}/api/v1/events", nginx.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    let read_until = async |stream: &mut reqwest::Response, seen: &mut String, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(3);
        while !seen.contains(what) {
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = tokio::time::timeout(left, stream.chunk())
                .await
                .unwrap_or_else(|_| panic!("{what} not through nginx in 3 s; saw {seen:?}"))
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    read_until(&mut stream, &mut seen, "event: hello").await;
    let r = a
        .post(format!("{}/api/v1/orders", nginx.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    read_until(&mut stream, &mut seen, "\"status\":\"pending\"").await;
    drop(stream);

    // Rate limits count the address nginx forwards: 127.0.0.2 runs out of
    // sign-ins (a forged X-Forwarded-For changes nothing: nginx replaces
    // it), 127.0.0.3 has its own.
    let wrong = |c: &reqwest::Client, forged: Option<&str>| {
        let mut req = c
            .post(format!("{}/api/v1/session", nginx.base))
            .json(&serde_json::json!({"username": "nobody", "password": "wrong"}));
        if let Some(f) = forged {
            req = req.header("x-forwarded-for", f);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // Anna's sign-in above was the first of 127.0.0.2's three.
    assert_eq!(wrong(&a, Some("198.51.100.1")).await, 401);
    assert_eq!(wrong(&a, Some("198.51.100.2")).await, 401);
    assert_eq!(wrong(&a, Some("198.51.100.3")).await, 429);
    let b = nginx.client("127.0.0.3");
    assert_eq!(
        wrong(&b, None).await,
        401,
        "another client has its own budget"
    );
    // Straight to the server from an untrusted address, the header is
    // ignored: it counts as that address.
    let direct = reqwest::Client::builder()
        .local_address("127.0.0.4".parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    for _ in 0..3 {
        let s = direct
            .post(app.url("/session"))
            .header("x-forwarded-for", "127.0.0.3")
            .json(&serde_json::json!({"username": "nobody", "password": "wrong"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(s, 401);
    }
    assert_eq!(
        wrong(&b, None).await,
        401,
        "127.0.0.4's tries were not 127.0.0.3's"
    );

    // The pages write their links from public_url, whatever Host says
    // (HTTP/1.1: over HTTP/2 nginx refuses a Host unlike the authority).
    let h1 = reqwest::Client::builder()
        .tls_certs_only([nginx.ca.clone()])
        .http1_only()
        .build()
        .unwrap();
    for path in ["/setup", "/pair"] {
        let page = h1
            .get(format!("{}{path}", nginx.base))
            .header("host", "evil.example")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains("evil.example"), "{path}: {page}");
        if path == "/setup" {
            let encoded: String = url::form_urlencoded::byte_serialize(public.as_bytes()).collect();
            assert!(
                page.contains(&public) || page.contains(&encoded),
                "the setup link names {public}: {page}"
            );
        }
    }
}
