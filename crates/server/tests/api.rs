//! The server through its public surface: real HTTP on loopback, a fresh
//! SQLite file per test, the issuer emulator with short delays.

use futures_util::StreamExt;
use legitka_server::{Application, Settings, demo};
use legitka_wire::{
    ActivationData, ApiError, CheckCode, ErrorCode, OrderStatus, OrderView, SignInResponse,
    StatusEvent, StudentState,
};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

struct TestApp {
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn spawn_app() -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let app = Application::build(Settings::for_tests(url)).await.unwrap();
    demo::seed(app.state()).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl TestApp {
    async fn sign_in(&self, user: &str) -> String {
        let r = self
            .http
            .post(format!("{}/api/v1/session", self.base))
            .json(&json!({"username": user, "password": demo::DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<SignInResponse>().await.unwrap().access_token
    }

    fn post(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(token)
    }

    async fn me(&self, token: &str) -> StudentState {
        self.http
            .get(format!("{}/api/v1/me", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn wait_for(&self, token: &str, status: OrderStatus) -> OrderView {
        for _ in 0..200 {
            if let Some(o) = self.me(token).await.order.filter(|o| o.status == status) {
                return o;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("order never became {status:?}");
    }

    async fn activate(&self, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}/emulator/mobywatel/activate", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

async fn error_of(r: reqwest::Response) -> (StatusCode, ErrorCode) {
    let status = r.status();
    let e: ApiError = r.json().await.expect("errors have the API shape");
    (status, e.code)
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_the_same_401() {
    let app = spawn_app().await;
    for (user, pass) in [("anna", "nope"), ("nobody", "legitka")] {
        let r = app
            .http
            .post(format!("{}/api/v1/session", app.base))
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

#[tokio::test]
async fn bad_input_gets_4xx_in_the_error_shape() {
    let app = spawn_app().await;
    let r = app
        .http
        .post(format!("{}/api/v1/session", app.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
    );
    let r = app
        .http
        .get(format!("{}/api/v1/me", app.base))
        .send()
        .await
        .unwrap();
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

#[tokio::test]
async fn ineligible_students_see_why_and_cannot_order() {
    let app = spawn_app().await;
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
    assert!(app.me(&anna).await.eligible);
}

#[tokio::test]
async fn order_to_received_with_live_events_and_three_reveals() {
    let app = spawn_app().await;
    let token = app.sign_in("anna").await;
    let events = app
        .http
        .get(format!("{}/api/v1/events", app.base))
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

#[tokio::test]
async fn concurrent_reveals_spend_exactly_three() {
    let app = spawn_app().await;
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

#[tokio::test]
async fn identical_orders_with_one_idempotency_key_make_one_order() {
    let app = spawn_app().await;
    let token = app.sign_in("anna").await;
    let tries = (0..50).map(|_| {
        let req = app
            .post(&token, "/orders")
            .header("Idempotency-Key", "tap-1");
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            (status, r.json::<OrderView>().await.unwrap().id)
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

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let token = app.sign_in("anna").await;
    let r = app
        .http
        .delete(format!("{}/api/v1/session", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .http
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
}
