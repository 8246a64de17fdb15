//! The simulated provider network: HTTP servers on localhost that sell the living market's
//! flights in Duffel's and Amadeus' formats, so live search runs the real provider clients
//! (`spontra_providers`) against them — only the base URL differs from production.
//!
//! Each provider answers from the world's inventory as the search service holds it (which
//! follows the market's feed): the itineraries of the search service for the query asked,
//! those whose every flight is of a carrier the provider sells (`market::providers_of`: the
//! same split as the market's feeds — a third of the carriers each alone, a third both), at the
//! provider's own markup. Then what makes comparing providers real:
//!
//! - **fare brands**: SkyHub (Duffel's format) sells each itinerary as Basic, Standard (+18 %)
//!   and Flex (+45 %); FareFinder (Amadeus') as LIGHT and CLASSIC (+22 %);
//! - **codeshares**: a share of itineraries is also sold under a partner's flight number (an
//!   airline code the provider sells, a number of 4,000 or more), operated by the same flight;
//! - **latency**: log-normal around a median, capped (up to 30 s);
//! - **faults**: a share of requests fail (500), hang past any deadline, answer garbage, and
//!   more than the rate limit a second are refused with 429 and `Retry-After`.
//!
//! Everything random is drawn from the provider's seed and a request counter, so a run is
//! reproducible. Credentials are checked as the real APIs check them (Duffel's bearer token;
//! Amadeus' client credentials for a token that expires, then the bearer token).

use anyhow::Context;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use spontra_search::dto::{ItineraryDto, SearchBody};
use spontra_search::SearchService;
use spontra_sim::rng::{hash, unit};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The wire format a simulated provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Duffel,
    Amadeus,
}

/// One simulated provider's character (`[[sim_providers]]`).
#[derive(Clone, Debug, Deserialize)]
pub struct SimProviderSettings {
    pub name: String,
    pub format: Format,
    /// Its prices ÷ the market's (1.03: 3 % above).
    pub markup: f64,
    /// Median and longest answer time, milliseconds.
    pub latency_median_ms: u64,
    pub latency_max_ms: u64,
    /// Shares of requests answered 500, never answered (held past any deadline), and answered
    /// with garbage.
    pub error_rate: f64,
    pub hang_rate: f64,
    pub garbage_rate: f64,
    /// Requests a second before 429 (0: no limit).
    pub rate_limit_per_second: u32,
    /// Share of itineraries also sold under a partner's codeshare flight number.
    pub codeshare_rate: f64,
    /// The credentials it accepts: Duffel's access token, or Amadeus' client id and secret.
    pub access_token: String,
    pub client_id: String,
    pub client_secret: String,
    pub seed: u64,
    /// Where it listens (port 0: any free one).
    #[serde(default = "loopback")]
    pub host: String,
    #[serde(default)]
    pub port: u16,
}

fn loopback() -> String {
    "127.0.0.1".into()
}

impl SimProviderSettings {
    /// The demo's two providers: SkyHub (Duffel's format) and FareFinder (Amadeus').
    pub fn defaults() -> Vec<SimProviderSettings> {
        vec![
            SimProviderSettings {
                name: "SkyHub".into(),
                format: Format::Duffel,
                markup: 1.0,
                latency_median_ms: 900,
                latency_max_ms: 30_000,
                error_rate: 0.02,
                hang_rate: 0.01,
                garbage_rate: 0.01,
                rate_limit_per_second: 50,
                codeshare_rate: 0.3,
                access_token: "sim_skyhub_token".into(),
                client_id: String::new(),
                client_secret: String::new(),
                seed: 1,
                host: loopback(),
                port: 0,
            },
            SimProviderSettings {
                name: "FareFinder".into(),
                format: Format::Amadeus,
                markup: 0.98,
                latency_median_ms: 2_500,
                latency_max_ms: 30_000,
                error_rate: 0.03,
                hang_rate: 0.02,
                garbage_rate: 0.01,
                rate_limit_per_second: 20,
                codeshare_rate: 0.2,
                access_token: String::new(),
                client_id: "sim-farefinder".into(),
                client_secret: "sim_farefinder_secret".into(),
                seed: 2,
                host: loopback(),
                port: 0,
            },
        ]
    }

    /// The same provider without latency or faults (tests of what it sells).
    pub fn calm(mut self) -> Self {
        self.latency_median_ms = 0;
        self.latency_max_ms = 0;
        self.error_rate = 0.0;
        self.hang_rate = 0.0;
        self.garbage_rate = 0.0;
        self.rate_limit_per_second = 0;
        self
    }

    /// Whether it sells `carrier` (the market feeds' split: SkyHub as the Duffel-shaped feed,
    /// FareFinder as the Amadeus-shaped one).
    pub fn sells(&self, carrier: &str) -> bool {
        let source = match self.format {
            Format::Duffel => "/providers/skyhub",
            Format::Amadeus => "/providers/farefinder",
        };
        crate::market::providers_of(carrier).any(|p| p.source == source)
    }

    /// Its fare brands: name and price factor.
    pub fn brands(&self) -> &'static [(&'static str, f64)] {
        match self.format {
            Format::Duffel => &[("Basic", 1.0), ("Standard", 1.18), ("Flex", 1.45)],
            Format::Amadeus => &[("LIGHT", 1.0), ("CLASSIC", 1.22)],
        }
    }
}

/// A running simulated provider.
#[derive(Clone, Debug)]
pub struct Running {
    pub name: String,
    pub format: Format,
    pub address: SocketAddr,
    requests: Arc<AtomicU64>,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// Search requests it has been sent with valid credentials (not token requests).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

struct Sim {
    settings: SimProviderSettings,
    search: Arc<SearchService>,
    requests: Arc<AtomicU64>,
    /// Requests in the current second.
    window: Mutex<(Instant, u32)>,
    /// Amadeus tokens issued, with their expiry.
    tokens: Mutex<HashMap<String, Instant>>,
}

/// How long a simulated Amadeus token lasts (the real API's 30 minutes).
const TOKEN_SECONDS: u64 = 1_799;

/// Start each provider on its own host and port (`127.0.0.1`, any free port by default).
pub async fn start(
    search: Arc<SearchService>,
    providers: Vec<SimProviderSettings>,
) -> anyhow::Result<Vec<Running>> {
    let mut out = vec![];
    for settings in providers {
        let listener = tokio::net::TcpListener::bind((settings.host.as_str(), settings.port))
            .await
            .with_context(|| {
                format!(
                    "binding simulated provider {} to {}:{}",
                    settings.name, settings.host, settings.port
                )
            })?;
        let address = listener.local_addr()?;
        let (name, format) = (settings.name.clone(), settings.format);
        let requests = Arc::new(AtomicU64::new(0));
        let sim = Arc::new(Sim {
            settings,
            search: search.clone(),
            requests: requests.clone(),
            window: Mutex::new((Instant::now(), 0)),
            tokens: Mutex::new(HashMap::new()),
        });
        let app = match format {
            Format::Duffel => Router::new().route("/air/offer_requests", post(duffel_offers)),
            Format::Amadeus => Router::new()
                .route("/v1/security/oauth2/token", post(amadeus_token))
                .route("/v2/shopping/flight-offers", get(amadeus_offers)),
        }
        .route("/book/{offer_id}", get(booking_page))
        .with_state(sim);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "a simulated provider stopped");
            }
        });
        tracing::info!(provider = %name, %address, ?format, "simulated provider listening");
        out.push(Running {
            name,
            format,
            address,
            requests,
        });
    }
    Ok(out)
}

/// Where a live search's deep link takes a traveller: the provider's page for the offer.
/// Booking is not simulated; the page says which offer was chosen, and with whom.
async fn booking_page(
    State(sim): State<Arc<Sim>>,
    axum::extract::Path(offer_id): axum::extract::Path<String>,
) -> Response {
    let escape = spontra_notifications::compose::esc;
    let name = escape(&sim.settings.name);
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{name}: offer</title></head>\
         <body><main><h1>{name}</h1><p>Offer <code>{}</code>.</p>\
         <p>This is a simulated provider: booking is not part of the demo.</p></main></body></html>",
        escape(&offer_id)
    );
    (
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

/// What happens to one request, drawn before it is answered.
enum Fate {
    Answer,
    Fail,
    Hang,
    Garbage,
    Limited,
}

impl Sim {
    /// A search request let through (its number), after its latency; or the fault it meets,
    /// as the provider's format answers it (a hang is held past any client's deadline first,
    /// as the real APIs on their worst days).
    async fn serve(&self) -> Result<u64, Response> {
        let (n, fate) = self.admit().await;
        if matches!(fate, Fate::Hang) {
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
        match faulty(fate, self.settings.format) {
            Some(r) => Err(r),
            None => Ok(n),
        }
    }

    /// The request's number and fate, after its latency.
    async fn admit(&self) -> (u64, Fate) {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let s = &self.settings;
        if s.rate_limit_per_second > 0 {
            let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
            if w.0.elapsed() >= Duration::from_secs(1) {
                *w = (Instant::now(), 0);
            }
            w.1 += 1;
            if w.1 > s.rate_limit_per_second {
                return (n, Fate::Limited);
            }
        }
        let draw = |what: u64| unit(&[s.seed, what, n]);
        if s.latency_max_ms > 0 {
            // Log-normal around the median (σ = 0.8: a p95 about 3.7 times the median).
            let z = normal(draw(1), draw(2));
            let ms = (s.latency_median_ms as f64 * (0.8 * z).exp()).min(s.latency_max_ms as f64);
            tokio::time::sleep(Duration::from_millis(ms as u64)).await;
        }
        let r = draw(3);
        let fate = if r < s.error_rate {
            Fate::Fail
        } else if r < s.error_rate + s.hang_rate {
            Fate::Hang
        } else if r < s.error_rate + s.hang_rate + s.garbage_rate {
            Fate::Garbage
        } else {
            Fate::Answer
        };
        (n, fate)
    }

    /// The search service's itineraries for `body` this provider sells, or the problem as the
    /// provider's error answer.
    async fn itineraries(&self, body: SearchBody) -> Result<Vec<ItineraryDto>, String> {
        let search = self.search.clone();
        let answer = tokio::task::spawn_blocking(move || {
            let q = search.parse_search(&body).map_err(|e| e.to_string())?;
            search.search(&q).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
        Ok(answer
            .itineraries
            .into_iter()
            .filter(|it| {
                it.slices
                    .iter()
                    .flat_map(|s| &s.segments)
                    .all(|g| self.settings.sells(&g.carrier))
            })
            .collect())
    }

    /// The codeshare flight number a partner sells `flight` under, if this itinerary is also
    /// sold so: a carrier the provider sells, a number of 4,000 or more.
    fn codeshare(&self, itinerary: &str, carrier: &str) -> Option<(String, u16)> {
        let s = &self.settings;
        let h = hash(&[s.seed, 21, hash_str(itinerary)]);
        if (h % 10_000) as f64 >= s.codeshare_rate * 10_000.0 {
            return None;
        }
        let partner = PARTNERS
            .iter()
            .cycle()
            .skip((h >> 20) as usize % PARTNERS.len())
            .take(PARTNERS.len())
            .find(|p| **p != carrier && s.sells(p))?;
        Some((partner.to_string(), 4_000 + ((h >> 40) % 5_000) as u16))
    }
}

/// One offer a provider makes: an itinerary, as one fare brand, under its own flight numbers
/// or a partner's codeshare number.
struct Listing<'a> {
    it: &'a ItineraryDto,
    /// The partner's carrier and flight number the first flight is sold under.
    sold_as: Option<(String, u16)>,
    brand: &'static str,
    /// The total, a decimal string in the itinerary's currency.
    total: String,
}

impl Listing<'_> {
    /// The carrier and flight number segment `g` is sold under.
    fn marketing(&self, g: &spontra_search::dto::Segment) -> (String, String) {
        let first = &self.it.slices[0].segments[0].carrier;
        match &self.sold_as {
            Some((partner, number)) if g.carrier == *first => (partner.clone(), number.to_string()),
            _ => (g.carrier.clone(), g.flight[g.carrier.len()..].to_string()),
        }
    }

    /// The airline selling it.
    fn owner(&self) -> &str {
        self.sold_as
            .as_ref()
            .map_or(self.it.slices[0].segments[0].carrier.as_str(), |(p, _)| {
                p.as_str()
            })
    }
}

impl Sim {
    /// Everything the provider offers of `itineraries`: each as each of its fare brands, at
    /// its markup, and again under a partner's codeshare number when it is also sold so.
    fn listings<'a>(&self, itineraries: &'a [ItineraryDto]) -> Vec<Listing<'a>> {
        let s = &self.settings;
        let mut out = vec![];
        for it in itineraries {
            let codeshare = self.codeshare(&it.id, &it.slices[0].segments[0].carrier);
            for sold_as in std::iter::once(None).chain(codeshare.map(Some)) {
                for (brand, factor) in s.brands() {
                    out.push(Listing {
                        it,
                        sold_as: sold_as.clone(),
                        brand,
                        total: amount(it.price.minor, s.markup * factor, 2),
                    });
                }
            }
        }
        out
    }
}

/// Airlines that lend their numbers to codeshares in the simulation (any the provider sells).
const PARTNERS: [&str; 12] = [
    "AA", "BA", "IB", "AY", "LH", "LX", "OS", "AF", "KL", "DL", "UA", "AC",
];

fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn normal(u1: f64, u2: f64) -> f64 {
    (-2.0 * u1.max(1e-12).ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A decimal amount of `minor` units scaled by `factor`, in the currency's digits.
fn amount(minor: u64, factor: f64, digits: u32) -> String {
    let scaled = (minor as f64 * factor).round() as u64;
    let unit = 10u64.pow(digits);
    if digits == 0 {
        scaled.to_string()
    } else {
        format!(
            "{}.{:0width$}",
            scaled / unit,
            scaled % unit,
            width = digits as usize
        )
    }
}

/// An ISO 8601 duration of minutes (`PT7H5M`), as Amadeus writes durations.
fn iso_duration(minutes: u32) -> String {
    format!("PT{}H{}M", minutes / 60, minutes % 60)
}

/// The local date and time of a moment (`2026-12-18T07:05:00+01:00` → `2026-12-18T07:05:00`).
fn local(rfc3339: &str) -> &str {
    rfc3339.get(..19).unwrap_or(rfc3339)
}

fn faulty(fate: Fate, format: Format) -> Option<Response> {
    match fate {
        Fate::Answer => None,
        Fate::Fail => Some(
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(match format {
                    Format::Duffel => json!({"errors": [{"type": "api_error", "code": "internal_server_error", "title": "Internal server error", "message": "Something went wrong"}]}),
                    Format::Amadeus => json!({"errors": [{"status": 500, "code": 141, "title": "SYSTEM ERROR HAS OCCURRED"}]}),
                }),
            )
                .into_response(),
        ),
        Fate::Garbage => Some(
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                "{\"data\": {\"offers\": [{\"id\": \"off_",
            )
                .into_response(),
        ),
        Fate::Limited => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                Json(match format {
                    Format::Duffel => json!({"errors": [{"type": "rate_limit_error", "code": "rate_limit_exceeded", "title": "Rate limit exceeded", "message": "Too many requests"}]}),
                    Format::Amadeus => json!({"errors": [{"status": 429, "code": 38194, "title": "Too many requests"}]}),
                }),
            )
                .into_response(),
        ),
        // Held, then answered (`Sim::serve`).
        Fate::Hang => None,
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn refused(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

#[derive(Deserialize)]
struct DuffelRequest {
    data: DuffelRequestData,
}

#[derive(Deserialize)]
struct DuffelRequestData {
    slices: Vec<DuffelSliceAsked>,
    passengers: Vec<Value>,
    #[serde(default)]
    cabin_class: Option<String>,
    #[serde(default)]
    max_connections: Option<u32>,
}

#[derive(Deserialize)]
struct DuffelSliceAsked {
    origin: String,
    destination: String,
    departure_date: String,
}

async fn duffel_offers(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let s = &sim.settings;
    if bearer(&headers) != Some(s.access_token.as_str()) {
        return refused(
            StatusCode::UNAUTHORIZED,
            json!({"errors": [{"type": "authentication_error", "code": "invalid_authorization_header", "title": "Invalid authorization header", "message": "The Authorization header is invalid"}]}),
        );
    }
    let n = match sim.serve().await {
        Ok(n) => n,
        Err(fault) => return fault,
    };
    let invalid = |message: String| {
        refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"errors": [{"type": "validation_error", "code": "validation_required", "title": "Invalid request", "message": message}]}),
        )
    };
    let asked: DuffelRequest = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return invalid(e.to_string()),
    };
    let d = asked.data;
    let (out, back) = match d.slices.as_slice() {
        [out] => (out, None),
        [out, back] if back.origin == out.destination && back.destination == out.origin => {
            (out, Some(back))
        }
        _ => return invalid("one slice, or two making a return trip".into()),
    };
    let adults = d.passengers.iter().filter(|p| p["type"] == "adult").count() as u32;
    let infants = d
        .passengers
        .iter()
        .filter(|p| p["type"] == "infant_without_seat")
        .count() as u32;
    let children = d.passengers.len() as u32 - adults - infants;
    let search = SearchBody {
        origin: Some(out.origin.clone()),
        destination: Some(out.destination.clone()),
        depart: Some(out.departure_date.clone()),
        return_date: back.map(|b| b.departure_date.clone()),
        adults: Some(adults),
        children: Some(children),
        infants: Some(infants),
        cabin: d.cabin_class.clone(),
        max_stops: d.max_connections,
        limit: Some(100),
        ..SearchBody::default()
    };
    let itineraries = match sim.itineraries(search).await {
        Ok(i) => i,
        Err(message) => return invalid(message),
    };
    let expires_at = (chrono::Utc::now() + chrono::Duration::minutes(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let offers: Vec<Value> = sim
        .listings(&itineraries)
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let slices: Vec<Value> = l
                .it
                .slices
                .iter()
                .map(|sl| {
                    let segments: Vec<Value> = sl
                        .segments
                        .iter()
                        .map(|g| {
                            let (m_carrier, m_number) = l.marketing(g);
                            json!({
                                "origin": {"iata_code": g.origin},
                                "destination": {"iata_code": g.destination},
                                "departing_at": local(&g.departure.local),
                                "arriving_at": local(&g.arrival.local),
                                "marketing_carrier": {"iata_code": m_carrier},
                                "marketing_carrier_flight_number": m_number,
                                "operating_carrier": {"iata_code": g.carrier, "name": g.carrier_name},
                                "operating_carrier_flight_number": &g.flight[g.carrier.len()..],
                                "aircraft": {"name": g.aircraft},
                                "passengers": [{"cabin_class": g.cabin}]
                            })
                        })
                        .collect();
                    json!({"fare_brand_name": l.brand, "segments": segments})
                })
                .collect();
            json!({
                "id": format!("off_{n:x}_{i}"),
                "total_amount": l.total,
                "total_currency": l.it.price.currency,
                "expires_at": expires_at,
                "owner": {"iata_code": l.owner()},
                "slices": slices
            })
        })
        .collect();
    (
        StatusCode::CREATED,
        Json(json!({"data": {"id": format!("orq_{n}"), "live_mode": false, "offers": offers}})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    client_id: String,
    client_secret: String,
}

async fn amadeus_token(State(sim): State<Arc<Sim>>, Form(f): Form<TokenForm>) -> Response {
    let s = &sim.settings;
    if f.grant_type != "client_credentials"
        || f.client_id != s.client_id
        || f.client_secret != s.client_secret
    {
        return refused(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "error_description": "Client credentials are invalid", "code": 38187, "title": "Invalid parameters"}),
        );
    }
    let token = {
        let mut tokens = sim.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let token = format!("sim{:016x}", hash(&[s.seed, 31, tokens.len() as u64]));
        tokens.insert(
            token.clone(),
            Instant::now() + Duration::from_secs(TOKEN_SECONDS),
        );
        token
    };
    Json(json!({
        "type": "amadeusOAuth2Token",
        "username": "sim@spontra.example",
        "application_name": s.name,
        "client_id": s.client_id,
        "token_type": "Bearer",
        "access_token": token,
        "expires_in": TOKEN_SECONDS,
        "state": "approved",
        "scope": ""
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmadeusQuery {
    origin_location_code: String,
    destination_location_code: String,
    departure_date: String,
    #[serde(default)]
    return_date: Option<String>,
    adults: u32,
    #[serde(default)]
    children: Option<u32>,
    #[serde(default)]
    infants: Option<u32>,
    #[serde(default)]
    travel_class: Option<String>,
    #[serde(default)]
    non_stop: Option<bool>,
    #[serde(default)]
    currency_code: Option<String>,
    #[serde(default)]
    max: Option<u32>,
}

async fn amadeus_offers(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    query: Result<Query<AmadeusQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let valid = bearer(&headers).is_some_and(|t| {
        sim.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(t)
            .is_some_and(|expires| *expires > Instant::now())
    });
    if !valid {
        return refused(
            StatusCode::UNAUTHORIZED,
            json!({"errors": [{"code": 38190, "title": "Invalid access token", "detail": "The access token provided in the Authorization header is invalid", "status": 401}]}),
        );
    }
    if let Err(fault) = sim.serve().await {
        return fault;
    }
    let invalid = |detail: String| {
        refused(
            StatusCode::BAD_REQUEST,
            json!({"errors": [{"status": 400, "code": 477, "title": "INVALID FORMAT", "detail": detail}]}),
        )
    };
    let Query(q) = match query {
        Ok(q) => q,
        Err(e) => return invalid(e.body_text()),
    };
    let search = SearchBody {
        origin: Some(q.origin_location_code.clone()),
        destination: Some(q.destination_location_code.clone()),
        depart: Some(q.departure_date.clone()),
        return_date: q.return_date.clone(),
        adults: Some(q.adults),
        children: q.children,
        infants: q.infants,
        cabin: q.travel_class.as_ref().map(|c| c.to_ascii_lowercase()),
        max_stops: q.non_stop.filter(|n| *n).map(|_| 0),
        currency: q.currency_code.clone(),
        limit: Some(q.max.unwrap_or(250).clamp(1, 100)),
        ..SearchBody::default()
    };
    let itineraries = match sim.itineraries(search).await {
        Ok(i) => i,
        Err(detail) => return invalid(detail),
    };
    let data: Vec<Value> = sim
        .listings(&itineraries)
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut segment_id = 0;
            let mut details = vec![];
            let itineraries: Vec<Value> = l
                .it
                .slices
                .iter()
                .map(|sl| {
                    let segments: Vec<Value> = sl
                        .segments
                        .iter()
                        .map(|g| {
                            segment_id += 1;
                            let (m_carrier, m_number) = l.marketing(g);
                            details.push(json!({
                                "segmentId": segment_id.to_string(),
                                "cabin": g.cabin.to_ascii_uppercase(),
                                "brandedFare": l.brand,
                                "class": "Y"
                            }));
                            json!({
                                "departure": {"iataCode": g.origin, "at": local(&g.departure.local)},
                                "arrival": {"iataCode": g.destination, "at": local(&g.arrival.local)},
                                "carrierCode": m_carrier,
                                "number": m_number,
                                "aircraft": {"code": g.aircraft},
                                "operating": {"carrierCode": g.carrier},
                                "duration": iso_duration(g.duration_minutes),
                                "id": segment_id.to_string(),
                                "numberOfStops": 0
                            })
                        })
                        .collect();
                    json!({"duration": iso_duration(sl.duration_minutes), "segments": segments})
                })
                .collect();
            json!({
                "type": "flight-offer",
                "id": (i + 1).to_string(),
                "source": "GDS",
                "oneWay": l.it.slices.len() == 1,
                "numberOfBookableSeats": 9,
                "itineraries": itineraries,
                "price": {"currency": l.it.price.currency, "total": l.total, "base": l.total, "grandTotal": l.total},
                "validatingAirlineCodes": [l.owner()],
                "travelerPricings": [{"travelerId": "1", "fareOption": "STANDARD", "travelerType": "ADULT", "fareDetailsBySegment": details}]
            })
        })
        .collect();
    Json(json!({"meta": {"count": data.len()}, "data": data})).into_response()
}
