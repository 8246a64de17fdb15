//! What the pricing service keeps: each flight's latest price as the `price.observed` stream
//! tells it, the lowest price on sale for each route, departure date and cabin, and that
//! lowest price day by day (the roll-up history, insights and the price graph read).
//!
//! All prices are per adult in euro cents (pricing converts at the ECB reference rate when
//! it receives them), so a route's prices compare whatever currency a provider quoted in.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

/// A route in one cabin.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteCabin {
    pub origin: String,
    pub destination: String,
    /// `economy`, `premium_economy`, `business` or `first`.
    pub cabin: String,
}

/// One flight's price in one cabin as observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlightPrice {
    pub route: RouteCabin,
    /// Local departure date at the origin.
    pub departure_date: NaiveDate,
    pub carrier: String,
    pub flight_number: u16,
    /// Per adult, euro cents.
    pub fare_minor: i64,
    /// 0: sold out in this cabin (its fare is then not on sale).
    pub seats_left: i32,
    pub observed_at: DateTime<Utc>,
}

/// The lowest price on sale for a route and departure date during one day (UTC) of its sale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyPrice {
    pub departure_date: NaiveDate,
    /// The day the prices were on sale.
    pub day: NaiveDate,
    /// The lowest and highest the lowest price was that day.
    pub low_minor: i64,
    pub high_minor: i64,
    /// The lowest price at the day's last observation, and when that was.
    pub close_minor: i64,
    pub close_at: DateTime<Utc>,
}

/// The lowest price on sale now for a route and departure date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePrice {
    pub departure_date: NaiveDate,
    /// `None`: every flight observed is sold out.
    pub lowest_minor: Option<i64>,
    /// The newest observation of the route's flights on that date.
    pub observed_at: DateTime<Utc>,
}

/// Searches the search service counted, published as one batch on `search.performed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchBatch {
    /// Applied once: a batch delivered again changes nothing.
    pub id: String,
    /// The day (UTC) the searches were made.
    pub day: NaiveDate,
    pub at: DateTime<Utc>,
    pub counts: Vec<SearchCount>,
}

/// How often a route was searched (`destination` `None`: explore, anywhere from `origin`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchCount {
    pub origin: String,
    pub destination: Option<String>,
    pub searches: i64,
}

/// What [`PriceStore::prune_prices`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Raw price observations (rows, or on PostgreSQL rows of whole monthly partitions).
    pub observations: u64,
    /// Daily roll-up rows of departures longer gone than the roll-ups are kept.
    pub daily: u64,
    /// Flights and routes whose departure has passed.
    pub departed: u64,
}

#[async_trait]
pub trait PriceStore: Send + Sync + 'static {
    /// Record `batch` in one transaction: each flight's price becomes its latest unless a
    /// later observation is held (re-deliveries and late messages change nothing); then for
    /// each route, departure date and cabin touched, the lowest fare among its flights with
    /// seats left becomes the route's lowest price, and is folded into the roll-up of the day
    /// of the newest observation held for it (low, high, close). Recording the same batch
    /// again changes nothing. Returns each route-date's lowest price as recorded, in the order
    /// recorded (a batch spanning days records each day's in turn).
    async fn record_prices(
        &self,
        batch: &[FlightPrice],
    ) -> StoreResult<Vec<(RouteCabin, RoutePrice)>>;

    /// The roll-ups of `route` for departure dates in `departures` and sale days in `days`
    /// (both inclusive), by departure date then day.
    async fn daily_prices(
        &self,
        route: &RouteCabin,
        departures: (NaiveDate, NaiveDate),
        days: (NaiveDate, NaiveDate),
    ) -> StoreResult<Vec<DailyPrice>>;

    /// The lowest price on sale now for each departure date of `route` in `departures`, by
    /// date.
    async fn route_prices(
        &self,
        route: &RouteCabin,
        departures: (NaiveDate, NaiveDate),
    ) -> StoreResult<Vec<RoutePrice>>;

    /// Add a batch of search counts unless a batch with its id was added before (then
    /// `false`, and nothing changes).
    async fn record_searches(&self, batch: &SearchBatch) -> StoreResult<bool>;

    /// Routes by searches made since `since` (inclusive), most first (then by code), at most
    /// `limit`; `origin` keeps one origin's. Explore searches have no destination.
    async fn popular_routes(
        &self,
        since: NaiveDate,
        origin: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SearchCount>>;

    /// Each flight of `route` on `departure` with its latest price and seats, cheapest first.
    async fn flight_prices(
        &self,
        route: &RouteCabin,
        departure: NaiveDate,
    ) -> StoreResult<Vec<FlightPrice>>;

    /// The lowest prices on sale of every route from (`outbound`) or to `airport` in `cabin`
    /// for departure dates in `departures`, with the route's other airport, by it then date;
    /// sold-out dates left out.
    async fn airport_prices(
        &self,
        airport: &str,
        cabin: &str,
        departures: (NaiveDate, NaiveDate),
        outbound: bool,
    ) -> StoreResult<Vec<(String, RoutePrice)>>;

    /// Retention at `now`: raw price observations observed before `observations_before` go
    /// (on PostgreSQL whole monthly partitions, and the partitions for this month and the
    /// next two are made ready), daily roll-ups of departures before `daily_before`, and flights and routes
    /// whose departure date is before `departed_before` (no longer on sale).
    async fn prune_prices(
        &self,
        now: DateTime<Utc>,
        observations_before: DateTime<Utc>,
        daily_before: NaiveDate,
        departed_before: NaiveDate,
    ) -> StoreResult<Pruned>;
}
