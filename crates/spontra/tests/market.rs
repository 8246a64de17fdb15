#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The simulated market's feed reports changes: when it starts, every fare is the world's (so
//! nothing is reported); as market time passes, the flights whose fare or seats moved are
//! reported once each, with what `sim::market` says of them then, as valid provider events.

mod support;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use spontra::market::{MarketFeed, MarketSettings};
use spontra::world;
use spontra_domain::{Clock, FixedClock};
use spontra_events::cloudevents::CloudEvent;
use spontra_events::embedded::EmbeddedLog;
use spontra_ingest::feed::FeedEvent;
use spontra_store::{FareObservation, ScheduleKind};
use std::collections::HashMap;
use std::sync::Arc;
use support::{shared_world, TODAY};

/// Every message of one whole sweep at the clock's time.
fn sweep(feed: &MarketFeed, at: chrono::DateTime<Utc>) -> Vec<spontra_events::Message> {
    // sweep_seconds = 1: ten ticks look at every leg once.
    (0..10)
        .flat_map(|_| feed.tick(at, std::time::Duration::from_secs(60)))
        .collect()
}

/// A feed of `world`'s market starting at 09:30 on [`TODAY`] (market time, on a fixed clock),
/// with a log of its own in a temporary directory.
async fn feed_of(
    world: &Arc<spontra::world::World>,
) -> (
    MarketFeed,
    Arc<FixedClock>,
    chrono::DateTime<Utc>,
    std::path::PathBuf,
) {
    feed_with(world, 0).await
}

/// As [`feed_of`], sending a snapshot of the next `snapshot_days` days when it starts.
async fn feed_with(
    world: &Arc<spontra::world::World>,
    snapshot_days: u32,
) -> (
    MarketFeed,
    Arc<FixedClock>,
    chrono::DateTime<Utc>,
    std::path::PathBuf,
) {
    let dir = std::env::temp_dir().join(format!("spontra-market-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let bus = Arc::new(
        EmbeddedLog::open(&format!("sqlite://{}/log.db", dir.display()))
            .await
            .unwrap(),
    );
    let today: NaiveDate = TODAY.parse().unwrap();
    let start = Utc.from_utc_datetime(&today.and_hms_opt(9, 30, 0).unwrap());
    let clock = Arc::new(FixedClock::new(start));
    let settings = MarketSettings {
        speed: 1.0,
        sweep_seconds: 1.0,
        fault_rate: 0.0,
        snapshot_days,
    };
    let feed = MarketFeed::new(world.clone(), bus, clock.clone(), settings, 42);
    (feed, clock, start, dir)
}

/// What the provider's message `m` says, as ingestion reads it at `at`.
fn read(m: &spontra_events::Message, at: chrono::DateTime<Utc>) -> FeedEvent {
    let record = spontra_events::Record {
        topic: "provider.raw".into(),
        partition: 0,
        offset: 0,
        key: m.key.clone(),
        headers: m.headers.clone(),
        payload: m.payload.clone(),
        timestamp_ms: 0,
    };
    let event = CloudEvent::from_record(&record).unwrap();
    let refdata = world::refdata().unwrap();
    spontra_ingest::feed::normalise(&event, &refdata, at).unwrap()
}

/// The fare reports among `messages`.
fn fares(messages: &[spontra_events::Message], at: chrono::DateTime<Utc>) -> Vec<FareObservation> {
    messages
        .iter()
        .filter_map(|m| match read(m, at) {
            FeedEvent::Fare(o) => Some(o),
            FeedEvent::Schedule(_) | FeedEvent::Quote(_) => None,
        })
        .collect()
}

#[tokio::test]
async fn the_feed_reports_what_changed_and_nothing_else() {
    let world = shared_world();
    let legs = world.index.leg_count();
    let (feed, clock, start, dir) = feed_of(&world).await;

    assert!(
        sweep(&feed, start).is_empty(),
        "at the start every fare is the world's"
    );

    // Three days on: many flights have moved, each reported once by each provider selling it.
    let later = start + Duration::days(3);
    clock.set(later);
    let messages = sweep(&feed, clock.now());
    let mut per_flight: HashMap<String, Vec<i64>> = HashMap::new();
    let mut sold_out = 0;
    for o in fares(&messages, later) {
        assert_eq!(o.observed_at, later);
        assert!(o.departure_at > later, "no departed flight is reported");
        if o.seats_left == 0 {
            sold_out += 1;
        }
        per_flight
            .entry(format!(
                "{}{} {}",
                o.carrier, o.flight_number, o.departure_at
            ))
            .or_default()
            .push(o.fare_minor);
    }
    let changed = per_flight.len();
    assert!(
        changed > legs / 50 && changed < legs,
        "{changed} of {legs} legs changed in three days"
    );
    assert!(
        per_flight
            .values()
            .all(|f| f.len() <= 2 && f.windows(2).all(|w| w[0] == w[1])),
        "one report per provider, the same fare"
    );
    eprintln!("{changed} of {legs} legs changed; {sold_out} reports of sold-out cabins");

    // Looked at again at the same time: nothing new to say. An hour on, a little.
    assert!(sweep(&feed, later).is_empty());
    let hour = sweep(&feed, later + Duration::hours(1)).len();
    eprintln!("{hour} messages an hour later");
    assert!(hour > 0 && hour < messages.len() / 10, "{hour}");
    std::fs::remove_dir_all(&dir).ok();
}

/// With a snapshot, the first sweep reports every flight leaving within the snapshot's days —
/// at the fares the world (and so search) holds, once per provider selling it — and none
/// later; after that only changes.
#[tokio::test]
async fn a_snapshot_at_the_start_reports_the_next_days_as_they_stand() {
    let world = shared_world();
    let (feed, _clock, start, dir) = feed_with(&world, 2).await;
    let messages = sweep(&feed, start);
    let reported = fares(&messages, start);
    let horizon = start + Duration::days(2);
    let mut flights = std::collections::HashSet::new();
    for o in &reported {
        assert!(o.departure_at > start && o.departure_at <= horizon, "{o:?}");
        flights.insert(format!(
            "{}{} {}",
            o.carrier, o.flight_number, o.departure_at
        ));
    }
    let index = &world.index;
    let due: Vec<_> = (0..index.leg_count() as u32)
        .map(|id| index.leg_view(id))
        .filter(|v| {
            let at = chrono::DateTime::<Utc>::from_timestamp(v.departure * 60, 0).unwrap();
            at > start && at <= horizon
        })
        .collect();
    // Cancelled flights (1.5 %, some already) are not in the snapshot.
    assert!(
        flights.len() <= due.len() && flights.len() * 100 >= due.len() * 97,
        "{} of {} flights leaving within two days",
        flights.len(),
        due.len()
    );
    let world_fare: HashMap<String, i64> = due
        .iter()
        .map(|v| {
            let at = chrono::DateTime::<Utc>::from_timestamp(v.departure * 60, 0).unwrap();
            (
                format!("{}{} {}", v.carrier.as_str(), v.flight_number, at),
                index.leg(v.id).fare as i64,
            )
        })
        .collect();
    for o in &reported {
        let key = format!("{}{} {}", o.carrier, o.flight_number, o.departure_at);
        assert_eq!(Some(&o.fare_minor), world_fare.get(&key), "{key}");
    }
    assert!(sweep(&feed, start).is_empty(), "the snapshot is sent once");
    std::fs::remove_dir_all(&dir).ok();
}

/// At midnight the feed goes on with the next window's world: nothing is reported for having
/// rolled (each flight both windows hold keeps its market and what was last said of it; the
/// new day's flights start at the new world's fares), and the new day's flights are reported
/// as their market moves.
#[tokio::test]
async fn the_feed_rolls_on_with_the_window_and_says_nothing_for_it() {
    let world = shared_world();
    let today: NaiveDate = TODAY.parse().unwrap();
    let (feed, _clock, start, dir) = feed_of(&world).await;
    assert!(sweep(&feed, start).is_empty());
    let tomorrow = today.succ_opt().unwrap();
    let midnight = Utc.from_utc_datetime(&tomorrow.and_hms_opt(0, 0, 5).unwrap());
    assert!(!sweep(&feed, midnight).is_empty(), "the market moved");

    let next = world::load("tiny", 42, 35, Some(&tomorrow.to_string()), None).unwrap();
    let last_day = next.index.day_span().1;
    feed.adopt(Arc::new(next), midnight);
    assert_eq!(feed.world().today, tomorrow);
    assert!(
        sweep(&feed, midnight).is_empty(),
        "rolling on is no news to report"
    );
    // Days on, the new last day's flights are reported as their market moves.
    let later = midnight + Duration::days(4);
    let new_day = sweep(&feed, later)
        .iter()
        .filter(|m| match read(m, later) {
            FeedEvent::Fare(o) => o.departure_at.timestamp() / 60 >= last_day,
            FeedEvent::Schedule(_) | FeedEvent::Quote(_) => false,
        })
        .count();
    assert!(new_day > 0, "the new day's flights are reported");
    std::fs::remove_dir_all(&dir).ok();
}

/// Schedules change as airlines change them: over ten market days some flights are cancelled
/// and some retimed (each reported once, by every provider selling the carrier), sold-out
/// flights get extra sections now and then; a cancelled flight's fare is no longer reported,
/// and a retimed one's is reported at its new time.
#[tokio::test]
async fn schedules_change_now_and_then() {
    let world = shared_world();
    let legs = world.index.leg_count();
    let (feed, _clock, start, dir) = feed_of(&world).await;
    let first = sweep(&feed, start);
    assert!(
        first.is_empty(),
        "changes due before the feed started are the world's schedule already"
    );
    let mut changes: HashMap<(ScheduleKind, String), spontra_store::ScheduleObservation> =
        HashMap::new();
    let mut fares_after = vec![];
    for day in 1..=10 {
        let at = start + Duration::days(day);
        for m in sweep(&feed, at) {
            match read(&m, at) {
                FeedEvent::Schedule(c) => {
                    let key = format!("{}{} {}", c.carrier, c.flight_number, c.departure_date);
                    assert!(c.departure_at > at || c.kind == ScheduleKind::Cancelled);
                    changes.insert((c.kind, key), c);
                }
                FeedEvent::Fare(o) => fares_after.push((day, o)),
                FeedEvent::Quote(_) => panic!("the market sends no live quotes"),
            }
        }
    }
    let count = |k: ScheduleKind| changes.keys().filter(|(kind, _)| *kind == k).count();
    let (cancelled, retimed, added) = (
        count(ScheduleKind::Cancelled),
        count(ScheduleKind::Retimed),
        count(ScheduleKind::Added),
    );
    eprintln!(
        "of {legs} legs in ten days: {cancelled} cancelled, {retimed} retimed, {added} added"
    );
    assert!(cancelled > 0 && cancelled < legs / 50, "{cancelled}");
    assert!(retimed > cancelled && retimed < legs / 20, "{retimed}");
    assert!(added > 0, "sold-out flights get extra sections");
    for c in changes.values() {
        match c.kind {
            ScheduleKind::Retimed => {
                let shift = (c.departure_at - c.previous_departure_at.unwrap()).num_minutes();
                assert!(shift != 0 && shift.abs() <= 60 && shift % 5 == 0, "{shift}");
            }
            ScheduleKind::Added => {
                assert!(c.flight_number >= 9_000);
                assert_eq!(c.seats_left, Some(9));
            }
            ScheduleKind::Cancelled => {}
        }
    }
    // After its change, a cancelled flight's fare is not reported; a retimed one's is, at its
    // new time.
    let key =
        |o: &FareObservation| format!("{}{} {}", o.carrier, o.flight_number, o.departure_date);
    let mut retimed_reported = 0;
    for (day, o) in &fares_after {
        let at = start + Duration::days(*day);
        if let Some(c) = changes.get(&(ScheduleKind::Cancelled, key(o))) {
            assert!(
                c.observed_at >= at,
                "{} reported after its cancellation",
                key(o)
            );
        }
        if let Some(c) = changes.get(&(ScheduleKind::Retimed, key(o))) {
            if c.observed_at < at {
                assert_eq!(o.departure_at, c.departure_at, "{}", key(o));
                retimed_reported += 1;
            }
        }
    }
    assert!(retimed_reported > 0);
    std::fs::remove_dir_all(&dir).ok();
}
