#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! One conformance suite for every event stream: the embedded log (a SQLite file in a fresh
//! directory) and Kafka (a real broker: `tansu`, the Kafka-protocol broker `scripts/test`
//! installs, started for each test by `testing::Broker` and stopped after it). Each scenario
//! runs once per backend. (`a_group_resumes_after_what_it_committed` and
//! `lag_counts_what_is_not_committed` are what fail on tansu's memory engine; see `testing`.)

use spontra_events::embedded::EmbeddedLog;
use spontra_events::kafka::Kafka;
use spontra_events::testing::Broker;
use spontra_events::{Bus, BusError, Message, Record};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
enum Backend {
    Embedded,
    Kafka,
}

/// What a test's bus needs kept alive: its directory, or its broker.
struct Keep {
    dir: std::path::PathBuf,
    _broker: Option<Broker>,
}

impl Drop for Keep {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn scratch_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "spontra-events-{}-{}",
        std::process::id(),
        unique()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn bus(backend: Backend) -> (Arc<dyn Bus>, Keep) {
    let dir = scratch_dir();
    match backend {
        Backend::Embedded => {
            let log = EmbeddedLog::open(&format!("sqlite://{}/events.db", dir.display()))
                .await
                .unwrap();
            (Arc::new(log), Keep { dir, _broker: None })
        }
        Backend::Kafka => {
            let broker = Broker::start();
            let kafka = Kafka::connect(&broker.address).unwrap();
            let keep = Keep {
                dir,
                _broker: Some(broker),
            };
            (Arc::new(kafka), keep)
        }
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn msg(key: &str, n: usize) -> Message {
    Message::new(key, format!("{key}:{n}")).header("ce_id", format!("{key}-{n}"))
}

/// Poll `consumer` until `want` records have come or `within` has passed.
async fn collect(
    consumer: &mut dyn spontra_events::Consumer,
    want: usize,
    within: Duration,
) -> Vec<Record> {
    let deadline = Instant::now() + within;
    let mut got = vec![];
    while got.len() < want && Instant::now() < deadline {
        got.extend(
            consumer
                .poll(want - got.len(), Duration::from_millis(500))
                .await
                .unwrap(),
        );
    }
    got
}

const PATIENCE: Duration = Duration::from_secs(60);

macro_rules! on_every_bus {
    ($($scenario:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Backend::Embedded).await;
                }
            )*
        }
        mod kafka {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Backend::Kafka).await;
                }
            )*
        }
    };
}

on_every_bus!(
    delivers_every_message_in_order_per_key_with_its_headers,
    a_group_resumes_after_what_it_committed,
    groups_read_independently,
    lag_counts_what_is_not_committed,
    simultaneous_publishers_lose_and_duplicate_nothing,
    poll_waits_for_what_is_published_later,
    bad_names_are_refused,
    a_failed_batch_comes_again_under_run_group,
);

async fn delivers_every_message_in_order_per_key_with_its_headers(backend: Backend) {
    let (bus, _keep) = bus(backend).await;
    for round in 0..5 {
        let batch = ["LHR-JFK", "CDG-NCE", "MAD-BCN"]
            .iter()
            .flat_map(|k| (0..10).map(move |i| msg(k, round * 10 + i)))
            .collect();
        bus.publish("orders", batch).await.unwrap();
    }
    let mut c = bus.subscribe("orders", "readers").await.unwrap();
    let got = collect(c.as_mut(), 150, PATIENCE).await;
    assert_eq!(got.len(), 150);
    let mut per_key: BTreeMap<Vec<u8>, Vec<usize>> = BTreeMap::new();
    for r in &got {
        let text = String::from_utf8(r.payload.clone()).unwrap();
        let (key, n) = text.split_once(':').unwrap();
        assert_eq!(r.key, key.as_bytes());
        assert_eq!(r.header("ce_id"), Some(format!("{key}-{n}").as_bytes()));
        assert!(r.timestamp_ms > 1_700_000_000_000, "{}", r.timestamp_ms);
        per_key
            .entry(r.key.clone())
            .or_default()
            .push(n.parse().unwrap());
    }
    for (key, ns) in per_key {
        assert_eq!(ns, (0..50).collect::<Vec<_>>(), "{key:?} in order");
    }
}

async fn a_group_resumes_after_what_it_committed(backend: Backend) {
    let (bus, _keep) = bus(backend).await;
    bus.publish(
        "resume",
        (0..100).map(|i| msg(&format!("k{}", i % 7), i)).collect(),
    )
    .await
    .unwrap();
    let mut first = bus.subscribe("resume", "g").await.unwrap();
    let seen = collect(first.as_mut(), 100, PATIENCE).await;
    assert_eq!(seen.len(), 100);
    // Apply (and commit) about half: the earlier records of each partition.
    let applied: Vec<Record> = seen.iter().filter(|r| r.offset < 7).cloned().collect();
    first.commit(&applied).await.unwrap();
    drop(first);
    let committed: HashSet<(i32, i64)> = applied.iter().map(|r| (r.partition, r.offset)).collect();
    let mut second = bus.subscribe("resume", "g").await.unwrap();
    let again = collect(second.as_mut(), 100 - applied.len(), PATIENCE).await;
    let again_ids: HashSet<(i32, i64)> = again.iter().map(|r| (r.partition, r.offset)).collect();
    assert_eq!(
        again.len(),
        100 - applied.len(),
        "everything not committed comes again"
    );
    assert!(
        again_ids.is_disjoint(&committed),
        "nothing committed comes again"
    );
    second.commit(&again).await.unwrap();
    let lag: i64 = bus.total_lag("resume", "g").await.unwrap();
    assert_eq!(lag, 0);
}

async fn groups_read_independently(backend: Backend) {
    let (bus, _keep) = bus(backend).await;
    bus.publish("shared", (0..40).map(|i| msg("k", i)).collect())
        .await
        .unwrap();
    let mut a = bus.subscribe("shared", "pricing").await.unwrap();
    let got_a = collect(a.as_mut(), 40, PATIENCE).await;
    a.commit(&got_a).await.unwrap();
    let mut b = bus.subscribe("shared", "search").await.unwrap();
    let got_b = collect(b.as_mut(), 40, PATIENCE).await;
    assert_eq!((got_a.len(), got_b.len()), (40, 40));
}

async fn lag_counts_what_is_not_committed(backend: Backend) {
    let (bus, _keep) = bus(backend).await;
    bus.publish(
        "lagging",
        (0..30).map(|i| msg(&format!("k{i}"), i)).collect(),
    )
    .await
    .unwrap();
    let lag = bus.lag("lagging", "late").await.unwrap();
    assert_eq!(lag.iter().map(|l| l.lag()).sum::<i64>(), 30, "{lag:?}");
    assert_eq!(lag.iter().map(|l| l.end).sum::<i64>(), 30);
    let mut c = bus.subscribe("lagging", "late").await.unwrap();
    let got = collect(c.as_mut(), 30, PATIENCE).await;
    c.commit(&got[..10]).await.unwrap();
    let after: i64 = bus.total_lag("lagging", "late").await.unwrap();
    assert_eq!(after, 20, "the ten applied are no longer behind");
    c.commit(&got).await.unwrap();
    let done: i64 = bus.total_lag("lagging", "late").await.unwrap();
    assert_eq!(done, 0);
}

async fn simultaneous_publishers_lose_and_duplicate_nothing(backend: Backend) {
    let (bus, _keep) = bus(backend).await;
    let publishers = 16;
    let each = 50;
    let gate = Arc::new(tokio::sync::Barrier::new(publishers));
    let mut tasks = vec![];
    for p in 0..publishers {
        let (bus, gate) = (bus.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            for chunk in 0..5 {
                let batch = (0..each / 5)
                    .map(|i| msg(&format!("p{p}"), chunk * (each / 5) + i))
                    .collect();
                bus.publish("burst", batch).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut c = bus.subscribe("burst", "count").await.unwrap();
    let got = collect(c.as_mut(), publishers * each, PATIENCE).await;
    let extra = c.poll(10, Duration::from_secs(1)).await.unwrap();
    assert!(extra.is_empty(), "{} more than published", extra.len());
    let ids: HashSet<Vec<u8>> = got.iter().map(|r| r.payload.clone()).collect();
    assert_eq!(got.len(), publishers * each, "every message once");
    assert_eq!(ids.len(), publishers * each, "no duplicates");
    let offsets: HashSet<(i32, i64)> = got.iter().map(|r| (r.partition, r.offset)).collect();
    assert_eq!(offsets.len(), got.len(), "no two share an offset");
}

async fn poll_waits_for_what_is_published_later(backend: Backend) {
    let (bus, _keep) = bus(backend).await;
    bus.publish("later", vec![msg("k", 0)]).await.unwrap();
    let mut c = bus.subscribe("later", "waiting").await.unwrap();
    assert_eq!(collect(c.as_mut(), 1, PATIENCE).await.len(), 1);
    // Nothing new: an empty answer after about the wait.
    let started = Instant::now();
    assert!(c
        .poll(10, Duration::from_millis(300))
        .await
        .unwrap()
        .is_empty());
    assert!(started.elapsed() >= Duration::from_millis(250));
    // Published while the consumer waits: it wakes for it.
    let publisher = bus.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        publisher.publish("later", vec![msg("k", 1)]).await.unwrap();
    });
    let started = Instant::now();
    let got = c.poll(10, Duration::from_secs(20)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload, b"k:1");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

async fn bad_names_are_refused(backend: Backend) {
    let (bus, _keep) = bus(backend).await;
    for bad in ["", "has space", "slash/ed", "ünï"] {
        assert!(matches!(
            bus.publish(bad, vec![msg("k", 0)]).await,
            Err(BusError::InvalidName(_))
        ));
        assert!(matches!(
            bus.subscribe("fine", bad).await.err(),
            Some(BusError::InvalidName(_))
        ));
    }
}

/// The embedded log is a file: what was published is there after the log is closed and
/// opened again, and so is what a group committed.
#[tokio::test]
async fn the_embedded_log_survives_reopening() {
    let dir = scratch_dir();
    let _keep = Keep {
        dir: dir.clone(),
        _broker: None,
    };
    let url = format!("sqlite://{}/events.db", dir.display());
    {
        let log = EmbeddedLog::open(&url).await.unwrap();
        log.publish("kept", (0..20).map(|i| msg("k", i)).collect())
            .await
            .unwrap();
        let mut c = log.subscribe("kept", "g").await.unwrap();
        let got = collect(c.as_mut(), 20, PATIENCE).await;
        c.commit(&got[..5]).await.unwrap();
    }
    let log = EmbeddedLog::open(&url).await.unwrap();
    let mut c = log.subscribe("kept", "g").await.unwrap();
    let got = collect(c.as_mut(), 20, Duration::from_secs(2)).await;
    assert_eq!(got.len(), 15, "the 15 not committed, and only those");
    // One member per group at a time in the embedded profile.
    assert!(matches!(
        log.subscribe("kept", "g").await.err(),
        Some(BusError::GroupBusy { .. })
    ));
}

/// Fails its first batch (uncommitted), then applies and commits every batch, until it has
/// seen `want` distinct records.
struct FailsOnce {
    failed: std::sync::atomic::AtomicBool,
    first_batch: std::sync::Mutex<Vec<String>>,
    applied: std::sync::Mutex<HashSet<String>>,
    want: usize,
    done: tokio::sync::watch::Sender<bool>,
}

#[async_trait::async_trait]
impl spontra_events::BatchHandler for FailsOnce {
    async fn batch(
        &self,
        consumer: &mut dyn spontra_events::Consumer,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        use std::sync::atomic::Ordering;
        let records = consumer.poll(10, Duration::from_millis(500)).await?;
        let payloads = records
            .iter()
            .map(|r| String::from_utf8_lossy(&r.payload).into_owned());
        if !records.is_empty() && !self.failed.swap(true, Ordering::SeqCst) {
            *self.first_batch.lock().unwrap() = payloads.collect();
            return Err("the store is down".into());
        }
        consumer.commit(&records).await?;
        let mut applied = self.applied.lock().unwrap();
        applied.extend(payloads);
        if applied.len() >= self.want {
            let _ = self.done.send(true);
        }
        Ok(())
    }

    fn lag(&self, _records: i64) {}
}

async fn a_failed_batch_comes_again_under_run_group(backend: Backend) {
    let (bus, _keep) = bus(backend).await;
    bus.publish(
        "fails",
        (0..30).map(|i| msg(&format!("k{}", i % 5), i)).collect(),
    )
    .await
    .unwrap();
    let (done, stop) = tokio::sync::watch::channel(false);
    let handler = FailsOnce {
        failed: Default::default(),
        first_batch: Default::default(),
        applied: Default::default(),
        want: 30,
        done,
    };
    let run = spontra_events::run_group(bus.as_ref(), "fails", "g", &handler, stop);
    tokio::time::timeout(PATIENCE, run)
        .await
        .expect("every record applied, the failed batch's too");
    let first = handler.first_batch.lock().unwrap().clone();
    assert!(!first.is_empty());
    let applied = handler.applied.lock().unwrap().clone();
    assert!(
        first.iter().all(|p| applied.contains(p)),
        "the failed batch came again"
    );
    assert_eq!(applied.len(), 30);
    assert_eq!(bus.total_lag("fails", "g").await.unwrap(), 0);
}
