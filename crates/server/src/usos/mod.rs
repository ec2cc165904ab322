//! USOS API, for universities that run USOS: Legitka as a gateway that
//! speaks to the university's installation for the student. `oauth` signs
//! requests (OAuth 1.0a, HMAC-SHA1); `client` is one installation's API —
//! the token dance and `services/cards` — with USOS's refusals sorted into
//! what to do next; `statuses` maps USOS's raw order statuses (the one
//! place that guesses them). The sign-in, the order service on USOS and
//! the status watcher build on these.

pub mod client;
pub mod oauth;
pub mod statuses;
pub mod store;

use crate::crypto::Secret;
use oauth::Consumer;
use std::collections::HashMap;
use std::sync::Arc;

/// The scopes Legitka asks USOS for: the student's cards, and tokens that
/// last while the order is watched in the background.
pub const SCOPES: [&str; 2] = ["cards", "offline_access"];

/// A university that runs USOS, as configured (`[[usos]]` in the settings).
#[derive(Clone, Debug)]
pub struct UsosUniversity {
    /// Short and stable: it names the university in URLs and keys its
    /// students (`[a-z0-9-]`, at most 32).
    pub id: String,
    pub name: String,
    /// The installation's USOS API, e.g. `https://usosapps.uw.edu.pl/`.
    pub base_url: String,
    /// Registered at the installation's `/developers/` page; the secret
    /// never leaves the server.
    pub consumer: Consumer,
    pub limits: UsosLimits,
    /// Where its students get help; its rules for mLegitymacja (shown in the app).
    pub help_contact: Option<String>,
    pub terms_url: Option<String>,
}

/// How hard Legitka may lean on one installation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsosLimits {
    /// Requests in flight at once, whatever their cause.
    pub concurrency: usize,
    /// The watcher's looks per minute; a look over the budget waits.
    pub looks_per_minute: u32,
}

impl Default for UsosLimits {
    fn default() -> Self {
        Self {
            concurrency: 4,
            // 10,000 orders watched every 15 minutes need 667 a minute.
            looks_per_minute: 1_000,
        }
    }
}

impl UsosLimits {
    pub fn checked(self) -> anyhow::Result<Self> {
        anyhow::ensure!(self.concurrency > 0, "concurrency must be at least 1");
        anyhow::ensure!(
            self.looks_per_minute > 0,
            "looks_per_minute must be at least 1"
        );
        Ok(self)
    }
}

impl UsosUniversity {
    pub fn new(
        id: &str,
        name: &str,
        base_url: &str,
        consumer_key: &str,
        consumer_secret: &str,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            legitka_wire::is_university_id(id),
            "a USOS university id is 1–32 of a-z, 0-9 and -: {id:?}"
        );
        anyhow::ensure!(!name.trim().is_empty(), "USOS university {id}: a name");
        crate::net::https_or_loopback(base_url, "the USOS base_url")?;
        anyhow::ensure!(
            !consumer_key.trim().is_empty() && !consumer_secret.trim().is_empty(),
            "USOS university {id}: the consumer key and secret"
        );
        Ok(Self {
            id: id.to_owned(),
            name: name.trim().to_owned(),
            base_url: if base_url.ends_with('/') {
                base_url.to_owned()
            } else {
                format!("{base_url}/")
            },
            consumer: Consumer {
                key: consumer_key.trim().to_owned(),
                secret: Secret::new(consumer_secret.trim().to_owned()),
            },
            limits: UsosLimits::default(),
            help_contact: None,
            terms_url: None,
        })
    }
}

/// A configured USOS university with its installation's client and the
/// watcher's budget of looks.
pub struct UsosSite {
    pub university: UsosUniversity,
    pub api: client::Installation,
    pub looks: governor::DefaultDirectRateLimiter,
}

/// The configured USOS universities by id.
pub fn sites(list: &[UsosUniversity]) -> anyhow::Result<HashMap<String, Arc<UsosSite>>> {
    let mut sites = HashMap::new();
    for u in list {
        let limits = u.limits.checked()?;
        let api = client::Installation::new(&u.base_url, u.consumer.clone(), limits.concurrency)?;
        let per_minute = std::num::NonZeroU32::new(limits.looks_per_minute)
            .ok_or_else(|| anyhow::anyhow!("looks_per_minute must be at least 1"))?;
        let site = Arc::new(UsosSite {
            university: u.clone(),
            api,
            looks: governor::RateLimiter::direct(governor::Quota::per_minute(per_minute)),
        });
        anyhow::ensure!(
            sites.insert(u.id.clone(), site).is_none(),
            "two USOS universities with the id {:?}",
            u.id
        );
    }
    Ok(sites)
}
