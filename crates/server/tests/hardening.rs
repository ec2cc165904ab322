//! What a flood of connections, slow clients, ended sessions and a stop
//! do to the server: it keeps answering, cuts off who hogs it, ends live
//! streams whose session or token ended, and stops within its bound.

mod common;

use common::{Db, error_of, spawn_app, spawn_app_with};
use legitka_server::clock::ManualClock;
use legitka_server::settings::Settings;
use legitka_server::startup::Application;
use legitka_wire::ErrorCode;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

both!(
    a_live_stream_ends_with_its_session_and_with_its_token,
    nul_characters_are_refused_before_the_database,
    every_refusal_is_in_the_error_shape,
    a_flood_of_sign_ins_is_answered_not_queued_without_end,
    the_pages_name_their_university_and_refuse_framing_and_cross_site_posts,
    forwarded_addresses_count_only_from_a_trusted_proxy,
    a_student_beyond_the_stream_cap_loses_their_oldest_stream,
);

/// The `/pair` form posted as a browser posts it, from `origin` if given.
async fn post_pair(app: &common::TestApp, body: &str, origin: Option<&str>) -> reqwest::Response {
    let mut post = app
        .http
        .post(format!("{}/pair", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(origin) = origin {
        post = post.header("origin", origin);
    }
    post.send().await.unwrap()
}

/// Reads from `conn` until the server closes it; `false` if it is still
/// open after `within`.
async fn closed_within(conn: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_idle_and_slow_clients_is_cut_off_and_students_still_get_answers() {
    // This process is client and server: room for both ends.
    legitka_server::serve::fit_connections(usize::MAX);
    let app = spawn_app_with(Db::Sqlite, |s| {
        s.header_read_timeout = Duration::from_secs(2);
        s.body_read_timeout = Duration::from_secs(2);
    })
    .await;
    let token = app.sign_in("anna").await;
    let addr = app.base.trim_start_matches("http://").to_owned();

    // 1,100 connections that say nothing (more than the usual 1,024 files),
    // 20 that send half their headers, 5 that announce a body and send none.
    let mut idle = Vec::new();
    for _ in 0..1_100 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    let mut slow_headers = Vec::new();
    for _ in 0..20 {
        let mut c = TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow_headers.push(c);
    }
    let mut slow_bodies = Vec::new();
    for _ in 0..5 {
        let mut c = TcpStream::connect(&addr).await.unwrap();
        c.write_all(
            b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 1000000\r\n\r\n{\"username\":",
        )
        .await
        .unwrap();
        slow_bodies.push(c);
    }

    // Meanwhile the server answers: health, and a student's status read.
    let started = Instant::now();
    let health = reqwest::get(format!("{}/health", app.base)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let me = app.get(&token, "/me").send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // The slow bodies get an answer (in the error shape), not silence.
    for c in &mut slow_bodies {
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(6), c.read_to_end(&mut answer)).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 4"), "{text}");
        assert!(text.contains("\"code\""), "{text}");
    }
    // The idle and the slow-header connections are closed by the server.
    for c in &mut slow_headers {
        assert!(
            closed_within(c, Duration::from_secs(6)).await,
            "a connection that sent half its headers stayed open"
        );
    }
    for c in idle.iter_mut().step_by(50) {
        assert!(
            closed_within(c, Duration::from_secs(6)).await,
            "a connection that sent nothing stayed open"
        );
    }
}

async fn a_live_stream_ends_with_its_session_and_with_its_token(db: Db) {
    let app = spawn_app_with(db, |s| s.access_ttl = Duration::from_secs(2)).await;
    // Signed out: the stream ends at once.
    let token = app.sign_in("anna").await;
    let stream = app.get(&token, "/events").send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let sign_out = app
        .http
        .delete(app.url("/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(sign_out.status().is_success());
    let ended = tokio::time::timeout(Duration::from_secs(3), stream.text()).await;
    let text = ended.expect("the stream outlived its session").unwrap();
    assert!(text.ends_with("event: ended\ndata: session\n\n"), "{text}");

    // The access token runs out: the stream ends (the app reconnects with
    // a fresh one).
    let token = app.sign_in("anna").await;
    let stream = app.get(&token, "/events").send().await.unwrap();
    app.clock.advance(3_000);
    let ended = tokio::time::timeout(Duration::from_secs(4), stream.text()).await;
    let text = ended.expect("the stream outlived its token").unwrap();
    assert!(text.ends_with("event: ended\ndata: token\n\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_ends_live_streams_and_drains_within_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(Db::Sqlite, &dir).await;
    let mut settings = Settings::for_tests(url);
    settings.shutdown_drain = Duration::from_secs(2);
    let clock = ManualClock::new(common::START);
    let app = Application::build_with_clock(settings, Arc::new(clock.clone()))
        .await
        .unwrap();
    legitka_server::demo::seed(app.state()).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let signed: serde_json::Value = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "anna", "password": "legitka"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed["access_token"].as_str().unwrap();
    let streams: Vec<_> = futures_util::future::join_all((0..3).map(|_| {
        http.get(format!("{base}/api/v1/events"))
            .bearer_auth(token)
            .send()
    }))
    .await;
    let at = Instant::now();
    stop.send(()).unwrap();
    for s in streams {
        let ended = tokio::time::timeout(Duration::from_secs(3), s.unwrap().text()).await;
        let text = ended.expect("a live stream held the server open").unwrap();
        assert!(text.ends_with("event: ended\ndata: stopping\n\n"), "{text}");
    }
    tokio::time::timeout(Duration::from_secs(4), server)
        .await
        .expect("the server stopped within its drain")
        .unwrap()
        .unwrap();
    assert!(at.elapsed() < Duration::from_secs(4));
    assert!(
        reqwest::get(format!("{base}/health")).await.is_err(),
        "still listening"
    );
}

async fn nul_characters_are_refused_before_the_database(db: Db) {
    let app = spawn_app(db).await;
    // JSON: a username, a pairing code, a push token.
    for (path, body) in [
        (
            "/session",
            json!({"username": "an\u{0}na", "password": "legitka"}),
        ),
        ("/session/pair", json!({"code": "AB\u{0}CD"})),
        ("/session/refresh", json!({"refresh_token": "x\u{0}y"})),
    ] {
        let r = app
            .http
            .post(app.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(r).await,
            (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            "{path}"
        );
    }
    let token = app.sign_in("anna").await;
    let r = app
        .post(&token, "/devices")
        .json(&json!({"platform": "fcm", "token": "t\u{0}k", "locale": "pl"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::BAD_REQUEST);
    // A path id.
    let r = app
        .get(&token, "/orders/ab%00cd/timeline")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
    // The pairing page's form: the page again, with a sentence.
    let r = post_pair(&app, "username=an%00na&password=legitka", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("Wrong username or password"), "{page}");
}

async fn every_refusal_is_in_the_error_shape(db: Db) {
    let app = spawn_app(db).await;
    let api = |p: &str| app.url(p);
    // A method the endpoint does not take.
    let r = app.http.get(api("/session")).send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed)
    );
    // Not JSON.
    let r = app
        .http
        .post(api("/session"))
        .header("content-type", "text/plain")
        .body("username=anna")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType
        )
    );
    // Too large.
    let big = format!(
        "{{\"username\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(3 << 20)
    );
    let r = app
        .http
        .post(api("/session"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge)
    );
    // Broken JSON, and JSON of the wrong shape.
    for body in [
        "{\"username\": ",
        "{\"username\": 7, \"password\": []}",
        "[]",
    ] {
        let r = app
            .http
            .post(api("/session"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(r).await,
            (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            "{body}"
        );
    }
    // The pages' forms, posted wrong: a page, not framework text.
    for page in ["/pair", "/show"] {
        let r = app
            .http
            .post(format!("{}{page}", app.base))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{page}");
        let text = r.text().await.unwrap();
        assert!(
            text.to_lowercase().starts_with("<!doctype html>"),
            "{page}: {text}"
        );
    }
    // The pages' links name the configured address, never the Host header.
    let r = app
        .http
        .get(format!("{}/setup", app.base))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(!text.contains("evil.example"), "{text}");
}

async fn a_flood_of_sign_ins_is_answered_not_queued_without_end(db: Db) {
    let app = spawn_app(db).await;
    let started = Instant::now();
    let answers = futures_util::future::join_all((0..120).map(|i| {
        app.http
            .post(app.url("/session"))
            .header("x-test", i.to_string())
            .json(&json!({"username": format!("nobody{i}"), "password": "wrong"}))
            .send()
    }))
    .await;
    for r in answers {
        let r = r.unwrap();
        let retry = r.headers().get("retry-after").cloned();
        let (status, code) = error_of(r).await;
        match code {
            ErrorCode::InvalidCredentials | ErrorCode::RateLimited => {}
            ErrorCode::Busy => {
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
                assert!(retry.is_some(), "busy says when to come back");
            }
            other => panic!("{status} {other:?}"),
        }
    }
    assert!(started.elapsed() < Duration::from_secs(30));
}

async fn the_pages_name_their_university_and_refuse_framing_and_cross_site_posts(db: Db) {
    let app = spawn_app(db).await;
    for page in ["/pair", "/setup", "/show"] {
        let r = reqwest::get(format!("{}{page}", app.base)).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{page}");
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
    }
    let pair = reqwest::get(format!("{}/pair", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(pair.contains("Uniwersytet Testowy"), "{pair}");
    // Another site's page posting the student's credentials here.
    let credentials = "username=anna&password=legitka";
    let page = post_pair(&app, credentials, Some("https://evil.example"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Open this page directly"), "{page}");
    assert!(!page.contains("pairing-code"), "{page}");
    // From the page itself: the code.
    let page = post_pair(&app, credentials, Some(&app.base))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Open this page directly"), "{page}");
    // Whatever a page prints is escaped (a name with markup stays text).
    let app = spawn_app_with(db, |s| {
        s.university_name = "Uczelnia <script>alert(1)</script> & \"Co\"".into();
    })
    .await;
    for page in ["/pair", "/setup"] {
        let text = reqwest::get(format!("{}{page}", app.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains("<script>"), "{page}: {text}");
        assert!(
            text.contains("Uczelnia &lt;script&gt;alert(1)&lt;/script&gt; &amp;"),
            "{page}: {text}"
        );
    }
}

async fn forwarded_addresses_count_only_from_a_trusted_proxy(db: Db) {
    let sign_in = async |app: &common::TestApp, from: &str| {
        app.http
            .post(app.url("/session"))
            .header("x-forwarded-for", from)
            .json(&json!({"username": "nobody", "password": "wrong"}))
            .send()
            .await
            .unwrap()
            .status()
    };
    // Behind a trusted proxy (this test is the proxy): each student's own
    // address has its own budget, 3 a minute here.
    let app = spawn_app_with(db, |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.rates.sign_in_per_address = 3;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(sign_in(&app, "203.0.113.1").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        sign_in(&app, "203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(sign_in(&app, "203.0.113.2").await, StatusCode::UNAUTHORIZED);
    // Without trusting it, the header is the client's word and ignored:
    // every request counts against the one connection address.
    let app = spawn_app_with(db, |s| s.rates.sign_in_per_address = 3).await;
    for i in 0..3 {
        assert_eq!(
            sign_in(&app, &format!("203.0.113.{i}")).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in(&app, "203.0.113.9").await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // A stranger guessing at Anna's password from one address runs out;
    // Anna, from her own, still signs in.
    let app = spawn_app_with(db, |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.rates.sign_in_per_account = 2;
    })
    .await;
    let attempt = async |from: &str, password: &str| {
        app.http
            .post(app.url("/session"))
            .header("x-forwarded-for", from)
            .json(&json!({"username": "anna", "password": password}))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(
        attempt("198.51.100.66", "guess1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("198.51.100.66", "guess2").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("198.51.100.66", "guess3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(attempt("203.0.113.10", "legitka").await, StatusCode::OK);
}

async fn a_student_beyond_the_stream_cap_loses_their_oldest_stream(db: Db) {
    let app = spawn_app(db).await;
    let token = app.sign_in("anna").await;
    let cap = legitka_server::feed::MAX_STREAMS_PER_STUDENT;
    let mut streams = Vec::new();
    for _ in 0..cap {
        streams.push(app.get(&token, "/events").send().await.unwrap());
    }
    let anna: String = sqlx::query_scalar("SELECT id FROM students WHERE username = 'anna'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(app.state.streams.count(&anna), cap);
    let newest = app.get(&token, "/events").send().await.unwrap();
    assert_eq!(newest.status(), StatusCode::OK);
    let oldest = streams.remove(0);
    let text = tokio::time::timeout(Duration::from_secs(3), oldest.text())
        .await
        .expect("the oldest stream ended")
        .unwrap();
    assert!(text.ends_with("event: ended\ndata: replaced\n\n"), "{text}");
}

/// The real binary, stopped as systemd stops it (SIGTERM) with live
/// streams open: the streams hear why, and the process exits within its
/// drain.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_stops_the_binary_with_streams_open_within_its_drain() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bridge.secret"), "s".repeat(64)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_legitka-server"))
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .env(
            "APP_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("s.db").display()),
        )
        // Nothing listens there: the stop does not wait on the issuer.
        .env("APP_ISSUER_URL", "http://127.0.0.1:9")
        .env("APP_ISSUER_SECRET_FILE", dir.path().join("bridge.secret"))
        .env("APP_SHUTDOWN_DRAIN_SECS", "3")
        .env("APP_METRICS_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/health")).await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let http = reqwest::Client::new();
    let signed: serde_json::Value = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": "anna", "password": "legitka"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed["access_token"].as_str().unwrap().to_owned();
    let stream = http
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let at = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let text = tokio::time::timeout(Duration::from_secs(3), stream.text())
        .await
        .expect("the stream held the stop")
        .unwrap();
    assert!(text.ends_with("event: ended\ndata: stopping\n\n"), "{text}");
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            at.elapsed() < Duration::from_secs(6),
            "still running after the drain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
