//! The app's state and its reducer: pure. What the student sees is a
//! [`Model`]; every change is an [`Action`]; `reduce` only computes the
//! next model. Remembering things on the device, the theme's stylesheet,
//! calls to the shell — the effects — live in `flows`.

use crate::invoke::{AppConfig, Link, RevealedCodes, University};
use legitka_wire::{Locale, OrderStatus, OrderView, StudentState};
use std::rc::Rc;
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
    /// A `legitka://` link the system handed over, until a screen follows it.
    pub opened_link: Option<String>,
    /// The screens Back returns to, the nearest last. Empty on a first
    /// screen (home, or sign-in signed out): Back leaves the app there.
    /// The codes are never in it: once closed they are gone.
    pub back: Vec<Screen>,
    /// A link the system handed over that leads to another university
    /// than the chosen one: the student is asked before it is followed.
    pub asking: Option<Rc<Link>>,
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
            opened_link: None,
            back: Vec::new(),
            asking: None,
        }
    }
}

impl Model {
    /// Nothing for Back to close or return to: it leaves the app.
    pub fn at_root(&self) -> bool {
        self.codes.is_none() && self.back.is_empty() && self.asking.is_none()
    }

    /// Signed in, on a signed-in screen (a cached home shows before the
    /// session is restored; `restoring` tells that apart).
    pub fn signed_in(&self) -> bool {
        matches!(self.screen, Screen::Home | Screen::Settings)
    }

    /// Goes to `screen`; Back returns here.
    fn go(&mut self, screen: Screen) {
        if screen != self.screen {
            self.back.push(self.screen);
            self.screen = screen;
        }
    }

    /// `screen` as a first screen: Back leaves the app from it.
    fn start_at(&mut self, screen: Screen) {
        self.back.clear();
        self.screen = screen;
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
    /// The state read from the server, and when (Unix ms).
    Loaded(Box<StudentState>, i64),
    OrderChanged(OrderView),
    Revealed(RevealedCodes),
    HideCodes,
    Online(bool),
    /// The student opens a screen; Back returns to this one.
    Show(Screen),
    /// A screen opened from outside (a tapped notice): the first screen.
    Reset(Screen),
    /// Back (the phone's button or gesture, Escape, a screen's back
    /// button): closes the codes, else returns to the previous screen.
    Back,
    Preferences {
        locale: Locale,
        notifications: bool,
    },
    Theme(Theme),
    /// The system handed over a link; `None`: a screen took it.
    LinkOpened(Option<String>),
    /// Ask before following a link to another university; `None`: answered.
    Ask(Option<Link>),
}

impl Reducible for Model {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut m = (*self).clone();
        match action {
            Action::Configured(config) => m.config = Some(config),
            Action::Choose(university) => {
                if university.is_some() {
                    m.go(Screen::SignIn);
                } else {
                    m.start_at(Screen::Welcome);
                }
                m.university = university;
            }
            Action::SignedIn { persisted } => {
                // A restored session must not pull the student out of a
                // screen they opened meanwhile (the home screen paints first).
                if matches!(m.screen, Screen::Welcome | Screen::SignIn) {
                    m.start_at(Screen::Home);
                }
                m.session_not_saved = !persisted;
                m.restoring = false;
            }
            Action::SignedOut => {
                m.restoring = false;
                m.start_at(if m.university.is_some() {
                    Screen::SignIn
                } else {
                    Screen::Welcome
                });
                m.student = None;
                m.updated_at = None;
                m.codes = None;
            }
            Action::Loaded(state, at) => {
                if state.order.as_ref().map(|o| o.status) != Some(OrderStatus::Ready) {
                    m.codes = None;
                }
                m.student = Some(*state);
                m.updated_at = Some(at);
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
                // Over home (a reveal starts there, or at a tapped notice).
                m.screen = Screen::Home;
            }
            Action::HideCodes => m.codes = None,
            Action::Online(online) => m.online = online,
            Action::Show(screen) => m.go(screen),
            Action::Reset(screen) => m.start_at(screen),
            Action::Back => {
                if m.asking.is_some() {
                    m.asking = None;
                } else if m.codes.is_some() {
                    m.codes = None;
                } else if let Some(previous) = m.back.pop() {
                    m.screen = previous;
                }
            }
            Action::Preferences {
                locale,
                notifications,
            } => {
                m.locale = locale;
                m.notifications = notifications;
            }
            Action::Theme(theme) => m.theme = theme,
            Action::LinkOpened(link) => m.opened_link = link,
            Action::Ask(link) => m.asking = link.map(Rc::new),
        }
        Rc::new(m)
    }
}

pub type Store = UseReducerHandle<Model>;
