//! Rate limits on sign-in and reveals, per account and per client address
//! (GCRA, in memory, per instance: N instances allow N times as much).
//! The client address is the peer's, or — from a trusted proxy — the one
//! the proxy forwards (`routes::client::ClientIp`). Sign-in is limited per
//! account *and* address, with a ten times softer cap per account from
//! anywhere: a stranger guessing at a student's password from one place
//! cannot lock the student out.

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
}

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

    /// A sign-in attempt for `account` from `address`: the address's
    /// limit, the account's from this address, and the account's softer
    /// cap from anywhere.
    pub fn check_sign_in(&self, account: &str, address: std::net::IpAddr) -> AppResult<()> {
        let account = account.trim().to_lowercase();
        self.check(Bucket::SignInAddress, &address.to_string())?;
        self.check(Bucket::SignInAccount, &format!("{account}|{address}"))?;
        self.check(Bucket::SignInAccountAnywhere, &account)
    }

    /// Forgets keys whose limits have fully recovered (bounded memory).
    pub fn prune(&self) {
        for b in &self.buckets {
            b.retain_recent();
        }
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
