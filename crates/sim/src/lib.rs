//! The simulated world: real airports and routes (OpenFlights), a gravity-model fill where the
//! route data is thin, schedules with frequencies and hub banks in local time, block times from
//! great-circle distance, aircraft and seats, and fares from a documented dynamic-pricing model
//! calibrated against US BTS fare levels. Deterministic from a seed and anchored to a start date
//! ("today"). Also imports real schedules (IATA SSIM chapter 7, CSV).

pub mod fares;
pub mod import;
pub mod market;
mod network;
pub mod rng;
mod schedule;

pub use network::{Network, RouteService};
pub use schedule::{Aircraft, AIRCRAFT};

use chrono::NaiveDate;
use spontra_domain::{utc_minute, CurrencyCode, UtcMinute};
use spontra_engine::{AirportSpec, CarrierSpec, Index, IndexBuilder};
use spontra_refdata::RefData;
use std::time::Instant;

/// How much of the world to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// The 40 busiest airports at a quarter of their frequencies: for tests.
    Tiny,
    /// The 400 busiest airports.
    Small,
    /// The 1,500 busiest airports.
    Medium,
    /// Every airport with scheduled service: about 100,000 flights a day.
    Full,
}

impl Scale {
    pub fn parse(s: &str) -> Option<Scale> {
        match s {
            "tiny" => Some(Scale::Tiny),
            "small" => Some(Scale::Small),
            "medium" => Some(Scale::Medium),
            "full" => Some(Scale::Full),
            _ => None,
        }
    }

    pub fn airports(self) -> usize {
        match self {
            Scale::Tiny => 40,
            Scale::Small => 400,
            Scale::Medium => 1500,
            Scale::Full => usize::MAX,
        }
    }

    /// Share of each service's frequency that is generated.
    pub fn frequency_factor(self) -> f64 {
        match self {
            Scale::Tiny => 0.25,
            _ => 1.0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Tiny => "tiny",
            Scale::Small => "small",
            Scale::Medium => "medium",
            Scale::Full => "full",
        }
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct WorldConfig {
    pub seed: u64,
    pub scale: Scale,
    /// The simulated "today": fares depend on days to departure from here.
    pub start: NaiveDate,
    /// Days of departures, starting at `start`.
    pub days: u32,
    /// The first of them generated (0: all): a block of far-off days is generated with the
    /// fares and flights a whole window from `start` would hold on those days.
    pub first_day: u32,
}

impl WorldConfig {
    pub fn new(start: NaiveDate, scale: Scale) -> Self {
        Self {
            seed: 42,
            scale,
            start,
            days: 35,
            first_day: 0,
        }
    }
}

/// Figures about a generated world.
#[derive(Clone, Debug, Default)]
pub struct WorldStats {
    pub airports_served: usize,
    pub carriers: usize,
    pub route_services: usize,
    pub legs: usize,
    pub flights_per_day: f64,
    pub generation_ms: u128,
}

/// The currency all simulated fares are in.
pub const WORLD_CURRENCY: CurrencyCode = CurrencyCode::EUR;

/// Start an index builder with every reference airport and carrier registered, so codes
/// resolve even where no flight operates. `epoch` is the first UTC minute the index may hold.
pub fn base_builder(refdata: &RefData, epoch: UtcMinute, end: UtcMinute) -> IndexBuilder {
    let mut b = IndexBuilder::new(WORLD_CURRENCY, epoch);
    for a in refdata.airports() {
        let spec = AirportSpec {
            code: a.code,
            city: a.city_code,
            country: a.country,
            mct_domestic: a.mct.domestic,
            mct_international: a.mct.international,
            lat: a.lat,
            lon: a.lon,
            offsets: spontra_refdata::offset_transitions(a.tz, epoch, end),
        };
        // Codes are unique in the reference data; a duplicate would only be skipped.
        let _ = b.add_airport(spec);
    }
    for al in refdata.airlines() {
        let _ = b.add_carrier(CarrierSpec {
            code: al.code,
            alliance: al.alliance,
        });
    }
    b
}

/// Generate the world and build its index.
pub fn generate(refdata: &RefData, config: &WorldConfig) -> (Index, WorldStats) {
    Generator::new(refdata, config.scale, config.seed).generate(refdata, config)
}

/// A world's network (its airports, carriers and services), built once; any run of its days
/// is generated from it on demand.
pub struct Generator {
    network: Network,
    scale: Scale,
    seed: u64,
}

impl Generator {
    pub fn new(refdata: &RefData, scale: Scale, seed: u64) -> Self {
        Generator {
            network: Network::build(refdata, scale, seed),
            scale,
            seed,
        }
    }

    /// The days `config` names, indexed. The network is this generator's: `config`'s scale
    /// and seed must be the ones it was built with.
    pub fn generate(&self, refdata: &RefData, config: &WorldConfig) -> (Index, WorldStats) {
        debug_assert!(config.scale == self.scale && config.seed == self.seed);
        let started = Instant::now();
        let first = config.first_day.min(config.days) as i64;
        let epoch = utc_minute(config.start, 0) + (first - 2) * 1440;
        let end = utc_minute(config.start, 0) + (config.days as i64 + 3) * 1440;
        let mut builder = base_builder(refdata, epoch, end);
        let legs = schedule::generate_legs(refdata, &self.network, config, &mut builder);
        let index = builder.build();
        let stats = WorldStats {
            airports_served: self.network.airports_served(),
            carriers: self.network.carriers_used(),
            route_services: self.network.services.len(),
            legs,
            flights_per_day: legs as f64 / (config.days as i64 - first).max(1) as f64,
            generation_ms: started.elapsed().as_millis(),
        };
        (index, stats)
    }
}
