//! Rate limits on sign-in and reveals, per account and per client address
//! (GCRA, in memory, per instance). Behind a reverse proxy the client
//! address is the proxy's: put the per-address limit there instead.

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
    SignInAccount,
    SignInAddress,
    RevealAccount,
    RevealAddress,
}

pub struct Limits {
    buckets: [DefaultKeyedRateLimiter<String>; 4],
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
