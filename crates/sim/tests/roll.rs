#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The bookable window rolls a day on: the world built from the next day holds the same
//! flights on the days both cover (generation is a function of the date, not of the window's
//! start), and the index taking over the old one's state keeps what the market said of them.

use chrono::{Days, NaiveDate};
use spontra_engine::{FareUpdate, Index};
use spontra_refdata::RefData;
use spontra_sim::{generate, Scale, WorldConfig};

fn world(refdata: &RefData, start: NaiveDate, days: u32) -> Index {
    let mut config = WorldConfig::new(start, Scale::Small);
    config.days = days;
    generate(refdata, &config).0
}

/// Local departure date of leg `id`, as days since the Unix epoch.
fn local_day(index: &Index, id: u32) -> i64 {
    let v = index.leg_view(id);
    (v.departure + v.departure_offset as i64).div_euclid(1440)
}

fn epoch_day(d: NaiveDate) -> i64 {
    d.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
        .num_days()
}

#[test]
fn a_rolled_window_keeps_the_markets_word_on_the_days_it_shares() {
    let refdata = RefData::load().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let tomorrow = today + Days::new(1);
    let days = 6;
    let mut old = world(&refdata, today, days);
    // The market moved a third of the flights: fares up and down, seats sold, sold out.
    let updates: Vec<FareUpdate> = (0..old.leg_count() as u32)
        .filter(|id| id % 3 == 0)
        .map(|id| FareUpdate {
            leg: id,
            fare: if id % 2 == 0 {
                old.leg(id).fare + 1 + id % 97
            } else {
                (old.leg(id).fare / 2).max(1)
            },
            seats: (id % 10) as u16,
            observed: 1_796_100_000 + id as i64,
        })
        .collect();
    assert!(old.apply(&updates).changed > 1000);

    let built = world(&refdata, tomorrow, days);
    let mut rolled = built.clone();
    let carried = rolled.carry_from(&old);

    // Every flight of the old window from tomorrow on is in the new one, with its state.
    let shared: Vec<u32> = (0..old.leg_count() as u32)
        .filter(|&id| local_day(&old, id) >= epoch_day(tomorrow))
        .collect();
    assert!(shared.len() > 10_000, "{} shared legs", shared.len());
    assert_eq!(carried, shared.len(), "every shared flight is carried once");
    for &id in &shared {
        let v = old.leg_view(id);
        let found = rolled
            .find_leg(
                rolled.airport_id(v.origin).unwrap(),
                rolled.airport_id(v.destination).unwrap(),
                v.departure,
                rolled.carrier_id(v.carrier).unwrap(),
                v.flight_number,
            )
            .unwrap_or_else(|| {
                panic!(
                    "{}{} on {} is gone",
                    v.carrier, v.flight_number, v.departure
                )
            });
        let (a, b) = (old.leg(id), rolled.leg(found));
        assert_eq!((a.fare, a.seats), (b.fare, b.seats));
        assert_eq!(old.observed_at(id), rolled.observed_at(found));
    }
    // Today's flights are gone; the new last day is as built.
    let last = epoch_day(tomorrow + Days::new(days as u64 - 1));
    let mut new_day = 0;
    for id in 0..rolled.leg_count() as u32 {
        assert!(local_day(&rolled, id) >= epoch_day(tomorrow));
        if local_day(&rolled, id) == last {
            new_day += 1;
            assert_eq!(rolled.leg(id).fare, built.leg(id).fare);
            assert_eq!(rolled.observed_at(id), None);
        }
    }
    assert!(new_day > 1000, "{new_day} legs on the new day");
    assert_eq!(
        rolled.leg_count(),
        shared.len() + new_day,
        "the new window is the shared days plus one"
    );
    // Bounds are exact: each route's cheapest fare is its legs' minimum.
    for a in 0..rolled.airport_count() as u16 {
        for route in rolled.routes_from(a) {
            let min = (route.start..route.end).map(|i| rolled.leg(i).fare).min();
            assert_eq!(Some(route.min_fare), min);
        }
    }
}
