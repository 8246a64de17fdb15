//! How a flight's price and seats move while it is on sale: the dynamic-pricing process of the
//! simulated market. Everything is a pure function of the flight's identity and the market
//! time, so any flight's state at any moment can be worked out on its own (no stored history,
//! and far-off days cost nothing until asked about).
//!
//! A flight goes on sale [`SALES_WINDOW_DAYS`] before departure. Its economy fare at a moment
//! `days` before departure is
//!
//! `base · trend(days) · load(lf) · bucket`
//!
//! - **trend** and **load** together are calibrated to Hopper's 2021 analysis of domestic
//!   fares: the average fare rises about 25 % as departure comes within 14 days and about 30 %
//!   more in the final 7 days. Part of that rise is the flight filling up (load, below), so
//!   `trend` is 1 beyond three weeks, ramps to [`TREND_TWO_WEEKS`] (1.11) over days 21 → 14
//!   and is [`TREND_LAST_WEEK`] (1.36) in the last week; the test measures the average fares
//!   over those periods (+25 % and +30 %, each within a few points).
//! - **load**: `0.85 + 0.3 · lf`, where `lf` is the share of the cabin sold now in whole tenths
//!   (fuller flights cost more; a flight moves up a fare class as it fills, not with every
//!   seat).
//! - **bucket**: the airline's revenue management opening and closing fare buckets, the noise
//!   that makes the lowest fare change many times. Changes arrive as a Poisson process of
//!   [`CHANGES_PER_DAY`] (0.18: about 59 over the window); each moves the log-bucket by a
//!   normal step of [`BUCKET_STEP`] (0.16) with a pull of [`BUCKET_PULL`] (15 %) back towards
//!   0, so the bucket stays within about ±30 % (one standard deviation). Calibrated to
//!   CheapAir's 2019 study (917 million fares): the lowest fare of a flight changes 49 to 92
//!   times over its roughly 330 days on sale, by $33 to $43 on average. With the trend's and
//!   the load's steps, the test measures 71.5 changes averaging $36.4 on a flight priced like
//!   CheapAir's average domestic fare ($340).
//! - **seats**: bookings accumulate as `final_lf · e^(−days/25)` of the cabin (half of a
//!   flight's bookings come in its last 17 days), where `final_lf` is drawn around 0.83 (IATA's
//!   2023 global load factor); a flight whose `final_lf` is above 1 sells out before departure,
//!   and its fare is then unavailable in that cabin.
//!
//! A fare changes only at a bucket change, a day of the trend's ramps, or the load crossing a
//! tenth, so a market feed that reports changes reports about as many per flight as a real
//! one. The market's feeds (the binary's `market` service) price with it, carrying each
//! flight's [`Walk`] from one look to the next, and calibrate each flight's base so that its
//! fare when the feed starts is the world's (from `fares`): search starts from the world and
//! follows the feed's changes.

use crate::rng::{hash, unit};

/// Days a flight is on sale before departure (airlines open about 330 days ahead).
pub const SALES_WINDOW_DAYS: f64 = 330.0;
/// Bucket changes per day (≈ 59 over the sales window).
pub const CHANGES_PER_DAY: f64 = 0.18;
/// Standard deviation of a bucket change, in log-fare.
pub const BUCKET_STEP: f64 = 0.16;
/// Share of the bucket's distance from 0 taken back at each change (mean reversion).
pub const BUCKET_PULL: f64 = 0.15;
/// Days over which bookings build up (`e^(−days/τ)`).
pub const BOOKING_TAU_DAYS: f64 = 25.0;

/// The trend's level from 14 to 8 days before departure.
pub const TREND_TWO_WEEKS: f64 = 1.11;
/// The trend's level in the last week.
pub const TREND_LAST_WEEK: f64 = 1.36;

/// The rise towards departure: 1 beyond three weeks, a ramp to [`TREND_TWO_WEEKS`] over days
/// 21 → 14, then [`TREND_LAST_WEEK`] from day 7 (a one-day ramp between).
pub fn trend(days: f64) -> f64 {
    let d = days.max(0.0);
    if d >= 21.0 {
        1.0
    } else if d >= 14.0 {
        1.0 + (TREND_TWO_WEEKS - 1.0) * (21.0 - d) / 7.0
    } else if d >= 8.0 {
        TREND_TWO_WEEKS
    } else if d >= 7.0 {
        TREND_TWO_WEEKS + (TREND_LAST_WEEK - TREND_TWO_WEEKS) * (8.0 - d)
    } else {
        TREND_LAST_WEEK
    }
}

/// What the market knows of one flight in one cabin.
#[derive(Clone, Copy, Debug)]
pub struct FlightMarket {
    /// Identity for the random draws (a hash of carrier, flight number, date, cabin).
    pub id: u64,
    /// The fare the flight would sell at with trend, load and bucket all at 1, cents.
    pub base_cents: f64,
    /// Seats in the cabin.
    pub capacity: u16,
}

/// The flight's state at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlightState {
    /// The lowest fare on sale, cents; `None` when the cabin is sold out.
    pub fare_cents: Option<u64>,
    pub seats_left: u16,
}

/// A standard normal draw from a uniform pair (Box–Muller).
fn normal(parts: &[u64]) -> f64 {
    let mut p = parts.to_vec();
    p.push(1);
    let u1 = unit(&p).max(1e-12);
    p.push(2);
    let u2 = unit(&p);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl FlightMarket {
    /// The share of the cabin this flight will have sold at departure (around 0.83, some
    /// above 1: sold out early).
    pub fn final_load(&self) -> f64 {
        (0.83 + 0.12 * normal(&[self.id, 7])).clamp(0.35, 1.2)
    }

    /// Seats sold `days` before departure.
    pub fn seats_sold(&self, days: f64) -> u16 {
        let share = self.final_load() * (-days.max(0.0) / BOOKING_TAU_DAYS).exp();
        ((share * self.capacity as f64).floor() as u16).min(self.capacity)
    }

    /// Days from change `k - 1` (or from going on sale) to change `k` (exponential gaps).
    fn gap(&self, k: u64) -> f64 {
        -(1.0 - unit(&[self.id, 11, k])).ln() / CHANGES_PER_DAY
    }

    /// The bucket walk before its first change.
    pub fn walk(&self) -> Walk {
        Walk {
            k: 0,
            t: SALES_WINDOW_DAYS - self.gap(0),
            x: 0.0,
        }
    }

    /// Take `w` through every bucket change that has happened by `days` before departure.
    /// Time runs towards departure, so `days` may only shrink from one call to the next.
    pub fn advance(&self, w: &mut Walk, days: f64) {
        while w.t >= days.max(0.0) && w.t >= 0.0 {
            w.x = (1.0 - BUCKET_PULL) * w.x + BUCKET_STEP * normal(&[self.id, 13, w.k]);
            w.k += 1;
            w.t -= self.gap(w.k);
        }
    }

    /// The log-bucket `days` before departure: the walk of changes since the flight went on
    /// sale.
    pub fn bucket(&self, days: f64) -> f64 {
        let mut w = self.walk();
        self.advance(&mut w, days);
        w.x
    }

    /// The flight's fare and seats `days` before departure (fractions of a day allowed).
    pub fn state(&self, days: f64) -> FlightState {
        self.state_on(&mut self.walk(), days)
    }

    /// As [`FlightMarket::state`], carrying the bucket walk from an earlier call, so a feed
    /// that follows a flight over time pays only for the changes since (`days` may only
    /// shrink from one call to the next with one walk).
    pub fn state_on(&self, w: &mut Walk, days: f64) -> FlightState {
        self.advance(w, days);
        let (factor, seats_left) = self.factor(w, days);
        FlightState {
            fare_cents: factor.map(|f| {
                let fare = self.base_cents * f;
                (fare / 100.0).round().max(10.0) as u64 * 100 - 1
            }),
            seats_left,
        }
    }

    /// What multiplies the base fare `days` before departure (trend, load and bucket), with
    /// the seats left; no factor when the cabin is sold out or not yet on sale. `w` must have
    /// been advanced to `days`.
    pub fn factor(&self, w: &Walk, days: f64) -> (Option<f64>, u16) {
        let sold = self.seats_sold(days);
        let seats_left = self.capacity - sold;
        if seats_left == 0 || days > SALES_WINDOW_DAYS {
            return (None, seats_left);
        }
        // Load in tenths: revenue management moves a flight up a fare class as it fills, not
        // with every seat sold.
        let lf = (10.0 * sold as f64 / self.capacity.max(1) as f64).floor() / 10.0;
        // The trend moves in whole days, so a fare does not drift minute by minute.
        let f = trend(days.floor()) * (0.85 + 0.3 * lf) * w.x.exp();
        (Some(f), seats_left)
    }
}

/// Where a flight's bucket walk stands: the number and time (days before departure) of the
/// next change, and the log-bucket after the changes so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Walk {
    k: u64,
    t: f64,
    x: f64,
}

/// The identity of a flight in a cabin for [`FlightMarket::id`].
pub fn flight_id(seed: u64, carrier: u64, flight_number: u16, date_days: i64, cabin: u8) -> u64 {
    hash(&[
        seed,
        carrier,
        flight_number as u64,
        date_days as u64,
        cabin as u64,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flights(n: u64, base_cents: f64) -> impl Iterator<Item = FlightMarket> {
        (0..n).map(move |i| FlightMarket {
            id: flight_id(42, 0x4241, (i % 9000) as u16, i as i64, 0),
            base_cents,
            capacity: 180,
        })
    }

    fn mean(xs: impl Iterator<Item = f64>) -> f64 {
        let (s, n) = xs.fold((0.0, 0.0), |(s, n), x| (s + x, n + 1.0));
        s / n
    }

    #[test]
    fn fares_rise_25_percent_within_14_days_and_30_more_in_the_last_week() {
        // Averages over many flights of the fare on each day (Hopper compares averages).
        let market: Vec<FlightMarket> = flights(3000, 30_000.0).collect();
        let avg = |days: std::ops::RangeInclusive<u32>| {
            mean(market.iter().flat_map(|f| {
                days.clone()
                    .filter_map(move |d| f.state(d as f64).fare_cents.map(|c| c as f64))
            }))
        };
        let (far, two_weeks, last_week) = (avg(22..=60), avg(8..=14), avg(0..=7));
        let rise = two_weeks / far;
        let final_rise = last_week / two_weeks;
        eprintln!("within 14 days {rise:.3}, final week {final_rise:.3}");
        assert!((1.2..=1.3).contains(&rise), "within 14 days: {rise:.3}");
        assert!(
            (1.25..=1.35).contains(&final_rise),
            "final week: {final_rise:.3}"
        );
    }

    #[test]
    fn the_lowest_fare_changes_as_often_and_as_much_as_cheapair_measured() {
        // A flight priced like CheapAir's average domestic fare ($340 ≈ €313), followed day
        // by day... and between days, where the buckets change.
        let base = 340.0 * crate::fares::USD_TO_EUR * 100.0;
        let mut counts = vec![];
        let mut sizes = vec![];
        for f in flights(400, base) {
            let mut last: Option<u64> = None;
            let mut changes = 0u32;
            // Quarter-day steps catch every bucket change but a few that fall close together.
            let mut t = SALES_WINDOW_DAYS;
            while t >= 0.0 {
                let now = f.state(t).fare_cents;
                if let (Some(a), Some(b)) = (last, now) {
                    if a != b {
                        changes += 1;
                        sizes.push((a as f64 - b as f64).abs() / 100.0 / crate::fares::USD_TO_EUR);
                    }
                }
                last = now.or(last);
                t -= 0.25;
            }
            counts.push(changes as f64);
        }
        let avg_changes = mean(counts.iter().copied());
        let avg_size = mean(sizes.iter().copied());
        eprintln!("{avg_changes:.1} changes averaging ${avg_size:.1}");
        assert!(
            (49.0..=92.0).contains(&avg_changes),
            "changes per flight: {avg_changes:.1}"
        );
        assert!(
            (33.0..=43.0).contains(&avg_size),
            "average change: ${avg_size:.1}"
        );
    }

    #[test]
    fn seats_sell_as_departure_nears_and_some_flights_sell_out() {
        let market: Vec<FlightMarket> = flights(2000, 20_000.0).collect();
        for f in &market[..50] {
            let sold: Vec<u16> = [300.0, 90.0, 30.0, 7.0, 1.0, 0.0]
                .iter()
                .map(|&d| f.seats_sold(d))
                .collect();
            assert!(sold.windows(2).all(|w| w[0] <= w[1]), "{sold:?}");
        }
        let at_departure = mean(
            market
                .iter()
                .map(|f| f.seats_sold(0.0) as f64 / f.capacity as f64),
        );
        assert!(
            (0.78..=0.86).contains(&at_departure),
            "load factor {at_departure:.3}"
        );
        let sold_out: Vec<&FlightMarket> = market
            .iter()
            .filter(|f| f.state(0.0).fare_cents.is_none())
            .collect();
        assert!(
            !sold_out.is_empty() && sold_out.len() < market.len() / 4,
            "{} of {} sold out",
            sold_out.len(),
            market.len()
        );
        assert!(sold_out.iter().all(|f| f.state(0.0).seats_left == 0));
    }

    #[test]
    fn a_walk_carried_over_time_gives_the_states_worked_out_afresh() {
        for f in flights(200, 25_000.0) {
            let mut w = f.walk();
            let mut days = SALES_WINDOW_DAYS + 2.0;
            while days >= -1.0 {
                assert_eq!(f.state_on(&mut w, days), f.state(days), "day {days}");
                days -= 0.37;
            }
        }
    }

    #[test]
    fn a_flight_is_not_on_sale_before_its_window_and_states_are_reproducible() {
        let f = flights(1, 20_000.0).next().unwrap();
        assert_eq!(f.state(SALES_WINDOW_DAYS + 1.0).fare_cents, None);
        assert_eq!(f.state(12.5), f.state(12.5));
        assert!(f.state(100.0).fare_cents.unwrap() % 100 == 99);
    }
}
