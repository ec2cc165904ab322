use crate::flows::{reload, run_busy, sign_in_in_browser};
use crate::hooks::{use_opened_link, use_ticking};
use crate::i18n::{t, tr};
use crate::invoke::{self, OrderAction, Permission, UiError};
use crate::pages::ready::Ready;
use crate::state::{Action, Screen, Store};
use crate::text::{
    check_text, error_sentence, mobywatel_steps, reason_text, reveal_warning, status_hint,
    status_label, usosweb_name,
};
use crate::time::{date, date_time, now_ms};
use legitka_wire::{
    CardPreview, ErrorCode, OrderStatus, SecondScreen, StudentAction, StudentState, TimelineEntry,
};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

const STEPS: [(OrderStatus, &str); 4] = [
    (OrderStatus::Pending, "step-ordered"),
    (OrderStatus::InProgress, "step-preparing"),
    (OrderStatus::Ready, "step-ready"),
    (OrderStatus::Received, "step-active"),
];

/// The steps that change or end an order, each behind a confirmation.
const ORDER_ACTIONS: [(StudentAction, OrderAction, &str, Option<&str>); 4] = [
    (
        StudentAction::Resubmit,
        OrderAction::Resubmit,
        "action-resubmit",
        None,
    ),
    (
        StudentAction::Cancel,
        OrderAction::Cancel,
        "action-cancel",
        Some("action-cancel-confirm"),
    ),
    (
        StudentAction::ReplaceLostPhone,
        OrderAction::Replace,
        "action-replace",
        Some("action-replace-confirm"),
    ),
    (
        StudentAction::Revoke,
        OrderAction::Revoke,
        "action-revoke",
        Some("action-revoke-confirm"),
    ),
];

fn action_id(a: OrderAction) -> &'static str {
    match a {
        OrderAction::Cancel => "cancel",
        OrderAction::Revoke => "revoke",
        OrderAction::Resubmit => "resubmit",
        OrderAction::Replace => "replace",
    }
}

#[function_component(Home)]
pub fn home() -> Html {
    let store = use_context::<Store>().expect("store");
    let error = use_state(|| None::<String>);
    let info = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let terms = use_state(|| false);
    let confirming = use_state(|| None::<OrderAction>);
    // "N minutes ago" keeps counting: offline, and while USOS is watched.
    let watched = store.student.as_ref().is_some_and(|s| {
        s.university_checked_at.is_some()
            && s.order
                .as_ref()
                .is_some_and(|o| matches!(o.status, OrderStatus::Pending | OrderStatus::InProgress))
    });
    use_ticking(!store.online || watched);
    // Back from signing in to USOS again: the state is read again.
    use_opened_link(&store, &error, &busy);
    let usos_opened = use_state(|| false);
    // The one-time code for showing the codes on a computer, once asked for.
    let second = use_state(|| None::<SecondScreen>);
    // Notices: asked about at the first order, with a sentence why.
    let notice_ask = use_state(|| None::<Permission>);

    let Some(state) = store.student.clone() else {
        return html! { <main class="page" aria-busy="true"><p class="muted">{ t("loading") }</p></main> };
    };
    if let Some(codes) = store.codes.clone() {
        return html! { <Ready {codes} /> };
    }

    let order = {
        let placed = action(&store, &error, &busy, true, || async {
            invoke::place_order(&invoke::new_idempotency_key())
                .await
                .map(Action::OrderChanged)
        });
        let notice_ask = notice_ask.clone();
        Callback::from(move |e: MouseEvent| {
            placed.emit(e);
            ask_about_notices(&notice_ask);
        })
    };
    let reveal = action(&store, &error, &busy, false, || async {
        invoke::reveal().await.map(Action::Revealed)
    });
    let on_computer = {
        let (error, busy, second) = (error.clone(), busy.clone(), second.clone());
        Callback::from(move |_| {
            let second = second.clone();
            run_busy(&error, &busy, async move {
                second.set(Some(invoke::second_screen().await?));
                Ok(())
            });
        })
    };
    let settings = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::Show(Screen::Settings)))
    };
    let run = |a: OrderAction| {
        let (store, error, info, busy, confirming) = (
            store.clone(),
            error.clone(),
            info.clone(),
            busy.clone(),
            confirming.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            confirming.set(None);
            let (store, info) = (store.clone(), info.clone());
            run_busy(&error, &busy, async move {
                let outcome = invoke::order_action(a).await.map(|done| {
                    info.set(done.may_stay_valid_until.map(|until| {
                        tr("action-revoked-until", &[("date", date_time(until).into())])
                    }));
                    store.dispatch(Action::OrderChanged(done.order));
                });
                reload(&store);
                outcome
            });
        })
    };

    let status = state.order.as_ref().map(|o| o.status);
    // At a USOS university, while USOS works on the order: how fresh it is.
    let usos_checked_at = state
        .university_checked_at
        .filter(|_| matches!(status, Some(OrderStatus::Pending | OrderStatus::InProgress)));
    let can_order = state.actions.contains(&StudentAction::Order);
    let can_renew = state.actions.contains(&StudentAction::Renew);
    let offline = !store.online;
    // Actions wait for the connection, and at start for the session the
    // shell is restoring (the home screen paints from the cache before it).
    let held = *busy || offline || store.restoring;
    let name = format!("{} {}", state.student.first_name, state.student.last_name);
    let accept = {
        let terms = terms.clone();
        Callback::from(move |e: Event| {
            terms.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .checked(),
            );
        })
    };
    html! {
        <main class="page home">
            <header class="top">
                <div>
                    <p class="muted small">{ t("home-signed-in-as") }</p>
                    <h1 id="student-name">{ name }</h1>
                    if let Some(album) = &state.student.album_number {
                        <p class="muted small">{ tr("home-album", &[("album", album.clone().into())]) }</p>
                    }
                </div>
                <button id="open-settings" class="link" onclick={settings}>{ t("home-settings") }</button>
            </header>
            if offline {
                <div id="offline" class="banner" role="status">
                    <p>{ t("home-offline") }</p>
                    if let Some(at) = store.updated_at {
                        <p class="small">{ updated_ago(at) }</p>
                    }
                </div>
            }
            if store.session_not_saved {
                <p class="banner" role="status">{ t("home-no-keystore") }</p>
            }
            <section class={classes!("card", status.map(|s| s.as_str()))} aria-labelledby="status">
                <p class="muted small">{ t("home-card") }</p>
                <h2 id="status" data-status={status.map_or("none", OrderStatus::as_str)} aria-live="polite">
                    { status_label(status) }
                </h2>
                if let Some(name) = status.and_then(usosweb_name) {
                    <p class="muted small" id="status-usosweb">{ name }</p>
                }
                <p class="hint" id="status-hint">{ status_hint(status, can_order) }</p>
                if let Some(reason) = state.order.as_ref().and_then(|o| o.reason) {
                    <p id="reason" class="reason">{ reason_text(reason) }</p>
                }
                if let Some(until) = state.order.as_ref().filter(|o| o.status == OrderStatus::Received).and_then(|o| o.card_valid_until) {
                    <p class="muted small">{ tr("home-valid-until", &[("date", date(until).into())]) }</p>
                }
                if status.is_some_and(|s| STEPS.iter().any(|(st, _)| *st == s)) {
                    { progress(status) }
                }
                if let Some(at) = usos_checked_at {
                    <p id="usos-checked" class="muted small">{ minutes_ago("home-usos-checked", at) }</p>
                }
            </section>
            if let Some(p) = *notice_ask {
                { notice_card(p, &notice_ask) }
            }
            if let Some(msg) = (*error).clone() {
                <p id="error" class="error" role="alert">{ msg.clone() }</p>
                // USOS dropped the sign-in: signing in there again renews it.
                if msg == error_sentence(ErrorCode::UniversitySignInNeeded) {
                    <button id="sign-in-usos" class="secondary" disabled={*busy}
                        onclick={sign_in_in_browser(&store, &error, &busy, &usos_opened)}>
                        { t("usos-sign-in-button") }
                    </button>
                }
            }
            if let Some(msg) = (*info).clone() {
                <p id="info" class="banner" role="status">{ msg }</p>
            }
            if offline {
                <p id="actions-offline" class="muted small">{ t("home-actions-offline") }</p>
            }
            if status == Some(OrderStatus::Ready) {
                { ready_actions(&state, reveal, on_computer, second.as_ref(), held) }
            }
            if can_order || can_renew {
                if let Some(card) = &state.card {
                    { card_preview(card) }
                }
                <label class="terms" for="terms">
                    <input id="terms" type="checkbox" checked={*terms} onchange={accept} />
                    <span>{ t("home-terms") }</span>
                </label>
                <button id="order" class="primary" onclick={order} disabled={held || !*terms}>
                    { match (*busy, can_renew) {
                        (true, _) => t("home-ordering"),
                        (false, true) => t("home-renew"),
                        (false, false) => t("home-order"),
                    } }
                </button>
            }
            { for ORDER_ACTIONS.iter().filter(|(allowed, ..)| state.actions.contains(allowed)).map(|(_, a, label, confirm)| {
                let id = action_id(*a);
                match (confirm, *confirming == Some(*a)) {
                    (Some(question), true) => html! {
                        <div class="confirm" role="alertdialog" aria-labelledby={format!("{id}-question")}>
                            <p id={format!("{id}-question")}>{ t(question) }</p>
                            <div class="row">
                                <button id={format!("{id}-confirm")} class="danger" onclick={run(*a)} disabled={held}>{ t("action-confirm") }</button>
                                <button class="secondary" onclick={{ let c = confirming.clone(); Callback::from(move |_| c.set(None)) }}>{ t("action-back") }</button>
                            </div>
                        </div>
                    },
                    (Some(_), false) => {
                        let (c, a) = (confirming.clone(), *a);
                        html! { <button id={id} class="secondary" disabled={held}
                            onclick={Callback::from(move |_| c.set(Some(a)))}>{ t(label) }</button> }
                    }
                    (None, _) => html! { <button id={id} class="secondary" onclick={run(*a)} disabled={held}>{ t(label) }</button> },
                }
            }) }
            if let Some(o) = &state.order {
                <Timeline order_id={o.id.clone()} updated={o.updated_at} />
            }
            { checklist(&state) }
        </main>
    }
}

fn updated_ago(at: i64) -> String {
    minutes_ago("home-updated", at)
}

/// `message` with how many whole minutes ago `at` was.
fn minutes_ago(message: &str, at: i64) -> String {
    let minutes = (now_ms() - at).max(0) / 60_000;
    tr(message, &[("minutes", minutes.into())])
}

/// A button's work: call the shell, apply the result, or say what went wrong
/// and read the state again.
/// Once an order is placed: on a phone where notices are not allowed yet,
/// the student is asked whether they want them (once; the OS asks only
/// if they agree), or told they are off and where to turn them on.
fn ask_about_notices(notice_ask: &UseStateHandle<Option<Permission>>) {
    if crate::storage::notices_asked() {
        return;
    }
    let notice_ask = notice_ask.clone();
    spawn_local(async move {
        if let Ok(p @ (Permission::Prompt | Permission::Denied)) = invoke::notice_permission().await
        {
            notice_ask.set(Some(p));
        }
    });
}

fn notice_card(p: Permission, notice_ask: &UseStateHandle<Option<Permission>>) -> Html {
    let dismiss = {
        let notice_ask = notice_ask.clone();
        Callback::from(move |_: MouseEvent| {
            crate::storage::save_notices_asked();
            notice_ask.set(None);
        })
    };
    let turn_on = {
        let notice_ask = notice_ask.clone();
        Callback::from(move |_: MouseEvent| {
            crate::storage::save_notices_asked();
            let notice_ask = notice_ask.clone();
            spawn_local(async move {
                match invoke::allow_notices().await {
                    Ok(Permission::Denied) => notice_ask.set(Some(Permission::Denied)),
                    _ => notice_ask.set(None),
                }
            });
        })
    };
    match p {
        Permission::Prompt => html! {
            <section id="notices-ask" class="banner" aria-label={t("notices-turn-on")}>
                <p>{ t("notices-ask") }</p>
                <div class="row">
                    <button id="notices-on" class="primary" onclick={turn_on}>{ t("notices-turn-on") }</button>
                    <button id="notices-not-now" class="secondary" onclick={dismiss}>{ t("notices-not-now") }</button>
                </div>
            </section>
        },
        Permission::Denied => html! {
            <section id="notices-off" class="banner" role="status">
                <p>{ t("notices-off") }</p>
                <button id="notices-ok" class="secondary" onclick={dismiss}>{ t("notices-ok") }</button>
            </section>
        },
        Permission::Granted | Permission::NotNeeded => html! {},
    }
}

fn action<F: Future<Output = Result<Action, UiError>> + 'static>(
    store: &Store,
    error: &UseStateHandle<Option<String>>,
    busy: &UseStateHandle<bool>,
    reload_after: bool,
    call: fn() -> F,
) -> Callback<MouseEvent> {
    let (store, error, busy) = (store.clone(), error.clone(), busy.clone());
    Callback::from(move |_| {
        let store = store.clone();
        run_busy(&error, &busy, async move {
            match call().await {
                Ok(a) => {
                    store.dispatch(a);
                    if reload_after {
                        // What the student may do next changed with it.
                        reload(&store);
                    }
                    Ok(())
                }
                Err(e) => {
                    reload(&store);
                    Err(e)
                }
            }
        });
    })
}

/// What the card will show, from the registry: the student checks it
/// before confirming their data.
fn card_preview(card: &CardPreview) -> Html {
    let none = || t("card-none");
    let rows = [
        (
            "card-name",
            format!("{} {}", card.first_name, card.last_name),
        ),
        (
            "card-birth-date",
            card.birth_date.clone().unwrap_or_else(none),
        ),
        ("card-pesel", card.pesel_masked.clone().unwrap_or_else(none)),
        ("card-album", card.album_number.clone().unwrap_or_else(none)),
        ("card-els", card.els_number.clone().unwrap_or_else(none)),
        (
            "card-valid-until",
            card.valid_until.map(date).unwrap_or_else(none),
        ),
        ("card-university", card.university.clone()),
        (
            "card-photo",
            if card.has_photo {
                t("card-photo-yes")
            } else {
                t("card-photo-no")
            },
        ),
    ];
    html! {
        <section id="card-preview" class="steps-box" aria-labelledby="card-preview-title">
            <h3 id="card-preview-title">{ t("card-preview-title") }</h3>
            if card.photo_available {
                <RegistryPhoto />
            }
            <dl class="card-data">
                { for rows.into_iter().map(|(label, value)| html! {
                    <>
                        <dt>{ t(label) }</dt>
                        <dd id={label.to_owned()}>{ value }</dd>
                    </>
                }) }
            </dl>
            <p class="muted small">{ t("card-wrong") }</p>
        </section>
    }
}

/// The registry's photo, fetched once when the preview shows; nothing
/// when it cannot be had (the row above still says whether it is on file).
#[function_component(RegistryPhoto)]
fn registry_photo() -> Html {
    let photo = use_state(|| None::<String>);
    {
        let photo = photo.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                if let Ok(p) = invoke::card_photo().await {
                    photo.set(Some(p.data_url));
                }
            });
        });
    }
    match &*photo {
        Some(src) => html! {
            <img id="card-photo-img" class="card-photo" src={src.clone()} alt={t("card-photo-alt")} />
        },
        None => html! {},
    }
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
                html! { <li class={class} aria-current={(i == at).then_some("step")}>{ t(label) }</li> }
            }) }
        </ol>
    }
}

fn ready_actions(
    state: &StudentState,
    reveal: Callback<MouseEvent>,
    on_computer: Callback<MouseEvent>,
    screen: Option<&SecondScreen>,
    disabled: bool,
) -> Html {
    let Some(order) = &state.order else {
        return html! {};
    };
    let left = order.reveals_left;
    html! {
        <section class="ready-actions">
            if left > 0 {
                <p class="warn">
                    { reveal_warning(left) }
                    if let Some(at) = order.activation_expires_at {
                        { " " }{ tr("reveal-expires", &[("date", date(at).into())]) }
                    }
                </p>
                if order.codes_emailed {
                    <p id="codes-emailed" class="small">{ t("codes-emailed") }</p>
                }
                // What comes next in mObywatel, readable before a view is spent.
                <details id="mobywatel-steps-first" class="timeline">
                    <summary>{ t("mobywatel-steps-first") }</summary>
                    <p class="small">{ t("mobywatel-install") }</p>
                    <ol class="small">{ for mobywatel_steps().into_iter().map(|s| html! { <li>{ s }</li> }) }</ol>
                </details>
                <button id="reveal" class="primary" onclick={reveal} disabled={disabled}>{ t("reveal-button") }</button>
                // The help pages' way: the QR on a computer, scanned by this phone.
                if let Some(s) = screen {
                    <div id="second-screen" class="steps-box" role="status">
                        <p>{ tr("second-screen-go", &[("address", s.address.clone().into())]) }</p>
                        <p class="code" id="second-screen-code">{ &s.code }</p>
                        <p class="muted small">{ tr("second-screen-note", &[("time", date_time(s.expires_at).into())]) }</p>
                    </div>
                } else {
                    <button id="on-computer" class="secondary" onclick={on_computer} disabled={disabled}>{ t("second-screen-button") }</button>
                }
            } else {
                <p class="warn">{ t("reveal-spent") }</p>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct TimelineProps {
    order_id: String,
    /// Read again when the order changes.
    updated: i64,
}

/// The order's history, read when opened.
#[function_component(Timeline)]
fn timeline(props: &TimelineProps) -> Html {
    let entries = use_state(Vec::<TimelineEntry>::new);
    let open = use_state(|| false);
    {
        let (entries, id, open) = (entries.clone(), props.order_id.clone(), *open);
        use_effect_with((props.order_id.clone(), props.updated, open), move |_| {
            if open {
                spawn_local(async move {
                    if let Ok(e) = invoke::order_timeline(&id).await {
                        entries.set(e);
                    }
                });
            }
        });
    }
    let toggle = {
        let open = open.clone();
        Callback::from(move |e: Event| {
            open.set(
                e.target_unchecked_into::<web_sys::HtmlDetailsElement>()
                    .open(),
            );
        })
    };
    html! {
        <details id="timeline" class="timeline" ontoggle={toggle}>
            <summary>{ t("home-timeline") }</summary>
            <ol>
                { for entries.iter().rev().map(|e| html! {
                    <li data-status={e.status.as_str()}>
                        <span class="label">{ status_label(Some(e.status)) }</span>
                        <span class="muted small">{ date_time(e.at) }</span>
                        if let Some(r) = e.reason {
                            <span class="small">{ reason_text(r) }</span>
                        }
                    </li>
                }) }
            </ol>
        </details>
    }
}

fn checklist(state: &StudentState) -> Html {
    if let Some(says) = &state.university_says {
        // USOS's own words, in the student's language when it gave them.
        let (mine, other) = match crate::i18n::locale() {
            legitka_wire::Locale::Pl => (&says.pl, &says.en),
            legitka_wire::Locale::En => (&says.en, &says.pl),
        };
        let sentence = mine.clone().or_else(|| other.clone()).unwrap_or_default();
        return html! {
            <section class="checklist" aria-labelledby="checks-title">
                <h3 id="checks-title">{ t("home-university-says") }</h3>
                <p id="university-says">{ sentence }</p>
            </section>
        };
    }
    if state.checks.is_empty() {
        return html! {};
    }
    html! {
        <section class="checklist" aria-labelledby="checks-title">
            <h3 id="checks-title">{ if state.eligible { t("home-checks-ok") } else { t("home-checks-missing") } }</h3>
            <ul>
                // What is missing comes first, with what to do about it.
                { for state.checks.iter().filter(|c| !c.ok).chain(state.checks.iter().filter(|c| c.ok)).map(|c| {
                    let (label, fix) = check_text(c.code);
                    html! {
                        <li class={if c.ok { "ok" } else { "failed" }} data-check={c.code.as_str()}>
                            <span class="mark" aria-hidden="true">{ if c.ok { "✓" } else { "!" } }</span>
                            <span>
                                <span class="label">{ label }</span>
                                <span class="visually-hidden">{ " — " }{ if c.ok { t("home-check-done") } else { t("home-check-missing") } }</span>
                                if !c.ok { <span class="fix">{ fix }</span> }
                            </span>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
