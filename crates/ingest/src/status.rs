//! What operators see of ingestion, and what they can do about dead letters: how far the
//! ingesting group is behind on each partition of `provider.raw`, and every dead letter with
//! its reason; a replay sends dead letters back to `provider.raw` as they first came (after
//! reference data was fixed, say), where ingestion judges them again.

use crate::worker::{DEAD_LETTER, GROUP, RAW};
use serde::Serialize;
use spontra_events::{Bus, BusError, Consumer, Message, PartitionLag, Record};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The group that remembers which dead letters `replay --all` has sent back.
pub const REPLAY_GROUP: &str = "ingest-replay";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartitionStatus {
    pub partition: i32,
    pub committed: i64,
    pub end: i64,
    pub lag: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadLetter {
    /// Where it sits in `provider.dead_letter` (what `replay` names).
    pub partition: i32,
    pub offset: i64,
    pub code: String,
    pub field: String,
    pub reason: String,
    /// The CloudEvent id and source it came with, when it had them.
    pub event_id: Option<String>,
    pub source: Option<String>,
    /// Where it was in `provider.raw`.
    pub original_partition: Option<String>,
    pub original_offset: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub topic: &'static str,
    pub group: &'static str,
    pub lag: i64,
    pub partitions: Vec<PartitionStatus>,
    pub dead_letters_by_code: BTreeMap<String, usize>,
    pub dead_letters: Vec<DeadLetter>,
}

fn text(r: &Record, name: &str) -> Option<String> {
    r.header(name)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// `count` records from `consumer` (fewer if they do not come within 30 s).
async fn take(consumer: &mut dyn Consumer, count: i64) -> Result<Vec<Record>, BusError> {
    let mut records = vec![];
    let deadline = Instant::now() + Duration::from_secs(30);
    while (records.len() as i64) < count && Instant::now() < deadline {
        records.extend(consumer.poll(10_000, Duration::from_millis(500)).await?);
    }
    Ok(records)
}

/// Every record of `topic` at the time of asking, read by a group of its own that commits
/// nothing.
async fn read_topic(bus: &dyn Bus, topic: &str, group: &str) -> Result<Vec<Record>, BusError> {
    let end: i64 = bus.lag(topic, group).await?.iter().map(|l| l.end).sum();
    let mut consumer = bus.subscribe(topic, group).await?;
    take(consumer.as_mut(), end).await
}

fn reader_group() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("ingest-status-{}-{nanos}", std::process::id())
}

/// The ingesting group's position and the dead letters.
pub async fn status(bus: &dyn Bus) -> Result<Status, BusError> {
    let lags: Vec<PartitionLag> = bus.lag(RAW, GROUP).await?;
    let dead: Vec<DeadLetter> = read_topic(bus, DEAD_LETTER, &reader_group())
        .await?
        .iter()
        .map(|r| DeadLetter {
            partition: r.partition,
            offset: r.offset,
            code: text(r, "dlq_code").unwrap_or_default(),
            field: text(r, "dlq_field").unwrap_or_default(),
            reason: text(r, "dlq_reason").unwrap_or_default(),
            event_id: text(r, "ce_id"),
            source: text(r, "ce_source"),
            original_partition: text(r, "dlq_partition"),
            original_offset: text(r, "dlq_offset"),
        })
        .collect();
    let mut by_code = BTreeMap::new();
    for d in &dead {
        *by_code.entry(d.code.clone()).or_insert(0) += 1;
    }
    Ok(Status {
        topic: RAW,
        group: GROUP,
        lag: lags.iter().map(PartitionLag::lag).sum(),
        partitions: lags
            .iter()
            .map(|l| PartitionStatus {
                partition: l.partition,
                committed: l.committed,
                end: l.end,
                lag: l.lag(),
            })
            .collect(),
        dead_letters_by_code: by_code,
        dead_letters: dead,
    })
}

/// Events the ingesting group committed per second, measured over `over` (what `spontra
/// ingest status` reports; a running process's own rate is in its admin API and metrics).
pub async fn committed_per_second(bus: &dyn Bus, over: Duration) -> Result<f64, BusError> {
    let committed = |lags: Vec<PartitionLag>| lags.iter().map(|l| l.committed.max(0)).sum::<i64>();
    let before = committed(bus.lag(RAW, GROUP).await?);
    let started = Instant::now();
    tokio::time::sleep(over).await;
    let after = committed(bus.lag(RAW, GROUP).await?);
    Ok((after - before).max(0) as f64 / started.elapsed().as_secs_f64())
}

/// Which dead letters to send back.
#[derive(Clone, Copy, Debug)]
pub enum Replay {
    /// Every one not replayed before.
    All,
    /// The one at this partition and offset of `provider.dead_letter`.
    One { partition: i32, offset: i64 },
}

/// The message as it first came: its key, payload and headers, without the reason.
fn original(r: &Record) -> Message {
    let mut m = Message::new(r.key.clone(), r.payload.clone());
    m.headers = r
        .headers
        .iter()
        .filter(|(name, _)| !name.starts_with("dlq_"))
        .cloned()
        .collect();
    m
}

/// Send dead letters back to `provider.raw`; how many were sent.
pub async fn replay(bus: &dyn Bus, which: Replay) -> Result<usize, BusError> {
    match which {
        Replay::All => {
            let unsent = bus.total_lag(DEAD_LETTER, REPLAY_GROUP).await?;
            let mut consumer = bus.subscribe(DEAD_LETTER, REPLAY_GROUP).await?;
            let records = take(consumer.as_mut(), unsent).await?;
            bus.publish(RAW, records.iter().map(original).collect())
                .await?;
            consumer.commit(&records).await?;
            Ok(records.len())
        }
        Replay::One { partition, offset } => {
            let records = read_topic(bus, DEAD_LETTER, &reader_group()).await?;
            let found: Vec<Message> = records
                .iter()
                .filter(|r| r.partition == partition && r.offset == offset)
                .map(original)
                .collect();
            let n = found.len();
            bus.publish(RAW, found).await?;
            Ok(n)
        }
    }
}
