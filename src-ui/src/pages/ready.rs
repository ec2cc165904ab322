//! The codes, large and copyable, with the mObywatel steps beside them.
//! They live in memory while this screen is open; "Done" drops them.

use crate::i18n::t;
use crate::invoke::{self, RevealedCodes};
use crate::state::{Action, Store};
use crate::text::{mobywatel_steps, views_left};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub codes: Rc<RevealedCodes>,
}

/// Groups of four for reading aloud or typing ("1234 5678"); copying takes
/// the code as issued.
fn grouped(code: &str) -> Html {
    let plain: Vec<char> = code.chars().filter(|c| *c != '-').collect();
    html! {
        { for plain.chunks(4).map(|g| html! { <span class="group">{ g.iter().collect::<String>() }</span> }) }
    }
}

#[function_component(Ready)]
pub fn ready(props: &Props) -> Html {
    let store = use_context::<Store>().expect("store");
    let copied = use_state(|| None::<&'static str>);
    let codes = &props.codes;

    let copy = |what: &'static str, text: String| {
        let copied = copied.clone();
        Callback::from(move |_| {
            let (copied, text) = (copied.clone(), text.clone());
            spawn_local(async move {
                if invoke::copy_text(&text).await.is_ok() {
                    copied.set(Some(what));
                }
            });
        })
    };
    let done = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::HideCodes))
    };
    let can_open = store.config.as_ref().is_some_and(|c| c.can_open_mobywatel);
    let open_mobywatel = Callback::from(|_| {
        spawn_local(async {
            let _ = invoke::open_mobywatel().await;
        });
    });
    let qr = Html::from_html_unchecked(AttrValue::from(codes.qr_svg.clone()));
    let confirm = |what: &'static str| {
        (*copied == Some(what))
            .then(|| html! { <span class="copied" role="status">{ t("codes-copied") }</span> })
    };
    html! {
        <main class="page ready">
            <header class="top">
                <h1>{ t("codes-title") }</h1>
                <button id="done" class="link" onclick={done}>{ t("codes-done") }</button>
            </header>
            <p class="warn small">{ views_left(codes.reveals_left, codes.expires_at) }</p>
            <figure id="qr" class="qr" role="img" aria-label={t("codes-qr-label")}>{ qr }</figure>
            <div class="code-box">
                <p class="muted small" id="manual-label">{ t("codes-manual") }</p>
                <p id="manual-code" class="code" aria-labelledby="manual-label" data-code={codes.manual_code.clone()}>{ grouped(&codes.manual_code) }</p>
                <button id="copy-manual" onclick={copy("manual", codes.manual_code.clone())}>{ t("codes-copy") }</button>
                { confirm("manual") }
            </div>
            <div class="code-box">
                <p class="muted small" id="activation-label">{ t("codes-activation") }</p>
                <p id="activation-code" class="code" aria-labelledby="activation-label" data-code={codes.activation_code.clone()}>{ grouped(&codes.activation_code) }</p>
                <button id="copy-activation" onclick={copy("activation", codes.activation_code.clone())}>{ t("codes-copy") }</button>
                { confirm("activation") }
            </div>
            if can_open {
                <button id="open-mobywatel" class="primary" onclick={open_mobywatel}>{ t("codes-open-mobywatel") }</button>
            }
            <section class="steps-box">
                <h2>{ t("codes-in-mobywatel") }</h2>
                <ol>{ for mobywatel_steps().into_iter().map(|s| html! { <li>{ s }</li> }) }</ol>
            </section>
        </main>
    }
}
