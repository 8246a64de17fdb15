//! The search service: airports, airlines, Browse search (one-way, round trip, multi-city),
//! price calendar and explore, as an axum [`Router`] under `/api/v1`.
//!
//! Handlers are thin: parse into a query ([`SearchService`] does it, so the CLI shares it),
//! run the engine on a bounded pool (search is CPU-bound), map to DTOs.
//!
//! Engine work is bounded three ways. Searches run on two pools sized to the cores with short
//! queues — one for ordinary searches and one, smaller, for heavy ones (explore over several
//! days or with two stops, long calendars, long multi-city trips) — so cheap searches keep
//! their latency while heavy ones queue; a full queue is answered 503 with `Retry-After`.
//! Each search has a work budget in engine steps (422 `query_too_expensive` when exceeded).
//! And a search whose client has gone is abandoned at its next budget check.

pub mod analytics;
pub mod dto;
pub mod error;
pub mod facets;
pub mod horizon;
pub mod live;
pub mod live_search;
pub mod parse;
pub mod present;
pub mod query;
pub mod reference;
pub mod service;
pub mod snapshot;

pub use error::SearchError;
pub use service::SearchService;

use axum::extract::{FromRef, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use dto::*;
use serde::Deserialize;
use spontra_domain::{ErrorCode, Invalid};
use spontra_engine::budget::{self, Budget, Stopped};
use spontra_http::vocabulary::{
    AllianceName, CabinName, CarrierCodeDoc, ExploreGrouping, ExploreSort, PlaceCodeDoc, SearchSort,
};
use spontra_http::{ApiError, ApiJson, ApiPath, PoolSize, ProblemDetails, WorkPool};
use std::sync::Arc;
use std::time::Duration;
use utoipa::OpenApi;

/// How much engine work the search API allows (`[search]` in the configuration).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SearchLimits {
    /// Engine workers for ordinary searches (0: one per core).
    pub workers: usize,
    /// Engine workers for heavy searches (0: half the cores, at least one).
    pub heavy_workers: usize,
    /// Searches that may wait for a worker, per pool.
    pub queue: usize,
    pub heavy_queue: usize,
    /// The longest a search waits for a worker before it is answered 503, in milliseconds.
    pub queue_timeout_ms: u64,
    /// Work allowed per search, in engine steps (one step: one route looked at; about 110
    /// million a second on one core of the reference machine). The default, about 3.5 s of
    /// one core, admits the largest explore the API offers from the busiest single airport
    /// (LHR, two stops, 14 days: 337 million steps) and refuses bigger ones (city codes over
    /// long windows); a point-to-point search takes 10–170 thousand, a month's calendar up to
    /// 400 thousand.
    pub max_steps: u64,
    /// A search process that follows another's ingestion writes a snapshot of its inventory
    /// this often (seconds; 0: never) and restarts from it (see [`snapshot`]).
    pub snapshot_seconds: u64,
    /// Megabytes of far-off days' blocks kept (see [`horizon`]).
    pub far_cache_mb: u64,
    /// The longest a block of far-off days is kept after it was built, in seconds.
    pub far_block_seconds: u64,
    /// Searches are counted and published on `search.performed` this often (seconds), for
    /// popular routes (see [`analytics`]).
    pub analytics_seconds: u64,
}

impl SearchLimits {
    /// The horizon's share of these limits.
    pub fn horizon(&self) -> horizon::HorizonLimits {
        horizon::HorizonLimits {
            cache_bytes: self.far_cache_mb.saturating_mul(1 << 20),
            keep: Duration::from_secs(self.far_block_seconds.max(1)),
        }
    }
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits {
            workers: 0,
            heavy_workers: 0,
            queue: 64,
            heavy_queue: 8,
            queue_timeout_ms: 3_000,
            max_steps: DEFAULT_MAX_STEPS,
            snapshot_seconds: 30,
            far_cache_mb: 256,
            far_block_seconds: 120,
            analytics_seconds: 10,
        }
    }
}

/// See [`SearchLimits::max_steps`] (calibrated with `spontra bench`, docs/performance.md).
pub const DEFAULT_MAX_STEPS: u64 = 400_000_000;

/// The search routes' state: the service, its two engine pools and the work budget.
#[derive(Clone)]
pub struct SearchState {
    pub service: Arc<SearchService>,
    light: Arc<WorkPool>,
    heavy: Arc<WorkPool>,
    max_steps: u64,
}

impl FromRef<SearchState> for Arc<SearchService> {
    fn from_ref(s: &SearchState) -> Self {
        s.service.clone()
    }
}

impl SearchState {
    pub fn new(service: Arc<SearchService>, limits: &SearchLimits) -> SearchState {
        let cores = spontra_http::cores();
        let wait = Duration::from_millis(limits.queue_timeout_ms);
        let light = PoolSize {
            workers: if limits.workers == 0 {
                cores
            } else {
                limits.workers
            },
            queue: limits.queue,
            queue_timeout: wait,
        };
        let heavy = PoolSize {
            workers: if limits.heavy_workers == 0 {
                (cores / 2).max(1)
            } else {
                limits.heavy_workers
            },
            queue: limits.heavy_queue,
            queue_timeout: wait,
        };
        SearchState {
            service,
            light: Arc::new(WorkPool::new("search", light)),
            heavy: Arc::new(WorkPool::new("heavy search", heavy)),
            max_steps: limits.max_steps,
        }
    }

    /// Run an engine job on the pool its weight calls for, within the work budget.
    async fn run<T: Send + 'static>(
        &self,
        heavy: bool,
        job: impl FnOnce(&SearchService) -> T + Send + 'static,
    ) -> Result<T, SearchError> {
        let pool = if heavy { &self.heavy } else { &self.light };
        let service = self.service.clone();
        let max_steps = self.max_steps;
        let outcome = pool
            .run(move |cancel| {
                let b = Budget {
                    max_steps: Some(max_steps),
                    cancel: Some(cancel.flag()),
                };
                budget::within(&b, || job(&service))
            })
            .await?;
        match outcome {
            Ok((answer, _steps)) => Ok(answer),
            Err(Stopped::OverBudget(_)) => Err(SearchError::TooExpensive),
            Err(Stopped::Cancelled) => Err(SearchError::Abandoned),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(search_get, search_post, calendar, explore, airports, airport, airlines, airline, currencies),
    components(schemas(
        SearchBody, SliceBody, SearchResponse, ExchangeRate, CurrencyDto, ItineraryDto, SliceDto, Segment, Layover, Moment, Price,
        PassengerPrice, SearchSummary, SortSummary, Facets, FacetValue, CalendarResponse, CalendarDay, CalendarCell,
        ExploreResponse, ExploreDestination, CountryGroup, AirportDto, AirlineDto, ProblemDetails,
        CabinName, AllianceName, SearchSort, ExploreSort, ExploreGrouping, CarrierCodeDoc, PlaceCodeDoc
    )),
    tags((name = "search", description = "Browse search over the in-memory inventory"),
         (name = "reference", description = "Airports, cities and airlines"))
)]
pub struct SearchApi;

/// The search service's routes, to be nested under `/api/v1`.
pub fn router(state: SearchState) -> Router {
    Router::new()
        .route("/search", get(search_get).post(search_post))
        .route("/calendar", get(calendar))
        .route("/explore", get(explore))
        .route("/airports", get(airports))
        .route("/airports/{code}", get(airport))
        .route("/airlines", get(airlines))
        .route("/airlines/{code}", get(airline))
        .route("/currencies", get(currencies))
        .with_state(state)
}

async fn run_search(st: SearchState, body: SearchBody) -> Result<Json<SearchResponse>, ApiError> {
    let query = st.service.parse_search(&body)?;
    let heavy = query.is_heavy() || st.service.would_build(query.dates());
    Ok(Json(st.run(heavy, move |svc| svc.search(&query)).await??))
}

/// Search one-way or round-trip itineraries.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchBody),
    responses((status = 200, body = SearchResponse), (status = 409, body = ProblemDetails, content_type = "application/problem+json", description = "`stale_cursor`: prices or seats changed since the first page, so the list this cursor continues is gone"), (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`unknown_airport`, `date_not_served`, `return_before_outbound` and other rules beyond the document; `query_too_expensive`: over the work budget"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`: the engine is busy", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn search_get(
    State(st): State<SearchState>,
    RawQuery(q): RawQuery,
) -> Result<Json<SearchResponse>, ApiError> {
    let body = SearchService::search_body_from_query(q.as_deref())?;
    run_search(st, body).await
}

/// Search any trip, including multi-city (up to 6 slices).
#[utoipa::path(post, path = "/api/v1/search", tag = "search", request_body = SearchBody,
    responses((status = 200, body = SearchResponse), (status = 409, body = ProblemDetails, content_type = "application/problem+json", description = "`stale_cursor`: prices or seats changed since the first page, so the list this cursor continues is gone"), (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`incomplete_trip`, `unknown_airport`, `date_not_served` and other rules beyond the document; `query_too_expensive`: over the work budget"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`: the engine is busy", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn search_post(
    State(st): State<SearchState>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Json<SearchResponse>, ApiError> {
    // The body's schema cannot say "slices, or all of origin/destination/depart, not both".
    let simple = [&body.origin, &body.destination, &body.depart];
    let complete = match &body.slices {
        Some(_) => simple.iter().all(|f| f.is_none()) && body.return_date.is_none(),
        None => simple.iter().all(|f| f.is_some()),
    };
    if !complete {
        return Err(Invalid::whole(
            ErrorCode::IncompleteTrip,
            "give slices, or origin, destination and depart (with an optional return), not both",
        )
        .into());
    }
    run_search(st, body).await
}

/// Cheapest price per departure day; with `nights`, a round-trip grid.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "search", params(CalendarParams),
    responses((status = 200, body = CalendarResponse), (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`query_too_expensive`: over the work budget"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`: the engine is busy", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn calendar(
    State(st): State<SearchState>,
    RawQuery(q): RawQuery,
) -> Result<Json<CalendarResponse>, ApiError> {
    let params = SearchService::calendar_params_from_query(q.as_deref())?;
    let query = st.service.parse_calendar(&params)?;
    let heavy = query.is_heavy() || st.service.would_build(query.dates());
    Ok(Json(st.run(heavy, move |svc| svc.calendar(&query)).await?))
}

/// Everywhere you can go: the cheapest itinerary per destination, optionally within a
/// journey-time range in hours (time-first search).
#[utoipa::path(get, path = "/api/v1/explore", tag = "search", params(ExploreParams),
    responses((status = 200, body = ExploreResponse), (status = 409, body = ProblemDetails, content_type = "application/problem+json", description = "`stale_cursor`: prices or seats changed since the first page, so the list this cursor continues is gone"), (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`query_too_expensive`: over the work budget"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`: the engine is busy", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn explore(
    State(st): State<SearchState>,
    RawQuery(q): RawQuery,
) -> Result<Json<ExploreResponse>, ApiError> {
    let params = SearchService::explore_params_from_query(q.as_deref())?;
    let query = st.service.parse_explore(&params)?;
    let heavy = query.is_heavy() || st.service.would_build(query.dates());
    Ok(Json(st.run(heavy, move |svc| svc.explore(&query)).await??))
}

/// Autocomplete airports and cities.
#[utoipa::path(get, path = "/api/v1/airports", tag = "reference", params(AirportQuery),
    responses((status = 200, body = [AirportDto]), (status = 400, body = ProblemDetails, content_type = "application/problem+json")))]
async fn airports(
    State(svc): State<Arc<SearchService>>,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<AirportDto>>, ApiError> {
    let p = parse::Params::parse(q.as_deref())?;
    let mut e = Invalid::default();
    let query = AirportQuery {
        q: p.text("q"),
        limit: p.u32("limit", &mut e),
    };
    e.take(parse::text_within("q", query.q.as_deref(), 100));
    e.finish()?;
    Ok(Json(svc.reference().suggest(&query)?))
}

/// One airport or city by code.
#[utoipa::path(get, path = "/api/v1/airports/{code}", tag = "reference", params(("code" = String, Path, description = "IATA airport or city code")),
    responses((status = 200, body = AirportDto), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
async fn airport(
    State(svc): State<Arc<SearchService>>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<AirportDto>, ApiError> {
    Ok(Json(svc.reference().place_dto(&code)?))
}

/// Airlines, optionally filtered by name/code or alliance.
#[utoipa::path(get, path = "/api/v1/airlines", tag = "reference", params(AirlineQuery),
    responses((status = 200, body = [AirlineDto]), (status = 400, body = ProblemDetails, content_type = "application/problem+json")))]
async fn airlines(
    State(svc): State<Arc<SearchService>>,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<AirlineDto>>, ApiError> {
    let p = parse::Params::parse(q.as_deref())?;
    let mut e = Invalid::default();
    let query = AirlineQuery {
        q: p.text("q"),
        alliance: p.str("alliance"),
        limit: p.u32("limit", &mut e),
    };
    e.take(parse::text_within("q", query.q.as_deref(), 100));
    e.finish()?;
    Ok(Json(svc.reference().airlines(&query)?))
}

/// One airline by IATA code.
#[utoipa::path(get, path = "/api/v1/airlines/{code}", tag = "reference", params(("code" = String, Path, description = "IATA airline code")),
    responses((status = 200, body = AirlineDto), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
async fn airline(
    State(svc): State<Arc<SearchService>>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<AirlineDto>, ApiError> {
    Ok(Json(svc.reference().airline(&code)?))
}

/// The currencies prices can be shown in (`currency=`), with the ECB reference rate each is
/// converted at.
#[utoipa::path(get, path = "/api/v1/currencies", tag = "reference",
    responses((status = 200, body = [CurrencyDto])))]
async fn currencies(State(svc): State<Arc<SearchService>>) -> Json<Vec<CurrencyDto>> {
    Json(svc.reference().currencies())
}
