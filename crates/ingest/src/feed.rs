//! Provider feeds: the payload shapes providers send, and their validation and normalisation
//! into [`FareObservation`]s. Each provider speaks its own shape, named by the CloudEvent's
//! `type` (schema and version in one):
//!
//! - [`DUFFEL_FARE_V1`]: Duffel's vocabulary — `owner.iata_code`, `marketing_carrier_flight_number`,
//!   `origin.iata_code`, `departing_at`, `cabin_class`, `total_amount` (a decimal string) and
//!   `total_currency`, `available_seats`;
//! - [`AMADEUS_FARE_V1`]: Amadeus Flight Offers' — `carrierCode`, `number`,
//!   `departure.iataCode`/`at`, `arrival.iataCode`, `cabin` (`ECONOMY` …), `price.grandTotal`
//!   and `currency`, `numberOfBookableSeats`.
//!
//! Both carry the local departure date and the departure instant. What is refused is refused
//! with a stable code and the field at fault (the dead-letter reason): an unknown type or
//! version, JSON that does not parse or lacks a field, an unknown airport or carrier, a price
//! that is not positive or not in an ISO 4217 currency, a departure already gone or beyond
//! the sales window.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use spontra_domain::{is_iso_4217, AirportCode, Cabin, CarrierCode, CurrencyCode, Money};
use spontra_events::cloudevents::CloudEvent;
use spontra_refdata::RefData;
use spontra_store::FareObservation;

pub const DUFFEL_FARE_V1: &str = "dev.spontra.feed.duffel.fare.v1";
pub const AMADEUS_FARE_V1: &str = "dev.spontra.feed.amadeus.fare.v1";
/// How far ahead a departure may be (airlines sell about 330 days ahead; a little slack).
pub const MAX_DAYS_AHEAD: i64 = 366;

/// Why an event is not applied: a stable code, the field at fault, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {field}: {message}")]
pub struct Rejection {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl Rejection {
    fn new(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Rejection {
            code,
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
struct Iata {
    iata_code: String,
}

#[derive(Deserialize)]
struct DuffelFare {
    owner: Iata,
    marketing_carrier_flight_number: String,
    origin: Iata,
    destination: Iata,
    departure_date: String,
    departing_at: String,
    cabin_class: String,
    total_amount: String,
    total_currency: String,
    available_seats: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmadeusPoint {
    iata_code: String,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    date: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmadeusPrice {
    grand_total: String,
    currency: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmadeusFare {
    carrier_code: String,
    number: String,
    departure: AmadeusPoint,
    arrival: AmadeusPoint,
    cabin: String,
    price: AmadeusPrice,
    number_of_bookable_seats: i64,
}

/// The fields every shape gives, still as sent.
struct Raw<'a> {
    carrier: &'a str,
    flight_number: &'a str,
    origin: &'a str,
    destination: &'a str,
    departure_date: &'a str,
    departure_at: &'a str,
    cabin: &'a str,
    amount: &'a str,
    currency: &'a str,
    seats: i64,
}

fn parse_json<'a, T: Deserialize<'a>>(data: &'a [u8]) -> Result<T, Rejection> {
    let mut de = serde_json::Deserializer::from_slice(data);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Rejection::new(
            "malformed_payload",
            if path == "." { "data".into() } else { path },
            e.into_inner().to_string(),
        )
    })
}

/// Validate and normalise one event at market time `now`.
pub fn normalise(
    event: &CloudEvent,
    refdata: &RefData,
    now: DateTime<Utc>,
) -> Result<FareObservation, Rejection> {
    let observed_at = event
        .time
        .ok_or_else(|| Rejection::new("invalid_envelope", "time", "a feed event needs its time"))?;
    match event.type_.as_str() {
        DUFFEL_FARE_V1 => {
            let f: DuffelFare = parse_json(&event.data)?;
            check(
                event,
                observed_at,
                refdata,
                now,
                Raw {
                    carrier: &f.owner.iata_code,
                    flight_number: &f.marketing_carrier_flight_number,
                    origin: &f.origin.iata_code,
                    destination: &f.destination.iata_code,
                    departure_date: &f.departure_date,
                    departure_at: &f.departing_at,
                    cabin: &f.cabin_class,
                    amount: &f.total_amount,
                    currency: &f.total_currency,
                    seats: f.available_seats,
                },
            )
        }
        AMADEUS_FARE_V1 => {
            let f: AmadeusFare = parse_json(&event.data)?;
            let missing = |field: &str| Rejection::new("malformed_payload", field, "missing field");
            check(
                event,
                observed_at,
                refdata,
                now,
                Raw {
                    carrier: &f.carrier_code,
                    flight_number: &f.number,
                    origin: &f.departure.iata_code,
                    destination: &f.arrival.iata_code,
                    departure_date: f
                        .departure
                        .date
                        .as_deref()
                        .ok_or_else(|| missing("departure.date"))?,
                    departure_at: f
                        .departure
                        .at
                        .as_deref()
                        .ok_or_else(|| missing("departure.at"))?,
                    cabin: &f.cabin,
                    amount: &f.price.grand_total,
                    currency: &f.price.currency,
                    seats: f.number_of_bookable_seats,
                },
            )
        }
        other => Err(Rejection::new(
            "unknown_schema",
            "type",
            format!("{other:?} is not a feed schema this ingestion knows"),
        )),
    }
}

fn check(
    event: &CloudEvent,
    observed_at: DateTime<Utc>,
    refdata: &RefData,
    now: DateTime<Utc>,
    raw: Raw<'_>,
) -> Result<FareObservation, Rejection> {
    let carrier = CarrierCode::parse(raw.carrier)
        .ok()
        .filter(|c| refdata.airline(*c).is_some())
        .ok_or_else(|| {
            Rejection::new(
                "unknown_carrier",
                "carrier",
                format!("no airline {:?}", raw.carrier),
            )
        })?;
    let flight_number: u16 = raw
        .flight_number
        .parse()
        .ok()
        .filter(|n| (1..=9999).contains(n))
        .ok_or_else(|| {
            Rejection::new(
                "invalid_field",
                "flight_number",
                format!("{:?} is not a flight number (1–9999)", raw.flight_number),
            )
        })?;
    let airport = |field: &'static str, code: &str| {
        AirportCode::parse(code)
            .ok()
            .filter(|a| refdata.airport(*a).is_some())
            .ok_or_else(|| Rejection::new("unknown_airport", field, format!("no airport {code:?}")))
    };
    let origin = airport("origin", raw.origin)?;
    let destination = airport("destination", raw.destination)?;
    if origin == destination {
        return Err(Rejection::new(
            "invalid_field",
            "destination",
            "the flight lands where it left",
        ));
    }
    let departure_date =
        NaiveDate::parse_from_str(raw.departure_date, "%Y-%m-%d").map_err(|_| {
            Rejection::new(
                "invalid_field",
                "departure_date",
                format!("{:?} is not a YYYY-MM-DD date", raw.departure_date),
            )
        })?;
    let departure_at = DateTime::parse_from_rfc3339(raw.departure_at)
        .map_err(|_| {
            Rejection::new(
                "invalid_field",
                "departure_at",
                format!("{:?} is not an RFC 3339 time", raw.departure_at),
            )
        })?
        .with_timezone(&Utc);
    // The local date is at most a day either side of the UTC one.
    if (departure_at.date_naive() - departure_date)
        .num_days()
        .abs()
        > 1
    {
        return Err(Rejection::new(
            "invalid_field",
            "departure_date",
            "the local date does not match the departure time",
        ));
    }
    if departure_at <= now {
        return Err(Rejection::new(
            "departure_in_past",
            "departure_at",
            format!("the flight left at {departure_at}"),
        ));
    }
    if departure_at > now + Duration::days(MAX_DAYS_AHEAD) {
        return Err(Rejection::new(
            "departure_too_far",
            "departure_at",
            format!("more than {MAX_DAYS_AHEAD} days ahead"),
        ));
    }
    let cabin = Cabin::parse(raw.cabin).ok_or_else(|| {
        Rejection::new(
            "invalid_field",
            "cabin",
            format!("{:?} is not a cabin", raw.cabin),
        )
    })?;
    let currency = CurrencyCode::parse(raw.currency)
        .ok()
        .filter(|c| is_iso_4217(*c))
        .ok_or_else(|| {
            Rejection::new(
                "unknown_currency",
                "currency",
                format!("{:?} is not an ISO 4217 currency", raw.currency),
            )
        })?;
    let price = Money::parse_decimal(raw.amount, currency)
        .map_err(|e| Rejection::new("invalid_price", "amount", e.to_string()))?;
    if price.minor <= 0 {
        return Err(Rejection::new(
            "invalid_price",
            "amount",
            format!("{:?} is not a positive price", raw.amount),
        ));
    }
    let seats_left = i32::try_from(raw.seats)
        .ok()
        .filter(|s| (0..=1000).contains(s))
        .ok_or_else(|| {
            Rejection::new(
                "invalid_field",
                "seats",
                format!("{} seats left?", raw.seats),
            )
        })?;
    Ok(FareObservation {
        source: event.source.clone(),
        event_id: event.id.clone(),
        carrier: carrier.as_str().to_string(),
        flight_number,
        departure_date,
        origin: origin.as_str().to_string(),
        destination: destination.as_str().to_string(),
        cabin: cabin.as_str().to_string(),
        fare_minor: price.minor,
        currency: currency.as_str().to_string(),
        seats_left,
        departure_at,
        observed_at,
    })
}

/// The payload `type_`'s provider sends for `o`, in its own vocabulary (what the simulated
/// market publishes; [`normalise`] reads it back to `o`).
pub fn encode(type_: &str, o: &FareObservation) -> Vec<u8> {
    let amount = CurrencyCode::parse(&o.currency)
        .map(|c| Money::new(o.fare_minor, c).decimal())
        .unwrap_or_else(|_| o.fare_minor.to_string());
    let at = o
        .departure_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let date = o.departure_date.to_string();
    let value = if type_ == AMADEUS_FARE_V1 {
        serde_json::json!({
            "carrierCode": o.carrier,
            "number": o.flight_number.to_string(),
            "departure": {"iataCode": o.origin, "at": at, "date": date},
            "arrival": {"iataCode": o.destination},
            "cabin": o.cabin.to_ascii_uppercase(),
            "price": {"grandTotal": amount, "currency": o.currency},
            "numberOfBookableSeats": o.seats_left
        })
    } else {
        serde_json::json!({
            "owner": {"iata_code": o.carrier},
            "marketing_carrier_flight_number": o.flight_number.to_string(),
            "origin": {"iata_code": o.origin},
            "destination": {"iata_code": o.destination},
            "departure_date": date,
            "departing_at": at,
            "cabin_class": o.cabin,
            "total_amount": amount,
            "total_currency": o.currency,
            "available_seats": o.seats_left
        })
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// The CloudEvent a provider publishes for `o`: its source and id, `type_`'s payload.
pub fn event_for(type_: &str, o: &FareObservation) -> CloudEvent {
    CloudEvent {
        id: o.event_id.clone(),
        source: o.source.clone(),
        type_: type_.to_string(),
        time: Some(o.observed_at),
        subject: Some(format!(
            "{}{}/{}",
            o.carrier, o.flight_number, o.departure_date
        )),
        datacontenttype: Some("application/json".into()),
        data: encode(type_, o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_provider_sends_reads_back_as_what_it_observed() {
        let refdata = RefData::load().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let o = FareObservation {
            source: "/providers/skyhub".into(),
            event_id: "42".into(),
            carrier: "BA".into(),
            flight_number: 117,
            departure_date: NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
            origin: "LHR".into(),
            destination: "JFK".into(),
            cabin: "premium_economy".into(),
            fare_minor: 123_405,
            currency: "EUR".into(),
            seats_left: 7,
            departure_at: now + Duration::days(19),
            observed_at: now - Duration::minutes(3),
        };
        for type_ in [DUFFEL_FARE_V1, AMADEUS_FARE_V1] {
            let back = normalise(&event_for(type_, &o), &refdata, now).unwrap();
            assert_eq!(back, o, "{type_}");
        }
    }
}
