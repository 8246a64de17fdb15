//! Buy or wait: for a route, a departure date and the prices seen so far, whether waiting is
//! likely to pay, by how much, and how sure the model is.
//!
//! **The model** is a table learnt from past departures' price series (the lowest price on
//! sale day by day before departure). A decision is described by seven features:
//!
//! | feature | buckets |
//! |---|---|
//! | days to departure | 0–2, 3–6, 7–13, 14–20, 21–27, 28–41, 42–59, 60–89, 90+ |
//! | against later departures: the cheapest flight's price now ÷ the median of the same flight's prices on sale now for departures 1–6 weeks later ([`peer_level`]) | < 0.8, < 0.87, < 0.93, < 0.98, < 1.02, < 1.08, < 1.16, < 1.28, ≥ 1.28, unknown (under 2 on sale) |
//! | level: the price now ÷ the median of the previous 28 days' prices | < 0.88, < 0.96, < 1.04, < 1.12, ≥ 1.12, unknown (under 7 days seen) |
//! | recent trend: the price now ÷ the price 7 days ago | down (< −3 %), flat, up (> +3 %), unknown |
//! | seats left on the cheapest flight | 1–3, 4–8, 9 or more |
//! | route and carrier mix: flights on sale that day | 1, 2–3, 4 or more |
//! | weekday of departure | Monday … Sunday |
//!
//! For each combination it keeps what following the model from there came to: the mean of
//! (price finally paid if waiting) ÷ (price now), how often waiting paid no more than buying,
//! and the mean change of the price over the next 7 days. A combination seen fewer than
//! [`MIN_SAMPLES`] times backs off to a coarser one (dropping the weekday, then the carrier mix
//! and seats, then the trend, then the level, then the comparison with later departures).
//!
//! The comparison with later departures is what tells where an airline's fare buckets stand
//! for this departure: they wander for weeks (the price's own history tells its usual level
//! poorly), and the route's lowest price blurs several flights taking turns being cheapest;
//! the same flight a few weeks later is priced from the same base with buckets of its own.
//! On the simulated market it took the backtest's saving from 0.19 % to 0.79 % of the ticket
//! price (docs/prices.md).
//!
//! **Training** is fitted policy iteration (Etzioni et al.'s Hamlet learnt a policy with
//! Q-learning in the same spirit): starting from "buy now" everywhere, it works out on every
//! training series what waiting under the current policy would have cost — the traveller is
//! advised again at each price change and must buy on the last day — learns the table, and
//! repeats with the new policy. The advice is "wait" when the expected price of waiting is at
//! least [`MARGIN`] under the price now.
//!
//! **The future is never seen**: training takes only series whose every day is before the
//! first decision the model is used for (the backtest trains on departures that left before
//! its travellers arrive).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Observations a table cell needs before its figures are used.
pub const MIN_SAMPLES: u32 = 40;
/// Waiting must be expected to save at least this share of the price (the default; a model
/// keeps the margin it was trained with).
pub const MARGIN: f64 = 0.02;
/// Days of history the level compares the price with.
const LEVEL_DAYS: usize = 28;
/// Policy iterations.
const ITERATIONS: usize = 4;

/// A departure's prices as known at one decision.
#[derive(Clone, Debug)]
pub struct Situation<'a> {
    /// Days from the decision to departure.
    pub days_before: u32,
    /// The lowest price on sale, today first, then each day before (`None`: nothing on sale
    /// that day, or not observed).
    pub prices: &'a [Option<i64>],
    /// Seats left on the cheapest flight now (9 stands for 9 or more).
    pub seats: u16,
    /// Flights of the route on sale on the departure date.
    pub flights: u16,
    /// Day of the week of departure, Monday 0.
    pub weekday: u8,
    /// The cheapest flight's price now against the same flight's on later departures
    /// ([`peer_level`]; `None`: under 2 of them on sale).
    pub peer_level: Option<f64>,
}

/// Later departures of the same flight its price is compared with: 1 to 4 weeks later.
pub const PEER_WEEKS: u64 = 6;
/// Later departures needed before the comparison is made.
const PEER_MIN: usize = 2;

/// The cheapest flight's price now ÷ the median of the same flight's prices on sale now for
/// departures 1 to [`PEER_WEEKS`] weeks later (`None` under 2 of them on sale): where the
/// airline's fare buckets stand for this departure against where they stand for the same
/// flight on other days — the flight's own usual price, which its history tells poorly (its
/// buckets wander for weeks) and the route's lowest price blurs.
pub fn peer_level(now: i64, peers: impl IntoIterator<Item = i64>) -> Option<f64> {
    let peers: Vec<i64> = peers.into_iter().collect();
    if peers.len() < PEER_MIN {
        return None;
    }
    median(peers).filter(|m| *m > 0.0).map(|m| now as f64 / m)
}

/// Buckets of [`peer_level`].
const PEER_BOUNDS: [f64; 8] = [0.8, 0.87, 0.93, 0.98, 1.02, 1.08, 1.16, 1.28];

/// A decision's features, bucketed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Features {
    pub days: u8,
    pub peer: u8,
    pub level: u8,
    pub trend: u8,
    pub seats: u8,
    pub flights: u8,
    pub weekday: u8,
}

fn bucket(x: f64, bounds: &[f64]) -> u8 {
    bounds.iter().take_while(|b| x >= **b).count() as u8
}

fn median(mut xs: Vec<i64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_unstable();
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2] as f64
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) as f64 / 2.0
    })
}

impl Features {
    /// `None` when nothing is on sale now.
    pub fn of(s: &Situation) -> Option<Features> {
        let now = (*s.prices.first()?)? as f64;
        let days = bucket(
            s.days_before as f64,
            &[3.0, 7.0, 14.0, 21.0, 28.0, 42.0, 60.0, 90.0],
        );
        let before: Vec<i64> = s
            .prices
            .iter()
            .skip(1)
            .take(LEVEL_DAYS)
            .flatten()
            .copied()
            .collect();
        let level = match median(before.clone()) {
            Some(m) if before.len() >= 7 && m > 0.0 => bucket(now / m, &[0.88, 0.96, 1.04, 1.12]),
            _ => 5,
        };
        let trend = match s.prices.get(7).copied().flatten() {
            Some(week_ago) if week_ago > 0 => {
                let r = now / week_ago as f64;
                if r < 0.97 {
                    0
                } else if r > 1.03 {
                    2
                } else {
                    1
                }
            }
            _ => 3,
        };
        let peer = match s.peer_level {
            Some(r) => bucket(r, &PEER_BOUNDS),
            None => PEER_BOUNDS.len() as u8 + 1,
        };
        Some(Features {
            days,
            peer,
            level,
            trend,
            seats: bucket(s.seats as f64, &[4.0, 9.0]),
            flights: bucket(s.flights as f64, &[2.0, 4.0]),
            weekday: s.weekday.min(6),
        })
    }

    /// The table keys from finest to coarsest.
    fn keys(&self) -> [u64; 6] {
        let f = self;
        if std::env::var("COARSE").is_ok() {
            let pack = |level: u64, parts: &[u8]| {
                parts.iter().fold(level, |k, &p| (k << 8) | u64::from(p))
            };
            let k = pack(4, &[f.days, f.peer]);
            return [k, k, k, k, k, pack(5, &[f.days])];
        }
        let pack =
            |level: u64, parts: &[u8]| parts.iter().fold(level, |k, &p| (k << 8) | u64::from(p));
        [
            pack(
                0,
                &[
                    f.days, f.peer, f.level, f.trend, f.seats, f.flights, f.weekday,
                ],
            ),
            pack(1, &[f.days, f.peer, f.level, f.trend, f.seats, f.flights]),
            pack(2, &[f.days, f.peer, f.level, f.trend]),
            pack(3, &[f.days, f.peer, f.level]),
            pack(4, &[f.days, f.peer]),
            pack(5, &[f.days]),
        ]
    }
}

/// What one table cell learnt.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Cell {
    pub n: u32,
    /// Sum of (price paid if waiting) ÷ (price now).
    pub wait_ratio: f64,
    /// Decisions where waiting paid no more than buying.
    pub wait_no_worse: u32,
    /// Decisions where waiting paid no less than buying.
    pub wait_no_better: u32,
    pub n7: u32,
    /// Sum of (price in 7 days) ÷ (price now).
    pub ratio7: f64,
}

/// The advice for one decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Advice {
    pub wait: bool,
    /// Expected change of the price paid by waiting (−0.06: 6 % less than now).
    pub expected_change: f64,
    /// The share of like decisions in training where the advice was right (waiting paid no
    /// more, or buying paid no more).
    pub confidence: f64,
    /// Expected change of the price over the next 7 days (`None`: under 8 days to go).
    pub change_7d: Option<f64>,
    /// Training decisions behind the figures.
    pub samples: u32,
}

/// The learnt table.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    cells: HashMap<u64, Cell>,
    /// Waiting is advised when it is expected to save at least this share of the price.
    #[serde(default = "default_margin")]
    pub margin: f64,
    /// Training series and decisions it was learnt from.
    pub series: u32,
    pub decisions: u64,
}

fn default_margin() -> f64 {
    MARGIN
}

/// One departure's history for training: the lowest price day by day (index: days before
/// departure), the seats of the cheapest flight, the flights on sale, the weekday.
#[derive(Clone, Debug)]
pub struct Series {
    /// `prices[d]`: the lowest price on sale `d` days before departure (`None`: sold out).
    pub prices: Vec<Option<i64>>,
    pub seats: Vec<u16>,
    pub flights: Vec<u16>,
    /// The cheapest flight's [`peer_level`] each day.
    pub peer: Vec<Option<f64>>,
    pub weekday: u8,
}

impl Series {
    /// The situation `d` days before departure (prices from `d` back to the start).
    pub fn situation(&self, d: usize, history: &mut Vec<Option<i64>>) -> Option<Features> {
        history.clear();
        history.extend(self.prices[d..].iter().copied());
        Features::of(&Situation {
            days_before: d as u32,
            prices: history,
            seats: self.seats[d],
            flights: self.flights[d],
            weekday: self.weekday,
            peer_level: self.peer[d],
        })
    }

    /// Whether a traveller is advised again on day `d`: the price changed since the day
    /// before (`d + 1`), or it is the last day.
    pub fn decides(&self, d: usize) -> bool {
        d == 0 || self.prices.get(d + 1).copied().flatten() != self.prices[d]
    }

    /// What a traveller pays who is still waiting when nothing is on sale any more: the
    /// highest price of the last 30 days on sale (they buy elsewhere, dear).
    pub fn sold_out_price(&self, d: usize) -> i64 {
        self.prices[d..]
            .iter()
            .take(30)
            .flatten()
            .copied()
            .max()
            .unwrap_or(0)
    }
}

impl Model {
    /// The advice for `s` (`None`: nothing on sale, or no training like it).
    pub fn advise(&self, s: &Situation) -> Option<Advice> {
        self.advise_features(&Features::of(s)?, s.days_before)
    }

    pub fn advise_features(&self, f: &Features, days_before: u32) -> Option<Advice> {
        let cell = f
            .keys()
            .iter()
            .filter_map(|k| self.cells.get(k))
            .find(|c| c.n >= MIN_SAMPLES)?;
        let n = f64::from(cell.n);
        let expected_change = cell.wait_ratio / n - 1.0;
        let wait = days_before > 0 && expected_change <= -self.margin;
        let confidence = if wait {
            f64::from(cell.wait_no_worse) / n
        } else {
            f64::from(cell.wait_no_better) / n
        };
        let change_7d =
            (days_before >= 8 && cell.n7 > 0).then(|| cell.ratio7 / f64::from(cell.n7) - 1.0);
        Some(Advice {
            wait,
            expected_change,
            confidence,
            change_7d,
            samples: cell.n,
        })
    }

    /// What following this model from each day of `s` costs: `paid[d]` for a traveller who
    /// decides on day `d` (buying if advised to or on the last day), and `wait[d]` for one
    /// who waits on day `d` (paying what the next decision comes to).
    pub fn follow(&self, s: &Series) -> (Vec<i64>, Vec<i64>) {
        let len = s.prices.len();
        let mut paid = vec![0i64; len];
        let mut wait = vec![0i64; len];
        let mut history = Vec::with_capacity(len);
        // The cost of the nearest decision below the day at hand.
        let mut next = s.sold_out_price(0);
        for d in 0..len {
            wait[d] = if d == 0 { s.sold_out_price(0) } else { next };
            let here = match s.prices[d] {
                None => wait[d],
                Some(p) if d == 0 => p,
                Some(p) => {
                    let advice = s
                        .situation(d, &mut history)
                        .and_then(|f| self.advise_features(&f, d as u32));
                    if advice.is_some_and(|a| a.wait) {
                        wait[d]
                    } else {
                        p
                    }
                }
            };
            paid[d] = here;
            if s.decides(d) {
                next = here;
            }
        }
        (paid, wait)
    }

    /// Learn from `series` (all of them over before the decisions the model will make),
    /// advising to wait when that is expected to save at least `margin` of the price.
    pub fn train(series: &[Series], margin: f64) -> Model {
        let mut model = Model {
            margin,
            ..Model::default()
        };
        for _ in 0..ITERATIONS {
            let mut cells: HashMap<u64, Cell> = HashMap::new();
            let mut decisions = 0u64;
            let mut history = Vec::new();
            for s in series {
                let (_, wait) = model.follow(s);
                for (d, &waited) in wait.iter().enumerate().skip(1) {
                    let Some(p) = s.prices[d] else { continue };
                    let Some(f) = s.situation(d, &mut history) else {
                        continue;
                    };
                    decisions += 1;
                    let ratio = waited as f64 / p as f64;
                    let in7 = (d >= 7).then(|| s.prices[d - 7]).flatten();
                    for key in f.keys() {
                        let c = cells.entry(key).or_default();
                        c.n += 1;
                        c.wait_ratio += ratio;
                        c.wait_no_worse += u32::from(waited <= p);
                        c.wait_no_better += u32::from(waited >= p);
                        if let Some(later) = in7 {
                            c.n7 += 1;
                            c.ratio7 += later as f64 / p as f64;
                        }
                    }
                }
            }
            // A cell under the minimum is never consulted.
            cells.retain(|_, c| c.n >= MIN_SAMPLES);
            model = Model {
                cells,
                margin,
                series: series.len() as u32,
                decisions,
            };
        }
        model
    }

    /// Table cells.
    pub fn size(&self) -> usize {
        self.cells.len()
    }
}

/// The model Spontra ships, learnt by `spontra bench buy-wait --write-model` on the full
/// simulated world (`model/buy-wait.json`).
pub fn shipped() -> &'static Model {
    static MODEL: std::sync::LazyLock<Model> = std::sync::LazyLock::new(|| {
        serde_json::from_str(include_str!("../model/buy-wait.json")).unwrap_or_default()
    });
    &MODEL
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(prices: &[i64]) -> Series {
        // Written oldest first; stored by days before departure.
        let prices: Vec<Option<i64>> = prices.iter().rev().map(|p| Some(*p)).collect();
        Series {
            seats: vec![9; prices.len()],
            flights: vec![2; prices.len()],
            peer: vec![None; prices.len()],
            prices,
            weekday: 4,
        }
    }

    #[test]
    fn features_bucket_days_level_and_trend() {
        let prices: Vec<Option<i64>> = [120, 100, 100, 100, 100, 100, 100, 100, 100]
            .iter()
            .map(|p| Some(*p))
            .collect();
        let f = Features::of(&Situation {
            days_before: 30,
            prices: &prices,
            seats: 3,
            flights: 5,
            weekday: 9,
            peer_level: Some(1.3),
        })
        .unwrap();
        assert_eq!(
            f,
            Features {
                days: 5,
                peer: 8,
                level: 4,
                trend: 2,
                seats: 0,
                flights: 2,
                weekday: 6
            }
        );
        // Too little history: level and trend unknown; nothing on sale: no features.
        let short = [Some(100), Some(90)];
        let f = Features::of(&Situation {
            days_before: 2,
            prices: &short,
            seats: 9,
            flights: 1,
            weekday: 0,
            peer_level: None,
        })
        .unwrap();
        assert_eq!(
            (f.days, f.level, f.trend, f.seats, f.flights),
            (0, 5, 3, 2, 0)
        );
        assert!(Features::of(&Situation {
            days_before: 2,
            prices: &[None],
            seats: 0,
            flights: 1,
            weekday: 0,
            peer_level: None,
        })
        .is_none());
    }

    #[test]
    fn the_shipped_model_is_the_trained_one() {
        let m = shipped();
        assert!(m.size() > 1_000 && m.series >= 10_000, "{} cells", m.size());
        assert_eq!(m.margin, MARGIN);
        // Every decision has advice: the coarsest level (days to departure) is always known.
        for days in 1..120u32 {
            let f = Features {
                days: bucket(days as f64, &[3.0, 7.0, 14.0, 21.0, 28.0, 42.0, 60.0, 90.0]),
                peer: 9,
                level: 5,
                trend: 3,
                seats: 2,
                flights: 1,
                weekday: 0,
            };
            let a = m.advise_features(&f, days).expect("advice");
            assert!(a.samples >= MIN_SAMPLES && (0.0..=1.0).contains(&a.confidence));
        }
    }

    /// A market where a price above its usual level always falls back within days, and one
    /// at it only rises: the model learns to wait in the first case and buy in the second,
    /// and following it pays less than buying at once.
    #[test]
    fn it_learns_to_wait_on_spikes_and_buy_at_the_usual_price() {
        let mut train = vec![];
        for i in 0..200 {
            // 40 days at 100, a spike to 130 for 3 days 20 days out, back to 100, then a rise
            // to 140 over the last 6 days.
            let mut p = vec![100i64; 60];
            for (d, v) in p.iter_mut().enumerate() {
                if (20 + i % 5..23 + i % 5).contains(&d) {
                    *v = 130;
                }
                if d >= 54 {
                    *v = 140;
                }
            }
            train.push(series(&p));
        }
        let model = Model::train(&train, MARGIN);
        assert!(model.size() > 0 && model.decisions > 0);
        let test = &train[0];
        let mut history = vec![];
        // On the spike (37 days out): wait, expecting about −23 %.
        let spike = 60 - 1 - 22;
        let f = test.situation(spike, &mut history).unwrap();
        let a = model.advise_features(&f, spike as u32).unwrap();
        assert!(a.wait, "{a:?}");
        assert!(a.expected_change < -0.15, "{a:?}");
        assert!(a.confidence > 0.9, "{a:?}");
        // At the usual price, 10 days out: buy.
        let f = test.situation(10, &mut history).unwrap();
        let a = model.advise_features(&f, 10).unwrap();
        assert!(!a.wait, "{a:?}");
        let (paid, _) = model.follow(test);
        assert_eq!(
            paid[spike], 100,
            "waiting off the spike pays the usual price"
        );
        assert_eq!(paid[10], 100);
    }
}
