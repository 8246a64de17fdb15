//! The pricing service: prices over time. It follows the `price.observed` stream that
//! ingestion publishes ([`observe::Recorder`]), keeps each flight's latest price, the lowest
//! price on sale per route, departure date and cabin, and that lowest price day by day
//! (roll-ups in the store), and answers, as an axum [`Router`] under `/api/v1`:
//!
//! - `GET /prices/history`: a departure's lowest price day by day over the last 60 days (the
//!   graph Google Flights draws), the price now and its low / typical / high label;
//! - `GET /prices/metrics`: minimum, quartiles and maximum of the route's recent prices around
//!   the date, in the shape of Amadeus' Flight Price Analysis, and the label of a price;
//! - `POST /prices/labels`: the labels of many prices at once (a calendar's days, explore's
//!   destinations);
//! - `GET /prices/cheapest-dates`: the cheapest departure date and month of a route;
//! - `GET /prices/popular`: the most searched routes and destinations (search analytics,
//!   from `search.performed`: [`popular`]);
//! - `GET /prices/advice`: buy now or wait, from a model learnt on the market's history
//!   ([`advice`]);
//! - `/alerts`: a signed-in user's price alerts ([`watchlist::AlertService`]), evaluated on
//!   every recorded price that touches them and by a periodic sweep ([`evaluate::Evaluator`]);
//!   their notifications go to the outbox the notifications service delivers from.
//!
//! Handlers are thin: [`PricingService`] parses the query into typed values and answers it.

pub mod advice;
pub mod alert;
pub mod dto;
pub mod error;
pub mod evaluate;
pub mod insight;
pub mod observe;
pub mod popular;
pub mod service;
pub mod watchlist;

pub use error::PricingError;
pub use service::PricingService;

use alert::AlertBody;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use dto::*;
use spontra_http::openapi::BearerScheme;
use spontra_http::vocabulary::CabinName;
use spontra_http::{
    ApiError, ApiJson, ApiPath, ApiQuery, Auth, Authenticator, Price, ProblemDetails,
};
use std::sync::Arc;
use utoipa::OpenApi;
use watchlist::{user_id, AlertService};

#[derive(OpenApi)]
#[openapi(
    paths(history, metrics, labels, cheapest_dates, advice, popular_routes, list_alerts, create_alert, get_alert, replace_alert, patch_alert, delete_alert),
    components(schemas(
        AlertBody, alert::AlertDates, alert::Range, alert::NotifyWhen, AlertView, Watching,
        NotificationSummary, AlertList, AlertPatch,
        PriceHistory, HistoryDay, PriceInsight, PriceLabel, PriceMetricsResponse, ItineraryPriceMetric,
        PriceMetric, QuartileRanking, IataCode, LabelledPrice, MetricsMeta, CheapestDates, DatePrice,
        MonthPrice, LabelsBody, PriceToLabel, PriceLabels, LabelledDeparture, PopularRoutes, PopularRoute, PopularDestination, BuyOrWait, Verdict, Forecast, AdviceBasis, Price, CabinName, ProblemDetails
    )),
    tags((name = "prices", description = "Price history, insights and cheapest dates from the prices providers report"),
        (name = "alerts", description = "Price alerts: a signed-in user's watches on a trip's price")),
    modifiers(&BearerScheme)
)]
pub struct PricingApi;

/// The pricing service's routes, to be nested under `/api/v1`.
pub fn router(service: Arc<PricingService>) -> Router {
    Router::new()
        .route("/prices/history", get(history))
        .route("/prices/metrics", get(metrics))
        .route("/prices/labels", post(labels))
        .route("/prices/cheapest-dates", get(cheapest_dates))
        .route("/prices/advice", get(advice))
        .route("/prices/popular", get(popular_routes))
        .with_state(service)
}

/// The alerts routes' state: the service and who checks bearer tokens.
#[derive(Clone)]
pub struct AlertsState {
    pub service: Arc<AlertService>,
    pub auth: Arc<dyn Authenticator>,
}

impl FromRef<AlertsState> for Arc<dyn Authenticator> {
    fn from_ref(s: &AlertsState) -> Self {
        s.auth.clone()
    }
}

/// The price alert routes, to be nested under `/api/v1`. Answers are personal: `no-store`.
pub fn alerts_router(state: AlertsState) -> Router {
    Router::new()
        .route("/alerts", get(list_alerts).post(create_alert))
        .route(
            "/alerts/{id}",
            get(get_alert)
                .put(replace_alert)
                .patch(patch_alert)
                .delete(delete_alert),
        )
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}

/// The caller's alerts, newest first, each with the price it last saw and its last
/// notification.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", security(("bearer" = [])),
    responses((status = 200, body = AlertList),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn list_alerts(
    State(s): State<AlertsState>,
    Auth(p): Auth,
) -> Result<Json<AlertList>, ApiError> {
    Ok(Json(s.service.list(user_id(&p.user_id)?).await?))
}

/// Create a price alert: a route on fixed, flexible or any dates (one way or return), or
/// anywhere from an origin within a flight-time range; told when the price is below a limit
/// or a new low. It is checked against the prices on sale at once.
#[utoipa::path(post, path = "/api/v1/alerts", tag = "alerts", security(("bearer" = [])), request_body = AlertBody,
    responses((status = 201, body = AlertView),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json", description = "`malformed_json`, `invalid_field`, `invalid_date`, `unknown_cabin`"),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json", description = "`too_many_alerts`"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`unknown_airport`, `unknown_currency`, `same_origin_destination`, `date_in_past`, `date_not_served`, `invalid_range`, `return_before_outbound`, `invalid_alert` (fields that do not fit together: a flight-time range with a destination, none without; a new low by both or neither of percent and amount)"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn create_alert(
    State(s): State<AlertsState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<AlertBody>,
) -> Result<(StatusCode, Json<AlertView>), ApiError> {
    let view = s.service.create(user_id(&p.user_id)?, &body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One of the caller's alerts.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path, format = "uuid")),
    responses((status = 200, body = AlertView),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`not_found`: no such alert of the caller's")))]
async fn get_alert(
    State(s): State<AlertsState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AlertView>, ApiError> {
    Ok(Json(s.service.get(user_id(&p.user_id)?, &id).await?))
}

/// Replace an alert's definition; it watches the new trip from its price now.
#[utoipa::path(put, path = "/api/v1/alerts/{id}", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path, format = "uuid")), request_body = AlertBody,
    responses((status = 200, body = AlertView),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`not_found`: no such alert of the caller's"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
async fn replace_alert(
    State(s): State<AlertsState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AlertBody>,
) -> Result<Json<AlertView>, ApiError> {
    Ok(Json(
        s.service.replace(user_id(&p.user_id)?, &id, &body).await?,
    ))
}

/// Pause or resume an alert.
#[utoipa::path(patch, path = "/api/v1/alerts/{id}", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path, format = "uuid")), request_body = AlertPatch,
    responses((status = 200, body = AlertView),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`not_found`: no such alert of the caller's")))]
async fn patch_alert(
    State(s): State<AlertsState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AlertPatch>,
) -> Result<Json<AlertView>, ApiError> {
    let view = s
        .service
        .set_paused(user_id(&p.user_id)?, &id, body.paused)
        .await?;
    Ok(Json(view))
}

/// Delete an alert.
#[utoipa::path(delete, path = "/api/v1/alerts/{id}", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path, format = "uuid")),
    responses((status = 204, description = "deleted"),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`not_found`: no such alert of the caller's")))]
async fn delete_alert(
    State(s): State<AlertsState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    s.service.delete(user_id(&p.user_id)?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
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

/// The most searched routes and destinations over the last days (30 by default), counted from
/// the searches people make (routes only, nothing of who searched).
#[utoipa::path(get, path = "/api/v1/prices/popular", tag = "prices", params(PopularParams),
    responses((status = 200, body = PopularRoutes), (status = 400, body = ProblemDetails, content_type = "application/problem+json", description = "`invalid_field`, `malformed_query`"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`invalid_range`: `days` or `limit` out of range"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`: the store is busy", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn popular_routes(
    State(service): State<Arc<PricingService>>,
    ApiQuery(params): ApiQuery<PopularParams>,
) -> Result<Json<PopularRoutes>, ApiError> {
    Ok(Json(service.popular(&params).await?))
}

/// Buy now or wait: whether waiting is likely to pay for this departure, by how much, how sure
/// the model is, and where the price is likely to go over the next 7 days. The model is learnt
/// from the simulated market's past departures (see `spontra bench buy-wait`).
#[utoipa::path(get, path = "/api/v1/prices/advice", tag = "prices", params(DepartureParams),
    responses((status = 200, body = BuyOrWait), (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`no_price_history`: nothing of the route on sale that day observed"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`unknown_airport`, `unknown_currency`, `date_not_served`, `date_in_past`, `same_origin_destination`"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`: the store is busy", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn advice(
    State(service): State<Arc<PricingService>>,
    ApiQuery(params): ApiQuery<DepartureParams>,
) -> Result<Json<BuyOrWait>, ApiError> {
    let query = service.parse_departure(&params)?;
    Ok(Json(service.advice(&query).await?))
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

/// Label many one-way prices at once — a price calendar's days, explore's destinations — each
/// against its route's typical range around its date, as `/api/v1/prices/metrics` judges one.
/// A price whose route has too few prices observed around its date gets no insight.
#[utoipa::path(post, path = "/api/v1/prices/labels", tag = "prices", request_body = LabelsBody,
    responses((status = 200, body = PriceLabels),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json", description = "`malformed_json`, `invalid_field`, `invalid_date`, `unknown_cabin` (fields of a price named `prices[i].field`)"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`unknown_airport`, `unknown_currency`, `date_not_served`, `same_origin_destination`, `invalid_range` (no prices or more than 200, or an amount out of range)"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`: the store is busy", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn labels(
    State(service): State<Arc<PricingService>>,
    ApiJson(body): ApiJson<LabelsBody>,
) -> Result<Json<PriceLabels>, ApiError> {
    let query = service.parse_labels(&body)?;
    Ok(Json(service.labels(&query).await?))
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
