//! Time as a dependency. Services ask a [`Clock`] for the time rather than the system, so a
//! test can fix it and step it, and the simulated market can run faster than real time. The
//! clock is the one place that reads the system time; everything else is given it.
//! (Rate limits measure elapsed real time with monotonic `Instant`s; they are not dates.)

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::{Arc, Mutex};

/// Where "now" comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Today's date in UTC.
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// A clock shared between services.
pub type SharedClock = Arc<dyn Clock>;

/// Real time.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move (tests).
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Market time: starts at `start` when created and runs `speed` times as fast as the clock
/// beneath it (`speed` 60: one market hour per real minute), for demos and tests of a market
/// that moves. At speed 1 from the real present it is real time.
#[derive(Debug)]
pub struct MarketClock {
    base: SharedClock,
    started: DateTime<Utc>,
    start: DateTime<Utc>,
    speed: f64,
}

impl MarketClock {
    pub fn new(base: SharedClock, start: DateTime<Utc>, speed: f64) -> Self {
        let started = base.now();
        MarketClock {
            base,
            started,
            start,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }
}

impl Clock for MarketClock {
    fn now(&self) -> DateTime<Utc> {
        let real = (self.base.now() - self.started)
            .num_microseconds()
            .unwrap_or(i64::MAX);
        let market = (real as f64 * self.speed).min(i64::MAX as f64) as i64;
        self.start + chrono::Duration::microseconds(market)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let c = FixedClock::new(at("2026-12-01T23:59:00Z"));
        assert_eq!(c.now(), c.now());
        c.advance(chrono::Duration::minutes(2));
        assert_eq!(c.today(), NaiveDate::from_ymd_opt(2026, 12, 2).unwrap());
    }

    #[test]
    fn market_time_runs_at_its_speed_from_its_start() {
        let real = Arc::new(FixedClock::new(at("2026-11-30T10:00:00Z")));
        let market = MarketClock::new(real.clone(), at("2026-12-01T00:00:00Z"), 60.0);
        assert_eq!(market.now(), at("2026-12-01T00:00:00Z"));
        real.advance(chrono::Duration::minutes(1));
        assert_eq!(
            market.now(),
            at("2026-12-01T01:00:00Z"),
            "one market hour per real minute"
        );
        real.advance(chrono::Duration::minutes(23));
        assert_eq!(
            market.today(),
            NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
        );
        let odd = MarketClock::new(real, at("2026-12-01T00:00:00Z"), f64::NAN);
        assert_eq!(odd.speed(), 1.0);
    }
}
