use yew::prelude::*;

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

/// A new screen takes the focus to its heading, so a screen reader says
/// where the student is and the keyboard starts from the top: whenever
/// `deps` change.
#[hook]
pub fn use_focus_heading<D: PartialEq + 'static>(deps: D) {
    use_effect_with(deps, |_| focus_heading());
}
