//! The ingesting consumer: `provider.raw` → validate and normalise → apply once → publish what
//! changed → commit.
//!
//! One batch at a time: poll records; read each as a CloudEvent and normalise it
//! ([`crate::feed`]); apply the valid ones in one store transaction (each once by its
//! CloudEvent source and id); publish a `price.observed` event for each valid observation and
//! an `inventory.changed` event for each that changed a flight; send each invalid record to
//! `provider.dead_letter` with its reason and the original message; then commit the batch's
//! offsets. A crash anywhere before the commit re-delivers the batch: the store applies
//! nothing twice, and the events published downstream carry stable ids (`source#id`), so
//! their consumers deduplicate the ones published again. (Downstream events are published
//! again for observations that turn out to be duplicates for that reason: an earlier attempt
//! may have stopped between the store commit and its publishes.)

use crate::feed::{normalise, Rejection};
use chrono::SecondsFormat;
use serde::Serialize;
use spontra_domain::SharedClock;
use spontra_events::cloudevents::CloudEvent;
use spontra_events::{BatchHandler, Bus, BusError, Consumer, Message, Record};
use spontra_refdata::RefData;
use spontra_store::{FareObservation, InventoryStore, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// The topics ingestion reads and writes.
pub const RAW: &str = "provider.raw";
pub const DEAD_LETTER: &str = "provider.dead_letter";
pub const INVENTORY_CHANGED: &str = "inventory.changed";
pub const PRICE_OBSERVED: &str = "price.observed";
/// The consumer group of ingesting processes.
pub const GROUP: &str = "ingest";
/// The CloudEvents source of what ingestion publishes.
pub const SOURCE: &str = "/spontra/ingest";

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// What one batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    pub received: usize,
    /// Observations applied for the first time.
    pub applied: usize,
    /// Valid observations already applied (delivered again).
    pub duplicates: usize,
    /// Applied observations that changed a flight's fare or seats.
    pub changed: usize,
    pub dead_lettered: usize,
}

impl std::ops::AddAssign for BatchStats {
    fn add_assign(&mut self, o: Self) {
        self.received += o.received;
        self.applied += o.applied;
        self.duplicates += o.duplicates;
        self.changed += o.changed;
        self.dead_lettered += o.dead_lettered;
    }
}

/// A price observation as published on `price.observed` and `inventory.changed`.
#[derive(Serialize)]
pub struct ObservationEvent<'a> {
    pub carrier: &'a str,
    pub flight_number: u16,
    pub departure_date: String,
    pub origin: &'a str,
    pub destination: &'a str,
    pub cabin: &'a str,
    pub fare_minor: i64,
    pub currency: &'a str,
    pub seats_left: i32,
    pub departure_at: String,
    pub observed_at: String,
    pub days_before: i64,
    /// The provider event it came from.
    pub source: &'a str,
    pub event_id: &'a str,
}

impl<'a> From<&'a FareObservation> for ObservationEvent<'a> {
    fn from(o: &'a FareObservation) -> Self {
        ObservationEvent {
            carrier: &o.carrier,
            flight_number: o.flight_number,
            departure_date: o.departure_date.to_string(),
            origin: &o.origin,
            destination: &o.destination,
            cabin: &o.cabin,
            fare_minor: o.fare_minor,
            currency: &o.currency,
            seats_left: o.seats_left,
            departure_at: o.departure_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            observed_at: o.observed_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            days_before: o.days_before(),
            source: &o.source,
            event_id: &o.event_id,
        }
    }
}

/// Ingestion's dependencies.
#[derive(Clone)]
pub struct Ingestor {
    pub bus: Arc<dyn Bus>,
    pub store: Arc<dyn InventoryStore>,
    pub refdata: Arc<RefData>,
    /// Market time: what "in the past" means for a departure.
    pub clock: SharedClock,
}

fn derived(type_: &str, o: &FareObservation, now: chrono::DateTime<chrono::Utc>) -> Message {
    let data = serde_json::to_vec(&ObservationEvent::from(o)).unwrap_or_default();
    CloudEvent {
        id: format!("{}#{}", o.source, o.event_id),
        source: SOURCE.into(),
        type_: type_.into(),
        time: Some(now),
        subject: Some(format!(
            "{}{}/{}/{}",
            o.carrier, o.flight_number, o.departure_date, o.cabin
        )),
        datacontenttype: Some("application/json".into()),
        data,
    }
    .to_message(format!("{}-{}", o.origin, o.destination))
}

fn dead_letter(record: &Record, why: &Rejection) -> Message {
    let mut m = Message::new(record.key.clone(), record.payload.clone());
    m.headers = record.headers.clone();
    m.header("dlq_code", why.code)
        .header("dlq_field", why.field.as_str())
        .header("dlq_reason", why.message.as_str())
        .header("dlq_topic", record.topic.as_str())
        .header("dlq_partition", record.partition.to_string())
        .header("dlq_offset", record.offset.to_string())
}

impl Ingestor {
    /// Join the ingesting group on `provider.raw`.
    pub async fn subscribe(&self) -> Result<Box<dyn Consumer>, IngestError> {
        Ok(self.bus.subscribe(RAW, GROUP).await?)
    }

    /// Apply and publish what `records` hold, without committing (a crash after this
    /// re-delivers them, harmlessly).
    pub async fn process(&self, records: &[Record]) -> Result<BatchStats, IngestError> {
        let now = self.clock.now();
        let mut stats = BatchStats {
            received: records.len(),
            ..Default::default()
        };
        let mut valid = vec![];
        let mut rejected = vec![];
        for r in records {
            let read = CloudEvent::from_record(r)
                .map_err(|e| Rejection {
                    code: "invalid_envelope",
                    field: e.attribute.to_string(),
                    message: e.problem,
                })
                .and_then(|event| normalise(&event, &self.refdata, now));
            match read {
                Ok(o) => valid.push(o),
                Err(why) => {
                    metrics::counter!("ingest_dead_letters_total", "code" => why.code).increment(1);
                    rejected.push(dead_letter(r, &why));
                }
            }
        }
        let started = std::time::Instant::now();
        let applied = self.apply_with_retry(&valid, now).await?;
        metrics::histogram!("ingest_apply_seconds").record(started.elapsed().as_secs_f64());
        let mut observed = vec![];
        let mut changed = vec![];
        for (o, a) in valid.iter().zip(&applied) {
            if a.new {
                stats.applied += 1;
            } else {
                stats.duplicates += 1;
            }
            if a.changed {
                stats.changed += 1;
            }
            observed.push(derived("dev.spontra.price.observed.v1", o, now));
            if a.changed || !a.new {
                changed.push(derived("dev.spontra.inventory.changed.v1", o, now));
            }
        }
        stats.dead_lettered = rejected.len();
        for (outcome, n) in [
            ("applied", stats.applied),
            ("duplicate", stats.duplicates),
            ("dead_letter", stats.dead_lettered),
        ] {
            metrics::counter!("ingest_events_total", "outcome" => outcome).increment(n as u64);
        }
        metrics::counter!("ingest_changed_total").increment(stats.changed as u64);
        self.bus.publish(PRICE_OBSERVED, observed).await?;
        self.bus.publish(INVENTORY_CHANGED, changed).await?;
        self.bus.publish(DEAD_LETTER, rejected).await?;
        Ok(stats)
    }

    /// A busy store (a lock, a full pool) is waited out; anything else stops the batch.
    async fn apply_with_retry(
        &self,
        batch: &[FareObservation],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<spontra_store::Applied>, IngestError> {
        let mut wait = Duration::from_millis(10);
        loop {
            match self.store.apply_observations(batch, now).await {
                Err(StoreError::Unavailable(why)) if wait < Duration::from_secs(5) => {
                    tracing::warn!(%why, "store busy; retrying the batch");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                other => return Ok(other?),
            }
        }
    }

    /// One batch: poll up to `max` records (waiting at most `wait`), process, commit.
    pub async fn run_batch(
        &self,
        consumer: &mut dyn Consumer,
        max: usize,
        wait: Duration,
    ) -> Result<BatchStats, IngestError> {
        let records = consumer.poll(max, wait).await?;
        if records.is_empty() {
            return Ok(BatchStats::default());
        }
        let stats = self.process(&records).await?;
        consumer.commit(&records).await?;
        Ok(stats)
    }

    /// Ingest until `stop` says so (see [`spontra_events::run_group`]: errors are logged and
    /// retried, so bad input or a busy store never stops the consumer).
    pub async fn run(self, stop: tokio::sync::watch::Receiver<bool>) {
        spontra_events::run_group(self.bus.as_ref(), RAW, GROUP, &self, stop).await;
    }
}

#[async_trait::async_trait]
impl BatchHandler for Ingestor {
    async fn batch(
        &self,
        consumer: &mut dyn Consumer,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.run_batch(consumer, 5_000, Duration::from_millis(500))
            .await?;
        Ok(())
    }

    fn lag(&self, records: i64) {
        metrics::gauge!("ingest_lag").set(records as f64);
    }
}
