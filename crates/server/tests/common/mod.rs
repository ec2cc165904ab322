//! The test harness: the real server on loopback, one fresh database per
//! test — an SQLite file, or a new PostgreSQL database when `LEGITKA_TEST_PG`
//! names a server (`scripts/test` starts one and sets `LEGITKA_REQUIRE_PG=1`,
//! which turns a missing server into a failure instead of a skip).

#![allow(dead_code)] // each test binary uses a different part

pub mod keys;
pub mod ldap;
pub mod oidc;
pub mod usos;

use legitka_server::clock::ManualClock;
use legitka_server::state::AppState;
use legitka_server::{Settings, demo};
use legitka_testkit::Stack;
use legitka_wire::{
    ActivationData, ApiError, ErrorCode, OrderStatus, OrderView, SignInResponse, StudentState,
};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    /// Where the server's `/metrics` is.
    pub metrics: Option<String>,
    /// The server's state, for what a test drives directly: the clock's
    /// sweeper, registry operations.
    pub state: AppState,
    /// The issuer-bridge stand-in (with mObywatel) the server talks to.
    pub issuer: Arc<legitka_emulators::issuer::IssuerEmulator>,
    pub http: reqwest::Client,
    pub clock: ManualClock,
    pub db: Db,
    _dir: tempfile::TempDir,
}

/// Runs each named `async fn(Db)` as two tests: on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$name($crate::common::Db::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    if $crate::common::postgres_available() {
                        super::$name($crate::common::Db::Postgres).await;
                    }
                }
            }
        )*
    };
}

pub fn postgres_available() -> bool {
    if std::env::var_os("LEGITKA_TEST_PG").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("LEGITKA_REQUIRE_PG").is_none(),
        "LEGITKA_REQUIRE_PG is set but LEGITKA_TEST_PG is not"
    );
    eprintln!("skipping the PostgreSQL variant: LEGITKA_TEST_PG is not set");
    false
}

/// A fresh, empty database URL for one test.
pub async fn database_url(db: Db, dir: &tempfile::TempDir) -> String {
    match db {
        Db::Sqlite => format!("sqlite://{}", dir.path().join("t.db").display()),
        Db::Postgres => {
            sqlx::any::install_default_drivers();
            let admin = std::env::var("LEGITKA_TEST_PG").unwrap();
            let name = format!("legitka_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            let base = admin.rsplit_once('/').unwrap().0;
            format!("{base}/{name}")
        }
    }
}

pub const START: i64 = 1_790_000_000_000; // 2026-09-21

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

pub async fn spawn_app_with(db: Db, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_tests(database_url(db, &dir).await);
    tweak(&mut settings);
    let clock = ManualClock::new(START);
    let stack = Stack::start(settings, Arc::new(clock.clone()), dir.path())
        .await
        .unwrap();
    TestApp {
        base: stack.base,
        metrics: stack.metrics,
        state: stack.state,
        issuer: stack.issuer,
        http: reqwest::Client::new(),
        clock,
        db,
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub async fn sign_in(&self, user: &str) -> String {
        let r = self
            .http
            .post(self.url("/session"))
            .json(&json!({"username": user, "password": demo::DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<SignInResponse>()
            .await
            .unwrap()
            .tokens
            .access_token
    }

    pub fn post(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(token)
    }

    pub fn get(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(token)
    }

    pub async fn me(&self, token: &str) -> StudentState {
        let r = self.get(token, "/me").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    pub async fn wait_for(&self, token: &str, status: OrderStatus) -> OrderView {
        for _ in 0..500 {
            if let Some(o) = self.me(token).await.order.filter(|o| o.status == status) {
                return o;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("order never became {status:?}");
    }

    /// Signs in, orders, and waits until the issuer made it ready.
    pub async fn ready_order(&self, user: &str) -> (String, OrderView) {
        let token = self.sign_in(user).await;
        let r = self.post(&token, "/orders").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let order = self.wait_for(&token, OrderStatus::Ready).await;
        (token, order)
    }

    /// Once the issuer outbox has voided `order_id`, mObywatel refuses its
    /// codes as a void card's (410 `card_voided`).
    pub async fn assert_void(&self, order_id: &str, codes: serde_json::Value) {
        wait_until_invalidated(self, order_id).await;
        let r = self.activate(codes).await;
        assert_eq!(r.status(), StatusCode::GONE);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "card_voided", "{body}");
    }

    /// Holds the issuer: orders stay pending (for an hour) until told otherwise.
    pub fn hold_issuer(&self) {
        self.issuer
            .set_delays(Duration::from_secs(3600), Duration::from_secs(3600));
    }

    /// Reveals the codes once and activates them in mObywatel; waits for "received".
    pub async fn receive(&self, token: &str) -> (ActivationData, OrderView) {
        let r = self
            .post(token, "/orders/current/reveal")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let data: ActivationData = r.json().await.unwrap();
        let r = self
            .activate(
                json!({"qr_payload": data.qr_payload, "activation_code": data.activation_code}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let order = self.wait_for(token, OrderStatus::Received).await;
        (data, order)
    }

    pub async fn activate(&self, body: serde_json::Value) -> reqwest::Response {
        legitka_testkit::activate(&self.issuer.base_url, body).await
    }
}

/// Runs the dispatcher step by step until nothing is due; what each step did.
pub async fn drain(
    d: &legitka_server::push::dispatcher::Dispatcher,
) -> Vec<legitka_server::push::dispatcher::ExecutionOutcome> {
    use legitka_server::push::dispatcher::ExecutionOutcome;
    let mut seen = vec![];
    loop {
        match d.try_execute_task().await.unwrap() {
            ExecutionOutcome::Empty => return seen,
            other => seen.push(other),
        }
    }
}

pub async fn error_of(r: reqwest::Response) -> (StatusCode, ErrorCode) {
    let status = r.status();
    let e: ApiError = r.json().await.expect("errors have the API shape");
    (status, e.code)
}

#[allow(unused_imports)] // each test binary uses a different part
pub use keys::{ec_pair, rsa_pair};

/// Waits until the issuer stand-in holds the order as invalidated (the
/// issuer outbox delivers in the background).
pub async fn wait_until_invalidated(app: &TestApp, order_id: &str) {
    for _ in 0..500 {
        if app.issuer.is_invalidated(order_id).await.unwrap() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("order {order_id} was never invalidated at the issuer");
}
