//! The app component: the store, start-up, and the screen switch.

use crate::flows;
use crate::hooks::{use_back, use_focus_heading};
use crate::invoke;
use crate::pages::{
    home::Home, settings::Settings, sign_in::SignIn, switch::SwitchUniversity, welcome::Welcome,
};
use crate::state::{Action, Screen, Store};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

#[function_component(App)]
pub fn app() -> Html {
    let store = use_reducer(flows::initial_model);
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
            flows::listen_to_the_shell(&store);
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
                    Ok(Some(info)) => flows::enter(&store, &info),
                    _ => d.dispatch(Action::SignedOut),
                }
            });
        });
    }
    use_back(&store);
    use_focus_heading((
        store.screen,
        store.student.is_some(),
        store.codes.is_some(),
        store.asking.is_some(),
    ));
    let screen = match (&store.asking, store.screen) {
        (Some(link), _) => html! { <SwitchUniversity link={link.clone()} /> },
        (None, screen) => match screen {
            Screen::Welcome => html! { <Welcome /> },
            Screen::SignIn => html! { <SignIn /> },
            Screen::Home => html! { <Home /> },
            Screen::Settings => html! { <Settings /> },
        },
    };
    // Re-rendered on a language change: `lang` tells screen readers too.
    let lang = store.locale.as_str();
    html! {
        <ContextProvider<Store> context={store.clone()}>
            <div class="app" lang={lang}>{ screen }</div>
        </ContextProvider<Store>>
    }
}
