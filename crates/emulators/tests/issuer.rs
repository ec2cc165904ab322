//! The issuer stand-in enforces the bridge contract and mObywatel's limits,
//! so a backend that breaks them fails its tests. Driven over HTTP, as the
//! backend drives it, with a small receiver of our own for its events.

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use legitka_emulators::issuer::{IssuerConfig, IssuerEmulator, MAX_WRONG_CODES};
use legitka_wire::bridge::{IssuedCodes, IssuerEvent, IssuerStatus};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "a-shared-secret-of-ours";

/// The events the stand-in posted, as a backend would receive them.
type Heard = Arc<Mutex<Vec<IssuerEvent>>>;

async fn receiver() -> (String, Heard) {
    let heard: Heard = Arc::default();
    let h = Arc::clone(&heard);
    let app = Router::new().route(
        "/events",
        post(move |headers: HeaderMap, body: String| {
            let h = Arc::clone(&h);
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
                if auth != Some(&format!("Bearer {SECRET}")) {
                    return StatusCode::UNAUTHORIZED;
                }
                h.lock().unwrap().push(serde_json::from_str(&body).unwrap());
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, heard)
}

async fn stand_in(dir: &tempfile::TempDir) -> Arc<IssuerEmulator> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    IssuerEmulator::start(IssuerConfig {
        secret: SECRET.into(),
        database_url: format!("sqlite://{}", dir.path().join("issuer.db").display()),
        accept_delay: Duration::from_millis(10),
        ready_delay: Duration::from_millis(10),
        clock: Arc::new(legitka_emulators::push::now_ms),
    })
    .await
    .unwrap()
}

fn submit(order_id: &str, callback: &str) -> Value {
    json!({
        "order_id": order_id, "kind": "new", "callback_url": callback,
        "card": {
            "first_name": "Anna", "last_name": "Nowak", "birth_date": "2002-03-04",
            "pesel": "02230412345", "card_number": "100200", "els_number": null,
            "issued_on": "2026-10-01", "valid_until": "2027-03-31",
            "university": "U", "photo_jpeg_base64": null
        }
    })
}

async fn command(
    issuer: &IssuerEmulator,
    path: &str,
    secret: &str,
    key: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut r = reqwest::Client::new()
        .post(format!("{}{path}", issuer.base_url))
        .bearer_auth(secret)
        .json(body);
    if let Some(k) = key {
        r = r.header("idempotency-key", k);
    }
    let r = r.send().await.unwrap();
    let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
    (status, r.json().await.unwrap_or_default())
}

async fn wait_for(heard: &Heard, n: usize) -> Vec<IssuerEvent> {
    for _ in 0..300 {
        let got = heard.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("fewer than {n} events: {:?}", heard.lock().unwrap());
}

#[tokio::test]
async fn commands_keep_to_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = stand_in(&dir).await;
    let (callback, heard) = receiver().await;
    let order = submit("o1", &callback);
    let path = "/bridge/v1/orders";

    let (s, e) = command(&issuer, path, "wrong-secret-wrong", Some("k1"), &order).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (s, _) = command(&issuer, path, SECRET, None, &order).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "no Idempotency-Key");
    let mut bad = order.clone();
    bad["card"]["pesel"] = json!("123");
    let (s, _) = command(&issuer, path, SECRET, Some("k0"), &bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a PESEL of 3 digits");

    let (s, first) = command(&issuer, path, SECRET, Some("k1"), &order).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    // A repeat gets the first answer and is not taken twice …
    let (s, again) = command(&issuer, path, SECRET, Some("k1"), &order).await;
    assert_eq!((s, again), (StatusCode::ACCEPTED, first));
    assert_eq!(issuer.submits("o1").await.unwrap(), 1);
    // … and the same key with another command is refused.
    let other = submit("o2", &callback);
    let (s, e) = command(&issuer, path, SECRET, Some("k1"), &other).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("idempotency_conflict")
        )
    );

    // In progress, then ready with the codes, in that order.
    let events = wait_for(&heard, 2).await;
    assert_eq!(events[0].status, IssuerStatus::InProgress);
    assert_eq!(events[1].status, IssuerStatus::Ready);
    assert!(events[1].activation.is_some());
}

#[tokio::test]
async fn invalidation_is_final_and_voids_the_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, _, codes) = ready_order(&dir).await;
    let callback = "http://127.0.0.1:9/events";
    let void = json!({"reason": "lost_phone"});
    let (s, e) = command(
        &issuer,
        "/bridge/v1/orders/o1/invalidate",
        SECRET,
        Some("b"),
        &void,
    )
    .await;
    assert_eq!(
        (s, e["state"].as_str()),
        (StatusCode::OK, Some("invalidated"))
    );
    let r = legitka_emulators_activate(&issuer, &codes.manual_code, &codes.activation_code).await;
    assert_eq!(r, (StatusCode::GONE, "card_voided".to_owned()));

    // An invalidation that overtakes its submit: the submit is refused.
    command(
        &issuer,
        "/bridge/v1/orders/o2/invalidate",
        SECRET,
        Some("c"),
        &void,
    )
    .await;
    let (s, e) = command(
        &issuer,
        "/bridge/v1/orders",
        SECRET,
        Some("d"),
        &submit("o2", callback),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalidated"))
    );
    assert_eq!(issuer.submits("o2").await.unwrap(), 0);
}

async fn legitka_emulators_activate(
    issuer: &IssuerEmulator,
    manual: &str,
    code: &str,
) -> (StatusCode, String) {
    let r = reqwest::Client::new()
        .post(format!("{}/mobywatel/activate", issuer.base_url))
        .json(&json!({"manual_code": manual, "activation_code": code}))
        .send()
        .await
        .unwrap();
    let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
    let body: Value = r.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or("").to_owned())
}

/// A stand-in with order `o1` submitted and ready: its events and codes.
async fn ready_order(dir: &tempfile::TempDir) -> (Arc<IssuerEmulator>, Heard, IssuedCodes) {
    let issuer = stand_in(dir).await;
    let (callback, heard) = receiver().await;
    let order = submit("o1", &callback);
    let (s, _) = command(&issuer, "/bridge/v1/orders", SECRET, Some("a"), &order).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let codes = wait_for(&heard, 2).await[1].activation.clone().unwrap();
    (issuer, heard, codes)
}

#[tokio::test]
async fn a_code_typed_wrong_five_times_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, _, codes) = ready_order(&dir).await;
    let wrong = if codes.activation_code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for _ in 0..MAX_WRONG_CODES {
        let r = legitka_emulators_activate(&issuer, &codes.manual_code, wrong).await;
        assert_eq!(
            r,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_activation_code".to_owned()
            )
        );
    }
    // Now even the right code is refused: no guessing 10^8 codes.
    let r = legitka_emulators_activate(&issuer, &codes.manual_code, &codes.activation_code).await;
    assert_eq!(
        r,
        (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts".to_owned()
        )
    );
}

#[tokio::test]
async fn the_right_code_activates_once_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, heard, codes) = ready_order(&dir).await;
    let typed = codes.manual_code.replace('-', " ").to_lowercase();
    let r = legitka_emulators_activate(&issuer, &typed, &codes.activation_code).await;
    assert_eq!(r.0, StatusCode::OK);
    let r = legitka_emulators_activate(&issuer, &codes.manual_code, &codes.activation_code).await;
    assert_eq!(r, (StatusCode::CONFLICT, "already_activated".to_owned()));
    assert_eq!(wait_for(&heard, 3).await[2].status, IssuerStatus::Received);
    // Nothing of the codes is kept in the clear.
    let raw = std::fs::read(dir.path().join("issuer.db")).unwrap();
    let wal = std::fs::read(dir.path().join("issuer.db-wal")).unwrap_or_default();
    for file in [raw, wal] {
        let text = String::from_utf8_lossy(&file);
        assert!(!text.contains(&codes.qr_payload) && !text.contains(&codes.manual_code));
        assert!(!text.contains("02230412345"), "the PESEL in the clear");
    }
}
