//! Rate limits on sign-in and reveals, per account and per client address
//! (GCRA, in memory, per instance: N instances allow N times as much).
//! The client address is the peer's, or — from a trusted proxy — the one
//! the proxy forwards (`routes::client::ClientIp`). Sign-in is limited per
//! account *and* address, with a ten times softer cap per account from
//! anywhere: a stranger guessing at a student's password from one place
//! cannot lock the student out. A sign-in counts once the university's
//! system has answered it: one its directory could not answer (down, too
//! slow) costs the student nothing.

use crate::error::{AppError, AppResult};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;

/// Requests allowed per minute (with the same burst).
#[derive(Clone, Copy, Debug)]
pub struct RateSettings {
    pub sign_in_per_account: u32,
    pub sign_in_per_address: u32,
    pub reveal_per_account: u32,
    pub reveal_per_address: u32,
}

impl Default for RateSettings {
    fn default() -> Self {
        Self {
            sign_in_per_account: 10,
            sign_in_per_address: 30,
            reveal_per_account: 10,
            reveal_per_address: 60,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Bucket {
    /// One account from one address.
    SignInAccount,
    SignInAddress,
    RevealAccount,
    RevealAddress,
    /// One account from anywhere: ten times `sign_in_per_account`.
    SignInAccountAnywhere,
}

pub struct Limits {
    buckets: [DefaultKeyedRateLimiter<String>; 5],
    /// Sign-in keys that ran out, until when: refused before any password
    /// is checked (sign-ins are counted only after their answer).
    blocked: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

const SIGN_IN: [Bucket; 3] = [
    Bucket::SignInAddress,
    Bucket::SignInAccount,
    Bucket::SignInAccountAnywhere,
];

impl Limits {
    pub fn new(s: RateSettings) -> Self {
        let limiter = |n: u32| {
            DefaultKeyedRateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(n.max(1)).expect("at least one"),
            ))
        };
        Self {
            buckets: [
                limiter(s.sign_in_per_account),
                limiter(s.sign_in_per_address),
                limiter(s.reveal_per_account),
                limiter(s.reveal_per_address),
                limiter(s.sign_in_per_account.saturating_mul(10)),
            ],
            blocked: Default::default(),
        }
    }

    /// Spends one request from `bucket` for `key`, or says when to retry
    /// (in whole seconds, rounded up: a client that waits exactly that long
    /// is let in).
    pub fn check(&self, bucket: Bucket, key: &str) -> AppResult<()> {
        let limiter = &self.buckets[bucket as usize];
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::RateLimited {
                retry_after_secs: whole_seconds_up(wait),
            }
        })
    }

    /// The keys a sign-in for `account` from `address` counts against:
    /// the address's limit, the account's from this address, and the
    /// account's softer cap from anywhere.
    fn sign_in_keys(account: &str, address: std::net::IpAddr) -> [(Bucket, String); 3] {
        let account = account.trim().to_lowercase();
        let [a, b, c] = SIGN_IN;
        [
            (a, address.to_string()),
            (b, format!("{account}|{address}")),
            (c, account),
        ]
    }

    /// Before a sign-in is tried: refused while one of its keys has run out.
    pub fn sign_in_open(&self, account: &str, address: std::net::IpAddr) -> AppResult<()> {
        let now = std::time::Instant::now();
        let blocked = self.blocked.lock().expect("sign-in blocks");
        for (bucket, key) in Self::sign_in_keys(account, address) {
            if let Some(until) = blocked.get(&format!("{}|{key}", bucket as usize))
                && *until > now
            {
                return Err(AppError::RateLimited {
                    retry_after_secs: whole_seconds_up(*until - now),
                });
            }
        }
        Ok(())
    }

    /// A sign-in the university's system answered (rightly or wrongly):
    /// counted; past a limit it is refused however it went, and its keys
    /// stay closed until the limit recovers.
    pub fn count_sign_in(&self, account: &str, address: std::net::IpAddr) -> AppResult<()> {
        for (bucket, key) in Self::sign_in_keys(account, address) {
            if let Err(e) = self.check(bucket, &key) {
                if let AppError::RateLimited { retry_after_secs } = &e {
                    let until = std::time::Instant::now()
                        + std::time::Duration::from_secs(*retry_after_secs);
                    self.blocked
                        .lock()
                        .expect("sign-in blocks")
                        .insert(format!("{}|{key}", bucket as usize), until);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Forgets keys whose limits have fully recovered (bounded memory).
    pub fn prune(&self) {
        for b in &self.buckets {
            b.retain_recent();
        }
        let now = std::time::Instant::now();
        self.blocked
            .lock()
            .expect("sign-in blocks")
            .retain(|_, until| *until > now);
    }
}

/// A wait in whole seconds, rounded up, at least one.
pub fn whole_seconds_up(wait: std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_runs_out_and_other_keys_do_not() {
        let limits = Limits::new(RateSettings {
            sign_in_per_account: 2,
            ..RateSettings::default()
        });
        assert!(limits.check(Bucket::SignInAccount, "anna").is_ok());
        assert!(limits.check(Bucket::SignInAccount, "anna").is_ok());
        match limits.check(Bucket::SignInAccount, "anna") {
            Err(AppError::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("{other:?}"),
        }
        assert!(limits.check(Bucket::SignInAccount, "bartek").is_ok());
        assert!(limits.check(Bucket::RevealAccount, "anna").is_ok());
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        use std::time::Duration;
        assert_eq!(whole_seconds_up(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds_up(Duration::from_millis(1_000)), 1);
        assert_eq!(whole_seconds_up(Duration::from_millis(1_001)), 2);
        assert_eq!(whole_seconds_up(Duration::from_millis(59_400)), 60);
        assert_eq!(whole_seconds_up(Duration::ZERO), 1);
    }
}
