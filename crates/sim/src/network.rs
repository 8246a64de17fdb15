//! The network: which carrier flies which route how often.
//!
//! Routes come from the OpenFlights route data, with defunct carriers' services given to their
//! successors or dropped (`RefData::flying_carrier`). Airports with scheduled service but fewer than
//! two routes there get a gravity-model fill: links to the two airports with the highest
//! `size / distance²` within 2,500 km, flown by the carrier with most routes in the country.
//! Weekly frequencies follow demand `sqrt(w_o · w_d) · distance factor / carriers^0.3`
//! (w = an airport's route count), scaled so the full world has about 100,000 flights a day.

use crate::fares;
use crate::rng::{code3, unit};
use crate::Scale;
use spontra_domain::{great_circle_km, AirportCode, CarrierCode};
use spontra_refdata::{RefData, ROUTES_CSV};
use std::collections::{HashMap, HashSet};

/// Flights per day the full-scale world aims for.
pub const FULL_WORLD_FLIGHTS_PER_DAY: f64 = 100_000.0;

/// One carrier's service on one directed route.
#[derive(Clone, Debug)]
pub struct RouteService {
    pub origin: AirportCode,
    pub dest: AirportCode,
    pub carrier: CarrierCode,
    pub per_week: u32,
    pub km: f64,
    pub carriers_on_route: u8,
    pub low_cost: bool,
    /// The carrier's hubs (its two busiest airports) at either end.
    pub hub_origin: bool,
    pub hub_dest: bool,
    /// The route's typical one-way economy fare, USD, before dynamic factors.
    pub base_fare_usd: f64,
}

pub struct Network {
    pub services: Vec<RouteService>,
}

struct Raw {
    o: AirportCode,
    d: AirportCode,
    c: CarrierCode,
}

impl Network {
    pub fn build(refdata: &RefData, scale: Scale, seed: u64) -> Network {
        let mut raw: Vec<Raw> = Vec::new();
        let mut seen: HashSet<(AirportCode, AirportCode, CarrierCode)> = HashSet::new();
        let mut add = |raw: &mut Vec<Raw>, o: AirportCode, d: AirportCode, c: CarrierCode| {
            if o != d && seen.insert((o, d, c)) {
                raw.push(Raw { o, d, c });
            }
        };
        for line in ROUTES_CSV.lines().skip(1) {
            let mut parts = line.split(',');
            let (Some(o), Some(d), Some(cs)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let (Ok(o), Ok(d)) = (AirportCode::parse(o), AirportCode::parse(d)) else {
                continue;
            };
            if refdata.airport(o).is_none() || refdata.airport(d).is_none() {
                continue;
            }
            for c in cs.split(' ') {
                // The route data is about ten years old: defunct carriers' services are flown by
                // their successors, or dropped (`data/carrier_successors.csv`).
                let flying = CarrierCode::parse(c)
                    .ok()
                    .and_then(|c| refdata.flying_carrier(c));
                if let Some(c) = flying {
                    if refdata.airline(c).is_some() {
                        add(&mut raw, o, d, c);
                    }
                }
            }
        }
        drop_codeshares(refdata, &mut raw);
        gravity_fill(refdata, &mut raw, &mut add);

        // Hubs: each carrier's two airports with most departures.
        let mut per_carrier: HashMap<CarrierCode, HashMap<AirportCode, u32>> = HashMap::new();
        let mut on_route: HashMap<(AirportCode, AirportCode), u8> = HashMap::new();
        for r in &raw {
            *per_carrier.entry(r.c).or_default().entry(r.o).or_default() += 1;
            *on_route.entry((r.o, r.d)).or_default() += 1;
        }
        let hubs: HashMap<CarrierCode, Vec<AirportCode>> = per_carrier
            .into_iter()
            .map(|(c, m)| {
                let mut v: Vec<(u32, AirportCode)> = m.into_iter().map(|(a, n)| (n, a)).collect();
                v.sort_by(|a, b| b.cmp(a));
                (
                    c,
                    v.into_iter()
                        .filter(|x| x.0 >= 8)
                        .take(2)
                        .map(|x| x.1)
                        .collect(),
                )
            })
            .collect();

        let weight = |a: AirportCode| {
            refdata
                .airport(a)
                .map(|x| x.routes as f64 + 1.0)
                .unwrap_or(1.0)
        };
        let demand: Vec<f64> = raw
            .iter()
            .map(|r| {
                let (a, b) = (refdata.airport(r.o), refdata.airport(r.d));
                let km = match (a, b) {
                    (Some(a), Some(b)) => great_circle_km(a.lat, a.lon, b.lat, b.lon),
                    _ => 1000.0,
                };
                let distance_factor = if km < 1500.0 {
                    1.0
                } else if km < 4000.0 {
                    0.7
                } else {
                    0.45
                };
                let carriers = on_route.get(&(r.o, r.d)).copied().unwrap_or(1) as f64;
                (weight(r.o) * weight(r.d)).sqrt() * distance_factor / carriers.powf(0.3)
            })
            .collect();
        let k = calibrate(&raw, &demand, refdata);

        let keep: HashSet<AirportCode> = {
            let mut v: Vec<_> = refdata.airports().iter().collect();
            v.sort_by(|a, b| b.routes.cmp(&a.routes).then(a.code.cmp(&b.code)));
            v.into_iter()
                .take(scale.airports())
                .map(|a| a.code)
                .collect()
        };
        let mut services = Vec::new();
        for (r, dem) in raw.iter().zip(&demand) {
            if !keep.contains(&r.o) || !keep.contains(&r.d) {
                continue;
            }
            let (Some(a), Some(b)) = (refdata.airport(r.o), refdata.airport(r.d)) else {
                continue;
            };
            let km = great_circle_km(a.lat, a.lon, b.lat, b.lon);
            let per_day = daily(k * dem, km) * scale.frequency_factor();
            // Stochastic rounding, so thin routes still get some weekly flights.
            let week = per_day * 7.0;
            let jitter = unit(&[
                seed,
                code3(r.o.as_str()),
                code3(r.d.as_str()),
                code3(r.c.as_str()),
            ]);
            let per_week =
                (week.floor() + if jitter < week.fract() { 1.0 } else { 0.0 }).max(1.0) as u32;
            let hub = hubs.get(&r.c);
            services.push(RouteService {
                origin: r.o,
                dest: r.d,
                carrier: r.c,
                per_week,
                km,
                carriers_on_route: on_route.get(&(r.o, r.d)).copied().unwrap_or(1),
                low_cost: refdata.airline(r.c).is_some_and(|x| x.low_cost),
                hub_origin: hub.is_some_and(|h| h.contains(&r.o)),
                hub_dest: hub.is_some_and(|h| h.contains(&r.d)),
                base_fare_usd: fares::route_base_usd(refdata, r.o, r.d, km),
            });
        }
        services.sort_by_key(|s| (s.carrier, s.origin, s.dest));
        Network { services }
    }

    pub fn airports_served(&self) -> usize {
        let set: HashSet<AirportCode> = self
            .services
            .iter()
            .flat_map(|s| [s.origin, s.dest])
            .collect();
        set.len()
    }

    pub fn carriers_used(&self) -> usize {
        let set: HashSet<CarrierCode> = self.services.iter().map(|s| s.carrier).collect();
        set.len()
    }
}

/// Flights per day on one service for a scaled demand, capped by what one carrier flies on a
/// route of that length.
fn daily(scaled_demand: f64, km: f64) -> f64 {
    let cap = if km < 1500.0 {
        14.0
    } else if km < 5000.0 {
        6.0
    } else {
        3.0
    };
    scaled_demand.clamp(0.3, cap)
}

/// Find the demand multiplier for which the full network flies the target flights per day.
fn calibrate(raw: &[Raw], demand: &[f64], refdata: &RefData) -> f64 {
    let kms: Vec<f64> = raw
        .iter()
        .map(|r| match (refdata.airport(r.o), refdata.airport(r.d)) {
            (Some(a), Some(b)) => great_circle_km(a.lat, a.lon, b.lat, b.lon),
            _ => 1000.0,
        })
        .collect();
    let total = |k: f64| -> f64 {
        demand
            .iter()
            .zip(&kms)
            .map(|(d, km)| daily(k * d, *km))
            .sum()
    };
    let (mut lo, mut hi) = (1e-6, 10.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if total(mid) < FULL_WORLD_FLIGHTS_PER_DAY {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The route data lists marketing carriers, codeshares included (American "flying" London–
/// Vienna). A carrier based in neither end's country that shares a route with an alliance
/// partner based at one end is taken to be a codeshare and dropped, so each flight is flown
/// once, by its operator.
fn drop_codeshares(refdata: &RefData, raw: &mut Vec<Raw>) {
    let country_by_name: HashMap<String, spontra_domain::CountryCode> = refdata
        .airports()
        .iter()
        .filter_map(|a| {
            refdata
                .country(a.country)
                .map(|c| (c.name.to_lowercase(), a.country))
        })
        .collect();
    let home = |c: CarrierCode| {
        refdata
            .airline(c)
            .and_then(|a| country_by_name.get(&a.country.to_lowercase()).copied())
    };
    let country = |a: AirportCode| refdata.airport(a).map(|x| x.country);
    let mut on_route: HashMap<(AirportCode, AirportCode), Vec<CarrierCode>> = HashMap::new();
    for r in raw.iter() {
        on_route.entry((r.o, r.d)).or_default().push(r.c);
    }
    let based_at_end = |c: CarrierCode, o: AirportCode, d: AirportCode| {
        home(c).is_some_and(|h| Some(h) == country(o) || Some(h) == country(d))
    };
    raw.retain(|r| {
        if based_at_end(r.c, r.o, r.d) {
            return true;
        }
        let alliance = refdata.airline(r.c).and_then(|a| a.alliance);
        let partner_based = on_route.get(&(r.o, r.d)).is_some_and(|cs| {
            cs.iter().any(|&p| {
                p != r.c
                    && alliance.is_some()
                    && refdata.airline(p).and_then(|a| a.alliance) == alliance
                    && based_at_end(p, r.o, r.d)
            })
        });
        !partner_based
    });
}

fn gravity_fill(
    refdata: &RefData,
    raw: &mut Vec<Raw>,
    add: &mut impl FnMut(&mut Vec<Raw>, AirportCode, AirportCode, CarrierCode),
) {
    let mut out_count: HashMap<AirportCode, u32> = HashMap::new();
    let mut country_carriers: HashMap<spontra_domain::CountryCode, HashMap<CarrierCode, u32>> =
        HashMap::new();
    for r in raw.iter() {
        *out_count.entry(r.o).or_default() += 1;
        if let Some(a) = refdata.airport(r.o) {
            *country_carriers
                .entry(a.country)
                .or_default()
                .entry(r.c)
                .or_default() += 1;
        }
    }
    let flag_carrier = |country| -> Option<CarrierCode> {
        country_carriers
            .get(&country)?
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(c, _)| *c)
    };
    let hubs: Vec<_> = refdata
        .airports()
        .iter()
        .filter(|a| a.routes >= 40)
        .collect();
    for a in refdata.airports() {
        if out_count.get(&a.code).copied().unwrap_or(0) >= 2 {
            continue;
        }
        let mut cands: Vec<(f64, AirportCode)> = hubs
            .iter()
            .filter(|h| h.code != a.code)
            .filter_map(|h| {
                let km = great_circle_km(a.lat, a.lon, h.lat, h.lon);
                (km <= 2500.0).then(|| ((h.routes as f64) / km.max(50.0).powi(2), h.code))
            })
            .collect();
        cands.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        for (_, h) in cands.into_iter().take(2) {
            let carrier = flag_carrier(a.country)
                .or_else(|| refdata.airport(h).and_then(|ha| flag_carrier(ha.country)));
            if let Some(c) = carrier {
                add(raw, a.code, h, c);
                add(raw, h, a.code, c);
            }
        }
    }
}
