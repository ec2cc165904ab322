use crate::i18n::t;
use yew::{Html, html};

/// The logo, the name and what the app does: the top of the screens
/// before sign-in.
pub fn brand() -> Html {
    html! {
        <header class="brand">
            <img class="logo" src="/128x128.png" alt="" />
            <h1>{ t("app-name") }</h1>
            <p class="lead">{ t("app-lead") }</p>
        </header>
    }
}
