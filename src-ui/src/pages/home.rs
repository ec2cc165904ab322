use crate::app::{Action, Store, reload};
use crate::invoke::{self, UiError};
use crate::pages::ready::Ready;
use crate::text::{check_text, error_sentence, status_hint, status_label};
use crate::time::date;
use legitka_wire::{OrderStatus, StudentAction, StudentState};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

const STEPS: [(OrderStatus, &str); 4] = [
    (OrderStatus::Pending, "Ordered"),
    (OrderStatus::InProgress, "Being prepared"),
    (OrderStatus::Ready, "Ready"),
    (OrderStatus::Received, "Active"),
];

#[function_component(Home)]
pub fn home() -> Html {
    let store = use_context::<Store>().expect("store");
    let error = use_state(|| None::<&'static str>);
    let busy = use_state(|| false);

    let Some(state) = store.student.clone() else {
        return html! { <main class="page" aria-busy="true"><p class="muted">{ "Loading…" }</p></main> };
    };
    if let Some(codes) = store.codes.clone() {
        return html! { <Ready {codes} /> };
    }

    let order = action(&store, &error, &busy, || async {
        invoke::place_order(&invoke::new_idempotency_key())
            .await
            .map(Action::OrderChanged)
    });
    let reveal = action(&store, &error, &busy, || async {
        invoke::reveal().await.map(Action::Revealed)
    });
    let sign_out = {
        let store = store.clone();
        Callback::from(move |_| {
            let store = store.clone();
            spawn_local(async move {
                let _ = invoke::sign_out().await;
                store.dispatch(Action::SignedOut);
            });
        })
    };

    let status = state.order.as_ref().map(|o| o.status);
    let can_order = state.actions.contains(&StudentAction::Order);
    let can_renew = state.actions.contains(&StudentAction::Renew);
    let name = format!("{} {}", state.student.first_name, state.student.last_name);
    html! {
        <main class="page home">
            <header class="top">
                <div>
                    <p class="muted small">{ "Signed in as" }</p>
                    <h1 id="student-name">{ name }</h1>
                    if let Some(album) = &state.student.album_number {
                        <p class="muted small">{ format!("Album no. {album}") }</p>
                    }
                </div>
                <button id="sign-out" class="link" onclick={sign_out}>{ "Sign out" }</button>
            </header>
            if !store.online {
                <p id="offline" class="banner" role="status">{ "Offline — reconnecting. Your status will update by itself." }</p>
            }
            if store.session_not_saved {
                <p class="banner" role="status">{ "This device has no secure keystore, so you will need to sign in again next time." }</p>
            }
            <section class={classes!("card", status.map(|s| s.as_str()))} aria-labelledby="status-title">
                <p class="muted small">{ "mLegitymacja" }</p>
                <h2 id="status" data-status={status.map_or("none", OrderStatus::as_str)} aria-live="polite">
                    { status_label(status) }
                </h2>
                <p class="hint">{ status_hint(status) }</p>
                if status.is_some_and(|s| STEPS.iter().any(|(st, _)| *st == s)) {
                    { progress(status) }
                }
            </section>
            if let Some(msg) = *error {
                <p id="error" class="error" role="alert">{ msg }</p>
            }
            if status == Some(OrderStatus::Ready) {
                { ready_actions(&state, reveal, *busy) }
            }
            if can_order || can_renew {
                <button id="order" class="primary" onclick={order} disabled={*busy}>
                    { match (*busy, can_renew) {
                        (true, _) => "Ordering…",
                        (false, true) => "Renew for the new semester",
                        (false, false) => "Order mLegitymacja",
                    } }
                </button>
            }
            { checklist(&state) }
        </main>
    }
}

/// A button's work: call the shell, apply the result, or say what went wrong
/// and read the state again.
fn action<F: Future<Output = Result<Action, UiError>> + 'static>(
    store: &Store,
    error: &UseStateHandle<Option<&'static str>>,
    busy: &UseStateHandle<bool>,
    call: fn() -> F,
) -> Callback<MouseEvent> {
    let (store, error, busy) = (store.clone(), error.clone(), busy.clone());
    Callback::from(move |_| {
        let (store, error, busy) = (store.clone(), error.clone(), busy.clone());
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match call().await {
                Ok(a) => store.dispatch(a),
                Err(e) => {
                    error.set(Some(error_sentence(e.code)));
                    reload(&store);
                }
            }
            busy.set(false);
        });
    })
}

fn progress(status: Option<OrderStatus>) -> Html {
    let at = STEPS
        .iter()
        .position(|(s, _)| Some(*s) == status)
        .unwrap_or(0);
    html! {
        <ol class="steps">
            { for STEPS.iter().enumerate().map(|(i, (_, label))| {
                let class = if i < at { "done" } else if i == at { "current" } else { "todo" };
                html! { <li class={class} aria-current={(i == at).then_some("step")}>{ *label }</li> }
            }) }
        </ol>
    }
}

fn ready_actions(state: &StudentState, reveal: Callback<MouseEvent>, busy: bool) -> Html {
    let Some(order) = &state.order else {
        return html! {};
    };
    let left = order.reveals_left;
    let views = match left {
        1 => "1 view left".to_owned(),
        n => format!("{n} views left"),
    };
    html! {
        <section class="ready-actions">
            if left > 0 {
                <p class="warn">
                    { format!("The codes can be shown 3 times in all: {views}.") }
                    if let Some(t) = order.activation_expires_at {
                        { format!(" They work until {}.", date(t)) }
                    }
                </p>
                <button id="reveal" class="primary" onclick={reveal} disabled={busy}>{ "Show activation codes" }</button>
            } else {
                <p class="warn">{ "The codes were shown three times. If mObywatel did not accept them, order again." }</p>
            }
        </section>
    }
}

fn checklist(state: &StudentState) -> Html {
    if state.checks.is_empty() {
        return html! {};
    }
    html! {
        <section class="checklist" aria-labelledby="checks-title">
            <h3 id="checks-title">{ if state.eligible { "You meet every requirement" } else { "What you still need" } }</h3>
            <ul>
                { for state.checks.iter().map(|c| {
                    let (label, fix) = check_text(c.code);
                    html! {
                        <li class={if c.ok { "ok" } else { "failed" }} data-check={format!("{:?}", c.code)}>
                            <span class="mark" aria-hidden="true">{ if c.ok { "✓" } else { "!" } }</span>
                            <span>
                                <span class="label">{ label }</span>
                                <span class="visually-hidden">{ if c.ok { " — done" } else { " — missing" } }</span>
                                if !c.ok { <span class="fix">{ fix }</span> }
                            </span>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
