//! The issuer outbox and the bridge contract, against the issuer stand-in
//! over HTTP, on SQLite and PostgreSQL: commands survive clients that hang
//! up; superseded codes are void at the issuer; the submit carries the
//! card; retries ride out an issuer outage; the event endpoint keeps to the
//! contract.

mod common;

use common::{Db, TestApp, spawn_app};
use legitka_server::admin;
use legitka_server::clock::DAY_MS;
use legitka_testkit::BRIDGE_SECRET;
use legitka_wire::bridge::EVENTS_PATH;
use legitka_wire::{ActivationData, OrderStatus};
use rand::Rng;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

both!(
    hang_ups_lose_no_submit_and_no_cancel,
    codes_given_way_to_a_new_order_are_void_at_the_issuer,
    a_renewal_voids_the_card_it_replaces,
    the_submit_carries_what_the_card_shows,
    an_issuer_outage_is_ridden_out,
    the_event_endpoint_keeps_to_the_contract,
    events_heard_together_apply_each_on_its_own,
);

/// Sends `POST path` and hangs up after a random moment, before the answer.
async fn post_and_hang_up(app: &TestApp, path: &str, token: &str, key: Option<&str>) {
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let key = key.map_or(String::new(), |k| format!("Idempotency-Key: {k}\r\n"));
    let request = format!(
        "POST /api/v1{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         {key}Content-Length: 0\r\n\r\n"
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let wait = rand::rng().random_range(0..3_000u64);
    tokio::time::sleep(Duration::from_micros(wait)).await;
    drop(s);
}

/// The newest order, once whatever the hung-up request did has settled.
/// (This read also fails if a hung-up request committed without telling
/// the read cache: a handler cut between its commit and its announcement.)
async fn settled(app: &TestApp, token: &str) -> Option<legitka_wire::OrderView> {
    tokio::time::sleep(Duration::from_millis(30)).await;
    app.me(token).await.order
}

async fn hang_ups_lose_no_submit_and_no_cancel(db: Db) {
    let app = spawn_app(db).await;
    let token = app.sign_in("anna").await;
    let mut cancelled = vec![];
    for round in 0..15 {
        let key = format!("round-{round}");
        post_and_hang_up(&app, "/orders", &token, Some(&key)).await;
        let fresh = settled(&app, &token)
            .await
            .filter(|o| o.status.is_open() && !cancelled.contains(&o.id));
        if fresh.is_none() {
            // Not committed: the phone sends it again with the same key.
            let r = app
                .post(&token, "/orders")
                .header("Idempotency-Key", &key)
                .send()
                .await
                .unwrap();
            let status = r.status();
            assert!(
                status.is_success(),
                "{status} {} {:?} {cancelled:?}",
                r.text().await.unwrap(),
                app.me(&token).await.order
            );
        }
        // A replay of a committed key answers the first result …
        let r = app
            .post(&token, "/orders")
            .header("Idempotency-Key", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let order: legitka_wire::OrderView = r.json().await.unwrap();
        post_and_hang_up(&app, "/orders/current/cancel", &token, None).await;
        if settled(&app, &token).await.unwrap().status != OrderStatus::Cancelled {
            let r = app
                .post(&token, "/orders/current/cancel")
                .send()
                .await
                .unwrap();
            // Refused only if the hung-up cancel got there first after all.
            let now = app.me(&token).await.order.unwrap();
            assert!(
                r.status() == StatusCode::OK || now.status == OrderStatus::Cancelled,
                "{} {:?} {:?}",
                r.status(),
                now,
                order
            );
        }
        cancelled.push(order.id);
    }
    // … and an order placed by a hung-up request is submitted all the same.
    post_and_hang_up(&app, "/orders", &token, Some("last")).await;
    if settled(&app, &token)
        .await
        .is_none_or(|o| cancelled.contains(&o.id))
    {
        let r = app
            .post(&token, "/orders")
            .header("Idempotency-Key", "last")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let last = app.wait_for(&token, OrderStatus::Ready).await;
    assert_eq!(app.issuer.submits(&last.id).await.unwrap(), 1);
    for id in &cancelled {
        common::wait_until_invalidated(&app, id).await;
    }
}

async fn reveal(app: &TestApp, token: &str) -> ActivationData {
    let r = app
        .post(token, "/orders/current/reveal")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Three views without receipt, and 30 days without activation: the
/// student orders again, and the old codes activate nothing.
async fn codes_given_way_to_a_new_order_are_void_at_the_issuer(db: Db) {
    let app = spawn_app(db).await;
    let (token, first) = app.ready_order("anna").await;
    let mut seen = reveal(&app, &token).await;
    for _ in 0..2 {
        seen = reveal(&app, &token).await;
    }
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let codes = json!({"manual_code": seen.manual_code, "activation_code": seen.activation_code});
    app.assert_void(&first.id, codes).await;

    let second = app.wait_for(&token, OrderStatus::Ready).await;
    let data = reveal(&app, &token).await;
    app.clock.advance(31 * DAY_MS);
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    common::wait_until_invalidated(&app, &second.id).await;
    let r = app
        .activate(json!({"qr_payload": data.qr_payload, "activation_code": data.activation_code}))
        .await;
    assert_eq!(r.status(), StatusCode::GONE);
}

/// A renewal after an ELS extension: the old card is voided, so one
/// student never holds two valid cards.
async fn a_renewal_voids_the_card_it_replaces(db: Db) {
    let app = spawn_app(db).await;
    let (token, first) = app.ready_order("anna").await;
    let (old, _) = app.receive(&token).await;
    admin::extend_els(&app.state, "anna", common::START + 400 * DAY_MS)
        .await
        .unwrap();
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let codes = json!({"qr_payload": old.qr_payload, "activation_code": old.activation_code});
    app.assert_void(&first.id, codes).await;
    app.wait_for(&token, OrderStatus::Ready).await;
    let (_, renewed) = app.receive(&token).await;
    assert_eq!(renewed.kind, legitka_wire::OrderKind::Renewal);
}

async fn the_submit_carries_what_the_card_shows(db: Db) {
    let app = spawn_app(db).await;
    let (_, order) = app.ready_order("anna").await;
    let card = app.issuer.card(&order.id).await.unwrap().expect("a card");
    let (sealed, masked, els, album): (String, String, i64, String) = sqlx::query_as(
        "SELECT pesel_sealed, pesel_masked, els_valid_until, album_number \
         FROM students WHERE username = 'anna'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    // At rest the PESEL is sealed, and only its last digits are in the clear.
    let pesel = String::from_utf8(app.state.secrets.open(&sealed).unwrap()).unwrap();
    assert_eq!(pesel.len(), 11);
    assert!(!sealed.contains(&pesel), "{sealed}");
    assert_eq!(masked, legitka_server::pesel::masked(&pesel));
    assert!(!masked.contains(&pesel[..9]), "{masked}");
    assert_eq!(
        (card.first_name.as_str(), card.pesel.as_str()),
        ("Anna", pesel.as_str())
    );
    let birth = legitka_server::pesel::Pesel::parse(&pesel)
        .unwrap()
        .birth_date();
    assert_eq!(card.birth_date, birth.to_string());
    assert_eq!(card.card_number.as_deref(), Some(album.as_str()));
    assert_eq!(card.university, "Uniwersytet Testowy");
    assert_eq!(card.issued_on, "2026-09-21");
    // The ELS's last day, not the day after it.
    let last_day = time::OffsetDateTime::from_unix_timestamp((els - DAY_MS) / 1000).unwrap();
    assert_eq!(card.valid_until, last_day.date().to_string());
}

/// The issuer refuses twice with 503: the outbox retries with backoff (due
/// as the clock moves on) and the order gets through, submitted once.
async fn an_issuer_outage_is_ridden_out(db: Db) {
    let app = spawn_app(db).await;
    app.issuer.fail_next(503);
    app.issuer.fail_next(503);
    let token = app.sign_in("anna").await;
    let r = app.post(&token, "/orders").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut tries = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM issuer_commands")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        let attempts: i64 = sqlx::query_scalar("SELECT MAX(attempts) FROM issuer_commands")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert!(attempts <= 2, "{attempts} attempts");
        tries += 1;
        assert!(tries < 100, "the submit never got through");
        app.clock.advance(1000);
    }
    let order = app.wait_for(&token, OrderStatus::Ready).await;
    assert_eq!(app.issuer.submits(&order.id).await.unwrap(), 1);
    let dead: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dead_issuer_commands")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(dead, 0);
}

async fn the_event_endpoint_keeps_to_the_contract(db: Db) {
    let app = spawn_app(db).await;
    let (_, order) = app.ready_order("anna").await;
    let url = format!("{}{EVENTS_PATH}", app.base);
    let event = |status: &str, order_id: &str| json!({"event_id": "e1", "order_id": order_id, "status": status, "reason": null, "activation": null});
    let send = |secret: &'static str, body: serde_json::Value| {
        app.http.post(&url).bearer_auth(secret).json(&body).send()
    };
    let code = |r: reqwest::Response| async move {
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        (status, body["code"].as_str().unwrap_or_default().to_owned())
    };
    // A wrong secret, an unknown order, a ready without codes, nonsense.
    let r = send("not-the-secret", event("in_progress", &order.id))
        .await
        .unwrap();
    assert_eq!(
        code(r).await,
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    let r = send(BRIDGE_SECRET, event("error", "no-such-order"))
        .await
        .unwrap();
    assert_eq!(
        code(r).await,
        (StatusCode::NOT_FOUND, "unknown_order".into())
    );
    let r = send(BRIDGE_SECRET, event("ready", &order.id))
        .await
        .unwrap();
    assert_eq!(code(r).await.0, StatusCode::BAD_REQUEST);
    let r = send(BRIDGE_SECRET, json!({"what": 1})).await.unwrap();
    assert_eq!(
        code(r).await,
        (StatusCode::BAD_REQUEST, "bad_request".into())
    );
    // A repeat of what happened is fine; what no longer applies is a 409.
    let mut repeat = event("ready", &order.id);
    repeat["activation"] =
        json!({"qr_payload": "MLEG1.00", "manual_code": "A", "activation_code": "1"});
    let r = send(BRIDGE_SECRET, repeat).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(BRIDGE_SECRET, event("in_progress", &order.id))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let token = app.sign_in("anna").await;
    assert_eq!(
        app.me(&token).await.order.unwrap().status,
        OrderStatus::Ready
    );
}

/// Events applied in one transaction (as a wave's are): each that applies
/// counts, one that does not (a move the order cannot make, an unknown
/// order) changes nothing and takes nothing of the others with it.
async fn events_heard_together_apply_each_on_its_own(db: Db) {
    use legitka_server::orders::activation::IssuedActivation;
    use legitka_server::orders::{Applied, IssuerUpdate};
    let app = spawn_app(db).await;
    app.hold_issuer();
    let token = app.sign_in("anna").await;
    let r = app.post(&token, "/orders").send().await.unwrap();
    let order: legitka_wire::OrderView = r.json().await.unwrap();
    let update = |order_id: &str, to| IssuerUpdate {
        order_id: order_id.to_owned(),
        to,
        reason: None,
        activation: (to == OrderStatus::Ready).then(|| IssuedActivation {
            qr_payload: "MLEG1.batch".into(),
            manual_code: "BATCH-0001".into(),
            activation_code: legitka_server::crypto::Secret::new("12345678".into()),
        }),
    };
    let answers = app
        .state
        .orders
        .issuer_updates(vec![
            update(&order.id, OrderStatus::InProgress),
            update(&order.id, OrderStatus::Received),
            update("no-such-order", OrderStatus::InProgress),
            update(&order.id, OrderStatus::Ready),
            update(&order.id, OrderStatus::Ready),
        ])
        .await
        .unwrap();
    let codes: Vec<String> = answers
        .iter()
        .map(|a| match a {
            Ok(applied) => format!("{applied:?}"),
            Err(e) => e.code().as_str().to_owned(),
        })
        .collect();
    assert_eq!(
        codes,
        [
            "Changed",
            "invalid_transition",
            "no_order",
            "Changed",
            "AlreadySo"
        ]
    );
    assert!(matches!(answers[0], Ok(Applied::Changed)));
    let ready = app.wait_for(&token, OrderStatus::Ready).await;
    assert_eq!(ready.id, order.id);
    let history: Vec<String> =
        sqlx::query_scalar("SELECT status FROM order_events WHERE order_id = $1 ORDER BY seq")
            .bind(&order.id)
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(history, ["pending", "in_progress", "ready"]);
    let codes: ActivationData = app
        .post(&token, "/orders/current/reveal")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(codes.manual_code, "BATCH-0001");
}
