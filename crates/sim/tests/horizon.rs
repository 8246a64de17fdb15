#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! Far-off days are generated on demand: a block of days holds exactly what a window reaching
//! them from the same today holds on those days — the same flights at the same times, with the
//! same fares and seats.

use chrono::NaiveDate;
use spontra_engine::Index;
use spontra_refdata::RefData;
use spontra_sim::{generate, Generator, Scale, WorldConfig};
use std::collections::BTreeMap;

/// Every leg departing (local date) in `days`, by what names it: its state.
type Flights = BTreeMap<(String, u16, String, i64), (i64, u32, u16, [u8; 3])>;

fn flights(index: &Index, days: std::ops::Range<i64>) -> Flights {
    (0..index.leg_count() as u32)
        .filter_map(|id| {
            let v = index.leg_view(id);
            let local_day = (v.departure + v.departure_offset as i64).div_euclid(1440);
            let l = index.leg(id);
            days.contains(&local_day).then(|| {
                (
                    (
                        v.carrier.to_string(),
                        v.flight_number,
                        v.origin.to_string(),
                        v.departure,
                    ),
                    (v.arrival, l.fare, l.seats, l.cabin_multiplier),
                )
            })
        })
        .collect()
}

fn epoch_day(d: NaiveDate) -> i64 {
    d.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
        .num_days()
}

#[test]
fn a_block_of_far_days_holds_what_the_whole_window_holds_on_them() {
    let refdata = RefData::load().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let mut whole = WorldConfig::new(today, Scale::Small);
    whole.days = 250;
    let (all, _) = generate(&refdata, &whole);

    let generator = Generator::new(&refdata, Scale::Small, whole.seed);
    // Days 200..207 from today (mid-June: the northern summer's clocks, not December's).
    let mut block = whole.clone();
    block.first_day = 200;
    block.days = 207;
    let (far, stats) = generator.generate(&refdata, &block);
    let days = epoch_day(today) + 200..epoch_day(today) + 207;
    let expected = flights(&all, days.clone());
    assert!(expected.len() > 20_000, "{} legs", expected.len());
    assert_eq!(flights(&far, days), expected);
    // Nothing before the block's first day is generated; its legs are a week's.
    assert_eq!(stats.legs, far.leg_count());
    assert!(
        far.leg_count() < all.leg_count() / 30,
        "{} of {}",
        far.leg_count(),
        all.leg_count()
    );
}
