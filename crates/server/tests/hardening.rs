//! What a flood of connections, slow clients, ended sessions and a stop
//! do to the server: it keeps answering, cuts off who hogs it, ends live
//! streams whose session or token ended, and stops within its bound.

mod common;

use common::{Db, spawn_app_with};
use legitka_server::clock::ManualClock;
use legitka_server::settings::Settings;
use legitka_server::startup::Application;
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

both!(a_live_stream_ends_with_its_session_and_with_its_token,);

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
    let ended = tokio::time::timeout(Duration::from_secs(3), stream.bytes()).await;
    assert!(ended.is_ok(), "the stream outlived its session");

    // The access token runs out: the stream ends (the app reconnects with
    // a fresh one).
    let token = app.sign_in("anna").await;
    let stream = app.get(&token, "/events").send().await.unwrap();
    app.clock.advance(3_000);
    let ended = tokio::time::timeout(Duration::from_secs(4), stream.bytes()).await;
    assert!(ended.is_ok(), "the stream outlived its token");
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
        let ended = tokio::time::timeout(Duration::from_secs(3), s.unwrap().bytes()).await;
        assert!(ended.is_ok(), "a live stream held the server open");
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
