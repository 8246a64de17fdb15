//! The search service: airports, airlines, Browse search (one-way, round trip, multi-city),
//! price calendar and explore, as an axum [`Router`] under `/api/v1`.
//!
//! Handlers are thin: parse into a query ([`SearchService`] does it, so the CLI shares it),
//! run the engine on the blocking pool (search is CPU-bound), map to DTOs.

pub mod dto;
pub mod facets;
pub mod parse;
pub mod service;

pub use service::SearchService;

use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use dto::*;
use spontra_http::{ApiError, ApiJson, ProblemDetails};
use std::sync::Arc;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(search_get, search_post, calendar, explore, airports, airport, airlines, airline),
    components(schemas(
        SearchBody, SliceBody, SearchResponse, ItineraryDto, SliceDto, Segment, Layover, Moment, Price,
        PassengerPrice, SearchSummary, SortSummary, Facets, FacetValue, CalendarResponse, CalendarDay, CalendarCell,
        ExploreResponse, ExploreDestination, CountryGroup, AirportDto, AirlineDto, ProblemDetails
    )),
    tags((name = "search", description = "Browse search over the in-memory inventory"),
         (name = "reference", description = "Airports, cities and airlines"))
)]
pub struct SearchApi;

/// The search service's routes, to be nested under `/api/v1`.
pub fn router(service: Arc<SearchService>) -> Router {
    Router::new()
        .route("/search", get(search_get).post(search_post))
        .route("/calendar", get(calendar))
        .route("/explore", get(explore))
        .route("/airports", get(airports))
        .route("/airports/{code}", get(airport))
        .route("/airlines", get(airlines))
        .route("/airlines/{code}", get(airline))
        .with_state(service)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)
}

async fn run_search(
    svc: Arc<SearchService>,
    body: SearchBody,
) -> Result<Json<SearchResponse>, ApiError> {
    let query = svc.parse_search(&body)?;
    Ok(Json(blocking(move || svc.search(&query)).await?))
}

/// Search one-way or round-trip itineraries.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchBody),
    responses((status = 200, body = SearchResponse), (status = 400, body = ProblemDetails, content_type = "application/problem+json")))]
async fn search_get(
    State(svc): State<Arc<SearchService>>,
    RawQuery(q): RawQuery,
) -> Result<Json<SearchResponse>, ApiError> {
    let body = SearchService::search_body_from_query(q.as_deref())?;
    run_search(svc, body).await
}

/// Search any trip, including multi-city (up to 6 slices).
#[utoipa::path(post, path = "/api/v1/search", tag = "search", request_body = SearchBody,
    responses((status = 200, body = SearchResponse), (status = 400, body = ProblemDetails, content_type = "application/problem+json")))]
async fn search_post(
    State(svc): State<Arc<SearchService>>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Json<SearchResponse>, ApiError> {
    run_search(svc, body).await
}

/// Cheapest price per departure day; with `nights`, a round-trip grid.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "search", params(CalendarParams),
    responses((status = 200, body = CalendarResponse), (status = 400, body = ProblemDetails, content_type = "application/problem+json")))]
async fn calendar(
    State(svc): State<Arc<SearchService>>,
    RawQuery(q): RawQuery,
) -> Result<Json<CalendarResponse>, ApiError> {
    let params = SearchService::calendar_params_from_query(q.as_deref())?;
    let query = svc.parse_calendar(&params)?;
    Ok(Json(blocking(move || svc.calendar(&query)).await?))
}

/// Everywhere you can go: the cheapest itinerary per destination, optionally within a
/// journey-time range in hours (time-first search).
#[utoipa::path(get, path = "/api/v1/explore", tag = "search", params(ExploreParams),
    responses((status = 200, body = ExploreResponse), (status = 400, body = ProblemDetails, content_type = "application/problem+json")))]
async fn explore(
    State(svc): State<Arc<SearchService>>,
    RawQuery(q): RawQuery,
) -> Result<Json<ExploreResponse>, ApiError> {
    let params = SearchService::explore_params_from_query(q.as_deref())?;
    let query = svc.parse_explore(&params)?;
    Ok(Json(blocking(move || svc.explore(&query)).await?))
}

/// Autocomplete airports and cities.
#[utoipa::path(get, path = "/api/v1/airports", tag = "reference", params(AirportQuery),
    responses((status = 200, body = [AirportDto]), (status = 400, body = ProblemDetails, content_type = "application/problem+json")))]
async fn airports(
    State(svc): State<Arc<SearchService>>,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<AirportDto>>, ApiError> {
    let p = parse::Params::parse(q.as_deref())?;
    let mut e = spontra_http::FieldErrors::default();
    let query = AirportQuery {
        q: p.str("q"),
        limit: p.u32("limit", &mut e),
    };
    e.finish()?;
    Ok(Json(svc.suggest(&query)?))
}

/// One airport or city by code.
#[utoipa::path(get, path = "/api/v1/airports/{code}", tag = "reference", params(("code" = String, Path, description = "IATA airport or city code")),
    responses((status = 200, body = AirportDto), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
async fn airport(
    State(svc): State<Arc<SearchService>>,
    Path(code): Path<String>,
) -> Result<Json<AirportDto>, ApiError> {
    Ok(Json(svc.place_dto(&code)?))
}

/// Airlines, optionally filtered by name/code or alliance.
#[utoipa::path(get, path = "/api/v1/airlines", tag = "reference", params(AirlineQuery),
    responses((status = 200, body = [AirlineDto]), (status = 400, body = ProblemDetails, content_type = "application/problem+json")))]
async fn airlines(
    State(svc): State<Arc<SearchService>>,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<AirlineDto>>, ApiError> {
    let p = parse::Params::parse(q.as_deref())?;
    let mut e = spontra_http::FieldErrors::default();
    let query = AirlineQuery {
        q: p.str("q"),
        alliance: p.str("alliance"),
        limit: p.u32("limit", &mut e),
    };
    e.finish()?;
    Ok(Json(svc.airlines(&query)?))
}

/// One airline by IATA code.
#[utoipa::path(get, path = "/api/v1/airlines/{code}", tag = "reference", params(("code" = String, Path, description = "IATA airline code")),
    responses((status = 200, body = AirlineDto), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
async fn airline(
    State(svc): State<Arc<SearchService>>,
    Path(code): Path<String>,
) -> Result<Json<AirlineDto>, ApiError> {
    Ok(Json(svc.airline(&code)?))
}
