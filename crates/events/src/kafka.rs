//! The scaled profile's event stream: Apache Kafka, or any broker speaking its protocol, through
//! `rdkafka` (librdkafka, built from the bundled source).
//!
//! - The producer is idempotent (`enable.idempotence`: the broker drops a retried duplicate,
//!   and each partition keeps the order sent) and waits for every replica (`acks=all`);
//!   `publish` returns once every message is acknowledged.
//! - Consumers join their group with automatic commits off: `commit` stores the offsets a
//!   handler has applied, synchronously, after the handler's own store has committed. That is
//!   at-least-once delivery with idempotent handlers on top rather than Kafka transactions:
//!   the effects land in another store (SQLite or PostgreSQL), which a Kafka transaction cannot
//!   enclose, so deduplicating by event id there is what makes them exactly once anyway.
//! - Topics are created on first use with [`Kafka::partitions`] partitions.

use crate::{check_name, next_offsets, Bus, BusError, Consumer, Message, PartitionLag, Record};
use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Header, Headers, Message as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long broker round trips (metadata, commits, watermarks) may take.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// librdkafka's default group session timeout.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(45);

/// A Kafka cluster.
#[derive(Clone)]
pub struct Kafka {
    brokers: String,
    /// Partitions of a topic this creates.
    pub partitions: i32,
    /// How long a group member may go unheard before the coordinator gives its partitions
    /// to the others: how long a crashed consumer's partitions wait.
    session_timeout: Duration,
    producer: FutureProducer,
    admin: Arc<AdminClient<DefaultClientContext>>,
    known_topics: Arc<Mutex<HashSet<String>>>,
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

impl Kafka {
    /// A client of the cluster at `brokers` (`host:port[,host:port…]`).
    pub fn connect(brokers: &str) -> Result<Kafka, BusError> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "30000")
            .create()
            .map_err(unavailable)?;
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .create()
            .map_err(unavailable)?;
        Ok(Kafka {
            brokers: brokers.to_string(),
            partitions: crate::embedded::DEFAULT_PARTITIONS,
            session_timeout: DEFAULT_SESSION_TIMEOUT,
            producer,
            admin: Arc::new(admin),
            known_topics: Arc::new(Mutex::new(HashSet::new())),
        })
    }

    /// Consumers of this client leave their group's view after `timeout` without a heartbeat
    /// (heartbeats every third of it). Shorter: a crashed member's partitions move sooner;
    /// longer: a slow network or a long pause is less often taken for a crash.
    pub fn with_session_timeout(mut self, timeout: Duration) -> Kafka {
        self.session_timeout = timeout;
        self
    }

    /// Create `topic` unless this client has seen it (a topic that exists already is fine).
    async fn ensure_topic(&self, topic: &str) -> Result<(), BusError> {
        check_name(topic)?;
        if self
            .known_topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(topic)
        {
            return Ok(());
        }
        let new = NewTopic::new(topic, self.partitions, TopicReplication::Fixed(1));
        let options = AdminOptions::new().operation_timeout(Some(BROKER_TIMEOUT));
        let results = self
            .admin
            .create_topics([&new], &options)
            .await
            .map_err(unavailable)?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(BusError::Unavailable(format!(
                        "creating topic {name}: {code}"
                    )))
                }
            }
        }
        self.known_topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(topic.to_string());
        Ok(())
    }

    /// The ceiling a consumer of this cluster reaches: read `count` records of `topic` from its
    /// start in a new `group` with a plain librdkafka consumer that does nothing with them
    /// (no copy, no commit). Returns how long it took.
    pub async fn read_raw(
        &self,
        topic: &str,
        group: &str,
        count: usize,
    ) -> Result<Duration, BusError> {
        let consumer: StreamConsumer = self
            .group_config(group)
            .set("auto.offset.reset", "earliest")
            .create()
            .map_err(unavailable)?;
        consumer.subscribe(&[topic]).map_err(unavailable)?;
        // Timed from the first record, so joining the group is not counted.
        consumer.recv().await.map_err(unavailable)?;
        let started = std::time::Instant::now();
        let patience = BROKER_TIMEOUT * 6;
        for _ in 1..count {
            let m = tokio::time::timeout(patience, consumer.recv())
                .await
                .map_err(|_| BusError::Unavailable(format!("{topic}: no record in {patience:?}")))?
                .map_err(unavailable)?;
            std::hint::black_box(m.payload().map(<[u8]>::len));
        }
        Ok(started.elapsed())
    }

    /// A client of `group` that never commits by itself.
    fn group_config(&self, group: &str) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set(
                "session.timeout.ms",
                self.session_timeout.as_millis().to_string(),
            )
            .set(
                "heartbeat.interval.ms",
                (self.session_timeout.as_millis() / 3).max(1).to_string(),
            );
        config
    }

    fn group_client(&self, group: &str) -> Result<BaseConsumer, BusError> {
        self.group_config(group).create().map_err(unavailable)
    }
}

#[async_trait]
impl Bus for Kafka {
    async fn publish(&self, topic: &str, messages: Vec<Message>) -> Result<(), BusError> {
        if messages.is_empty() {
            return Ok(());
        }
        self.ensure_topic(topic).await?;
        // Queue everything first (librdkafka batches), then wait for every acknowledgement.
        let mut deliveries = Vec::with_capacity(messages.len());
        for m in &messages {
            let mut headers = OwnedHeaders::new_with_capacity(m.headers.len());
            for (key, value) in &m.headers {
                headers = headers.insert(Header {
                    key,
                    value: Some(value),
                });
            }
            let record = FutureRecord::to(topic)
                .key(&m.key)
                .payload(&m.payload)
                .headers(headers);
            match self.producer.send_result(record) {
                Ok(delivery) => deliveries.push(delivery),
                Err((e, _)) => return Err(unavailable(e)),
            }
        }
        for delivery in deliveries {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(unavailable(e)),
                Err(_) => return Err(BusError::Unavailable("the producer was closed".into())),
            }
        }
        Ok(())
    }

    async fn subscribe(&self, topic: &str, group: &str) -> Result<Box<dyn Consumer>, BusError> {
        check_name(group)?;
        self.ensure_topic(topic).await?;
        let consumer: StreamConsumer = self
            .group_config(group)
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .create()
            .map_err(unavailable)?;
        consumer.subscribe(&[topic]).map_err(unavailable)?;
        Ok(Box::new(KafkaConsumer {
            consumer: Arc::new(consumer),
            topic: topic.to_string(),
        }))
    }

    async fn lag(&self, topic: &str, group: &str) -> Result<Vec<PartitionLag>, BusError> {
        self.ensure_topic(topic).await?;
        let client = self.group_client(group)?;
        let topic = topic.to_string();
        tokio::task::spawn_blocking(move || {
            let metadata = client
                .fetch_metadata(Some(&topic), BROKER_TIMEOUT)
                .map_err(unavailable)?;
            let partitions: Vec<i32> = metadata
                .topics()
                .iter()
                .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                .collect();
            let mut asked = TopicPartitionList::new();
            for &p in &partitions {
                asked.add_partition(&topic, p);
            }
            let committed = client
                .committed_offsets(asked, BROKER_TIMEOUT)
                .map_err(unavailable)?;
            let mut out = vec![];
            for &p in &partitions {
                let (_, end) = client
                    .fetch_watermarks(&topic, p, BROKER_TIMEOUT)
                    .map_err(unavailable)?;
                let committed = match committed.find_partition(&topic, p).map(|e| e.offset()) {
                    Some(Offset::Offset(o)) => o,
                    _ => 0,
                };
                out.push(PartitionLag {
                    partition: p,
                    committed,
                    end,
                });
            }
            out.sort_by_key(|l| l.partition);
            Ok(out)
        })
        .await
        .map_err(unavailable)?
    }
}

struct KafkaConsumer {
    consumer: Arc<StreamConsumer>,
    topic: String,
}

fn record(m: &rdkafka::message::BorrowedMessage<'_>) -> Record {
    let headers = m
        .headers()
        .map(|h| {
            h.iter()
                .map(|h| (h.key.to_string(), h.value.unwrap_or_default().to_vec()))
                .collect()
        })
        .unwrap_or_default();
    Record {
        topic: m.topic().to_string(),
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().unwrap_or_default().to_vec(),
        headers,
        payload: m.payload().unwrap_or_default().to_vec(),
        timestamp_ms: m.timestamp().to_millis().unwrap_or(0),
    }
}

#[async_trait]
impl Consumer for KafkaConsumer {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Record>, BusError> {
        let mut out = vec![];
        let first = match tokio::time::timeout(wait, self.consumer.recv()).await {
            Err(_) => return Ok(out),
            Ok(m) => m.map_err(unavailable)?,
        };
        out.push(record(&first));
        drop(first);
        // Whatever else has already arrived, without waiting for more.
        while out.len() < max.max(1) {
            match tokio::time::timeout(Duration::from_millis(1), self.consumer.recv()).await {
                Ok(Ok(m)) => out.push(record(&m)),
                Ok(Err(e)) => return Err(unavailable(e)),
                Err(_) => break,
            }
        }
        Ok(out)
    }

    async fn commit(&mut self, applied: &[Record]) -> Result<(), BusError> {
        let next = next_offsets(applied);
        if next.is_empty() {
            return Ok(());
        }
        let mut list = TopicPartitionList::new();
        for (partition, offset) in next {
            list.add_partition_offset(&self.topic, partition, Offset::Offset(offset))
                .map_err(unavailable)?;
        }
        // librdkafka's synchronous commit has no deadline: with the coordinator gone it waits
        // for ever. It runs on a thread of its own, waited for at most BROKER_TIMEOUT (then the
        // batch fails and comes again), and nothing — a runtime shutting down included — waits
        // for that thread.
        let consumer = self.consumer.clone();
        let (done, result) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("kafka-commit".into())
            .spawn(move || {
                let _ = done.send(consumer.commit(&list, CommitMode::Sync));
            })
            .map_err(unavailable)?;
        match tokio::time::timeout(BROKER_TIMEOUT, result).await {
            Ok(Ok(committed)) => committed.map_err(unavailable),
            Ok(Err(_)) => Err(BusError::Unavailable("the commit was abandoned".into())),
            Err(_) => Err(BusError::Unavailable(format!(
                "the broker did not answer a commit within {BROKER_TIMEOUT:?}"
            ))),
        }
    }
}
