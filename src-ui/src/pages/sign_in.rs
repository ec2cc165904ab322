use crate::components::{brand, help};
use crate::flows::{
    LinkFrom, choose, enter, follow_link, is_link, run_busy, scan_and_follow, sign_in_in_browser,
};
use crate::hooks::use_opened_link;
use crate::i18n::t;
use crate::invoke;
use crate::state::Store;
use legitka_wire::SignInMethod;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[function_component(SignIn)]
pub fn sign_in() -> Html {
    let store = use_context::<Store>().expect("store");
    let server = store
        .university
        .as_ref()
        .map(|u| u.server.clone())
        .unwrap_or_default();
    let username = use_node_ref();
    let password = use_node_ref();
    let pair_code = use_node_ref();
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    // Desktop has no camera: the pairing code is typed (or its link pasted).
    let pairing = use_state(|| false);
    // The browser was opened for the sign-in (USOS, or the university's own
    // page): the way back is a link that opens the app, or the code its
    // page shows.
    let usos_opened = use_state(|| false);
    use_opened_link(&store, &error, &busy);
    // The words for the browser sign-in: USOS's, or the university's own.
    let in_browser = match store.university.as_ref().map(|u| u.sign_in) {
        Some(SignInMethod::Usos) => Some("usos"),
        Some(SignInMethod::Browser) => Some("sso"),
        Some(SignInMethod::Password) | None => None,
    };
    let usos = in_browser.is_some();
    let said = move |key: &str| t(&format!("{}-{key}", in_browser.unwrap_or("usos")));
    let with_code = *pairing || *usos_opened;

    let onsubmit = {
        let (store, error, busy) = (store.clone(), error.clone(), busy.clone());
        let pairing = with_code;
        let (server, username, password, pair_code) = (
            server.clone(),
            username.clone(),
            password.clone(),
            pair_code.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let value = |r: &NodeRef| {
                r.cast::<HtmlInputElement>()
                    .map(|i| i.value())
                    .unwrap_or_default()
            };
            let (srv, user, pass, code) = (
                server.clone(),
                value(&username),
                value(&password),
                value(&pair_code),
            );
            if pairing && code.trim().is_empty() {
                error.set(Some(t("pair-missing")));
                return;
            }
            if !pairing && (user.trim().is_empty() || pass.is_empty()) {
                error.set(Some(t("sign-in-missing")));
                return;
            }
            // A pasted pairing link names its university: it becomes the chosen one.
            if pairing && is_link(&code) {
                follow_link(store.clone(), code, LinkFrom::Student, &error, &busy);
                return;
            }
            let (store, with_code) = (store.clone(), pairing);
            run_busy(&error, &busy, async move {
                let info = if with_code {
                    invoke::sign_in_with_code(&srv, &code).await?
                } else {
                    invoke::sign_in(&srv, &user, &pass).await?
                };
                enter(&store, &info);
                Ok(())
            });
        })
    };

    let university_name = store
        .university
        .as_ref()
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let can_scan = store.config.as_ref().is_some_and(|c| c.can_scan);
    let change = {
        let store = store.clone();
        Callback::from(move |_| choose(&store, None))
    };
    // Phones: the pairing QR from the university's /pair page, by camera.
    let scan = scan_and_follow(&store, &error, &busy);
    html! {
        <main class="page sign-in">
            { brand() }
            <div class="chosen">
                <p>
                    <span class="muted small">{ t("sign-in-university") }</span>
                    <strong id="university-name">{ university_name }</strong>
                </p>
                <button id="change-university" class="link" onclick={change}>{ t("sign-in-change") }</button>
            </div>
            if usos && !with_code {
                <p id="usos-help" class="muted">{ said("sign-in-help") }</p>
                <button id="sign-in-usos" class="primary" disabled={*busy}
                    onclick={sign_in_in_browser(&store, &error, &busy, &usos_opened)}>
                    { said("sign-in-button") }
                </button>
                if let Some(msg) = (*error).clone() {
                    <p id="error" class="error" role="alert">{ msg }</p>
                }
            } else {
                if *usos_opened {
                    <p id="usos-waiting" class="banner" role="status">{ said("waiting") }</p>
                }
                <form {onsubmit} novalidate=true>
                    if with_code && can_scan {
                        <button id="scan-pair" type="button" class="secondary" onclick={scan}>{ t("pair-scan") }</button>
                    }
                    if with_code {
                        <label for="pair-code">{ t("pair-code") }</label>
                        <input id="pair-code" ref={pair_code} autocomplete="one-time-code"
                            autocapitalize="characters" aria-describedby="pair-help" />
                        <p id="pair-help" class="muted small">
                            { if usos { said("pair-help") } else { t("pair-help") } }
                        </p>
                    } else {
                        <label for="username">{ t("sign-in-username") }</label>
                        <input id="username" ref={username} autocomplete="username" autocapitalize="none" />
                        <label for="password">{ t("sign-in-password") }</label>
                        <input id="password" ref={password} type="password" autocomplete="current-password" />
                    }
                    if let Some(msg) = (*error).clone() {
                        <p id="error" class="error" role="alert">{ msg }</p>
                    }
                    <button id="sign-in" class="primary" type="submit" disabled={*busy}>
                        { if *busy { t("sign-in-busy") } else { t("sign-in-button") } }
                    </button>
                </form>
            }
            <button id="switch-sign-in" class="link" onclick={{
                let (pairing, opened, error) = (pairing.clone(), usos_opened.clone(), error.clone());
                Callback::from(move |_| {
                    error.set(None);
                    if *opened { opened.set(false); pairing.set(false); } else { pairing.set(!*pairing); }
                })
            }}>
                { match (with_code, usos) {
                    (false, _) => t("sign-in-with-code"),
                    (true, true) => said("sign-in-again"),
                    (true, false) => t("sign-in-with-password"),
                } }
            </button>
            { help(store.university.as_ref()) }
        </main>
    }
}
