use crate::flows::{follow_link, reload};
use crate::state::{Action, Screen, Store};
use yew::prelude::*;

/// Follows a link the system handed over, once, on the screen that shows
/// its outcome (`error`, `busy`: that screen's). Signed in, a pairing link
/// from a repeated USOS sign-in has done its work on the server (USOS's
/// new token is kept there): the state is read again.
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
            if store.screen == Screen::Home && store.student.is_some() {
                error.set(None);
                reload(&store);
            } else {
                follow_link(store, link, &error, &busy);
            }
        }
    });
}
