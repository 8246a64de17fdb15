#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! `kill -9` of the ingesting process at random moments loses nothing and applies nothing
//! twice: a stream of provider events (with re-sent duplicates) is published while an
//! ingest-only `spontra serve` is killed with SIGKILL and restarted again and again; once it
//! has caught up, every distinct event was applied exactly once (the embedded log with
//! SQLite).
//!
//! `SPONTRA_CRASH_EVENTS` sets how many events (default 1,000,000 on the embedded log).
//!
//! Not yet on Kafka: against the test broker (tansu 0.6, SQLite engine) a run with 2,000 events passed in some attempts and in others the restarted member
//! stopped making progress after a few kills, and with 20,000 or more the broker stopped
//! answering metadata requests in time. Whether the stall is the broker's group coordinator or
//! our consumer is not settled, so no Kafka run is in the suite (see the README).

mod support;

use chrono::{Duration as Days, NaiveDate, Utc};
use spontra_events::embedded::{beside, EmbeddedLog};
use spontra_events::Bus;
use spontra_ingest::feed::{event_for, AMADEUS_FARE_V1, DUFFEL_FARE_V1};
use spontra_store::{FareObservation, InventoryStore};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{shared_world, TODAY};

/// The ingesting process; killed when dropped, so a failing test leaves none behind.
struct Ingest(Child);

impl Ingest {
    fn kill_9(&mut self) {
        self.0.kill().unwrap(); // SIGKILL
        self.0.wait().unwrap();
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_ingest(dir: &std::path::Path, url: &str) -> Ingest {
    Command::new(env!("CARGO_BIN_EXE_spontra"))
        .args(["serve", "--services", "ingest", "--bind", "127.0.0.1:0"])
        .env("SPONTRA__DATABASE__URL", url)
        .env("SPONTRA__DATA__DIR", dir)
        .env("SPONTRA__WORLD__TODAY", TODAY)
        .env("SPONTRA__LOG__FILTER", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Ingest)
        .unwrap()
}

/// Deterministic draws for the kill times and the events (the simulator's hash of a counter).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 += 1;
        spontra_sim::rng::hash(&[7, self.0]) % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_ingestion_loses_nothing_and_applies_nothing_twice() {
    let dir = std::env::temp_dir().join(format!("spontra-crash-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.as_path();
    let url = &format!("sqlite://{}/spontra.db", dir.display());
    let log = EmbeddedLog::open(&beside(url)).await.unwrap();
    let total: u64 = std::env::var("SPONTRA_CRASH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);

    // The flights: the tiny world's legs leaving at least two days after today.
    let world = shared_world();
    let today: NaiveDate = TODAY.parse().unwrap();
    let now = today.and_time(Utc::now().time()).and_utc();
    let legs: Vec<FareObservation> = (0..world.index.leg_count() as u32)
        .map(|id| world.index.leg_view(id))
        .filter_map(|v| {
            let departure_at = chrono::DateTime::from_timestamp(v.departure * 60, 0)?;
            (departure_at > now + Days::days(2)).then(|| FareObservation {
                source: "/providers/skyhub".into(),
                event_id: String::new(),
                carrier: v.carrier.to_string(),
                flight_number: v.flight_number,
                departure_date: (departure_at + Days::minutes(v.departure_offset as i64))
                    .date_naive(),
                origin: v.origin.to_string(),
                destination: v.destination.to_string(),
                cabin: "economy".into(),
                fare_minor: 0,
                currency: "EUR".into(),
                seats_left: 9,
                departure_at,
                observed_at: now,
            })
        })
        .collect();
    assert!(legs.len() > 1000);

    let mut child = start_ingest(dir, url);
    let mut rng = Rng(0);
    let started = Instant::now();
    let mut next_kill = Instant::now() + Duration::from_millis(500 + rng.below(3000));
    let (mut published, mut duplicates, mut kills) = (0u64, 0u64, 0u32);
    while published < total {
        let mut batch = Vec::with_capacity(5_000);
        for _ in 0..5_000.min(total - published) {
            let mut o = legs[rng.below(legs.len() as u64) as usize].clone();
            o.event_id = format!("e{published}");
            o.fare_minor = 5_000 + rng.below(50_000) as i64;
            o.observed_at = now + Days::milliseconds(published as i64);
            let amadeus = published % 2 == 1;
            if amadeus {
                o.source = "/providers/farefinder".into();
            }
            let m = event_for(
                if amadeus {
                    AMADEUS_FARE_V1
                } else {
                    DUFFEL_FARE_V1
                },
                &o,
            )
            .to_message(format!("{}-{}", o.origin, o.destination));
            // Providers send some events twice.
            if rng.below(100) == 0 {
                batch.push(m.clone());
                duplicates += 1;
            }
            batch.push(m);
            published += 1;
        }
        log.publish("provider.raw", batch).await.unwrap();
        if Instant::now() >= next_kill {
            child.kill_9();
            kills += 1;
            child = start_ingest(dir, url);
            next_kill = Instant::now() + Duration::from_millis(500 + rng.below(3000));
        }
    }
    // Kill it a few more times while it works through the backlog, then let it finish.
    while kills < 8 {
        tokio::time::sleep(Duration::from_millis(300 + rng.below(2000))).await;
        child.kill_9();
        kills += 1;
        child = start_ingest(dir, url);
    }
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let lag = log.total_lag("provider.raw", "ingest").await.unwrap();
        if lag == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{lag} events never ingested");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let elapsed = started.elapsed();
    drop(child);

    let store = spontra_store_sqlite::SqliteStore::open(url).await.unwrap();
    let applied = store.observation_count().await.unwrap();
    eprintln!(
        "{published} events (+{duplicates} sent twice) through {kills} kill -9s in {:.1} s: {applied} applied",
        elapsed.as_secs_f64()
    );
    assert_eq!(
        applied, published,
        "each distinct event applied exactly once"
    );
    // Spot checks: a sample of ids, each applied once.
    for n in [0, published / 3, published / 2, published - 1] {
        let source = if n % 2 == 1 {
            "/providers/farefinder"
        } else {
            "/providers/skyhub"
        };
        assert!(
            store.was_applied(source, &format!("e{n}")).await.unwrap(),
            "e{n}"
        );
    }
}
