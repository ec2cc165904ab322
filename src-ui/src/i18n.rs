//! Every sentence through Fluent (`locales/pl.ftl`, `locales/en.ftl`,
//! compiled in). The language is the student's choice, by default the
//! system's; Polish plurals (1 wyświetlenie, 2 wyświetlenia, 5 wyświetleń)
//! come from Fluent's CLDR plural rules.

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use legitka_wire::Locale;
use std::cell::{Cell, RefCell};

pub const PL_FTL: &str = include_str!("../locales/pl.ftl");
pub const EN_FTL: &str = include_str!("../locales/en.ftl");

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: &str, ftl: &str) -> Bundle {
    let resource = FluentResource::try_new(ftl.to_owned()).expect("the bundled .ftl parses");
    let mut b = FluentBundle::new(vec![lang.parse().expect("a language tag")]);
    // Plain text in the DOM: no Unicode isolation marks around arguments.
    b.set_use_isolating(false);
    b.add_resource(resource).expect("no duplicate keys");
    b
}

thread_local! {
    static CURRENT: Cell<Locale> = const { Cell::new(Locale::Pl) };
    static BUNDLES: RefCell<Option<(Bundle, Bundle)>> = const { RefCell::new(None) };
}

/// Each language by its own name, as a language switch shows it.
pub const LANGUAGES: [(Locale, &str); 2] = [(Locale::Pl, "Polski"), (Locale::En, "English")];

/// The other language of the two: what a one-tap switch offers.
pub fn other_language(locale: Locale) -> (Locale, &'static str) {
    LANGUAGES
        .into_iter()
        .find(|(l, _)| *l != locale)
        .expect("two languages")
}

pub fn set_locale(locale: Locale) {
    CURRENT.with(|c| c.set(locale));
}

pub fn locale() -> Locale {
    CURRENT.with(Cell::get)
}

/// The message `id` in `locale`, with `args`; `None` if that language lacks it.
pub fn lookup(locale: Locale, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
    BUNDLES.with(|cell| {
        let mut cell = cell.borrow_mut();
        let (pl, en) = cell.get_or_insert_with(|| (bundle("pl", PL_FTL), bundle("en", EN_FTL)));
        let b = match locale {
            Locale::Pl => pl,
            Locale::En => en,
        };
        let pattern = b.get_message(id)?.value()?;
        let mut errors = vec![];
        let text = b.format_pattern(pattern, args, &mut errors).into_owned();
        errors.is_empty().then_some(text)
    })
}

/// The message `id` in the current language (the id itself if missing: a
/// test keeps both languages complete).
pub fn t(id: &str) -> String {
    lookup(locale(), id, None).unwrap_or_else(|| id.to_owned())
}

/// The message `id` with arguments, e.g. `tr("codes-left", &[("left", 2.into())])`.
pub fn tr(id: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
    let mut a = FluentArgs::new();
    for (k, v) in args {
        a.set(*k, v.clone());
    }
    lookup(locale(), id, Some(&a)).unwrap_or_else(|| id.to_owned())
}

/// The message ids a `.ftl` file defines.
pub fn ids(ftl: &str) -> Vec<String> {
    ftl.lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_owned()))
        .collect()
}
