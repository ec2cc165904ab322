//! The shell's commands driven through Tauri's IPC on the mock runtime,
//! against the real backend on loopback (with its issuer stand-in): what
//! the UI sees when it invokes them, token renewal included.

use crate::session::Shell;
use legitka_server::Settings;
use legitka_server::clock::{DAY_MS, ManualClock};
use legitka_testkit::Stack;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tauri::Manager;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context};
use tauri::webview::{InvokeRequest, WebviewWindow, WebviewWindowBuilder};

struct App {
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

impl App {
    fn start() -> Self {
        let app = crate::app(mock_builder())
            .build(mock_context(tauri::test::noop_assets()))
            .expect("the app builds on the mock runtime");
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("a window");
        Self { _app: app, window }
    }

    /// Invokes a command as the UI does; the answer or the error's JSON.
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        // The answer comes from the shell's own runtime; wait for it here.
        tokio::task::block_in_place(|| get_ipc_response(&self.window, request))
            .map(|body| body.deserialize::<Value>().expect("a JSON answer"))
    }

    fn access_token(&self) -> String {
        self.window
            .state::<Shell>()
            .session()
            .expect("signed in")
            .access_token
    }
}

fn code(e: &Value) -> &str {
    e["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_sign_in_order_renew_the_token_and_sign_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("server.db").display());
    let mut settings = Settings::for_tests(db);
    settings.access_ttl = Duration::from_secs(15 * 60);
    let clock = ManualClock::new(1_800_000_000_000);
    let stack = Stack::start(settings, Arc::new(clock.clone()), dir.path())
        .await
        .unwrap();
    let app = App::start();
    let server = stack.base.clone();

    let before = app.invoke("student_state", json!({})).unwrap_err();
    assert_eq!(code(&before), "unauthorized");
    let wrong = app
        .invoke(
            "sign_in",
            json!({"server": server, "username": "anna", "password": "nope"}),
        )
        .unwrap_err();
    assert_eq!(code(&wrong), "invalid_credentials");
    let unreachable = app
        .invoke(
            "sign_in",
            json!({"server": "http://127.0.0.1:9", "username": "anna", "password": "x"}),
        )
        .unwrap_err();
    assert_eq!(code(&unreachable), "server_unreachable");

    let session = app
        .invoke(
            "sign_in",
            json!({"server": format!("{server}/"), "username": " anna ",
                   "password": legitka_server::demo::DEMO_PASSWORD}),
        )
        .unwrap();
    assert_eq!(session["server"], server.as_str());
    let state = app.invoke("student_state", json!({})).unwrap();
    assert_eq!(state["eligible"], true);
    assert_eq!(state["actions"], json!(["order"]));

    let key = json!({"idempotencyKey": "k-1"});
    let order = app.invoke("place_order", key.clone()).unwrap();
    assert_eq!(order["status"], "pending");
    assert_eq!(app.invoke("place_order", key).unwrap()["id"], order["id"]);

    // The access token runs out: the next call is refused once, the shell
    // renews the token and asks again, and the UI never notices.
    let first = app.access_token();
    clock.advance(DAY_MS);
    let state = app.invoke("student_state", json!({})).unwrap();
    assert_eq!(state["order"]["id"], order["id"]);
    assert_ne!(app.access_token(), first, "renewed");

    let history = app
        .invoke("order_timeline", json!({"orderId": order["id"]}))
        .unwrap();
    assert_eq!(history[0]["status"], "pending");
    let bad_id = app
        .invoke("order_timeline", json!({"orderId": "../me"}))
        .unwrap_err();
    assert_eq!(code(&bad_id), "bad_request");

    let cancelled = app
        .invoke("order_action", json!({"action": "cancel"}))
        .unwrap();
    assert_eq!(cancelled["order"]["status"], "cancelled");
    assert_eq!(cancelled["mayStayValidUntil"], Value::Null);
    let again = app
        .invoke("order_action", json!({"action": "cancel"}))
        .unwrap_err();
    assert_eq!(code(&again), "no_order");

    app.invoke("sign_out", json!({})).unwrap();
    let after = app.invoke("student_state", json!({})).unwrap_err();
    assert_eq!(code(&after), "unauthorized");
}
