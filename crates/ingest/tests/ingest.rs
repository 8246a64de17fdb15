#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! Ingestion end to end over a real stream and a real store: the embedded log with SQLite, and
//! Kafka (a tansu broker) with PostgreSQL. A feed of valid events in both providers' shapes,
//! duplicates, late (out-of-order) events and every kind of bad input goes in; each valid
//! event is applied once, the latest observation of each flight is current, every bad one
//! is dead-lettered with its code, field and original payload, and the consumer goes on. A
//! batch processed but not committed (a crash) is delivered again and applies nothing twice.

use chrono::{DateTime, Duration as Days, Utc};
use serde_json::json;
use spontra_domain::{CarrierCode, FixedClock};
use spontra_events::cloudevents::CloudEvent;
use spontra_events::embedded::EmbeddedLog;
use spontra_events::kafka::Kafka;
use spontra_events::testing::Broker;
use spontra_events::{Bus, Message, Record};
use spontra_ingest::feed::{
    schedule_event_for, AMADEUS_FARE_V1, AMADEUS_SCHEDULE_V1, DUFFEL_FARE_V1, DUFFEL_SCHEDULE_V1,
};
use spontra_ingest::worker::{
    DEAD_LETTER, GROUP, INVENTORY_CHANGED, PRICE_OBSERVED, RAW, SCHEDULE_CHANGED,
};
use spontra_ingest::{BatchStats, Ingestor};
use spontra_store::{InventoryStore, ScheduleKind, ScheduleObservation};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A flight of the feed: carrier, number, route, days ahead.
#[derive(Clone, Copy)]
struct Flight {
    carrier: &'static str,
    number: u16,
    origin: &'static str,
    destination: &'static str,
    days: i64,
}

const ROUTES: [(&str, &str, &str); 5] = [
    ("BA", "LHR", "JFK"),
    ("AF", "CDG", "NCE"),
    ("LH", "FRA", "MUC"),
    ("U2", "LGW", "BCN"),
    ("IB", "MAD", "LIS"),
];

fn flights() -> Vec<Flight> {
    (0..50)
        .map(|i| {
            let (carrier, origin, destination) = ROUTES[i % ROUTES.len()];
            Flight {
                carrier,
                number: 100 + i as u16,
                origin,
                destination,
                days: 5 + (i as i64 * 7) % 300,
            }
        })
        .collect()
}

/// An event of `shape` (`duffel` or `amadeus`) for `f` at `fare` (decimal string), observed
/// `minutes` before now.
fn event(id: &str, shape: &str, f: Flight, fare: &str, currency: &str, minutes: i64) -> CloudEvent {
    let departing = now() + Days::days(f.days);
    let date = departing.date_naive().to_string();
    let at = departing.to_rfc3339();
    let (type_, source, data) = if shape == "duffel" {
        (
            DUFFEL_FARE_V1,
            "/providers/skyhub",
            json!({
                "owner": {"iata_code": f.carrier},
                "marketing_carrier_flight_number": f.number.to_string(),
                "origin": {"iata_code": f.origin},
                "destination": {"iata_code": f.destination},
                "departure_date": date,
                "departing_at": at,
                "cabin_class": "economy",
                "total_amount": fare,
                "total_currency": currency,
                "available_seats": 23
            }),
        )
    } else {
        (
            AMADEUS_FARE_V1,
            "/providers/farefinder",
            json!({
                "carrierCode": f.carrier,
                "number": f.number.to_string(),
                "departure": {"iataCode": f.origin, "at": at, "date": date},
                "arrival": {"iataCode": f.destination},
                "cabin": "ECONOMY",
                "price": {"grandTotal": fare, "currency": currency},
                "numberOfBookableSeats": 9
            }),
        )
    };
    CloudEvent {
        id: id.into(),
        source: source.into(),
        type_: type_.into(),
        time: Some(now() - Days::minutes(minutes)),
        subject: Some(format!("{}{}", f.carrier, f.number)),
        datacontenttype: Some("application/json".into()),
        data: serde_json::to_vec(&data).unwrap(),
    }
}

fn keyed(e: &CloudEvent) -> Message {
    e.to_message(e.subject.clone().unwrap_or_default())
}

/// The hostile part of the feed: each message and the (code, field) it must be refused with.
fn hostile(unknown_carrier: &str) -> Vec<(Message, &'static str, &'static str)> {
    let f = flights()[0];
    let mut out = vec![];
    let mut bad = |id: &str, mutate: &dyn Fn(&mut CloudEvent), code, field| {
        let mut e = event(id, "duffel", f, "99.00", "EUR", 1);
        mutate(&mut e);
        out.push((keyed(&e), code, field));
    };
    // Cut short: the field where the JSON stops is named.
    bad(
        "bad-json",
        &|e| e.data = br#"{"owner": {"iata_code": "BA"#.to_vec(),
        "malformed_payload",
        "owner.iata_code",
    );
    bad(
        "bad-airport",
        &|e| swap(e, "LHR", "XQX"),
        "unknown_airport",
        "origin",
    );
    bad(
        "bad-carrier",
        &|e| swap(e, "\"BA\"", &format!("\"{unknown_carrier}\"")),
        "unknown_carrier",
        "carrier",
    );
    bad(
        "zero",
        &|e| swap(e, "99.00", "0.00"),
        "invalid_price",
        "amount",
    );
    bad(
        "negative",
        &|e| swap(e, "99.00", "-5.00"),
        "invalid_price",
        "amount",
    );
    bad(
        "currency",
        &|e| swap(e, "\"EUR\"", "\"XYZ\""),
        "unknown_currency",
        "currency",
    );
    bad(
        "version",
        &|e| e.type_ = "dev.spontra.feed.duffel.fare.v9".into(),
        "unknown_schema",
        "type",
    );
    bad(
        "no-field",
        &|e| swap(e, "\"available_seats\"", "\"seats\""),
        "malformed_payload",
        "data",
    );
    let past = Flight { days: -2, ..f };
    out.push((
        keyed(&event("past", "duffel", past, "99.00", "EUR", 1)),
        "departure_in_past",
        "departure_at",
    ));
    let far = Flight { days: 400, ..f };
    out.push((
        keyed(&event("far", "amadeus", far, "99.00", "EUR", 1)),
        "departure_too_far",
        "departure_at",
    ));
    let mut no_id = keyed(&event("x", "duffel", f, "99.00", "EUR", 1));
    no_id.headers.retain(|(n, _)| n != "ce_id");
    out.push((no_id, "invalid_envelope", "id"));
    out
}

fn swap(e: &mut CloudEvent, from: &str, to: &str) {
    let text = String::from_utf8(e.data.clone()).unwrap();
    assert!(text.contains(from), "{from} in {text}");
    e.data = text.replacen(from, to, 1).into_bytes();
}

/// Drain `topic` with a fresh group.
async fn read_all(bus: &dyn Bus, topic: &str, group: &str, want: usize) -> Vec<Record> {
    let mut c = bus.subscribe(topic, group).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got = vec![];
    while got.len() < want && Instant::now() < deadline {
        got.extend(
            c.poll(want - got.len(), Duration::from_millis(500))
                .await
                .unwrap(),
        );
    }
    got
}

/// Ingest until `expect` records have been received.
async fn ingest(ingestor: &Ingestor, expect: usize) -> BatchStats {
    let mut consumer = ingestor.subscribe().await.unwrap();
    let pipeline = ingestor.pipeline();
    let mut total = BatchStats::default();
    let deadline = Instant::now() + Duration::from_secs(90);
    while total.received < expect {
        assert!(Instant::now() < deadline, "ingested {total:?} of {expect}");
        total += pipeline
            .run_batch(consumer.as_mut(), 40, Duration::from_millis(500))
            .await
            .unwrap();
    }
    // The last batch's changes are published and its offsets committed.
    pipeline.finish(consumer.as_mut()).await.unwrap();
    total
}

async fn scenario(bus: Arc<dyn Bus>, store: Arc<dyn InventoryStore>) {
    let refdata = Arc::new(spontra_refdata::RefData::load().unwrap());
    let unknown_carrier = "0Q";
    assert!(refdata
        .airline(CarrierCode::parse(unknown_carrier).unwrap())
        .is_none());
    let ingestor = Ingestor {
        bus: bus.clone(),
        store: store.clone(),
        refdata,
        clock: Arc::new(FixedClock::new(now())),
        throughput: Default::default(),
    };
    let fl = flights();
    // 50 valid events, half in each shape; 10 delivered twice; 5 late ones (observed before
    // the events already applied for their flights, with other fares).
    let valid: Vec<CloudEvent> = fl
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let shape = if i % 2 == 0 { "duffel" } else { "amadeus" };
            event(
                &format!("v{i}"),
                shape,
                *f,
                &format!("{}.99", 80 + i),
                "EUR",
                10,
            )
        })
        .collect();
    let late: Vec<CloudEvent> = (0..5)
        .map(|i| event(&format!("late{i}"), "duffel", fl[i], "999.00", "EUR", 600))
        .collect();
    let bad = hostile(unknown_carrier);
    let mut feed: Vec<Message> = vec![];
    for (i, e) in valid.iter().enumerate() {
        feed.push(keyed(e));
        if i % 5 == 0 {
            feed.push(keyed(e)); // a duplicate
        }
        if let Some((m, _, _)) = bad.get(i / 4).filter(|_| i % 4 == 3) {
            feed.push(m.clone());
        }
    }
    for (m, _, _) in bad.iter().skip(valid.len() / 4) {
        feed.push(m.clone());
    }
    feed.extend(late.iter().map(keyed));
    for chunk in feed.chunks(17) {
        bus.publish(RAW, chunk.to_vec()).await.unwrap();
    }

    let stats = ingest(&ingestor, feed.len()).await;
    assert_eq!(
        (stats.applied, stats.duplicates, stats.dead_lettered),
        (55, 10, bad.len()),
        "{stats:?}"
    );
    assert_eq!(stats.changed, 50, "late events change no flight");
    assert_eq!(store.observation_count().await.unwrap(), 55);
    for (i, f) in fl.iter().enumerate() {
        let date = (now() + Days::days(f.days)).date_naive();
        let current = store
            .current_fare(f.carrier, f.number, date, "economy")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            current.fare_minor,
            (80 + i as i64) * 100 + 99,
            "{}{}",
            f.carrier,
            f.number
        );
    }
    let lag: i64 = bus.total_lag(RAW, GROUP).await.unwrap();
    assert_eq!(lag, 0, "everything committed");

    // Every bad message is in the dead-letter topic with its reason and its original bytes.
    let dead = read_all(bus.as_ref(), DEAD_LETTER, "operators", bad.len()).await;
    assert_eq!(dead.len(), bad.len());
    let mut reasons: BTreeMap<(String, String), usize> = BTreeMap::new();
    for d in &dead {
        let h = |n| String::from_utf8(d.header(n).unwrap().to_vec()).unwrap();
        *reasons.entry((h("dlq_code"), h("dlq_field"))).or_default() += 1;
        assert!(!h("dlq_reason").is_empty());
        assert!(
            bad.iter().any(|(m, _, _)| m.payload == d.payload),
            "original payload kept"
        );
    }
    let mut expected: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (_, code, field) in &bad {
        *expected
            .entry((code.to_string(), field.to_string()))
            .or_default() += 1;
    }
    assert_eq!(reasons, expected);

    // price.observed: one event per valid observation (duplicates published again with the
    // same id, for downstream deduplication).
    let observed = read_all(bus.as_ref(), PRICE_OBSERVED, "pricing", 65).await;
    let ids: HashSet<Vec<u8>> = observed
        .iter()
        .map(|r| r.header("ce_id").unwrap().to_vec())
        .collect();
    assert_eq!((observed.len(), ids.len()), (65, 55));

    // A crash after processing, before the commit: the batch comes again, nothing twice.
    let more: Vec<Message> = fl
        .iter()
        .take(20)
        .enumerate()
        .map(|(i, f)| keyed(&event(&format!("m{i}"), "amadeus", *f, "70.00", "EUR", 5)))
        .collect();
    bus.publish(RAW, more).await.unwrap();
    {
        let mut consumer = ingestor.subscribe().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut records = vec![];
        while records.len() < 20 && Instant::now() < deadline {
            records.extend(
                consumer
                    .poll(20 - records.len(), Duration::from_millis(500))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(records.len(), 20);
        let first = ingestor.process(&records).await.unwrap();
        assert_eq!((first.applied, first.duplicates), (20, 0));
        // ... and the process dies here: no commit.
    }
    let again = ingest(&ingestor, 20).await;
    assert_eq!((again.applied, again.duplicates), (0, 20), "{again:?}");
    assert_eq!(store.observation_count().await.unwrap(), 75);

    schedule_changes(&ingestor, &fl, bad.len()).await;
}

/// A schedule change of `kind` to flight `f`, as the provider of `type_` reports it.
fn schedule_change(id: &str, kind: ScheduleKind, f: Flight) -> ScheduleObservation {
    let scheduled = now() + Days::days(f.days);
    let added = kind == ScheduleKind::Added;
    ScheduleObservation {
        source: "/providers/farefinder".into(),
        event_id: id.into(),
        carrier: f.carrier.into(),
        flight_number: if added { f.number + 5000 } else { f.number },
        departure_date: scheduled.date_naive(),
        origin: f.origin.into(),
        destination: f.destination.into(),
        kind,
        departure_at: if kind == ScheduleKind::Retimed {
            scheduled + Days::minutes(35)
        } else {
            scheduled
        },
        arrival_at: scheduled + Days::minutes(300),
        previous_departure_at: (kind == ScheduleKind::Retimed).then_some(scheduled),
        fare_minor: added.then_some(12_900),
        currency: added.then(|| "EUR".into()),
        seats_left: added.then_some(9),
        observed_at: now() - Days::minutes(2),
    }
}

/// Schedule changes (cancelled, retimed, added) in both vocabularies go through the same
/// consumer: applied once, kept as the flight's history, published on `inventory.changed` in
/// the order received; bad ones dead-lettered with their field.
async fn schedule_changes(ingestor: &Ingestor, fl: &[Flight], dead_before: usize) {
    let (bus, store) = (&ingestor.bus, &ingestor.store);
    let cancelled = schedule_change("sc1", ScheduleKind::Cancelled, fl[0]);
    let retimed = schedule_change("sc2", ScheduleKind::Retimed, fl[1]);
    let added = schedule_change("sc3", ScheduleKind::Added, fl[2]);
    let mut no_previous = schedule_change("sc4", ScheduleKind::Retimed, fl[3]);
    no_previous.previous_departure_at = None;
    let mut free = schedule_change("sc5", ScheduleKind::Added, fl[4]);
    free.fare_minor = Some(0);
    let feed: Vec<Message> = [
        (DUFFEL_SCHEDULE_V1, &cancelled),
        (AMADEUS_SCHEDULE_V1, &retimed),
        (DUFFEL_SCHEDULE_V1, &added),
        (DUFFEL_SCHEDULE_V1, &added),
        (AMADEUS_SCHEDULE_V1, &no_previous),
        (DUFFEL_SCHEDULE_V1, &free),
    ]
    .iter()
    .map(|(type_, c)| keyed(&schedule_event_for(type_, c)))
    .collect();
    bus.publish(RAW, feed).await.unwrap();
    let stats = ingest(ingestor, 6).await;
    assert_eq!(
        (stats.applied, stats.duplicates, stats.dead_lettered),
        (3, 1, 2),
        "{stats:?}"
    );
    for c in [&cancelled, &retimed, &added] {
        let history = store
            .schedule_history(&c.carrier, c.flight_number, c.departure_date)
            .await
            .unwrap();
        assert_eq!(history, vec![(*c).clone()]);
    }
    // 100 fare changes before (50 changed, 10 duplicates, 20 changed and 20 redelivered).
    let changes = read_all(bus.as_ref(), INVENTORY_CHANGED, "schedule-readers", 104).await;
    let schedule: Vec<serde_json::Value> = changes
        .iter()
        .filter(|r| r.header("ce_type") == Some(SCHEDULE_CHANGED.as_bytes()))
        .map(|r| serde_json::from_slice(&r.payload).unwrap())
        .collect();
    // Ordered per route (the key); a duplicate published again.
    let kind = |k: &str| schedule.iter().find(|v| v["kind"] == k).unwrap();
    let mut kinds: Vec<&str> = schedule
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["added", "added", "cancelled", "retimed"]);
    assert_eq!(
        kind("retimed")["previous_departure_at"],
        retimed
            .previous_departure_at
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(kind("added")["fare_minor"], 12_900);
    let dead = read_all(
        bus.as_ref(),
        DEAD_LETTER,
        "schedule-operators",
        dead_before + 2,
    )
    .await;
    let mut fields: Vec<String> = dead
        .iter()
        .map(|d| String::from_utf8(d.header("dlq_field").unwrap().to_vec()).unwrap())
        .filter(|f| f == "amount" || f == "previous_departure_at")
        .collect();
    fields.sort();
    assert!(
        fields.ends_with(&["previous_departure_at".to_string()])
            && fields.contains(&"amount".into()),
        "{fields:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_embedded_log_with_sqlite() {
    let dir = std::env::temp_dir().join(format!("spontra-ingest-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let bus = EmbeddedLog::open(&format!("sqlite://{}/spontra.db", dir.display()))
        .await
        .unwrap();
    let store =
        spontra_store_sqlite::SqliteStore::open(&format!("sqlite://{}/spontra.db", dir.display()))
            .await
            .unwrap();
    scenario(Arc::new(bus), Arc::new(store)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_kafka_with_postgres() {
    let Some(db) = spontra_store_postgres::scratch::ScratchDatabase::from_env()
        .await
        .unwrap()
    else {
        eprintln!(
            "SPONTRA_TEST_DATABASE_URL is not set: the Kafka + PostgreSQL run is not done here"
        );
        return;
    };
    let store = spontra_store_postgres::PostgresStore::open(db.url())
        .await
        .unwrap();
    let broker = Broker::start();
    let bus = Kafka::connect(&broker.address).unwrap();
    scenario(Arc::new(bus), Arc::new(store)).await;
}

/// The embedded log, whose `inventory.changed` publishes fail once, at the `fail_at`-th.
struct FailsOnce {
    log: EmbeddedLog,
    publishes: std::sync::atomic::AtomicUsize,
    fail_at: usize,
}

#[async_trait::async_trait]
impl Bus for FailsOnce {
    async fn publish(
        &self,
        topic: &str,
        messages: Vec<Message>,
    ) -> Result<(), spontra_events::BusError> {
        if topic == INVENTORY_CHANGED
            && self
                .publishes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                == self.fail_at
        {
            return Err(spontra_events::BusError::Unavailable(
                "the stream is down".into(),
            ));
        }
        self.log.publish(topic, messages).await
    }
    async fn subscribe(
        &self,
        topic: &str,
        group: &str,
    ) -> Result<Box<dyn spontra_events::Consumer>, spontra_events::BusError> {
        self.log.subscribe(topic, group).await
    }
    async fn lag(
        &self,
        topic: &str,
        group: &str,
    ) -> Result<Vec<spontra_events::PartitionLag>, spontra_events::BusError> {
        self.log.lag(topic, group).await
    }
}

/// The pipeline publishes a batch's changes while the next batch is in the store: when those
/// publishes fail, neither batch is committed, and once the group has joined again (as
/// `run_group` does) every event is applied once and every change is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_publish_commits_nothing_in_flight() {
    let dir = std::env::temp_dir().join(format!("spontra-ingest-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/spontra.db", dir.display());
    let log = EmbeddedLog::open(&spontra_events::embedded::beside(&url))
        .await
        .unwrap();
    let store: Arc<dyn InventoryStore> =
        Arc::new(spontra_store_sqlite::SqliteStore::open(&url).await.unwrap());
    let bus = Arc::new(FailsOnce {
        log,
        publishes: Default::default(),
        fail_at: 2,
    });
    let fl = flights();
    let events: Vec<CloudEvent> = (0..200)
        .map(|i| {
            let shape = if i % 2 == 0 { "duffel" } else { "amadeus" };
            let fare = format!("{}.00", 100 + i);
            event(
                &format!("p{i}"),
                shape,
                fl[i % fl.len()],
                &fare,
                "EUR",
                1000 - i as i64,
            )
        })
        .collect();
    bus.publish(RAW, events.iter().map(keyed).collect())
        .await
        .unwrap();
    let ingestor = Ingestor {
        bus: bus.clone(),
        store: store.clone(),
        refdata: Arc::new(spontra_refdata::RefData::load().unwrap()),
        clock: Arc::new(FixedClock::new(now())),
        throughput: Default::default(),
    };
    let pipeline = ingestor.pipeline();
    let mut consumer = ingestor.subscribe().await.unwrap();
    let mut failures = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "ingestion did not catch up");
        match pipeline
            .run_batch(consumer.as_mut(), 40, Duration::from_millis(100))
            .await
        {
            Ok(stats) if stats.received == 0 && bus.total_lag(RAW, GROUP).await.unwrap() == 0 => {
                break
            }
            Ok(_) => {}
            Err(_) => {
                failures += 1;
                // Two batches were committed; the third, whose publish failed, and the
                // fourth, in the store meanwhile, are not.
                let lag = bus.total_lag(RAW, GROUP).await.unwrap();
                assert_eq!(lag, 200 - 80, "what is left uncommitted");
                drop(consumer);
                consumer = ingestor.subscribe().await.unwrap();
            }
        }
    }
    assert_eq!(failures, 1);
    assert_eq!(
        store.observation_count().await.unwrap(),
        200,
        "each event applied once"
    );
    let changed = read_all(bus.as_ref(), INVENTORY_CHANGED, "check", 200).await;
    let ids: HashSet<String> = changed
        .iter()
        .filter_map(|r| r.header("ce_id"))
        .map(|id| {
            String::from_utf8_lossy(id)
                .rsplit('#')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let want: HashSet<String> = (0..200).map(|i| format!("p{i}")).collect();
    assert_eq!(ids, want, "every change published");
    let _ = std::fs::remove_dir_all(&dir);
}
