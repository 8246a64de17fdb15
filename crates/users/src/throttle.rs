//! Throttling password guesses (per account and per client address, with increasing
//! delays) and counting things per key in a sliding window (mails, registrations).
//!
//! Each key (a normalised email, or an IP address) counts failed password checks. The first
//! `free` failures cost nothing; every failure after that locks the key for
//! `base · 2^(n − free − 1)` (1 s, 2 s, 4 s … up to `max_delay`). While a key is locked every
//! attempt is answered 429 with `Retry-After`, without looking at the password, so guessing
//! gets exponentially slower. A success clears the account's count (not the address's: one
//! address may be guessing many accounts). Counts are forgotten after `forget_after` without
//! failures.
//!
//! **Attempts are reserved before the password is checked.** A reservation counts as a
//! failure-in-waiting: while `failures + in_flight` has used up the free failures, a new
//! attempt is refused until those in flight end, so a burst of simultaneous guesses gets no
//! more checks than the free failures (then one at a time, each followed by its lock). The
//! reservation and the check of the lock are one atomic step per key (moka's `and_upsert_with`
//! runs one closure per key at a time). An [`Attempt`] that is dropped without an outcome (the
//! client went away) gives its reservation back.
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
struct KeyState {
    failures: u32,
    in_flight: u32,
    locked_until: Instant,
}

impl KeyState {
    /// The stored state of a key, or a clean one.
    fn current(stored: Option<moka::Entry<String, KeyState>>, now: Instant) -> KeyState {
        stored.map_or(
            KeyState {
                failures: 0,
                in_flight: 0,
                locked_until: now,
            },
            |e| e.into_value(),
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Failed,
    Succeeded,
    Abandoned,
}

struct Counter {
    policy: Policy,
    cache: Cache<String, KeyState>,
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

    /// Take one attempt for `key`, or say how long to wait.
    fn reserve(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let policy = self.policy;
        let mut verdict = Ok(());
        self.cache.entry(key.to_string()).and_upsert_with(|old| {
            let mut state = KeyState::current(old, now);
            if state.locked_until > now {
                verdict = Err(state.locked_until - now);
            } else if state.in_flight > 0
                && state.failures.saturating_add(state.in_flight) >= policy.free
            {
                // The free failures are spoken for by attempts still running: wait for them.
                verdict = Err(policy.base);
            } else {
                state.in_flight += 1;
            }
            state
        });
        verdict
    }

    fn finish(&self, key: &str, outcome: Outcome, now: Instant, clear_on_success: bool) {
        let policy = self.policy;
        self.cache.entry(key.to_string()).and_upsert_with(|old| {
            let mut state = KeyState::current(old, now);
            state.in_flight = state.in_flight.saturating_sub(1);
            match outcome {
                Outcome::Failed => {
                    state.failures = state.failures.saturating_add(1);
                    state.locked_until = state
                        .locked_until
                        .max(now + policy.delay_after(state.failures));
                }
                Outcome::Succeeded if clear_on_success => state.failures = 0,
                Outcome::Succeeded | Outcome::Abandoned => {}
            }
            state
        });
    }

    fn failures(&self, key: &str) -> u32 {
        self.cache.get(key).map_or(0, |s| s.failures)
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

/// A reserved password (or second-factor) check. Say how it went with [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropping it unsaid gives the reservation back.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    account: String,
    address: String,
    done: bool,
}

impl Attempt<'_> {
    fn finish(mut self, outcome: Outcome) {
        self.done = true;
        self.throttle.finish(&self.account, &self.address, outcome);
    }

    /// The password was wrong. Returns whether the account is now locked (its free
    /// failures are used up).
    pub fn failed(self) -> bool {
        let throttle = self.throttle;
        let account = self.account.clone();
        self.finish(Outcome::Failed);
        throttle.accounts.failures(&account) > throttle.accounts.policy.free
    }

    pub fn succeeded(self) {
        self.finish(Outcome::Succeeded);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.throttle
                .finish(&self.account, &self.address, Outcome::Abandoned);
        }
    }
}

impl LoginThrottle {
    pub fn new(account: Policy, address: Policy) -> LoginThrottle {
        LoginThrottle {
            accounts: Counter::new(account),
            addresses: Counter::new(address),
        }
    }

    /// Reserve one check for `account` from `address` (empty when unknown), or say how long
    /// the caller must wait.
    pub fn reserve(&self, account: &str, address: &str) -> Result<Attempt<'_>, Duration> {
        let now = Instant::now();
        self.accounts.reserve(account, now)?;
        if !address.is_empty() {
            if let Err(wait) = self.addresses.reserve(address, now) {
                self.accounts.finish(account, Outcome::Abandoned, now, true);
                return Err(wait);
            }
        }
        Ok(Attempt {
            throttle: self,
            account: account.to_string(),
            address: address.to_string(),
            done: false,
        })
    }

    fn finish(&self, account: &str, address: &str, outcome: Outcome) {
        let now = Instant::now();
        self.accounts.finish(account, outcome, now, true);
        if !address.is_empty() {
            self.addresses.finish(address, outcome, now, false);
        }
    }
}

/// At most `per_window` events per key in a sliding window: mails to one address, mail-sending
/// requests or registrations from one client address.
pub struct Quota {
    per_window: usize,
    window: Duration,
    sent: Cache<String, Vec<Instant>>,
}

impl Quota {
    /// `per_hour` events per key per hour.
    pub fn hourly(per_hour: usize) -> Quota {
        Quota::new(per_hour, Duration::from_secs(60 * 60))
    }

    pub fn new(per_window: usize, window: Duration) -> Quota {
        Quota {
            per_window,
            window,
            sent: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_idle(window)
                .build(),
        }
    }

    /// How long until `key` may have another event, if it may not now (counts nothing).
    pub fn wait(&self, key: &str, now: Instant) -> Option<Duration> {
        let times = self.sent.get(key)?;
        let live: Vec<&Instant> = times
            .iter()
            .filter(|t| now.saturating_duration_since(**t) < self.window)
            .collect();
        (live.len() >= self.per_window)
            .then(|| (*live[0] + self.window).saturating_duration_since(now))
    }

    /// Count one event for `key`, or say how long until the next one is allowed.
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

    fn guess(t: &LoginThrottle, account: &str, address: &str) -> Result<bool, Duration> {
        t.reserve(account, address).map(Attempt::failed)
    }

    #[test]
    fn delays_start_after_the_free_failures_and_double() {
        let t = LoginThrottle::default();
        for _ in 0..5 {
            assert_eq!(guess(&t, "ada@example.com", "10.0.0.1"), Ok(false));
        }
        assert_eq!(
            guess(&t, "ada@example.com", "10.0.0.1"),
            Ok(true),
            "locked now"
        );
        let wait = t.reserve("ada@example.com", "10.0.0.2").err().unwrap();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(900));
        // Another account from the same address is not locked (the address has 6 failures).
        assert!(t.reserve("bob@example.com", "10.0.0.1").is_ok());
    }

    #[test]
    fn a_burst_gets_no_more_checks_than_the_free_failures() {
        let t = LoginThrottle::default();
        // 100 attempts at the same instant: all reserved before any finishes.
        let mut admitted = vec![];
        let mut refused = 0;
        for _ in 0..100 {
            match t.reserve("ada@example.com", "192.0.2.1") {
                Ok(a) => admitted.push(a),
                Err(wait) => {
                    assert!(wait >= Duration::from_secs(1));
                    refused += 1;
                }
            }
        }
        assert_eq!((admitted.len(), refused), (5, 95));
        for a in admitted {
            a.failed();
        }
        // The sixth check is allowed alone, and locks.
        let sixth = t.reserve("ada@example.com", "192.0.2.1").unwrap();
        assert!(t.reserve("ada@example.com", "192.0.2.1").is_err());
        assert!(sixth.failed());
        assert!(t.reserve("ada@example.com", "192.0.2.1").is_err());
    }

    #[test]
    fn abandoned_attempts_give_their_reservation_back_and_success_clears() {
        let t = LoginThrottle::default();
        for _ in 0..10 {
            let a = t.reserve("ada@example.com", "").unwrap();
            drop(a);
        }
        for _ in 0..4 {
            guess(&t, "ada@example.com", "").unwrap();
        }
        t.reserve("ada@example.com", "").unwrap().succeeded();
        for _ in 0..5 {
            assert_eq!(guess(&t, "ada@example.com", ""), Ok(false));
        }
    }

    #[test]
    fn one_address_guessing_many_accounts_is_slowed() {
        let t = LoginThrottle::default();
        for i in 0..21 {
            guess(&t, &format!("user{i}@example.com"), "192.0.2.7").unwrap();
        }
        assert!(t.reserve("fresh@example.com", "192.0.2.7").is_err());
        assert!(t.reserve("fresh@example.com", "192.0.2.8").is_ok());
        // A refusal by the address does not keep the account's reservation.
        for _ in 0..5 {
            assert_eq!(guess(&t, "fresh@example.com", "192.0.2.8"), Ok(false));
        }
    }

    #[test]
    fn quota_refills_as_the_window_slides() {
        let q = Quota::new(2, Duration::from_secs(60));
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
        assert_eq!(Policy::ACCOUNT.delay_after(6), Duration::from_secs(1));
        assert_eq!(Policy::ACCOUNT.delay_after(8), Duration::from_secs(4));
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }
}
