//! Live search: a query asked of every provider at once, their offers merged into itineraries
//! as they arrive (the same flights side by side, a price from each provider that sells them),
//! shown to the client by polling (`after` a version) or as a stream.
//!
//! One fan-out serves many travellers. A [`Run`] is kept per normalised query (airports,
//! dates, passengers, cabin, connections — not the display currency): a search for a query
//! whose run is under way joins it, and one whose run finished recently is answered from it
//! at once. How long a finished run is reused depends on how soon the flights leave (2
//! minutes within three days, 5 within a fortnight, else 10; never more than
//! [`LiveLimits::cache_seconds`]) and on whether every provider answered (a run with a
//! provider missing is reused for a minute at most, so its prices are asked for again soon).
//! For as long again after that, the run is still shown — marked `stale` — while one refresh
//! runs in the background and replaces it when it has something to show
//! (stale-while-revalidate).

pub mod run;
pub mod shared;
pub mod wire;

pub use run::{Completeness, ProviderState, Run, Status, View};
use shared::Claim;
pub use shared::RedisRuns;

use crate::error::SearchError;
use chrono::NaiveDate;
use serde::Deserialize;
use spontra_domain::SharedClock;
use spontra_http::Display;
use spontra_providers::fanout::FanOut;
use spontra_providers::OfferQuery;
use spontra_refdata::RefData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `[live]` in the configuration: how live searches run and how long their results are
/// reused.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LiveLimits {
    /// The whole search's deadline in seconds (each provider's own deadline is within it).
    pub search_seconds: u64,
    /// The longest a finished search's results are reused, in seconds (at most 600: live
    /// quotes are not kept longer, as Skyscanner keeps them).
    pub cache_seconds: u64,
    /// Fan-outs running at once in this process; a new query beyond them is answered 503.
    pub max_running: usize,
    /// How long a live search can be polled after it was last asked about, in seconds.
    pub keep_seconds: u64,
}

impl Default for LiveLimits {
    fn default() -> Self {
        LiveLimits {
            search_seconds: 30,
            cache_seconds: 600,
            max_running: 256,
            keep_seconds: 900,
        }
    }
}

/// One traveller's live search: the run it shows and how it shows it.
pub struct Session {
    pub id: String,
    pub run: Arc<Run>,
    pub display: Display,
    /// Joined a run older than its reuse time (a fresher one is being fetched).
    pub stale: bool,
}

/// A provider as live search names it, with the link to its offers.
#[derive(Clone, Debug)]
pub struct ProviderLink {
    pub name: String,
    /// A URL with `{offer_id}` where the offer's id goes (where a traveller books it).
    pub deep_link: Option<String>,
}

/// Where the quotes a live search is sent go (the event stream's `provider.raw`, so live
/// prices feed history, insights and alerts). Called as each provider answers, never awaited:
/// recording quotes never holds a search up.
pub trait QuoteSink: Send + Sync {
    fn quotes(&self, query: &OfferQuery, offers: Vec<spontra_providers::Offer>);
}

/// The live searches of a process.
pub struct LiveSearches {
    fanout: FanOut,
    providers: Vec<ProviderLink>,
    limits: LiveLimits,
    refdata: Arc<RefData>,
    /// Market time: how soon flights leave is counted from its today.
    clock: SharedClock,
    /// Runs by query key (L1).
    runs: moka::sync::Cache<String, Arc<Run>>,
    /// Runs shared with the other search processes (L2), when Redis is configured.
    l2: Option<Arc<RedisRuns>>,
    /// Held while deciding whether a query needs a new run, one lock per query.
    deciding: moka::sync::Cache<String, Arc<tokio::sync::Mutex<()>>>,
    sessions: moka::sync::Cache<String, Arc<Session>>,
    running: Arc<AtomicUsize>,
    sink: Option<Arc<dyn QuoteSink>>,
}

/// How long a run of a query for flights leaving in `days` is reused.
pub fn fresh_for(days: i64, completeness: Completeness, most: Duration) -> Duration {
    let by_proximity = match days {
        ..=3 => Duration::from_secs(120),
        4..=14 => Duration::from_secs(300),
        _ => Duration::from_secs(600),
    };
    let by_answers = match completeness {
        Completeness::All => by_proximity,
        Completeness::Some => Duration::from_secs(60),
        Completeness::None => Duration::ZERO,
    };
    by_proximity.min(by_answers).min(most)
}

/// The normalised query a run is kept under.
pub fn query_key(q: &OfferQuery) -> String {
    format!(
        "{}-{}-{}-{}-a{}c{}i{}-{}-s{}",
        q.origin,
        q.destination,
        q.departure_date,
        q.return_date.map_or("ow".to_string(), |d| d.to_string()),
        q.passengers.adults(),
        q.passengers.children(),
        q.passengers.infants(),
        q.cabin.as_str(),
        q.max_connections
    )
}

/// How often a process following another's run reads its record.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);
/// A run whose record has not appeared by then is asked for here.
const TAKE_OVER_AFTER: Duration = Duration::from_secs(2);

enum Age {
    Fresh,
    Stale,
    Gone,
}

impl LiveSearches {
    pub fn new(
        fanout: FanOut,
        providers: Vec<ProviderLink>,
        limits: LiveLimits,
        refdata: Arc<RefData>,
        clock: SharedClock,
    ) -> Self {
        let most = Duration::from_secs(limits.cache_seconds.clamp(1, 600));
        LiveSearches {
            fanout,
            providers,
            refdata,
            clock,
            // A run is never shown after twice its longest reuse.
            runs: moka::sync::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(most * 2 + Duration::from_secs(limits.search_seconds))
                .build(),
            l2: None,
            deciding: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(60))
                .build(),
            sessions: moka::sync::Cache::builder()
                .max_capacity(200_000)
                .time_to_idle(Duration::from_secs(limits.keep_seconds.max(60)))
                .build(),
            running: Arc::new(AtomicUsize::new(0)),
            sink: None,
            limits,
        }
    }

    /// Send the quotes this process's fan-outs receive to `sink` (not those of runs followed
    /// from another process: that one sends its own).
    pub fn with_sink(mut self, sink: Arc<dyn QuoteSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Share runs with the other search processes through `redis`.
    pub fn with_l2(mut self, redis: Arc<RedisRuns>) -> Self {
        self.l2 = Some(redis);
        self
    }

    pub fn providers(&self) -> &[ProviderLink] {
        &self.providers
    }

    /// `provider`'s deep link template, if it has one.
    pub fn deep_link(&self, provider: &str) -> Option<&str> {
        self.providers
            .iter()
            .find(|p| p.name == provider)?
            .deep_link
            .as_deref()
    }

    fn most(&self) -> Duration {
        Duration::from_secs(self.limits.cache_seconds.clamp(1, 600))
    }

    fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    fn age(&self, run: &Run) -> Age {
        let Some((at, completeness)) = run.finished() else {
            return Age::Fresh;
        };
        let days = (run.query.departure_date - self.today()).num_days();
        let fresh = fresh_for(days, completeness, self.most());
        let age = at.elapsed();
        if age < fresh {
            Age::Fresh
        } else if completeness != Completeness::None && age < fresh * 2 {
            Age::Stale
        } else {
            Age::Gone
        }
    }

    /// Start a live search for `query`, shown in `display`'s currency: joined to the run of
    /// the same query under way or fresh (here or, through Redis, in another process), else a
    /// new run.
    pub async fn start(
        self: &Arc<Self>,
        query: OfferQuery,
        display: Display,
    ) -> Result<Arc<Session>, SearchError> {
        if self.providers.is_empty() {
            return Err(SearchError::NoProviders);
        }
        let key = query_key(&query);
        let (run, stale) = self.run_for(key, query).await?;
        let session = Arc::new(Session {
            id: uuid::Uuid::new_v4().simple().to_string(),
            run,
            display,
            stale,
        });
        self.sessions.insert(session.id.clone(), session.clone());
        Ok(session)
    }

    /// The live search `id`, while it is kept.
    pub fn session(&self, id: &str) -> Option<Arc<Session>> {
        self.sessions.get(id)
    }

    fn names(&self) -> Vec<String> {
        self.providers.iter().map(|p| p.name.clone()).collect()
    }

    /// How long a run's record is kept in Redis: as long as it can be shown.
    fn keep(&self) -> Duration {
        self.most() * 2 + Duration::from_secs(self.limits.search_seconds.max(1))
    }

    /// How long one process holds a query's lock: the search's deadline and a little more.
    fn hold(&self) -> Duration {
        Duration::from_secs(self.limits.search_seconds.max(1) + 5)
    }

    fn counted(result: &'static str) {
        metrics::counter!("live_search_runs", "result" => result).increment(1);
    }

    async fn run_for(
        self: &Arc<Self>,
        key: String,
        query: OfferQuery,
    ) -> Result<(Arc<Run>, bool), SearchError> {
        // A fresh run without waiting on anyone.
        if let Some(run) = self.runs.get(&key) {
            if let Age::Fresh = self.age(&run) {
                Self::counted("joined");
                return Ok((run, false));
            }
        }
        // One decision per query at a time in this process.
        let gate = self
            .deciding
            .get_with(key.clone(), || Arc::new(tokio::sync::Mutex::new(())));
        let _deciding = gate.lock().await;
        let mut here = self.runs.get(&key);
        if let Some(run) = &here {
            if let Age::Fresh = self.age(run) {
                Self::counted("joined");
                return Ok((run.clone(), false));
            }
        }
        // Another process's run of the query, newer than this one's.
        if let Some(l2) = &self.l2 {
            if let Some(record) = l2.get(&key).await {
                if here
                    .as_ref()
                    .is_none_or(|r| record.started_at > r.started_at)
                {
                    let refdata = &self.refdata;
                    let run = Arc::new(Run::from_record(
                        key.clone(),
                        query.clone(),
                        &self.names(),
                        &record,
                        |m| refdata.eur_minor(m),
                    ));
                    match self.age(&run) {
                        Age::Fresh => {
                            if record.finished_at.is_none() {
                                self.follow(run.clone());
                            }
                            self.runs.insert(key, run.clone());
                            Self::counted("shared");
                            return Ok((run, false));
                        }
                        Age::Stale => {
                            self.runs.insert(key.clone(), run.clone());
                            here = Some(run);
                        }
                        Age::Gone => {}
                    }
                }
            }
        }
        if let Some(run) = here {
            if let Age::Stale = self.age(&run) {
                Self::counted("stale");
                if run.start_refresh() {
                    self.refresh(key, query, run.clone()).await;
                }
                return Ok((run, true));
            }
        }
        // A new run, asked of the providers by one process only.
        let run = match self.claim(&key).await {
            Claim::Theirs => {
                let run = Arc::new(Run::new(key.clone(), query, &self.names()));
                self.follow(run.clone());
                Self::counted("shared");
                run
            }
            Claim::Ours(token) => self.launch(key.clone(), query, Some(token))?,
            Claim::Alone => self.launch(key.clone(), query, None)?,
        };
        self.runs.insert(key, run.clone());
        Self::counted("new");
        Ok((run, false))
    }

    async fn claim(&self, key: &str) -> Claim {
        match &self.l2 {
            Some(l2) => l2.claim(key, self.hold()).await,
            None => Claim::Alone,
        }
    }

    /// Fetch `stale`'s query again in the background (unless another process is), and put the
    /// fresh run in its place once it has heard from a provider; if it hears from none, the
    /// stale one stays (and the next search tries again).
    async fn refresh(self: &Arc<Self>, key: String, query: OfferQuery, stale: Arc<Run>) {
        let token = match self.claim(&key).await {
            Claim::Ours(token) => Some(token),
            Claim::Alone => None,
            // Another process refreshes it: its record is taken up by a later search.
            Claim::Theirs => {
                stale.refresh_failed();
                return;
            }
        };
        let fresh = match self.launch(key, query, token) {
            Ok(fresh) => fresh,
            Err(_) => {
                stale.refresh_failed();
                return;
            }
        };
        let me = self.clone();
        tokio::spawn(async move {
            let mut changes = fresh.watch();
            while fresh.finished().is_none() {
                if changes.changed().await.is_err() {
                    break;
                }
            }
            match fresh.finished() {
                Some((_, Completeness::All | Completeness::Some)) => {
                    me.runs.insert(fresh.key.clone(), fresh);
                }
                _ => stale.refresh_failed(),
            }
        });
    }

    /// A new run of `query`, its fan-out started (see [`LiveSearches::drive`]).
    fn launch(
        self: &Arc<Self>,
        key: String,
        query: OfferQuery,
        lock: Option<String>,
    ) -> Result<Arc<Run>, SearchError> {
        let run = Arc::new(Run::new(key, query, &self.names()));
        self.drive(run.clone(), lock)?;
        Ok(run)
    }

    /// Ask the providers for `run`'s query, their answers recorded in it as they come; refused
    /// when as many fan-outs run as allowed. With `lock`, this process holds the query's Redis
    /// lock: the run is written to Redis at once and as each provider answers, and the lock
    /// released at the end.
    fn drive(self: &Arc<Self>, run: Arc<Run>, lock: Option<String>) -> Result<(), SearchError> {
        let running = self.running.fetch_add(1, Ordering::AcqRel);
        if running >= self.limits.max_running {
            self.running.fetch_sub(1, Ordering::AcqRel);
            if let (Some(l2), Some(token)) = (self.l2.clone(), lock) {
                let key = run.key.clone();
                tokio::spawn(async move { l2.release(&key, &token).await });
            }
            return Err(SearchError::Busy {
                retry_after_secs: 2,
            });
        }
        let mut answers = self.fanout.search(
            run.query.clone(),
            Duration::from_secs(self.limits.search_seconds.max(1)),
        );
        let me = self.clone();
        let shared = self.l2.clone().zip(lock);
        tokio::spawn(async move {
            let started = Instant::now();
            if let Some((l2, _)) = &shared {
                l2.put(&run.key, &run.to_record(), me.keep()).await;
            }
            while let Some(answered) = answers.recv().await {
                let offers = run.record(answered, |m| me.refdata.eur_minor(m));
                if let (Some(sink), false) = (&me.sink, offers.is_empty()) {
                    sink.quotes(&run.query, offers);
                }
                if let Some((l2, _)) = &shared {
                    l2.put(&run.key, &run.to_record(), me.keep()).await;
                }
            }
            run.finish();
            if let Some((l2, token)) = &shared {
                l2.put(&run.key, &run.to_record(), me.keep()).await;
                l2.release(&run.key, token).await;
            }
            me.running.fetch_sub(1, Ordering::AcqRel);
            metrics::histogram!("live_search_run_seconds").record(started.elapsed().as_secs_f64());
        });
        Ok(())
    }

    /// Follow another process's run of the same query through its Redis record until it
    /// finishes. Its record is written as soon as it claims the query, so a record missing
    /// for [`TAKE_OVER_AFTER`] means it is gone (or Redis is): this process asks the
    /// providers itself. A record that never finishes is timed out after the lock's time.
    fn follow(self: &Arc<Self>, run: Arc<Run>) {
        let me = self.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let mut seen = false;
            while started.elapsed() < me.hold() {
                match me.l2.as_ref() {
                    Some(l2) => {
                        if let Some(record) = l2.get(&run.key).await {
                            seen = true;
                            run.absorb(&record, |m| me.refdata.eur_minor(m));
                            if record.finished_at.is_some() {
                                return;
                            }
                        }
                    }
                    None => break,
                }
                if !seen && started.elapsed() >= TAKE_OVER_AFTER {
                    metrics::counter!("live_search_runs", "result" => "taken_over").increment(1);
                    if me.drive(run.clone(), None).is_err() {
                        run.finish();
                    }
                    return;
                }
                tokio::time::sleep(FOLLOW_EVERY).await;
            }
            run.finish();
        });
    }
}

/// The query providers are asked, from a parsed Browse query of one or two slices. Not in
/// the display currency: one run serves every currency (each provider prices in its own, and
/// prices are converted when shown).
pub(crate) fn offer_query(q: &crate::query::TripQuery) -> OfferQuery {
    let (origin, destination) = (&q.places[0].0, &q.places[0].1);
    OfferQuery {
        origin: origin.code,
        destination: destination.code,
        departure_date: q.slices[0].date,
        return_date: q.slices.get(1).map(|s| s.date),
        passengers: q.filters.passengers,
        cabin: q.filters.cabin,
        max_connections: q.filters.max_stops,
        currency: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_reused_for_less_time_the_sooner_the_flights_leave_and_never_over_ten_minutes() {
        let most = Duration::from_secs(600);
        let secs = |d, c| fresh_for(d, c, most).as_secs();
        assert_eq!(secs(0, Completeness::All), 120);
        assert_eq!(secs(3, Completeness::All), 120);
        assert_eq!(secs(4, Completeness::All), 300);
        assert_eq!(secs(14, Completeness::All), 300);
        assert_eq!(secs(15, Completeness::All), 600);
        assert_eq!(secs(200, Completeness::All), 600);
        assert_eq!(secs(200, Completeness::Some), 60);
        assert_eq!(secs(200, Completeness::None), 0);
        assert_eq!(
            fresh_for(200, Completeness::All, Duration::from_secs(30)).as_secs(),
            30
        );
    }
}
