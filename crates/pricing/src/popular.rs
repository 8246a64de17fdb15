//! Popular routes and destinations from search analytics: the consumer of `search.performed`
//! (batches of search counts the search service publishes), adding each batch once to the
//! store's daily counts. An event it cannot read goes to `search.dead_letter` with the reason;
//! the consumer goes on.

use spontra_events::cloudevents::CloudEvent;
use spontra_events::topics::{types, Searches, SEARCH_DEAD_LETTER, SEARCH_PERFORMED};
use spontra_events::{BatchHandler, Bus, Consumer, Record};
use spontra_store::{PriceStore, SearchBatch, SearchCount};
use std::sync::Arc;
use std::time::Duration;

/// The consumer group of pricing processes counting searches.
pub const GROUP: &str = "pricing-searches";

fn code(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// The batch a `search.performed` record carries.
pub fn read(record: &Record) -> Result<SearchBatch, (&'static str, String)> {
    let event = CloudEvent::from_record(record).map_err(|e| ("invalid_envelope", e.to_string()))?;
    if event.type_ != types::SEARCH_PERFORMED {
        return Err((
            "unknown_type",
            format!("{:?} is not a search batch", event.type_),
        ));
    }
    let batch: Searches =
        serde_json::from_slice(&event.data).map_err(|e| ("invalid_data", e.to_string()))?;
    let mut counts = Vec::with_capacity(batch.counts.len());
    for c in batch.counts {
        if !code(&c.origin) || c.destination.as_deref().is_some_and(|d| !code(d)) {
            return Err((
                "invalid_place",
                format!("{} → {:?}", c.origin, c.destination),
            ));
        }
        if !(1..=1_000_000_000).contains(&c.searches) {
            return Err(("invalid_count", format!("{} searches", c.searches)));
        }
        counts.push(SearchCount {
            origin: c.origin,
            destination: c.destination,
            searches: c.searches,
        });
    }
    Ok(SearchBatch {
        id: event.id,
        day: batch.day,
        at: event.time.unwrap_or_else(chrono::Utc::now),
        counts,
    })
}

#[derive(Clone)]
pub struct SearchCounter {
    pub bus: Arc<dyn Bus>,
    pub store: Arc<dyn PriceStore>,
}

impl SearchCounter {
    /// Consume `search.performed` until `stop` says so.
    pub async fn run(self, stop: tokio::sync::watch::Receiver<bool>) {
        let bus = self.bus.clone();
        spontra_events::run_group(bus.as_ref(), SEARCH_PERFORMED, GROUP, &self, stop).await;
    }
}

#[async_trait::async_trait]
impl BatchHandler for SearchCounter {
    async fn batch(
        &self,
        consumer: &mut dyn Consumer,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let records = consumer.poll(500, Duration::from_millis(500)).await?;
        if records.is_empty() {
            return Ok(());
        }
        let mut dead = vec![];
        for record in &records {
            match read(record) {
                Ok(batch) => {
                    self.store.record_searches(&batch).await?;
                }
                Err((code, reason)) => dead.push(record.dead_letter(code, "", &reason)),
            }
        }
        if !dead.is_empty() {
            metrics::counter!("pricing_search_dead_letters_total").increment(dead.len() as u64);
            self.bus.publish(SEARCH_DEAD_LETTER, dead).await?;
        }
        consumer.commit(&records).await?;
        Ok(())
    }

    fn lag(&self, records: i64) {
        metrics::gauge!("pricing_search_lag").set(records as f64);
    }
}
