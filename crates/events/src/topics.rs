//! The stream's contract between services: the topics, and the CloudEvents types published on
//! them (producers and consumers name them from here, so the two cannot drift apart).

/// What providers send (the simulated market publishes here; ingestion consumes).
pub const RAW: &str = "provider.raw";
/// What ingestion could not accept, with the reason in `dlq_*` headers.
pub const DEAD_LETTER: &str = "provider.dead_letter";
/// Every price observation ingestion applied (pricing builds history on it).
pub const PRICE_OBSERVED: &str = "price.observed";
/// What pricing could not read from `price.observed`, with the reason in `dlq_*` headers.
pub const PRICE_DEAD_LETTER: &str = "price.dead_letter";
/// What changed in the inventory (search processes follow it).
pub const INVENTORY_CHANGED: &str = "inventory.changed";
/// How often each route was searched, in batches (pricing counts them for popular routes).
pub const SEARCH_PERFORMED: &str = "search.performed";
/// What pricing could not read from `search.performed`.
pub const SEARCH_DEAD_LETTER: &str = "search.dead_letter";

/// The `type` of each event on [`INVENTORY_CHANGED`] and [`PRICE_OBSERVED`].
pub mod types {
    /// A flight's fare and seats in one cabin.
    pub const FARE_CHANGED: &str = "dev.spontra.inventory.changed.v1";
    /// A flight cancelled, retimed or added.
    pub const SCHEDULE_CHANGED: &str = "dev.spontra.inventory.schedule_changed.v1";
    /// A price observation.
    pub const PRICE_OBSERVED: &str = "dev.spontra.price.observed.v1";
    /// A batch of search counts.
    pub const SEARCH_PERFORMED: &str = "dev.spontra.search.performed.v1";
}

/// The data of a [`types::SEARCH_PERFORMED`] event: how often each route was searched on a
/// day (the batch's id is the event's).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Searches {
    /// The UTC day the searches were made.
    pub day: chrono::NaiveDate,
    pub counts: Vec<RouteSearches>,
}

/// One route's searches (`destination` `None`: explore, anywhere from `origin`).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RouteSearches {
    pub origin: String,
    pub destination: Option<String>,
    pub searches: i64,
}
