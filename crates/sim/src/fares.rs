//! The fare model.
//!
//! A route's typical one-way economy fare (USD) is the BTS DB1B median where the US market
//! data has the route (either direction), otherwise the curve fitted to those medians,
//! `176.8 + 0.597 · km^0.7` (the shape from a passenger-weighted least-squares fit over 20,000
//! US markets, scaled so its median ratio to the BTS medians is 1; typical error 24 %), times a regional factor (intra-Europe 0.55, intra-Asia 0.6, within
//! South America 0.7, within Oceania 0.85, within Africa 0.9, elsewhere 1.0: short-haul markets
//! outside the US are cheaper per km). It is converted at 0.92 EUR per USD.
//!
//! Each dated leg's economy fare multiplies that by:
//! - days to departure: `0.80 + 0.95 · e^(−days/9)` (1.75 on the day, 1.0 at two weeks, 0.82 at
//!   five weeks);
//! - weekday of departure: Mon 1.05, Tue 0.90, Wed 0.92, Thu 1.03, Fri 1.10, Sat 0.95, Sun 1.12;
//! - time of day (local): 00–06 0.80, 06–09 1.10, 09–16 0.97, 16–20 1.08, 20–24 0.92;
//! - load factor `lf` (share of seats sold): `0.75 + 0.5 · lf`;
//! - carrier type: low-cost 0.70, full-service 1.0;
//! - competition (carriers on the route): 1 → 1.15, 2 → 1.0, 3 → 0.93, 4+ → 0.88;
//! - noise: uniform 0.9–1.1;
//! - a calibration constant [`CALIBRATION`] that makes the median of all these factors 1, so
//!   the median simulated fare on a BTS route equals the BTS median (checked by a test).
//!
//! Cabins: premium economy 1.6×, business 2.4× (under 2,500 km) or 3.8×, first 6.5× economy.
//! Connections on one carrier or alliance are discounted by the engine's pricing rule.

use chrono::Weekday;
use spontra_domain::AirportCode;
use spontra_refdata::{RefData, FARES_US_CSV};
use std::collections::HashMap;
use std::sync::OnceLock;

pub const USD_TO_EUR: f64 = 0.92;
/// Brings the median of the dynamic factors to 1 (measured by `calibration_matches_bts`).
pub const CALIBRATION: f64 = 0.97;

/// BTS medians, USD, keyed by (origin, destination) in both directions.
fn bts() -> &'static HashMap<(AirportCode, AirportCode), f64> {
    static BTS: OnceLock<HashMap<(AirportCode, AirportCode), f64>> = OnceLock::new();
    BTS.get_or_init(|| {
        let mut m = HashMap::new();
        for line in FARES_US_CSV.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            if f.len() < 3 {
                continue;
            }
            let (Ok(o), Ok(d), Ok(median)) = (
                AirportCode::parse(f[0]),
                AirportCode::parse(f[1]),
                f[2].parse::<f64>(),
            ) else {
                continue;
            };
            m.insert((o, d), median);
            m.entry((d, o)).or_insert(median);
        }
        m
    })
}

/// The BTS median for a route, if the US data has it.
pub fn bts_median_usd(o: AirportCode, d: AirportCode) -> Option<f64> {
    bts().get(&(o, d)).copied()
}

pub fn curve_usd(km: f64) -> f64 {
    176.8 + 0.597 * km.max(0.0).powf(0.7)
}

fn region_factor(continent_o: &str, continent_d: &str) -> f64 {
    if continent_o != continent_d {
        return 1.0;
    }
    match continent_o {
        "EU" => 0.55,
        "AS" => 0.6,
        "SA" => 0.7,
        "OC" => 0.85,
        "AF" => 0.9,
        _ => 1.0,
    }
}

/// A route's typical one-way economy fare in USD.
pub fn route_base_usd(refdata: &RefData, o: AirportCode, d: AirportCode, km: f64) -> f64 {
    if let Some(m) = bts_median_usd(o, d) {
        return m;
    }
    let continent = |a: AirportCode| {
        refdata
            .airport(a)
            .and_then(|x| refdata.country(x.country))
            .map(|c| c.continent.clone())
            .unwrap_or_default()
    };
    curve_usd(km) * region_factor(&continent(o), &continent(d))
}

/// Everything a dated leg's economy fare depends on.
#[derive(Clone, Copy, Debug)]
pub struct FareInputs {
    pub base_usd: f64,
    pub low_cost: bool,
    pub carriers_on_route: u8,
    pub days_to_departure: i64,
    pub weekday: Weekday,
    /// Local departure minute of the day.
    pub local_minute: u16,
    pub load_factor: f64,
    /// Uniform in [0, 1).
    pub noise: f64,
}

pub fn days_factor(days: i64) -> f64 {
    0.80 + 0.95 * (-(days.max(0) as f64) / 9.0).exp()
}

pub fn weekday_factor(w: Weekday) -> f64 {
    match w {
        Weekday::Mon => 1.05,
        Weekday::Tue => 0.90,
        Weekday::Wed => 0.92,
        Weekday::Thu => 1.03,
        Weekday::Fri => 1.10,
        Weekday::Sat => 0.95,
        Weekday::Sun => 1.12,
    }
}

pub fn time_of_day_factor(minute: u16) -> f64 {
    match minute / 60 {
        0..=5 => 0.80,
        6..=8 => 1.10,
        9..=15 => 0.97,
        16..=19 => 1.08,
        _ => 0.92,
    }
}

pub fn competition_factor(carriers: u8) -> f64 {
    match carriers {
        0 | 1 => 1.15,
        2 => 1.0,
        3 => 0.93,
        _ => 0.88,
    }
}

/// The product of all dynamic factors (everything but the route's base fare).
pub fn dynamic_factor(i: &FareInputs) -> f64 {
    CALIBRATION
        * days_factor(i.days_to_departure)
        * weekday_factor(i.weekday)
        * time_of_day_factor(i.local_minute)
        * (0.75 + 0.5 * i.load_factor.clamp(0.0, 1.0))
        * if i.low_cost { 0.70 } else { 1.0 }
        * competition_factor(i.carriers_on_route)
        * (0.9 + 0.2 * i.noise)
}

/// Economy fare per adult in euro cents, rounded to whole euros less one cent (x9.99-style
/// prices look like real fares), at least €9.99.
pub fn economy_fare_cents(i: &FareInputs) -> u64 {
    let eur = i.base_usd * USD_TO_EUR * dynamic_factor(i);
    (eur.round().max(10.0) as u64) * 100 - 1
}

/// Multipliers of the economy fare for premium economy, business and first.
pub fn cabin_multipliers(km: f64) -> [f64; 3] {
    [1.6, if km < 2500.0 { 2.4 } else { 3.8 }, 6.5]
}

/// Share of seats sold: fuller as departure nears and at weekends.
pub fn load_factor(days_to_departure: i64, weekend: bool, noise: f64) -> f64 {
    let closeness = 1.0 - (days_to_departure.max(0) as f64 / 45.0).min(1.0);
    (0.42 + 0.5 * closeness + if weekend { 0.05 } else { 0.0 } + 0.25 * (noise - 0.5))
        .clamp(0.15, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::unit;

    #[test]
    fn calibration_matches_bts() {
        // Over a spread of departure days, weekdays, times, loads and carriers, the median of
        // the dynamic factors is 1 (within 3 %): so the median simulated fare on a BTS route
        // is the BTS median.
        let mut f: Vec<f64> = (0..20_000u64)
            .map(|i| {
                let days = (i % 35) as i64;
                let weekday = Weekday::try_from((i % 7) as u8).unwrap_or(Weekday::Mon);
                let lf = load_factor(
                    days,
                    matches!(weekday, Weekday::Sat | Weekday::Sun),
                    unit(&[i, 1]),
                );
                dynamic_factor(&FareInputs {
                    base_usd: 100.0,
                    low_cost: unit(&[i, 2]) < 0.25,
                    carriers_on_route: 1 + (unit(&[i, 3]) * 4.0) as u8,
                    days_to_departure: days,
                    weekday,
                    local_minute: (360.0 + unit(&[i, 4]) * 960.0) as u16,
                    load_factor: lf,
                    noise: unit(&[i, 5]),
                })
            })
            .collect();
        f.sort_by(f64::total_cmp);
        let median = f[f.len() / 2];
        assert!((median - 1.0).abs() < 0.03, "median factor {median}");
    }

    #[test]
    fn the_fitted_curve_tracks_bts_medians() {
        let refdata = RefData::load().unwrap();
        let mut ratios: Vec<f64> = FARES_US_CSV
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                let (a, b) = (
                    refdata.airport(AirportCode::parse(f[0]).ok()?)?,
                    refdata.airport(AirportCode::parse(f[1]).ok()?)?,
                );
                let km = spontra_domain::great_circle_km(a.lat, a.lon, b.lat, b.lon);
                Some(curve_usd(km) / f[2].parse::<f64>().ok()?)
            })
            .collect();
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        assert!((median - 1.0).abs() < 0.1, "median curve/BTS {median}");
    }

    #[test]
    fn fares_rise_towards_departure_and_for_monopolies() {
        assert!(days_factor(0) > days_factor(7));
        assert!(days_factor(7) > days_factor(30));
        assert!(competition_factor(1) > competition_factor(4));
        assert!(
            economy_fare_cents(&FareInputs {
                base_usd: 10.0,
                low_cost: true,
                carriers_on_route: 4,
                days_to_departure: 30,
                weekday: Weekday::Tue,
                local_minute: 700,
                load_factor: 0.2,
                noise: 0.0,
            }) >= 999
        );
    }
}
