//! Dates for people: "21 Dec 2026".

use wasm_bindgen::JsValue;

pub fn date(ms: i64) -> String {
    #[allow(clippy::cast_precision_loss)] // milliseconds since 1970 fit in an f64 exactly
    let d = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    let opts = js_sys::Object::new();
    for (k, v) in [("day", "numeric"), ("month", "short"), ("year", "numeric")] {
        let _ = js_sys::Reflect::set(&opts, &k.into(), &v.into());
    }
    d.to_locale_date_string("en-GB", &opts).into()
}
