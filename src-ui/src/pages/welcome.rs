//! The first screen: which university. The bundled list, the university's
//! setup QR (phones scan it; a pasted `legitka://` link works anywhere) or
//! its address. The server is asked its name before sign-in, so a wrong
//! address is caught here; a pairing QR signs in at once.

use crate::components::brand;
use crate::flows::{LinkFrom, follow_link, scan_and_follow, set_preferences};
use crate::hooks::use_opened_link;
use crate::i18n::{other_language, t};
use crate::state::Store;
use legitka_wire::shell::{University, setup_link};
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[function_component(Welcome)]
pub fn welcome() -> Html {
    let store = use_context::<Store>().expect("store");
    let address = use_node_ref();
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    use_opened_link(&store, &error, &busy);
    let config = store.config.clone();
    let universities = config
        .as_ref()
        .map(|c| c.universities.clone())
        .unwrap_or_default();
    let can_scan = config.as_ref().is_some_and(|c| c.can_scan);

    // A listed university is asked for by its setup link: the server may serve several.
    let pick = |u: &University| {
        let (store, error, busy) = (store.clone(), error.clone(), busy.clone());
        let link = setup_link(&u.server, u.id.as_deref());
        Callback::from(move |_| {
            follow_link(
                store.clone(),
                link.clone(),
                LinkFrom::Student,
                &error,
                &busy,
            )
        })
    };
    let onsubmit = {
        let (store, error, busy, address) =
            (store.clone(), error.clone(), busy.clone(), address.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let value = address
                .cast::<HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            if value.trim().is_empty() {
                error.set(Some(t("welcome-address-missing")));
                return;
            }
            follow_link(store.clone(), value, LinkFrom::Student, &error, &busy);
        })
    };
    let scan = scan_and_follow(&store, &error, &busy);

    // The first launch speaks the system's language; the other is one tap away.
    let (other, other_name) = other_language(store.locale);
    let switch_language = {
        let store = store.clone();
        Callback::from(move |_| set_preferences(&store, other, store.notifications))
    };
    html! {
        <main class="page welcome">
            <div class="language-switch">
                <button id="switch-language" class="link" lang={other.as_str()} onclick={switch_language}>
                    { other_name }
                </button>
            </div>
            { brand() }
            <section class="universities" aria-labelledby="welcome-title">
                <h2 id="welcome-title">{ t("welcome-title") }</h2>
                <ul>
                    { for universities.iter().enumerate().map(|(i, u)| html! {
                        <li>
                            <button id={format!("university-{i}")} class="university" disabled={*busy}
                                onclick={pick(u)}>
                                // A server known only by its address is named by it, once.
                                if u.name == u.server {
                                    <span class="name">{ host(&u.server) }</span>
                                } else {
                                    <span class="name">{ &u.name }</span>
                                    <span class="address muted small">{ host(&u.server) }</span>
                                }
                            </button>
                        </li>
                    }) }
                </ul>
            </section>
            if can_scan {
                <button id="scan-setup" class="secondary" disabled={*busy} onclick={scan}>
                    { t("welcome-scan") }
                </button>
            }
            <form class="other" {onsubmit} novalidate=true>
                <label for="university-address">{ t("welcome-other") }</label>
                <input id="university-address" ref={address} type="url" inputmode="url"
                    autocapitalize="none" autocomplete="url" aria-describedby="address-help" />
                <p id="address-help" class="muted small">{ t("welcome-other-help") }</p>
                <button id="university-continue" type="submit" disabled={*busy}>
                    { if *busy { t("welcome-checking") } else { t("welcome-continue") } }
                </button>
            </form>
            if let Some(msg) = (*error).clone() {
                <p id="error" class="error" role="alert">{ msg }</p>
            }
        </main>
    }
}

/// The address as a student reads it: no scheme.
fn host(server: &str) -> &str {
    server.split_once("://").map_or(server, |(_, rest)| rest)
}
