//! Typed settings: defaults, then an optional TOML file, then `APP_…`
//! environment variables (`APP_DATABASE_URL`, `APP_ACTIVATION_KEY`, …).
//! Secrets are wrapped so they cannot be printed by accident.

use crate::crypto::Secret;
use crate::issuer::bridge::BridgeSettings;
use crate::orders::eligibility::Policy;
use crate::push::apns::ApnsSettings;
use crate::push::fcm::FcmSettings;
use crate::push::webpush::WebPushSettings;
use crate::ratelimit::RateSettings;
use crate::usos::UsosUniversity;
use anyhow::Context;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// A demo-only key, used when the demo runs without one. Never for real data.
pub const DEMO_ACTIVATION_KEY: &str =
    "de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d0de4d";

#[derive(Clone, Debug)]
pub struct Settings {
    /// The university's name, as the app shows it before sign-in.
    pub university_name: String,
    /// Where its students get help with mLegitymacja (an e-mail address,
    /// a phone number, an office), shown in the app.
    pub help_contact: Option<String>,
    /// The university's rules for issuing mLegitymacja (a web address).
    pub terms_url: Option<String>,
    /// Where the registry's photos are (the import's `photo_ref` names a
    /// file here); the card preview shows them. Off without it.
    pub photos_dir: Option<std::path::PathBuf>,
    pub bind: SocketAddr,
    pub database_url: String,
    /// 64 hex digits: the key that encrypts activation data at rest.
    pub activation_key: Secret<String>,
    pub eligibility: Policy,
    /// The issuer bridge; `serve` needs it, admin commands do not.
    pub issuer: Option<BridgeSettings>,
    /// This server's address as the issuer reaches it (its events come
    /// back to `<public_url>/issuer/v1/events`); by default the bound address.
    pub public_url: Option<String>,
    /// Issuer outbox workers in this process; 0 leaves them to other instances.
    pub issuer_workers: usize,
    /// How long a session (its refresh token) stays valid.
    pub session_ttl: Duration,
    /// How long one access token stays valid.
    pub access_ttl: Duration,
    /// Card validity when the registry has no ELS date (the 2025/26 policy).
    pub default_card_validity: Duration,
    /// How often expired activation data and cards are swept.
    pub sweep_interval: Duration,
    /// Sign-in and reveal rate limits.
    pub rates: RateSettings,
    /// How long other processes' changes may take to show in status reads
    /// (this process's own changes show at once). Zero turns the cache off.
    pub read_cache_ttl: Duration,
    /// Reverse proxies whose forwarded client address is believed
    /// (`Forwarded` / `X-Forwarded-For`); anyone else's is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Client connections open at once (capped below the open-file limit).
    pub max_connections: usize,
    /// Password checks running at once (about 19 MiB each); 0: one per core.
    pub password_checks_at_once: usize,
    /// The time a client has to send a request's headers; also the most a
    /// connection may sit idle.
    pub header_read_timeout: Duration,
    /// The time a client has to send a request's body.
    pub body_read_timeout: Duration,
    /// On shutdown, how long requests in flight may take to finish.
    pub shutdown_drain: Duration,
    /// FCM HTTP v1 (Android); off without it.
    pub fcm: Option<FcmSettings>,
    /// APNs (iOS); off without it.
    pub apns: Option<ApnsSettings>,
    /// Web Push / UnifiedPush (VAPID); off without it.
    pub web_push: Option<WebPushSettings>,
    /// E-mail notices through the university's SMTP server (`[smtp]`); off without it.
    pub smtp: Option<crate::push::email::SmtpSettings>,
    /// Push dispatcher workers in this process; 0 leaves sending to the
    /// other instances sharing the database.
    pub push_workers: usize,
    /// USOS watcher workers in this process: at most this many looks at
    /// USOS at once (per process; 0 leaves watching to other instances).
    pub usos_workers: usize,
    /// How often a watched USOS order is looked at while its student's app
    /// is open (the live stream connected); otherwise the watcher backs off.
    pub usos_look_while_open: Duration,
    /// Universities that run USOS, each signing its students in through
    /// its USOS API installation (`[[usos]]` tables in the settings file).
    pub usos: Vec<UsosUniversity>,
    /// Android App Links / iOS Universal Links on this server's domain
    /// (`[app_links]`); off without it.
    pub app_links: Option<crate::app_links::AppLinks>,
    /// How students of this server's own registry sign in (`identity`:
    /// `password` or `ldap` with `[ldap]`).
    pub identity: IdentitySettings,
    /// Keys sealed values may still be sealed with (`rotate-key` re-seals
    /// them with `activation_key`); they open, never seal.
    pub previous_activation_keys: Vec<Secret<String>>,
    /// Log lines as text or JSON (`log_format`).
    pub log_format: LogFormat,
    /// Where `/metrics` is served (`metrics_bind`; `off` for nowhere).
    pub metrics_bind: Option<SocketAddr>,
    /// The most a request may take (the live stream aside).
    pub request_timeout: Duration,
    /// How long what is only kept for a while is kept after it ends:
    /// delivered notices, ended sessions, idempotency keys, finished
    /// sign-ins, dead letters.
    pub retention: Duration,
    /// Bring the schema up to date at start (`serve --migrate`); otherwise
    /// a schema behind this version is refused.
    pub migrate_on_start: bool,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object a line (for a log collector).
    Json,
}

impl LogFormat {
    fn parse(s: &str) -> anyhow::Result<Self> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => anyhow::bail!("log_format: {other:?} is neither text nor json"),
        }
    }

    /// Only `log_format`, read before anything else (so that the settings'
    /// own errors are logged in it); a bad value is reported by `load`.
    pub fn peek(file: Option<&Path>) -> Self {
        let mut b = config::Config::builder();
        if let Some(f) = file {
            b = b.add_source(config::File::from(f).required(false));
        }
        b.add_source(config::Environment::with_prefix("APP"))
            .build()
            .ok()
            .and_then(|c| c.get_string("log_format").ok())
            .and_then(|f| Self::parse(&f).ok())
            .unwrap_or_default()
    }
}

/// `identity` and its section in the settings.
#[derive(Clone, Debug, Default)]
pub enum IdentitySettings {
    #[default]
    Password,
    Ldap(Box<crate::identity::ldap::LdapSettings>),
    Oidc(crate::identity::oidc::OidcSettings),
}

/// The file/environment shape; every key has a default except the key.
/// An unknown key is refused by name: a typo (`databse_url`) must not
/// quietly leave the default in place.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Raw {
    university_name: String,
    help_contact: Option<String>,
    terms_url: Option<String>,
    photos_dir: Option<std::path::PathBuf>,
    bind: SocketAddr,
    database_url: String,
    activation_key: Option<String>,
    activation_key_file: Option<std::path::PathBuf>,
    /// Comma-separated, or one a line in `previous_activation_keys_file`.
    previous_activation_keys: String,
    previous_activation_keys_file: Option<std::path::PathBuf>,
    log_format: String,
    /// An address, or `off`.
    metrics_bind: String,
    request_timeout_secs: u64,
    retention_days: u64,
    eligibility: String,
    /// Which issuer adapter: `bridge` (the USOS gateway comes next).
    issuer: String,
    issuer_url: Option<String>,
    issuer_secret_file: Option<std::path::PathBuf>,
    public_url: Option<String>,
    issuer_workers: usize,
    session_ttl_days: u64,
    access_ttl_minutes: u64,
    card_validity_days: u64,
    sweep_interval_secs: u64,
    rate_sign_in_per_account: u32,
    rate_sign_in_per_address: u32,
    rate_reveal_per_account: u32,
    rate_reveal_per_address: u32,
    read_cache_ttl_ms: u64,
    max_connections: usize,
    password_checks_at_once: usize,
    /// Comma-separated addresses or networks (`127.0.0.1, 10.0.0.0/8`).
    trusted_proxies: String,
    header_read_timeout_secs: u64,
    body_read_timeout_secs: u64,
    shutdown_drain_secs: u64,
    fcm_project_id: Option<String>,
    fcm_endpoint: String,
    fcm_token_uri: String,
    fcm_client_email: Option<String>,
    fcm_private_key_file: Option<std::path::PathBuf>,
    apns_endpoint: String,
    apns_team_id: Option<String>,
    apns_key_id: Option<String>,
    apns_key_file: Option<std::path::PathBuf>,
    apns_topic: String,
    webpush_vapid_key_file: Option<std::path::PathBuf>,
    webpush_contact: Option<String>,
    #[serde(default)]
    smtp: Option<RawSmtp>,
    #[serde(default)]
    app_links: Option<crate::app_links::AppLinks>,
    identity: String,
    #[serde(default)]
    ldap: Option<crate::identity::ldap::LdapSettings>,
    #[serde(default)]
    oidc: Option<crate::identity::oidc::OidcSettings>,
    webpush_allow_http: bool,
    push_workers: usize,
    usos_workers: usize,
    usos_look_while_open_secs: u64,
    #[serde(default)]
    usos: Vec<RawUsos>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    #[serde(default = "default_smtp_port")]
    port: u16,
    /// starttls (the default), tls, or none (this machine only).
    #[serde(default = "default_smtp_security")]
    security: String,
    username: Option<String>,
    password_file: Option<std::path::PathBuf>,
    from: String,
    /// The "ready" e-mail carries the codes (one view); see the README.
    #[serde(default)]
    codes_by_email: bool,
}

fn default_smtp_port() -> u16 {
    587
}

fn default_smtp_security() -> String {
    "starttls".to_owned()
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawUsos {
    id: String,
    name: String,
    base_url: String,
    consumer_key: String,
    consumer_secret_file: std::path::PathBuf,
    help_contact: Option<String>,
    terms_url: Option<String>,
    /// At most this many requests to the installation at once.
    #[serde(default = "default_concurrency")]
    concurrency: usize,
    /// The watcher's looks at the installation per minute (the budget the
    /// installation's admins agreed to; students' own requests aside).
    #[serde(default = "default_looks_per_minute")]
    looks_per_minute: u32,
}

fn default_concurrency() -> usize {
    crate::usos::UsosLimits::default().concurrency
}

fn default_looks_per_minute() -> u32 {
    crate::usos::UsosLimits::default().looks_per_minute
}

/// `identity` and the one table it needs (`[ldap]` or `[oidc]`), checked
/// (and its files read) now, not at the first sign-in.
fn identity(
    which: &str,
    ldap: Option<crate::identity::ldap::LdapSettings>,
    oidc: Option<crate::identity::oidc::OidcSettings>,
) -> anyhow::Result<IdentitySettings> {
    use crate::identity::{ldap::Directory, oidc::Provider};
    Ok(match (which, ldap, oidc) {
        ("password", None, None) => IdentitySettings::Password,
        ("ldap", Some(l), None) => {
            Directory::new(l.clone())?;
            IdentitySettings::Ldap(Box::new(l))
        }
        ("oidc", None, Some(o)) => {
            Provider::new(o.clone())?;
            IdentitySettings::Oidc(o)
        }
        ("password" | "ldap" | "oidc", l, o) => anyhow::bail!(
            "identity = {which:?} needs {} (and no other identity table); found{}{}",
            match which {
                "ldap" => "an [ldap] table",
                "oidc" => "an [oidc] table",
                _ => "neither [ldap] nor [oidc]",
            },
            if l.is_some() { " [ldap]" } else { "" },
            if o.is_some() { " [oidc]" } else { "" },
        ),
        (other, ..) => anyhow::bail!("unknown identity {other:?} (password, ldap or oidc)"),
    })
}

impl Settings {
    /// Loads settings. `demo` allows the demo key when none is configured.
    pub fn load(file: Option<&Path>, demo: bool) -> anyhow::Result<Self> {
        let mut b = config::Config::builder()
            .set_default("university_name", "Uniwersytet Demo")?
            .set_default("bind", "127.0.0.1:8080")?
            .set_default("database_url", "sqlite://legitka.db")?
            .set_default("eligibility", "els-required")?
            .set_default("issuer", "bridge")?
            .set_default("identity", "password")?
            .set_default("issuer_workers", 4)?
            .set_default("session_ttl_days", 30)?
            .set_default("access_ttl_minutes", 15)?
            .set_default("card_validity_days", 183)?
            .set_default("sweep_interval_secs", 60)?
            .set_default("rate_sign_in_per_account", 10)?
            .set_default("rate_sign_in_per_address", 30)?
            .set_default("rate_reveal_per_account", 10)?
            .set_default("rate_reveal_per_address", 60)?
            .set_default("read_cache_ttl_ms", 2000)?
            .set_default("max_connections", 10_000)?
            .set_default("password_checks_at_once", 0)?
            .set_default("trusted_proxies", "")?
            .set_default("header_read_timeout_secs", 10)?
            .set_default("body_read_timeout_secs", 30)?
            .set_default("shutdown_drain_secs", 10)?
            .set_default("fcm_endpoint", "https://fcm.googleapis.com")?
            .set_default("fcm_token_uri", "https://oauth2.googleapis.com/token")?
            .set_default("apns_endpoint", "https://api.push.apple.com")?
            .set_default("apns_topic", "pl.legitka.app")?
            .set_default("webpush_allow_http", false)?
            .set_default("push_workers", 4)?
            .set_default("usos_workers", 4)?
            .set_default("usos_look_while_open_secs", 10)?
            .set_default("previous_activation_keys", "")?
            .set_default("log_format", "text")?
            .set_default("metrics_bind", "127.0.0.1:9464")?
            .set_default("request_timeout_secs", 30)?
            .set_default("retention_days", 30)?;
        if let Some(f) = file {
            b = b.add_source(config::File::from(f).required(true));
        }
        let raw: Raw = b
            // Values stay strings until their field asks for a number: a key
            // of digits only must not be read as one (and come back changed).
            .add_source(config::Environment::with_prefix("APP"))
            .build()
            .and_then(config::Config::try_deserialize)
            .context("reading settings")?;
        Self::from_raw(raw, demo)
    }

    fn from_raw(raw: Raw, demo: bool) -> anyhow::Result<Self> {
        let fcm = match (
            raw.fcm_project_id,
            raw.fcm_client_email,
            raw.fcm_private_key_file,
        ) {
            (Some(project_id), Some(client_email), Some(key)) => Some(FcmSettings {
                project_id,
                endpoint: raw.fcm_endpoint.trim_end_matches('/').to_owned(),
                token_uri: raw.fcm_token_uri,
                client_email,
                private_key_pem: Secret::new(
                    std::fs::read_to_string(&key)
                        .with_context(|| format!("reading {}", key.display()))?,
                ),
            }),
            (None, None, None) => None,
            _ => anyhow::bail!(
                "FCM needs fcm_project_id, fcm_client_email and fcm_private_key_file together"
            ),
        };
        let apns = match (raw.apns_team_id, raw.apns_key_id, raw.apns_key_file) {
            (Some(team_id), Some(key_id), Some(key)) => Some(ApnsSettings {
                endpoint: raw.apns_endpoint.trim_end_matches('/').to_owned(),
                team_id,
                key_id,
                private_key_pem: Secret::new(
                    std::fs::read_to_string(&key)
                        .with_context(|| format!("reading {}", key.display()))?,
                ),
                topic: raw.apns_topic,
            }),
            (None, None, None) => None,
            _ => anyhow::bail!("APNs needs apns_team_id, apns_key_id and apns_key_file together"),
        };
        let web_push = match (raw.webpush_vapid_key_file, raw.webpush_contact) {
            (Some(key), Some(contact)) => {
                anyhow::ensure!(
                    contact.starts_with("mailto:") || contact.starts_with("https:"),
                    "webpush_contact must be a mailto: or https: address"
                );
                Some(WebPushSettings {
                    private_key_pem: Secret::new(
                        std::fs::read_to_string(&key)
                            .with_context(|| format!("reading {}", key.display()))?,
                    ),
                    contact,
                    allow_http: raw.webpush_allow_http,
                })
            }
            (None, None) => None,
            _ => {
                anyhow::bail!("Web Push needs webpush_vapid_key_file and webpush_contact together")
            }
        };
        let smtp = raw
            .smtp
            .map(|m| {
                use crate::push::email::{Security, SmtpSettings};
                let security = match m.security.as_str() {
                    "starttls" => Security::StartTls,
                    "tls" => Security::Tls,
                    "none" => Security::None,
                    other => anyhow::bail!("smtp: security {other:?} (starttls, tls or none)"),
                };
                let credentials = match (m.username, m.password_file) {
                    (Some(user), Some(file)) => Some((
                        user,
                        Secret::new(
                            std::fs::read_to_string(&file)
                                .with_context(|| format!("reading {}", file.display()))?
                                .trim()
                                .to_owned(),
                        ),
                    )),
                    (None, None) => None,
                    _ => anyhow::bail!("smtp: username and password_file go together"),
                };
                let mut smtp = SmtpSettings::new(&m.host, m.port, security, credentials, &m.from)?;
                smtp.codes_by_email = m.codes_by_email;
                Ok(smtp)
            })
            .transpose()?;
        anyhow::ensure!(
            raw.issuer == "bridge",
            "unknown issuer adapter {:?} (bridge)",
            raw.issuer
        );
        let issuer = match (raw.issuer_url, raw.issuer_secret_file) {
            (Some(url), Some(file)) => Some(BridgeSettings::new(
                &url,
                std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?,
            )?),
            (None, None) => None,
            _ => {
                anyhow::bail!("the issuer bridge needs issuer_url and issuer_secret_file together")
            }
        };
        let read_secret = |file: &Path| {
            std::fs::read_to_string(file)
                .map(|k| k.trim().to_owned())
                .with_context(|| format!("reading {}", file.display()))
        };
        let activation_key = match (raw.activation_key, raw.activation_key_file, demo) {
            (Some(_), Some(_), _) => {
                anyhow::bail!("set activation_key or activation_key_file, not both")
            }
            (Some(k), None, _) => k,
            (None, Some(file), _) => read_secret(&file)?,
            (None, None, true) => {
                tracing::warn!("no activation key set: using the demo key (demo data only)");
                DEMO_ACTIVATION_KEY.to_owned()
            }
            (None, None, false) => anyhow::bail!(
                "set activation_key_file (APP_ACTIVATION_KEY_FILE) or activation_key: \
                 64 hex digits that encrypt activation data"
            ),
        };
        let mut previous: Vec<String> = raw
            .previous_activation_keys
            .split(',')
            .map(|k| k.trim().to_owned())
            .collect();
        if let Some(file) = &raw.previous_activation_keys_file {
            previous.extend(read_secret(file)?.lines().map(|k| k.trim().to_owned()));
        }
        let previous_activation_keys: Vec<Secret<String>> = previous
            .into_iter()
            .filter(|k| !k.is_empty())
            .map(Secret::new)
            .collect();
        // Checked now, with the key's name, not at the first seal.
        crate::crypto::SecretBox::with_previous(
            &Secret::new(activation_key.clone()),
            &previous_activation_keys,
        )
        .context("activation_key")?;
        let days = |d: u64| Duration::from_secs(d * 24 * 3600);
        Ok(Self {
            previous_activation_keys,
            log_format: LogFormat::parse(&raw.log_format)?,
            metrics_bind: match raw.metrics_bind.trim() {
                "off" | "" => None,
                addr => Some(addr.parse().map_err(|_| {
                    anyhow::anyhow!("metrics_bind: {addr:?} is not an address:port (or off)")
                })?),
            },
            request_timeout: Duration::from_secs(raw.request_timeout_secs.max(1)),
            retention: days(raw.retention_days.max(1)),
            migrate_on_start: false,
            bind: raw.bind,
            database_url: raw.database_url,
            activation_key: Secret::new(activation_key),
            eligibility: Policy::parse(&raw.eligibility).with_context(|| {
                format!(
                    "unknown eligibility policy {:?} (els-required or statutory-2025)",
                    raw.eligibility
                )
            })?,
            issuer,
            public_url: raw.public_url.map(|u| u.trim_end_matches('/').to_owned()),
            issuer_workers: raw.issuer_workers,
            session_ttl: days(raw.session_ttl_days),
            access_ttl: Duration::from_secs(raw.access_ttl_minutes.max(1) * 60),
            default_card_validity: days(raw.card_validity_days),
            sweep_interval: Duration::from_secs(raw.sweep_interval_secs.max(1)),
            rates: RateSettings {
                sign_in_per_account: raw.rate_sign_in_per_account,
                sign_in_per_address: raw.rate_sign_in_per_address,
                reveal_per_account: raw.rate_reveal_per_account,
                reveal_per_address: raw.rate_reveal_per_address,
            },
            read_cache_ttl: Duration::from_millis(raw.read_cache_ttl_ms),
            max_connections: raw.max_connections,
            password_checks_at_once: raw.password_checks_at_once,
            trusted_proxies: raw
                .trusted_proxies
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.parse::<ipnet::IpNet>()
                        .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| {
                            anyhow::anyhow!("trusted_proxies: {p:?} is not an address or network")
                        })
                })
                .collect::<anyhow::Result<_>>()?,
            header_read_timeout: Duration::from_secs(raw.header_read_timeout_secs.max(1)),
            body_read_timeout: Duration::from_secs(raw.body_read_timeout_secs.max(1)),
            shutdown_drain: Duration::from_secs(raw.shutdown_drain_secs),
            fcm,
            apns,
            web_push,
            smtp,
            app_links: raw.app_links.map(|a| a.check()).transpose()?,
            identity: identity(&raw.identity, raw.ldap, raw.oidc)?,
            push_workers: raw.push_workers,
            usos_workers: raw.usos_workers,
            usos_look_while_open: Duration::from_secs(raw.usos_look_while_open_secs.max(1)),
            usos: raw
                .usos
                .iter()
                .map(|u| {
                    let secret = std::fs::read_to_string(&u.consumer_secret_file)
                        .with_context(|| format!("reading {}", u.consumer_secret_file.display()))?;
                    let mut university =
                        UsosUniversity::new(&u.id, &u.name, &u.base_url, &u.consumer_key, &secret)?;
                    university.help_contact = u.help_contact.clone();
                    university.terms_url = u.terms_url.clone();
                    university.limits = crate::usos::UsosLimits {
                        concurrency: u.concurrency,
                        looks_per_minute: u.looks_per_minute,
                    }
                    .checked()
                    .with_context(|| format!("USOS university {}", u.id))?;
                    Ok(university)
                })
                .collect::<anyhow::Result<_>>()?,
            university_name: raw.university_name,
            help_contact: raw.help_contact.filter(|h| !h.trim().is_empty()),
            terms_url: raw.terms_url.filter(|t| !t.trim().is_empty()),
            photos_dir: match raw.photos_dir {
                Some(dir) if !dir.is_dir() => {
                    anyhow::bail!("photos_dir {} is not a folder", dir.display())
                }
                dir => dir,
            },
        })
    }

    /// What seals with `activation_key` and opens with it or a previous key.
    pub fn secrets(&self) -> anyhow::Result<crate::crypto::SecretBox> {
        crate::crypto::SecretBox::with_previous(
            &self.activation_key,
            &self.previous_activation_keys,
        )
    }

    /// The settings as they take effect, for `check-config`: every secret
    /// masked (they are `Secret`s), the database URL's password too.
    pub fn effective(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = crate::db::redact(&self.database_url);
        format!("{shown:#?}")
    }

    /// Settings for tests: loopback, port 0, a given database, no issuer.
    pub fn for_tests(database_url: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            activation_key: Secret::new("42".repeat(32)),
            eligibility: Policy::ElsRequired,
            issuer: None,
            public_url: None,
            issuer_workers: 4,
            // Tests move the clock by months; sessions must outlive that
            // (tests of expiry set these shorter).
            session_ttl: Duration::from_secs(400 * 24 * 3600),
            access_ttl: Duration::from_secs(400 * 24 * 3600),
            default_card_validity: Duration::from_secs(183 * 24 * 3600),
            sweep_interval: Duration::from_secs(60),
            rates: RateSettings::default(),
            read_cache_ttl: Duration::from_secs(2),
            max_connections: 10_000,
            password_checks_at_once: 0,
            trusted_proxies: vec![],
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            shutdown_drain: Duration::from_secs(5),
            fcm: None,
            apns: None,
            web_push: None,
            smtp: None,
            app_links: None,
            identity: Default::default(),
            push_workers: 4,
            usos_workers: 4,
            usos_look_while_open: Duration::from_secs(10),
            usos: vec![],
            university_name: "Uniwersytet Testowy".to_owned(),
            help_contact: None,
            terms_url: None,
            photos_dir: None,
            previous_activation_keys: vec![],
            log_format: LogFormat::Text,
            metrics_bind: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            request_timeout: Duration::from_secs(30),
            retention: Duration::from_secs(30 * 24 * 3600),
            migrate_on_start: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn toml(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    // The environment layer is tested through the binary (tests/cli.rs):
    // setting variables in-process would need `unsafe`.
    #[test]
    fn file_over_defaults_and_the_key_rule() {
        let f = toml(
            "bind = \"127.0.0.1:9000\"\neligibility = \"statutory-2025\"\nissuer_workers = 7\n",
        );
        let s = Settings::load(Some(f.path()), true).unwrap();
        assert_eq!(s.bind, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(s.eligibility, Policy::Statutory2025);
        assert_eq!(s.issuer_workers, 7);
        assert!(s.issuer.is_none(), "no issuer unless configured");
        assert_eq!(s.activation_key.expose(), DEMO_ACTIVATION_KEY);
        assert!(
            Settings::load(Some(f.path()), false).is_err(),
            "no key outside the demo"
        );

        let usos = toml("issuer = \"smoke-signals\"\n");
        let err = Settings::load(Some(usos.path()), true).unwrap_err();
        assert!(format!("{err:#}").contains("smoke-signals"), "{err:#}");
        let half = toml("issuer_url = \"http://127.0.0.1:1\"\n");
        assert!(
            Settings::load(Some(half.path()), true).is_err(),
            "a URL without a secret"
        );

        let bad = toml("eligibility = \"sometimes\"\n");
        let err = Settings::load(Some(bad.path()), true).unwrap_err();
        assert!(format!("{err:#}").contains("sometimes"), "{err:#}");

        // A typo is refused by its name, at the top and in a table.
        for (text, key) in [
            ("databse_url = \"sqlite://x.db\"\n", "databse_url"),
            (
                "[smtp]\nhost = \"127.0.0.1\"\nfrom = \"a@b.example\"\nsecurty = \"none\"\n",
                "securty",
            ),
        ] {
            let err = Settings::load(Some(toml(text).path()), true).unwrap_err();
            assert!(format!("{err:#}").contains(key), "{text}: {err:#}");
        }
    }

    #[test]
    fn the_identity_tables_as_the_operations_guide_writes_them() {
        // As `main` does first: the HTTP client needs a TLS provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "s3cret\n").unwrap();
        let secret = secret.display();
        let ldap = toml(&format!(
            "identity = \"ldap\"\n[ldap]\nurl = \"ldap://ldap.uczelnia.example\"\nstarttls = true\n\
             base_dn = \"ou=students,dc=uczelnia,dc=example\"\n\
             bind_dn = \"cn=legitka,ou=services,dc=uczelnia,dc=example\"\nbind_password_file = \"{secret}\"\n\
             [ldap.sync]\npesel = \"schacPersonalUniqueID\"\ndefault_study_level = \"first_cycle\"\n"
        ));
        let s = Settings::load(Some(ldap.path()), true).unwrap();
        assert!(matches!(&s.identity, IdentitySettings::Ldap(l) if l.sync.is_some()));
        let oidc = toml(&format!(
            "identity = \"oidc\"\n[oidc]\nissuer = \"https://login.uczelnia.example/realms/students\"\n\
             client_id = \"legitka\"\nclient_secret_file = \"{secret}\"\n"
        ));
        let s = Settings::load(Some(oidc.path()), true).unwrap();
        assert!(matches!(s.identity, IdentitySettings::Oidc(_)));
        for (text, says) in [
            ("identity = \"ldap\"\n", "[ldap]"),
            ("identity = \"kerberos\"\n", "kerberos"),
            (
                "[oidc]\nissuer = \"https://x\"\nclient_id = \"a\"\nclient_secret_file = \"/x\"\n",
                "[oidc]",
            ),
            (
                "identity = \"oidc\"\n[oidc]\nissuer = \"http://login.uczelnia.example\"\nclient_id = \"a\"\nclient_secret_file = \"/x\"\n",
                "https",
            ),
            (
                "identity = \"ldap\"\n[ldap]\nurl = \"ldap://ldap.uczelnia.example\"\nbase_dn = \"dc=x\"\n",
                "starttls",
            ),
            (
                "identity = \"ldap\"\n[ldap]\nurl = \"ldaps://x\"\nbase_dn = \"dc=x\"\nfiltr = \"(uid={username})\"\n",
                "filtr",
            ),
        ] {
            let err = Settings::load(Some(toml(text).path()), true).unwrap_err();
            assert!(format!("{err:#}").contains(says), "{text}: {err:#}");
        }
    }

    #[test]
    fn a_missing_file_is_an_error() {
        assert!(Settings::load(Some(Path::new("/nonexistent/legitka.toml")), true).is_err());
    }
}
