//! The university's directory (OpenLDAP, Active Directory): the student
//! binds with their own password. Found first by a search (as a service
//! account, or anonymously), so the username is only ever a value in an
//! escaped filter, never part of a DN.

use super::Verdict;
use crate::error::{AppError, AppResult};
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry, ldap_escape};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// `[ldap]` in the settings file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapSettings {
    /// `ldaps://host[:636]`, or `ldap://host[:389]` with `starttls = true`.
    pub url: String,
    #[serde(default)]
    pub starttls: bool,
    /// PEM file of the CA that signed the directory's certificate (default:
    /// the system's roots).
    pub ca_file: Option<std::path::PathBuf>,
    /// Where students are, e.g. `ou=students,dc=uczelnia,dc=example`.
    pub base_dn: String,
    /// The search for one student; `{username}` is replaced by the typed
    /// username, escaped (RFC 4515).
    #[serde(default = "default_filter")]
    pub user_filter: String,
    /// The attribute whose value is the student's username in the registry.
    #[serde(default = "default_username_attribute")]
    pub username_attribute: String,
    /// A service account for the search; without it the search is anonymous.
    pub bind_dn: Option<String>,
    pub bind_password_file: Option<std::path::PathBuf>,
    /// Connecting, and each operation, give up after this long.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// `[ldap.sync]`: which attributes fill the registry (`ldap-sync`).
    #[serde(default)]
    pub sync: Option<SyncMapping>,
}

/// Which directory attribute fills which registry column (`ldap-sync`).
/// Each names an attribute; unset optional ones leave the column empty.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncMapping {
    /// Which entries are students (default: everyone `user_filter` finds).
    pub filter: Option<String>,
    #[serde(default = "given_name")]
    pub first_name: String,
    #[serde(default = "surname")]
    pub last_name: String,
    pub pesel: Option<String>,
    pub album_number: Option<String>,
    pub email: Option<String>,
    pub birth_date: Option<String>,
    /// A flag attribute (TRUE/true/1/yes) that says the student is active;
    /// unset: everyone found is.
    pub active: Option<String>,
    /// An attribute whose presence means the registry has a photo (e.g. `jpegPhoto`).
    pub has_photo: Option<String>,
    pub els_number: Option<String>,
    /// Dates as `YYYY-MM-DD` or LDAP generalized time (`20270331000000Z`).
    pub els_valid_until: Option<String>,
    pub els_issued_at: Option<String>,
    pub data_changed_at: Option<String>,
    /// first_cycle, second_cycle, long_cycle, doctoral or postgraduate.
    pub study_level: Option<String>,
    /// The level for entries without one.
    pub default_study_level: Option<String>,
}

fn given_name() -> String {
    "givenName".to_owned()
}

fn surname() -> String {
    "sn".to_owned()
}

/// One student as the directory describes them: where, and the registry's
/// columns (CSV header names) with their values.
#[derive(Debug)]
pub struct DirectoryStudent {
    pub dn: String,
    pub columns: Vec<(&'static str, String)>,
}

fn default_filter() -> String {
    "(&(objectClass=inetOrgPerson)(uid={username}))".to_owned()
}

fn default_username_attribute() -> String {
    "uid".to_owned()
}

fn default_timeout() -> u64 {
    5
}

/// The directory, ready to ask.
pub struct Directory {
    settings: LdapSettings,
    /// The service account's password, read once at start.
    service_password: Option<crate::crypto::Secret<String>>,
    /// Trusting `ca_file` only; `None`: the system's roots (ldap3's default).
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("url", &self.settings.url)
            .finish_non_exhaustive()
    }
}

/// `pwdPolicyResponse` (draft-behera-ldap-password-policy): the directory
/// says why a bind failed when asked with this control.
const PASSWORD_POLICY: &str = "1.3.6.1.4.1.42.2.27.8.5.1";
/// LDAP result codes (RFC 4511).
const INVALID_CREDENTIALS: u32 = 49;

impl Directory {
    /// Checks the settings and reads the files they name; refuses a
    /// directory reached in the clear except on this machine.
    pub fn new(settings: LdapSettings) -> anyhow::Result<Self> {
        use anyhow::Context;
        let url = url::Url::parse(&settings.url).context("ldap: url")?;
        let host = url.host_str().unwrap_or_default();
        match url.scheme() {
            "ldaps" => anyhow::ensure!(!settings.starttls, "ldap: ldaps:// already is TLS"),
            "ldap" => anyhow::ensure!(
                settings.starttls || crate::net::is_loopback_host(host),
                "ldap: ldap:// needs starttls = true (passwords never cross the network in the clear)"
            ),
            other => anyhow::bail!("ldap: url scheme {other:?} (ldaps or ldap)"),
        }
        anyhow::ensure!(!settings.base_dn.trim().is_empty(), "ldap: base_dn");
        anyhow::ensure!(
            settings.user_filter.contains("{username}"),
            "ldap: user_filter must contain {{username}}"
        );
        let service_password = match (&settings.bind_dn, &settings.bind_password_file) {
            (Some(_), Some(file)) => Some(crate::crypto::Secret::new(
                std::fs::read_to_string(file)
                    .with_context(|| format!("reading {}", file.display()))?
                    .trim()
                    .to_owned(),
            )),
            (None, None) => None,
            _ => anyhow::bail!("ldap: bind_dn and bind_password_file go together"),
        };
        let tls = match &settings.ca_file {
            Some(file) => {
                use rustls::pki_types::CertificateDer;
                use rustls::pki_types::pem::PemObject;
                let pem =
                    std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    roots.add(cert.context("ldap: ca_file")?)?;
                }
                anyhow::ensure!(!roots.is_empty(), "ldap: no certificate in ca_file");
                Some(Arc::new(
                    rustls::ClientConfig::builder()
                        .with_root_certificates(roots)
                        .with_no_client_auth(),
                ))
            }
            None => None,
        };
        Ok(Self {
            settings,
            service_password,
            tls,
        })
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.settings.timeout_secs.max(1))
    }

    /// Whether `password` is `username`'s in the directory, and if so the
    /// registry username the directory gives them.
    pub async fn verify(&self, username: &str, password: &str) -> AppResult<Verdict> {
        match tokio::time::timeout(self.timeout() * 3, self.ask(username, password)).await {
            Ok(answer) => answer,
            Err(_) => Err(unavailable("the directory did not answer in time")),
        }
    }

    async fn ask(&self, username: &str, password: &str) -> AppResult<Verdict> {
        // A bind with an empty password is an unauthenticated bind, which
        // directories answer with success.
        if password.is_empty() || username.is_empty() {
            return Ok(Verdict::Wrong);
        }
        let mut conn = LdapConnSettings::new()
            .set_conn_timeout(self.timeout())
            .set_starttls(self.settings.starttls);
        if let Some(tls) = &self.tls {
            conn = conn.set_config(tls.clone());
        }
        let (driver, mut ldap) = LdapConnAsync::with_settings(conn, &self.settings.url)
            .await
            .map_err(|e| unavailable(&e.to_string()))?;
        ldap3::drive!(driver);
        ldap.with_timeout(self.timeout());
        if let (Some(dn), Some(pw)) = (&self.settings.bind_dn, &self.service_password) {
            ldap.simple_bind(dn, pw.expose())
                .await
                .and_then(ldap3::LdapResult::success)
                .map_err(|e| unavailable(&format!("the service account's bind: {e}")))?;
        }
        let filter = self
            .settings
            .user_filter
            .replace("{username}", &ldap_escape(username));
        let attribute = self.settings.username_attribute.as_str();
        let (entries, _) = ldap
            .with_timeout(self.timeout())
            .search(
                &self.settings.base_dn,
                Scope::Subtree,
                &filter,
                vec![attribute],
            )
            .await
            .and_then(ldap3::SearchResult::success)
            .map_err(|e| unavailable(&format!("search: {e}")))?;
        // Nobody, or a filter that is not specific enough: no sign-in.
        let [entry] = entries.as_slice() else {
            let _ = ldap.unbind().await;
            return Ok(Verdict::Wrong);
        };
        let entry = SearchEntry::construct(entry.clone());
        let registry_name = entry.attrs.get(attribute).and_then(|v| v.first()).cloned();
        // The student's own bind, asking why if it fails.
        let policy = ldap3::controls::RawControl {
            ctype: PASSWORD_POLICY.to_owned(),
            crit: false,
            val: None,
        };
        let bound = ldap
            .with_timeout(self.timeout())
            .with_controls(policy)
            .simple_bind(&entry.dn, password)
            .await
            .map_err(|e| unavailable(&format!("bind: {e}")))?;
        let _ = ldap.unbind().await;
        if bound.rc == 0 {
            return Ok(match registry_name {
                Some(name) => Verdict::Known(name),
                None => {
                    tracing::warn!(
                        attribute,
                        "the directory entry lacks the username attribute"
                    );
                    Verdict::Wrong
                }
            });
        }
        if bound.rc == INVALID_CREDENTIALS {
            let locked = bound.ctrls.iter().any(|c| {
                c.1.ctype == PASSWORD_POLICY && c.1.val.as_deref().is_some_and(says_locked)
            });
            return Ok(if locked {
                Verdict::Locked
            } else {
                Verdict::Wrong
            });
        }
        Err(unavailable(&format!("bind answered {}", bound.rc)))
    }
}

impl Directory {
    /// Every student the sync mapping's filter finds, as registry columns
    /// (read as the service account).
    pub async fn students(&self) -> AppResult<Vec<DirectoryStudent>> {
        let mapping = self.settings.sync.clone().ok_or_else(|| {
            AppError::client(
                legitka_wire::ErrorCode::BadRequest,
                "no [ldap.sync] table in the settings: which attributes fill the registry?",
            )
        })?;
        let filter = mapping
            .filter
            .clone()
            .unwrap_or_else(|| self.settings.user_filter.replace("{username}", "*"));
        let m = &mapping;
        let wanted: Vec<(&'static str, Option<&String>)> = vec![
            ("username", Some(&self.settings.username_attribute)),
            ("first_name", Some(&m.first_name)),
            ("last_name", Some(&m.last_name)),
            ("pesel", m.pesel.as_ref()),
            ("album_number", m.album_number.as_ref()),
            ("email", m.email.as_ref()),
            ("birth_date", m.birth_date.as_ref()),
            ("active", m.active.as_ref()),
            ("has_photo", m.has_photo.as_ref()),
            ("els_number", m.els_number.as_ref()),
            ("els_valid_until", m.els_valid_until.as_ref()),
            ("els_issued_at", m.els_issued_at.as_ref()),
            ("data_changed_at", m.data_changed_at.as_ref()),
            ("study_level", m.study_level.as_ref()),
        ];
        let attributes: Vec<&str> = wanted
            .iter()
            .filter_map(|(_, a)| a.map(String::as_str))
            .collect();
        let work = async {
            let mut conn = LdapConnSettings::new()
                .set_conn_timeout(self.timeout())
                .set_starttls(self.settings.starttls);
            if let Some(tls) = &self.tls {
                conn = conn.set_config(tls.clone());
            }
            let (driver, mut ldap) = LdapConnAsync::with_settings(conn, &self.settings.url)
                .await
                .map_err(|e| unavailable(&e.to_string()))?;
            ldap3::drive!(driver);
            if let (Some(dn), Some(pw)) = (&self.settings.bind_dn, &self.service_password) {
                ldap.simple_bind(dn, pw.expose())
                    .await
                    .and_then(ldap3::LdapResult::success)
                    .map_err(|e| unavailable(&format!("the service account's bind: {e}")))?;
            }
            let (entries, _) = ldap
                .search(&self.settings.base_dn, Scope::Subtree, &filter, attributes)
                .await
                .and_then(ldap3::SearchResult::success)
                .map_err(|e| unavailable(&format!("search: {e}")))?;
            let _ = ldap.unbind().await;
            Ok::<_, AppError>(entries)
        };
        let entries = tokio::time::timeout(self.timeout() * 12, work)
            .await
            .map_err(|_| unavailable("the directory did not answer in time"))??;
        Ok(entries
            .into_iter()
            .map(|e| {
                let entry = SearchEntry::construct(e);
                let first = |attribute: Option<&String>| {
                    attribute
                        .and_then(|a| entry.attrs.get(a))
                        .and_then(|v| v.first())
                        .cloned()
                };
                let columns = wanted
                    .iter()
                    .map(|(column, attribute)| {
                        let value = match *column {
                            "active" => match attribute {
                                None => "true".to_owned(),
                                Some(_) => flag(first(*attribute).as_deref()).to_owned(),
                            },
                            "has_photo" => {
                                let present = attribute.is_some_and(|a| {
                                    entry.attrs.contains_key(a.as_str())
                                        || entry.bin_attrs.contains_key(a.as_str())
                                });
                                if present { "true" } else { "false" }.to_owned()
                            }
                            "els_valid_until" | "els_issued_at" | "data_changed_at"
                            | "birth_date" => first(*attribute).map(day).unwrap_or_default(),
                            "study_level" => first(*attribute)
                                .or_else(|| mapping.default_study_level.clone())
                                .unwrap_or_default(),
                            _ => first(*attribute).unwrap_or_default(),
                        };
                        (*column, value)
                    })
                    .collect();
                DirectoryStudent {
                    dn: entry.dn,
                    columns,
                }
            })
            .collect())
    }
}

/// A directory flag as the registry's `true`/`false`.
fn flag(value: Option<&str>) -> &'static str {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "tak") => "true",
        _ => "false",
    }
}

/// A date as `YYYY-MM-DD`: from LDAP generalized time (`20270331000000Z`)
/// or as it is.
fn day(value: String) -> String {
    let v = value.trim();
    if v.len() >= 8 && v.as_bytes()[..8].iter().all(u8::is_ascii_digit) {
        format!("{}-{}-{}", &v[..4], &v[4..6], &v[6..8])
    } else {
        v.to_owned()
    }
}

/// In a `PasswordPolicyResponseValue`, `error [1] accountLocked (1)`:
/// context tag 1 (0x81), length 1, value 1.
fn says_locked(value: &[u8]) -> bool {
    value.windows(3).any(|w| w == [0x81, 0x01, 0x01])
}

fn unavailable(why: &str) -> AppError {
    tracing::warn!(why, "the university's directory is not answering");
    AppError::client(
        legitka_wire::ErrorCode::SignInUnavailable,
        "the university's sign-in service is not answering; try again in a few minutes",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_values_become_registry_values() {
        assert_eq!(day("20270331000000Z".into()), "2027-03-31");
        assert_eq!(day("2027-03-31".into()), "2027-03-31");
        assert_eq!(flag(Some("TRUE")), "true");
        assert_eq!(flag(Some("0")), "false");
        assert_eq!(flag(None), "false");
    }

    #[test]
    fn the_policy_response_says_locked() {
        // SEQUENCE { error [1] accountLocked }
        assert!(says_locked(&[0x30, 0x03, 0x81, 0x01, 0x01]));
        // SEQUENCE { error [1] passwordExpired }
        assert!(!says_locked(&[0x30, 0x03, 0x81, 0x01, 0x00]));
    }

    #[test]
    fn settings_that_would_leak_passwords_are_refused() {
        let base = LdapSettings {
            url: "ldap://ldap.uczelnia.example".into(),
            starttls: false,
            ca_file: None,
            base_dn: "ou=students,dc=uczelnia,dc=example".into(),
            user_filter: default_filter(),
            username_attribute: default_username_attribute(),
            bind_dn: None,
            bind_password_file: None,
            timeout_secs: 5,
            sync: None,
        };
        assert!(
            Directory::new(base.clone()).is_err(),
            "clear text to another host"
        );
        assert!(
            Directory::new(LdapSettings {
                starttls: true,
                ..base.clone()
            })
            .is_ok()
        );
        assert!(
            Directory::new(LdapSettings {
                url: "ldaps://ldap.uczelnia.example".into(),
                ..base.clone()
            })
            .is_ok()
        );
        assert!(
            Directory::new(LdapSettings {
                url: "ldap://127.0.0.1:3890".into(),
                ..base.clone()
            })
            .is_ok()
        );
        assert!(
            Directory::new(LdapSettings {
                user_filter: "(uid=anna)".into(),
                starttls: true,
                ..base.clone()
            })
            .is_err()
        );
        assert!(
            Directory::new(LdapSettings {
                bind_dn: Some("cn=legitka".into()),
                starttls: true,
                ..base
            })
            .is_err()
        );
    }
}
