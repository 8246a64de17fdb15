//! One live search as it runs: every provider's status, the offers merged into itineraries,
//! and a version that counts the changes, so that a client can ask for what changed since the
//! version it last saw (a poll's `after`, a stream's `Last-Event-ID`).

use super::shared::{OfferRecord, ProviderRecord, RunRecord};
use chrono::{DateTime, Utc};
use spontra_domain::Money;
use spontra_providers::fanout::{Answered, Outcome};
use spontra_providers::merge::{Itinerary, ItineraryKey, Merged};
use spontra_providers::{Offer, OfferQuery};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What became of one provider so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Complete,
    Failed,
    TimedOut,
    /// Not asked: its circuit is open after failing again and again.
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Complete => "complete",
            Status::Failed => "failed",
            Status::TimedOut => "timed_out",
            Status::Skipped => "skipped",
        }
    }
}

/// One provider in one live search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderState {
    pub name: String,
    pub status: Status,
    /// From the search's start to the provider's outcome.
    pub after: Option<Duration>,
    /// Offers it sent that were read, and those left out (unreadable, or in a currency
    /// without a rate).
    pub offers: usize,
    pub left_out: usize,
    /// Why it failed: a stable code and the provider's message.
    pub error: Option<(String, String)>,
}

/// What a client is shown of a run: everything about the providers, and the itineraries
/// changed after the version it gives.
#[derive(Clone, Debug)]
pub struct View {
    pub version: u64,
    pub done: bool,
    pub started_at: DateTime<Utc>,
    pub providers: Vec<ProviderState>,
    /// Changed after the version asked about, cheapest first.
    pub itineraries: Vec<Itinerary>,
    /// Itineraries found so far.
    pub total: usize,
}

struct State {
    version: u64,
    providers: Vec<ProviderState>,
    merged: Merged,
    /// The version at which each itinerary last changed.
    touched: HashMap<ItineraryKey, u64>,
    /// What each provider answered (offers and those it left out), to share the run.
    answers: HashMap<String, (Vec<Offer>, Vec<String>)>,
    finished: Option<Instant>,
    finished_at: Option<DateTime<Utc>>,
}

/// One fan-out of one query, shared by every live search that asks it while it runs or while
/// its results are fresh (see [`super::LiveSearches`]).
pub struct Run {
    pub key: String,
    pub query: OfferQuery,
    pub started_at: DateTime<Utc>,
    state: Mutex<State>,
    version: watch::Sender<u64>,
    /// A refresh of this run's query is under way (stale-while-revalidate).
    pub(crate) refreshing: AtomicBool,
}

impl Run {
    pub fn new(key: String, query: OfferQuery, providers: &[String]) -> Run {
        Run {
            key,
            query,
            started_at: Utc::now(),
            state: Mutex::new(State {
                version: 0,
                providers: providers
                    .iter()
                    .map(|name| ProviderState {
                        name: name.clone(),
                        status: Status::Pending,
                        after: None,
                        offers: 0,
                        left_out: 0,
                        error: None,
                    })
                    .collect(),
                merged: Merged::default(),
                touched: HashMap::new(),
                answers: HashMap::new(),
                finished: None,
                finished_at: None,
            }),
            version: watch::channel(0).0,
            refreshing: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take one provider's outcome: its offers merged in (`to_eur` prices them for
    /// comparing), its status set. Returns the offers it brought, for whoever records quotes.
    pub fn record(&self, answered: Answered, to_eur: impl Fn(Money) -> Option<i64>) -> Vec<Offer> {
        let mut s = self.lock();
        let version = s.version + 1;
        let Some(i) = s.providers.iter().position(|p| p.name == answered.provider) else {
            return vec![];
        };
        if s.providers[i].status != Status::Pending {
            return vec![];
        }
        let (status, error, offers) = match answered.outcome {
            Outcome::Complete(o) => {
                s.providers[i].left_out = o.skipped.len();
                s.answers
                    .insert(answered.provider.clone(), (o.offers.clone(), o.skipped));
                (Status::Complete, None, o.offers)
            }
            Outcome::Failed { code, message } => {
                (Status::Failed, Some((code.to_string(), message)), vec![])
            }
            Outcome::TimedOut => (Status::TimedOut, None, vec![]),
            Outcome::Skipped => (Status::Skipped, None, vec![]),
        };
        let (changed, left_out) = s.merged.add(offers.iter().cloned(), to_eur);
        for k in changed {
            s.touched.insert(k, version);
        }
        let p = &mut s.providers[i];
        p.status = status;
        p.error = error;
        p.after = Some(answered.after);
        p.offers = offers.len() - left_out;
        p.left_out += left_out;
        s.version = version;
        drop(s);
        self.version.send_replace(version);
        offers
    }

    /// Every provider has had its say (any still pending could not answer in time).
    pub fn finish(&self) {
        self.finish_at(Utc::now());
    }

    /// As [`Run::finish`], finished at `at` (another process's run, as its record says).
    pub fn finish_at(&self, at: DateTime<Utc>) {
        let mut s = self.lock();
        if s.finished.is_some() {
            return;
        }
        let ago = (Utc::now() - at).to_std().unwrap_or_default();
        s.finished_at = Some(at);
        for p in &mut s.providers {
            if p.status == Status::Pending {
                p.status = Status::TimedOut;
            }
        }
        s.finished = Some(Instant::now().checked_sub(ago).unwrap_or_else(Instant::now));
        s.version += 1;
        let version = s.version;
        drop(s);
        self.version.send_replace(version);
    }

    /// The run as it stands, with the itineraries changed after version `after`.
    pub fn view(&self, after: u64) -> View {
        let s = self.lock();
        let itineraries = s
            .merged
            .sorted()
            .into_iter()
            .filter(|it| s.touched.get(&it.key).is_some_and(|&v| v > after))
            .cloned()
            .collect();
        View {
            version: s.version,
            done: s.finished.is_some(),
            started_at: self.started_at,
            providers: s.providers.clone(),
            itineraries,
            total: s.merged.len(),
        }
    }

    /// Its version now, and changes to come.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Its version and whether it has finished, read together.
    pub fn progress(&self) -> (u64, bool) {
        let s = self.lock();
        (s.version, s.finished.is_some())
    }

    /// When it finished, and whether every provider answered (a run some provider failed or
    /// timed out in is kept for less time: the missing prices are asked for again sooner).
    pub fn finished(&self) -> Option<(Instant, Completeness)> {
        let s = self.lock();
        let at = s.finished?;
        let complete = s
            .providers
            .iter()
            .filter(|p| p.status == Status::Complete)
            .count();
        let c = if complete == s.providers.len() {
            Completeness::All
        } else if complete > 0 {
            Completeness::Some
        } else {
            Completeness::None
        };
        Some((at, c))
    }

    /// The run as another process can take it up ([`super::shared::RunRecord`]).
    pub fn to_record(&self) -> RunRecord {
        let s = self.lock();
        RunRecord {
            started_at: self.started_at,
            finished_at: s.finished_at,
            providers: s
                .providers
                .iter()
                .map(|p| {
                    let (offers, skipped) = s.answers.get(&p.name).cloned().unwrap_or_default();
                    ProviderRecord {
                        name: p.name.clone(),
                        status: p.status.as_str().to_string(),
                        after_ms: p.after.map(|d| d.as_millis() as u64),
                        error: p.error.clone(),
                        skipped,
                        offers: offers.iter().map(OfferRecord::of).collect(),
                    }
                })
                .collect(),
        }
    }

    /// Another process's run of the same query.
    pub fn from_record(
        key: String,
        query: OfferQuery,
        providers: &[String],
        record: &RunRecord,
        to_eur: impl Fn(Money) -> Option<i64> + Copy,
    ) -> Run {
        let mut run = Run::new(key, query, providers);
        run.started_at = record.started_at;
        run.absorb(record, to_eur);
        run
    }

    /// Take up what a record of the same run says that this one does not yet.
    pub fn absorb(&self, record: &RunRecord, to_eur: impl Fn(Money) -> Option<i64> + Copy) {
        for p in &record.providers {
            if let Some(answered) = p.answered() {
                self.record(answered, to_eur);
            }
        }
        if let Some(at) = record.finished_at {
            self.finish_at(at);
        }
    }

    pub(crate) fn start_refresh(&self) -> bool {
        !self.refreshing.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn refresh_failed(&self) {
        self.refreshing.store(false, Ordering::Release);
    }
}

/// How many providers a finished run heard from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completeness {
    All,
    Some,
    None,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use spontra_domain::{AirportCode, Cabin, CarrierCode, CurrencyCode, Passengers};
    use spontra_providers::{FlightNumber, Offers, Segment, Slice};

    fn query() -> OfferQuery {
        OfferQuery {
            origin: AirportCode::parse("LHR").unwrap(),
            destination: AirportCode::parse("JFK").unwrap(),
            departure_date: "2026-12-18".parse().unwrap(),
            return_date: None,
            passengers: Passengers::one_adult(),
            cabin: Cabin::Economy,
            max_connections: 1,
            currency: None,
        }
    }

    fn offer(provider: &str, id: &str, at: &str, eur: &str) -> Offer {
        let ba = CarrierCode::parse("BA").unwrap();
        Offer {
            provider: provider.into(),
            id: id.into(),
            owner: ba,
            slices: vec![Slice {
                segments: vec![Segment {
                    origin: AirportCode::parse("LHR").unwrap(),
                    destination: AirportCode::parse("JFK").unwrap(),
                    departing_at: at.parse().unwrap(),
                    arriving_at: "2026-12-18T23:00:00".parse().unwrap(),
                    marketing: FlightNumber {
                        carrier: ba,
                        number: 117,
                    },
                    operating_carrier: ba,
                    operating_number: None,
                    cabin: None,
                }],
                fare_brand: None,
            }],
            total: Money::parse_decimal(eur, CurrencyCode::parse("EUR").unwrap()).unwrap(),
            expires_at: None,
            seats_left: None,
        }
    }

    fn answered(provider: &str, outcome: Outcome) -> Answered {
        Answered {
            provider: provider.into(),
            outcome,
            after: Duration::from_millis(5),
        }
    }

    fn eur(m: Money) -> Option<i64> {
        (m.currency.as_str() == "EUR").then_some(m.minor)
    }

    #[test]
    fn a_poll_after_a_version_sees_only_what_changed_since_and_every_provider() {
        let run = Run::new("k".into(), query(), &["A".into(), "B".into(), "C".into()]);
        let a = run.record(
            answered(
                "A",
                Outcome::Complete(Offers {
                    offers: vec![
                        offer("A", "a1", "2026-12-18T09:05:00", "400.00"),
                        offer("A", "a2", "2026-12-18T13:05:00", "350.00"),
                    ],
                    skipped: vec!["offer x: bad".into()],
                }),
            ),
            eur,
        );
        assert_eq!(a.len(), 2);
        let first = run.view(0);
        assert_eq!((first.version, first.done, first.total), (1, false, 2));
        assert_eq!(first.itineraries.len(), 2);
        assert_eq!(first.itineraries[0].prices[0].cheapest.offer_id, "a2");
        // B prices the 09:05 flight lower: only that itinerary changed.
        run.record(
            answered(
                "B",
                Outcome::Complete(Offers {
                    offers: vec![offer("B", "b1", "2026-12-18T09:05:00", "380.00")],
                    skipped: vec![],
                }),
            ),
            eur,
        );
        let second = run.view(first.version);
        assert_eq!(second.version, 2);
        assert_eq!(second.itineraries.len(), 1);
        let it = &second.itineraries[0];
        assert_eq!(
            it.prices
                .iter()
                .map(|p| p.provider.as_str())
                .collect::<Vec<_>>(),
            ["B", "A"]
        );
        run.record(
            answered(
                "C",
                Outcome::Failed {
                    code: "provider_failed",
                    message: "500".into(),
                },
            ),
            eur,
        );
        run.finish();
        let last = run.view(second.version);
        assert!(last.done);
        assert!(last.itineraries.is_empty());
        let statuses: Vec<(&str, Status, usize, usize)> = last
            .providers
            .iter()
            .map(|p| (p.name.as_str(), p.status, p.offers, p.left_out))
            .collect();
        assert_eq!(
            statuses,
            [
                ("A", Status::Complete, 2, 1),
                ("B", Status::Complete, 1, 0),
                ("C", Status::Failed, 0, 0)
            ]
        );
        assert_eq!(run.finished().map(|f| f.1), Some(Completeness::Some));
        assert_eq!(run.view(0).itineraries.len(), 2, "from 0: everything");
    }

    #[test]
    fn a_provider_still_pending_at_the_end_timed_out() {
        let run = Run::new("k".into(), query(), &["A".into()]);
        run.finish();
        let v = run.view(0);
        assert_eq!(v.providers[0].status, Status::TimedOut);
        assert_eq!(run.finished().map(|f| f.1), Some(Completeness::None));
    }
}
