//! Schedules: when each service flies, on what aircraft, and at what fare.
//!
//! A service with `n` flights a week gets `ceil(n/7)` daily slots, each with a fixed local
//! departure time and a days-of-week pattern spread over the week. At a carrier's hub,
//! departures sit in banks (06:30, 09:00, 11:30, 14:00, 16:30, 19:00, 21:30 local) and flights
//! into the hub arrive about an hour before a bank, so connections line up as they do in real
//! hub-and-spoke networks. Elsewhere departures spread over 06:00–22:00; long-haul flights
//! from outside hubs leave mostly in the evening. Block time is `32 min + 0.0735 min/km`, 6 %
//! longer flying west and 4 % shorter flying east (prevailing winds), rounded to 5 minutes.
//! No flight leaves or lands within an airport's night curfew (`data/curfews.csv`): a slot that
//! would is moved to the nearest time both ends allow.

use crate::fares::{self, FareInputs};
use crate::network::{Network, RouteService};
use crate::rng::{code3, hash, unit};
use crate::WorldConfig;
use chrono::{Datelike, Days, Weekday};
use spontra_domain::{utc_minute, CarrierCode};
use spontra_engine::{IndexBuilder, LegInput};
use spontra_refdata::RefData;
use std::collections::HashMap;

/// An aircraft type, its seats per cabin (economy, premium economy, business, first) and the
/// longest route it flies, km.
#[derive(Clone, Copy, Debug)]
pub struct Aircraft {
    pub name: &'static str,
    pub seats: [u16; 4],
    pub range_km: f64,
}

pub const AIRCRAFT: [Aircraft; 16] = [
    Aircraft {
        name: "ATR 72-600",
        seats: [70, 0, 0, 0],
        range_km: 1500.0,
    },
    Aircraft {
        name: "Embraer E190",
        seats: [88, 0, 12, 0],
        range_km: 4000.0,
    },
    Aircraft {
        name: "Airbus A320neo",
        seats: [186, 0, 0, 0],
        range_km: 6300.0,
    },
    Aircraft {
        name: "Boeing 737-800",
        seats: [189, 0, 0, 0],
        range_km: 5400.0,
    },
    Aircraft {
        name: "Airbus A320",
        seats: [150, 0, 12, 0],
        range_km: 6000.0,
    },
    Aircraft {
        name: "Boeing 787-9",
        seats: [240, 21, 30, 0],
        range_km: 14000.0,
    },
    Aircraft {
        name: "Boeing 777-300ER",
        seats: [270, 24, 42, 8],
        range_km: 13600.0,
    },
    Aircraft {
        name: "Airbus A350-900",
        seats: [250, 24, 36, 0],
        range_km: 15000.0,
    },
    Aircraft {
        name: "Airbus A330-300",
        seats: [377, 0, 0, 0],
        range_km: 11000.0,
    },
    Aircraft {
        name: "Airbus A319",
        seats: [156, 0, 0, 0],
        range_km: 6900.0,
    },
    Aircraft {
        name: "Airbus A321neo",
        seats: [220, 0, 0, 0],
        range_km: 7400.0,
    },
    Aircraft {
        name: "Boeing 737-700",
        seats: [143, 0, 0, 0],
        range_km: 6000.0,
    },
    Aircraft {
        name: "Boeing 737 MAX 8",
        seats: [197, 0, 0, 0],
        range_km: 6500.0,
    },
    Aircraft {
        name: "Airbus A220-300",
        seats: [130, 0, 12, 0],
        range_km: 6000.0,
    },
    Aircraft {
        name: "Boeing 787-8",
        seats: [220, 0, 28, 0],
        range_km: 13500.0,
    },
    Aircraft {
        name: "Airbus A380-800",
        seats: [427, 0, 76, 14],
        range_km: 15000.0,
    },
];

/// Carriers' fleets (`data/fleets.csv`): the types each flies, by name from [`AIRCRAFT`].
const FLEETS_CSV: &str = include_str!("../../../data/fleets.csv");

/// Each listed carrier's types, as indices into [`AIRCRAFT`]. Panics on a type the table does
/// not know (a broken data file; a test loads it).
pub fn fleets() -> HashMap<CarrierCode, Vec<usize>> {
    FLEETS_CSV
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(','))
        .filter_map(|(carrier, types)| {
            let fleet = types
                .split(';')
                .map(|t| {
                    AIRCRAFT
                        .iter()
                        .position(|a| a.name == t.trim())
                        .unwrap_or_else(|| panic!("data/fleets.csv: unknown aircraft {t:?}"))
                })
                .collect();
            Some((CarrierCode::parse(carrier).ok()?, fleet))
        })
        .collect()
}

const BANKS: [u16; 7] = [390, 540, 690, 840, 990, 1140, 1290];

pub(crate) fn block_minutes(s: &RouteService, west: bool) -> i64 {
    let wind = if west { 1.06 } else { 0.96 };
    let m = 32.0 + s.km * 0.0735 * wind;
    ((m / 5.0).round() as i64 * 5).max(35)
}

/// The aircraft of a service: from the carrier's fleet when the table lists it (the
/// smallest type with the range, or the biggest on a busy route — three or more a day; the
/// longest-ranged type when none has the range), otherwise by distance and demand.
fn pick_aircraft(s: &RouteService, fleets: &HashMap<CarrierCode, Vec<usize>>) -> usize {
    let per_day = s.per_week as f64 / 7.0;
    if let Some(fleet) = fleets.get(&s.carrier) {
        let seats = |i: &usize| AIRCRAFT[*i].seats.iter().sum::<u16>();
        let able: Vec<usize> = fleet
            .iter()
            .copied()
            .filter(|&i| AIRCRAFT[i].range_km >= s.km)
            .collect();
        let pick = if per_day >= 3.0 {
            able.iter().max_by_key(|i| seats(i))
        } else {
            able.iter().min_by_key(|i| seats(i))
        };
        if let Some(&i) = pick {
            return i;
        }
        let longest = fleet
            .iter()
            .max_by(|a, b| AIRCRAFT[**a].range_km.total_cmp(&AIRCRAFT[**b].range_km));
        if let Some(&i) = longest {
            return i;
        }
    }
    let variant = (hash(&[code3(s.carrier.as_str()), 7]) % 2) as usize;
    match (s.low_cost, s.km) {
        (true, km) if km < 4500.0 => 2 + variant,
        (true, _) => 8,
        (false, km) if km < 700.0 && per_day < 3.0 => 0,
        (false, km) if km < 1500.0 && per_day < 2.0 => 1,
        (false, km) if km < 4500.0 => 4,
        (false, km) if km < 8000.0 => 5,
        (false, _) if per_day >= 2.0 => 6,
        _ => 7,
    }
}

/// Whether a departure at `dep` (local minute at the origin) and its arrival `block` minutes
/// later fall within either airport's night curfew, at the given UTC offsets.
fn breaks_curfew(
    ao: &spontra_refdata::Airport,
    ad: &spontra_refdata::Airport,
    dep: i64,
    (off_o, off_d): (i32, i32),
    block: i64,
) -> bool {
    let arr = dep - off_o as i64 + off_d as i64 + block;
    ao.curfew.as_ref().is_some_and(|c| c.covers(dep))
        || ad.curfew.as_ref().is_some_and(|c| c.covers(arr))
}

/// The departure nearest `dep` (a later one first, in 5-minute steps, within 05:30–23:35 local)
/// that breaks neither airport's curfew; `None` when no time of day does.
fn retime(
    ao: &spontra_refdata::Airport,
    ad: &spontra_refdata::Airport,
    dep: i64,
    offsets: (i32, i32),
    block: i64,
) -> Option<i64> {
    (0..288)
        .flat_map(|step| [dep + 5 * step, dep - 5 * step])
        .filter(|d| (330..=1415).contains(d))
        .find(|&d| !breaks_curfew(ao, ad, d, offsets, block))
}

fn is_westbound(lon_o: f64, lon_d: f64) -> bool {
    let delta = (lon_d - lon_o + 540.0).rem_euclid(360.0) - 180.0;
    delta < 0.0
}

/// Local departure minute for slot `i` of `n`, before any hub alignment of arrivals.
fn slot_time(seed: u64, s: &RouteService, i: u32, n: u32) -> u16 {
    let key = [
        seed,
        code3(s.origin.as_str()),
        code3(s.dest.as_str()),
        code3(s.carrier.as_str()),
        i as u64,
    ];
    let jitter = (unit(&key) * 50.0) as i32 - 20;
    let minute = if s.hub_origin {
        let bank = BANKS
            [((i as usize * BANKS.len()) / n as usize + (hash(&key) % 2) as usize) % BANKS.len()];
        bank as i32 + jitter
    } else if s.km > 5000.0 && unit(&[key[1], key[2], key[3], 99]) < 0.7 {
        // Evening long-haul departures, staggered by slot.
        1050 + ((i * 50) % 240) as i32 + jitter
    } else {
        let span = 960.0 / n as f64;
        (360.0 + (i as f64 + 0.5) * span) as i32 + jitter
    };
    ((minute.clamp(330, 1415) / 5) * 5) as u16
}

/// Days of the week (Mon = 0) slot `i` operates, given its weekly count.
fn slot_days(seed: u64, s: &RouteService, i: u32, weekly: u32) -> [bool; 7] {
    let mut days = [false; 7];
    if weekly >= 7 {
        return [true; 7];
    }
    let h = hash(&[
        seed,
        code3(s.origin.as_str()),
        code3(s.dest.as_str()),
        code3(s.carrier.as_str()),
        i as u64,
        1,
    ]);
    let stride = [1, 2, 3][(h % 3) as usize];
    let start = (h >> 8) % 7;
    for j in 0..weekly as u64 {
        days[((start + j * stride) % 7) as usize] = true;
    }
    days
}

/// Generate every dated leg into `builder`; returns how many.
pub(crate) fn generate_legs(
    refdata: &RefData,
    network: &Network,
    config: &WorldConfig,
    builder: &mut IndexBuilder,
) -> usize {
    let seed = config.seed;
    let days = config.days as i64;
    let first = (config.first_day as i64).min(days);
    // UTC offset of each airport on day 0 (what a flight's local time is chosen at) and on each
    // day generated, at local noon.
    let mut offsets: HashMap<spontra_domain::AirportCode, (i32, Vec<i32>)> = HashMap::new();
    let mut flight_numbers: HashMap<CarrierCode, u16> = HashMap::new();
    let fleets = fleets();
    let aircraft_ids: Vec<u8> = AIRCRAFT
        .iter()
        .map(|a| builder.aircraft_id(a.name))
        .collect();
    builder.reserve_legs(
        network
            .services
            .iter()
            .map(|s| s.per_week as usize)
            .sum::<usize>()
            * (days - first) as usize
            / 7
            + 1024,
    );
    let mut count = 0usize;
    for s in &network.services {
        let (Some(ao), Some(ad)) = (refdata.airport(s.origin), refdata.airport(s.dest)) else {
            continue;
        };
        let (Some(o_id), Some(d_id), Some(c_id)) = (
            builder.airport_id(s.origin),
            builder.airport_id(s.dest),
            builder.carrier_id(s.carrier),
        ) else {
            continue;
        };
        for a in [ao, ad] {
            offsets.entry(a.code).or_insert_with(|| {
                let at = |d: i64| {
                    let date = config.start + Days::new(d as u64);
                    spontra_refdata::offset_minutes_at(a.tz, utc_minute(date, 720))
                };
                (at(0), (first..days).map(at).collect())
            });
        }
        let ((off_o0, off_o), (off_d0, off_d)) = (&offsets[&s.origin], &offsets[&s.dest]);
        let (off_o0, off_d0) = (*off_o0, *off_d0);
        let west = is_westbound(ao.lon, ad.lon);
        let block = block_minutes(s, west);
        let picked = pick_aircraft(s, &fleets);
        let aircraft = AIRCRAFT[picked];
        let multipliers = fares::cabin_multipliers(s.km);
        let slots = s.per_week.div_ceil(7);
        for i in 0..slots {
            let weekly = s.per_week / slots + u32::from(i < s.per_week % slots);
            let pattern = slot_days(seed, s, i, weekly);
            let counter = flight_numbers
                .entry(s.carrier)
                .or_insert(100 + (hash(&[code3(s.carrier.as_str())]) % 50) as u16 * 10);
            let flight_number = *counter;
            *counter = if *counter >= 9899 { 100 } else { *counter + 1 };
            let mut local = slot_time(seed, s, i, slots) as i64;
            if s.hub_dest && !s.hub_origin {
                // Arrive at the hub about an hour before a bank (in the hub's local time).
                let bank =
                    BANKS[(i as usize * BANKS.len() / slots as usize + 1) % BANKS.len()] as i64;
                let arrive_local = bank
                    - 55
                    - (unit(&[seed, code3(s.origin.as_str()), i as u64, 3]) * 20.0) as i64;
                let dep_local = arrive_local - off_d0 as i64 - block + off_o0 as i64;
                if (330..=1415).contains(&dep_local) {
                    local = dep_local / 5 * 5;
                }
            }
            // Night curfews (LHR, FRA, SYD, ...): the nearest time both ends allow.
            let Some(local) = retime(ao, ad, local, (off_o0, off_d0), block) else {
                continue;
            };
            for day in first..days {
                let date = config.start + Days::new(day as u64);
                let weekday = date.weekday();
                if !pattern[weekday.num_days_from_monday() as usize] {
                    continue;
                }
                let at = (day - first) as usize;
                let offsets = (off_o[at], off_d[at]);
                if breaks_curfew(ao, ad, local, offsets, block) {
                    // A clock change since day 0 moved it into the curfew: not flown that day.
                    continue;
                }
                let departure = utc_minute(date, local) - off_o[at] as i64;
                let key = [
                    seed,
                    code3(s.origin.as_str()),
                    code3(s.dest.as_str()),
                    code3(s.carrier.as_str()),
                    i as u64,
                    day as u64,
                ];
                let weekend = matches!(weekday, Weekday::Fri | Weekday::Sat | Weekday::Sun);
                let lf = fares::load_factor(day, weekend, unit(&key));
                let economy = fares::economy_fare_cents(&FareInputs {
                    base_usd: s.base_fare_usd,
                    low_cost: s.low_cost,
                    carriers_on_route: s.carriers_on_route,
                    days_to_departure: day,
                    weekday,
                    local_minute: local as u16,
                    load_factor: lf,
                    noise: unit(&[key[0], key[1], key[2], key[3], key[4], key[5], 2]),
                });
                let mut fares = [Some(economy), None, None, None];
                let mut seats = [0u8; 4];
                for c in 0..4 {
                    let cap = aircraft.seats[c] as f64;
                    if cap == 0.0 {
                        continue;
                    }
                    if c > 0 {
                        fares[c] = Some((economy as f64 * multipliers[c - 1]).round() as u64);
                    }
                    let cabin_lf = (lf + 0.2 * (unit(&[key[1], key[5], c as u64, key[4]]) - 0.5))
                        .clamp(0.0, 1.0);
                    seats[c] = (cap * (1.0 - cabin_lf)).floor().min(15.0) as u8;
                }
                let leg = LegInput {
                    carrier: c_id,
                    flight_number,
                    origin: o_id,
                    destination: d_id,
                    departure,
                    arrival: departure + block,
                    aircraft: aircraft_ids[picked],
                    fares,
                    seats,
                };
                if builder.add_leg(leg).is_ok() {
                    count += 1;
                }
            }
        }
    }
    count
}
