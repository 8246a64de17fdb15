//! Wire types of the search API (JSON). Only this module knows the wire format.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One slice of a trip in a POST search.
#[derive(Deserialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct SliceBody {
    /// Airport or city code, e.g. `LHR` or `LON`.
    pub origin: String,
    pub destination: String,
    /// Local departure date, `YYYY-MM-DD`.
    pub date: String,
}

/// A search: either `slices` (multi-city, up to 6) or `origin`/`destination`/`depart` with an
/// optional `return` date. Every field but those is optional.
#[derive(Deserialize, ToSchema, IntoParams, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchBody {
    /// Multi-city slices (the POST body only).
    #[param(ignore)]
    pub slices: Option<Vec<SliceBody>>,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub depart: Option<String>,
    #[serde(rename = "return")]
    pub return_date: Option<String>,
    pub adults: Option<u32>,
    pub children: Option<u32>,
    /// Lap infants (under 2), at most one per adult.
    pub infants: Option<u32>,
    /// `economy`, `premium_economy`, `business` or `first`.
    pub cabin: Option<String>,
    /// 0, 1 or 2 (default 2).
    pub max_stops: Option<u32>,
    /// Only these airlines (IATA codes).
    pub carriers: Option<Vec<String>>,
    pub exclude_carriers: Option<Vec<String>>,
    /// Only these alliances: `star_alliance`, `oneworld`, `skyteam`.
    pub alliances: Option<Vec<String>>,
    pub exclude_alliances: Option<Vec<String>>,
    /// Connect only at these airports or cities.
    pub layovers: Option<Vec<String>>,
    pub exclude_layovers: Option<Vec<String>>,
    /// Local departure time window, `HH:MM-HH:MM`.
    pub depart_time: Option<String>,
    /// Local arrival time window, `HH:MM-HH:MM`.
    pub arrive_time: Option<String>,
    /// Longest journey per slice, in hours.
    pub max_duration_hours: Option<f64>,
    /// Longest connection, in hours (default 12).
    pub max_layover_hours: Option<f64>,
    /// Highest total price for all passengers, in the response currency (e.g. 450 or 449.99).
    pub max_price: Option<f64>,
    /// `best` (default), `cheapest` or `fastest`.
    pub sort: Option<String>,
    /// Results per page, 1–100 (default 20).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct Price {
    /// Decimal amount, e.g. `"149.99"`.
    pub amount: String,
    pub currency: String,
    /// Integer minor units (cents).
    pub minor: u64,
}

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
    pub slices: Vec<SliceDto>,
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
    /// Itineraries having it (for stops: exactly this many stops on the busiest slice).
    pub count: usize,
    pub min_price: Price,
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
    pub sort: String,
    pub summary: SearchSummary,
    pub facets: Facets,
    pub itineraries: Vec<ItineraryDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Engine time in microseconds.
    pub engine_micros: u64,
}

#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct CalendarParams {
    pub origin: Option<String>,
    pub destination: Option<String>,
    /// First departure date.
    pub from: Option<String>,
    /// Last departure date (at most 62 days after `from`; 31 for round trips).
    pub to: Option<String>,
    /// Round trip lengths in nights: `N` or `MIN..MAX` (at most 21 values).
    pub nights: Option<String>,
    pub adults: Option<u32>,
    pub children: Option<u32>,
    pub infants: Option<u32>,
    pub cabin: Option<String>,
    pub max_stops: Option<u32>,
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
    pub days: Vec<CalendarDay>,
    /// Round trips only: the grid of departure date × nights.
    pub grid: Vec<CalendarCell>,
    pub cheapest: Option<CalendarDay>,
    pub engine_micros: u64,
}

#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct ExploreParams {
    pub origin: Option<String>,
    /// First departure date.
    pub depart_from: Option<String>,
    /// Last departure date (at most 14 days after the first).
    pub depart_to: Option<String>,
    /// Shortest journey, hours.
    pub min_hours: Option<f64>,
    /// Longest journey, hours.
    pub max_hours: Option<f64>,
    pub max_price: Option<f64>,
    /// 0, 1 or 2 (default 1).
    pub max_stops: Option<u32>,
    pub adults: Option<u32>,
    pub children: Option<u32>,
    pub infants: Option<u32>,
    pub cabin: Option<String>,
    /// `country` to group destinations by country.
    pub group_by: Option<String>,
    /// `price` (default) or `duration`.
    pub sort: Option<String>,
    pub limit: Option<u32>,
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
    pub origin: String,
    pub total: usize,
    pub destinations: Vec<ExploreDestination>,
    /// With `group_by=country`: the page's destinations by country, cheapest country first.
    pub groups: Vec<CountryGroup>,
    pub next_cursor: Option<String>,
    pub engine_micros: u64,
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
}

#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct AirportQuery {
    /// Code, city, airport name or country; typos tolerated.
    pub q: Option<String>,
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
    pub q: Option<String>,
    pub alliance: Option<String>,
    pub limit: Option<u32>,
}
