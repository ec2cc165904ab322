//! App state as a reducer shared through context, and the screen switch.

use crate::i18n;
use crate::invoke::{self, AppConfig, RevealedCodes, SessionInfo, University};
use crate::pages::{home::Home, settings::Settings, sign_in::SignIn, welcome::Welcome};
use crate::time::now_ms;
use legitka_wire::{ErrorCode, Locale, OrderStatus, OrderView, StatusEvent, StudentState};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Screen {
    /// Choose the university (first launch, or "change" on sign-in).
    Welcome,
    SignIn,
    Home,
    Settings,
}

/// Light or dark: the system's choice unless the student picks one.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Self::System, Self::Light, Self::Dark];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    /// The stylesheet follows `data-theme` on the root element (none: the system's).
    pub fn apply(self) {
        let root = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element());
        if let Some(root) = root {
            let _ = match self {
                Self::System => root.remove_attribute("data-theme"),
                theme => root.set_attribute("data-theme", theme.as_str()),
            };
        }
    }
}

#[derive(Clone, PartialEq, Debug)]
pub struct Model {
    pub screen: Screen,
    /// The bundled list of universities and what this device can do.
    pub config: Option<AppConfig>,
    /// The university chosen for sign-in (remembered on this device).
    pub university: Option<University>,
    pub student: Option<StudentState>,
    /// When `student` was last read from the server (Unix ms).
    pub updated_at: Option<i64>,
    /// The revealed codes: in memory only while the ready screen shows them.
    pub codes: Option<Rc<RevealedCodes>>,
    pub online: bool,
    /// At start, until the shell has restored the session (or found none):
    /// the cached home screen shows, its actions wait.
    pub restoring: bool,
    /// No OS keystore: the session lasts for this run only.
    pub session_not_saved: bool,
    pub locale: Locale,
    pub notifications: bool,
    pub theme: Theme,
}

impl Default for Model {
    fn default() -> Self {
        Self {
            screen: Screen::Welcome,
            config: None,
            university: None,
            student: None,
            updated_at: None,
            codes: None,
            online: true,
            restoring: false,
            session_not_saved: false,
            locale: Locale::Pl,
            notifications: true,
            theme: Theme::System,
        }
    }
}

impl Model {
    /// The first screen, from what this device knows without asking the
    /// shell: the chosen language, and the last status it saw (kept only
    /// while signed in) for the home screen, otherwise sign-in at the chosen
    /// university, or the list of universities. The shell's
    /// answers (the keystore's session) correct it a moment later.
    pub fn at_start() -> Self {
        let (locale, notifications) =
            crate::storage::preferences().unwrap_or((invoke::system_locale(), true));
        i18n::set_locale(locale);
        let theme = crate::storage::theme();
        theme.apply();
        let cached = crate::storage::cached_state();
        let university = crate::storage::university();
        Self {
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
            ..Self::default()
        }
    }
}

pub enum Action {
    Configured(AppConfig),
    /// A university was chosen (sign-in follows); `None` goes back to the list.
    Choose(Option<University>),
    SignedIn {
        persisted: bool,
    },
    SignedOut,
    Loaded(StudentState),
    OrderChanged(OrderView),
    Revealed(RevealedCodes),
    HideCodes,
    Online(bool),
    Show(Screen),
    Preferences {
        locale: Locale,
        notifications: bool,
    },
    Theme(Theme),
}

impl Reducible for Model {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut m = (*self).clone();
        match action {
            Action::Configured(config) => m.config = Some(config),
            Action::Choose(university) => {
                crate::storage::save_university(university.as_ref());
                m.screen = if university.is_some() {
                    Screen::SignIn
                } else {
                    Screen::Welcome
                };
                m.university = university;
            }
            Action::SignedIn { persisted } => {
                // A restored session must not pull the student out of a
                // screen they opened meanwhile (the home screen paints first).
                if matches!(m.screen, Screen::Welcome | Screen::SignIn) {
                    m.screen = Screen::Home;
                }
                m.session_not_saved = !persisted;
                m.restoring = false;
            }
            Action::SignedOut => {
                m.restoring = false;
                m.screen = if m.university.is_some() {
                    Screen::SignIn
                } else {
                    Screen::Welcome
                };
                m.student = None;
                m.updated_at = None;
                m.codes = None;
            }
            Action::Loaded(state) => {
                if state.order.as_ref().map(|o| o.status) != Some(OrderStatus::Ready) {
                    m.codes = None;
                }
                m.student = Some(state);
                m.updated_at = Some(now_ms());
                m.online = true;
            }
            Action::OrderChanged(order) => {
                if order.status != OrderStatus::Ready {
                    m.codes = None;
                }
                if let Some(s) = m.student.as_mut() {
                    let newer = s
                        .order
                        .as_ref()
                        .is_none_or(|cur| cur.id == order.id || order.created_at >= cur.created_at);
                    if newer {
                        s.order = Some(order);
                    }
                }
            }
            Action::Revealed(codes) => {
                if let Some(o) = m.student.as_mut().and_then(|s| s.order.as_mut()) {
                    o.reveals_left = codes.reveals_left;
                }
                m.codes = Some(Rc::new(codes));
                m.screen = Screen::Home;
            }
            Action::HideCodes => m.codes = None,
            Action::Online(online) => m.online = online,
            Action::Show(screen) => m.screen = screen,
            Action::Preferences {
                locale,
                notifications,
            } => {
                m.locale = locale;
                m.notifications = notifications;
            }
            Action::Theme(theme) => {
                theme.apply();
                crate::storage::save_theme(theme);
                m.theme = theme;
            }
        }
        Rc::new(m)
    }
}

pub type Store = UseReducerHandle<Model>;

/// Reads the student's state again; a dead session leads back to sign-in.
pub fn reload(store: &Store) {
    let d = store.dispatcher();
    spawn_local(async move {
        match invoke::student_state().await {
            Ok(s) => {
                crate::storage::save_state(&s, now_ms());
                d.dispatch(Action::Loaded(s));
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
    store.dispatch(Action::Show(Screen::Home));
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

#[derive(serde::Deserialize)]
struct OpenOrder {
    order: OrderView,
}

#[derive(serde::Deserialize)]
struct Connection {
    online: bool,
}

fn listen_to_the_shell(store: &Store) {
    let d = store.dispatcher();
    // A change shows at once; what the student may do next (and the
    // eligibility) is read again, as it changes with the status.
    invoke::listen(crate::pages::EVENT_ORDER_STATUS, {
        let store = store.clone();
        move |e: StatusEvent| {
            store.dispatch(Action::OrderChanged(e.order));
            reload(&store);
        }
    });
    invoke::listen(crate::pages::EVENT_CONNECTION, {
        let d = d.clone();
        move |c: Connection| d.dispatch(Action::Online(c.online))
    });
    invoke::listen(crate::pages::EVENT_SIGNED_OUT, move |()| {
        crate::storage::forget_state();
        d.dispatch(Action::SignedOut);
    });
    invoke::listen(crate::pages::EVENT_RESYNC, {
        let store = store.clone();
        move |()| reload(&store)
    });
    invoke::listen(crate::pages::EVENT_OPEN_ORDER, {
        let store = store.clone();
        move |o: OpenOrder| open_order(&store, o.order.status)
    });
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

/// Focuses the screen's heading once the screens below the app have
/// rendered too (they re-render after it, through the context).
fn focus_heading() {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return;
    };
    let focus = wasm_bindgen::closure::Closure::once_into_js(|| {
        let heading = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(".app main h1").ok().flatten())
            .and_then(|h| h.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(h) = heading {
            let _ = h.set_attribute("tabindex", "-1");
            let _ = h.focus();
        }
    });
    let _ = window.set_timeout_with_callback(focus.unchecked_ref());
}

#[function_component(App)]
pub fn app() -> Html {
    let store = use_reducer(Model::at_start);
    {
        let store = store.clone();
        use_effect_with((), move |()| {
            // The first screen is rendered (from local storage): the
            // splash goes, and the startup benchmark's mark once it is on glass.
            if let Some(splash) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id("splash"))
            {
                splash.remove();
            }
            invoke::first_paint("screen");
            let (locale, notifications) = (store.locale, store.notifications);
            listen_to_the_shell(&store);
            spawn_local(async move {
                let _ = invoke::set_preferences(locale, notifications).await;
            });
            let d = store.dispatcher();
            spawn_local(async move {
                if let Ok(c) = invoke::app_config().await {
                    d.dispatch(Action::Configured(c));
                }
            });
            let d = store.dispatcher();
            spawn_local(async move {
                match invoke::restore_session().await {
                    Ok(Some(info)) => enter(&store, &info),
                    _ => d.dispatch(Action::SignedOut),
                }
            });
        });
    }
    // A new screen takes the focus to its heading, so a screen reader says
    // where the student is and the keyboard starts from the top.
    use_effect_with(
        (store.screen, store.student.is_some(), store.codes.is_some()),
        |_| focus_heading(),
    );
    let screen = match store.screen {
        Screen::Welcome => html! { <Welcome /> },
        Screen::SignIn => html! { <SignIn /> },
        Screen::Home => html! { <Home /> },
        Screen::Settings => html! { <Settings /> },
    };
    // Re-rendered on a language change: `lang` tells screen readers too.
    let lang = store.locale.as_str();
    html! {
        <ContextProvider<Store> context={store.clone()}>
            <div class="app" lang={lang}>{ screen }</div>
        </ContextProvider<Store>>
    }
}
