//! The one module that talks to Tauri: typed commands and events.

pub use legitka_wire::shell::{AppConfig, RevealedCodes, SessionInfo};
use legitka_wire::{ErrorCode, OrderView, StudentState};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "event"], js_name = listen)]
    async fn tauri_listen(event: &str, handler: &js_sys::Function) -> Result<JsValue, JsValue>;
}

/// A command's failure: a stable code the UI translates.
#[derive(Deserialize, Clone, Debug, PartialEq)]
pub struct UiError {
    pub code: ErrorCode,
    #[serde(default)]
    pub message: String,
}

fn to_error(e: JsValue) -> UiError {
    serde_wasm_bindgen::from_value(e.clone()).unwrap_or_else(|_| UiError {
        code: ErrorCode::Internal,
        message: e.as_string().unwrap_or_default(),
    })
}

async fn call<T: DeserializeOwned>(cmd: &str, args: impl Serialize) -> Result<T, UiError> {
    let args = serde_wasm_bindgen::to_value(&args).map_err(|e| UiError {
        code: ErrorCode::Internal,
        message: e.to_string(),
    })?;
    let value = tauri_invoke(cmd, args).await.map_err(to_error)?;
    serde_wasm_bindgen::from_value(value).map_err(|e| UiError {
        code: ErrorCode::BadResponse,
        message: e.to_string(),
    })
}

#[derive(Serialize)]
struct NoArgs {}

pub async fn app_config() -> Result<AppConfig, UiError> {
    call("app_config", NoArgs {}).await
}

pub async fn restore_session() -> Result<Option<SessionInfo>, UiError> {
    call("restore_session", NoArgs {}).await
}

#[derive(Serialize)]
struct SignInArgs<'a> {
    server: &'a str,
    username: &'a str,
    password: &'a str,
}

pub async fn sign_in(server: &str, username: &str, password: &str) -> Result<SessionInfo, UiError> {
    call(
        "sign_in",
        SignInArgs {
            server,
            username,
            password,
        },
    )
    .await
}

pub async fn sign_out() -> Result<(), UiError> {
    call("sign_out", NoArgs {}).await
}

pub async fn student_state() -> Result<StudentState, UiError> {
    call("student_state", NoArgs {}).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderArgs<'a> {
    idempotency_key: &'a str,
}

pub async fn place_order(idempotency_key: &str) -> Result<OrderView, UiError> {
    call("place_order", OrderArgs { idempotency_key }).await
}

pub async fn reveal() -> Result<RevealedCodes, UiError> {
    call("reveal", NoArgs {}).await
}

#[derive(Serialize)]
struct CopyArgs<'a> {
    text: &'a str,
}

pub async fn copy_text(text: &str) -> Result<(), UiError> {
    call("copy_text", CopyArgs { text }).await
}

/// Listens to a shell event for the life of the page; `f` gets its payload.
pub fn listen<T: DeserializeOwned + 'static>(event: &'static str, f: impl Fn(T) + 'static) {
    let handler = Closure::<dyn Fn(JsValue)>::new(move |e: JsValue| {
        let payload =
            js_sys::Reflect::get(&e, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        if let Ok(p) = serde_wasm_bindgen::from_value(payload) {
            f(p);
        }
    });
    let function: js_sys::Function = handler.as_ref().unchecked_ref::<js_sys::Function>().clone();
    // App-lifetime listeners: the closure must outlive this call.
    handler.forget();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = tauri_listen(event, &function).await;
    });
}

/// A fresh key per tap, so a retried request cannot make a second order.
pub fn new_idempotency_key() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| format!("{}", js_sys::Math::random()))
}
