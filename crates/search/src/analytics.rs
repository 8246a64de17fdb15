//! Search analytics: how often each route is searched, for popular routes and destinations.
//! Searches are counted in memory ([`SearchTally`]: a lock and a map entry per search) and
//! published every few seconds as one batch on `search.performed` — a CloudEvent whose id is
//! the batch's, so the consumer (pricing) adds each batch once however often it is delivered.
//! Only routes are counted (origin and destination as searched, or the origin of an explore
//! search), nothing of who searched. A batch that cannot be published stays counted for the
//! next attempt.

use chrono::{DateTime, Utc};
use spontra_events::cloudevents::CloudEvent;
use spontra_events::topics::{types, RouteSearches, Searches, SEARCH_PERFORMED};
use spontra_events::Bus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Searches counted since the last batch, by (origin, destination; `None`: explore).
#[derive(Default)]
pub struct SearchTally {
    counts: Mutex<HashMap<(String, Option<String>), i64>>,
}

impl SearchTally {
    pub fn count(&self, origin: &str, destination: Option<&str>) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts
            .entry((origin.to_string(), destination.map(str::to_string)))
            .or_default() += 1;
    }

    fn take(&self) -> HashMap<(String, Option<String>), i64> {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn put_back(&self, counts: HashMap<(String, Option<String>), i64>) {
        let mut held = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for (k, n) in counts {
            *held.entry(k).or_default() += n;
        }
    }

    /// Publish what was counted as one batch (nothing when nothing was). On failure the
    /// counts are kept for the next batch.
    pub async fn flush(
        &self,
        bus: &dyn Bus,
        at: DateTime<Utc>,
    ) -> Result<usize, spontra_events::BusError> {
        let counts = self.take();
        if counts.is_empty() {
            return Ok(0);
        }
        let mut list: Vec<RouteSearches> = counts
            .iter()
            .map(|((origin, destination), n)| RouteSearches {
                origin: origin.clone(),
                destination: destination.clone(),
                searches: *n,
            })
            .collect();
        list.sort_by(|a, b| (&a.origin, &a.destination).cmp(&(&b.origin, &b.destination)));
        let routes = list.len();
        let batch = Searches {
            day: at.date_naive(),
            counts: list,
        };
        let event = CloudEvent {
            id: batch_id(at),
            source: "/services/search".into(),
            type_: types::SEARCH_PERFORMED.into(),
            time: Some(at),
            subject: None,
            datacontenttype: Some("application/json".into()),
            data: serde_json::to_vec(&batch).unwrap_or_default(),
        };
        match bus
            .publish(SEARCH_PERFORMED, vec![event.to_message("searches")])
            .await
        {
            Ok(()) => Ok(routes),
            Err(e) => {
                self.put_back(counts);
                Err(e)
            }
        }
    }

    /// Publish a batch every `period` until `stop` says so (and once more then).
    pub async fn run(
        self: Arc<Self>,
        bus: Arc<dyn Bus>,
        clock: spontra_domain::SharedClock,
        period: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(period) => false,
                _ = stop.changed() => true,
            };
            if let Err(e) = self.flush(bus.as_ref(), clock.now()).await {
                tracing::warn!(error = %e, "search counts not published; kept for the next batch");
            }
            if stopping || *stop.borrow() {
                return;
            }
        }
    }
}

/// A batch id: its time and a random part (a fresh `RandomState`'s keys come from the OS).
fn batch_id(at: DateTime<Utc>) -> String {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new().hash_one(at.timestamp_micros());
    format!("searches-{}-{random:016x}", at.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_are_counted_by_route_and_taken_once() {
        let t = SearchTally::default();
        t.count("LON", Some("NYC"));
        t.count("LON", Some("NYC"));
        t.count("LON", None);
        let taken = t.take();
        assert_eq!(taken[&("LON".to_string(), Some("NYC".to_string()))], 2);
        assert_eq!(taken[&("LON".to_string(), None)], 1);
        assert!(t.take().is_empty());
        t.count("LON", None);
        t.put_back(taken);
        assert_eq!(t.take()[&("LON".to_string(), None)], 2);
    }
}
