//! The ingesting consumer: `provider.raw` → validate and normalise → apply once → publish what
//! changed → commit.
//!
//! Batch by batch: poll records; read each as a CloudEvent and normalise it
//! ([`crate::feed`]); apply the valid ones in one store transaction (each once by its
//! CloudEvent source and id); publish a `price.observed` event for each valid observation and
//! an `inventory.changed` event for each that changed a flight; send each invalid record to
//! `provider.dead_letter` with its reason and the original message; then commit the batch's
//! offsets. [`Pipeline`] overlaps one batch's publishes with the next one's store work. A
//! crash anywhere before the commit re-delivers the batch: the store applies nothing twice,
//! and the events published downstream carry stable ids (`source#id`), so their consumers
//! deduplicate the ones published again. (Downstream events are published again for
//! observations that turn out to be duplicates for that reason: an earlier attempt may have
//! stopped between the store commit and its publishes.)

use crate::feed::{normalise, FeedEvent, Rejection};
use chrono::SecondsFormat;
use serde::Serialize;
use spontra_domain::SharedClock;
use spontra_events::cloudevents::CloudEvent;
use spontra_events::{BatchHandler, Bus, BusError, Consumer, Message, Record};
use spontra_refdata::RefData;
use spontra_store::{Applied, FareObservation, InventoryStore, ScheduleObservation, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// The topics ingestion reads and writes, and the types it publishes.
pub use spontra_events::topics::types::{FARE_CHANGED, SCHEDULE_CHANGED};
pub use spontra_events::topics::{DEAD_LETTER, INVENTORY_CHANGED, PRICE_OBSERVED, RAW};
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
    /// Live quotes without a seat count for flights the inventory does not hold: valid,
    /// acknowledged, not applied.
    pub unattributed: usize,
}

impl std::ops::AddAssign for BatchStats {
    fn add_assign(&mut self, o: Self) {
        self.received += o.received;
        self.applied += o.applied;
        self.duplicates += o.duplicates;
        self.changed += o.changed;
        self.dead_lettered += o.dead_lettered;
        self.unattributed += o.unattributed;
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
            departure_at: rfc3339(o.departure_at),
            observed_at: o.observed_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            days_before: o.days_before(),
            source: &o.source,
            event_id: &o.event_id,
        }
    }
}

/// A schedule change as published on `inventory.changed` (type [`SCHEDULE_CHANGED`]).
#[derive(Serialize)]
pub struct ScheduleEvent<'a> {
    /// `cancelled`, `retimed` or `added`.
    pub kind: &'a str,
    pub carrier: &'a str,
    pub flight_number: u16,
    pub departure_date: String,
    pub origin: &'a str,
    pub destination: &'a str,
    /// As scheduled now (a retimed flight's new times).
    pub departure_at: String,
    pub arrival_at: String,
    /// A retimed flight's departure before the change.
    pub previous_departure_at: Option<String>,
    /// An added flight's opening economy fare and seats.
    pub fare_minor: Option<i64>,
    pub currency: Option<&'a str>,
    pub seats_left: Option<i32>,
    pub observed_at: String,
    pub source: &'a str,
    pub event_id: &'a str,
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl<'a> From<&'a ScheduleObservation> for ScheduleEvent<'a> {
    fn from(c: &'a ScheduleObservation) -> Self {
        ScheduleEvent {
            kind: c.kind.as_str(),
            carrier: &c.carrier,
            flight_number: c.flight_number,
            departure_date: c.departure_date.to_string(),
            origin: &c.origin,
            destination: &c.destination,
            departure_at: rfc3339(c.departure_at),
            arrival_at: rfc3339(c.arrival_at),
            previous_departure_at: c.previous_departure_at.map(rfc3339),
            fare_minor: c.fare_minor,
            currency: c.currency.as_deref(),
            seats_left: c.seats_left,
            observed_at: c.observed_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            source: &c.source,
            event_id: &c.event_id,
        }
    }
}

fn schedule_derived(c: &ScheduleObservation, now: chrono::DateTime<chrono::Utc>) -> Message {
    let subject = format!("{}{}/{}", c.carrier, c.flight_number, c.departure_date);
    let data = serde_json::to_vec(&ScheduleEvent::from(c)).unwrap_or_default();
    published(
        SCHEDULE_CHANGED,
        (&c.source, &c.event_id),
        subject,
        data,
        (&c.origin, &c.destination),
        now,
    )
}

/// What ingestion publishes about the provider event `(source, id)`: a CloudEvent of its own
/// source with the stable id `source#id` (consumers deduplicate by it), keyed by the route.
fn published(
    type_: &str,
    (source, id): (&str, &str),
    subject: String,
    data: Vec<u8>,
    (origin, destination): (&str, &str),
    now: chrono::DateTime<chrono::Utc>,
) -> Message {
    CloudEvent {
        id: format!("{source}#{id}"),
        source: SOURCE.into(),
        type_: type_.into(),
        time: Some(now),
        subject: Some(subject),
        datacontenttype: Some("application/json".into()),
        data,
    }
    .to_message(format!("{origin}-{destination}"))
}

/// Events this process ingested over the last minute, by second.
#[derive(Debug, Default)]
pub struct Throughput {
    /// (second since the Unix epoch, events received in it), oldest first.
    seconds: std::sync::Mutex<std::collections::VecDeque<(i64, u64)>>,
}

impl Throughput {
    const WINDOW: i64 = 60;

    /// Count `events` received at `now` (real time).
    pub fn record(&self, now: chrono::DateTime<chrono::Utc>, events: u64) {
        let second = now.timestamp();
        let mut s = self.seconds.lock().unwrap_or_else(|e| e.into_inner());
        match s.back_mut() {
            Some((at, n)) if *at == second => *n += events,
            _ => s.push_back((second, events)),
        }
        while s
            .front()
            .is_some_and(|(at, _)| *at <= second - Self::WINDOW)
        {
            s.pop_front();
        }
    }

    /// Events per second over the minute before `now`.
    pub fn per_second(&self, now: chrono::DateTime<chrono::Utc>) -> f64 {
        let second = now.timestamp();
        let s = self.seconds.lock().unwrap_or_else(|e| e.into_inner());
        let total: u64 = s
            .iter()
            .filter(|(at, _)| *at > second - Self::WINDOW && *at <= second)
            .map(|(_, n)| n)
            .sum();
        total as f64 / Self::WINDOW as f64
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
    /// Events received per second (real time), for operators.
    pub throughput: Arc<Throughput>,
}

/// What ingestion publishes about observation `o`: its `price.observed` event, and the same
/// as a fare change when `changed` (the JSON written once for both).
fn derived(
    o: &FareObservation,
    now: chrono::DateTime<chrono::Utc>,
    changed: bool,
) -> (Message, Option<Message>) {
    let subject = format!(
        "{}{}/{}/{}",
        o.carrier, o.flight_number, o.departure_date, o.cabin
    );
    let data = serde_json::to_vec(&ObservationEvent::from(o)).unwrap_or_default();
    let event = |type_: &str, subject: String, data: Vec<u8>| {
        published(
            type_,
            (&o.source, &o.event_id),
            subject,
            data,
            (&o.origin, &o.destination),
            now,
        )
    };
    let change = changed.then(|| event(FARE_CHANGED, subject.clone(), data.clone()));
    (
        event(spontra_events::topics::types::PRICE_OBSERVED, subject, data),
        change,
    )
}

fn dead_letter(record: &Record, why: &Rejection) -> Message {
    record.dead_letter(why.code, &why.field, &why.message)
}

impl Ingestor {
    /// Join the ingesting group on `provider.raw`.
    pub async fn subscribe(&self) -> Result<Box<dyn Consumer>, IngestError> {
        Ok(self.bus.subscribe(RAW, GROUP).await?)
    }

    /// Apply and publish what `records` hold, without committing (a crash after this
    /// re-delivers them, harmlessly).
    pub async fn process(&self, records: &[Record]) -> Result<BatchStats, IngestError> {
        let (stats, derived) = self.apply(records).await?;
        derived.publish(self.bus.as_ref()).await?;
        Ok(stats)
    }

    /// Validate what `records` hold and apply it to the store (committed there), returning
    /// what is left to publish about it.
    pub async fn apply(&self, records: &[Record]) -> Result<(BatchStats, Derived), IngestError> {
        let now = self.clock.now();
        let mut stats = BatchStats {
            received: records.len(),
            ..Default::default()
        };
        let (mut fares, mut schedules) = (vec![], vec![]);
        // Whether each valid event, in the order received, is a fare (else a schedule change).
        let mut order = vec![];
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
                Ok(FeedEvent::Fare(o)) => {
                    fares.push(o);
                    order.push(true);
                }
                Ok(FeedEvent::Schedule(c)) => {
                    schedules.push(c);
                    order.push(false);
                }
                Ok(FeedEvent::Quote(mut o)) => {
                    // Seats as the inventory holds them; a flight it does not hold yet is
                    // not one a quote can start (acknowledged, counted, not applied).
                    let held = self
                        .store
                        .current_fare(&o.carrier, o.flight_number, o.departure_date, &o.cabin)
                        .await?;
                    match held {
                        Some(f) => {
                            o.seats_left = f.seats_left;
                            fares.push(o);
                            order.push(true);
                        }
                        None => stats.unattributed += 1,
                    }
                }
                Err(why) => {
                    metrics::counter!("ingest_dead_letters_total", "code" => why.code).increment(1);
                    rejected.push(dead_letter(r, &why));
                }
            }
        }
        let started = std::time::Instant::now();
        let fares_applied = self
            .with_retry(|| self.store.apply_observations(&fares, now))
            .await?;
        let schedules_applied = if schedules.is_empty() {
            vec![]
        } else {
            self.with_retry(|| self.store.apply_schedule_changes(&schedules, now))
                .await?
        };
        metrics::histogram!("ingest_apply_seconds").record(started.elapsed().as_secs_f64());
        // Published in the order received, so a follower sees a flight's changes in order.
        let (mut fares_applied, mut schedules_applied) =
            (fares_applied.into_iter(), schedules_applied.into_iter());
        let (mut fares, mut schedules) = (fares.iter(), schedules.iter());
        let mut observed = Vec::with_capacity(fares.len());
        let mut changed = vec![];
        for is_fare in order {
            let a = if is_fare {
                fares_applied.next()
            } else {
                schedules_applied.next()
            }
            .unwrap_or(Applied {
                new: false,
                changed: false,
            });
            if a.new {
                stats.applied += 1;
            } else {
                stats.duplicates += 1;
            }
            if a.changed {
                stats.changed += 1;
            }
            // A duplicate is published again: an earlier attempt may have stopped before.
            let publish = a.changed || !a.new;
            if is_fare {
                let Some(o) = fares.next() else { break };
                let (observation, change) = derived(o, now, publish);
                observed.push(observation);
                changed.extend(change);
            } else {
                let Some(c) = schedules.next() else { break };
                metrics::counter!("ingest_schedule_changes_total", "kind" => c.kind.as_str())
                    .increment(u64::from(a.new));
                if publish {
                    changed.push(schedule_derived(c, now));
                }
            }
        }
        stats.dead_lettered = rejected.len();
        for (outcome, n) in [
            ("applied", stats.applied),
            ("duplicate", stats.duplicates),
            ("dead_letter", stats.dead_lettered),
            ("unattributed", stats.unattributed),
        ] {
            metrics::counter!("ingest_events_total", "outcome" => outcome).increment(n as u64);
        }
        metrics::counter!("ingest_changed_total").increment(stats.changed as u64);
        Ok((
            stats,
            Derived {
                observed,
                changed,
                rejected,
            },
        ))
    }

    /// A busy store (a lock, a full pool) is waited out; anything else stops the batch.
    async fn with_retry<F, Fut>(&self, apply: F) -> Result<Vec<Applied>, IngestError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<Applied>, StoreError>>,
    {
        let mut wait = Duration::from_millis(10);
        loop {
            match apply().await {
                Err(StoreError::Unavailable(why)) if wait < Duration::from_secs(5) => {
                    tracing::warn!(%why, "store busy; retrying the batch");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                other => return Ok(other?),
            }
        }
    }

    /// The pipelined consumer `run` drives (see [`Pipeline`]).
    pub fn pipeline(&self) -> Pipeline {
        Pipeline {
            ingestor: self.clone(),
            in_flight: Default::default(),
        }
    }

    /// Ingest until `stop` says so (see [`spontra_events::run_group`]: errors are logged and
    /// the group resumes from its last commit, so bad input or a busy store never stops the
    /// consumer).
    pub async fn run(self, stop: tokio::sync::watch::Receiver<bool>) {
        let pipeline = self.pipeline();
        spontra_events::run_group(self.bus.as_ref(), RAW, GROUP, &pipeline, stop).await;
    }
}

/// What ingestion publishes about a batch once the store holds it.
pub struct Derived {
    observed: Vec<Message>,
    changed: Vec<Message>,
    rejected: Vec<Message>,
}

impl Derived {
    /// `price.observed`, then `inventory.changed`, then `provider.dead_letter`.
    pub async fn publish(self, bus: &dyn Bus) -> Result<(), BusError> {
        bus.publish(PRICE_OBSERVED, self.observed).await?;
        bus.publish(INVENTORY_CHANGED, self.changed).await?;
        bus.publish(DEAD_LETTER, self.rejected).await
    }
}

/// A batch applied to the store whose changes are being published.
struct InFlight {
    publish: tokio::task::JoinHandle<Result<(), BusError>>,
    records: Vec<Record>,
}

/// The ingesting consumer, two batches deep: while batch N's changes are published (the
/// stream's writer), batch N + 1 is read, validated and applied (the store's writer), so the
/// two writers work at once. Batch N's offsets are committed only once its changes are
/// published, and before N + 1's are published, so downstream order and the at-least-once
/// promise are those of one batch at a time. After an error nothing in flight is committed:
/// the group resumes from its last commit and applies nothing twice.
pub struct Pipeline {
    ingestor: Ingestor,
    in_flight: tokio::sync::Mutex<Option<InFlight>>,
}

impl Pipeline {
    /// One step: poll up to `max` records (waiting at most `wait`), apply them, then finish
    /// the batch before (its publishes awaited, its offsets committed) and start publishing
    /// this one's. A quiet poll finishes the batch in flight.
    pub async fn run_batch(
        &self,
        consumer: &mut dyn Consumer,
        max: usize,
        wait: Duration,
    ) -> Result<BatchStats, IngestError> {
        let step = self.step(consumer, max, wait).await;
        if step.is_err() {
            // Its effects in the store stand (applied once); the records come again.
            self.in_flight.lock().await.take();
        }
        step
    }

    async fn step(
        &self,
        consumer: &mut dyn Consumer,
        max: usize,
        wait: Duration,
    ) -> Result<BatchStats, IngestError> {
        let records = consumer.poll(max, wait).await?;
        if records.is_empty() {
            self.finish(consumer).await?;
            return Ok(BatchStats::default());
        }
        let (stats, derived) = self.ingestor.apply(&records).await?;
        self.finish(consumer).await?;
        let bus = self.ingestor.bus.clone();
        let publish = tokio::spawn(async move { derived.publish(bus.as_ref()).await });
        *self.in_flight.lock().await = Some(InFlight { publish, records });
        self.ingestor
            .throughput
            .record(chrono::Utc::now(), stats.received as u64);
        Ok(stats)
    }

    /// Finish the batch in flight, if any: wait for its publishes, then commit its offsets.
    pub async fn finish(&self, consumer: &mut dyn Consumer) -> Result<(), IngestError> {
        let mut in_flight = self.in_flight.lock().await;
        let Some(batch) = in_flight.take() else {
            return Ok(());
        };
        batch
            .publish
            .await
            .map_err(|e| BusError::Unavailable(format!("publishing a batch's changes: {e}")))??;
        consumer.commit(&batch.records).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl BatchHandler for Pipeline {
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
