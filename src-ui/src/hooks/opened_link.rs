use crate::flows::{LinkFrom, follow_link};
use crate::state::{Action, Store};
use yew::prelude::*;

/// Opens a link the system handed over, once, on the screen that shows
/// its outcome (`error`, `busy`: that screen's); see [`follow_link`].
#[hook]
pub fn use_opened_link(
    store: &Store,
    error: &UseStateHandle<Option<String>>,
    busy: &UseStateHandle<bool>,
) {
    let link = store.opened_link.clone();
    let (store, error, busy) = (store.clone(), error.clone(), busy.clone());
    use_effect_with(link, move |link| {
        if let Some(link) = link.clone() {
            store.dispatch(Action::LinkOpened(None));
            follow_link(store, link, LinkFrom::System, &error, &busy);
        }
    });
}
