//! Duffel: offer requests (`POST /air/offer_requests?return_offers=true&supplier_timeout=…`).
//!
//! Asked with the slices (one, or two for a return), one passenger entry per traveller
//! (`{"type":"adult"}`, a child by `{"age":…}`, `{"type":"infant_without_seat"}`), the cabin
//! class and `max_connections`; answered `201` with `data.offers`, each with its `id`,
//! `total_amount` (a decimal string) and `total_currency`, `expires_at`, `owner`, and `slices`
//! of `segments` (origin and destination `iata_code`, local `departing_at`/`arriving_at`,
//! marketing and operating carrier and flight number, each passenger's `cabin_class`) with
//! the slice's `fare_brand_name`. Errors come as `errors[]` with `code` and `message`. The
//! `supplier_timeout` asked is the deadline less a second (within Duffel's 2–60 s), so Duffel
//! answers with what the airlines gave in time rather than our request timing out.

use crate::offer::{FlightNumber, Offer, OfferQuery, Offers, Segment, Slice};
use crate::retry::{self, Safety};
use crate::{ProviderError, Secret};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use spontra_domain::{AirportCode, Cabin, CarrierCode, CurrencyCode, Money};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// The API version this client speaks (the `Duffel-Version` header).
pub const VERSION: &str = "v2";

#[derive(Clone, Debug)]
pub struct DuffelConfig {
    /// The provider's name beside its prices.
    pub name: String,
    /// `https://api.duffel.com` in production; the simulated network's address in the demo.
    pub base_url: Url,
    pub access_token: Secret,
}

pub struct DuffelClient {
    config: DuffelConfig,
    http: reqwest::Client,
    endpoint: Url,
}

impl DuffelClient {
    pub fn new(config: DuffelConfig) -> Result<Self, ProviderError> {
        let endpoint = config
            .base_url
            .join("air/offer_requests")
            .map_err(|e| ProviderError::Config(format!("Duffel base URL: {e}")))?;
        Ok(DuffelClient {
            http: crate::http_client()?,
            endpoint,
            config,
        })
    }

    /// The offer request's body for `q`.
    pub fn request_body(q: &OfferQuery) -> Value {
        let mut slices = vec![json!({
            "origin": q.origin.as_str(),
            "destination": q.destination.as_str(),
            "departure_date": q.departure_date.to_string(),
        })];
        if let Some(back) = q.return_date {
            slices.push(json!({
                "origin": q.destination.as_str(),
                "destination": q.origin.as_str(),
                "departure_date": back.to_string(),
            }));
        }
        let p = q.passengers;
        let passengers: Vec<Value> =
            std::iter::repeat_n(json!({"type": "adult"}), p.adults().into())
                .chain(std::iter::repeat_n(json!({"age": 8}), p.children().into()))
                .chain(std::iter::repeat_n(
                    json!({"type": "infant_without_seat"}),
                    p.infants().into(),
                ))
                .collect();
        json!({"data": {
            "slices": slices,
            "passengers": passengers,
            "cabin_class": q.cabin.as_str(),
            "max_connections": q.max_connections,
        }})
    }
}

#[async_trait::async_trait]
impl crate::Provider for DuffelClient {
    fn name(&self) -> &str {
        &self.config.name
    }

    async fn search(&self, q: &OfferQuery, deadline: Duration) -> Result<Offers, ProviderError> {
        let name = &self.config.name;
        let until = Instant::now() + deadline;
        let supplier_ms = deadline
            .saturating_sub(Duration::from_secs(1))
            .as_millis()
            .clamp(2_000, 60_000);
        let mut url = self.endpoint.clone();
        url.query_pairs_mut()
            .append_pair("return_offers", "true")
            .append_pair("supplier_timeout", &supplier_ms.to_string());
        let body = Self::request_body(q);
        let answer = retry::within(until, Safety::Creates, |left| {
            let request = self
                .http
                .post(url.clone())
                .bearer_auth(self.config.access_token.expose())
                .header("Duffel-Version", VERSION)
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&body)
                .timeout(left);
            crate::send(name, request, left)
        })
        .await?;
        read_offers(name, &answer.body)
    }
}

#[derive(Deserialize)]
struct Envelope {
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    offers: Vec<Value>,
}

#[derive(Deserialize)]
struct RawOffer {
    id: String,
    total_amount: String,
    total_currency: String,
    #[serde(default)]
    expires_at: Option<String>,
    owner: Code,
    slices: Vec<RawSlice>,
}

#[derive(Deserialize)]
struct Code {
    iata_code: String,
}

#[derive(Deserialize)]
struct RawSlice {
    segments: Vec<RawSegment>,
    #[serde(default)]
    fare_brand_name: Option<String>,
}

#[derive(Deserialize)]
struct RawSegment {
    origin: Code,
    destination: Code,
    departing_at: String,
    arriving_at: String,
    marketing_carrier: Code,
    marketing_carrier_flight_number: String,
    #[serde(default)]
    operating_carrier: Option<Code>,
    #[serde(default)]
    operating_carrier_flight_number: Option<String>,
    #[serde(default)]
    passengers: Vec<SegmentPassenger>,
}

#[derive(Deserialize)]
struct SegmentPassenger {
    #[serde(default)]
    cabin_class: Option<String>,
}

/// Duffel's offers from an offer request's answer; an offer that does not read is skipped
/// with its id and why.
pub fn read_offers(provider: &str, body: &[u8]) -> Result<Offers, ProviderError> {
    let envelope: Envelope = crate::parse(provider, body)?;
    Ok(crate::read_each::<RawOffer>(
        provider,
        envelope.data.offers,
        offer,
    ))
}

fn offer(provider: &str, o: RawOffer) -> Result<Offer, String> {
    let currency =
        CurrencyCode::parse(&o.total_currency).map_err(|e| format!("total_currency: {e}"))?;
    let total = Money::parse_decimal(&o.total_amount, currency)
        .map_err(|e| format!("total_amount: {e}"))?;
    if total.minor <= 0 {
        return Err("total_amount: not positive".into());
    }
    let expires_at = o
        .expires_at
        .as_deref()
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| format!("expires_at: {e}"))
        })
        .transpose()?;
    let slices = o
        .slices
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            if s.segments.is_empty() {
                return Err(format!("slices[{i}]: no segments"));
            }
            let segments = s
                .segments
                .into_iter()
                .enumerate()
                .map(|(j, g)| segment(g).map_err(|e| format!("slices[{i}].segments[{j}].{e}")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Slice {
                segments,
                fare_brand: s.fare_brand_name.filter(|b| !b.trim().is_empty()),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if slices.is_empty() {
        return Err("no slices".into());
    }
    Ok(Offer {
        provider: provider.to_string(),
        id: o.id,
        owner: carrier(&o.owner.iata_code).map_err(|e| format!("owner.{e}"))?,
        slices,
        total,
        expires_at,
        seats_left: None,
    })
}

fn carrier(code: &str) -> Result<CarrierCode, String> {
    CarrierCode::parse(code).map_err(|e| format!("iata_code: {e}"))
}

fn airport(code: &str) -> Result<AirportCode, String> {
    AirportCode::parse(code).map_err(|e| format!("iata_code: {e}"))
}

/// A flight number as providers write it (`"117"`), 1–9999.
pub(crate) fn flight_number(s: &str) -> Result<u16, String> {
    s.trim()
        .parse::<u16>()
        .ok()
        .filter(|n| (1..=9999).contains(n))
        .ok_or_else(|| format!("{s:?} is not a flight number"))
}

/// A local time as providers write it (`2026-12-18T09:05:00`, with or without seconds or an
/// offset — the local time is what is kept).
pub(crate) fn local_time(s: &str) -> Result<NaiveDateTime, String> {
    s.parse::<NaiveDateTime>()
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
        .or_else(|_| DateTime::parse_from_rfc3339(s).map(|t| t.naive_local()))
        .map_err(|_| format!("{s:?} is not a local date and time"))
}

fn segment(g: RawSegment) -> Result<Segment, String> {
    let marketing = FlightNumber {
        carrier: carrier(&g.marketing_carrier.iata_code)
            .map_err(|e| format!("marketing_carrier.{e}"))?,
        number: flight_number(&g.marketing_carrier_flight_number)
            .map_err(|e| format!("marketing_carrier_flight_number: {e}"))?,
    };
    let operating_carrier = match &g.operating_carrier {
        Some(c) => carrier(&c.iata_code).map_err(|e| format!("operating_carrier.{e}"))?,
        None => marketing.carrier,
    };
    let operating_number = g
        .operating_carrier_flight_number
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(flight_number)
        .transpose()
        .map_err(|e| format!("operating_carrier_flight_number: {e}"))?;
    let departing_at = local_time(&g.departing_at).map_err(|e| format!("departing_at: {e}"))?;
    let arriving_at = local_time(&g.arriving_at).map_err(|e| format!("arriving_at: {e}"))?;
    Ok(Segment {
        origin: airport(&g.origin.iata_code).map_err(|e| format!("origin.{e}"))?,
        destination: airport(&g.destination.iata_code).map_err(|e| format!("destination.{e}"))?,
        departing_at,
        arriving_at,
        marketing,
        operating_carrier,
        operating_number,
        cabin: g
            .passengers
            .first()
            .and_then(|p| p.cabin_class.as_deref())
            .and_then(Cabin::from_name),
    })
}
