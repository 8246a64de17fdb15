#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The simulated world looks like today's: defunct carriers' services are flown by their
//! successors or not at all, nothing leaves or lands inside an airport's night curfew, and
//! carriers with a known fleet fly only its types.

use chrono::NaiveDate;
use spontra_domain::{AirportCode, CarrierCode};
use spontra_refdata::RefData;
use spontra_sim::{generate, Scale, WorldConfig, AIRCRAFT};
use std::collections::{HashMap, HashSet};

#[test]
fn the_full_world_flies_as_airlines_and_airports_do_today() {
    let refdata = RefData::load().unwrap();
    let mut config = WorldConfig::new(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), Scale::Full);
    config.days = 7;
    let (index, _) = generate(&refdata, &config);
    let code = |c: &str| CarrierCode::parse(c).unwrap();

    let mut carriers: HashMap<CarrierCode, usize> = HashMap::new();
    let mut types: HashMap<CarrierCode, HashSet<String>> = HashMap::new();
    let mut routes: HashSet<(String, String, CarrierCode)> = HashSet::new();
    let mut curfew_checked = 0;
    for id in 0..index.leg_count() as u32 {
        let v = index.leg_view(id);
        *carriers.entry(v.carrier).or_default() += 1;
        types
            .entry(v.carrier)
            .or_default()
            .insert(v.aircraft.clone());
        routes.insert((v.origin.to_string(), v.destination.to_string(), v.carrier));
        for (airport, utc, offset) in [
            (v.origin, v.departure, v.departure_offset),
            (v.destination, v.arrival, v.arrival_offset),
        ] {
            if let Some(curfew) = refdata.airport(airport).and_then(|a| a.curfew.as_ref()) {
                curfew_checked += 1;
                let local = (utc + offset as i64).rem_euclid(1440);
                assert!(
                    !curfew.covers(local),
                    "{}{} moves at {airport} at {:02}:{:02} local, inside its curfew ({})",
                    v.carrier,
                    v.flight_number,
                    local / 60,
                    local % 60,
                    curfew.rule
                );
            }
        }
    }
    assert!(
        curfew_checked > 10_000,
        "{curfew_checked} movements at curfew airports"
    );

    // Defunct carriers sell nothing; their successors fly their routes.
    for s in refdata.successions() {
        if s.successor != Some(s.code) {
            assert!(
                !carriers.contains_key(&s.code),
                "{} ({}) still flies",
                s.name,
                s.code
            );
        }
    }
    for (o, d) in [("PHL", "CLT"), ("CLT", "PHX")] {
        assert!(
            routes.contains(&(o.into(), d.into(), code("AA"))),
            "American flies US Airways' {o}-{d}"
        );
    }
    assert!(carriers.contains_key(&code("EW")), "Eurowings flies");
    assert_eq!(
        refdata.airline(code("AZ")).unwrap().name,
        "ITA Airways",
        "the AZ code is ITA's"
    );

    // Fleets: easyJet flies Airbuses, Ryanair Boeings, Emirates widebodies.
    let fleet = |c: &str| types.get(&code(c)).cloned().unwrap_or_default();
    let easyjet = fleet("U2");
    assert!(
        !easyjet.is_empty() && easyjet.iter().all(|t| t.starts_with("Airbus A3")),
        "{easyjet:?}"
    );
    let ryanair = fleet("FR");
    assert!(
        !ryanair.is_empty() && ryanair.iter().all(|t| t.starts_with("Boeing 737")),
        "{ryanair:?}"
    );
    let emirates = fleet("EK");
    assert!(
        emirates
            .iter()
            .all(|t| t == "Boeing 777-300ER" || t == "Airbus A380-800"),
        "{emirates:?}"
    );
    assert!(AIRCRAFT.iter().all(|a| a.range_km > 1000.0));

    // Heathrow: no 01:45 or 02:20 arrivals (the curfew), but its first arrivals from 04:30.
    let lhr = AirportCode::parse("LHR").unwrap();
    let first_arrival = (0..index.leg_count() as u32)
        .map(|id| index.leg_view(id))
        .filter(|v| v.destination == lhr)
        .map(|v| (v.arrival + v.arrival_offset as i64).rem_euclid(1440))
        .filter(|m| *m < 12 * 60)
        .min()
        .unwrap();
    assert!(
        (270..=420).contains(&first_arrival),
        "first LHR arrival at minute {first_arrival}"
    );
}
