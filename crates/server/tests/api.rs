//! The server through its public surface: real HTTP on loopback, a fresh
//! database per test (SQLite and PostgreSQL), the issuer emulator with short delays.

mod common;

use common::{Db, error_of, spawn_app, spawn_app_with};
use futures_util::StreamExt;
use legitka_server::clock::DAY_MS;
use legitka_wire::{ActivationData, CheckCode, ErrorCode, OrderStatus, OrderView, StatusEvent};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

both!(
    wrong_password_and_unknown_user_are_the_same_401,
    bad_input_gets_4xx_in_the_error_shape,
    ineligible_students_see_why_and_cannot_order,
    order_to_received_with_live_events_and_three_reveals,
    concurrent_reveals_spend_exactly_three,
    identical_orders_with_one_idempotency_key_make_one_order,
    signing_out_ends_the_session,
    the_card_preview_shows_the_registrys_photo_to_its_student_only,
    a_reveal_that_cannot_open_the_codes_spends_no_view,
);

async fn wrong_password_and_unknown_user_are_the_same_401(db: Db) {
    let app = spawn_app(db).await;
    for (user, pass) in [("anna", "nope"), ("nobody", "legitka")] {
        let r = app
            .http
            .post(app.url("/session"))
            .json(&json!({"username": user, "password": pass}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(r).await,
            (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
        );
    }
}

async fn bad_input_gets_4xx_in_the_error_shape(db: Db) {
    let app = spawn_app(db).await;
    let r = app
        .http
        .post(app.url("/session"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
    );
    let r = app.http.get(app.url("/me")).send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    let r = app.post("not-a-token", "/orders").send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    let r = app
        .http
        .get(format!("{}/nowhere", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
}

async fn ineligible_students_see_why_and_cannot_order(db: Db) {
    let app = spawn_app(db).await;
    for (user, failed) in [
        ("bartek", CheckCode::ElsValid),
        ("celina", CheckCode::HasPhoto),
        ("dawid", CheckCode::ActiveStudent),
        ("ewa", CheckCode::StudyLevel),
    ] {
        let token = app.sign_in(user).await;
        let state = app.me(&token).await;
        assert!(!state.eligible, "{user}");
        let failing: Vec<_> = state
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.code)
            .collect();
        assert_eq!(failing, vec![failed], "{user}");
        let r = app.post(&token, "/orders").send().await.unwrap();
        assert_eq!(
            error_of(r).await,
            (StatusCode::FORBIDDEN, ErrorCode::NotEligible)
        );
    }
    let anna = app.sign_in("anna").await;
    let me = app.me(&anna).await;
    assert!(me.eligible);
    // What her card will show, to check before ordering; the PESEL masked.
    let card = me.card.expect("a preview of the card");
    assert_eq!(
        (card.first_name.as_str(), card.last_name.as_str()),
        ("Anna", "Nowak")
    );
    assert_eq!(card.birth_date.as_deref(), Some("2000-01-08"));
    let masked = card.pesel_masked.unwrap();
    assert!(
        masked.starts_with("*********") && masked.len() == 11,
        "{masked}"
    );
    assert_eq!(card.album_number.as_deref(), Some("100200"));
    assert_eq!(card.els_number.as_deref(), Some("ELS/100200"));
    assert_eq!(card.valid_until, Some(common::START + 120 * DAY_MS));
    assert_eq!(card.university, "Uniwersytet Testowy");
    assert!(card.has_photo);
}

async fn order_to_received_with_live_events_and_three_reveals(db: Db) {
    let app = spawn_app(db).await;
    let token = app.sign_in("anna").await;
    let events = app
        .http
        .get(app.url("/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let mut events = eventsource_stream::EventStream::new(events.bytes_stream());
    assert_eq!(events.next().await.unwrap().unwrap().event, "hello");

    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let order: OrderView = r.json().await.unwrap();
    assert_eq!(order.status, OrderStatus::Pending);

    // The stream tells every step, without polling.
    let mut seen = vec![];
    while seen.last() != Some(&OrderStatus::Ready) {
        let ev = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("a status event in time")
            .unwrap()
            .unwrap();
        assert_eq!(ev.event, "status");
        let ev: StatusEvent = serde_json::from_str(&ev.data).unwrap();
        assert_eq!(ev.order.id, order.id);
        seen.push(ev.order.status);
    }
    assert_eq!(
        seen,
        [
            OrderStatus::Pending,
            OrderStatus::InProgress,
            OrderStatus::Ready
        ]
    );

    // A second order while one is open is refused.
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, ErrorCode::OrderExists)
    );

    let mut revealed = vec![];
    for left in [2, 1, 0] {
        let r = app
            .post(&token, "/orders/current/reveal")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let data: ActivationData = r.json().await.unwrap();
        assert_eq!(data.reveals_left, left);
        revealed.push(data);
    }
    assert!(revealed.windows(2).all(|w| w[0]
        == ActivationData {
            reveals_left: w[0].reveals_left,
            ..w[1].clone()
        }));
    let r = app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::GONE, ErrorCode::RevealLimitReached)
    );

    let data = &revealed[0];
    // mObywatel refuses a wrong activation code and an unknown QR payload …
    let wrong = if data.activation_code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    let r = app
        .activate(json!({"qr_payload": data.qr_payload, "activation_code": wrong}))
        .await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidActivationCode
        )
    );
    let r = app
        .activate(json!({"qr_payload": "MLEG1.ffff", "activation_code": data.activation_code}))
        .await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidActivationCode
        )
    );
    assert_eq!(
        app.me(&token).await.order.unwrap().status,
        OrderStatus::Ready
    );

    // … accepts the manual code typed loosely, once.
    let typed = data.manual_code.replace('-', " ").to_lowercase();
    let r = app
        .activate(json!({"manual_code": typed, "activation_code": data.activation_code}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .activate(json!({"qr_payload": data.qr_payload, "activation_code": data.activation_code}))
        .await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, ErrorCode::AlreadyActivated)
    );
    let order = app.wait_for(&token, OrderStatus::Received).await;
    assert_eq!(order.reveals_left, 0);
}

async fn concurrent_reveals_spend_exactly_three(db: Db) {
    // All 200 must race at the database, not stop at the rate limiter.
    let app = spawn_app_with(db, |s| {
        s.rates.reveal_per_account = 1000;
        s.rates.reveal_per_address = 1000;
    })
    .await;
    let token = app.sign_in("anna").await;
    app.post(&token, "/orders").send().await.unwrap();
    app.wait_for(&token, OrderStatus::Ready).await;
    let tries = (0..200).map(|_| {
        let req = app.post(&token, "/orders/current/reveal");
        async move { req.send().await.unwrap().status() }
    });
    let statuses = futures_util::future::join_all(tries).await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 3, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::GONE)
    );
}

async fn identical_orders_with_one_idempotency_key_make_one_order(db: Db) {
    let app = spawn_app(db).await;
    let token = app.sign_in("anna").await;
    let tries = (0..50).map(|_| {
        let req = app
            .post(&token, "/orders")
            .header("Idempotency-Key", "tap-1");
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            let order: OrderView =
                serde_json::from_str(&body).unwrap_or_else(|e| panic!("{status}: {body} ({e})"));
            (status, order.id)
        }
    });
    let results = futures_util::future::join_all(tries).await;
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1);
    assert!(results.iter().all(|(_, id)| *id == results[0].1));
    assert!(results.iter().all(|(s, _)| s.is_success()));
}

async fn signing_out_ends_the_session(db: Db) {
    let app = spawn_app(db).await;
    let token = app.sign_in("anna").await;
    let r = app
        .http
        .delete(app.url("/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .http
        .get(app.url("/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
}

/// The issuer-bridge contract is checked in as `docs/issuer-bridge.openapi.json`
/// (regenerate with `cargo run -p legitka-server -- openapi --bridge`), and
/// the university API's document has no stand-in or bridge operation.
#[test]
fn the_bridge_contract_is_checked_in_and_apart_from_the_api() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/issuer-bridge.openapi.json"
    );
    let checked_in = std::fs::read_to_string(path).expect("docs/issuer-bridge.openapi.json exists");
    assert_eq!(
        legitka_server::issuer::contract::openapi_json(),
        checked_in,
        "docs/issuer-bridge.openapi.json is stale: regenerate it"
    );
    let bridge: serde_json::Value = serde_json::from_str(&checked_in).unwrap();
    for path in [
        "/bridge/v1/orders",
        "/bridge/v1/orders/{order_id}/invalidate",
        "/issuer/v1/events",
    ] {
        assert!(
            bridge["paths"][path].is_object(),
            "{path} missing from the contract"
        );
    }
    let api = legitka_server::routes::ApiDoc::openapi_value();
    for path in api["paths"].as_object().unwrap().keys() {
        assert!(path.starts_with("/api/v1/"), "{path} in the university API");
    }
}

/// The served document is the checked-in one; regenerate with
/// `cargo run -p legitka-server -- openapi > docs/openapi.json`.
#[tokio::test]
async fn the_openapi_document_is_served_and_checked_in() {
    let app = spawn_app(Db::Sqlite).await;
    let served: serde_json::Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let checked_in = std::fs::read_to_string(path).expect("docs/openapi.json exists");
    assert_eq!(
        legitka_server::routes::openapi_json(),
        checked_in,
        "docs/openapi.json is stale: regenerate it"
    );
    assert_eq!(
        served,
        serde_json::from_str::<serde_json::Value>(&checked_in).unwrap()
    );
    // The document names exactly the paths the wire crate gives the shell.
    let mut documented: Vec<String> = served["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut shared: Vec<String> = legitka_wire::paths::OPERATIONS
        .iter()
        .map(|p| format!("{}{p}", legitka_wire::API_PREFIX))
        .collect();
    documented.sort();
    shared.sort();
    assert_eq!(documented, shared);
    // OpenAPI requires a description on every response.
    for (path, item) in served["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let d = response["description"].as_str().unwrap_or_default();
                assert!(!d.is_empty(), "{method} {path} {status} has no description");
            }
        }
    }
}

/// Every documented operation, fed bad input — no token, a wrong token,
/// broken JSON, JSON of the wrong shape, an empty body, an unknown id —
/// answers 4xx in the API's error shape, never 5xx.
#[tokio::test]
async fn bad_input_to_every_documented_operation_is_a_4xx() {
    let app = spawn_app(Db::Sqlite).await;
    let token = app.sign_in("anna").await;
    let doc = legitka_server::routes::ApiDoc::openapi_value();
    let bodies: [(&str, Option<&str>); 5] = [
        ("none", None),
        ("broken", Some("{\"username\": ")),
        ("wrong shape", Some("[1, 2, 3]")),
        (
            "wrong types",
            Some("{\"username\": 5, \"code\": [], \"refresh_token\": {}}"),
        ),
        (
            "huge string",
            Some(
                "{\"code\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
            ),
        ),
    ];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let url = format!("{}{}", app.base, path.replace("{id}", "no-such-order"));
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for auth in [None, Some("not-a-token"), Some(token.as_str())] {
                for (what, body) in bodies {
                    let mut req = app.http.request(method.clone(), &url);
                    if let Some(t) = auth {
                        req = req.bearer_auth(t);
                    }
                    if let Some(b) = body {
                        req = req.header("content-type", "application/json").body(b);
                    }
                    let r = req.send().await.unwrap();
                    let status = r.status();
                    assert!(
                        !status.is_server_error(),
                        "{method} {path} ({what}, auth {auth:?}): {status}"
                    );
                    if status.is_client_error() {
                        let e: Result<legitka_wire::ApiError, _> = r.json().await;
                        assert!(e.is_ok(), "{method} {path} ({what}): not the error shape");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 14 * 15, "{checked}");
}

async fn the_card_preview_shows_the_registrys_photo_to_its_student_only(db: Db) {
    use base64::Engine as _;
    let photos = tempfile::tempdir().unwrap();
    let dir = photos.path().to_owned();
    let app = spawn_app_with(db, move |s| s.photos_dir = Some(dir)).await;
    let anna = app.sign_in("anna").await;
    let card = app
        .me(&anna)
        .await
        .card
        .expect("a native student's preview");
    assert!(card.has_photo && card.photo_available);
    let r = app.get(&anna, "/me/photo").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let photo: legitka_wire::CardPhoto = r.json().await.unwrap();
    let data = photo
        .data_url
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URL");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    assert_eq!(
        bytes,
        std::fs::read(photos.path().join("anna.png")).unwrap()
    );

    // Celina has no photo in the registry: said so, no picture.
    let celina = app.sign_in("celina").await;
    assert!(!app.me(&celina).await.card.unwrap().photo_available);
    let r = app.get(&celina, "/me/photo").send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );

    // A file that is not an image is never served as one.
    std::fs::write(photos.path().join("anna.png"), "<svg onload=alert(1)>").unwrap();
    let r = app.get(&anna, "/me/photo").send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );

    // A server without photos_dir shows none.
    let plain = spawn_app(app.db).await;
    let anna = plain.sign_in("anna").await;
    assert!(!plain.me(&anna).await.card.unwrap().photo_available);
    let r = plain.get(&anna, "/me/photo").send().await.unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
}

async fn a_reveal_that_cannot_open_the_codes_spends_no_view(db: Db) {
    use legitka_server::crypto::{Secret, SecretBox};
    let app = spawn_app(db).await;
    let (token, ready) = app.ready_order("anna").await;
    assert_eq!(ready.reveals_left, 3);
    // The codes as sealed under another key (a key rotated without
    // re-sealing): this server cannot open them.
    let other = SecretBox::from_hex(&Secret::new("17".repeat(32))).unwrap();
    sqlx::query("UPDATE orders SET activation_secret = $1 WHERE id = $2")
        .bind(other.seal(b"{}").unwrap())
        .bind(&ready.id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    for _ in 0..4 {
        let r = app
            .post(&token, "/orders/current/reveal")
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(r).await,
            (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
        );
    }
    app.state.cache.bump_all();
    assert_eq!(
        app.me(&token).await.order.unwrap().reveals_left,
        3,
        "no view spent"
    );
}
