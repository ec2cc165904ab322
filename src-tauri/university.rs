//! Choosing the university: the bundled list, the setup and pairing links
//! (`legitka://setup?server=…`, `legitka://pair?server=…&code=…` and their
//! https forms, scanned from the university's QR codes, pasted or opened by
//! the system), and asking a server who it is.

use crate::api::normalize_server;
use crate::error::{CommandError, CommandResult};
use crate::session::Shell;
use legitka_wire::shell::{AppConfig, Link, University};
use legitka_wire::{ErrorCode, UniversityInfo};
use reqwest::Method;
use tauri::State;

/// The universities known to run Legitka, shipped with the app.
const BUNDLED: &str = include_str!("universities.json");

/// The bundled list; `LEGITKA_SERVER` (the demo, the tests) puts its server
/// first, under the bundled name when it is one of them.
pub fn universities(env_server: Option<&str>) -> Vec<University> {
    let mut list: Vec<University> = serde_json::from_str(BUNDLED)
        .expect("universities.json is a list of {name, server, id?, signIn?}");
    if let Some(server) = env_server.and_then(|s| normalize_server(s).ok()) {
        let name = list
            .iter()
            .position(|u| u.server == server && u.id.is_none())
            .map_or_else(|| server.clone(), |i| list.remove(i).name);
        list.insert(
            0,
            University {
                name,
                server,
                id: None,
                sign_in: Default::default(),
                help_contact: None,
                terms_url: None,
            },
        );
    }
    list
}

#[tauri::command]
pub fn app_config() -> AppConfig {
    let env = std::env::var("LEGITKA_SERVER").ok();
    AppConfig {
        universities: universities(env.as_deref().filter(|s| !s.is_empty())),
        can_scan: cfg!(mobile),
        can_open_mobywatel: cfg!(mobile),
    }
}

/// A university on a server: the server's address and, when it serves
/// several, which one (its id there).
#[derive(Debug, PartialEq, Eq)]
pub struct Place {
    pub server: String,
    pub university: Option<String>,
}

/// What a `legitka://` link names.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    Setup(Place),
    Pair { place: Place, code: String },
}

impl Target {
    fn place(&self) -> &Place {
        match self {
            Self::Setup(place) | Self::Pair { place, .. } => place,
        }
    }
}

/// `Ok(None)` when the input is not a link into the app (an address, a
/// code); an error when it is one but broken. The wire crate reads the link
/// (the server writes it with the same crate); the server's address in it
/// is checked here as a typed one is.
pub fn parse_link(input: &str) -> CommandResult<Option<Target>> {
    let bad = || CommandError::new(ErrorCode::BadRequest, "not a Legitka setup or pairing link");
    let Some(link) = legitka_wire::shell::parse_link(input).map_err(|_| bad())? else {
        return Ok(None);
    };
    let place = Place {
        server: normalize_server(&link.server).map_err(|_| bad())?,
        university: link.university,
    };
    Ok(Some(match link.code {
        None => Target::Setup(place),
        Some(code) => Target::Pair { place, code },
    }))
}

/// Which university an address, setup link or pairing link leads to: the
/// server is asked its name, so a wrong address fails here, before sign-in.
#[tauri::command]
pub async fn check_university(shell: State<'_, Shell>, input: String) -> CommandResult<Link> {
    let target = match parse_link(&input)? {
        Some(t) => t,
        None => Target::Setup(Place {
            server: normalize_server(&with_scheme(&input))?,
            university: None,
        }),
    };
    let place = target.place();
    let path = match &place.university {
        None => legitka_wire::paths::UNIVERSITY.to_owned(),
        Some(id) => format!("{}?university={id}", legitka_wire::paths::UNIVERSITY),
    };
    let info: UniversityInfo = shell
        .api()
        .send(Method::GET, &place.server, &path, None, None::<&()>, None)
        .await?;
    let university = University {
        name: info.name,
        server: place.server.clone(),
        id: info.id,
        sign_in: info.sign_in,
        help_contact: info.help_contact,
        terms_url: info.terms_url,
    };
    Ok(match target {
        Target::Setup(_) => Link::Setup { university },
        Target::Pair { code, .. } => Link::Pair { university, code },
    })
}

/// A bare host name typed by a student means HTTPS.
fn with_scheme(input: &str) -> String {
    let input = input.trim();
    if input.contains("://") {
        input.to_owned()
    } else {
        format!("https://{input}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links() {
        assert_eq!(parse_link("https://u.example").unwrap(), None);
        assert_eq!(
            parse_link(" legitka://setup?server=https%3A%2F%2Flegitka.uczelnia.pl%2F ").unwrap(),
            Some(Target::Setup(Place {
                server: "https://legitka.uczelnia.pl".into(),
                university: None
            }))
        );
        // As the server's pages write them: the address unescaped.
        assert_eq!(
            parse_link("legitka://pair?server=http://127.0.0.1:8080&code=WXYZ6789").unwrap(),
            Some(Target::Pair {
                place: Place {
                    server: "http://127.0.0.1:8080".into(),
                    university: None
                },
                code: "WXYZ6789".into()
            })
        );
        // One of the server's universities (USOS sign-in hands it back).
        assert_eq!(
            parse_link("legitka://pair?server=http://127.0.0.1:8080&university=uwu&code=WXYZ6789")
                .unwrap(),
            Some(Target::Pair {
                place: Place {
                    server: "http://127.0.0.1:8080".into(),
                    university: Some("uwu".into())
                },
                code: "WXYZ6789".into()
            })
        );
        // The https form (an App Link / Universal Link), under a path too.
        assert_eq!(
            parse_link("https://u.example/legitka/open/pair?code=wxyz-6789&university=uwu")
                .unwrap(),
            Some(Target::Pair {
                place: Place {
                    server: "https://u.example/legitka".into(),
                    university: Some("uwu".into())
                },
                code: "WXYZ6789".into()
            })
        );
        for bad in [
            "legitka://setup",
            "legitka://setup?server=",
            "legitka://setup?server=ftp%3A%2F%2Fx",
            "legitka://setup?server=u.example",
            "legitka://pair?server=https%3A%2F%2Fu.example",
            "legitka://other?server=https%3A%2F%2Fu.example",
            "legitka://setup?server=https%3A%2F%2Fu.example&university=..%2Fme",
        ] {
            assert_eq!(
                parse_link(bad).unwrap_err().code,
                ErrorCode::BadRequest,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn typed_addresses_default_to_https() {
        assert_eq!(
            with_scheme(" legitka.uczelnia.pl "),
            "https://legitka.uczelnia.pl"
        );
        assert_eq!(
            with_scheme("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn the_bundled_list_and_the_demo_server() {
        let bundled = universities(None);
        assert!(!bundled.is_empty());
        // A known server keeps its bundled name and comes first …
        let known = universities(Some("http://127.0.0.1:8080/"));
        assert_eq!(known[0].name, "Uniwersytet Demo");
        assert_eq!(known.len(), bundled.len());
        // … an unknown one is listed by its address.
        let other = universities(Some("http://127.0.0.1:9999"));
        assert_eq!(other[0].name, "http://127.0.0.1:9999");
        assert_eq!(other.len(), bundled.len() + 1);
    }
}
