//! Amadeus Flight Offers Search v2 (`GET /v2/shopping/flight-offers`), authenticated by OAuth2
//! client credentials (`POST /v1/security/oauth2/token`, form-encoded `grant_type`,
//! `client_id`, `client_secret`; answered with `access_token` and `expires_in` seconds).
//!
//! The token is kept and shared by concurrent searches (one renewal at a time, behind a lock),
//! renewed a minute before it expires, and renewed once more if the API answers 401 with it
//! (revoked early). Offers are `data[]` with `id`, `numberOfBookableSeats`, `itineraries[]`
//! of `segments[]` (`departure`/`arrival` `iataCode` and local `at`, `carrierCode`, `number`,
//! `operating.carrierCode`), `price.grandTotal` and `currency`, `validatingAirlineCodes`, and
//! `travelerPricings[].fareDetailsBySegment[]` (`segmentId`, `cabin`, `brandedFare`). Errors
//! are `errors[]` with `status`, `code`, `title`, `detail`; a 429 carries `Retry-After`.

use crate::duffel::{flight_number, local_time};
use crate::offer::{FlightNumber, Offer, OfferQuery, Offers, Segment, Slice};
use crate::retry::{self, Safety};
use crate::{ProviderError, Secret};
use serde::Deserialize;
use spontra_domain::{AirportCode, Cabin, CarrierCode, CurrencyCode, Money};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

/// Offers asked for at most (the API's maximum).
pub const MAX_OFFERS: u32 = 250;
/// A token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
pub struct AmadeusConfig {
    pub name: String,
    /// `https://api.amadeus.com` (or `https://test.api.amadeus.com`); the simulated network's
    /// address in the demo.
    pub base_url: Url,
    pub client_id: String,
    pub client_secret: Secret,
}

struct Token {
    value: Secret,
    expires: Instant,
}

pub struct AmadeusClient {
    config: AmadeusConfig,
    http: reqwest::Client,
    token_url: Url,
    search_url: Url,
    token: Mutex<Option<Token>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

impl AmadeusClient {
    pub fn new(config: AmadeusConfig) -> Result<Self, ProviderError> {
        let join = |path: &str| {
            config
                .base_url
                .join(path)
                .map_err(|e| ProviderError::Config(format!("Amadeus base URL: {e}")))
        };
        Ok(AmadeusClient {
            token_url: join("v1/security/oauth2/token")?,
            search_url: join("v2/shopping/flight-offers")?,
            http: crate::http_client()?,
            token: Mutex::new(None),
            config,
        })
    }

    /// A token valid for at least a minute more: the one held, or a new one (`stale`: the
    /// token the API refused, renewed even if not expired).
    async fn token(&self, until: Instant, stale: Option<&Secret>) -> Result<Secret, ProviderError> {
        let mut held = self.token.lock().await;
        if let Some(t) = held.as_ref() {
            if Some(&t.value) != stale && t.expires > Instant::now() + RENEW_BEFORE {
                return Ok(t.value.clone());
            }
        }
        let name = &self.config.name;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose()),
        ];
        let answer = retry::within(until, Safety::Idempotent, |left| {
            let request = self
                .http
                .post(self.token_url.clone())
                .form(&form)
                .timeout(left);
            crate::send(name, request, left)
        })
        .await?;
        let t: TokenAnswer = crate::parse(name, &answer.body)?;
        let value = Secret::new(t.access_token);
        *held = Some(Token {
            value: value.clone(),
            expires: Instant::now() + Duration::from_secs(t.expires_in),
        });
        tracing::debug!(provider = %name, expires_in = t.expires_in, "new access token");
        Ok(value)
    }

    /// The query string for `q`.
    pub fn query(q: &OfferQuery) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("originLocationCode", q.origin.to_string()),
            ("destinationLocationCode", q.destination.to_string()),
            ("departureDate", q.departure_date.to_string()),
            ("adults", q.passengers.adults().to_string()),
        ];
        if let Some(back) = q.return_date {
            out.push(("returnDate", back.to_string()));
        }
        if q.passengers.children() > 0 {
            out.push(("children", q.passengers.children().to_string()));
        }
        if q.passengers.infants() > 0 {
            out.push(("infants", q.passengers.infants().to_string()));
        }
        out.push(("travelClass", q.cabin.as_str().to_ascii_uppercase()));
        if q.max_connections == 0 {
            out.push(("nonStop", "true".into()));
        }
        if let Some(c) = q.currency {
            out.push(("currencyCode", c.to_string()));
        }
        out.push(("max", MAX_OFFERS.to_string()));
        out
    }
}

#[async_trait::async_trait]
impl crate::Provider for AmadeusClient {
    fn name(&self) -> &str {
        &self.config.name
    }

    async fn search(&self, q: &OfferQuery, deadline: Duration) -> Result<Offers, ProviderError> {
        let name = &self.config.name;
        let until = Instant::now() + deadline;
        let query = Self::query(q);
        let mut stale = None;
        for _ in 0..2 {
            let token = self.token(until, stale.as_ref()).await?;
            let answer = retry::within(until, Safety::Idempotent, |left| {
                let request = self
                    .http
                    .get(self.search_url.clone())
                    .query(&query)
                    .bearer_auth(token.expose())
                    .header(reqwest::header::ACCEPT, "application/vnd.amadeus+json")
                    .timeout(left);
                crate::send(name, request, left)
            })
            .await;
            match answer {
                Ok(a) => {
                    let mut offers = read_offers(name, &a.body)?;
                    // Amadeus filters only non-stop; more connections than asked are dropped.
                    offers.offers.retain(|o| {
                        o.slices
                            .iter()
                            .all(|s| s.segments.len() <= usize::from(q.max_connections) + 1)
                    });
                    return Ok(offers);
                }
                Err(ProviderError::Unauthorized { .. }) if stale.is_none() => stale = Some(token),
                Err(e) => return Err(e),
            }
        }
        Err(ProviderError::Unauthorized {
            provider: name.clone(),
            detail: "a new access token was refused too".into(),
        })
    }
}

#[derive(Deserialize)]
struct Envelope {
    data: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOffer {
    id: String,
    #[serde(default)]
    number_of_bookable_seats: Option<u16>,
    itineraries: Vec<RawItinerary>,
    price: RawPrice,
    #[serde(default)]
    validating_airline_codes: Vec<String>,
    #[serde(default)]
    traveler_pricings: Vec<RawTravelerPricing>,
}

#[derive(Deserialize)]
struct RawItinerary {
    segments: Vec<RawSegment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSegment {
    #[serde(default)]
    id: Option<String>,
    departure: Place,
    arrival: Place,
    carrier_code: String,
    number: String,
    #[serde(default)]
    operating: Option<Operating>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Place {
    iata_code: String,
    at: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Operating {
    #[serde(default)]
    carrier_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPrice {
    currency: String,
    #[serde(default)]
    grand_total: Option<String>,
    total: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTravelerPricing {
    #[serde(default)]
    fare_details_by_segment: Vec<FareDetail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FareDetail {
    segment_id: String,
    #[serde(default)]
    cabin: Option<String>,
    #[serde(default)]
    branded_fare: Option<String>,
}

/// Amadeus' flight offers from a search's answer; an offer that does not read is skipped with
/// its id and why.
pub fn read_offers(provider: &str, body: &[u8]) -> Result<Offers, ProviderError> {
    let envelope: Envelope = crate::parse(provider, body)?;
    Ok(crate::read_each::<RawOffer>(provider, envelope.data, offer))
}

fn code<T>(parse: fn(&str) -> Result<T, spontra_domain::CodeError>, s: &str) -> Result<T, String> {
    parse(s).map_err(|e| e.to_string())
}

fn offer(provider: &str, o: RawOffer) -> Result<Offer, String> {
    let currency =
        code(CurrencyCode::parse, &o.price.currency).map_err(|e| format!("price.currency: {e}"))?;
    let amount = o.price.grand_total.as_deref().unwrap_or(&o.price.total);
    let total =
        Money::parse_decimal(amount, currency).map_err(|e| format!("price.grandTotal: {e}"))?;
    if total.minor <= 0 {
        return Err("price.grandTotal: not positive".into());
    }
    // Each segment's fare details, by segment id (the first traveller's: all share the cabin
    // and brand in one offer).
    let details: HashMap<&str, &FareDetail> = o
        .traveler_pricings
        .first()
        .map(|t| {
            t.fare_details_by_segment
                .iter()
                .map(|d| (d.segment_id.as_str(), d))
                .collect()
        })
        .unwrap_or_default();
    let mut slices = Vec::with_capacity(o.itineraries.len());
    for (i, it) in o.itineraries.iter().enumerate() {
        if it.segments.is_empty() {
            return Err(format!("itineraries[{i}]: no segments"));
        }
        let mut segments = Vec::with_capacity(it.segments.len());
        let mut brand = None;
        for (j, g) in it.segments.iter().enumerate() {
            let at = |e: String| format!("itineraries[{i}].segments[{j}].{e}");
            let detail = g.id.as_deref().and_then(|id| details.get(id));
            if brand.is_none() {
                brand = detail.and_then(|d| d.branded_fare.clone());
            }
            let marketing = FlightNumber {
                carrier: code(CarrierCode::parse, &g.carrier_code)
                    .map_err(|e| at(format!("carrierCode: {e}")))?,
                number: flight_number(&g.number).map_err(|e| at(format!("number: {e}")))?,
            };
            let operating_carrier =
                match g.operating.as_ref().and_then(|o| o.carrier_code.as_deref()) {
                    Some(c) => code(CarrierCode::parse, c)
                        .map_err(|e| at(format!("operating.carrierCode: {e}")))?,
                    None => marketing.carrier,
                };
            segments.push(Segment {
                origin: code(AirportCode::parse, &g.departure.iata_code)
                    .map_err(|e| at(format!("departure.iataCode: {e}")))?,
                destination: code(AirportCode::parse, &g.arrival.iata_code)
                    .map_err(|e| at(format!("arrival.iataCode: {e}")))?,
                departing_at: local_time(&g.departure.at)
                    .map_err(|e| at(format!("departure.at: {e}")))?,
                arriving_at: local_time(&g.arrival.at)
                    .map_err(|e| at(format!("arrival.at: {e}")))?,
                marketing,
                operating_carrier,
                operating_number: None,
                cabin: detail
                    .and_then(|d| d.cabin.as_deref())
                    .and_then(|c| Cabin::from_name(&c.to_ascii_lowercase())),
            });
        }
        slices.push(Slice {
            segments,
            fare_brand: brand.filter(|b| !b.trim().is_empty()),
        });
    }
    if slices.is_empty() {
        return Err("no itineraries".into());
    }
    let owner = match o.validating_airline_codes.first() {
        Some(c) => {
            code(CarrierCode::parse, c).map_err(|e| format!("validatingAirlineCodes[0]: {e}"))?
        }
        None => slices[0].segments[0].marketing.carrier,
    };
    Ok(Offer {
        provider: provider.to_string(),
        id: o.id,
        owner,
        slices,
        total,
        expires_at: None,
        seats_left: o.number_of_bookable_seats,
    })
}
