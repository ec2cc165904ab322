//! Typed settings. Secrets are wrapped so they cannot be printed by accident.

use crate::crypto::Secret;
use crate::domain::eligibility::Policy;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: String,
    /// 64 hex digits: the key that encrypts activation data at rest.
    pub activation_key: Secret<String>,
    pub eligibility: Policy,
    pub issuer: IssuerSettings,
    /// How long a session token stays valid.
    pub session_ttl: Duration,
}

#[derive(Clone, Debug)]
pub struct IssuerSettings {
    /// pending → in progress
    pub accept_delay: Duration,
    /// in progress → ready
    pub ready_delay: Duration,
}

impl Settings {
    /// Settings for tests and local runs: loopback, port 0, a given database.
    pub fn for_tests(database_url: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            activation_key: Secret::new("42".repeat(32)),
            eligibility: Policy::Seeds,
            issuer: IssuerSettings {
                accept_delay: Duration::from_millis(50),
                ready_delay: Duration::from_millis(50),
            },
            session_ttl: Duration::from_secs(30 * 24 * 3600),
        }
    }
}
