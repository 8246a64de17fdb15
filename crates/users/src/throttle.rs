//! Login throttling, per account and per client address, with increasing delays.
//!
//! Each key (a normalised email, or an IP address) counts failed sign-ins. The first
//! `free` failures cost nothing; every failure after that locks the key for
//! `base · 2^(n − free − 1)` (1 s, 2 s, 4 s … up to `max_delay`). While a key is locked every
//! attempt is answered 429 with `Retry-After`, without looking at the password, so guessing
//! gets exponentially slower. A success clears the account's count (not the address's: one
//! address may be guessing many accounts). Counts are forgotten after `forget_after` without
//! failures.
//!
//! The email key is what the client sent, whether or not an account has it, so throttling
//! reveals nothing about which emails are registered. State is per process (moka caches with
//! an idle expiry and a size bound); a multi-process deployment throttles per instance.

use moka::sync::Cache;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Failures allowed before the first delay.
    pub free: u32,
    pub base: Duration,
    pub max_delay: Duration,
    pub forget_after: Duration,
}

impl Policy {
    /// Per account: 5 free failures, then 1 s doubling to 15 min.
    pub const ACCOUNT: Policy = Policy {
        free: 5,
        base: Duration::from_secs(1),
        max_delay: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };
    /// Per address: 20 free failures (shared offices, NAT), then the same curve.
    pub const ADDRESS: Policy = Policy {
        free: 20,
        ..Policy::ACCOUNT
    };

    fn delay_after(&self, failures: u32) -> Duration {
        if failures <= self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free - 1).min(20);
        self.base.saturating_mul(1 << doublings).min(self.max_delay)
    }
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    locked_until: Instant,
}

struct Counter {
    policy: Policy,
    cache: Cache<String, Failures>,
}

impl Counter {
    fn new(policy: Policy) -> Counter {
        Counter {
            policy,
            cache: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_idle(policy.forget_after)
                .build(),
        }
    }

    fn wait(&self, key: &str, now: Instant) -> Option<Duration> {
        let f = self.cache.get(key)?;
        (f.locked_until > now).then(|| f.locked_until - now)
    }

    fn fail(&self, key: &str, now: Instant) {
        let policy = self.policy;
        self.cache.entry(key.to_string()).and_upsert_with(|old| {
            let count = old.map_or(0, |e| e.value().count).saturating_add(1);
            Failures {
                count,
                locked_until: now + policy.delay_after(count),
            }
        });
    }
}

pub struct LoginThrottle {
    accounts: Counter,
    addresses: Counter,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(Policy::ACCOUNT, Policy::ADDRESS)
    }
}

impl LoginThrottle {
    pub fn new(account: Policy, address: Policy) -> LoginThrottle {
        LoginThrottle {
            accounts: Counter::new(account),
            addresses: Counter::new(address),
        }
    }

    /// How long the caller must wait before trying again, if at all.
    pub fn wait(&self, account: &str, address: &str, now: Instant) -> Option<Duration> {
        let a = self.accounts.wait(account, now);
        let b = (!address.is_empty())
            .then(|| self.addresses.wait(address, now))
            .flatten();
        a.max(b)
    }

    pub fn failed(&self, account: &str, address: &str, now: Instant) {
        self.accounts.fail(account, now);
        if !address.is_empty() {
            self.addresses.fail(address, now);
        }
    }

    pub fn succeeded(&self, account: &str) {
        self.accounts.cache.invalidate(account);
    }
}

/// At most `per_window` mails of one kind to one account per window (an hour), so the
/// "forgot password" and "resend verification" forms cannot be used to flood a mailbox.
pub struct MailQuota {
    per_window: usize,
    window: Duration,
    sent: Cache<String, Vec<Instant>>,
}

impl Default for MailQuota {
    fn default() -> Self {
        MailQuota::new(3, Duration::from_secs(60 * 60))
    }
}

impl MailQuota {
    pub fn new(per_window: usize, window: Duration) -> MailQuota {
        MailQuota {
            per_window,
            window,
            sent: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_idle(window)
                .build(),
        }
    }

    /// Count one mail for `key`, or say how long until the next one is allowed.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let (window, limit) = (self.window, self.per_window);
        let mut verdict = Ok(());
        self.sent.entry(key.to_string()).and_upsert_with(|old| {
            let mut times: Vec<Instant> = old
                .map(|e| e.into_value())
                .unwrap_or_default()
                .into_iter()
                .filter(|t| now.saturating_duration_since(*t) < window)
                .collect();
            if times.len() >= limit {
                verdict = Err((times[0] + window).saturating_duration_since(now));
            } else {
                times.push(now);
            }
            times
        });
        verdict
    }
}

/// Whole seconds to put in `Retry-After` (rounded up, at least 1).
pub fn retry_after_secs(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_free_failures_and_double() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..5 {
            assert_eq!(t.wait("ada@example.com", "10.0.0.1", now), None);
            t.failed("ada@example.com", "10.0.0.1", now);
        }
        assert_eq!(t.wait("ada@example.com", "10.0.0.1", now), None);
        t.failed("ada@example.com", "10.0.0.1", now);
        assert_eq!(
            t.wait("ada@example.com", "10.0.0.2", now),
            Some(Duration::from_secs(1))
        );
        t.failed("ada@example.com", "10.0.0.1", now);
        assert_eq!(
            t.wait("ada@example.com", "", now),
            Some(Duration::from_secs(2))
        );
        t.failed("ada@example.com", "10.0.0.1", now);
        assert_eq!(
            t.wait("ada@example.com", "", now),
            Some(Duration::from_secs(4))
        );
        // Time passes: the lock lifts, the count stays, so the next failure locks longer.
        let later = now + Duration::from_secs(5);
        assert_eq!(t.wait("ada@example.com", "", later), None);
        t.failed("ada@example.com", "", later);
        assert_eq!(
            t.wait("ada@example.com", "", later),
            Some(Duration::from_secs(8))
        );
        // Another account from the same address is not locked (the address has 8 failures).
        assert_eq!(t.wait("bob@example.com", "10.0.0.1", later), None);
        t.succeeded("ada@example.com");
        assert_eq!(t.wait("ada@example.com", "", later), None);
    }

    #[test]
    fn one_address_guessing_many_accounts_is_slowed() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..21 {
            t.failed(&format!("user{i}@example.com"), "192.0.2.7", now);
        }
        assert_eq!(
            t.wait("fresh@example.com", "192.0.2.7", now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(t.wait("fresh@example.com", "192.0.2.8", now), None);
    }

    #[test]
    fn mail_quota_refills_as_the_window_slides() {
        let q = MailQuota::new(2, Duration::from_secs(60));
        let now = Instant::now();
        assert!(q.take("a", now).is_ok());
        assert!(q.take("a", now + Duration::from_secs(10)).is_ok());
        assert_eq!(
            q.take("a", now + Duration::from_secs(20)),
            Err(Duration::from_secs(40))
        );
        assert!(q.take("b", now).is_ok());
        assert!(q.take("a", now + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn delays_are_capped() {
        assert_eq!(
            Policy::ACCOUNT.delay_after(1000),
            Duration::from_secs(15 * 60)
        );
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }
}
