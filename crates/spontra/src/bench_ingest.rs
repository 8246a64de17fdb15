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
use spontra_events::{Bus, Message};
use spontra_ingest::feed::{event_for, AMADEUS_FARE_V1, DUFFEL_FARE_V1};
use spontra_ingest::worker::{INVENTORY_CHANGED, RAW};
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
    #[command(flatten)]
    world: WorldArgs,
}

pub fn run(args: IngestBenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.events > 0 && args.batch > 0,
        "give positive --events and --batch"
    );
    let world = args.world.load()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = std::env::temp_dir().join(format!(
        "spontra-bench-ingest-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir)?;
    let result = runtime.block_on(bench(&args, &world, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn bench(
    args: &IngestBenchArgs,
    world: &crate::world::World,
    dir: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let url = format!("sqlite://{}/spontra.db", dir.display());
    let store = Arc::new(
        spontra_store_sqlite::SqliteStore::open(&url)
            .await
            .context("opening the scratch store")?,
    );
    let log: Arc<dyn Bus> = Arc::new(EmbeddedLog::open(&url).await?);
    // Market time: the world's first day at midnight, so every flight is still to come.
    let now = world
        .today
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let index = &world.index;
    // Flights still to come at that time.
    let legs: Vec<u32> = (0..index.leg_count() as u32)
        .filter(|&id| index.to_utc(index.leg(id).dep) * 60 > now.timestamp() + 3600)
        .collect();
    anyhow::ensure!(!legs.is_empty(), "the world has no flights to come");
    let messages: Vec<Message> = (0..args.events)
        .map(|i| {
            let id = legs[(i as u64 * 2_654_435_761 % legs.len() as u64) as usize];
            let v = index.leg_view(id);
            let departure_at = chrono::DateTime::from_timestamp(v.departure * 60, 0)
                .unwrap_or(now + Minutes::days(1));
            let local = departure_at + Minutes::minutes(v.departure_offset as i64);
            let o = FareObservation {
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
                observed_at: now - Minutes::seconds((args.events - i) as i64),
            };
            let type_ = if i % 2 == 0 {
                DUFFEL_FARE_V1
            } else {
                AMADEUS_FARE_V1
            };
            event_for(type_, &o).to_message(format!("{}-{}", o.origin, o.destination))
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
    let mut consumer = ingestor.subscribe().await?;
    let mut total = BatchStats::default();
    let mut batches = vec![];
    let started = Instant::now();
    while total.received < args.events {
        let t = Instant::now();
        let stats = ingestor
            .run_batch(consumer.as_mut(), args.batch, Duration::from_millis(200))
            .await?;
        if stats.received > 0 {
            batches.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        total += stats;
    }
    let ingested = started.elapsed();
    batches.sort_by(f64::total_cmp);
    let pct = |p: f64| batches[((batches.len() - 1) as f64 * p).round() as usize];
    let changes = log.lag(INVENTORY_CHANGED, "bench-reader").await?;
    let changes: i64 = changes.iter().map(|l| l.end).sum();

    println!("inventory: {}", world.description);
    println!(
        "published {} provider events to the embedded log in {:.2} s: {:.0} events/s",
        args.events,
        published.as_secs_f64(),
        args.events as f64 / published.as_secs_f64()
    );
    println!(
        "ingested (validated, applied once, history written, changes published, committed) in {:.2} s: {:.0} events/s",
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
    if let Some(m) = metrics {
        let text = m.render();
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        println!(
            "of which in the store's transactions: {:.2} s",
            value("ingest_apply_seconds_sum")
        );
    }
    Ok(
        if total.applied + total.duplicates == args.events && total.dead_lettered == 0 {
            ExitCode::SUCCESS
        } else {
            eprintln!("error: not every event was applied: {total:?}");
            ExitCode::FAILURE
        },
    )
}
