//! What the app does beyond computing its state: the steps that talk to
//! the shell (read the state, sign in or out, open an order, follow a
//! link), what the device remembers, and the theme's stylesheet. Each
//! flow runs its effects, then dispatches to the pure reducer (`state`).

use crate::i18n::{self, t};
use crate::invoke::{self, Link, SessionInfo, UiError, University};
use crate::state::{Action, Model, Screen, Store, Theme};
use crate::text::error_sentence;
use crate::time::now_ms;
use legitka_wire::shell::events;
use legitka_wire::{ErrorCode, Locale, OrderStatus};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::{Callback, MouseEvent, UseStateHandle};

/// The first screen, from what this device knows without asking the
/// shell: the chosen language, and the last status it saw (kept only
/// while signed in) for the home screen, otherwise sign-in at the chosen
/// university, or the list of universities. The shell's
/// answers (the keystore's session) correct it a moment later.
pub fn initial_model() -> Model {
    let (locale, notifications) =
        crate::storage::preferences().unwrap_or((invoke::system_locale(), true));
    i18n::set_locale(locale);
    let theme = crate::storage::theme();
    apply_theme(theme);
    let cached = crate::storage::cached_state();
    let university = crate::storage::university();
    Model {
        screen: match (&cached, &university) {
            (Some(_), _) => Screen::Home,
            (None, Some(_)) => Screen::SignIn,
            (None, None) => Screen::Welcome,
        },
        university,
        restoring: true,
        updated_at: cached.as_ref().map(|(_, at)| *at),
        student: cached.map(|(state, _)| state),
        locale,
        notifications,
        theme,
        ..Model::default()
    }
}

/// The stylesheet follows `data-theme` on the root element (none: the system's).
pub fn apply_theme(theme: Theme) {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element());
    if let Some(root) = root {
        let _ = match theme {
            Theme::System => root.remove_attribute("data-theme"),
            theme => root.set_attribute("data-theme", theme.as_str()),
        };
    }
}

/// Picks a university for sign-in (remembered on this device); `None` goes
/// back to the list.
pub fn choose(store: &Store, university: Option<University>) {
    crate::storage::save_university(university.as_ref());
    store.dispatch(Action::Choose(university));
}

/// Light, dark or the system's: applied, remembered, shown.
pub fn set_theme(store: &Store, theme: Theme) {
    apply_theme(theme);
    crate::storage::save_theme(theme);
    store.dispatch(Action::Theme(theme));
}

/// Reads the student's state again; a dead session leads back to sign-in.
pub fn reload(store: &Store) {
    let d = store.dispatcher();
    spawn_local(async move {
        match invoke::student_state().await {
            Ok(s) => {
                let at = now_ms();
                crate::storage::save_state(&s, at);
                d.dispatch(Action::Loaded(Box::new(s), at));
            }
            Err(e) if e.code == ErrorCode::Unauthorized => d.dispatch(Action::SignedOut),
            Err(_) => d.dispatch(Action::Online(false)),
        }
    });
}

/// A session began (or was restored): home, and the state read at once.
pub fn enter(store: &Store, info: &SessionInfo) {
    store.dispatch(Action::SignedIn {
        persisted: info.persisted,
    });
    reload(store);
}

/// Applies a language and notices choice: the UI, the shell, and this device.
pub fn set_preferences(store: &Store, locale: Locale, notifications: bool) {
    i18n::set_locale(locale);
    crate::storage::save_preferences(locale, notifications);
    store.dispatch(Action::Preferences {
        locale,
        notifications,
    });
    spawn_local(async move {
        let _ = invoke::set_preferences(locale, notifications).await;
    });
}

/// Signs out: the shell wipes the keystore entry; this device's cache goes too.
pub fn sign_out(store: &Store) {
    let store = store.clone();
    spawn_local(async move {
        let _ = invoke::sign_out().await;
        crate::storage::forget_state();
        store.dispatch(Action::SignedOut);
    });
}

/// A tapped notice: a ready order shows its codes at once (the notice said
/// that tapping spends a view); anything else shows the order's state.
pub fn open_order(store: &Store, status: OrderStatus) {
    store.dispatch(Action::Reset(Screen::Home));
    if status != OrderStatus::Ready {
        store.dispatch(Action::HideCodes);
        reload(store);
        return;
    }
    let store = store.clone();
    spawn_local(async move {
        match invoke::reveal().await {
            Ok(codes) => store.dispatch(Action::Revealed(codes)),
            Err(_) => reload(&store),
        }
    });
}

/// What the mobile notifications plugin reports about a tapped push.
#[derive(serde::Deserialize)]
struct Clicked {
    data: PushData,
}

#[derive(serde::Deserialize)]
struct PushData {
    #[serde(default)]
    notice_id: String,
    status: Option<OrderStatus>,
}

#[derive(serde::Deserialize)]
struct PushToken {
    token: String,
}

/// Follows the shell's events (and, on phones, the notifications plugin's).
pub fn listen_to_the_shell(store: &Store) {
    let d = store.dispatcher();
    // A change shows at once; what the student may do next (and the
    // eligibility) is read again, as it changes with the status.
    invoke::listen({
        let store = store.clone();
        move |e: events::OrderStatus| {
            store.dispatch(Action::OrderChanged(e.order));
            reload(&store);
        }
    });
    invoke::listen({
        let d = d.clone();
        move |c: events::Connection| d.dispatch(Action::Online(c.online))
    });
    invoke::listen(move |_: events::SignedOut| {
        crate::storage::forget_state();
        d.dispatch(Action::SignedOut);
    });
    invoke::listen({
        let store = store.clone();
        move |_: events::Resync| reload(&store)
    });
    invoke::listen({
        let store = store.clone();
        move |o: events::OpenOrder| open_order(&store, o.order.status)
    });
    // A link the system handed over (and one the app was started with).
    invoke::listen({
        let store = store.clone();
        move |_: events::LinkOpened| take_opened_link(&store)
    });
    take_opened_link(store);
    // Mobile: remote pushes and their taps (notice ids drop duplicates).
    let seen = Rc::new(std::cell::RefCell::new(std::collections::HashSet::new()));
    invoke::listen_plugin("notifications", "push-message", {
        let store = store.clone();
        move |p: PushData| {
            if seen.borrow_mut().insert(p.notice_id) {
                reload(&store);
            }
        }
    });
    invoke::listen_plugin("notifications", "notificationClicked", {
        let store = store.clone();
        move |c: Clicked| {
            if let Some(status) = c.data.status {
                open_order(&store, status);
            }
        }
    });
    invoke::listen_plugin("notifications", "push-token", |t: PushToken| {
        spawn_local(async move {
            let _ = invoke::register_push_token(&t.token).await;
        });
    });
}

/// A form's step that talks to the shell: busy while it runs, and its
/// failure said in words.
pub fn run_busy(
    error: &UseStateHandle<Option<String>>,
    busy: &UseStateHandle<bool>,
    step: impl std::future::Future<Output = Result<(), UiError>> + 'static,
) {
    busy.set(true);
    error.set(None);
    let (error, busy) = (error.clone(), busy.clone());
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = step.await {
            error.set(Some(error_sentence(e.code)));
        }
        busy.set(false);
    });
}

/// Who handed the app a link: the student (typed, pasted, scanned in the
/// app) or the system (the phone's camera, a browser, the USOS sign-in's
/// way back), which may hand over a link the student did not mean for it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LinkFrom {
    Student,
    System,
}

/// Asks the server behind `input` (an address or a link) who it is and
/// goes on: the university is chosen for sign-in, or (a pairing link)
/// chosen and signed in to at once, so the university the app shows is
/// always the one the session belongs to. A link from the system to
/// another university than the chosen one is asked about first
/// ([`switch_university`]); one to the chosen university, signed in, only
/// reads the state again (a pairing link from a repeated USOS sign-in has
/// done its work on the server).
pub fn follow_link(
    store: Store,
    input: String,
    from: LinkFrom,
    error: &UseStateHandle<Option<String>>,
    busy: &UseStateHandle<bool>,
) {
    run_busy(error, busy, async move {
        let link = invoke::check_university(&input).await?;
        if from == LinkFrom::System {
            let to = link.university();
            let chosen = store.university.as_ref();
            if chosen.is_some_and(|u| u.server != to.server || u.id != to.id) {
                store.dispatch(Action::Ask(Some(link)));
                return Ok(());
            }
            if store.signed_in() {
                reload(&store);
                return Ok(());
            }
        }
        follow(&store, link).await
    });
}

async fn follow(store: &Store, link: Link) -> Result<(), UiError> {
    match link {
        Link::Setup { university } => choose(store, Some(university)),
        Link::Pair { university, code } => {
            let server = university.server.clone();
            choose(store, Some(university));
            enter(store, &invoke::sign_in_with_code(&server, &code).await?);
        }
    }
    Ok(())
}

/// The student agreed to follow a link to another university: signed out
/// of this one (its order stays as it is), then on to the other.
pub fn switch_university(
    store: &Store,
    link: Link,
    error: &UseStateHandle<Option<String>>,
    busy: &UseStateHandle<bool>,
) {
    let store = store.clone();
    run_busy(error, busy, async move {
        if store.signed_in() {
            let _ = invoke::sign_out().await;
            crate::storage::forget_state();
            store.dispatch(Action::SignedOut);
        }
        store.dispatch(Action::Ask(None));
        follow(&store, link).await
    });
}

/// Phones: a tap scans a QR code (setup or pairing) with the camera and follows it.
pub fn scan_and_follow(
    store: &Store,
    error: &UseStateHandle<Option<String>>,
    busy: &UseStateHandle<bool>,
) -> Callback<MouseEvent> {
    let (store, error, busy) = (store.clone(), error.clone(), busy.clone());
    Callback::from(move |_| {
        let (store, error, busy) = (store.clone(), error.clone(), busy.clone());
        wasm_bindgen_futures::spawn_local(async move {
            // The camera is asked for here, as the scanner opens.
            if !invoke::camera_allowed().await.unwrap_or(false) {
                error.set(Some(t("scan-camera-off")));
                return;
            }
            match invoke::scan_qr().await {
                Ok(content) => follow_link(store, content, LinkFrom::Student, &error, &busy),
                Err(_) => error.set(Some(t("scan-failed"))),
            }
        });
    })
}

fn take_opened_link(store: &Store) {
    let d = store.dispatcher();
    spawn_local(async move {
        if let Some(link) = invoke::take_opened_link().await {
            d.dispatch(Action::LinkOpened(Some(link)));
        }
    });
}

/// Sign in in the browser (USOS, or the university's own sign-in page):
/// the system browser opens, the student signs in there, and the page it
/// returns to hands the app its session through a `legitka://pair` link
/// (or a code to type).
pub fn sign_in_in_browser(
    store: &Store,
    error: &UseStateHandle<Option<String>>,
    busy: &UseStateHandle<bool>,
    opened: &UseStateHandle<bool>,
) -> Callback<MouseEvent> {
    let university = store.university.clone();
    let (error, busy, opened) = (error.clone(), busy.clone(), opened.clone());
    Callback::from(move |_| {
        let Some(u) = university.clone() else { return };
        let opened = opened.clone();
        run_busy(&error, &busy, async move {
            invoke::sign_in_in_browser(&u.server, u.id.as_deref()).await?;
            opened.set(true);
            Ok(())
        });
    })
}

/// A link into the app rather than a typed code or address.
pub fn is_link(input: &str) -> bool {
    legitka_wire::shell::is_link(input)
}

/// The libraries' licence texts, shipped beside the app
/// (`licence-texts.txt`, written by `scripts/licences`), read when asked for.
pub async fn licence_texts() -> Result<String, ()> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or(())?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str("licence-texts.txt"))
        .await
        .map_err(|_| ())?
        .dyn_into()
        .map_err(|_| ())?;
    if !response.ok() {
        return Err(());
    }
    JsFuture::from(response.text().map_err(|_| ())?)
        .await
        .map_err(|_| ())?
        .as_string()
        .ok_or(())
}
