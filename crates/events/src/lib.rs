//! The event stream. One [`Bus`] trait: publish keyed messages to a topic, and consume a topic
//! as a member of a consumer group whose committed offsets say where it resumes. Delivery is
//! **at least once**: a consumer commits an offset after it has applied the records before it,
//! so a crash re-delivers what was not committed, and handlers that apply each event once by
//! its id make the effect exactly once. Records with the same key keep their order (they share
//! a partition).
//!
//! Two implementations pass one conformance suite (`tests/conformance.rs`):
//! - [`embedded::EmbeddedLog`], the embedded profile's durable log: tables in a SQLite file in
//!   the data directory (WAL; a committed publish survives `kill -9`), offsets per group;
//! - [`kafka::Kafka`], the scaled profile's: Apache Kafka (or any broker that speaks its
//!   protocol) through `rdkafka` with its bundled librdkafka, an idempotent producer, and
//!   offsets committed by hand after the consumer's own store has committed.

pub mod cloudevents;
pub mod embedded;
pub mod kafka;
pub mod testing;
pub mod topics;

use async_trait::async_trait;
use std::time::Duration;

/// What a producer sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Decides the partition: messages with one key keep their order.
    pub key: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub payload: Vec<u8>,
}

impl Message {
    pub fn new(key: impl Into<Vec<u8>>, payload: impl Into<Vec<u8>>) -> Self {
        Message {
            key: key.into(),
            headers: vec![],
            payload: payload.into(),
        }
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What a consumer receives: the message and where it sits in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub payload: Vec<u8>,
    /// When it was appended, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

impl Record {
    /// This record as a dead letter: its key, headers and payload as they came, with why it
    /// was refused (`dlq_code`, `dlq_field` — empty for the whole record —, `dlq_reason`) and
    /// where it was read (`dlq_topic`, `dlq_partition`, `dlq_offset`).
    pub fn dead_letter(&self, code: &str, field: &str, reason: &str) -> Message {
        let mut m = Message::new(self.key.clone(), self.payload.clone());
        m.headers = self.headers.clone();
        m.header("dlq_code", code)
            .header("dlq_field", field)
            .header("dlq_reason", reason)
            .header("dlq_topic", self.topic.as_str())
            .header("dlq_partition", self.partition.to_string())
            .header("dlq_offset", self.offset.to_string())
    }

    /// The value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// One partition's position for a consumer group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionLag {
    pub partition: i32,
    /// The next offset the group will read (0 when it has committed nothing).
    pub committed: i64,
    /// The offset the next appended record will get.
    pub end: i64,
}

impl PartitionLag {
    /// Records appended but not yet committed by the group.
    pub fn lag(&self) -> i64 {
        (self.end - self.committed).max(0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The log or broker cannot be reached or refused the operation; worth retrying.
    #[error("event stream unavailable: {0}")]
    Unavailable(String),
    /// The embedded log serves one member per consumer group and topic at a time.
    #[error("consumer group {group:?} already has a member reading {topic:?} in this process")]
    GroupBusy { group: String, topic: String },
    /// A topic or group name the log cannot hold.
    #[error("invalid name {0:?}: 1–200 characters of letters, digits, '.', '_' and '-'")]
    InvalidName(String),
}

/// The event stream.
#[async_trait]
pub trait Bus: Send + Sync {
    /// Append `messages` to `topic`; when this returns they are durable and will be delivered.
    async fn publish(&self, topic: &str, messages: Vec<Message>) -> Result<(), BusError>;

    /// Join `group` reading `topic`: delivery resumes after the group's committed offsets, or
    /// from the start of the log when the group has committed nothing.
    async fn subscribe(&self, topic: &str, group: &str) -> Result<Box<dyn Consumer>, BusError>;

    /// Each partition's committed offset for `group` and its end.
    async fn lag(&self, topic: &str, group: &str) -> Result<Vec<PartitionLag>, BusError>;

    /// Records appended to `topic` that `group` has not committed, over all partitions.
    async fn total_lag(&self, topic: &str, group: &str) -> Result<i64, BusError> {
        Ok(self
            .lag(topic, group)
            .await?
            .iter()
            .map(PartitionLag::lag)
            .sum())
    }
}

/// A consumer group member.
#[async_trait]
pub trait Consumer: Send {
    /// Up to `max` records, waiting at most `wait` for the first. Records of one partition
    /// come in offset order; an empty answer means nothing arrived in time.
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Record>, BusError>;

    /// The records up to and including these have been applied: the group resumes after the
    /// highest offset of each partition among them.
    async fn commit(&mut self, applied: &[Record]) -> Result<(), BusError>;
}

/// What a background consumer does with its group's records, for [`run_group`].
#[async_trait]
pub trait BatchHandler: Send + Sync {
    /// Poll, apply and commit one batch. An error is logged and the group joined again, so
    /// what was not committed comes again.
    async fn batch(
        &self,
        consumer: &mut dyn Consumer,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;

    /// The group's lag on the topic (records appended, not committed), measured at most once
    /// a second.
    fn lag(&self, records: i64);
}

/// Consume `topic` as `group` until `stop` says so: join the group (retrying every second
/// while the stream is unreachable, so a consumer waits for its broker rather than dying),
/// then batch after batch, measuring the lag at most once a second (on Kafka it is a round
/// trip per partition). A failed batch is logged and, after a pause, the group is joined
/// again, so it resumes from its last commit: what failed comes again, and bad input or a
/// busy store never stops the consumer.
pub async fn run_group(
    bus: &dyn Bus,
    topic: &str,
    group: &str,
    handler: &dyn BatchHandler,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    /// A second's wait; false when `stop` says so first.
    async fn pause(stop: &mut tokio::sync::watch::Receiver<bool>) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => true,
            _ = stop.changed() => false,
        }
    }
    while !*stop.borrow() {
        let mut consumer = match bus.subscribe(topic, group).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, topic, group, "cannot join the consumer group yet");
                if !pause(&mut stop).await {
                    return;
                }
                continue;
            }
        };
        let mut lag_measured: Option<std::time::Instant> = None;
        while !*stop.borrow() {
            if lag_measured.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                lag_measured = Some(std::time::Instant::now());
                if let Ok(lag) = bus.total_lag(topic, group).await {
                    handler.lag(lag);
                }
            }
            let failed = tokio::select! {
                result = handler.batch(consumer.as_mut()) => result.err(),
                _ = stop.changed() => None,
            };
            if let Some(e) = failed {
                tracing::warn!(error = %e, topic, group, "a batch failed; the group resumes from its last commit");
                // Leave the group, so the next member starts at the committed offsets.
                drop(consumer);
                if !pause(&mut stop).await {
                    return;
                }
                break;
            }
        }
    }
}

/// Topic and group names: what both Kafka and the embedded log accept.
pub fn check_name(name: &str) -> Result<(), BusError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(BusError::InvalidName(name.to_string()))
    }
}

/// The highest offset + 1 of each partition among `records`: what a commit stores.
pub fn next_offsets(records: &[Record]) -> Vec<(i32, i64)> {
    let mut next: Vec<(i32, i64)> = vec![];
    for r in records {
        match next.iter_mut().find(|(p, _)| *p == r.partition) {
            Some((_, o)) => *o = (*o).max(r.offset + 1),
            None => next.push((r.partition, r.offset + 1)),
        }
    }
    next.sort_unstable();
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_what_kafka_accepts() {
        assert!(check_name("provider.raw").is_ok());
        assert!(check_name("ingest-1_a").is_ok());
        for bad in ["", "a b", "a/b", "ü", &"x".repeat(201)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_commit_stores_the_next_offset_per_partition() {
        let r = |partition, offset| Record {
            topic: "t".into(),
            partition,
            offset,
            key: vec![],
            headers: vec![],
            payload: vec![],
            timestamp_ms: 0,
        };
        assert_eq!(
            next_offsets(&[r(1, 4), r(0, 7), r(1, 9), r(1, 5)]),
            vec![(0, 8), (1, 10)]
        );
    }
}
