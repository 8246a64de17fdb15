//! The pricing service: prices over time. It follows the `price.observed` stream that
//! ingestion publishes ([`observe::Recorder`]), keeps each flight's latest price, the lowest
//! price on sale per route, departure date and cabin, and that lowest price day by day
//! (roll-ups in the store), and answers, as an axum [`Router`] under `/api/v1`:
//!
//! - `GET /prices/history`: a departure's lowest price day by day over the last 60 days (the
//!   graph Google Flights draws), the price now and its low / typical / high label;
//! - `GET /prices/metrics`: minimum, quartiles and maximum of the route's recent prices around
//!   the date, in the shape of Amadeus' Flight Price Analysis, and the label of a price;
//! - `GET /prices/cheapest-dates`: the cheapest departure date and month of a route.
//!
//! Handlers are thin: [`PricingService`] parses the query into typed values and answers it.

pub mod dto;
pub mod error;
pub mod insight;
pub mod observe;
pub mod service;

pub use error::PricingError;
pub use service::PricingService;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use dto::*;
use spontra_http::vocabulary::CabinName;
use spontra_http::{ApiError, ApiQuery, Price, ProblemDetails};
use std::sync::Arc;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(history, metrics, cheapest_dates),
    components(schemas(
        PriceHistory, HistoryDay, PriceInsight, PriceLabel, PriceMetricsResponse, ItineraryPriceMetric,
        PriceMetric, QuartileRanking, IataCode, LabelledPrice, MetricsMeta, CheapestDates, DatePrice,
        MonthPrice, Price, CabinName, ProblemDetails
    )),
    tags((name = "prices", description = "Price history, insights and cheapest dates from the prices providers report"))
)]
pub struct PricingApi;

/// The pricing service's routes, to be nested under `/api/v1`.
pub fn router(service: Arc<PricingService>) -> Router {
    Router::new()
        .route("/prices/history", get(history))
        .route("/prices/metrics", get(metrics))
        .route("/prices/cheapest-dates", get(cheapest_dates))
        .with_state(service)
}

/// A departure's lowest price day by day over the last 60 days, the price now, and whether it
/// is low, typical or high for the route and dates.
#[utoipa::path(get, path = "/api/v1/prices/history", tag = "prices", params(DepartureParams),
    responses((status = 200, body = PriceHistory), (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`no_price_history`: no price of the route on that date observed yet"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`unknown_airport`, `unknown_currency`, `date_not_served`, `same_origin_destination`"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`: the store is busy", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn history(
    State(service): State<Arc<PricingService>>,
    ApiQuery(params): ApiQuery<DepartureParams>,
) -> Result<Json<PriceHistory>, ApiError> {
    let query = service.parse_departure(&params)?;
    Ok(Json(service.history(&query).await?))
}

/// Minimum, first quartile, median, third quartile and maximum of the route's daily lowest
/// prices over the last 60 days for departures around the date (±3 days, ±15 while that holds
/// fewer than 8 prices), as Amadeus' Flight Price Analysis answers; with `price`, its label.
#[utoipa::path(get, path = "/api/v1/prices/metrics", tag = "prices", params(MetricsParams),
    responses((status = 200, body = PriceMetricsResponse), (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`no_price_history`: too few prices observed around that date"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`unknown_airport`, `unknown_currency`, `date_not_served`, `same_origin_destination`"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`: the store is busy", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn metrics(
    State(service): State<Arc<PricingService>>,
    ApiQuery(params): ApiQuery<MetricsParams>,
) -> Result<Json<PriceMetricsResponse>, ApiError> {
    let query = service.parse_metrics(&params)?;
    Ok(Json(service.metrics(&query).await?))
}

/// The cheapest departure date and month of a route, from the lowest prices on sale now.
#[utoipa::path(get, path = "/api/v1/prices/cheapest-dates", tag = "prices", params(RouteParams),
    responses((status = 200, body = CheapestDates), (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`no_price_history`: no price of the route on sale observed"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`unknown_airport`, `unknown_currency`, `same_origin_destination`"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`: the store is busy", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn cheapest_dates(
    State(service): State<Arc<PricingService>>,
    ApiQuery(params): ApiQuery<RouteParams>,
) -> Result<Json<CheapestDates>, ApiError> {
    let query = service.parse_route(&params)?;
    Ok(Json(service.cheapest(&query).await?))
}
