//! Live search over HTTP: `POST /live-searches` starts one (201, with its first answer and
//! where to poll it), `GET /live-searches/{id}?after=N` answers what changed after the
//! answer whose `cursor` was N (everything with no `after`), and `GET
//! /live-searches/{id}/events` streams the same answers as server-sent events (each event's
//! id is its cursor, so a reconnecting client's `Last-Event-ID` resumes it). Every answer
//! carries every provider's status; providers failing or late are statuses, not errors.

use super::{offer_query, LiveSearches, Session, View};
use crate::dto::SearchBody;
use crate::error::SearchError;
use crate::SearchService;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use spontra_domain::{ErrorCode, Invalid};
use spontra_http::vocabulary::CabinName;
use spontra_http::Price;
use spontra_http::{ApiError, ApiJson, ApiPath, Display, ProblemDetails};
use spontra_providers::merge::{Fare, Itinerary, ItineraryKey};
use spontra_refdata::RefData;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The live search routes' state.
#[derive(Clone)]
pub struct LiveState {
    pub live: Arc<LiveSearches>,
    pub search: Arc<SearchService>,
}

/// A live search: one way or a return trip between two airports or cities.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveSearchBody {
    #[schema(pattern = "^[A-Za-z]{3}$", example = "LON")]
    pub origin: String,
    #[schema(pattern = "^[A-Za-z]{3}$", example = "NYC")]
    pub destination: String,
    /// Local departure date.
    #[schema(format = Date, example = "2026-12-18")]
    pub depart: String,
    /// Local date of the return flight, for a round trip.
    #[serde(rename = "return")]
    #[schema(format = Date)]
    pub return_date: Option<String>,
    /// 1–9 (default 1); adults and children are at most 9 together.
    #[schema(minimum = 1, maximum = 9)]
    #[serde(default, deserialize_with = "spontra_http::whole::opt_u32")]
    pub adults: Option<u32>,
    #[schema(minimum = 0, maximum = 8)]
    #[serde(default, deserialize_with = "spontra_http::whole::opt_u32")]
    pub children: Option<u32>,
    /// Lap infants (under 2), at most one per adult.
    #[schema(minimum = 0, maximum = 9)]
    #[serde(default, deserialize_with = "spontra_http::whole::opt_u32")]
    pub infants: Option<u32>,
    #[schema(value_type = Option<CabinName>)]
    pub cabin: Option<String>,
    /// Connections allowed each way: 0, 1 or 2 (default 2).
    #[schema(minimum = 0, maximum = 2)]
    #[serde(default, deserialize_with = "spontra_http::whole::opt_u32")]
    pub max_stops: Option<u32>,
    /// Show prices in this currency (ISO 4217; default EUR).
    #[schema(pattern = "^[A-Za-z]{3}$", example = "EUR")]
    pub currency: Option<String>,
}

/// A live search's answer: every provider's status, and the itineraries found or changed
/// since the answer the poll continues.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LiveSearchResponse {
    pub id: String,
    /// `running` while some provider has not answered, failed or timed out; then `complete`.
    #[schema(example = "running")]
    pub status: String,
    /// Give it as `after` to the next poll to hear only what changed since this answer.
    pub cursor: u64,
    /// These results are older than live results are normally reused for; fresher ones are
    /// being fetched for the next search.
    pub stale: bool,
    /// When the providers were asked (RFC 3339).
    pub started_at: String,
    /// The currency prices are shown in (each price also keeps the provider's own).
    pub currency: String,
    pub providers: Vec<LiveProvider>,
    /// Itineraries found so far in all.
    pub total: usize,
    /// New or changed after `after`, cheapest first.
    pub itineraries: Vec<LiveItinerary>,
}

/// A provider's part in a live search.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LiveProvider {
    pub name: String,
    /// `pending`, `complete`, `failed`, `timed_out`, or `skipped` (not asked: it has failed
    /// again and again, and is left alone for a while).
    #[schema(example = "complete")]
    pub status: String,
    /// Offers it sent that were read.
    pub offers: usize,
    /// Offers it sent that could not be read or priced.
    pub left_out: usize,
    /// From the search's start to its answer.
    pub elapsed_ms: Option<u64>,
    pub error: Option<LiveProviderError>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LiveProviderError {
    /// `provider_timeout`, `provider_unreachable`, `provider_unauthorized`,
    /// `provider_rate_limited`, `provider_rejected`, `provider_failed`, `provider_malformed`.
    pub code: String,
    pub message: String,
}

/// The same flights, whichever provider sells them and under whichever flight numbers.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LiveItinerary {
    /// Stable for the same flights.
    pub id: String,
    /// The lowest price of any provider.
    pub price: Price,
    pub slices: Vec<LiveSlice>,
    /// One per provider, cheapest first.
    pub prices: Vec<LivePrice>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LiveSlice {
    pub origin: String,
    pub destination: String,
    /// Local times.
    pub departing_at: String,
    pub arriving_at: String,
    /// From departure to arrival (time zones allowed for), when both airports are known.
    pub duration_minutes: Option<i64>,
    pub stops: usize,
    pub segments: Vec<LiveSegment>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LiveSegment {
    pub origin: String,
    pub destination: String,
    pub departing_at: String,
    pub arriving_at: String,
    /// The flight number it is sold under, as the first provider to offer it gave it.
    #[schema(example = "BA117")]
    pub flight: String,
    /// The airline flying it, and its own flight number when known.
    pub operating_carrier: String,
    pub operating_carrier_name: Option<String>,
    pub operating_flight: Option<String>,
}

/// One provider's price for an itinerary.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LivePrice {
    pub provider: String,
    /// Its cheapest fare.
    #[serde(flatten)]
    pub fare: LiveFare,
    /// Its other fares for the same flights (fare brands, codeshare numbers), cheapest first.
    pub other_fares: Vec<LiveFare>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LiveFare {
    /// In the search's currency.
    pub price: Price,
    /// As the provider priced it.
    pub provider_price: ProviderAmount,
    pub brand: Option<String>,
    pub offer_id: String,
    /// Where to book it with the provider.
    pub deep_link: Option<String>,
    pub expires_at: Option<String>,
    pub seats_left: Option<u16>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProviderAmount {
    pub amount: String,
    pub currency: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PollParams {
    /// The `cursor` of the last answer seen: only what changed since is returned.
    #[param(minimum = 0, maximum = 1000000)]
    pub after: Option<u32>,
}

#[derive(OpenApi)]
#[openapi(
    paths(create, poll, events),
    components(schemas(LiveSearchBody, LiveSearchResponse, LiveProvider, LiveProviderError, LiveItinerary,
        LiveSlice, LiveSegment, LivePrice, LiveFare, ProviderAmount, ProblemDetails)),
    tags((name = "live", description = "Live search: every provider asked at once, results as they arrive"))
)]
pub struct LiveApi;

/// The live search routes, to be nested under `/api/v1`.
pub fn router(state: LiveState) -> Router {
    Router::new()
        .route("/live-searches", post(create))
        .route("/live-searches/{id}", get(poll))
        .route("/live-searches/{id}/events", get(events))
        .with_state(state)
}

/// Start a live search: every provider is asked; poll the answer's `id` (or stream it) for
/// results as they arrive.
#[utoipa::path(post, path = "/api/v1/live-searches", tag = "live", request_body = LiveSearchBody,
    responses((status = 201, body = LiveSearchResponse, headers(("Location" = String, description = "where to poll it"))),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`unknown_airport`, `date_not_served`, `return_before_outbound` and other rules beyond the document"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`: as many live searches run as this process allows; `no_providers`: none configured", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn create(
    State(st): State<LiveState>,
    ApiJson(body): ApiJson<LiveSearchBody>,
) -> Result<Response, ApiError> {
    let search = SearchBody {
        origin: Some(body.origin),
        destination: Some(body.destination),
        depart: Some(body.depart),
        return_date: body.return_date,
        adults: body.adults,
        children: body.children,
        infants: body.infants,
        cabin: body.cabin,
        max_stops: body.max_stops,
        currency: body.currency,
        ..SearchBody::default()
    };
    let q = st.search.parse_search(&search)?;
    let session = st.live.start(offer_query(&q), q.display).await?;
    let answer = respond(&st, &session, 0);
    let location = format!("/api/v1/live-searches/{}", session.id);
    let mut response = (StatusCode::CREATED, Json(answer)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

fn session(st: &LiveState, id: &str) -> Result<Arc<Session>, ApiError> {
    st.live
        .session(id)
        .ok_or_else(|| SearchError::NoSuchLiveSearch.into())
}

/// The largest cursor (a run's version grows by one per provider answer).
const MAX_CURSOR: u32 = 1_000_000;

fn after_of(raw: Option<&str>) -> Result<u64, Invalid> {
    let p = crate::parse::Params::parse(raw)?;
    let mut e = Invalid::default();
    let after = p.u32("after", &mut e);
    if after.is_some_and(|a| a > MAX_CURSOR) {
        e.push(
            ErrorCode::InvalidField,
            "after",
            format!("a cursor is at most {MAX_CURSOR}"),
        );
    }
    e.finish()?;
    Ok(after.map_or(0, u64::from))
}

/// A live search's results: every provider's status, and the itineraries new or changed
/// since `after`.
#[utoipa::path(get, path = "/api/v1/live-searches/{id}", tag = "live",
    params(("id" = String, Path, description = "the live search's id"), PollParams),
    responses((status = 200, body = LiveSearchResponse),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`live_search_not_found`: no such live search, or it has expired")))]
async fn poll(
    State(st): State<LiveState>,
    ApiPath(id): ApiPath<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<LiveSearchResponse>, ApiError> {
    let after = after_of(q.as_deref())?;
    let session = session(&st, &id)?;
    Ok(Json(respond(&st, &session, after)))
}

/// The same answers as a stream of server-sent events: an `update` each time a provider
/// answers (what changed since the last event; the event's id is its cursor), then
/// `complete`. A client reconnecting with `Last-Event-ID` resumes after that event.
#[utoipa::path(get, path = "/api/v1/live-searches/{id}/events", tag = "live",
    params(("id" = String, Path, description = "the live search's id"), PollParams),
    responses((status = 200, content_type = "text/event-stream", description = "`update` events with a LiveSearchResponse each, then `complete`"),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`live_search_not_found`")))]
async fn events(
    State(st): State<LiveState>,
    ApiPath(id): ApiPath<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut after = after_of(q.as_deref())?;
    if let Some(last) = headers.get("last-event-id") {
        after = last
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .filter(|&a| a <= MAX_CURSOR)
            .map(u64::from)
            .ok_or_else(|| {
                Invalid::field(
                    ErrorCode::InvalidField,
                    "Last-Event-ID",
                    "an event id this stream sent",
                )
            })?;
    }
    let session = session(&st, &id)?;
    let changes = session.run.watch();
    let stream = futures_util::stream::unfold(
        (st, session, changes, after, false),
        |(st, session, mut changes, after, ended)| async move {
            if ended {
                return None;
            }
            // Wait for something after `after`; none will come once the run has finished.
            loop {
                changes.borrow_and_update();
                let (version, finished) = session.run.progress();
                if version > after {
                    break;
                }
                if finished || changes.changed().await.is_err() {
                    return None;
                }
            }
            let answer = respond(&st, &session, after);
            let done = answer.status == "complete";
            let event = Event::default()
                .event(if done { "complete" } else { "update" })
                .id(answer.cursor.to_string())
                .json_data(&answer)
                .unwrap_or_else(|_| Event::default().event("error"));
            let next = answer.cursor;
            Some((
                Ok::<_, Infallible>(event),
                (st, session, changes, next, done),
            ))
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// A session's answer after version `after`.
fn respond(st: &LiveState, session: &Session, after: u64) -> LiveSearchResponse {
    let view = session.run.view(after);
    present(st.search.refdata(), &st.live, session, view)
}

fn present(
    refdata: &RefData,
    live: &LiveSearches,
    session: &Session,
    view: View,
) -> LiveSearchResponse {
    let display = &session.display;
    LiveSearchResponse {
        id: session.id.clone(),
        status: if view.done { "complete" } else { "running" }.into(),
        cursor: view.version,
        stale: session.stale,
        started_at: view
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        currency: display.currency.to_string(),
        providers: view
            .providers
            .iter()
            .map(|p| LiveProvider {
                name: p.name.clone(),
                status: p.status.as_str().into(),
                offers: p.offers,
                left_out: p.left_out,
                elapsed_ms: p.after.map(|d| d.as_millis() as u64),
                error: p.error.as_ref().map(|(code, message)| LiveProviderError {
                    code: code.clone(),
                    message: message.clone(),
                }),
            })
            .collect(),
        total: view.total,
        itineraries: view
            .itineraries
            .iter()
            .map(|it| itinerary(refdata, live, display, it))
            .collect(),
    }
}

fn price(display: &Display, eur: i64) -> Price {
    display.price(u64::try_from(eur).unwrap_or(0))
}

fn fare(display: &Display, link: Option<&str>, f: &Fare) -> LiveFare {
    LiveFare {
        price: price(display, f.total_eur),
        provider_price: ProviderAmount {
            amount: f.total.decimal(),
            currency: f.total.currency.to_string(),
        },
        brand: f.brand.clone(),
        offer_id: f.offer_id.clone(),
        deep_link: link.map(|l| l.replace("{offer_id}", &encode(&f.offer_id))),
        expires_at: f
            .expires_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        seats_left: f.seats_left,
    }
}

/// An offer id made safe for a URL path or query (ids are providers' text).
fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A stable id for an itinerary's flights (FNV-1a over its key).
pub fn itinerary_id(key: &ItineraryKey) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |s: &str| {
        for b in s.bytes().chain([0u8]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for (i, slice) in key.iter().enumerate() {
        eat(&i.to_string());
        for g in slice {
            eat(g.operating_carrier.as_str());
            eat(g.origin.as_str());
            eat(g.destination.as_str());
            eat(&g.departing_at.to_string());
        }
    }
    format!("{h:016x}")
}

fn local(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn itinerary(
    refdata: &RefData,
    live: &LiveSearches,
    display: &Display,
    it: &Itinerary,
) -> LiveItinerary {
    let slices = it
        .slices
        .iter()
        .map(|s| {
            let (first, last) = (s.segments.first(), s.segments.last());
            let duration = first.zip(last).and_then(|(f, l)| {
                let from = refdata.airport(f.origin)?.tz;
                let to = refdata.airport(l.destination)?.tz;
                let dep = f.departing_at.and_local_timezone(from).earliest()?;
                let arr = l.arriving_at.and_local_timezone(to).earliest()?;
                Some((arr - dep).num_minutes())
            });
            LiveSlice {
                origin: first.map(|g| g.origin.to_string()).unwrap_or_default(),
                destination: last.map(|g| g.destination.to_string()).unwrap_or_default(),
                departing_at: first.map(|g| local(g.departing_at)).unwrap_or_default(),
                arriving_at: last.map(|g| local(g.arriving_at)).unwrap_or_default(),
                duration_minutes: duration,
                stops: s.segments.len().saturating_sub(1),
                segments: s
                    .segments
                    .iter()
                    .map(|g| LiveSegment {
                        origin: g.origin.to_string(),
                        destination: g.destination.to_string(),
                        departing_at: local(g.departing_at),
                        arriving_at: local(g.arriving_at),
                        flight: g.marketing.to_string(),
                        operating_carrier: g.operating_carrier.to_string(),
                        operating_carrier_name: refdata
                            .airline(g.operating_carrier)
                            .map(|a| a.name.clone()),
                        operating_flight: g
                            .flown()
                            .1
                            .map(|n| format!("{}{n}", g.operating_carrier)),
                    })
                    .collect(),
            }
        })
        .collect();
    let prices = it
        .prices
        .iter()
        .map(|p| {
            let link = live.deep_link(&p.provider);
            LivePrice {
                provider: p.provider.clone(),
                fare: fare(display, link, &p.cheapest),
                other_fares: p
                    .other_fares
                    .iter()
                    .map(|f| fare(display, link, f))
                    .collect(),
            }
        })
        .collect();
    LiveItinerary {
        id: itinerary_id(&it.key),
        price: price(display, it.lowest_eur()),
        slices,
        prices,
    }
}
