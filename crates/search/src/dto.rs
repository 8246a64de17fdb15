//! Wire types of the search API (JSON). Only this module knows the wire format.

use serde::{Deserialize, Serialize};
use spontra_http::vocabulary::{
    AllianceName, CabinName, CarrierCodeDoc, ExploreGrouping, ExploreSort, PlaceCodeDoc, SearchSort,
};
use utoipa::{IntoParams, ToSchema};

/// One slice of a trip in a POST search.
#[derive(Deserialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct SliceBody {
    /// Airport or city code, e.g. `LHR` or `LON`.
    #[schema(pattern = "^[A-Za-z]{3}$", example = "LON")]
    pub origin: String,
    #[schema(pattern = "^[A-Za-z]{3}$", example = "NYC")]
    pub destination: String,
    /// Local departure date, `YYYY-MM-DD`.
    #[schema(format = Date, example = "2026-12-18")]
    pub date: String,
}

/// A search: either `slices` (multi-city, up to 6) or `origin`/`destination`/`depart` with an
/// optional `return` date. Every field but those is optional. In a POST body, a trip given
/// neither way, or both ways, is `incomplete_trip` (422).
#[derive(Deserialize, ToSchema, IntoParams, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchBody {
    /// Multi-city slices (the POST body only), 1–6.
    #[param(ignore)]
    #[schema(min_items = 1, max_items = 6)]
    pub slices: Option<Vec<SliceBody>>,
    /// Airport or city code (required in a GET).
    #[param(required = true, pattern = "^[A-Za-z]{3}$", example = "LON")]
    #[schema(pattern = "^[A-Za-z]{3}$", example = "LON")]
    pub origin: Option<String>,
    #[param(required = true, pattern = "^[A-Za-z]{3}$", example = "NYC")]
    #[schema(pattern = "^[A-Za-z]{3}$", example = "NYC")]
    pub destination: Option<String>,
    /// Local departure date (required in a GET).
    #[param(required = true, format = Date, example = "2026-12-18")]
    #[schema(format = Date, example = "2026-12-18")]
    pub depart: Option<String>,
    /// Local date of the return flight, for a round trip.
    #[serde(rename = "return")]
    #[param(rename = "return", format = Date)]
    #[schema(format = Date)]
    pub return_date: Option<String>,
    /// 1–9 (default 1); adults and children are at most 9 together (`too_many_passengers`).
    #[param(minimum = 1, maximum = 9)]
    #[schema(minimum = 1, maximum = 9)]
    #[serde(default, deserialize_with = "spontra_http::whole::opt_u32")]
    pub adults: Option<u32>,
    #[param(minimum = 0, maximum = 8)]
    #[schema(minimum = 0, maximum = 8)]
    #[serde(default, deserialize_with = "spontra_http::whole::opt_u32")]
    pub children: Option<u32>,
    /// Lap infants (under 2), at most one per adult (`too_many_infants`).
    #[param(minimum = 0, maximum = 9)]
    #[schema(minimum = 0, maximum = 9)]
    #[serde(default, deserialize_with = "spontra_http::whole::opt_u32")]
    pub infants: Option<u32>,
    #[param(value_type = Option<CabinName>)]
    #[schema(value_type = Option<CabinName>)]
    pub cabin: Option<String>,
    /// 0, 1 or 2 (default 2).
    #[param(minimum = 0, maximum = 2)]
    #[schema(minimum = 0, maximum = 2)]
    #[serde(default, deserialize_with = "spontra_http::whole::opt_u32")]
    pub max_stops: Option<u32>,
    /// Only these airlines (IATA codes; comma-separated in a query).
    #[param(style = Form, explode = false, value_type = Option<Vec<CarrierCodeDoc>>)]
    #[schema(value_type = Option<Vec<CarrierCodeDoc>>)]
    pub carriers: Option<Vec<String>>,
    #[param(style = Form, explode = false, value_type = Option<Vec<CarrierCodeDoc>>)]
    #[schema(value_type = Option<Vec<CarrierCodeDoc>>)]
    pub exclude_carriers: Option<Vec<String>>,
    /// Only these alliances (comma-separated in a query).
    #[param(style = Form, explode = false, value_type = Option<Vec<AllianceName>>)]
    #[schema(value_type = Option<Vec<AllianceName>>)]
    pub alliances: Option<Vec<String>>,
    #[param(style = Form, explode = false, value_type = Option<Vec<AllianceName>>)]
    #[schema(value_type = Option<Vec<AllianceName>>)]
    pub exclude_alliances: Option<Vec<String>>,
    /// Connect only at these airports or cities (comma-separated in a query).
    #[param(style = Form, explode = false, value_type = Option<Vec<PlaceCodeDoc>>)]
    #[schema(value_type = Option<Vec<PlaceCodeDoc>>)]
    pub layovers: Option<Vec<String>>,
    #[param(style = Form, explode = false, value_type = Option<Vec<PlaceCodeDoc>>)]
    #[schema(value_type = Option<Vec<PlaceCodeDoc>>)]
    pub exclude_layovers: Option<Vec<String>>,
    /// Local departure time window, `HH:MM-HH:MM` (an inverted one is `invalid_range`).
    #[param(
        pattern = "^ *([01]?[0-9]|2[0-3]):[0-5][0-9]-(([01]?[0-9]|2[0-3]):[0-5][0-9]|24:00) *$",
        example = "06:00-12:00"
    )]
    #[schema(
        pattern = "^ *([01]?[0-9]|2[0-3]):[0-5][0-9]-(([01]?[0-9]|2[0-3]):[0-5][0-9]|24:00) *$",
        example = "06:00-12:00"
    )]
    pub depart_time: Option<String>,
    /// Local arrival time window, `HH:MM-HH:MM`.
    #[param(
        pattern = "^ *([01]?[0-9]|2[0-3]):[0-5][0-9]-(([01]?[0-9]|2[0-3]):[0-5][0-9]|24:00) *$",
        example = "12:00-24:00"
    )]
    #[schema(
        pattern = "^ *([01]?[0-9]|2[0-3]):[0-5][0-9]-(([01]?[0-9]|2[0-3]):[0-5][0-9]|24:00) *$",
        example = "12:00-24:00"
    )]
    pub arrive_time: Option<String>,
    /// Longest journey per slice, in hours.
    #[param(minimum = 0, maximum = 72)]
    #[schema(minimum = 0, maximum = 72)]
    pub max_duration_hours: Option<f64>,
    /// Longest connection, in hours (default 12).
    #[param(minimum = 0, maximum = 24)]
    #[schema(minimum = 0, maximum = 24)]
    pub max_layover_hours: Option<f64>,
    /// Highest total price for all passengers, in the response currency (e.g. 450 or 449.99).
    #[param(minimum = 0, maximum = 1000000000)]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub max_price: Option<f64>,
    /// Show prices in this currency (ISO 4217, one with an ECB reference rate; default the
    /// inventory's, EUR). Prices and `max_price` are then in it (`unknown_currency`, 422).
    #[param(pattern = "^[A-Z]{3}$", example = "GBP")]
    #[schema(pattern = "^[A-Z]{3}$", example = "GBP")]
    pub currency: Option<String>,
    #[param(value_type = Option<SearchSort>)]
    #[schema(value_type = Option<SearchSort>)]
    pub sort: Option<String>,
    /// Results per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    #[schema(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "spontra_http::whole::opt_u32")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (another string is `invalid_cursor`, 422).
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    #[schema(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

pub use spontra_http::Price;

/// A moment in local airport time (with its UTC offset) and in UTC.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct Moment {
    /// RFC 3339 with the airport's offset, e.g. `2026-12-18T07:05:00+01:00`.
    pub local: String,
    /// RFC 3339 in UTC, e.g. `2026-12-18T06:05:00Z`.
    pub utc: String,
    pub utc_offset_minutes: i32,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct Segment {
    pub carrier: String,
    pub carrier_name: String,
    /// e.g. `BA117`.
    pub flight: String,
    pub origin: String,
    pub destination: String,
    pub departure: Moment,
    pub arrival: Moment,
    pub duration_minutes: u32,
    pub aircraft: String,
    pub distance_km: u32,
    pub cabin: String,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct Layover {
    /// Where the previous flight lands.
    pub arrival_airport: String,
    /// Where the next flight leaves (another airport of the same city on an airport change).
    pub departure_airport: String,
    pub duration_minutes: u32,
    /// Carriers neither the same nor allied: bags are collected and checked in again, and
    /// a missed connection is the traveller's risk.
    pub self_transfer: bool,
    pub airport_change: bool,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct SliceDto {
    pub origin: String,
    pub destination: String,
    pub departure: Moment,
    pub arrival: Moment,
    pub duration_minutes: u32,
    pub stops: u32,
    /// Calendar days between local departure and local arrival (the "+1" marker).
    pub arrival_day_offset: i64,
    pub self_transfer: bool,
    pub airport_change: bool,
    pub segments: Vec<Segment>,
    pub layovers: Vec<Layover>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct PassengerPrice {
    /// `adult`, `child` or `infant`.
    pub passenger_type: String,
    pub count: u8,
    /// Price for one passenger of this type.
    pub each: Price,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct ItineraryDto {
    /// Stable id: the flights and dates.
    pub id: String,
    /// Total for all passengers.
    pub price: Price,
    pub price_breakdown: Vec<PassengerPrice>,
    pub duration_minutes: u32,
    pub stops: u32,
    /// Not beaten on price, duration and stops together by any other result.
    pub pareto: bool,
    /// The `best` score (lower is better).
    pub score: f64,
    /// Estimated kg CO2 per passenger.
    pub co2_kg: f64,
    /// Estimated kg CO2 per passenger of a direct flight on the same route in this cabin.
    pub typical_co2_kg: f64,
    /// When a provider last reported the fare of this result's least recently reported
    /// flight; absent while one of its flights is still priced as scheduled at start-up.
    #[schema(format = DateTime)]
    pub price_observed_at: Option<String>,
    /// Seconds of market time since `price_observed_at`.
    pub price_age_seconds: Option<u64>,
    pub slices: Vec<SliceDto>,
}

/// Which version of the inventory answered, and how fresh its prices are.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct InventoryStamp {
    /// 0 as scheduled at start-up; one more for each batch of fare and seat updates applied.
    pub version: u64,
    /// Market time of the answer: what prices' ages are measured from.
    #[schema(format = DateTime)]
    pub as_of: String,
    /// When the newest fare observation in this version was made (absent before the first).
    #[schema(format = DateTime)]
    pub prices_observed_until: Option<String>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct SortSummary {
    pub price: Price,
    pub duration_minutes: u32,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct SearchSummary {
    pub total: usize,
    pub best: Option<SortSummary>,
    pub cheapest: Option<SortSummary>,
    pub fastest: Option<SortSummary>,
}

/// One choice of a filter and what it would give.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct FacetValue {
    /// The value to send in the filter parameter (`max_stops`, `carriers`, `alliances`,
    /// `layovers`).
    pub value: String,
    pub label: String,
    /// What choosing this value alone in its filter shows, every other filter as it is: for
    /// stops, the itineraries with at most this many stops on each slice; for an airline,
    /// those with a flight by it; for a connection airport, those connecting there; for an
    /// alliance, those flown wholly within it. A chosen value is listed even when nothing has
    /// it (count 0).
    pub count: usize,
    /// The cheapest of those itineraries; none when there are none.
    pub min_price: Option<Price>,
}

/// Filter counts, over this search without its narrowing filters.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct Facets {
    pub stops: Vec<FacetValue>,
    pub carriers: Vec<FacetValue>,
    pub alliances: Vec<FacetValue>,
    pub layovers: Vec<FacetValue>,
    pub price_min: Option<Price>,
    pub price_max: Option<Price>,
    pub duration_min_minutes: Option<u32>,
    pub duration_max_minutes: Option<u32>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct SearchResponse {
    pub currency: String,
    /// The rate prices were converted at, when `currency` asked for another than the
    /// inventory's.
    pub exchange_rate: Option<ExchangeRate>,
    pub sort: String,
    pub summary: SearchSummary,
    pub facets: Facets,
    pub itineraries: Vec<ItineraryDto>,
    /// Pass as `cursor` for the next page; absent on the last page. A page of a list that
    /// prices or seats have changed since is refused with `409 stale_cursor`.
    pub next_cursor: Option<String>,
    pub inventory: InventoryStamp,
    /// Engine time in microseconds.
    pub engine_micros: u64,
}

#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct CalendarParams {
    #[param(required = true, pattern = "^[A-Za-z]{3}$", example = "LON")]
    pub origin: Option<String>,
    #[param(required = true, pattern = "^[A-Za-z]{3}$", example = "BCN")]
    pub destination: Option<String>,
    /// First departure date (default: the first bookable day).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last departure date (at most 62 days after `from`; 31 for round trips).
    #[param(format = Date)]
    pub to: Option<String>,
    /// Round trip lengths in nights: `N` or `MIN..MAX`, 1–30, at most 21 values.
    #[param(pattern = "^ *[0-9]{1,2}( *\\.\\. *[0-9]{1,2})? *$", example = "3..7")]
    pub nights: Option<String>,
    #[param(minimum = 1, maximum = 9)]
    pub adults: Option<u32>,
    #[param(minimum = 0, maximum = 8)]
    pub children: Option<u32>,
    #[param(minimum = 0, maximum = 9)]
    pub infants: Option<u32>,
    #[param(value_type = Option<CabinName>)]
    pub cabin: Option<String>,
    #[param(minimum = 0, maximum = 2)]
    pub max_stops: Option<u32>,
    /// Show prices in this currency (ISO 4217, one with an ECB reference rate; default the
    /// inventory's, EUR). Prices and `max_price` are then in it (`unknown_currency`, 422).
    #[param(pattern = "^[A-Z]{3}$", example = "GBP")]
    pub currency: Option<String>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct CalendarDay {
    pub date: String,
    /// Cheapest total; absent if nothing flies.
    pub price: Option<Price>,
    pub duration_minutes: Option<u32>,
    pub stops: Option<u32>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct CalendarCell {
    pub depart: String,
    pub nights: u32,
    #[serde(rename = "return")]
    pub return_date: String,
    pub price: Option<Price>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct CalendarResponse {
    pub currency: String,
    /// The rate prices were converted at, when `currency` asked for another than the
    /// inventory's.
    pub exchange_rate: Option<ExchangeRate>,
    pub days: Vec<CalendarDay>,
    /// Round trips only: the grid of departure date × nights.
    pub grid: Vec<CalendarCell>,
    pub cheapest: Option<CalendarDay>,
    pub engine_micros: u64,
    pub inventory: InventoryStamp,
}

#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct ExploreParams {
    #[param(required = true, pattern = "^[A-Za-z]{3}$", example = "LON")]
    pub origin: Option<String>,
    /// First departure date (default: the first bookable day).
    #[param(format = Date)]
    pub depart_from: Option<String>,
    /// Last departure date (at most 14 days after the first).
    #[param(format = Date)]
    pub depart_to: Option<String>,
    /// Shortest journey, hours.
    #[param(minimum = 0, maximum = 72)]
    pub min_hours: Option<f64>,
    /// Longest journey, hours.
    #[param(minimum = 0, maximum = 72)]
    pub max_hours: Option<f64>,
    /// In the response currency.
    #[param(minimum = 0, maximum = 1000000000)]
    pub max_price: Option<f64>,
    /// Show prices in this currency (ISO 4217, one with an ECB reference rate; default the
    /// inventory's, EUR). Prices and `max_price` are then in it (`unknown_currency`, 422).
    #[param(pattern = "^[A-Z]{3}$", example = "GBP")]
    pub currency: Option<String>,
    /// 0, 1 or 2 (default 1).
    #[param(minimum = 0, maximum = 2)]
    pub max_stops: Option<u32>,
    #[param(minimum = 1, maximum = 9)]
    pub adults: Option<u32>,
    #[param(minimum = 0, maximum = 8)]
    pub children: Option<u32>,
    #[param(minimum = 0, maximum = 9)]
    pub infants: Option<u32>,
    #[param(value_type = Option<CabinName>)]
    pub cabin: Option<String>,
    #[param(value_type = Option<ExploreGrouping>)]
    pub group_by: Option<String>,
    #[param(value_type = Option<ExploreSort>)]
    pub sort: Option<String>,
    /// 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct ExploreDestination {
    pub airport: AirportDto,
    pub price: Price,
    pub duration_minutes: u32,
    pub stops: u32,
    pub departure: Moment,
    pub arrival: Moment,
    /// Flights, e.g. `["BA490", "VY7821"]`.
    pub flights: Vec<String>,
    pub co2_kg: f64,
    /// As for an itinerary: when the fare of its least recently reported flight was reported.
    #[schema(format = DateTime)]
    pub price_observed_at: Option<String>,
    pub price_age_seconds: Option<u64>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct CountryGroup {
    pub country: String,
    pub country_name: String,
    pub cheapest: Price,
    pub destinations: Vec<ExploreDestination>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct ExploreResponse {
    pub currency: String,
    /// The rate prices were converted at, when `currency` asked for another than the
    /// inventory's.
    pub exchange_rate: Option<ExchangeRate>,
    pub origin: String,
    pub total: usize,
    pub destinations: Vec<ExploreDestination>,
    /// With `group_by=country`: the page's destinations by country, cheapest country first.
    pub groups: Vec<CountryGroup>,
    /// As for a search: a page of a list that has changed since is refused (`stale_cursor`).
    pub next_cursor: Option<String>,
    pub engine_micros: u64,
    pub inventory: InventoryStamp,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct AirportDto {
    /// `airport` or `city`.
    pub kind: String,
    pub code: String,
    pub name: String,
    pub city: String,
    pub city_code: Option<String>,
    pub country: String,
    pub country_name: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub time_zone: Option<String>,
    pub size: Option<String>,
    /// A city's airports, largest first.
    pub airports: Vec<String>,
    /// In an autocomplete answer: the text typed names this place, unambiguously (so a form
    /// may take it without the traveller choosing from the list).
    pub best_match: bool,
}

#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct AirportQuery {
    /// Code, city, airport name or country; typos tolerated.
    #[param(required = true, min_length = 1, max_length = 100, example = "londn")]
    pub q: Option<String>,
    /// 1–50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct AirlineDto {
    pub code: String,
    pub icao: String,
    pub name: String,
    pub country: String,
    pub alliance: Option<String>,
    pub low_cost: bool,
}

#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct AirlineQuery {
    /// Code or name prefix.
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(value_type = Option<AllianceName>)]
    pub alliance: Option<String>,
    /// 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// An ECB reference rate prices were converted at.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct ExchangeRate {
    pub from: String,
    pub to: String,
    /// Units of `to` per one `from`, as the ECB publishes it, e.g. `"0.8338"`.
    pub rate: String,
    /// The day the ECB published it.
    #[schema(format = Date)]
    pub date: String,
    pub source: String,
}

/// A currency prices can be shown in.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct CurrencyDto {
    /// ISO 4217 code.
    pub code: String,
    /// Its name in English.
    pub name: String,
    /// Digits of its minor unit (2 for GBP, 0 for JPY).
    pub digits: u32,
    /// Units per euro, as the ECB publishes it.
    pub per_eur: String,
    /// The day of the rate.
    #[schema(format = Date)]
    pub date: String,
}
