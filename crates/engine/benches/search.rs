#![allow(clippy::unwrap_used, clippy::expect_used)] // test and benchmark code may panic
//! Criterion benchmarks on the full-scale reference world (≈100,000 flights a day, 35 days):
//! `cargo bench -p spontra-engine`. `spontra bench --queries bench/queries.csv` gives
//! percentiles over a thousand popular queries.

use chrono::{Days, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use spontra_domain::{AirportCode, DateRange, HoursRange};
use spontra_engine::{FareUpdate, Filters, Index, ScheduleChange, SliceQuery};
use spontra_sim::{Scale, WorldConfig};

fn world() -> (Index, chrono::NaiveDate) {
    let refdata = spontra_refdata::RefData::load().expect("reference data");
    let today = Utc::now().date_naive();
    let (index, _) = spontra_sim::generate(&refdata, &WorldConfig::new(today, Scale::Full));
    (index, today)
}

fn id(index: &Index, code: &str) -> u16 {
    AirportCode::parse(code)
        .ok()
        .and_then(|c| index.airport_id(c))
        .expect("airport in world")
}

fn benches(c: &mut Criterion) {
    let (index, today) = world();
    let date = today + Days::new(14);
    let f = Filters::default();
    for (o, d) in [
        ("LHR", "JFK"),
        ("FRA", "SYD"),
        ("BCN", "ATH"),
        ("ORD", "LAX"),
    ] {
        let q = SliceQuery {
            origins: vec![id(&index, o)],
            destinations: vec![id(&index, d)],
            date,
        };
        c.bench_function(&format!("search {o}-{d} <=2 stops"), |b| {
            b.iter(|| index.search_trip(std::slice::from_ref(&q), &f))
        });
    }
    let lhr = [id(&index, "LHR")];
    let one_day = DateRange::single(date);
    let week = DateRange::new(date, date + Days::new(6), 7).expect("range");
    let explore = Filters {
        max_stops: 1,
        ..Filters::default()
    };
    c.bench_function("explore LHR 1 day <=1 stop", |b| {
        b.iter(|| index.explore(&lhr, one_day, &explore))
    });
    c.bench_function("explore LHR 7 days <=1 stop", |b| {
        b.iter(|| index.explore(&lhr, week, &explore))
    });
    let timed = Filters {
        max_stops: 1,
        duration_range: HoursRange::from_hours(2.0, 4.0).ok(),
        ..Filters::default()
    };
    c.bench_function("explore LHR 1 day 2-4 h", |b| {
        b.iter(|| index.explore(&lhr, one_day, &timed))
    });
    let q = SliceQuery {
        origins: lhr.to_vec(),
        destinations: vec![id(&index, "BCN")],
        date,
    };
    let month = DateRange::new(today + Days::new(1), today + Days::new(31), 31).expect("range");
    c.bench_function("calendar LHR-BCN 31 days", |b| {
        b.iter(|| index.calendar(&q, &f, month))
    });

    // How the index follows the market: a batch of fare updates on a private copy, a batch
    // of schedule changes (a new layout), the next day's window taking over this one's state.
    let n = index.leg_count() as u32;
    let mut updates: Vec<FareUpdate> = (0..1_000u32)
        .map(|i| {
            let leg = i.wrapping_mul(2_654_435_761) % n;
            FareUpdate {
                leg,
                fare: index.leg(leg).fare + 100,
                seats: 5,
                observed: Utc::now().timestamp(),
            }
        })
        .collect();
    let mut copy = index.clone();
    // Each round newer, and every fare moved (up one round, back the next).
    c.bench_function("apply 1,000 fare updates", |b| {
        b.iter(|| {
            for u in &mut updates {
                u.observed += 1;
                u.fare ^= 1;
            }
            copy.apply(&updates)
        })
    });
    let changes: Vec<ScheduleChange> = (0..10u32)
        .map(|i| {
            let leg = i.wrapping_mul(2_654_435_761) % n;
            let at = index.to_utc(index.leg(leg).dep);
            if i % 2 == 0 {
                ScheduleChange::Cancel { leg }
            } else {
                ScheduleChange::Retime {
                    leg,
                    departure: at + 30,
                    arrival: at + 30 + index.leg(leg).duration as i64,
                }
            }
        })
        .collect();
    c.bench_function("reschedule 10 flights", |b| {
        b.iter(|| index.reschedule(&changes))
    });
    let refdata = spontra_refdata::RefData::load().expect("reference data");
    let (next, _) = spontra_sim::generate(
        &refdata,
        &WorldConfig::new(today + Days::new(1), Scale::Full),
    );
    c.bench_function("roll the window a day (carry over)", |b| {
        b.iter_batched(
            || next.clone(),
            |mut next| next.carry_from(&index),
            criterion::BatchSize::LargeInput,
        )
    });
}

criterion_group! {
    name = engine;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(engine);
