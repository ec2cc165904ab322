//! Component tests of the Yew UI in headless Chromium, with Tauri's `invoke`
//! and `listen` replaced by a scripted mock on `window.__TAURI__`.

use legitka_ui::app::App;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

const MOCK: &str = r#"
window.__calls = [];
window.__listeners = {};
window.__resolve = {};
window.__plugins = {};
window.__TAURI__ = {
  core: {
    addPluginListener: (plugin, event, cb) => {
      const key = plugin + ':' + event;
      window.__plugins[key] = cb;
      return Promise.resolve({ unregister: () => { delete window.__plugins[key]; return Promise.resolve(); } });
    },
    invoke: (cmd, args) => {
      window.__calls.push(cmd);
      const r = window.__mock[cmd];
      if (r && r.pending) return new Promise((resolve) => { window.__resolve[cmd] = resolve; });
      if (r === undefined) return Promise.reject({ code: "internal", message: "unmocked " + cmd });
      return "ok" in r ? Promise.resolve(r.ok) : Promise.reject(r.err);
    },
  },
  event: {
    listen: (name, cb) => { window.__listeners[name] = cb; return Promise.resolve(() => {}); },
  },
};
"#;

fn js(code: &str) -> JsValue {
    js_sys::Function::new_no_args(code)
        .call0(&JsValue::NULL)
        .unwrap()
}

const DEMO: &str = r#"{"name": "Uniwersytet Demo", "server": "http://127.0.0.1:8080"}"#;

/// Installs the mock with `answers` (command → {"ok": …} or {"err": …}) and
/// renders a fresh app on a device that has chosen its university.
fn mount(answers: serde_json::Value) -> Element {
    js(&format!(
        "window.localStorage.clear(); window.localStorage.setItem('legitka.university', JSON.stringify({DEMO}));"
    ));
    mount_keeping_storage(answers)
}

/// The app as first launched: nothing remembered.
fn mount_first_launch(answers: serde_json::Value) -> Element {
    js("window.localStorage.clear();");
    mount_keeping_storage(answers)
}

/// What the shell's `app_config` answers: the bundled list, and a phone's abilities or not.
fn config(phone: bool) -> serde_json::Value {
    let demo: serde_json::Value = serde_json::from_str(DEMO).unwrap();
    json!({"ok": {"universities": [demo], "canScan": phone, "canOpenMobywatel": phone}})
}

/// Like `mount`, with what this device remembered from before.
fn mount_keeping_storage(answers: serde_json::Value) -> Element {
    js(MOCK);
    js(&format!("window.__mock = {answers};"));
    let doc = web_sys::window().unwrap().document().unwrap();
    if let Some(old) = doc.get_element_by_id("root") {
        old.remove();
    }
    let root = doc.create_element("div").unwrap();
    root.set_id("root");
    doc.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<App>::with_root(root.clone()).render();
    root
}

async fn tick() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

async fn find(root: &Element, css: &str) -> Element {
    for _ in 0..300 {
        if let Some(e) = root.query_selector(css).unwrap() {
            return e;
        }
        tick().await;
    }
    panic!("{css} never appeared; page: {}", root.inner_html());
}

async fn click(root: &Element, css: &str) {
    find(root, css)
        .await
        .dyn_into::<HtmlElement>()
        .unwrap()
        .click();
}

/// The shell commands the UI called so far, in order, comma-separated.
fn calls() -> String {
    js("return window.__calls.join(',');").as_string().unwrap()
}

/// Whether the button matching `css` is disabled.
async fn disabled(root: &Element, css: &str) -> bool {
    find(root, css)
        .await
        .dyn_into::<web_sys::HtmlButtonElement>()
        .unwrap()
        .disabled()
}

fn emit(event: &str, payload: serde_json::Value) {
    js(&format!(
        "window.__listeners['{event}']({{ payload: {payload} }});"
    ));
}

fn order(status: &str, reveals_left: u8) -> serde_json::Value {
    json!({"id": "o1", "kind": "new", "status": status, "created_at": 1, "updated_at": 2,
           "reveals_left": reveals_left, "activation_expires_at": 1_800_000_000_000i64,
           "card_valid_until": null, "reason": null})
}

fn state(order: serde_json::Value, failed: &[&str]) -> serde_json::Value {
    let actions = match (failed.is_empty(), order["status"].as_str()) {
        (true, None) => json!(["order"]),
        (_, Some("ready")) => json!(["reveal", "cancel"]),
        (_, Some("pending" | "in_progress")) => json!(["cancel"]),
        _ => json!([]),
    };
    let checks: Vec<_> = ["active_student", "has_pesel", "has_photo", "els_valid"]
        .iter()
        .map(|c| json!({"code": c, "ok": !failed.contains(c)}))
        .collect();
    json!({"student": {"first_name": "Anna", "last_name": "Nowak", "album_number": "100200"},
           "eligible": failed.is_empty(), "checks": checks, "order": order, "actions": actions})
}

fn signed_in(state: serde_json::Value) -> serde_json::Value {
    json!({
        "app_config": config(false),
        "restore_session": {"ok": {"server": "http://127.0.0.1:8080", "persisted": true}},
        "student_state": {"ok": state},
    })
}

#[wasm_bindgen_test]
async fn a_wrong_password_shows_a_sentence_not_json() {
    let root = mount(json!({
        "app_config": config(false),
        "restore_session": {"ok": null},
        "sign_in": {"err": {"code": "invalid_credentials", "message": "wrong username or password"}},
    }));
    set_input(&find(&root, "#username").await, "anna");
    set_input(&find(&root, "#password").await, "nope");
    let university = find(&root, "#university-name")
        .await
        .text_content()
        .unwrap();
    assert_eq!(university, "Uniwersytet Demo");
    click(&root, "#sign-in").await;
    let error = find(&root, "#error").await.text_content().unwrap();
    assert!(error.starts_with("Wrong username or password."), "{error}");
    assert!(!error.contains("invalid_credentials"));
}

#[wasm_bindgen_test]
async fn an_unreachable_server_is_explained() {
    let root = mount(json!({
        "app_config": config(false),
        "restore_session": {"ok": null},
        "sign_in": {"err": {"code": "server_unreachable", "message": "connection refused"}},
    }));
    set_input(&find(&root, "#username").await, "anna");
    set_input(&find(&root, "#password").await, "legitka");
    click(&root, "#sign-in").await;
    let error = find(&root, "#error").await.text_content().unwrap();
    assert!(
        error.contains("Can't reach the university server"),
        "{error}"
    );
}

#[wasm_bindgen_test]
async fn status_events_update_home_live_and_reveal_shows_the_codes() {
    let mut answers = signed_in(state(order("in_progress", 3), &[]));
    answers["reveal"] = json!({"ok": {
        "qrSvg": "<svg id='drawn'></svg>", "qrPayload": "MLEG1.ab",
        "manualCode": "ABCD-EFGH-JKLM-NPQR", "activationCode": "12345678",
        "expiresAt": 1_800_000_000_000i64, "revealsLeft": 2}});
    let root = mount(answers);
    find(&root, "#status[data-status='in_progress']").await;
    assert!(root.query_selector("#reveal").unwrap().is_none());

    // The server has moved on; its event arrives (and the app reads the
    // state again, for what the student may do now).
    set_server_state(state(order("ready", 3), &[]));
    emit("order-status", json!({"order": order("ready", 3)}));
    find(&root, "#status[data-status='ready']").await;
    let warn = find(&root, ".ready-actions .warn")
        .await
        .text_content()
        .unwrap();
    assert!(warn.contains("3 views left"), "{warn}");

    click(&root, "#reveal").await;
    let manual = find(&root, "#manual-code").await;
    assert_eq!(
        manual.get_attribute("data-code").unwrap(),
        "ABCD-EFGH-JKLM-NPQR"
    );
    // Shown in groups of four for typing.
    assert_eq!(manual.query_selector_all(".group").unwrap().length(), 4);
    assert_eq!(
        find(&root, "#activation-code")
            .await
            .text_content()
            .unwrap(),
        "12345678"
    );
    find(&root, "#qr #drawn").await;
    // The codes screen took the focus to its heading (a screen reader says it).
    focused_heading("Your activation codes").await;

    // "received" from the issuer closes the codes and shows the card as active.
    set_server_state(state(order("received", 2), &[]));
    emit("order-status", json!({"order": order("received", 2)}));
    find(&root, "#status[data-status='received']").await;
    assert!(root.query_selector("#activation-code").unwrap().is_none());
    focused_heading("Anna Nowak").await;
}

#[wasm_bindgen_test]
async fn codes_the_university_mailed_are_mentioned_with_the_view_they_took() {
    let mut mailed = order("ready", 2);
    mailed["codes_emailed"] = json!(true);
    let root = mount(signed_in(state(mailed, &[])));
    let said = find(&root, "#codes-emailed").await.text_content().unwrap();
    assert!(said.contains("e-mailed the codes"), "{said}");
    let warn = find(&root, ".ready-actions .warn")
        .await
        .text_content()
        .unwrap();
    assert!(warn.contains("2 views left"), "{warn}");
}

#[wasm_bindgen_test]
async fn codes_not_mailed_are_not_mentioned() {
    let root = mount(signed_in(state(order("ready", 3), &[])));
    find(&root, "#reveal").await;
    assert!(root.query_selector("#codes-emailed").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn the_card_preview_shows_the_registrys_photo() {
    let mut st = state(serde_json::Value::Null, &[]);
    st["card"] = json!({"first_name": "Anna", "last_name": "Nowak", "birth_date": "2002-07-08",
        "pesel_masked": "*********24", "album_number": "100200", "els_number": "ELS/1",
        "valid_until": null, "university": "Uniwersytet Demo", "has_photo": true,
        "photo_available": true});
    let mut answers = signed_in(st);
    answers["card_photo"] = json!({"ok": {"data_url": "data:image/png;base64,iVBORw0KGgo="}});
    let root = mount(answers);
    let img = find(&root, "#card-photo-img").await;
    assert_eq!(
        img.get_attribute("src").unwrap(),
        "data:image/png;base64,iVBORw0KGgo="
    );
    assert!(calls().contains("card_photo"));
}

/// Waits for the focus to be on the heading saying `text`.
async fn focused_heading(text: &str) {
    let focused = || {
        js("const a = document.activeElement; return a && a.tagName === 'H1' ? a.textContent : '';")
            .as_string()
            .unwrap()
    };
    for _ in 0..100 {
        if focused() == text {
            return;
        }
        tick().await;
    }
    panic!("the focus is on {:?}, not the heading {text:?}", focused());
}

#[wasm_bindgen_test]
async fn an_ineligible_student_sees_what_to_do_and_no_order_button() {
    let root = mount(signed_in(state(serde_json::Value::Null, &["has_photo"])));
    let failed = find(&root, ".checklist li.failed")
        .await
        .text_content()
        .unwrap();
    assert!(failed.contains("Add your photo"), "{failed}");
    assert_eq!(
        root.query_selector_all(".checklist li.failed")
            .unwrap()
            .length(),
        1
    );
    assert!(root.query_selector("#order").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn an_eligible_student_can_order() {
    let mut answers = signed_in(state(serde_json::Value::Null, &[]));
    answers["place_order"] = json!({"ok": order("pending", 3)});
    let root = mount(answers);
    assert!(
        disabled(&root, "#order").await,
        "ordering waits for the terms"
    );
    click(&root, "#terms").await;
    tick().await;
    // The server's state after the order: the page reads it again.
    js(&format!(
        "window.__mock.student_state = {{ok: {}}};",
        state(order("pending", 3), &[])
    ));
    click(&root, "#order").await;
    find(&root, "#status[data-status='pending']").await;
    let calls = calls();
    assert!(calls.contains("place_order"), "{calls}");
}

#[wasm_bindgen_test]
fn every_code_and_status_has_a_sentence_in_both_languages() {
    use legitka_ui::i18n::{set_locale, t};
    use legitka_ui::text::{error_sentence, status_hint, status_label};
    use legitka_wire::{ErrorCode, Locale, OrderStatus};
    for locale in [Locale::Pl, Locale::En] {
        set_locale(locale);
        for &code in ErrorCode::ALL {
            let s = error_sentence(code);
            assert!(s.ends_with('.'), "{locale:?} {code:?}: {s}");
            assert!(!s.contains('_') && !s.contains('{'), "{code:?}");
        }
        for &status in OrderStatus::ALL {
            assert!(!status_label(Some(status)).starts_with("status-"));
            assert!(status_hint(Some(status), true).ends_with('.'));
        }
        // No order yet: the Order button is named only when it is there.
        let (can, cannot) = (status_hint(None, true), status_hint(None, false));
        let button = t("home-order");
        assert!(
            can.contains(if locale == Locale::Pl {
                "Zamów"
            } else {
                "Order"
            }),
            "{can}"
        );
        assert!(
            !cannot.contains("Zamów") && !cannot.contains("Order"),
            "{cannot}"
        );
        assert!(!button.is_empty());
        assert!(!t("app-lead").is_empty());
    }
    set_locale(Locale::Pl);
    assert_eq!(
        error_sentence(ErrorCode::RateLimited),
        "Zbyt wiele prób. Odczekaj minutę i spróbuj ponownie."
    );
    set_locale(Locale::En);
}

#[wasm_bindgen_test]
fn polish_and_english_have_the_same_keys_and_every_code_has_one() {
    use legitka_ui::i18n::{EN_FTL, PL_FTL, ids};
    use std::collections::BTreeSet;
    let pl: BTreeSet<String> = ids(PL_FTL).into_iter().collect();
    let en: BTreeSet<String> = ids(EN_FTL).into_iter().collect();
    assert!(pl.len() > 100, "{}", pl.len());
    assert_eq!(
        pl.symmetric_difference(&en).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "keys in one language only"
    );
    for id in legitka_ui::text::code_ids() {
        assert!(pl.contains(&id) && en.contains(&id), "{id} missing");
    }
}

#[wasm_bindgen_test]
fn polish_plurals_for_views_and_minutes() {
    use legitka_ui::i18n::{set_locale, tr};
    use legitka_wire::Locale;
    set_locale(Locale::Pl);
    for (n, want) in [
        (1, "zostało 1 wyświetlenie"),
        (2, "zostały 2 wyświetlenia"),
        (5, "zostało 5 wyświetleń"),
        (12, "zostało 12 wyświetleń"),
        (22, "zostały 22 wyświetlenia"),
        (112, "zostało 112 wyświetleń"),
    ] {
        let s = tr("reveal-warning", &[("left", n.into())]);
        assert!(s.contains(want), "{n}: {s}");
    }
    for (n, want) in [
        (1, "1 minutę"),
        (2, "2 minuty"),
        (5, "5 minut"),
        (22, "22 minuty"),
    ] {
        let s = tr("home-updated", &[("minutes", n.into())]);
        assert!(s.contains(want), "{n}: {s}");
    }
    set_locale(Locale::En);
    assert!(tr("reveal-warning", &[("left", 1.into())]).contains("1 view left"));
    assert!(tr("reveal-warning", &[("left", 2.into())]).contains("2 views left"));
}

#[wasm_bindgen_test]
async fn settings_switch_the_language_and_sign_out_goes_back_to_sign_in() {
    let mut answers = signed_in(state(order("in_progress", 3), &[]));
    answers["sign_out"] = json!({"ok": null});
    answers["set_preferences"] = json!({"ok": null});
    let root = mount(answers);
    find(&root, "#status[data-status='in_progress']").await;
    assert_eq!(
        find(&root, "#status").await.text_content().unwrap(),
        "Being prepared"
    );
    click(&root, "#open-settings").await;
    let select: web_sys::HtmlSelectElement = find(&root, "#language").await.dyn_into().unwrap();
    select.set_value("pl");
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    click(&root, "#settings-back").await;
    find(&root, "#status[data-status='in_progress']").await;
    assert_eq!(
        find(&root, "#status").await.text_content().unwrap(),
        "W przygotowaniu"
    );
    assert_eq!(
        find(&root, ".app").await.get_attribute("lang").unwrap(),
        "pl"
    );
    // The shell hears the choice, and it is remembered on this device.
    let calls = calls();
    assert!(calls.contains("set_preferences"), "{calls}");
    let saved = js("return window.localStorage.getItem('legitka.preferences');")
        .as_string()
        .unwrap();
    assert!(saved.contains("\"pl\""), "{saved}");

    click(&root, "#open-settings").await;
    // About: every library the app ships, under its licence, counted in Polish.
    let licences = find(&root, "#licences").await.text_content().unwrap();
    let shipped = legitka_ui::pages::settings::licence_groups();
    let count: usize = shipped.iter().map(|(_, l)| l.len()).sum();
    assert!(count > 100, "{count}");
    assert!(
        licences.contains(&format!("({count} bibliotek)")),
        "{licences}"
    );
    for library in ["yew ", "tauri ", "serde "] {
        assert!(licences.contains(library), "{library} missing");
    }
    assert!(shipped.iter().any(|(l, _)| *l == "Apache-2.0 OR MIT"));
    // The texts are a file beside the app, read when asked for.
    assert!(root.query_selector("#licence-texts").unwrap().is_none());
    click(&root, "#licence-texts-open").await;
    let texts = find(&root, "#licence-texts").await.text_content().unwrap();
    assert!(texts.contains("Apache License"), "{}", &texts[..200]);
    assert!(
        texts.contains("yew 0.23"),
        "the UI's own libraries are there"
    );
    click(&root, "#sign-out").await;
    find(&root, "#username").await;
    let cached = js("return window.localStorage.getItem('legitka.last-state');");
    assert!(cached.is_null(), "sign-out forgets the cached status");
}

/// Whether a plugin listens to `key` (`plugin:event`) right now.
fn plugin_listens(key: &str) -> bool {
    js(&format!("return '{key}' in window.__plugins;"))
        .as_bool()
        .unwrap()
}

/// Android's Back button, as the app plugin hands it to a listener.
fn press_back() {
    js("window.__plugins['app:back-button']({ canGoBack: false });");
}

fn press_escape() {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Escape");
    let e = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .dispatch_event(&e)
        .unwrap();
}

async fn until(what: &str, check: impl Fn() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tick().await;
    }
    panic!("{what} never happened");
}

#[wasm_bindgen_test]
async fn back_returns_to_the_previous_screen_and_closes_the_codes_for_good() {
    let mut answers = signed_in(state(order("ready", 3), &[]));
    answers["reveal"] = json!({"ok": {
        "qrSvg": "<svg/>", "qrPayload": "MLEG1.ab", "manualCode": "ABCD-EFGH-JKLM-NPQR",
        "activationCode": "12345678", "expiresAt": 1_800_000_000_000i64, "revealsLeft": 2}});
    let root = mount(answers);
    find(&root, "#status[data-status='ready']").await;
    // Home is a first screen: Back is the system's (it leaves the app).
    tick().await;
    assert!(!plugin_listens("app:back-button"));

    // Settings: the phone's Back returns home, and the system's Back is back.
    click(&root, "#open-settings").await;
    find(&root, "#language").await;
    until("a Back listener", || plugin_listens("app:back-button")).await;
    press_back();
    find(&root, "#status[data-status='ready']").await;
    until("the Back listener gone", || {
        !plugin_listens("app:back-button")
    })
    .await;

    // The codes: Back closes them; nothing brings them back but a reveal.
    click(&root, "#reveal").await;
    find(&root, "#activation-code").await;
    until("a Back listener", || plugin_listens("app:back-button")).await;
    press_back();
    find(&root, "#status[data-status='ready']").await;
    assert!(root.query_selector("#activation-code").unwrap().is_none());
    press_escape();
    tick().await;
    assert!(root.query_selector("#activation-code").unwrap().is_none());
    find(&root, "#status[data-status='ready']").await;

    // Escape is a computer's Back.
    click(&root, "#open-settings").await;
    find(&root, "#language").await;
    press_escape();
    find(&root, "#status[data-status='ready']").await;
    assert_eq!(calls().matches("reveal").count(), 1);
}

#[wasm_bindgen_test]
async fn a_link_to_another_university_asks_before_switching() {
    let mut answers = signed_in(state(order("in_progress", 3), &[]));
    answers["check_university"] = json!({"ok": {"kind": "pair", "code": "WXYZ2345",
        "university": {"name": "Politechnika Testowa", "server": "https://legitka.pt.example"}}});
    answers["take_opened_link"] = json!({"ok": null});
    answers["sign_out"] = json!({"ok": null});
    answers["sign_in_with_code"] =
        json!({"ok": {"server": "https://legitka.pt.example", "persisted": true}});
    let root = mount(answers);
    find(&root, "#status[data-status='in_progress']").await;

    // The system hands over a link to another university: asked, not followed.
    js("window.__mock.take_opened_link = \
        {ok: 'https://legitka.pt.example/open/pair?code=WXYZ2345'};");
    emit("link-opened", json!(null));
    let body = find(&root, "#switch-body").await.text_content().unwrap();
    assert!(
        body.contains("Politechnika Testowa at https://legitka.pt.example")
            && body.contains("Uniwersytet Demo"),
        "{body}"
    );
    find(&root, "#switch-signs-out").await;
    focused_heading("Switch university?").await;
    // Staying (or Back) changes nothing.
    click(&root, "#switch-no").await;
    find(&root, "#status[data-status='in_progress']").await;
    emit("link-opened", json!(null));
    find(&root, "#switch-yes").await;
    press_escape();
    find(&root, "#status[data-status='in_progress']").await;
    assert!(!calls().contains("sign_out") && !calls().contains("sign_in_with_code"));

    // Switching: signed out here, signed in there.
    emit("link-opened", json!(null));
    click(&root, "#switch-yes").await;
    until("signed in at the other university", || {
        calls().contains("sign_in_with_code")
    })
    .await;
    let calls = calls();
    assert!(
        calls.find("sign_out") < calls.find("sign_in_with_code"),
        "{calls}"
    );
    find(&root, "#status").await;
    let saved = js("return window.localStorage.getItem('legitka.university');")
        .as_string()
        .unwrap();
    assert!(saved.contains("Politechnika Testowa"), "{saved}");
}

#[wasm_bindgen_test]
async fn a_link_to_the_chosen_university_is_followed_without_asking() {
    let mut answers = signed_in(state(serde_json::Value::Null, &[]));
    answers["restore_session"] = json!({"ok": null});
    answers["check_university"] = json!({"ok": {"kind": "pair", "code": "WXYZ2345",
        "university": {"name": "Uniwersytet Demo", "server": "http://127.0.0.1:8080"}}});
    answers["take_opened_link"] =
        json!({"ok": "legitka://pair?server=http%3A%2F%2F127.0.0.1%3A8080&code=WXYZ2345"});
    answers["sign_in_with_code"] =
        json!({"ok": {"server": "http://127.0.0.1:8080", "persisted": true}});
    // The app is started with the link (a cold start): signed in at once.
    let root = mount(answers);
    find(&root, "#status[data-status='none']").await;
    assert!(root.query_selector("#switch-yes").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn cancelling_asks_first_then_shows_the_new_status() {
    let mut answers = signed_in(state(order("pending", 3), &[]));
    answers["order_action"] =
        json!({"ok": {"order": order("cancelled", 3), "mayStayValidUntil": null}});
    let root = mount(answers);
    click(&root, "#cancel").await;
    find(&root, "#cancel-question").await;
    let calls = calls();
    assert!(
        !calls.contains("order_action"),
        "nothing happens before the confirmation"
    );
    // The server now answers with the cancelled order.
    js(&format!(
        "window.__mock.student_state = {{ok: {}}};",
        state(order("cancelled", 3), &[])
    ));
    click(&root, "#cancel-confirm").await;
    find(&root, "#status[data-status='cancelled']").await;
}

#[wasm_bindgen_test]
async fn an_offline_start_shows_the_last_status_with_its_age_and_disables_actions() {
    js("window.localStorage.clear();");
    let cached = json!({"state": state(order("in_progress", 3), &[]), "at": js_sys::Date::now() - 5.0 * 60_000.0});
    js(&format!(
        "window.localStorage.setItem('legitka.last-state', JSON.stringify({cached}));"
    ));
    let answers = json!({
        "app_config": config(false),
        "restore_session": {"ok": {"server": "http://127.0.0.1:8080", "persisted": true}},
        "student_state": {"err": {"code": "server_unreachable", "message": "offline"}},
    });
    let root = mount_keeping_storage(answers);
    find(&root, "#status[data-status='in_progress']").await;
    let banner = find(&root, "#offline").await.text_content().unwrap();
    assert!(banner.contains("5 minutes ago"), "{banner}");
    assert!(disabled(&root, "#cancel").await);
}

#[wasm_bindgen_test]
async fn the_cached_home_waits_for_the_session_before_any_action() {
    js("window.localStorage.clear();");
    let cached = json!({"state": state(order("in_progress", 3), &[]), "at": js_sys::Date::now()});
    js(&format!(
        "window.localStorage.setItem('legitka.last-state', JSON.stringify({cached}));"
    ));
    let mut answers = signed_in(state(order("in_progress", 3), &[]));
    answers["restore_session"] = json!({"pending": true});
    let root = mount_keeping_storage(answers);
    // Painted from the cache at once, but a tap now would reach a shell
    // that has no session yet: the actions wait, with no offline banner.
    assert!(disabled(&root, "#cancel").await);
    assert!(root.query_selector("#offline").unwrap().is_none());
    js("window.__resolve.restore_session({server: 'http://127.0.0.1:8080', persisted: true});");
    for _ in 0..100 {
        if !disabled(&root, "#cancel").await {
            return;
        }
        tick().await;
    }
    panic!("the actions stayed disabled after the session was restored");
}

#[wasm_bindgen_test]
async fn a_typed_pairing_code_signs_in() {
    let mut answers = signed_in(state(serde_json::Value::Null, &[]));
    answers["restore_session"] = json!({"ok": null});
    answers["sign_in_with_code"] =
        json!({"ok": {"server": "http://127.0.0.1:8080", "persisted": true}});
    let root = mount(answers);
    click(&root, "#switch-sign-in").await;
    find(&root, "#pair-code").await;
    assert!(root.query_selector("#password").unwrap().is_none());
    click(&root, "#sign-in").await;
    let error = find(&root, "#error").await.text_content().unwrap();
    assert_eq!(error, "Enter the pairing code.");
    set_input(&find(&root, "#pair-code").await, "ABCD2345");
    click(&root, "#sign-in").await;
    find(&root, "#status[data-status='none']").await;
    let calls = calls();
    assert!(
        calls.contains("sign_in_with_code") && !calls.contains("sign_in,"),
        "{calls}"
    );
}

#[wasm_bindgen_test]
async fn a_pairing_link_on_sign_in_switches_to_its_university() {
    // The demo university is chosen, but the pasted link is another's: the
    // session and the university the app names must be that one.
    let mut answers = signed_in(state(serde_json::Value::Null, &[]));
    answers["restore_session"] = json!({"ok": null});
    answers["check_university"] = json!({"ok": {"kind": "pair", "code": "WXYZ2345",
        "university": {"name": "Politechnika Testowa", "server": "https://legitka.pt.example"}}});
    answers["sign_in_with_code"] =
        json!({"ok": {"server": "https://legitka.pt.example", "persisted": true}});
    let root = mount(answers);
    js(
        "window.__args = []; const inv = window.__TAURI__.core.invoke; \
        window.__TAURI__.core.invoke = (c, a) => { window.__args.push([c, a]); return inv(c, a); };",
    );
    click(&root, "#switch-sign-in").await;
    set_input(
        &find(&root, "#pair-code").await,
        " legitka://pair?server=https://legitka.pt.example&code=WXYZ2345",
    );
    click(&root, "#sign-in").await;
    find(&root, "#status[data-status='none']").await;
    let signed_in_at =
        js("return JSON.stringify(window.__args.find(([c]) => c === 'sign_in_with_code')[1]);")
            .as_string()
            .unwrap();
    assert!(
        signed_in_at.contains("https://legitka.pt.example") && signed_in_at.contains("WXYZ2345"),
        "{signed_in_at}"
    );
    let saved = js("return window.localStorage.getItem('legitka.university');")
        .as_string()
        .unwrap();
    assert!(saved.contains("Politechnika Testowa"), "{saved}");
}

fn set_server_state(state: serde_json::Value) {
    js(&format!("window.__mock.student_state = {{ok: {state}}};"));
}

fn set_input(el: &Element, value: &str) {
    el.clone()
        .dyn_into::<HtmlInputElement>()
        .unwrap()
        .set_value(value);
}

#[wasm_bindgen_test]
async fn the_first_launch_picks_the_university_by_list_or_address() {
    let root = mount_first_launch(json!({
        "app_config": config(false),
        "restore_session": {"ok": null},
        "check_university": {"err": {"code": "bad_response", "message": "not JSON"}},
    }));
    // No camera on a desktop: no scan button.
    find(&root, "#university-0").await;
    assert!(root.query_selector("#scan-setup").unwrap().is_none());
    // An empty address is refused at once; a wrong one after asking it.
    click(&root, "#university-continue").await;
    let error = find(&root, "#error").await.text_content().unwrap();
    assert_eq!(error, "Enter your university's Legitka address.");
    set_input(&find(&root, "#university-address").await, "example.com");
    click(&root, "#university-continue").await;
    for _ in 0..100 {
        if find(&root, "#error")
            .await
            .text_content()
            .unwrap()
            .contains("understand")
        {
            break;
        }
        tick().await;
    }
    let error = find(&root, "#error").await.text_content().unwrap();
    assert!(error.contains("answer we don't understand"), "{error}");
    assert!(root.query_selector("#username").unwrap().is_none());

    // The list: the server confirms who it is, and sign-in names it.
    js(
        r#"window.__mock.check_university = {ok: {kind: "setup", university: {name: "Uniwersytet Demo (potwierdzony)", server: "http://127.0.0.1:8080"}}};"#,
    );
    click(&root, "#university-0").await;
    find(&root, "#username").await;
    let name = find(&root, "#university-name")
        .await
        .text_content()
        .unwrap();
    assert_eq!(name, "Uniwersytet Demo (potwierdzony)");
    let saved = js("return window.localStorage.getItem('legitka.university');")
        .as_string()
        .unwrap();
    assert!(saved.contains("potwierdzony"), "{saved}");
    // "Change" goes back to the list.
    click(&root, "#change-university").await;
    find(&root, "#university-0").await;
}

#[wasm_bindgen_test]
async fn a_pasted_pairing_link_signs_in_from_the_first_screen() {
    let root = mount_first_launch(json!({
        "app_config": config(false),
        "restore_session": {"ok": null},
        "check_university": {"ok": {"kind": "pair", "code": "ABCD2345",
            "university": {"name": "Uniwersytet Demo", "server": "http://127.0.0.1:8080"}}},
        "sign_in_with_code": {"ok": {"server": "http://127.0.0.1:8080", "persisted": true}},
        "student_state": {"ok": state(serde_json::Value::Null, &[])},
    }));
    set_input(
        &find(&root, "#university-address").await,
        "legitka://pair?server=http://127.0.0.1:8080&code=ABCD2345",
    );
    click(&root, "#university-continue").await;
    find(&root, "#status[data-status='none']").await;
    let calls = calls();
    assert!(
        calls.contains("check_university,sign_in_with_code"),
        "{calls}"
    );
}

#[wasm_bindgen_test]
async fn notices_are_asked_about_at_the_first_order_not_at_start() {
    let mut answers = signed_in(state(serde_json::Value::Null, &[]));
    answers["app_config"] = config(true);
    answers["place_order"] = json!({"ok": order("pending", 3)});
    answers["notice_permission"] = json!({"ok": "prompt"});
    answers["allow_notices"] = json!({"ok": "granted"});
    let root = mount(answers.clone());
    click(&root, "#terms").await;
    tick().await;
    // Nothing asked at start …
    assert!(!calls().contains("notice_permission"), "{}", calls());
    click(&root, "#order").await;
    // … but at the order, with a sentence why; the OS asks only on "turn on".
    let ask = find(&root, "#notices-ask").await.text_content().unwrap();
    assert!(
        ask.contains("the moment your mLegitymacja is ready"),
        "{ask}"
    );
    assert!(!calls().contains("allow_notices"));
    click(&root, "#notices-on").await;
    until("the OS asked", || calls().contains("allow_notices")).await;
    until("the question gone", || {
        root.query_selector("#notices-ask").unwrap().is_none()
    })
    .await;

    // Asked once: the next order asks nothing.
    let root = mount_keeping_storage(answers);
    click(&root, "#terms").await;
    tick().await;
    click(&root, "#order").await;
    find(&root, "#status").await;
    tick().await;
    tick().await;
    assert!(root.query_selector("#notices-ask").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn refused_notices_say_where_to_turn_them_on() {
    let mut answers = signed_in(state(serde_json::Value::Null, &[]));
    answers["app_config"] = config(true);
    answers["place_order"] = json!({"ok": order("pending", 3)});
    answers["notice_permission"] = json!({"ok": "prompt"});
    answers["allow_notices"] = json!({"ok": "denied"});
    let root = mount(answers);
    click(&root, "#terms").await;
    tick().await;
    set_server_state(state(order("pending", 3), &[]));
    click(&root, "#order").await;
    click(&root, "#notices-on").await;
    let off = find(&root, "#notices-off").await.text_content().unwrap();
    assert!(off.contains("settings for Legitka"), "{off}");
    // The app works on: the order is placed and shown.
    find(&root, "#status[data-status='pending']").await;
    click(&root, "#notices-ok").await;
    until("the note gone", || {
        root.query_selector("#notices-off").unwrap().is_none()
    })
    .await;
}

#[wasm_bindgen_test]
async fn phones_scan_the_setup_qr_and_open_mobywatel() {
    let root = mount_first_launch(json!({
        "app_config": config(true),
        "restore_session": {"ok": null},
        "plugin:barcode-scanner|request_permissions": {"ok": {"camera": "denied"}},
        "plugin:barcode-scanner|scan": {"ok": {"content": "legitka://setup?server=http://127.0.0.1:8080", "format": "QR_CODE"}},
        "check_university": {"ok": {"kind": "setup",
            "university": {"name": "Uniwersytet Demo", "server": "http://127.0.0.1:8080"}}},
    }));
    // The camera is asked for as the scanner opens; refused, the student
    // is told where to allow it, and typing still works.
    click(&root, "#scan-setup").await;
    let said = find(&root, "#error").await.text_content().unwrap();
    assert!(said.contains("settings for Legitka"), "{said}");
    assert!(!calls().contains("plugin:barcode-scanner|scan"));
    js("window.__mock['plugin:barcode-scanner|request_permissions'] = {ok: {camera: 'granted'}};");
    click(&root, "#scan-setup").await;
    find(&root, "#username").await;
    // On sign-in, pairing can scan too.
    click(&root, "#switch-sign-in").await;
    find(&root, "#scan-pair").await;

    let mut answers = signed_in(state(order("ready", 3), &[]));
    answers["app_config"] = config(true);
    answers["reveal"] = json!({"ok": {"qrSvg": "<svg></svg>", "qrPayload": "MLEG1.x",
        "manualCode": "1234-5678", "activationCode": "ABCD-EFGH", "expiresAt": 1_800_000_000_000i64, "revealsLeft": 2}});
    answers["open_mobywatel"] = json!({"ok": null});
    let root = mount(answers);
    click(&root, "#reveal").await;
    click(&root, "#open-mobywatel").await;
    for _ in 0..100 {
        let calls = calls();
        if calls.contains("open_mobywatel") {
            return;
        }
        tick().await;
    }
    panic!("mObywatel was not opened");
}

#[wasm_bindgen_test]
async fn the_theme_is_the_systems_unless_chosen() {
    let mut answers = signed_in(state(order("in_progress", 3), &[]));
    answers["set_preferences"] = json!({"ok": null});
    let root = mount(answers);
    let theme = || js("return document.documentElement.getAttribute('data-theme');").as_string();
    click(&root, "#open-settings").await;
    let select: web_sys::HtmlSelectElement = find(&root, "#theme").await.dyn_into().unwrap();
    assert_eq!(select.value(), "system");
    assert_eq!(theme(), None);
    select.set_value("dark");
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    tick().await;
    assert_eq!(theme().as_deref(), Some("dark"));
    let saved = js("return window.localStorage.getItem('legitka.theme');").as_string();
    assert_eq!(saved.as_deref(), Some("\"dark\""));
    select.set_value("system");
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    tick().await;
    assert_eq!(theme(), None);
}

/// The reducer is pure: the same model and action give the same model,
/// and nothing outside it changes (no storage, no stylesheet).
#[wasm_bindgen_test]
fn the_reducer_keeps_codes_only_while_ready_and_ignores_older_orders() {
    use legitka_ui::state::{Action, Model, Screen, Theme};
    use legitka_wire::{OrderStatus, OrderView, StudentState};
    use std::rc::Rc;
    use yew::Reducible;
    let order = |id: &str, status, created_at| -> OrderView {
        serde_json::from_value(json!({"id": id, "kind": "new", "status": status,
            "created_at": created_at, "updated_at": created_at, "reveals_left": 3,
            "activation_expires_at": null, "card_valid_until": null, "reason": null}))
        .unwrap()
    };
    let state: StudentState = serde_json::from_value(json!({
        "student": {"first_name": "Anna", "last_name": "Nowak", "album_number": "1"},
        "eligible": true, "checks": [], "actions": ["reveal"],
        "order": order("o2", "ready", 20)}))
    .unwrap();
    let codes: legitka_ui::invoke::RevealedCodes = serde_json::from_value(json!({
        "qrSvg": "<svg/>", "qrPayload": "Q", "manualCode": "M", "activationCode": "A",
        "expiresAt": 1, "revealsLeft": 2}))
    .unwrap();
    let storage_before = web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .length()
        .unwrap();
    let m = Rc::new(Model::default())
        .reduce(Action::Loaded(Box::new(state), 77))
        .reduce(Action::Revealed(codes));
    assert_eq!(m.updated_at, Some(77));
    assert_eq!(m.screen, Screen::Home);
    assert!(m.codes.is_some());
    assert_eq!(
        m.student
            .as_ref()
            .unwrap()
            .order
            .as_ref()
            .unwrap()
            .reveals_left,
        2
    );
    // Back closes the codes; the history never held them.
    assert!(!m.at_root());
    let closed = m.clone().reduce(Action::Back);
    assert!(closed.codes.is_none() && closed.at_root());
    assert_eq!(closed.clone().reduce(Action::Back), closed);
    let there_and_back = closed
        .clone()
        .reduce(Action::Show(Screen::Settings))
        .reduce(Action::Back);
    assert_eq!(there_and_back, closed);
    // An older order's news does not replace the current one.
    let m = m.reduce(Action::OrderChanged(order("o1", "cancelled", 10)));
    assert_eq!(m.student.as_ref().unwrap().order.as_ref().unwrap().id, "o2");
    // The current order moves on: the codes go.
    let m = m.reduce(Action::OrderChanged(order("o2", "received", 20)));
    assert!(m.codes.is_none());
    assert_eq!(
        m.student.as_ref().unwrap().order.as_ref().unwrap().status,
        OrderStatus::Received
    );
    let m = m
        .reduce(Action::Theme(Theme::Dark))
        .reduce(Action::SignedOut);
    assert_eq!(m.theme, Theme::Dark);
    assert!(m.student.is_none() && m.updated_at.is_none());
    assert_eq!(m.screen, Screen::Welcome);
    // Nothing was written to the device, nor to the page.
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    assert_eq!(storage.length().unwrap(), storage_before);
    let root = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .document_element()
        .unwrap();
    assert_ne!(root.get_attribute("data-theme").as_deref(), Some("dark"));
}
