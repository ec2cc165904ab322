use crate::i18n::{t, tr};
use crate::invoke::University;
use yew::prelude::*;

/// Where the university's students get help, and its rules for
/// mLegitymacja, as the university configured them (nothing when it did not).
pub fn help(university: Option<&University>) -> Html {
    let Some(u) = university else {
        return html! {};
    };
    if u.help_contact.is_none() && u.terms_url.is_none() {
        return html! {};
    }
    html! {
        <section class="help" aria-labelledby="help-title">
            <h2 id="help-title" class="small-title">{ t("help-title") }</h2>
            if let Some(contact) = &u.help_contact {
                <p id="help-contact" class="small">{ tr("help-contact", &[("contact", contact.clone().into())]) }</p>
            }
            if let Some(url) = &u.terms_url {
                <p id="help-terms" class="small">{ tr("help-terms", &[("url", url.clone().into())]) }</p>
            }
        </section>
    }
}
