//! The one module that talks to Tauri: typed commands and events.

use legitka_wire::shell::events::ShellEvent;
pub use legitka_wire::shell::{
    ActionOutcome, AppConfig, Link, OrderAction, Permission, RevealedCodes, SessionInfo, University,
};
use legitka_wire::{ErrorCode, Locale, OrderView, StudentState, TimelineEntry};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "event"], js_name = listen)]
    async fn tauri_listen(event: &str, handler: &js_sys::Function) -> Result<JsValue, JsValue>;

    // Not `async`: where the function is missing (a test page) the call
    // throws, which `catch` turns into an `Err`.
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = addPluginListener)]
    fn tauri_add_plugin_listener(
        plugin: &str,
        event: &str,
        handler: &js_sys::Function,
    ) -> Result<JsValue, JsValue>;
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

#[derive(Serialize)]
struct Stage {
    stage: &'static str,
}

/// Tells the shell how far start-up got (the startup benchmark): `wasm`
/// when the UI's code runs, `screen` once the first screen is on glass.
pub fn first_paint(stage: &'static str) {
    let report = Closure::once_into_js(move || {
        wasm_bindgen_futures::spawn_local(async move {
            let _: Result<(), UiError> = call("first_paint", Stage { stage }).await;
        });
    });
    if let Some(w) = web_sys::window() {
        let _ = w.request_animation_frame(report.unchecked_ref());
    }
}

pub async fn app_config() -> Result<AppConfig, UiError> {
    call("app_config", NoArgs {}).await
}

#[derive(Serialize)]
struct Input<'a> {
    input: &'a str,
}

/// Which university an address, setup link or pairing link leads to (the
/// shell asks that server its name).
pub async fn check_university(input: &str) -> Result<Link, UiError> {
    call("check_university", Input { input }).await
}

#[derive(Serialize)]
struct ScanArgs {
    formats: [&'static str; 1],
    windowed: bool,
}

#[derive(Deserialize)]
struct Scanned {
    content: String,
}

/// Whether the app may raise notices (desktop: needs no permission).
pub async fn notice_permission() -> Result<Permission, UiError> {
    call("notice_permission", NoArgs {}).await
}

/// Asks the OS to allow notices; its answer.
pub async fn allow_notices() -> Result<Permission, UiError> {
    call("allow_notices", NoArgs {}).await
}

#[derive(Deserialize)]
struct CameraPermission {
    camera: String,
}

/// Phones: the camera, asked for as the scanner opens; whether it may be used.
pub async fn camera_allowed() -> Result<bool, UiError> {
    call::<CameraPermission>("plugin:barcode-scanner|request_permissions", NoArgs {})
        .await
        .map(|p| p.camera == "granted")
}

/// Phones: reads a QR code with the camera (the barcode scanner plugin).
pub async fn scan_qr() -> Result<String, UiError> {
    let args = ScanArgs {
        formats: ["QR_CODE"],
        windowed: false,
    };
    call::<Scanned>("plugin:barcode-scanner|scan", args)
        .await
        .map(|s| s.content)
}

/// Phones: switches to mObywatel.
pub async fn open_mobywatel() -> Result<(), UiError> {
    call("open_mobywatel", NoArgs {}).await
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

#[derive(Serialize)]
struct PairArgs<'a> {
    server: &'a str,
    code: &'a str,
}

/// A pairing code typed from the university's page, or its whole link.
pub async fn sign_in_with_code(server: &str, code: &str) -> Result<SessionInfo, UiError> {
    call("sign_in_with_code", PairArgs { server, code }).await
}

#[derive(Serialize)]
struct BrowserArgs<'a> {
    server: &'a str,
    university: Option<&'a str>,
}

/// Opens the system browser at the server's USOS sign-in for `university`,
/// or (`None`) at the university's own sign-in page; the way back is a
/// `legitka://pair` link ([`take_opened_link`]).
pub async fn sign_in_in_browser(server: &str, university: Option<&str>) -> Result<(), UiError> {
    call("sign_in_in_browser", BrowserArgs { server, university }).await
}

/// The `legitka://` link the system handed the app, once.
pub async fn take_opened_link() -> Option<String> {
    call("take_opened_link", NoArgs {}).await.ok().flatten()
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

#[derive(Serialize)]
struct ActionArgs {
    action: OrderAction,
}

pub async fn order_action(action: OrderAction) -> Result<ActionOutcome, UiError> {
    call("order_action", ActionArgs { action }).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TimelineArgs<'a> {
    order_id: &'a str,
}

pub async fn order_timeline(order_id: &str) -> Result<Vec<TimelineEntry>, UiError> {
    call("order_timeline", TimelineArgs { order_id }).await
}

/// A one-time code for showing the codes on a computer.
pub async fn second_screen() -> Result<legitka_wire::SecondScreen, UiError> {
    call("second_screen", NoArgs {}).await
}

/// The registry's photo of the student, for the card preview.
pub async fn card_photo() -> Result<legitka_wire::CardPhoto, UiError> {
    call("card_photo", NoArgs {}).await
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

#[derive(Serialize)]
struct PreferencesArgs {
    locale: Locale,
    notifications: bool,
}

/// Tells the shell the student's language and whether to raise notices.
pub async fn set_preferences(locale: Locale, notifications: bool) -> Result<(), UiError> {
    call(
        "set_preferences",
        PreferencesArgs {
            locale,
            notifications,
        },
    )
    .await
}

#[derive(Serialize)]
struct TokenArgs<'a> {
    token: &'a str,
}

/// A new FCM/APNs token reported by the mobile notifications plugin.
pub async fn register_push_token(token: &str) -> Result<(), UiError> {
    call("register_push_token", TokenArgs { token }).await
}

/// A JS function, for the life of the page, that hands `f` the decoded `field` of its argument.
fn handler<T: DeserializeOwned + 'static>(
    field: Option<&'static str>,
    f: impl Fn(T) + 'static,
) -> js_sys::Function {
    let handler = Closure::<dyn Fn(JsValue)>::new(move |e: JsValue| {
        let value = match field {
            Some(name) => {
                js_sys::Reflect::get(&e, &JsValue::from_str(name)).unwrap_or(JsValue::NULL)
            }
            None => e,
        };
        if let Ok(p) = serde_wasm_bindgen::from_value(value) {
            f(p);
        }
    });
    let function: js_sys::Function = handler.as_ref().unchecked_ref::<js_sys::Function>().clone();
    // App-lifetime listeners: the closure must outlive this call.
    handler.forget();
    function
}

/// Listens to a shell event for the life of the page; `f` gets its payload
/// (the event's name and payload type are one wire type).
pub fn listen<E: ShellEvent>(f: impl Fn(E) + 'static) {
    let function = handler(Some("payload"), f);
    wasm_bindgen_futures::spawn_local(async move {
        let _ = tauri_listen(E::NAME, &function).await;
    });
}

/// A plugin's listener that can be taken back.
pub struct PluginListener(JsValue);

impl PluginListener {
    pub fn unregister(self) {
        if let Ok(f) = js_sys::Reflect::get(&self.0, &JsValue::from_str("unregister"))
            .and_then(JsCast::dyn_into::<js_sys::Function>)
            && let Ok(p) = f
                .call0(&self.0)
                .and_then(JsCast::dyn_into::<js_sys::Promise>)
        {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(p).await;
            });
        }
    }
}

/// A JS function, for the life of the page, that hands `f` a plugin event's
/// payload: made once, registered and unregistered as often as needed.
pub fn plugin_handler<T: DeserializeOwned + 'static>(f: impl Fn(T) + 'static) -> js_sys::Function {
    handler(None, f)
}

/// Registers `function` for a plugin's event until unregistered; `None`
/// where there is no such plugin (desktop builds).
pub async fn add_plugin_listener(
    plugin: &'static str,
    event: &'static str,
    function: &js_sys::Function,
) -> Option<PluginListener> {
    let p = tauri_add_plugin_listener(plugin, event, function)
        .and_then(JsCast::dyn_into::<js_sys::Promise>)
        .ok()?;
    wasm_bindgen_futures::JsFuture::from(p)
        .await
        .ok()
        .map(PluginListener)
}

/// Listens to a mobile plugin's event (desktop builds lack those plugins:
/// the registration fails quietly there).
pub fn listen_plugin<T: DeserializeOwned + 'static>(
    plugin: &'static str,
    event: &'static str,
    f: impl Fn(T) + 'static,
) {
    let function = handler(None, f);
    if let Ok(p) = tauri_add_plugin_listener(plugin, event, &function)
        .and_then(JsCast::dyn_into::<js_sys::Promise>)
    {
        // A desktop build has no such plugin: the promise rejects, quietly.
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(p).await;
        });
    }
}

/// The language the system prefers, if it is one the app speaks.
pub fn system_locale() -> Locale {
    let lang = web_sys::window()
        .and_then(|w| w.navigator().language())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if lang.starts_with("pl") {
        Locale::Pl
    } else {
        Locale::En
    }
}

/// A fresh key per tap, so a retried request cannot make a second order.
pub fn new_idempotency_key() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| format!("{}", js_sys::Math::random()))
}
