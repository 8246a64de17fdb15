//! The pricing API's wire types.

use serde::{Deserialize, Serialize};
use spontra_http::vocabulary::CabinName;
use spontra_http::Price;
use utoipa::{IntoParams, ToSchema};

macro_rules! price_params {
    ($(#[$doc:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$doc])*
        #[derive(Deserialize, IntoParams, Debug, Default)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// Departure airport (IATA).
            #[param(required = true, pattern = "^[A-Za-z]{3}$", example = "LHR")]
            pub origin: Option<String>,
            /// Arrival airport (IATA).
            #[param(required = true, pattern = "^[A-Za-z]{3}$", example = "JFK")]
            pub destination: Option<String>,
            #[param(value_type = Option<CabinName>)]
            pub cabin: Option<String>,
            /// Show prices in this currency (ISO 4217, one with an ECB reference rate; default
            /// EUR).
            #[param(pattern = "^[A-Z]{3}$", example = "GBP")]
            pub currency: Option<String>,
            $($extra)*
        }
    };
}

price_params!(
    /// A route in a cabin.
    RouteParams {}
);

price_params!(
    /// A route and a departure date.
    DepartureParams {
        /// Local departure date at the origin.
        #[param(required = true, format = Date, example = "2026-12-20")]
        pub departure_date: Option<String>,
    }
);

price_params!(
    /// A route and a departure date, and a price to label.
    MetricsParams {
        /// Local departure date at the origin.
        #[param(required = true, format = Date, example = "2026-12-20")]
        pub departure_date: Option<String>,
        /// A price to label against the route's typical range, in `currency`, e.g. `149.99`.
        #[param(pattern = "^[0-9]{1,7}(\\.[0-9]{1,3})?$", example = "149.99")]
        pub price: Option<String>,
    }
);

/// What every price query says, borrowed from its parameters.
#[derive(Default)]
pub struct Wire<'a> {
    pub origin: Option<&'a str>,
    pub destination: Option<&'a str>,
    pub cabin: Option<&'a str>,
    pub currency: Option<&'a str>,
    pub departure_date: Option<&'a str>,
    pub price: Option<&'a str>,
}

impl<'a> From<&'a RouteParams> for Wire<'a> {
    fn from(p: &'a RouteParams) -> Self {
        Wire {
            origin: p.origin.as_deref(),
            destination: p.destination.as_deref(),
            cabin: p.cabin.as_deref(),
            currency: p.currency.as_deref(),
            ..Wire::default()
        }
    }
}

impl<'a> From<&'a DepartureParams> for Wire<'a> {
    fn from(p: &'a DepartureParams) -> Self {
        Wire {
            origin: p.origin.as_deref(),
            destination: p.destination.as_deref(),
            cabin: p.cabin.as_deref(),
            currency: p.currency.as_deref(),
            departure_date: p.departure_date.as_deref(),
            price: None,
        }
    }
}

impl<'a> From<&'a MetricsParams> for Wire<'a> {
    fn from(p: &'a MetricsParams) -> Self {
        Wire {
            origin: p.origin.as_deref(),
            destination: p.destination.as_deref(),
            cabin: p.cabin.as_deref(),
            currency: p.currency.as_deref(),
            departure_date: p.departure_date.as_deref(),
            price: p.price.as_deref(),
        }
    }
}

/// Where a price stands against what the route and dates usually cost.
#[derive(Serialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PriceLabel {
    /// Below the first quartile.
    Low,
    /// Between the first and third quartiles.
    Typical,
    /// Above the third quartile.
    High,
}

/// A price's label and the typical range it was judged against.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct PriceInsight {
    pub label: PriceLabel,
    /// The first quartile of the route's recent prices.
    pub typical_low: Price,
    /// The third quartile.
    pub typical_high: Price,
    /// Prices the range was drawn from (see `/api/v1/prices/metrics`).
    pub sample_size: u64,
}

/// One day of a departure's price history.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct HistoryDay {
    #[schema(format = Date)]
    pub date: String,
    /// Days from this day to departure.
    pub days_before: i64,
    /// The lowest price on sale at the end of the day.
    pub price: Price,
    /// The lowest and highest the lowest price was during the day.
    pub low: Price,
    pub high: Price,
    /// False when no price of the route changed that day (the day before's price held).
    pub observed: bool,
}

/// A departure's lowest price day by day, over the last 60 days of its sale.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct PriceHistory {
    pub origin: String,
    pub destination: String,
    #[schema(format = Date)]
    pub departure_date: String,
    pub cabin: String,
    pub currency: String,
    /// The market's today.
    #[schema(format = Date)]
    pub today: String,
    /// Oldest first, one entry per day from the first day observed (at most 60 days ago)
    /// to today or the departure.
    pub days: Vec<HistoryDay>,
    /// The lowest price on sale now; absent when every flight observed is sold out.
    pub current: Option<Price>,
    /// When the route's flights on this date were last reported.
    #[schema(format = DateTime)]
    pub observed_at: String,
    /// How the current price compares (absent without enough history around this date).
    pub insight: Option<PriceInsight>,
}

/// An airport, as Amadeus writes one.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct IataCode {
    #[serde(rename = "iataCode")]
    pub iata_code: String,
}

/// One of the five price metrics.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct PriceMetric {
    /// Decimal amount in `currencyCode`, e.g. `"149.99"`.
    pub amount: String,
    /// `MINIMUM`, `FIRST`, `MEDIUM`, `THIRD` or `MAXIMUM`.
    #[serde(rename = "quartileRanking")]
    pub quartile_ranking: QuartileRanking,
}

#[derive(Serialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum QuartileRanking {
    Minimum,
    First,
    Medium,
    Third,
    Maximum,
}

/// A price labelled against the metrics.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct LabelledPrice {
    pub amount: String,
    pub label: PriceLabel,
}

/// Price metrics of a route and departure date, in the shape of Amadeus' Flight Price
/// Analysis (`itinerary-price-metric`), with Spontra's additions (cabin, sample, typical
/// range, the label of a price asked about).
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct ItineraryPriceMetric {
    /// `itinerary-price-metric`.
    #[serde(rename = "type")]
    pub type_: String,
    pub origin: IataCode,
    pub destination: IataCode,
    #[serde(rename = "departureDate")]
    #[schema(format = Date)]
    pub departure_date: String,
    /// `FLIGHT`.
    #[serde(rename = "transportType")]
    pub transport_type: String,
    #[serde(rename = "currencyCode")]
    pub currency_code: String,
    /// Always true: metrics are per one-way departure.
    #[serde(rename = "oneWay")]
    pub one_way: bool,
    pub cabin: String,
    #[serde(rename = "priceMetrics")]
    pub price_metrics: Vec<PriceMetric>,
    /// Daily lowest prices the metrics were drawn from.
    #[serde(rename = "sampleSize")]
    pub sample_size: u64,
    /// Departure dates and sale days of the sample.
    #[serde(rename = "sampleDepartures")]
    pub sample_departures: [String; 2],
    #[serde(rename = "sampleDays")]
    pub sample_days: [String; 2],
    /// The `price` asked about, labelled.
    #[serde(rename = "price", skip_serializing_if = "Option::is_none")]
    pub price: Option<LabelledPrice>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct MetricsMeta {
    pub count: u64,
}

/// Amadeus' response envelope.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct PriceMetricsResponse {
    pub data: Vec<ItineraryPriceMetric>,
    pub meta: MetricsMeta,
}

/// The lowest price on sale for one departure date.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct DatePrice {
    #[schema(format = Date)]
    pub departure_date: String,
    pub price: Price,
    #[schema(format = DateTime)]
    pub observed_at: String,
}

/// A departure month's prices.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct MonthPrice {
    /// `YYYY-MM`.
    pub month: String,
    /// Its cheapest departure date's price.
    pub lowest: Price,
    /// The median of its departure dates' lowest prices.
    pub median: Price,
    /// Departure dates with a price on sale.
    pub departures: u64,
}

/// When a route is cheapest to fly, from the lowest prices on sale now.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct CheapestDates {
    pub origin: String,
    pub destination: String,
    pub cabin: String,
    pub currency: String,
    #[schema(format = Date)]
    pub today: String,
    /// The cheapest departure date (the earliest of equals).
    pub cheapest_day: DatePrice,
    /// The month with the lowest median.
    pub cheapest_month: MonthPrice,
    /// Every departure date from today with a price on sale, by date.
    pub days: Vec<DatePrice>,
    /// By month.
    pub months: Vec<MonthPrice>,
}

/// A price alert: its definition as given (normalised), and what it has seen.
#[derive(Serialize, ToSchema, Debug)]
pub struct AlertView {
    #[schema(format = "uuid")]
    pub id: String,
    #[serde(flatten)]
    pub definition: crate::alert::AlertBody,
    pub paused: bool,
    /// Every date it watches has passed.
    pub expired: bool,
    pub watching: Watching,
    /// The trip's lowest price at the last check (none: nothing on sale, or not checked yet).
    pub price_now: Option<Price>,
    #[schema(format = DateTime)]
    pub last_checked_at: Option<String>,
    #[schema(format = DateTime)]
    pub last_notified_at: Option<String>,
    /// The newest notification this alert sent.
    pub last_notification: Option<NotificationSummary>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// The departure (and return) dates an alert's definition comes to.
#[derive(Serialize, ToSchema, Debug)]
pub struct Watching {
    #[schema(format = Date)]
    pub departure_from: String,
    #[schema(format = Date)]
    pub departure_to: String,
    #[schema(format = Date)]
    pub return_from: Option<String>,
    #[schema(format = Date)]
    pub return_to: Option<String>,
}

/// A notification as its alert lists it.
#[derive(Serialize, ToSchema, Debug)]
pub struct NotificationSummary {
    #[schema(format = "uuid")]
    pub id: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// `pending` (waiting or being retried), `sent` or `dead` (every attempt failed).
    pub status: String,
    pub attempts: i32,
    /// The price it told of, as the alert shows prices.
    pub price: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct AlertList {
    pub alerts: Vec<AlertView>,
}

/// Pause or resume an alert.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct AlertPatch {
    pub paused: bool,
}

/// Buy now or wait.
#[derive(Serialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Buy,
    Wait,
}

/// Where the price is likely to go over the next 7 days.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct Forecast {
    /// `up` or `down` by more than €20, else `steady` (Kayak's band).
    pub direction: String,
    /// Expected change, in percent of the price now.
    pub change_percent: f64,
}

/// What the advice was drawn from.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct AdviceBasis {
    pub days_before: i64,
    /// The price now against the median of the previous 28 days: `well_below`, `below`,
    /// `usual`, `above`, `well_above`, or `unknown` (under 7 days seen).
    pub level: String,
    /// The price now against 7 days ago: `falling`, `flat`, `rising` or `unknown`.
    pub trend: String,
    /// The cheapest flight's price now ÷ the median of the same flight's prices on sale now
    /// for departures 1 to 6 weeks later (0.8: 20 % below them); `null` under two of them
    /// on sale.
    pub against_later_departures: Option<f64>,
    /// Seats left on the cheapest flight (9: 9 or more).
    pub seats_left: u16,
    /// Flights of the route on sale that day.
    pub flights: u16,
    /// Similar past decisions the figures come from.
    pub samples: u32,
}

/// Buy-or-wait advice for a departure.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct BuyOrWait {
    pub origin: String,
    pub destination: String,
    #[schema(format = Date)]
    pub departure_date: String,
    pub cabin: String,
    pub currency: String,
    #[schema(format = Date)]
    pub today: String,
    pub advice: Verdict,
    pub price_now: Price,
    /// The expected change of what you pay if you wait (and buy when advised), in percent of
    /// the price now: negative means cheaper.
    pub expected_change_percent: f64,
    /// The price now moved by the expected change.
    pub expected_price: Price,
    /// The share (0–1) of like past decisions where this advice was right.
    pub confidence: f64,
    /// Absent in the last 8 days before departure.
    pub forecast_7d: Option<Forecast>,
    /// In words.
    pub summary: String,
    pub basis: AdviceBasis,
}

/// Which searches to rank.
#[derive(Deserialize, IntoParams, Debug, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PopularParams {
    /// Only routes from this airport or city (as searched).
    #[param(pattern = "^[A-Za-z]{3}$", example = "LON")]
    pub origin: Option<String>,
    /// Searches of the last this many days (1–90, default 30).
    #[param(pattern = "^[0-9]{1,2}$", example = "30")]
    pub days: Option<String>,
    /// Routes and destinations to list (1–50, default 10).
    #[param(pattern = "^[0-9]{1,2}$", example = "10")]
    pub limit: Option<String>,
}

/// A route and how often it was searched.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct PopularRoute {
    pub origin: String,
    /// Absent for explore searches ("anywhere from").
    pub destination: Option<String>,
    pub searches: i64,
}

/// A destination and how often it was searched (over all origins, or the one asked about).
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct PopularDestination {
    pub destination: String,
    pub searches: i64,
}

/// The most searched routes and destinations.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct PopularRoutes {
    /// The first day counted (the market's today is the last).
    #[schema(format = Date)]
    pub since: String,
    pub routes: Vec<PopularRoute>,
    /// Summed over the 1,000 most searched routes.
    pub destinations: Vec<PopularDestination>,
}

/// Prices to label at once (a calendar's days, explore's destinations): each against its
/// route's typical range around its date, as `/api/v1/prices/metrics` judges one.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct LabelsBody {
    /// The currency of the prices given and of the ranges answered (ISO 4217, one with an ECB
    /// reference rate; default EUR).
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    #[serde(default)]
    pub currency: Option<String>,
    #[schema(value_type = Option<CabinName>)]
    #[serde(default)]
    pub cabin: Option<String>,
    /// 1–200 one-way prices.
    #[schema(min_items = 1, max_items = 200)]
    pub prices: Vec<PriceToLabel>,
}

/// A one-way price of a route on a departure date.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct PriceToLabel {
    /// Departure airport (IATA).
    #[schema(pattern = "^[A-Za-z]{3}$", example = "LHR")]
    pub origin: String,
    /// Arrival airport (IATA).
    #[schema(pattern = "^[A-Za-z]{3}$", example = "JFK")]
    pub destination: String,
    /// Local departure date at the origin.
    #[schema(format = Date, example = "2026-12-20")]
    pub departure_date: String,
    /// The price, in `currency`, e.g. `149.99`.
    #[schema(pattern = "^[0-9]{1,7}(\\.[0-9]{1,3})?$", example = "149.99")]
    pub price: String,
}

/// Each price's label, in the order asked.
#[derive(Serialize, ToSchema, Debug)]
pub struct PriceLabels {
    pub currency: String,
    pub labels: Vec<LabelledDeparture>,
}

/// A price asked about, and where it stands.
#[derive(Serialize, ToSchema, Debug)]
pub struct LabelledDeparture {
    pub origin: String,
    pub destination: String,
    #[schema(format = Date)]
    pub departure_date: String,
    /// The price asked, in the currency's digits (`"420"` → `"420.00"`).
    pub price: String,
    /// Its label and the typical range; `null` while too few prices of the route around
    /// that date have been observed.
    pub insight: Option<PriceInsight>,
}
