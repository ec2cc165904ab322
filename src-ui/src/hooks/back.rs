use crate::invoke::{self, PluginListener};
use crate::state::{Action, Store};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use yew::prelude::*;

/// Android's Back: the app plugin's payload (whether the webview could go back).
#[derive(serde::Deserialize)]
struct Pressed {}

/// Back, from the phone and the keyboard. Android hands its Back button
/// (and gesture) to the app while a listener is registered: one is, exactly
/// while there is something to go back to, so on a first screen the system
/// does what it always does (leaves the app). Escape goes back on a
/// computer; on a first screen it does nothing.
#[hook]
pub fn use_back(store: &Store) {
    let handler = {
        let d = store.dispatcher();
        use_memo((), move |()| {
            invoke::plugin_handler(move |_: Pressed| d.dispatch(Action::Back))
        })
    };
    use_effect_with(store.at_root(), move |&at_root| {
        let dropped = Rc::new(Cell::new(false));
        let listening: Rc<RefCell<Option<PluginListener>>> = Rc::default();
        if !at_root {
            let (dropped, listening) = (dropped.clone(), listening.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let listener = invoke::add_plugin_listener("app", "back-button", &handler).await;
                match listener {
                    Some(l) if dropped.get() => l.unregister(),
                    other => *listening.borrow_mut() = other,
                }
            });
        }
        move || {
            dropped.set(true);
            if let Some(l) = listening.borrow_mut().take() {
                l.unregister();
            }
        }
    });
    let d = store.dispatcher();
    use_effect_with((), move |()| {
        let on_key =
            Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
                if e.key() == "Escape" {
                    d.dispatch(Action::Back);
                }
            });
        let document = web_sys::window().and_then(|w| w.document());
        if let Some(doc) = &document {
            let _ =
                doc.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
        }
        move || {
            if let Some(doc) = document {
                let _ = doc.remove_event_listener_with_callback(
                    "keydown",
                    on_key.as_ref().unchecked_ref(),
                );
            }
        }
    });
}
