//! The pricing consumer: `price.observed` → each flight's price (in euro cents) → the store's
//! route prices and daily roll-ups → commit.
//!
//! Delivery is at least once and the store's recording is idempotent (a flight's price is
//! replaced only by a newer observation; roll-ups fold minimums, maximums and the latest
//! close), so re-delivered batches change nothing and no event-id table is needed. An event
//! pricing cannot read (not a CloudEvent, not an observation, an unknown cabin, a currency
//! without a reference rate) goes to `price.dead_letter` with its reason; the consumer goes on.

use crate::evaluate::Evaluator;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use spontra_domain::{Cabin, CurrencyCode};
use spontra_events::cloudevents::CloudEvent;
use spontra_events::topics::{types, PRICE_DEAD_LETTER, PRICE_OBSERVED};
use spontra_events::{BatchHandler, Bus, Consumer, Record};
use spontra_refdata::RefData;
use spontra_store::{FlightPrice, PriceStore, RouteCabin};
use std::sync::Arc;
use std::time::Duration;

/// The consumer group of pricing processes.
pub const GROUP: &str = "pricing";

/// An observation as ingestion publishes it on `price.observed` (the fields pricing reads).
#[derive(Deserialize)]
struct Observed {
    carrier: String,
    flight_number: u16,
    departure_date: NaiveDate,
    origin: String,
    destination: String,
    cabin: String,
    fare_minor: i64,
    currency: String,
    seats_left: i32,
    observed_at: DateTime<Utc>,
}

/// Why an event was not recorded.
#[derive(Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub code: &'static str,
    pub reason: String,
}

fn unreadable(code: &'static str, reason: impl Into<String>) -> Unreadable {
    Unreadable {
        code,
        reason: reason.into(),
    }
}

/// The flight price a `price.observed` record carries, in euro cents.
pub fn read(record: &Record, refdata: &RefData) -> Result<FlightPrice, Unreadable> {
    let event = CloudEvent::from_record(record)
        .map_err(|e| unreadable("invalid_envelope", e.to_string()))?;
    if event.type_ != types::PRICE_OBSERVED {
        return Err(unreadable(
            "unknown_type",
            format!("{:?} is not a price observation", event.type_),
        ));
    }
    let o: Observed = serde_json::from_slice(&event.data)
        .map_err(|e| unreadable("invalid_data", e.to_string()))?;
    let cabin = Cabin::from_name(&o.cabin)
        .ok_or_else(|| unreadable("unknown_cabin", format!("cabin {:?}", o.cabin)))?;
    let currency = CurrencyCode::parse(&o.currency)
        .map_err(|_| unreadable("unknown_currency", format!("currency {:?}", o.currency)))?;
    if o.fare_minor <= 0 {
        return Err(unreadable("invalid_price", "the fare is not positive"));
    }
    let fare_minor = refdata
        .eur_minor(spontra_domain::Money::new(o.fare_minor, currency))
        .ok_or_else(|| {
            unreadable(
                "unknown_currency",
                format!("no reference rate for {currency}"),
            )
        })?;
    Ok(FlightPrice {
        route: RouteCabin {
            origin: o.origin,
            destination: o.destination,
            cabin: cabin.as_str().to_string(),
        },
        departure_date: o.departure_date,
        carrier: o.carrier,
        flight_number: o.flight_number,
        fare_minor,
        seats_left: o.seats_left.max(0),
        observed_at: o.observed_at,
    })
}

/// Pricing's consumer of `price.observed`.
#[derive(Clone)]
pub struct Recorder {
    pub bus: Arc<dyn Bus>,
    pub store: Arc<dyn PriceStore>,
    pub refdata: Arc<RefData>,
    /// Evaluates the alerts each recorded batch touches.
    pub alerts: Option<Arc<Evaluator>>,
}

impl Recorder {
    pub fn new(bus: Arc<dyn Bus>, store: Arc<dyn PriceStore>, refdata: Arc<RefData>) -> Recorder {
        Recorder {
            bus,
            store,
            refdata,
            alerts: None,
        }
    }

    /// Evaluate the alerts each batch touches once it is recorded.
    pub fn with_alerts(mut self, evaluator: Arc<Evaluator>) -> Recorder {
        self.alerts = Some(evaluator);
        self
    }

    /// Record what `records` hold and dead-letter what cannot be read, without committing.
    pub async fn record(&self, records: &[Record]) -> Result<usize, RecordError> {
        let mut prices = Vec::with_capacity(records.len());
        let mut dead = vec![];
        for record in records {
            match read(record, &self.refdata) {
                Ok(p) => prices.push(p),
                Err(why) => dead.push(record.dead_letter(why.code, "", &why.reason)),
            }
        }
        let recorded = self.store.record_prices(&prices).await?;
        // The prices are recorded either way: an evaluation that fails here is the sweep's.
        if let Some(evaluator) = &self.alerts {
            if let Err(e) = evaluator.on_recorded(&recorded).await {
                metrics::counter!("pricing_alert_evaluation_errors_total").increment(1);
                tracing::warn!(error = %e, "evaluating alerts after a batch; the sweep will");
            }
        }
        if !dead.is_empty() {
            metrics::counter!("pricing_dead_letters_total").increment(dead.len() as u64);
            self.bus.publish(PRICE_DEAD_LETTER, dead).await?;
        }
        metrics::counter!("pricing_observations_total").increment(prices.len() as u64);
        Ok(prices.len())
    }

    /// Consume `price.observed` as the pricing group until `stop` says so.
    pub async fn run(self, stop: tokio::sync::watch::Receiver<bool>) {
        let bus = self.bus.clone();
        spontra_events::run_group(bus.as_ref(), PRICE_OBSERVED, GROUP, &self, stop).await;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Bus(#[from] spontra_events::BusError),
    #[error("store: {0}")]
    Store(#[from] spontra_store::StoreError),
}

#[async_trait::async_trait]
impl BatchHandler for Recorder {
    async fn batch(
        &self,
        consumer: &mut dyn Consumer,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let records = consumer.poll(5_000, Duration::from_millis(500)).await?;
        if records.is_empty() {
            return Ok(());
        }
        self.record(&records).await?;
        consumer.commit(&records).await?;
        Ok(())
    }

    fn lag(&self, records: i64) {
        metrics::gauge!("pricing_lag").set(records as f64);
    }
}
