use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use yew::prelude::*;

/// Renders again every 30 s while `active`, so "last updated N minutes ago"
/// keeps counting while the app is offline (and "USOS last checked …"
/// while USOS works on an order).
#[hook]
pub fn use_ticking(active: bool) {
    let update = use_force_update();
    use_effect_with(active, move |&active| {
        let window = web_sys::window();
        let ticking = active
            .then(|| {
                let tick = Closure::<dyn Fn()>::new(move || update.force_update());
                window
                    .as_ref()?
                    .set_interval_with_callback_and_timeout_and_arguments_0(
                        tick.as_ref().unchecked_ref(),
                        30_000,
                    )
                    .ok()
                    .map(|id| (id, tick))
            })
            .flatten();
        move || {
            if let (Some(window), Some((id, _tick))) = (window, ticking) {
                window.clear_interval_with_handle(id);
            }
        }
    });
}
