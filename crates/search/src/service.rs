//! The search service: runs typed queries ([`crate::query`]) on the inventory version that
//! answers for their dates, pages them, and hands the results to [`crate::present`]. Used by
//! the HTTP handlers and by the CLI, so both say the same things.

use crate::dto::*;
use crate::error::SearchError;
use crate::facets;
use crate::horizon::Horizon;
use crate::live::{LiveIndex, Snapshot};
use crate::present::{calendar_day, country_groups};
use crate::query::{CalendarQuery, ExploreQuery, TripQuery};
use crate::reference::Reference;
use chrono::{Days, NaiveDate};
use spontra_domain::{Invalid, SharedClock, SystemClock};
use spontra_engine::{best_scores, score_inputs, sort_by, Index, LegId, SortOrder};
use spontra_http::{Cursor, Position};
use spontra_refdata::RefData;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

pub struct SearchService {
    pub(crate) refdata: Arc<RefData>,
    /// Airports, cities, airlines and currencies as the API shows them.
    pub(crate) reference: Reference,
    /// The inventory, one snapshot per search or request parsed. Airports, carriers and the
    /// currency are those of every version (each window is built from the same network).
    pub(crate) live: Arc<LiveIndex>,
    /// Market time: what prices' ages are measured from.
    pub(crate) clock: SharedClock,
    /// The days on sale after the live index's window (none: the window is all there is).
    pub(crate) horizon: Option<Horizon>,
    /// Where searches are counted for popular routes (none: not counted, as on the CLI).
    pub(crate) tally: Option<Arc<crate::analytics::SearchTally>>,
}

/// A digest of an ordered result list: its itineraries' flights and prices, in order.
fn list_digest<L: IntoIterator<Item = LegId>>(list: impl Iterator<Item = (L, u64)>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (legs, price) in list {
        for leg in legs {
            leg.hash(&mut h);
        }
        price.hash(&mut h);
        u32::MAX.hash(&mut h);
    }
    h.finish()
}

/// The position of the next page: the first page names the version and list it shows; a later
/// page continues only the same list (`stale_cursor` otherwise).
fn continuing(at: Position, snap: &Snapshot, list: u64) -> Result<Position, Invalid> {
    if at == Position::default() {
        return Ok(Position {
            offset: 0,
            version: snap.version,
            list,
        });
    }
    if at.list != list {
        return Err(Cursor::stale());
    }
    Ok(at)
}

impl SearchService {
    /// `today` is the first bookable date; the last is the index's last day of departures.
    pub fn new(refdata: Arc<RefData>, index: Arc<Index>, today: NaiveDate) -> Self {
        Self {
            reference: Reference::new(refdata.clone()),
            refdata,
            live: Arc::new(LiveIndex::new(index, today)),
            clock: Arc::new(SystemClock),
            horizon: None,
            tally: None,
        }
    }

    /// Sell the days of `horizon` too, beyond the live index's window.
    pub fn with_horizon(mut self, horizon: Horizon) -> Self {
        self.horizon = Some(horizon);
        self
    }

    /// Measure prices' ages on `clock` (the market's).
    /// Count searches in `tally` (first pages only: paging is not searching again).
    pub fn with_tally(mut self, tally: Arc<crate::analytics::SearchTally>) -> Self {
        self.tally = Some(tally);
        self
    }

    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The versions searches read; the follower of `inventory.changed` writes them.
    pub fn live(&self) -> &Arc<LiveIndex> {
        &self.live
    }

    pub fn refdata(&self) -> &RefData {
        &self.refdata
    }

    /// Airports, cities, airlines and currencies as the API shows them.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// The bookable days now: they roll on at the market's midnight.
    pub fn window(&self) -> (NaiveDate, NaiveDate) {
        let window = self.live.current().window();
        match &self.horizon {
            Some(h) => (window.0, h.last_day(window.0)),
            None => window,
        }
    }

    /// The version that answers for departures on `dates` (first and last): the live one, or
    /// the block of far-off days holding them.
    fn snapshot_for(&self, (first, last): (NaiveDate, NaiveDate)) -> Arc<Snapshot> {
        match &self.horizon {
            Some(h) => h.snapshot_for(&self.live, first, last),
            None => self.live.current(),
        }
    }

    /// Whether answering for departures on `dates` would first generate far-off days (the
    /// search is then heavy).
    pub fn would_build(&self, (first, last): (NaiveDate, NaiveDate)) -> bool {
        self.horizon
            .as_ref()
            .is_some_and(|h| h.would_build(self.live.current().today, first, last))
    }

    // ------------------------------------------------------------------ running

    pub fn search(&self, q: &TripQuery) -> Result<SearchResponse, SearchError> {
        let started = Instant::now();
        let snap = self.snapshot_for(q.dates());
        let ix = &*snap.index;
        // One engine run without the facet filters; results and counts both filter it, so
        // every count is exactly what choosing it shows (see `facets`).
        let all = ix.search_trip(&q.slices, &facets::engine_filters(&q.filters));
        let (options, facets) =
            facets::results_and_facets(ix, &self.refdata, all, &q.filters, |m| q.display.price(m));
        let inputs = score_inputs(ix, &options);
        let order = sort_by(&inputs, q.sort);
        let list = list_digest(order.iter().map(|&i| {
            let o = &options[i];
            (o.slices.iter().flat_map(|c| c.legs().to_vec()), o.price)
        }));
        let at = continuing(q.at, &snap, list)?;
        if let Some(tally) = self.tally.as_ref().filter(|_| q.at.offset == 0) {
            for (origin, destination) in &q.places {
                tally.count(origin.code.as_str(), Some(destination.code.as_str()));
            }
        }
        let scores = best_scores(&inputs);
        let engine_micros = started.elapsed().as_micros() as u64;
        let summary_of = |o: SortOrder| {
            sort_by(&inputs, o).first().map(|&i| SortSummary {
                price: q.display.price(options[i].price),
                duration_minutes: options[i].duration(),
            })
        };
        let summary = SearchSummary {
            total: options.len(),
            best: summary_of(SortOrder::Best),
            cheapest: summary_of(SortOrder::Cheapest),
            fastest: summary_of(SortOrder::Fastest),
        };
        let end = q.at.offset.saturating_add(q.limit).min(order.len());
        let itineraries = order
            .get(q.at.offset.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .map(|&i| self.itinerary(ix, &options[i], scores[i], &q.filters, &q.display))
            .collect();
        Ok(SearchResponse {
            currency: q.display.currency.to_string(),
            exchange_rate: crate::query::exchange_rate(&q.display, ix.currency()),
            sort: q.sort.as_str().to_string(),
            summary,
            facets,
            itineraries,
            next_cursor: (end < order.len())
                .then(|| Cursor::encode(Position { offset: end, ..at }, q.fingerprint)),
            engine_micros,
            inventory: self.stamp(&snap),
        })
    }

    pub fn calendar(&self, q: &CalendarQuery) -> CalendarResponse {
        let started = Instant::now();
        let snap = self.snapshot_for(q.dates());
        let ix = &*snap.index;
        let range = spontra_domain::DateRange::new(q.from, q.to, i64::MAX)
            .unwrap_or(spontra_domain::DateRange::single(q.from));
        let days: Vec<CalendarDay> = ix
            .calendar(&q.slice, &q.filters, range)
            .into_iter()
            .map(|(d, c)| calendar_day(&q.display, d, c))
            .collect();
        let grid = match q.nights {
            None => vec![],
            Some((lo, hi)) => ix
                .round_trip_calendar(&q.slice, &q.filters, range, lo..=hi)
                .into_iter()
                .map(|(d, n, p)| CalendarCell {
                    depart: d.to_string(),
                    nights: n,
                    return_date: (d + Days::new(n as u64)).to_string(),
                    price: p.map(|p| q.display.price(p)),
                })
                .collect(),
        };
        let cheapest = days
            .iter()
            .filter(|d| d.price.is_some())
            .min_by_key(|d| d.price.as_ref().map(|p| p.minor))
            .cloned();
        CalendarResponse {
            currency: q.display.currency.to_string(),
            exchange_rate: crate::query::exchange_rate(&q.display, ix.currency()),
            days,
            grid,
            cheapest,
            engine_micros: started.elapsed().as_micros() as u64,
            inventory: self.stamp(&snap),
        }
    }

    pub fn explore(&self, q: &ExploreQuery) -> Result<ExploreResponse, SearchError> {
        let started = Instant::now();
        let snap = self.snapshot_for(q.dates());
        let ix = &*snap.index;
        let range = spontra_domain::DateRange::new(q.from, q.to, i64::MAX)
            .unwrap_or(spontra_domain::DateRange::single(q.from));
        let mut hits = ix.explore(&q.origin.airports, range, &q.filters);
        if q.by_duration {
            hits.sort_by_key(|h| (h.best.duration(), h.best.price, h.destination));
        }
        let list = list_digest(hits.iter().map(|h| (h.best.legs().to_vec(), h.best.price)));
        let at = continuing(q.at, &snap, list)?;
        if let Some(tally) = self.tally.as_ref().filter(|_| q.at.offset == 0) {
            tally.count(q.origin.code.as_str(), None);
        }
        let engine_micros = started.elapsed().as_micros() as u64;
        let total = hits.len();
        let end = q.at.offset.saturating_add(q.limit).min(total);
        let destinations: Vec<ExploreDestination> = hits
            .get(q.at.offset.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .filter_map(|h| self.destination(ix, h, &q.filters, &q.display))
            .collect();
        let groups = if q.group_by_country {
            country_groups(&destinations)
        } else {
            vec![]
        };
        Ok(ExploreResponse {
            currency: q.display.currency.to_string(),
            exchange_rate: crate::query::exchange_rate(&q.display, ix.currency()),
            origin: q.origin.code.to_string(),
            total,
            destinations,
            groups,
            next_cursor: (end < total)
                .then(|| Cursor::encode(Position { offset: end, ..at }, q.fingerprint)),
            engine_micros,
            inventory: self.stamp(&snap),
        })
    }
}
