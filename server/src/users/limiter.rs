//! Login attempt limits, per account and per client IP (an IPv6 client per /64).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::http::client_ip::limit_key;

/// Two keyed token buckets; an attempt must pass both.
pub struct LoginLimiter {
    per_account: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    checks: std::sync::atomic::AtomicU64,
}

/// Attempts allowed in a burst for one e-mail, then one more per minute.
pub const ACCOUNT_BURST: u32 = 5;
/// Attempts allowed in a burst from one IP, then one more every 3 seconds.
pub const IP_BURST: u32 = 30;

/// Whole seconds (at least 1) until a refused attempt would pass.
fn wait(e: governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    e.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default())).as_secs().max(1)
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(ACCOUNT_BURST, IP_BURST)
    }
}

impl LoginLimiter {
    /// Limits with the given bursts (tests use small ones).
    pub fn new(account_burst: u32, ip_burst: u32) -> Self {
        let nz = |n: u32| NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        let account = Quota::with_period(Duration::from_secs(60)).map(|q| q.allow_burst(nz(account_burst)));
        let ip = Quota::with_period(Duration::from_secs(3)).map(|q| q.allow_burst(nz(ip_burst)));
        Self {
            per_account: RateLimiter::keyed(account.unwrap_or_else(|| Quota::per_minute(nz(account_burst)))),
            per_ip: RateLimiter::keyed(ip.unwrap_or_else(|| Quota::per_minute(nz(ip_burst)))),
            checks: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Takes one attempt from this IP only (sign-up, where there is no account yet).
    pub fn check_ip(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        match ip {
            Some(ip) => self.per_ip.check_key(&limit_key(ip)).map_err(wait),
            None => Ok(()),
        }
    }

    /// Takes one attempt for this e-mail and IP; `Err(seconds)` says how long to wait.
    pub fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<(), u64> {
        // Forget full buckets now and then, so keys do not pile up forever.
        if self.checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1024 == 1023 {
            self.per_account.retain_recent();
            self.per_ip.retain_recent();
        }
        if let Some(ip) = ip {
            self.per_ip.check_key(&limit_key(ip)).map_err(wait)?;
        }
        self.per_account.check_key(&email.to_string()).map_err(wait)
    }
}
