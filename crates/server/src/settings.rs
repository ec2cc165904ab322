//! Typed settings. Secrets are wrapped so they cannot be printed by accident.

use crate::crypto::Secret;
use crate::domain::eligibility::Policy;
use crate::issuer::Outcome;
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
    /// Card validity when the registry has no ELS date (the 2025/26 policy).
    pub default_card_validity: Duration,
    /// How often expired activation data and cards are swept.
    pub sweep_interval: Duration,
}

#[derive(Clone, Debug)]
pub struct IssuerSettings {
    /// pending → in progress
    pub accept_delay: Duration,
    /// in progress → ready
    pub ready_delay: Duration,
    /// Failure injection: the answers to the next orders, in turn; then ready.
    pub outcomes: Vec<Outcome>,
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
                outcomes: vec![],
            },
            // Tests move the clock by months; sessions must outlive that.
            session_ttl: Duration::from_secs(400 * 24 * 3600),
            default_card_validity: Duration::from_secs(183 * 24 * 3600),
            sweep_interval: Duration::from_secs(60),
        }
    }
}
