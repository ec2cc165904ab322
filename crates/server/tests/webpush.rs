//! Web Push / UnifiedPush against the loopback push-service emulator: the
//! signal arrives encrypted for the subscription (RFC 8291) with a valid
//! VAPID signature (RFC 8292), once per change; Retry-After is honoured;
//! an expired subscription is forgotten; a server with the wrong VAPID key
//! sends nothing — on SQLite and PostgreSQL.

mod common;

use common::{Db, TestApp, drain, ec_pair, error_of, spawn_app_with};
use legitka_emulators::webpush::WebPushEmulator;
use legitka_server::crypto::Secret;
use legitka_server::push::Sender;
use legitka_server::push::dispatcher::{Dispatcher, ExecutionOutcome};
use legitka_server::push::webpush::{WebPushSender, WebPushSettings};
use legitka_wire::{ActivationData, ErrorCode, OrderStatus, PushPlatform};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

both!(
    a_subscription_gets_encrypted_signed_signals_once_and_never_a_code,
    retry_after_is_honoured_and_an_expired_subscription_is_forgotten,
    a_wrong_vapid_key_delivers_nothing,
    registration_refuses_what_is_not_a_usable_subscription,
    the_running_server_pushes_to_web_push_by_itself,
    endpoints_at_this_machine_or_a_private_network_are_refused,
    a_push_service_redirect_is_not_followed,
);

struct WebPush {
    app: TestApp,
    wp: Arc<WebPushEmulator>,
    dispatcher: Dispatcher,
    /// The key the subscriptions were made for (`applicationServerKey`).
    server_key: String,
}

fn settings(private_pem: String) -> WebPushSettings {
    WebPushSettings {
        private_key_pem: Secret::new(private_pem),
        contact: "mailto:it@uczelnia.example".into(),
        allow_http: true,
    }
}

/// The server is configured for Web Push; unless `serving`, its own
/// dispatcher stays off and the test drives one step by step.
async fn setup(db: Db, issuer_waits: bool, signing: Option<String>) -> WebPush {
    setup_with(db, issuer_waits, signing, false).await
}

async fn setup_with(db: Db, issuer_waits: bool, signing: Option<String>, serving: bool) -> WebPush {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (private, _) = ec_pair();
    let server_key = WebPushSender::new(settings(private.clone()))
        .public_key()
        .unwrap()
        .to_owned();
    let app = spawn_app_with(db, |s| {
        s.web_push = Some(settings(private.clone()));
        if !serving {
            s.push_workers = 0;
        }
    })
    .await;
    if issuer_waits {
        app.hold_issuer();
    }
    let wp = WebPushEmulator::start().await.unwrap();
    let sender: Arc<dyn Sender> =
        Arc::new(WebPushSender::new(settings(signing.unwrap_or(private))));
    let dispatcher = Dispatcher::new(
        app.state.db.clone(),
        Arc::new(app.clock.clone()),
        HashMap::from([(PushPlatform::WebPush, sender)]),
    );
    WebPush {
        app,
        wp,
        dispatcher,
        server_key,
    }
}

async fn register(
    app: &TestApp,
    token: &str,
    subscription: &str,
    locale: &str,
) -> reqwest::Response {
    app.post(token, "/devices")
        .json(&json!({"platform": "web_push", "token": subscription, "locale": locale}))
        .send()
        .await
        .unwrap()
}

async fn a_subscription_gets_encrypted_signed_signals_once_and_never_a_code(db: Db) {
    let p = setup(db, false, None).await;
    let token = p.app.sign_in("anna").await;
    let phone = p.wp.subscribe(&p.server_key);
    let laptop = p.wp.subscribe(&p.server_key);
    assert_eq!(register(&p.app, &token, &phone, "pl").await.status(), 204);
    assert_eq!(register(&p.app, &token, &laptop, "en").await.status(), 204);
    p.app.post(&token, "/orders").send().await.unwrap();
    p.app.wait_for(&token, OrderStatus::Ready).await;
    let codes: ActivationData = p
        .app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // "ready" superseded the two notices before it, unsent.
    assert_eq!(
        drain(&p.dispatcher).await,
        vec![ExecutionOutcome::Delivered; 2]
    );
    assert_eq!(drain(&p.dispatcher).await, [], "nothing is sent twice");
    let got = p.wp.received();
    let mut per_sub: HashMap<String, Vec<String>> = HashMap::new();
    for m in &got {
        per_sub
            .entry(m["subscription"].as_str().unwrap().to_owned())
            .or_default()
            .push(m["status"].as_str().unwrap().to_owned());
        for secret in [
            &codes.activation_code,
            &codes.manual_code,
            &codes.qr_payload,
        ] {
            assert!(!m.to_string().contains(secret.as_str()), "a code travelled");
        }
        assert!(m["notice_id"].is_string() && m["order_id"].is_string());
    }
    assert_eq!(per_sub.len(), 2);
    for statuses in per_sub.values_mut() {
        statuses.sort();
        assert_eq!(*statuses, ["ready"]);
    }
    let titles: Vec<&str> = got
        .iter()
        .filter(|m| m["status"] == "ready")
        .map(|m| m["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"mLegitymacja gotowa") && titles.contains(&"Your mLegitymacja is ready")
    );
}

async fn retry_after_is_honoured_and_an_expired_subscription_is_forgotten(db: Db) {
    let p = setup(db, true, None).await; // only the "pending" notice
    let token = p.app.sign_in("anna").await;
    let phone = p.wp.subscribe(&p.server_key);
    register(&p.app, &token, &phone, "pl").await;
    p.app.post(&token, "/orders").send().await.unwrap();
    p.wp.fail_next(503, Some(9));
    assert_eq!(
        p.dispatcher.try_execute_task().await.unwrap(),
        ExecutionOutcome::Retrying {
            next_attempt_at: common::START + 9_000
        }
    );
    p.app.clock.advance(8_999);
    assert_eq!(drain(&p.dispatcher).await, []);
    p.app.clock.advance(1);
    assert_eq!(drain(&p.dispatcher).await, [ExecutionOutcome::Delivered]);
    assert_eq!(p.wp.received().len(), 1);

    // The app was uninstalled: 410 Gone, and the device is forgotten.
    p.wp.unregister(&phone);
    p.app
        .post(&token, "/orders/current/cancel")
        .send()
        .await
        .unwrap();
    assert_eq!(drain(&p.dispatcher).await, [ExecutionOutcome::TokenDropped]);
    let devices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices")
        .fetch_one(&p.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(devices, 0);
}

async fn a_wrong_vapid_key_delivers_nothing(db: Db) {
    let (other, _) = ec_pair();
    let p = setup(db, true, Some(other)).await;
    let token = p.app.sign_in("anna").await;
    register(&p.app, &token, &p.wp.subscribe(&p.server_key), "pl").await;
    p.app.post(&token, "/orders").send().await.unwrap();
    // 403: the subscription belongs to another application server.
    assert_eq!(
        p.dispatcher.try_execute_task().await.unwrap(),
        ExecutionOutcome::DeadLettered
    );
    assert!(p.wp.received().is_empty());
}

async fn registration_refuses_what_is_not_a_usable_subscription(db: Db) {
    let p = setup(db, true, None).await;
    let token = p.app.sign_in("anna").await;
    let good: serde_json::Value = serde_json::from_str(&p.wp.subscribe(&p.server_key)).unwrap();
    let mut no_auth = good.clone();
    no_auth["keys"]["auth"] = json!("AAAA");
    let mut not_a_key = good.clone();
    not_a_key["keys"]["p256dh"] = json!("bm90LWEta2V5");
    let mut file_url = good.clone();
    file_url["endpoint"] = json!("file:///etc/passwd");
    for bad in [
        "fcm-style-token".to_owned(),
        no_auth.to_string(),
        not_a_key.to_string(),
        file_url.to_string(),
    ] {
        let (status, code) = error_of(register(&p.app, &token, &bad, "pl").await).await;
        assert_eq!(
            (status.as_u16(), code),
            (400, ErrorCode::BadRequest),
            "{bad}"
        );
    }
    let devices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices")
        .fetch_one(&p.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(devices, 0);
}

async fn the_running_server_pushes_to_web_push_by_itself(db: Db) {
    let p = setup_with(db, false, None, true).await;
    let token = p.app.sign_in("anna").await;
    register(&p.app, &token, &p.wp.subscribe(&p.server_key), "en").await;
    p.app.post(&token, "/orders").send().await.unwrap();
    p.app.wait_for(&token, OrderStatus::Ready).await;
    for _ in 0..400 {
        if p.wp.received().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut statuses: Vec<String> =
        p.wp.received()
            .iter()
            .map(|m| m["status"].as_str().unwrap().to_owned())
            .collect();
    statuses.sort();
    assert_eq!(statuses, ["in_progress", "pending", "ready"]);
}

async fn endpoints_at_this_machine_or_a_private_network_are_refused(db: Db) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (private, _) = ec_pair();
    let server_key = WebPushSender::new(settings(private.clone()))
        .public_key()
        .unwrap()
        .to_owned();
    // As in production: no loopback stand-in allowed.
    let app = spawn_app_with(db, |s| {
        s.web_push = Some(WebPushSettings {
            allow_http: false,
            ..settings(private)
        });
        s.push_workers = 0;
    })
    .await;
    let wp = WebPushEmulator::start().await.unwrap();
    let token = app.sign_in("anna").await;
    let good: serde_json::Value = serde_json::from_str(&wp.subscribe(&server_key)).unwrap();
    for endpoint in [
        "https://127.0.0.1:8443/wp/1",
        "https://localhost:8443/wp/1",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.7/wp/1",
        "https://192.168.1.1/wp/1",
        "https://[::1]/wp/1",
        "https://[::ffff:127.0.0.1]/wp/1",
        "https://[fd00::1]/wp/1",
        "https://0.0.0.0/wp/1",
    ] {
        let mut sub = good.clone();
        sub["endpoint"] = json!(endpoint);
        let r = register(&app, &token, &sub.to_string(), "pl").await;
        let (status, code) = error_of(r).await;
        assert_eq!(
            (status.as_u16(), code),
            (400, ErrorCode::BadRequest),
            "{endpoint}"
        );
    }
    let devices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(devices, 0);
}

/// A "push service" that answers every request with a redirect to `to`,
/// counting the requests it got.
async fn redirecting(to: String) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = format!("http://{}/wp/1", listener.local_addr().unwrap());
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let to = to.clone();
            tokio::spawn(async move {
                let mut buf = vec![0; 16 * 1024];
                let _ = conn.read(&mut buf).await;
                let answer = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    (at, hits)
}

async fn a_push_service_redirect_is_not_followed(db: Db) {
    let p = setup(db, true, None).await;
    let token = p.app.sign_in("anna").await;
    // Where a redirect would lead (say, an internal admin page).
    let inside = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let inside_url = format!("http://{}/admin", inside.local_addr().unwrap());
    let (endpoint, hits) = redirecting(inside_url).await;
    let mut sub: serde_json::Value = serde_json::from_str(&p.wp.subscribe(&p.server_key)).unwrap();
    sub["endpoint"] = json!(endpoint);
    assert_eq!(
        register(&p.app, &token, &sub.to_string(), "pl")
            .await
            .status(),
        204
    );
    p.app.post(&token, "/orders").send().await.unwrap();
    let outcome = p.dispatcher.try_execute_task().await.unwrap();
    assert_eq!(
        outcome,
        ExecutionOutcome::DeadLettered,
        "a 307 is a refusal"
    );
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Nothing ever connected to where the redirect pointed.
    let waited = tokio::time::timeout(Duration::from_millis(300), inside.accept()).await;
    assert!(waited.is_err(), "the redirect was followed");
}
