//! What this device remembers between launches, in the webview's local
//! storage: the language, notices and theme choices, and the last status it saw
//! (nothing secret: no tokens, no codes) so an offline start shows
//! something true with its age, and the chosen university (name, address). Sign-out forgets the status.

use crate::state::Theme;
use legitka_wire::shell::University;
use legitka_wire::{Locale, StudentState};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

const PREFS: &str = "legitka.preferences";
const STATE: &str = "legitka.last-state";
const UNIVERSITY: &str = "legitka.university";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn write<T: Serialize>(key: &str, value: &T) {
    let Some(s) = storage() else { return };
    let Ok(v) = serde_wasm_bindgen::to_value(value) else {
        return;
    };
    if let Ok(json) = js_sys::JSON::stringify(&v) {
        let _ = s.set_item(key, &String::from(json));
    }
}

fn read<T: for<'de> Deserialize<'de>>(key: &str) -> Option<T> {
    let json = storage()?.get_item(key).ok()??;
    let v: JsValue = js_sys::JSON::parse(&json).ok()?;
    serde_wasm_bindgen::from_value(v).ok()
}

#[derive(Serialize, Deserialize)]
struct Prefs {
    locale: Locale,
    notifications: bool,
}

/// The student answered the app's question about notices (or saw that
/// they are off): it is not asked again.
const NOTICES_ASKED: &str = "legitka.notices-asked";

pub fn notices_asked() -> bool {
    read::<bool>(NOTICES_ASKED).unwrap_or(false)
}

pub fn save_notices_asked() {
    write(NOTICES_ASKED, &true);
}

/// Also read by `splash.js`, which applies the theme before the wasm runs.
const THEME: &str = "legitka.theme";

pub fn save_theme(theme: Theme) {
    write(THEME, &theme);
}

pub fn theme() -> Theme {
    read(THEME).unwrap_or_default()
}

pub fn save_preferences(locale: Locale, notifications: bool) {
    write(
        PREFS,
        &Prefs {
            locale,
            notifications,
        },
    );
}

pub fn preferences() -> Option<(Locale, bool)> {
    read::<Prefs>(PREFS).map(|p| (p.locale, p.notifications))
}

#[derive(Serialize, Deserialize)]
struct Cached {
    state: StudentState,
    at: i64,
}

pub fn save_state(state: &StudentState, at: i64) {
    write(
        STATE,
        &Cached {
            state: state.clone(),
            at,
        },
    );
}

pub fn cached_state() -> Option<(StudentState, i64)> {
    read::<Cached>(STATE).map(|c| (c.state, c.at))
}

pub fn forget_state() {
    if let Some(s) = storage() {
        let _ = s.remove_item(STATE);
    }
}

pub fn save_university(u: Option<&University>) {
    match u {
        Some(u) => write(UNIVERSITY, u),
        None => {
            if let Some(s) = storage() {
                let _ = s.remove_item(UNIVERSITY);
            }
        }
    }
}

pub fn university() -> Option<University> {
    read(UNIVERSITY)
}
