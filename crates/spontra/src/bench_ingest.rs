//! `spontra bench ingest`: ingestion end to end on the embedded profile — provider events
//! published to the durable log, then consumed, validated, applied once to the store and the
//! price history, and their changes published, as `spontra serve` does — in a scratch data
//! directory of its own.

use crate::cli::WorldArgs;
use anyhow::Context;
use chrono::{Duration as Minutes, Utc};
use clap::Args;
use spontra_domain::FixedClock;
use spontra_events::embedded::EmbeddedLog;
use spontra_events::kafka::Kafka;
use spontra_events::{Bus, Message};
use spontra_ingest::feed::{event_for, AMADEUS_FARE_V1, DUFFEL_FARE_V1};
use spontra_ingest::worker::{ObservationEvent, FARE_CHANGED, INVENTORY_CHANGED, RAW};
use spontra_ingest::{BatchStats, Ingestor};
use spontra_store::{FareObservation, InventoryStore};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct IngestBenchArgs {
    /// Provider events to publish and ingest (each a distinct fare change).
    #[arg(long, default_value_t = 100_000)]
    events: usize,
    /// Records the consumer takes per batch (one store transaction each).
    #[arg(long, default_value_t = 5_000)]
    batch: usize,
    /// Changes per second a search index takes while searches run (0: skip that part).
    #[arg(long, default_value_t = 100_000)]
    change_rate: usize,
    /// Changes a search process applies as one version (one poll of `inventory.changed`).
    #[arg(long, default_value_t = 5_000)]
    change_batch: usize,
    /// Also run ingestion on Kafka: a `tansu` broker (as the tests start it) on a free port,
    /// with a plain librdkafka consumer's rate on it as the ceiling.
    #[arg(long)]
    kafka: bool,
    /// How long searches run under that stream of changes.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The point-to-point searches run idle and under changes (as `spontra bench --queries`).
    #[arg(long, default_value = "bench/queries.csv")]
    queries: std::path::PathBuf,
    #[command(flatten)]
    world: WorldArgs,
}

pub fn run(args: IngestBenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.events > 0 && args.batch > 0 && args.change_batch > 0 && args.seconds > 0,
        "give positive --events, --batch, --change-batch and --seconds"
    );
    let world = args.world.load()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = crate::bench::scratch_dir("ingest");
    std::fs::create_dir_all(&dir)?;
    let result = runtime.block_on(async {
        let url = format!("sqlite://{}/spontra.db", dir.display());
        let log = Arc::new(EmbeddedLog::open(&spontra_events::embedded::beside(&url)).await?);
        let embedded = bench(&args, &world, &url, "the embedded log", log).await?;
        if !args.kafka || embedded != ExitCode::SUCCESS {
            return Ok(embedded);
        }
        let broker = spontra_events::testing::Broker::start();
        let kafka = Arc::new(Kafka::connect(&broker.address)?);
        let url = format!("sqlite://{}/kafka-store.db", dir.display());
        let on_kafka = bench(&args, &world, &url, "Kafka (tansu)", kafka.clone()).await?;
        let raw = kafka.read_raw(RAW, "bench-raw", args.events).await?;
        println!(
            "Kafka (tansu): a plain librdkafka consumer read the same {} records in {:.2} s: {:.0} records/s (the ceiling)",
            args.events,
            raw.as_secs_f64(),
            args.events as f64 / raw.as_secs_f64()
        );
        Ok::<_, anyhow::Error>(on_kafka)
    });
    let _ = std::fs::remove_dir_all(&dir);
    if args.change_rate > 0 && matches!(result, Ok(ExitCode::SUCCESS)) {
        search_under_changes(&args, &world)?;
    }
    result
}

/// Market time for the benchmark: the world's first day at midnight, so every flight is still
/// to come.
fn market_start(world: &crate::world::World) -> chrono::DateTime<Utc> {
    world
        .today
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
}

/// `count` distinct fare changes of flights still to come at `now` (spread over the whole
/// world), each observed a second after the one before, the last a second before `now`.
fn observations(
    world: &crate::world::World,
    count: usize,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<Vec<FareObservation>> {
    let index = &world.index;
    let legs: Vec<u32> = (0..index.leg_count() as u32)
        .filter(|&id| index.to_utc(index.leg(id).dep) * 60 > now.timestamp() + 3600)
        .collect();
    anyhow::ensure!(!legs.is_empty(), "the world has no flights to come");
    Ok((0..count)
        .map(|i| {
            let id = legs[(i as u64 * 2_654_435_761 % legs.len() as u64) as usize];
            let v = index.leg_view(id);
            let departure_at = chrono::DateTime::from_timestamp(v.departure * 60, 0)
                .unwrap_or(now + Minutes::days(1));
            let local = departure_at + Minutes::minutes(v.departure_offset as i64);
            FareObservation {
                source: "/providers/bench".into(),
                event_id: i.to_string(),
                carrier: v.carrier.to_string(),
                flight_number: v.flight_number,
                departure_date: local.date_naive(),
                origin: v.origin.to_string(),
                destination: v.destination.to_string(),
                cabin: "economy".into(),
                fare_minor: index.leg(id).fare as i64 + 1 + (i % 97) as i64,
                currency: index.currency().as_str().to_string(),
                seats_left: (i % 10) as i32,
                departure_at,
                observed_at: now - Minutes::seconds((count - i) as i64),
            }
        })
        .collect())
}

/// Searches on a live index while it takes `--change-rate` fare changes a second, against the
/// same searches idle. The changes arrive as `inventory.changed` records (ingestion's JSON),
/// and are read and applied as a search process's follower does: each `--change-batch` of
/// them read and made one version, on a thread of its own, while the searches run on another.
/// A change is visible once the version holding it is current: its latency runs from the
/// moment it arrived (changes arrive evenly; a batch is taken once its last change is in).
fn search_under_changes(args: &IngestBenchArgs, world: &crate::world::World) -> anyhow::Result<()> {
    use spontra_engine::{Filters, SliceQuery};
    use spontra_search::live::{Item, LiveIndex};
    use std::sync::atomic::{AtomicBool, Ordering};
    let queries =
        crate::bench::read_queries(&args.queries, &world.refdata, &world.index, world.today)?;
    anyhow::ensure!(
        !queries.is_empty(),
        "{} holds no query",
        args.queries.display()
    );
    let total = args.change_rate * args.seconds as usize;
    let now = market_start(world);
    // `inventory.changed` records as ingestion publishes them, and what the follower reads.
    let records = |observations: Vec<FareObservation>| -> Vec<spontra_events::Record> {
        observations
            .iter()
            .enumerate()
            .map(|(i, o)| spontra_events::Record {
                topic: INVENTORY_CHANGED.into(),
                partition: 0,
                offset: i as i64,
                key: format!("{}-{}", o.origin, o.destination).into_bytes(),
                headers: vec![("ce_type".into(), FARE_CHANGED.as_bytes().to_vec())],
                payload: serde_json::to_vec(&ObservationEvent::from(o)).unwrap_or_default(),
                timestamp_ms: 0,
            })
            .collect()
    };
    let read = |batch: &[spontra_events::Record]| -> Vec<_> {
        batch
            .iter()
            .filter_map(|r| match Item::read(r) {
                Ok(Item::Fare(c)) => Some(c),
                _ => None,
            })
            .collect()
    };
    let stream = records(observations(world, total, now)?);
    let live = LiveIndex::new(world.index.clone(), world.today);
    let filters = Filters::default();
    let slices: Vec<SliceQuery> = queries
        .iter()
        .map(|q| SliceQuery {
            origins: q.origins.clone(),
            destinations: q.destinations.clone(),
            date: q.date,
        })
        .collect();
    let search = |s: &SliceQuery| {
        let snapshot = live.current();
        let t = Instant::now();
        std::hint::black_box(
            snapshot
                .index
                .search_trip(std::slice::from_ref(s), &filters),
        );
        t.elapsed().as_secs_f64() * 1e6
    };
    for s in slices.iter().take(20) {
        search(s);
    }
    // The first versions copy the index as built (the world holds it too); a follower does
    // that once after each layout, not per batch.
    let warm_up = records(observations(
        world,
        2 * args.change_batch,
        now - Minutes::days(1),
    )?);
    for batch in warm_up.chunks(args.change_batch) {
        live.apply_changes(read(batch));
    }
    let idle: Vec<f64> = slices.iter().map(search).collect();
    let done = AtomicBool::new(false);
    let mut loaded = vec![];
    let started = Instant::now();
    let per_change = Duration::from_secs_f64(1.0 / args.change_rate as f64);
    let mut visible = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut visible: Vec<f64> = Vec::with_capacity(total);
            let mut applied = 0usize;
            let mut versions = vec![];
            for (k, batch) in stream.chunks(args.change_batch).enumerate() {
                let first = k * args.change_batch;
                let due = started + per_change * (first + batch.len()) as u32;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let changes = read(batch);
                let t = Instant::now();
                applied += live.apply_changes(changes).outcome.applied;
                let seen = Instant::now();
                versions.push(seen.duration_since(t).as_secs_f64() * 1e6);
                for j in first..first + batch.len() {
                    let arrived = started + per_change * j as u32;
                    visible.push(seen.duration_since(arrived).as_secs_f64() * 1000.0);
                }
            }
            done.store(true, Ordering::Release);
            (started.elapsed(), applied, visible, versions)
        });
        for s in slices.iter().cycle() {
            if done.load(Ordering::Acquire) {
                break;
            }
            loaded.push(search(s));
        }
        let (took, applied, visible, versions) = writer.join().unwrap_or_default();
        println!(
            "search under changes: {total} fare changes ({} applied) in {:.2} s = {:.0} changes/s as {} versions of up to {} (asked {} a second)",
            applied,
            took.as_secs_f64(),
            total as f64 / took.as_secs_f64(),
            live.current().version,
            args.change_batch,
            args.change_rate
        );
        crate::bench::report("a version made (read, applied)", versions);
        visible
    });
    let p99 = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        crate::bench::percentile(&v, 0.99)
    };
    let (idle_p99, loaded_p99) = (p99(idle.clone()), p99(loaded.clone()));
    crate::bench::report("point-to-point, idle", idle);
    crate::bench::report("point-to-point, under changes", loaded);
    println!(
        "{:<34} p99 under changes / idle = {:.2}",
        "",
        loaded_p99 / idle_p99.max(1e-9)
    );
    visible.sort_by(f64::total_cmp);
    let pct = |p: f64| crate::bench::percentile(&visible, p);
    println!(
        "a change searchable after it arrived: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; process RSS {:.0} MiB",
        pct(0.5),
        pct(0.95),
        pct(1.0),
        crate::bench::rss_bytes().unwrap_or(0) as f64 / 1048576.0
    );
    Ok(())
}

/// Publish `--events` provider events to `log`, then ingest them into a scratch SQLite store
/// at `url`, and say how fast each went.
async fn bench(
    args: &IngestBenchArgs,
    world: &crate::world::World,
    url: &str,
    name: &str,
    log: Arc<dyn Bus>,
) -> anyhow::Result<ExitCode> {
    let store = Arc::new(
        spontra_store_sqlite::SqliteStore::open(url)
            .await
            .context("opening the scratch store")?,
    );
    let now = market_start(world);
    let messages: Vec<Message> = observations(world, args.events, now)?
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let type_ = if i % 2 == 0 {
                DUFFEL_FARE_V1
            } else {
                AMADEUS_FARE_V1
            };
            event_for(type_, o).to_message(format!("{}-{}", o.origin, o.destination))
        })
        .collect();

    let started = Instant::now();
    for chunk in messages.chunks(10_000) {
        log.publish(RAW, chunk.to_vec()).await?;
    }
    let published = started.elapsed();

    let ingestor = Ingestor {
        bus: log.clone(),
        store: store.clone(),
        refdata: world.refdata.clone(),
        clock: Arc::new(FixedClock::new(now)),
        throughput: Default::default(),
    };
    // Ingestion's own metrics say where the time goes.
    let metrics = spontra_http::metrics::prometheus();
    let in_store = || {
        let text = metrics.as_ref().map(|m| m.render()).unwrap_or_default();
        text.lines()
            .find_map(|l| {
                l.strip_prefix("ingest_apply_seconds_sum")?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or(0.0)
    };
    let in_store_before = in_store();
    let mut consumer = ingestor.subscribe().await?;
    let pipeline = ingestor.pipeline();
    let mut total = BatchStats::default();
    let mut batches = vec![];
    let started = Instant::now();
    while total.received < args.events {
        let t = Instant::now();
        let stats = pipeline
            .run_batch(consumer.as_mut(), args.batch, Duration::from_millis(5))
            .await?;
        if stats.received > 0 {
            batches.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        total += stats;
    }
    pipeline.finish(consumer.as_mut()).await?;
    let ingested = started.elapsed();
    batches.sort_by(f64::total_cmp);
    let pct = |p: f64| batches[((batches.len() - 1) as f64 * p).round() as usize];
    let changes = log.lag(INVENTORY_CHANGED, "bench-reader").await?;
    let changes: i64 = changes.iter().map(|l| l.end).sum();

    println!("inventory: {}", world.description);
    println!(
        "published {} provider events to {name} in {:.2} s: {:.0} events/s",
        args.events,
        published.as_secs_f64(),
        args.events as f64 / published.as_secs_f64()
    );
    println!(
        "{name}: ingested (validated, applied once, history written, changes published, committed) in {:.2} s: {:.0} events/s",
        ingested.as_secs_f64(),
        args.events as f64 / ingested.as_secs_f64()
    );
    println!(
        "{} applied, {} duplicates, {} changed, {} dead letters; {} inventory.changed events; {} price observations stored",
        total.applied,
        total.duplicates,
        total.changed,
        total.dead_lettered,
        changes,
        store.observation_count().await?
    );
    println!(
        "batches of up to {}: {} batches, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        args.batch,
        batches.len(),
        pct(0.5),
        pct(0.95),
        pct(1.0)
    );
    println!(
        "of which in the store's transactions: {:.2} s",
        in_store() - in_store_before
    );
    Ok(
        if total.applied + total.duplicates == args.events && total.dead_lettered == 0 {
            ExitCode::SUCCESS
        } else {
            eprintln!("error: not every event was applied: {total:?}");
            ExitCode::FAILURE
        },
    )
}
