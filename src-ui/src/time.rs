//! Dates for people, in the student's language: "21 Dec 2026", "21 gru 2026".
//! Always Poland's calendar (Europe/Warsaw): a card valid until 30 September
//! says so on a phone set to another time zone too.

use legitka_wire::Locale;
use wasm_bindgen::JsValue;

const DATE: [(&str, &str); 3] = [("day", "numeric"), ("month", "short"), ("year", "numeric")];

pub fn date(ms: i64) -> String {
    formatted(ms, &DATE)
}

/// Date and time: "21 Dec 2026, 14:05".
pub fn date_time(ms: i64) -> String {
    let [day, month, year] = DATE;
    formatted(
        ms,
        &[day, month, year, ("hour", "2-digit"), ("minute", "2-digit")],
    )
}

/// `ms` in the student's language, with only the given fields (a date
/// alone when no time field is named).
fn formatted(ms: i64, fields: &[(&str, &str)]) -> String {
    #[allow(clippy::cast_precision_loss)] // milliseconds since 1970 fit in an f64 exactly
    let d = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"timeZone".into(), &"Europe/Warsaw".into());
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&opts, &(*k).into(), &(*v).into());
    }
    d.to_locale_string(tag(), &opts).into()
}

pub fn now_ms() -> i64 {
    #[allow(clippy::cast_possible_truncation)] // whole milliseconds
    let now = js_sys::Date::now() as i64;
    now
}

fn tag() -> &'static str {
    match crate::i18n::locale() {
        Locale::Pl => "pl-PL",
        Locale::En => "en-GB",
    }
}
