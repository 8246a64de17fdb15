//! The bookable horizon: flights on sale about 330 days ahead, as airlines sell them, without
//! holding 330 days of dated legs in memory.
//!
//! The live index holds the **hot window** (`world.days`, 35 by default): every dated leg of
//! it, moved by the market and by ingestion as it happens. The days after it are not held:
//! their flights are the schedule's patterns (a service flies these weekdays at this local
//! time) and their fares the published fare curve — both functions of the date, so any run of
//! those days can be generated when a search asks for it ([`FarDays`]). A search whose dates
//! reach past the hot window (a connection two days after its last departure included) is
//! answered from a **block**: the whole weeks its dates fall in, generated, then brought up to
//! date with what this process knows of them exactly as the window is when it rolls on at
//! midnight (`LiveIndex::bring_up_to_date`: the schedule changes, every fare and seat count
//! the hot window holds for the days both cover, and the changes received for flights beyond
//! the window). Blocks are kept in a cache bounded in bytes, for `search.far_block_seconds`
//! at most: a block that shares days with the hot window shows those days' fares as they
//! were when it was built (each itinerary says when its prices were observed).
//!
//! A block of a week of the full world takes about a fifth of a second to generate and a few
//! megabytes per day to keep; memory and start-up are those of the hot window whatever the
//! horizon (docs/performance.md).

use crate::live::{LiveIndex, Snapshot};
use chrono::{Days, NaiveDate};
use spontra_engine::Index;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where far-off days come from: any run of them, generated as a window starting `today`
/// would hold them.
pub trait FarDays: Send + Sync {
    /// Departures on `first..=last` (local dates), `today` being the first bookable day.
    fn build(&self, today: NaiveDate, first: NaiveDate, last: NaiveDate) -> Index;
}

/// Blocks are whole weeks counted from today, so nearby searches share them.
const BLOCK_DAYS: u64 = 7;

/// Days before a searched date whose departures a block holds (a departure on the local date
/// may leave the day before in UTC), and days after the last searched date (connections).
const BEFORE: u64 = 1;
const AFTER: u64 = 2;

/// The horizon served: how far ahead flights are sold, the far days' source and the blocks
/// built from it.
pub struct Horizon {
    /// Bookable days from today (the hot window's included).
    days: u32,
    /// Days the live index holds from today.
    hot_days: u32,
    source: Arc<dyn FarDays>,
    /// Blocks by (today, first day, last day).
    blocks: moka::sync::Cache<(NaiveDate, NaiveDate, NaiveDate), Arc<Snapshot>>,
}

/// `[search]` settings of the horizon.
#[derive(Clone, Copy, Debug)]
pub struct HorizonLimits {
    /// Bytes of blocks kept (their indexes' hot structures).
    pub cache_bytes: u64,
    /// The longest a block is kept after it was built.
    pub keep: Duration,
}

impl Horizon {
    /// `days` bookable from today, of which the live index holds `hot_days`.
    pub fn new(days: u32, hot_days: u32, source: Arc<dyn FarDays>, limits: HorizonLimits) -> Self {
        Horizon {
            days: days.max(hot_days),
            hot_days,
            source,
            blocks: moka::sync::Cache::builder()
                .max_capacity(limits.cache_bytes)
                .weigher(|_, s: &Arc<Snapshot>| {
                    u32::try_from(s.index.memory_bytes()).unwrap_or(u32::MAX)
                })
                .time_to_live(limits.keep)
                .build(),
        }
    }

    /// The last bookable day for a window starting `today`.
    pub fn last_day(&self, today: NaiveDate) -> NaiveDate {
        today + Days::new(self.days as u64 - 1)
    }

    /// Whether departures on `first..=last` (and their connections) reach past what the live
    /// index holds for a window starting `today`.
    fn reaches_beyond(&self, today: NaiveDate, last: NaiveDate) -> bool {
        last + Days::new(AFTER) >= today + Days::new(self.hot_days as u64)
    }

    /// Whether the block for `first..=last` would have to be generated now.
    pub fn would_build(&self, today: NaiveDate, first: NaiveDate, last: NaiveDate) -> bool {
        self.reaches_beyond(today, last)
            && !self.blocks.contains_key(&self.block(today, first, last))
    }

    /// The whole weeks (from `today`) holding `first..=last` and their connections.
    fn block(
        &self,
        today: NaiveDate,
        first: NaiveDate,
        last: NaiveDate,
    ) -> (NaiveDate, NaiveDate, NaiveDate) {
        let from = (first - Days::new(BEFORE)).max(today);
        let to = (last + Days::new(AFTER)).min(self.last_day(today) + Days::new(AFTER));
        let weeks = |d: NaiveDate| (d - today).num_days().max(0) as u64 / BLOCK_DAYS;
        let start = today + Days::new(weeks(from) * BLOCK_DAYS);
        let end = today + Days::new((weeks(to) + 1) * BLOCK_DAYS - 1);
        (today, start, end)
    }

    /// The version to answer a search for departures on `first..=last` from: the live one when
    /// it holds them, else their block (built now if it is not kept).
    pub fn snapshot_for(
        &self,
        live: &LiveIndex,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Arc<Snapshot> {
        let current = live.current();
        if !self.reaches_beyond(current.today, last) {
            return current;
        }
        let key = self.block(current.today, first, last);
        self.blocks.get_with(key, || {
            let started = Instant::now();
            let (today, from, to) = key;
            let built = self.source.build(today, from, to);
            let block = live.bring_up_to_date(built);
            metrics::counter!("search_far_blocks_built_total").increment(1);
            metrics::histogram!("search_far_block_build_seconds")
                .record(started.elapsed().as_secs_f64());
            tracing::debug!(%from, %to, legs = block.index.leg_count(), ms = started.elapsed().as_millis() as u64, "built a block of far-off days");
            Arc::new(block)
        })
    }
}
