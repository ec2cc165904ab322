//! Language, notices, sign-out, about.

use crate::flows::{set_preferences, set_theme, sign_out};
use crate::i18n::{LANGUAGES, t, tr};
use crate::state::{Action, Store, Theme};
use legitka_wire::Locale;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The libraries the app ships and their licences (`scripts/licences`
/// writes the list from Cargo's lock file; a test checks it is current).
const LICENCES: &str = include_str!("../../licences.tsv");

/// The libraries grouped by licence: (licence, ["name version", …]).
pub fn licence_groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (licence, library) in LICENCES.lines().filter_map(|l| l.split_once('\t')) {
        match groups.last_mut() {
            Some((l, libraries)) if *l == licence => libraries.push(library),
            _ => groups.push((licence, vec![library])),
        }
    }
    groups
}

/// The licence texts, read from the app's files when the student asks.
#[function_component(LicenceTexts)]
fn licence_texts() -> Html {
    let texts = use_state(|| None::<Result<String, ()>>);
    let open = {
        let texts = texts.clone();
        Callback::from(move |_| {
            let texts = texts.clone();
            wasm_bindgen_futures::spawn_local(async move {
                texts.set(Some(crate::flows::licence_texts().await));
            });
        })
    };
    match &*texts {
        None => html! {
            <button id="licence-texts-open" class="link" onclick={open}>
                { t("settings-licence-texts") }
            </button>
        },
        Some(Ok(text)) => html! {
            <pre id="licence-texts" class="licence-texts" lang="en" tabindex="0">{ text.clone() }</pre>
        },
        Some(Err(())) => html! {
            <p class="error" role="alert">{ t("settings-licence-texts-failed") }</p>
        },
    }
}

fn licences() -> Html {
    let groups = licence_groups();
    let count: usize = groups.iter().map(|(_, l)| l.len()).sum();
    html! {
        <details id="licences" class="licences">
            <summary>{ tr("settings-licences", &[("count", count.into())]) }</summary>
            { for groups.into_iter().map(|(licence, libraries)| html! {
                <>
                    <h3 lang="en">{ licence }</h3>
                    <p class="muted small">{ libraries.join(", ") }</p>
                </>
            }) }
        </details>
    }
}

#[function_component(Settings)]
pub fn settings() -> Html {
    let store = use_context::<Store>().expect("store");
    let on_language = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let locale = Locale::parse(&value).unwrap_or(Locale::Pl);
            set_preferences(&store, locale, store.notifications);
        })
    };
    let on_notifications = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            let on = e.target_unchecked_into::<HtmlInputElement>().checked();
            set_preferences(&store, store.locale, on);
        })
    };
    let on_theme = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let theme = Theme::ALL
                .into_iter()
                .find(|t| t.as_str() == value)
                .unwrap_or_default();
            set_theme(&store, theme);
        })
    };
    let back = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::Back))
    };
    let out = {
        let store = store.clone();
        Callback::from(move |_| sign_out(&store))
    };
    html! {
        <main class="page settings">
            <header class="top">
                <h1>{ t("settings-title") }</h1>
                <button id="settings-back" class="link" onclick={back}>{ t("settings-back") }</button>
            </header>
            <section class="card">
                <label for="language">{ t("settings-language") }</label>
                <select id="language" onchange={on_language}>
                    { for LANGUAGES.into_iter().map(|(locale, name)| html! {
                        <option value={locale.as_str()} selected={store.locale == locale}>{ name }</option>
                    }) }
                </select>
                <label for="theme">{ t("settings-theme") }</label>
                <select id="theme" onchange={on_theme}>
                    { for Theme::ALL.into_iter().map(|theme| html! {
                        <option value={theme.as_str()} selected={store.theme == theme}>
                            { t(&format!("theme-{}", theme.as_str())) }
                        </option>
                    }) }
                </select>
                <label class="switch" for="notifications">
                    <input id="notifications" type="checkbox" role="switch"
                        checked={store.notifications} onchange={on_notifications} />
                    <span>{ t("settings-notifications") }</span>
                </label>
            </section>
            { crate::components::help(store.university.as_ref()) }
            <button id="sign-out" class="secondary" onclick={out}>{ t("settings-sign-out") }</button>
            <section class="about">
                <h2>{ t("settings-about") }</h2>
                <p class="muted small">{ tr("settings-about-text", &[("version", env!("CARGO_PKG_VERSION").into())]) }</p>
                { licences() }
                <LicenceTexts />
            </section>
        </main>
    }
}
