#![allow(clippy::unwrap_used, clippy::expect_used)] // test and benchmark code may panic
//! The engine against a slow, obviously-correct reference search on random small networks:
//! same itineraries, same Pareto sets, same MCT rules, same explore answers.

use chrono::NaiveDate;
use proptest::prelude::*;
use spontra_domain::{
    great_circle_km, utc_minute, AirportCode, Alliance, Cabin, CarrierCode, CountryCode,
    CurrencyCode, DayWindow, Passengers,
};
use spontra_engine::*;
use std::collections::{BTreeSet, HashSet};

/// A tiny deterministic generator, so a failing seed reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

struct World {
    index: Index,
    specs: Vec<AirportSpec>,
    day0: NaiveDate,
}

const CODES: [&str; 8] = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH"];

fn world(seed: u64) -> World {
    let mut rng = Rng(seed);
    let day0 = NaiveDate::from_ymd_opt(2026, 3, 27).unwrap_or_default();
    let epoch = utc_minute(day0, 0) - 1440;
    let mut b = IndexBuilder::new(CurrencyCode::parse("EUR").unwrap(), epoch);
    let n_airports = 5 + rng.below(4) as usize;
    let mut specs = vec![];
    for (i, code) in CODES.iter().take(n_airports).enumerate() {
        // Airports 0 and 1 form city XAA; 2 and 3 sometimes form XBB.
        let city = match i {
            0 | 1 => Some("XAA"),
            2 | 3 if seed.is_multiple_of(2) => Some("XBB"),
            _ => None,
        };
        let offset = [-300, 0, 60, 330][i % 4];
        // One airport changes offset (daylight saving) inside the window.
        let mut offsets = vec![(epoch - 10_000, offset)];
        if i == 2 {
            offsets.push((utc_minute(day0, 60), offset + 60));
        }
        let spec = AirportSpec {
            code: AirportCode::parse(code).unwrap(),
            city: city.map(|c| AirportCode::parse(c).unwrap()),
            country: CountryCode::parse(if i < 4 { "AA" } else { "BB" }).unwrap(),
            mct_domestic: 20 + 10 * (i as u16 % 3),
            mct_international: 45 + 15 * (i as u16 % 2),
            // Spread over a continent-sized area, so the circuity rule both admits and refuses
            // connections.
            lat: rng.below(80) as f64 - 40.0,
            lon: rng.below(120) as f64 - 60.0,
            offsets,
        };
        specs.push(spec.clone());
        b.add_airport(spec).unwrap();
    }
    let carriers = [
        ("C1", Some(Alliance::StarAlliance)),
        ("C2", Some(Alliance::StarAlliance)),
        ("C3", None),
        ("C4", Some(Alliance::SkyTeam)),
    ];
    for (c, a) in carriers {
        b.add_carrier(CarrierSpec {
            code: CarrierCode::parse(c).unwrap(),
            alliance: a,
        })
        .unwrap();
    }
    let ac = b.aircraft_id("A320");
    let n_legs = 60 + rng.below(160);
    for _ in 0..n_legs {
        let o = rng.below(n_airports as u64) as u16;
        let mut d = rng.below(n_airports as u64) as u16;
        if d == o {
            d = (d + 1) % n_airports as u16;
        }
        // Five-minute granularity makes connections land exactly on their MCT now and then.
        let dep = utc_minute(day0, 0) - 600 + 5 * rng.below(2 * 288) as i64;
        let dur = 30 + 5 * rng.below(80) as i64;
        let fare = 1000 + rng.below(30000);
        let seats = [
            rng.below(10) as u8,
            4,
            if rng.chance(50) { 2 } else { 0 },
            0,
        ];
        let fares = [
            Some(fare),
            Some(fare * 16 / 10),
            if seats[2] > 0 { Some(fare * 3) } else { None },
            None,
        ];
        b.add_leg(LegInput {
            carrier: rng.below(4) as u16,
            flight_number: rng.below(9000) as u16 + 1,
            origin: o,
            destination: d,
            departure: dep,
            arrival: dep + dur,
            aircraft: ac,
            fares,
            seats,
        })
        .unwrap();
    }
    World {
        index: b.build(),
        specs,
        day0,
    }
}

// ---------------------------------------------------------------- the reference search

fn offset(spec: &AirportSpec, utc: i64) -> i64 {
    spec.offsets
        .iter()
        .rfind(|(from, _)| *from <= utc)
        .map(|o| o.1 as i64)
        .unwrap_or(0)
}

fn local(w: &World, a: u16, t: u32) -> (i64, u16) {
    let utc = w.index.to_utc(t);
    let l = utc + offset(&w.specs[a as usize], utc);
    (l.div_euclid(1440), l.rem_euclid(1440) as u16)
}

fn allied(w: &World, a: u16, b: u16) -> bool {
    a == b
        || (w.index.carrier_alliance(a).is_some()
            && w.index.carrier_alliance(a) == w.index.carrier_alliance(b))
}

/// MCT between two legs, straight from the documented rules.
fn reference_mct(w: &World, prev: &Leg, next: &Leg) -> Option<(u32, u8)> {
    let s = &w.specs;
    let same_city = s[prev.dest as usize].city.is_some()
        && s[prev.dest as usize].city == s[next.origin as usize].city;
    if prev.dest != next.origin && !same_city {
        return None;
    }
    let at = &s[next.origin as usize];
    let domestic = [prev.origin, prev.dest, next.dest]
        .iter()
        .all(|&x| s[x as usize].country == at.country);
    let mut mct = if domestic {
        at.mct_domestic
    } else {
        at.mct_international
    } as u32;
    let mut flags = 0;
    if !allied(w, prev.carrier, next.carrier) {
        mct += SELF_TRANSFER_EXTRA_MINUTES;
        flags |= FLAG_SELF_TRANSFER;
    }
    if prev.dest != next.origin {
        mct = mct.max(AIRPORT_CHANGE_MINUTES);
        flags |= FLAG_AIRPORT_CHANGE;
    }
    Some((mct, flags))
}

fn reference(w: &World, q: &SliceQuery, f: &Filters) -> BTreeSet<(Vec<LegId>, u64, u8)> {
    let idx = &w.index;
    let n = idx.leg_count() as u32;
    let cabin = f.cabin.index();
    let ok_leg = |l: &Leg| {
        let c = l.carrier;
        let alliance = idx.carrier_alliance(c);
        (f.carriers_include.is_empty() || f.carriers_include.contains(&c))
            && !f.carriers_exclude.contains(&c)
            && (f.alliances_include.is_empty()
                || alliance.is_some_and(|a| f.alliances_include.contains(&a)))
            && !alliance.is_some_and(|a| f.alliances_exclude.contains(&a))
            && l.fare_for(cabin).is_some()
            && l.seats_left(cabin) >= f.passengers.seats()
    };
    // No connection in the origin's or the destination's city.
    let same_city = |a: u16, b: u16| {
        a == b
            || (w.specs[a as usize].city.is_some()
                && w.specs[a as usize].city == w.specs[b as usize].city)
    };
    let layover_ok = |a: u16| {
        !q.origins
            .iter()
            .chain(&q.destinations)
            .any(|&x| same_city(a, x))
            && (f.layovers_include.is_empty() || f.layovers_include.contains(&a))
            && !f.layovers_exclude.contains(&a)
    };
    let day = utc_minute(q.date, 0).div_euclid(1440);
    let mut out = BTreeSet::new();
    let mut paths: Vec<Vec<LegId>> = (0..n).map(|i| vec![i]).collect();
    // Every sequence of up to three legs in which each leg leaves from where the previous one
    // landed (or from another airport of that city); all other rules are checked below.
    let touches = |a: &Leg, b: &Leg| reference_mct(w, a, b).is_some();
    let mut frontier = paths.clone();
    for _ in 0..2 {
        let mut longer = vec![];
        for p in &frontier {
            let last = idx.leg(p[p.len() - 1]);
            for i in 0..n {
                if touches(last, idx.leg(i)) {
                    let mut x = p.clone();
                    x.push(i);
                    longer.push(x);
                }
            }
        }
        paths.extend(longer.iter().cloned());
        frontier = longer;
    }
    for p in paths.iter().filter(|p| p.len() <= f.max_stops as usize + 1) {
        let legs: Vec<&Leg> = p.iter().map(|&i| idx.leg(i)).collect();
        let first = legs[0];
        let last = legs[legs.len() - 1];
        if !q.origins.contains(&first.origin) || !q.destinations.contains(&last.dest) {
            continue;
        }
        let (d, m) = local(w, first.origin, first.dep);
        if d != day || !f.departure_window.contains(m) || !legs.iter().all(|l| ok_leg(l)) {
            continue;
        }
        let mut flags = 0;
        let mut valid = true;
        let mut airports = vec![first.origin];
        for pair in legs.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            match reference_mct(w, a, b) {
                Some((mct, fl))
                    if b.dep >= a.arr() + mct && b.dep - a.arr() <= f.max_layover_minutes =>
                {
                    flags |= fl
                }
                _ => valid = false,
            }
            if !layover_ok(a.dest) || !layover_ok(b.origin) {
                valid = false;
            }
            airports.push(a.dest);
            if b.origin != a.dest {
                airports.push(b.origin);
            }
        }
        airports.push(last.dest);
        let distinct: HashSet<u16> = airports.iter().copied().collect();
        if !valid || distinct.len() != airports.len() {
            continue;
        }
        // Circuity: the legs' great-circle distances against the first airport to the last.
        let km = |a: u16, b: u16| {
            let (a, b) = (&w.specs[a as usize], &w.specs[b as usize]);
            great_circle_km(a.lat, a.lon, b.lat, b.lon).round() as u32
        };
        let flown: u32 = legs.iter().map(|l| km(l.origin, l.dest)).sum();
        if flown > circuity::max_flown_km(km(first.origin, last.dest)) {
            continue;
        }
        let Some(fare) = adult_fare(idx, &legs, cabin) else {
            continue;
        };
        let price = f.passengers.total_for(fare);
        let duration = last.arr() - first.dep;
        let (_, am) = local(w, last.dest, last.arr());
        if price > f.max_price.unwrap_or(u64::MAX)
            || duration > f.max_duration_minutes.unwrap_or(u32::MAX)
            || f.duration_range.is_some_and(|r| !r.contains(duration))
            || !f.arrival_window.contains(am)
        {
            continue;
        }
        out.insert((p.clone(), price, flags));
    }
    out
}

fn dominated(a: (u64, u32, u32), b: (u64, u32, u32)) -> bool {
    b.0 <= a.0 && b.1 <= a.1 && b.2 <= a.2 && a != b
}

// ---------------------------------------------------------------- random queries

fn random_query(w: &World, rng: &mut Rng) -> (SliceQuery, Filters) {
    let n = w.index.airport_count() as u16;
    let origins = if rng.chance(25) {
        vec![0, 1]
    } else {
        vec![rng.below(n as u64) as u16]
    };
    let mut dest = rng.below(n as u64) as u16;
    while origins.contains(&dest) {
        dest = (dest + 1) % n;
    }
    let date = w.day0 + chrono::Days::new(rng.below(2));
    let mut f = Filters {
        max_stops: rng.below(3) as u8,
        max_layover_minutes: [120, 300, 720][rng.below(3) as usize],
        ..Filters::default()
    };
    if rng.chance(20) {
        f.carriers_exclude = vec![rng.below(4) as u16];
    }
    if rng.chance(15) {
        f.alliances_include = vec![Alliance::StarAlliance];
    }
    if rng.chance(15) {
        f.layovers_exclude = vec![rng.below(n as u64) as u16];
    }
    if rng.chance(10) {
        f.layovers_include = vec![rng.below(n as u64) as u16, rng.below(n as u64) as u16];
    }
    if rng.chance(20) {
        f.max_price = Some(20_000 + rng.below(60_000));
    }
    if rng.chance(20) {
        f.departure_window = DayWindow {
            from_minute: 360,
            to_minute: 1200,
        };
    }
    if rng.chance(15) {
        f.arrival_window = DayWindow {
            from_minute: 480,
            to_minute: 1380,
        };
    }
    if rng.chance(15) {
        f.max_duration_minutes = Some(600);
    }
    if rng.chance(20) {
        f.cabin = Cabin::Business;
    }
    if rng.chance(30) {
        f.passengers = Passengers::new(2, 1, 1).unwrap();
    }
    (
        SliceQuery {
            origins,
            destinations: vec![dest],
            date,
        },
        f,
    )
}

/// Random update batches, as the market sends them: fares up and down (some far below the
/// route's cheapest so far), seats selling out and coming back, and late observations that must
/// change nothing. Checks that each updated leg ends with its latest observation, that every
/// route's cheapest fare is exact again, and that legs are found by their identity.
fn update(w: &mut World, rng: &mut Rng) -> Result<(), TestCaseError> {
    let n = w.index.leg_count() as u64;
    let mut latest: std::collections::HashMap<LegId, (i64, u32, u16)> = Default::default();
    let batches = 1 + rng.below(3) as usize;
    for b in 0..batches {
        let mut batch = vec![];
        for _ in 0..1 + rng.below(n / 2) {
            let leg = rng.below(n) as LegId;
            let old = w.index.leg(leg).fare as u64;
            let fare = match rng.below(4) {
                0 => old * (2 + rng.below(20)) / 10,
                1 => old * (10 + rng.below(30)) / 10,
                2 => 100 + rng.below(2000),
                _ => old,
            };
            // Late ones are older than the batch before.
            let observed = w.index.to_utc(0) * 60
                + 1_000
                + 100 * b as i64
                + if rng.chance(15) { -150 } else { 0 };
            batch.push(FareUpdate {
                leg,
                fare: fare.max(1) as u32,
                seats: rng.below(12) as u16,
                observed,
            });
        }
        for u in &batch {
            let e = latest.entry(u.leg).or_insert((i64::MIN, 0, 0));
            if u.observed >= e.0 {
                *e = (u.observed, u.fare, u.seats);
            }
        }
        w.index.apply(&batch);
    }
    for (&id, &(observed, fare, seats)) in &latest {
        let l = *w.index.leg(id);
        prop_assert_eq!((l.fare, l.seats_left(0) as u16), (fare, seats.min(15)));
        prop_assert_eq!(w.index.observed_at(id), Some(observed));
        let found = w.index.find_leg(
            l.origin,
            l.dest,
            w.index.to_utc(l.dep),
            l.carrier,
            l.flight_number,
        );
        prop_assert!(
            found.is_some_and(|f| w.index.leg(f) == &l),
            "leg {} is found by its identity",
            id
        );
    }
    for a in 0..w.index.airport_count() as u16 {
        for r in w.index.routes_from(a) {
            let min = (r.start..r.end).map(|i| w.index.leg(i).fare).min();
            prop_assert_eq!(Some(r.min_fare), min);
        }
    }
    Ok(())
}

/// Schedule changes on an index that has received updates: some flights cancelled, some
/// retimed (earlier, later, across midnight), some added (new frequencies, and one already
/// held, which changes nothing), a few invalid. Checks that the cancelled are gone, the
/// retimed are found at their new times with the fare, seats and observation time they had,
/// the added are found as given, nothing else moved, and every route's bound is exact.
fn reschedule(w: &mut World, rng: &mut Rng) -> Result<(), TestCaseError> {
    let before = &w.index;
    let n = before.leg_count() as u64;
    let identity = |ix: &Index, l: &Leg| {
        (
            ix.airport_code(l.origin),
            ix.airport_code(l.dest),
            ix.to_utc(l.dep),
            l.carrier,
            l.flight_number,
        )
    };
    let mut changes = vec![];
    let mut cancelled = std::collections::HashSet::new();
    let mut retimed = std::collections::HashMap::new();
    let mut touched = std::collections::HashSet::new();
    for _ in 0..1 + rng.below(n / 3) {
        let leg = rng.below(n) as LegId;
        if !touched.insert(leg) {
            continue;
        }
        if rng.chance(50) {
            changes.push(ScheduleChange::Cancel { leg });
            cancelled.insert(leg);
        } else {
            let l = before.leg(leg);
            let departure = before.to_utc(l.dep) + 5 * rng.below(300) as i64 - 700;
            let arrival = departure + l.duration as i64 + 5 * rng.below(6) as i64;
            changes.push(ScheduleChange::Retime {
                leg,
                departure,
                arrival,
            });
            retimed.insert(leg, (departure, arrival));
        }
    }
    let mut added = vec![];
    let airports = before.airport_count() as u64;
    for _ in 0..rng.below(12) {
        let o = rng.below(airports) as u16;
        let d = ((o as u64 + 1 + rng.below(airports - 1)) % airports) as u16;
        let departure = before.to_utc(0) + 1440 + 5 * rng.below(2 * 288) as i64;
        let fare = 500 + rng.below(20_000);
        let input = LegInput {
            carrier: rng.below(4) as u16,
            flight_number: 9_001 + rng.below(900) as u16,
            origin: o,
            destination: d,
            departure,
            arrival: departure + 40 + 5 * rng.below(60) as i64,
            aircraft: 0,
            fares: [Some(fare), Some(fare * 2), None, None],
            seats: [rng.below(10) as u8, 2, 0, 0],
        };
        changes.push(ScheduleChange::Add(input.clone()));
        added.push(input);
    }
    // Invalid: a flight that lands before it leaves; a leg that is not there.
    changes.push(ScheduleChange::Retime {
        leg: 0,
        departure: before.to_utc(before.leg(0).dep),
        arrival: before.to_utc(before.leg(0).dep) - 10,
    });
    changes.push(ScheduleChange::Cancel { leg: u32::MAX });
    let (after, outcome) = before.reschedule(&changes);
    prop_assert_eq!(outcome.cancelled, cancelled.len());
    // The bad retime is invalid, unless leg 0 was cancelled first (then it names nothing).
    prop_assert_eq!(outcome.invalid, usize::from(!cancelled.contains(&0)));
    prop_assert_eq!(
        after.leg_count(),
        before.leg_count() - cancelled.len() + outcome.added
    );
    prop_assert!(outcome.added <= added.len());

    // Every leg not cancelled is there, at its (new) time, with its state.
    let mut expected: std::collections::HashMap<_, (u32, u16, Option<i64>)> = Default::default();
    for id in 0..n as LegId {
        if cancelled.contains(&id) {
            continue;
        }
        let l = *before.leg(id);
        let mut key = identity(before, &l);
        if let Some(&(dep, arr)) = retimed.get(&id) {
            if arr > dep {
                key.2 = dep;
            }
        }
        expected.insert(key, (l.fare, l.seats, before.observed_at(id)));
    }
    for id in 0..after.leg_count() as LegId {
        let l = *after.leg(id);
        let key = identity(&after, &l);
        if let Some(&(fare, seats, observed)) = expected.get(&key) {
            prop_assert_eq!((l.fare, l.seats), (fare, seats));
            prop_assert_eq!(after.observed_at(id), observed);
        } else {
            prop_assert!(
                added.iter().any(|a| (
                    a.origin,
                    a.destination,
                    a.departure,
                    a.carrier,
                    a.flight_number
                ) == (
                    l.origin,
                    l.dest,
                    after.to_utc(l.dep),
                    l.carrier,
                    l.flight_number
                )),
                "leg {} is neither kept nor added",
                id
            );
            prop_assert_eq!(after.observed_at(id), None);
        }
        prop_assert_eq!(
            after.find_leg(
                l.origin,
                l.dest,
                after.to_utc(l.dep),
                l.carrier,
                l.flight_number
            ),
            Some(id)
        );
    }
    for a in 0..after.airport_count() as u16 {
        for r in after.routes_from(a) {
            let min = (r.start..r.end).map(|i| after.leg(i).fare).min();
            prop_assert_eq!(Some(r.min_fare), min);
        }
    }
    w.index = after;
    Ok(())
}

fn check_point_to_point(w: &World, rng: &mut Rng) -> Result<(), TestCaseError> {
    for _ in 0..6 {
        let (q, f) = random_query(w, rng);
        let compiled = CompiledSlice::new(&w.index, &q, &f);
        let engine: BTreeSet<(Vec<LegId>, u64, u8)> = w
            .index
            .slice_candidates(&compiled)
            .iter()
            .map(|c| (c.legs().to_vec(), c.price, c.flags))
            .collect();
        let slow = reference(w, &q, &f);
        prop_assert_eq!(&engine, &slow, "query {:?} filters {:?}", q, f);
        if std::env::var("REFERENCE_STATS").is_ok() {
            let by_len = |n| slow.iter().filter(|x| x.0.len() == n).count();
            eprintln!(
                "stats {} {} {} flags {}",
                by_len(1),
                by_len(2),
                by_len(3),
                slow.iter().filter(|x| x.2 != 0).count()
            );
        }

        // Same Pareto set.
        let crit = |legs: &[LegId], price: u64| {
            let first = w.index.leg(legs[0]);
            let last = w.index.leg(legs[legs.len() - 1]);
            (price, last.arr() - first.dep, legs.len() as u32 - 1)
        };
        let slow_front: BTreeSet<Vec<LegId>> = slow
            .iter()
            .filter(|a| {
                !slow
                    .iter()
                    .any(|b| dominated(crit(&a.0, a.1), crit(&b.0, b.1)))
            })
            .map(|a| a.0.clone())
            .collect();
        let trip = w.index.search_trip(std::slice::from_ref(&q), &f);
        let engine_front: BTreeSet<Vec<LegId>> = trip
            .iter()
            .filter(|o| o.pareto)
            .map(|o| o.slices[0].legs().to_vec())
            .collect();
        prop_assert_eq!(engine_front, slow_front);

        // The options shown: for each (origin, destination) airport pair, per first flight
        // the Pareto set, minus two-stop itineraries that a direct or one-stop itinerary of
        // the same pair beats on both price and duration.
        let as_candidate = |x: &(Vec<LegId>, u64, u8)| {
            let mut legs = [0; 3];
            legs[..x.0.len()].copy_from_slice(&x.0);
            Candidate {
                legs,
                len: x.0.len() as u8,
                flags: x.2,
                price: x.1,
                dep: w.index.leg(x.0[0]).dep,
                arr: w.index.leg(x.0[x.0.len() - 1]).arr(),
            }
        };
        let ends = |legs: &[LegId]| {
            (
                w.index.leg(legs[0]).origin,
                w.index.leg(legs[legs.len() - 1]).dest,
            )
        };
        let pairs: BTreeSet<(u16, u16)> = slow.iter().map(|x| ends(&x.0)).collect();
        let mut slow_options: BTreeSet<Vec<LegId>> = BTreeSet::new();
        for pair in pairs {
            let of_pair: Vec<&(Vec<LegId>, u64, u8)> =
                slow.iter().filter(|x| ends(&x.0) == pair).collect();
            let simple: Vec<Candidate> = of_pair
                .iter()
                .filter(|x| x.0.len() <= 2)
                .map(|x| as_candidate(x))
                .collect();
            slow_options.extend(
                group_pareto(of_pair.iter().map(|x| as_candidate(x)).collect())
                    .into_iter()
                    .filter(|c| {
                        c.len < 3
                            || !simple
                                .iter()
                                .any(|s| s.price <= c.price && s.duration() <= c.duration())
                    })
                    .map(|c| c.legs().to_vec()),
            );
        }
        let engine_options: BTreeSet<Vec<LegId>> = w
            .index
            .slice_options(&q, &f)
            .iter()
            .map(|c| c.legs().to_vec())
            .collect();
        prop_assert_eq!(engine_options, slow_options);

        // Cheapest (with its price-bound pruning) agrees with the minimum.
        let cheapest = w.index.cheapest(&compiled).map(|c| c.price);
        prop_assert_eq!(cheapest, slow.iter().map(|x| x.1).min());
    }
    Ok(())
}

fn check_explore(w: &World, rng: &mut Rng) -> Result<(), TestCaseError> {
    let (q, mut f) = random_query(w, rng);
    let o = q.origins[0];
    if rng.chance(50) {
        f.duration_range =
            spontra_domain::HoursRange::from_hours(1.0, 3.0 + rng.below(6) as f64).ok();
    }
    let dates = spontra_domain::DateRange::single(q.date);
    let hits = w.index.explore(&[o], dates, &f);
    let same_city: Vec<u16> = (0..w.index.airport_count() as u16)
        .filter(|&a| {
            a == o
                || (w.specs[a as usize].city.is_some()
                    && w.specs[a as usize].city == w.specs[o as usize].city)
        })
        .collect();
    let mut fr = f.clone();
    fr.layovers_exclude.extend(same_city.iter().copied());
    for d in 0..w.index.airport_count() as u16 {
        let slow = if same_city.contains(&d) {
            None
        } else {
            reference(
                w,
                &SliceQuery {
                    origins: vec![o],
                    destinations: vec![d],
                    date: q.date,
                },
                &fr,
            )
            .iter()
            .map(|x| x.1)
            .min()
        };
        let fast = hits
            .iter()
            .find(|h| h.destination == d)
            .map(|h| h.best.price);
        prop_assert_eq!(fast, slow, "destination {} filters {:?}", d, f);
    }
    Ok(())
}

/// A round trip between "cities" (two origin airports) holds every combination each airport
/// pair's own round trip finds, and its options are each one of those or a combination across
/// the airports.
fn check_city_round_trip(w: &World, rng: &mut Rng) -> Result<(), TestCaseError> {
    for _ in 0..4 {
        let (out, f) = random_query(w, rng);
        let mut out = out;
        if out.origins.len() == 1 {
            let other = (out.origins[0] + 1) % w.index.airport_count() as u16;
            if out.destinations.contains(&other) {
                continue;
            }
            out.origins.push(other);
        }
        let back = SliceQuery {
            origins: out.destinations.clone(),
            destinations: out.origins.clone(),
            date: out.date + chrono::Days::new(rng.below(2)),
        };
        let city = w.index.search_trip(&[out.clone(), back.clone()], &f);
        let city_set: BTreeSet<Vec<Vec<LegId>>> = city
            .iter()
            .map(|o| o.slices.iter().map(|c| c.legs().to_vec()).collect())
            .collect();
        prop_assert_eq!(city_set.len(), city.len(), "no option twice");
        for &o in &out.origins {
            for &d in &out.destinations {
                let pair = [
                    SliceQuery {
                        origins: vec![o],
                        destinations: vec![d],
                        date: out.date,
                    },
                    SliceQuery {
                        origins: vec![d],
                        destinations: vec![o],
                        date: back.date,
                    },
                ];
                for option in w.index.search_trip(&pair, &f) {
                    let legs: Vec<Vec<LegId>> =
                        option.slices.iter().map(|c| c.legs().to_vec()).collect();
                    prop_assert!(
                        city_set.contains(&legs),
                        "pair {}-{} option {:?} missing from the city round trip",
                        o,
                        d,
                        legs
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn city_round_trip_holds_each_pairs_own(seed in any::<u64>()) {
        check_city_round_trip(&world(seed), &mut Rng(seed ^ 0x3333))?;
    }

    #[test]
    fn point_to_point_matches_reference(seed in any::<u64>()) {
        check_point_to_point(&world(seed), &mut Rng(seed ^ 0x5555))?;
    }

    #[test]
    fn explore_matches_reference(seed in any::<u64>()) {
        check_explore(&world(seed), &mut Rng(seed ^ 0xAAAA))?;
    }

    /// Pruning stays exact on an index that has received updates.
    #[test]
    fn updated_index_matches_reference(seed in any::<u64>()) {
        let mut w = world(seed);
        let mut rng = Rng(seed ^ 0x7777);
        update(&mut w, &mut rng)?;
        check_point_to_point(&w, &mut rng)?;
        check_explore(&w, &mut rng)?;
    }

    /// Pruning stays exact on an index whose schedule changed (flights cancelled, retimed and
    /// added) after updates.
    #[test]
    fn rescheduled_index_matches_reference(seed in any::<u64>()) {
        let mut w = world(seed);
        let mut rng = Rng(seed ^ 0x9999);
        update(&mut w, &mut rng)?;
        reschedule(&mut w, &mut rng)?;
        check_point_to_point(&w, &mut rng)?;
        check_explore(&w, &mut rng)?;
    }
}
