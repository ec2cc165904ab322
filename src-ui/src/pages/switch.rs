//! A link to another university than the chosen one: asked before it is
//! followed (signed in, following it signs the student out here).

use crate::flows::switch_university;
use crate::i18n::{t, tr};
use crate::invoke::Link;
use crate::state::{Action, Store};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub link: Rc<Link>,
}

#[function_component(SwitchUniversity)]
pub fn switch_university_page(props: &Props) -> Html {
    let store = use_context::<Store>().expect("store");
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let new = props.link.university().name.clone();
    // The address too: another server may give itself the same name.
    let address = props.link.university().server.clone();
    let current = store
        .university
        .as_ref()
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let switch = {
        let (store, link, error, busy) = (
            store.clone(),
            props.link.clone(),
            error.clone(),
            busy.clone(),
        );
        Callback::from(move |_| switch_university(&store, (*link).clone(), &error, &busy))
    };
    let stay = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::Ask(None)))
    };
    let names = || {
        [
            ("new", new.clone().into()),
            ("current", current.clone().into()),
            ("address", address.clone().into()),
        ]
    };
    html! {
        <main class="page switch" aria-busy={(*busy).to_string()}>
            <h1>{ t("switch-title") }</h1>
            <p id="switch-body">{ tr("switch-body", &names()) }</p>
            if store.signed_in() {
                <p id="switch-signs-out" class="warn small">{ tr("switch-signed-in", &names()) }</p>
            }
            if let Some(e) = &*error {
                <p id="error" class="error" role="alert">{ e.clone() }</p>
            }
            <button id="switch-yes" class="primary" onclick={switch} disabled={*busy}>{ tr("switch-yes", &names()) }</button>
            <button id="switch-no" class="secondary" onclick={stay} disabled={*busy}>{ tr("switch-no", &names()) }</button>
        </main>
    }
}
