//! The codes, large and copyable, with the mObywatel steps beside them.
//! They live in memory while this screen is open; "Done" drops them.

use crate::app::{Action, Store};
use crate::invoke::{self, RevealedCodes};
use crate::text::MOBYWATEL_STEPS;
use crate::time::date;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub codes: Rc<RevealedCodes>,
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
    let qr = Html::from_html_unchecked(AttrValue::from(codes.qr_svg.clone()));
    let confirm = |what: &'static str| {
        (*copied == Some(what))
            .then(|| html! { <span class="copied" role="status">{ "Copied" }</span> })
    };
    html! {
        <main class="page ready">
            <header class="top">
                <h1>{ "Your activation codes" }</h1>
                <button id="done" class="link" onclick={done}>{ "Done" }</button>
            </header>
            <p class="warn small">
                { format!("Views left: {}. Valid until {}.", codes.reveals_left, date(codes.expires_at)) }
            </p>
            <figure id="qr" class="qr" aria-label="QR code for mObywatel (scan it from another device)">{ qr }</figure>
            <div class="code-box">
                <p class="muted small" id="manual-label">{ "Code for manual entry" }</p>
                <p id="manual-code" class="code" aria-labelledby="manual-label">{ &codes.manual_code }</p>
                <button id="copy-manual" onclick={copy("manual", codes.manual_code.clone())}>{ "Copy" }</button>
                { confirm("manual") }
            </div>
            <div class="code-box">
                <p class="muted small" id="activation-label">{ "Activation code" }</p>
                <p id="activation-code" class="code" aria-labelledby="activation-label">{ &codes.activation_code }</p>
                <button id="copy-activation" onclick={copy("activation", codes.activation_code.clone())}>{ "Copy" }</button>
                { confirm("activation") }
            </div>
            <section class="steps-box">
                <h2>{ "In mObywatel" }</h2>
                <ol>{ for MOBYWATEL_STEPS.iter().map(|s| html! { <li>{ *s }</li> }) }</ol>
            </section>
        </main>
    }
}
