//! The bookable window rolls on at the market's midnight, without a restart: the day that
//! ended drops out and a new last day is added, in search and in the market's feed alike.
//!
//! The world of the new window is built afresh (the full world's 35 days take under a second;
//! generation is a function of each date, so the days both windows cover hold the same
//! flights), off the async runtime. Search then publishes it as its next inventory version,
//! carrying over what the market said of every flight both windows hold (see
//! `LiveIndex::roll`), and the market's feed goes on sweeping the new world with each shared
//! flight's market carried over. Each process rolls by its own market clock; a change the
//! market sends for the new day before this process has rolled is kept by search and applied
//! when it does.

use crate::config::WorldSettings;
use crate::market::MarketFeed;
use crate::world;
use chrono::NaiveDate;
use spontra_domain::SharedClock;
use spontra_search::SearchService;
use std::sync::Arc;
use std::time::Duration;

/// Rolls the window of this process's search and market.
pub struct Roller {
    pub world: WorldSettings,
    pub clock: SharedClock,
    pub search: Option<Arc<SearchService>>,
    pub market: Option<Arc<MarketFeed>>,
    /// The first day of the window served now.
    pub today: NaiveDate,
}

impl Roller {
    /// Look at the market's date every second (real time) until `stop`, and roll when it
    /// has moved on.
    pub async fn run(mut self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        while !*stop.borrow() {
            tokio::select! {
                _ = every.tick() => {}
                _ = stop.changed() => break,
            }
            let day = self.clock.now().date_naive();
            if day <= self.today {
                continue;
            }
            if let Err(e) = self.roll_to(day).await {
                tracing::error!(error = %e, %day, "the window could not roll on; will retry");
            }
        }
    }

    /// Serve the window starting `day` from now on.
    pub async fn roll_to(&mut self, day: NaiveDate) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        let settings = self.world.clone();
        let world = tokio::task::spawn_blocking(move || {
            world::load(
                &settings.scale,
                settings.seed,
                settings.days,
                Some(&day.to_string()),
                settings.schedule.as_deref(),
            )
        })
        .await??;
        let world = Arc::new(world);
        let at = self.clock.now();
        let mut carried = None;
        if let Some(search) = &self.search {
            let (live, index) = (search.live().clone(), (*world.index).clone());
            carried = Some(tokio::task::spawn_blocking(move || live.roll(index, day)).await?);
        }
        if let Some(market) = self.market.clone() {
            let world = world.clone();
            tokio::task::spawn_blocking(move || market.adopt(world, at)).await?;
        }
        tracing::info!(
            from = %self.today,
            to = %day,
            legs = world.index.leg_count(),
            carried,
            ms = started.elapsed().as_millis() as u64,
            "the bookable window rolled on"
        );
        metrics::counter!("inventory_window_rolls_total").increment(1);
        self.today = day;
        Ok(())
    }
}
