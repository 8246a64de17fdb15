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
//! - [`DUFFEL_SCHEDULE_V1`] and [`AMADEUS_SCHEDULE_V1`]: a change to one flight's schedule —
//!   cancelled, retimed (with the departure before the change) or added (with its opening
//!   economy fare and seats) — with the departure and arrival as scheduled now, in the same
//!   two vocabularies (Duffel's `change_type`, `departing_at`, `arriving_at`,
//!   `previous_departing_at`; Amadeus' `flightDesignator`, `scheduledDepartureDate`,
//!   `departure.at`/`previousAt`, `arrival.at`, `status`).
//!
//! All carry the local departure date and the departure instant. What is refused is refused
//! with a stable code and the field at fault (the dead-letter reason): an unknown type or
//! version, JSON that does not parse or lacks a field, an unknown airport or carrier, a price
//! that is not positive or not in an ISO 4217 currency, a departure already gone or beyond
//! the sales window.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use spontra_domain::{is_iso_4217, AirportCode, Cabin, CarrierCode, CurrencyCode, Money};
use spontra_events::cloudevents::CloudEvent;
use spontra_refdata::RefData;
use spontra_store::{FareObservation, ScheduleKind, ScheduleObservation};

pub const DUFFEL_FARE_V1: &str = "dev.spontra.feed.duffel.fare.v1";
pub const AMADEUS_FARE_V1: &str = "dev.spontra.feed.amadeus.fare.v1";
pub const DUFFEL_SCHEDULE_V1: &str = "dev.spontra.feed.duffel.schedule.v1";
pub const AMADEUS_SCHEDULE_V1: &str = "dev.spontra.feed.amadeus.schedule.v1";
/// A live search's quote for one flight (see [`LiveQuote`]).
pub const LIVE_QUOTE_V1: &str = "dev.spontra.feed.live.quote.v1";
/// The longest flight a schedule may give (the world's longest is under 19 hours).
const MAX_BLOCK_HOURS: i64 = 45;

/// What a provider event says, validated and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedEvent {
    Fare(FareObservation),
    Schedule(ScheduleObservation),
    /// A live quote for a flight that did not say how many seats are left at its price: the
    /// flight's fare as observed, its seats those the inventory holds (none held: not
    /// applied).
    Quote(FareObservation),
}

/// [`LIVE_QUOTE_V1`]'s data: a price a provider quoted live search for one flight, one way,
/// for adults only (the unit history, insights and alerts keep: an itinerary's price over
/// several flights, or with children's fares in it, says nothing certain about one flight's
/// fare, and is not published).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct LiveQuote {
    pub provider: String,
    pub offer_id: String,
    /// The operating carrier and its flight number.
    pub carrier: String,
    pub flight_number: String,
    pub origin: String,
    pub destination: String,
    /// Local departure date, and the departure instant (RFC 3339).
    pub departure_date: String,
    pub departing_at: String,
    pub cabin: String,
    /// For all the adults (`adults`).
    pub total_amount: String,
    pub total_currency: String,
    pub adults: u32,
    /// Seats at this price, when the provider says (Amadeus does, Duffel does not).
    pub available_seats: Option<i64>,
}
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

#[derive(Deserialize)]
struct DuffelSchedule {
    owner: Iata,
    marketing_carrier_flight_number: String,
    origin: Iata,
    destination: Iata,
    departure_date: String,
    change_type: String,
    departing_at: String,
    arriving_at: String,
    #[serde(default)]
    previous_departing_at: Option<String>,
    #[serde(default)]
    total_amount: Option<String>,
    #[serde(default)]
    total_currency: Option<String>,
    #[serde(default)]
    available_seats: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmadeusDesignator {
    carrier_code: String,
    flight_number: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmadeusTimedPoint {
    iata_code: String,
    at: String,
    #[serde(default)]
    previous_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmadeusSchedule {
    flight_designator: AmadeusDesignator,
    scheduled_departure_date: String,
    departure: AmadeusTimedPoint,
    arrival: AmadeusTimedPoint,
    status: String,
    #[serde(default)]
    price: Option<AmadeusPrice>,
    #[serde(default)]
    number_of_bookable_seats: Option<i64>,
}

/// A schedule change's fields, still as sent.
struct RawSchedule<'a> {
    flight: RawFlight<'a>,
    kind: &'a str,
    departure_at: &'a str,
    arrival_at: &'a str,
    previous_departure_at: Option<&'a str>,
    amount: Option<&'a str>,
    currency: Option<&'a str>,
    seats: Option<i64>,
}

/// What names a flight, still as sent: carrier, number, route, local date and the departure
/// it was scheduled at.
struct RawFlight<'a> {
    carrier: &'a str,
    flight_number: &'a str,
    origin: &'a str,
    destination: &'a str,
    departure_date: &'a str,
    departure_at: &'a str,
}

/// A flight named by a valid carrier, number, route and dates.
struct Flight {
    carrier: CarrierCode,
    flight_number: u16,
    origin: AirportCode,
    destination: AirportCode,
    departure_date: NaiveDate,
    departure_at: DateTime<Utc>,
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
) -> Result<FeedEvent, Rejection> {
    let observed_at = event
        .time
        .ok_or_else(|| Rejection::new("invalid_envelope", "time", "a feed event needs its time"))?;
    match event.type_.as_str() {
        DUFFEL_FARE_V1 => {
            let f: DuffelFare = parse_json(&event.data)?;
            check_fare(
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
            .map(FeedEvent::Fare)
        }
        AMADEUS_FARE_V1 => {
            let f: AmadeusFare = parse_json(&event.data)?;
            let missing = |field: &str| Rejection::new("malformed_payload", field, "missing field");
            check_fare(
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
            .map(FeedEvent::Fare)
        }
        LIVE_QUOTE_V1 => {
            let q: LiveQuote = parse_json(&event.data)?;
            if !(1..=9).contains(&q.adults) {
                return Err(Rejection::new(
                    "invalid_field",
                    "adults",
                    format!("{} adults? 1 to 9 travel", q.adults),
                ));
            }
            let mut o = check_fare(
                event,
                observed_at,
                refdata,
                now,
                Raw {
                    carrier: &q.carrier,
                    flight_number: &q.flight_number,
                    origin: &q.origin,
                    destination: &q.destination,
                    departure_date: &q.departure_date,
                    departure_at: &q.departing_at,
                    cabin: &q.cabin,
                    amount: &q.total_amount,
                    currency: &q.total_currency,
                    seats: q.available_seats.unwrap_or(0),
                },
            )?;
            // Per adult, rounded half up.
            let adults = i64::from(q.adults);
            o.fare_minor = (o.fare_minor + adults / 2) / adults;
            Ok(match q.available_seats {
                Some(_) => FeedEvent::Fare(o),
                None => FeedEvent::Quote(o),
            })
        }
        DUFFEL_SCHEDULE_V1 => {
            let f: DuffelSchedule = parse_json(&event.data)?;
            check_schedule(
                event,
                observed_at,
                refdata,
                now,
                RawSchedule {
                    flight: RawFlight {
                        carrier: &f.owner.iata_code,
                        flight_number: &f.marketing_carrier_flight_number,
                        origin: &f.origin.iata_code,
                        destination: &f.destination.iata_code,
                        departure_date: &f.departure_date,
                        departure_at: f
                            .previous_departing_at
                            .as_deref()
                            .unwrap_or(&f.departing_at),
                    },
                    kind: &f.change_type,
                    departure_at: &f.departing_at,
                    arrival_at: &f.arriving_at,
                    previous_departure_at: f.previous_departing_at.as_deref(),
                    amount: f.total_amount.as_deref(),
                    currency: f.total_currency.as_deref(),
                    seats: f.available_seats,
                },
            )
            .map(FeedEvent::Schedule)
        }
        AMADEUS_SCHEDULE_V1 => {
            let f: AmadeusSchedule = parse_json(&event.data)?;
            let status = f.status.to_ascii_lowercase();
            check_schedule(
                event,
                observed_at,
                refdata,
                now,
                RawSchedule {
                    flight: RawFlight {
                        carrier: &f.flight_designator.carrier_code,
                        flight_number: &f.flight_designator.flight_number,
                        origin: &f.departure.iata_code,
                        destination: &f.arrival.iata_code,
                        departure_date: &f.scheduled_departure_date,
                        departure_at: f
                            .departure
                            .previous_at
                            .as_deref()
                            .unwrap_or(&f.departure.at),
                    },
                    kind: &status,
                    departure_at: &f.departure.at,
                    arrival_at: &f.arrival.at,
                    previous_departure_at: f.departure.previous_at.as_deref(),
                    amount: f.price.as_ref().map(|p| p.grand_total.as_str()),
                    currency: f.price.as_ref().map(|p| p.currency.as_str()),
                    seats: f.number_of_bookable_seats,
                },
            )
            .map(FeedEvent::Schedule)
        }
        other => Err(Rejection::new(
            "unknown_schema",
            "type",
            format!("{other:?} is not a feed schema this ingestion knows"),
        )),
    }
}

fn check_flight(
    raw: &RawFlight<'_>,
    refdata: &RefData,
    now: DateTime<Utc>,
) -> Result<Flight, Rejection> {
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
    let departure_at = instant("departure_at", raw.departure_at)?;
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
    Ok(Flight {
        carrier,
        flight_number,
        origin,
        destination,
        departure_date,
        departure_at,
    })
}

fn instant(field: &'static str, value: &str) -> Result<DateTime<Utc>, Rejection> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Rejection::new(
                "invalid_field",
                field,
                format!("{value:?} is not an RFC 3339 time"),
            )
        })
}

/// A positive price in an ISO 4217 currency: (minor units, currency).
fn check_price(amount: &str, currency: &str) -> Result<(i64, CurrencyCode), Rejection> {
    let currency = CurrencyCode::parse(currency)
        .ok()
        .filter(|c| is_iso_4217(*c))
        .ok_or_else(|| {
            Rejection::new(
                "unknown_currency",
                "currency",
                format!("{currency:?} is not an ISO 4217 currency"),
            )
        })?;
    let price = Money::parse_decimal(amount, currency)
        .map_err(|e| Rejection::new("invalid_price", "amount", e.to_string()))?;
    if price.minor <= 0 {
        return Err(Rejection::new(
            "invalid_price",
            "amount",
            format!("{amount:?} is not a positive price"),
        ));
    }
    Ok((price.minor, currency))
}

fn check_seats(seats: i64) -> Result<i32, Rejection> {
    i32::try_from(seats)
        .ok()
        .filter(|s| (0..=1000).contains(s))
        .ok_or_else(|| Rejection::new("invalid_field", "seats", format!("{seats} seats left?")))
}

fn check_fare(
    event: &CloudEvent,
    observed_at: DateTime<Utc>,
    refdata: &RefData,
    now: DateTime<Utc>,
    raw: Raw<'_>,
) -> Result<FareObservation, Rejection> {
    let flight = check_flight(
        &RawFlight {
            carrier: raw.carrier,
            flight_number: raw.flight_number,
            origin: raw.origin,
            destination: raw.destination,
            departure_date: raw.departure_date,
            departure_at: raw.departure_at,
        },
        refdata,
        now,
    )?;
    let cabin = Cabin::parse(raw.cabin).ok_or_else(|| {
        Rejection::new(
            "invalid_field",
            "cabin",
            format!("{:?} is not a cabin", raw.cabin),
        )
    })?;
    let (fare_minor, currency) = check_price(raw.amount, raw.currency)?;
    let seats_left = check_seats(raw.seats)?;
    Ok(FareObservation {
        source: event.source.clone(),
        event_id: event.id.clone(),
        carrier: flight.carrier.as_str().to_string(),
        flight_number: flight.flight_number,
        departure_date: flight.departure_date,
        origin: flight.origin.as_str().to_string(),
        destination: flight.destination.as_str().to_string(),
        cabin: cabin.as_str().to_string(),
        fare_minor,
        currency: currency.as_str().to_string(),
        seats_left,
        departure_at: flight.departure_at,
        observed_at,
    })
}

fn check_schedule(
    event: &CloudEvent,
    observed_at: DateTime<Utc>,
    refdata: &RefData,
    now: DateTime<Utc>,
    raw: RawSchedule<'_>,
) -> Result<ScheduleObservation, Rejection> {
    // The flight as it was scheduled (before a retime) must not have left yet.
    let flight = check_flight(&raw.flight, refdata, now)?;
    let kind = ScheduleKind::parse(raw.kind).ok_or_else(|| {
        Rejection::new(
            "invalid_field",
            "change",
            format!("{:?} is not cancelled, retimed or added", raw.kind),
        )
    })?;
    let departure_at = instant("departure_at", raw.departure_at)?;
    let arrival_at = instant("arrival_at", raw.arrival_at)?;
    if arrival_at <= departure_at || arrival_at - departure_at > Duration::hours(MAX_BLOCK_HOURS) {
        return Err(Rejection::new(
            "invalid_field",
            "arrival_at",
            format!("the flight must land after it leaves and within {MAX_BLOCK_HOURS} hours"),
        ));
    }
    let previous_departure_at = match (kind, raw.previous_departure_at) {
        (ScheduleKind::Retimed, Some(_)) => Some(flight.departure_at),
        (ScheduleKind::Retimed, None) => {
            return Err(Rejection::new(
                "malformed_payload",
                "previous_departure_at",
                "a retimed flight needs its departure before the change",
            ))
        }
        _ => None,
    };
    if kind == ScheduleKind::Retimed
        && (departure_at <= now || (departure_at - flight.departure_at).num_hours().abs() > 24)
    {
        return Err(Rejection::new(
            "invalid_field",
            "departure_at",
            "a retimed flight leaves later than now and within a day of its old time",
        ));
    }
    let (mut fare_minor, mut currency, mut seats_left) = (None, None, None);
    if kind == ScheduleKind::Added {
        let missing = |field: &str| {
            Rejection::new(
                "malformed_payload",
                field,
                "an added flight needs its opening fare and seats",
            )
        };
        let (minor, code) = check_price(
            raw.amount.ok_or_else(|| missing("amount"))?,
            raw.currency.ok_or_else(|| missing("currency"))?,
        )?;
        fare_minor = Some(minor);
        currency = Some(code.as_str().to_string());
        seats_left = Some(check_seats(raw.seats.ok_or_else(|| missing("seats"))?)?);
    }
    Ok(ScheduleObservation {
        source: event.source.clone(),
        event_id: event.id.clone(),
        carrier: flight.carrier.as_str().to_string(),
        flight_number: flight.flight_number,
        departure_date: flight.departure_date,
        origin: flight.origin.as_str().to_string(),
        destination: flight.destination.as_str().to_string(),
        kind,
        departure_at,
        arrival_at,
        previous_departure_at,
        fare_minor,
        currency,
        seats_left,
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

/// The payload `type_`'s provider sends for the schedule change `c` ([`normalise`] reads it
/// back to `c`).
pub fn encode_schedule(type_: &str, c: &ScheduleObservation) -> Vec<u8> {
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let amount = match (c.fare_minor, c.currency.as_deref().map(CurrencyCode::parse)) {
        (Some(minor), Some(Ok(code))) => Some(Money::new(minor, code).decimal()),
        (Some(minor), _) => Some(minor.to_string()),
        _ => None,
    };
    let mut value = if type_ == AMADEUS_SCHEDULE_V1 {
        serde_json::json!({
            "flightDesignator": {"carrierCode": c.carrier, "flightNumber": c.flight_number.to_string()},
            "scheduledDepartureDate": c.departure_date.to_string(),
            "departure": {"iataCode": c.origin, "at": at(c.departure_at)},
            "arrival": {"iataCode": c.destination, "at": at(c.arrival_at)},
            "status": c.kind.as_str().to_ascii_uppercase(),
        })
    } else {
        serde_json::json!({
            "owner": {"iata_code": c.carrier},
            "marketing_carrier_flight_number": c.flight_number.to_string(),
            "origin": {"iata_code": c.origin},
            "destination": {"iata_code": c.destination},
            "departure_date": c.departure_date.to_string(),
            "change_type": c.kind.as_str(),
            "departing_at": at(c.departure_at),
            "arriving_at": at(c.arrival_at),
        })
    };
    let amadeus = type_ == AMADEUS_SCHEDULE_V1;
    if let Some(previous) = c.previous_departure_at {
        if amadeus {
            value["departure"]["previousAt"] = at(previous).into();
        } else {
            value["previous_departing_at"] = at(previous).into();
        }
    }
    if let (Some(amount), Some(currency)) = (amount, &c.currency) {
        if amadeus {
            value["price"] = serde_json::json!({"grandTotal": amount, "currency": currency});
            value["numberOfBookableSeats"] = c.seats_left.into();
        } else {
            value["total_amount"] = amount.into();
            value["total_currency"] = currency.as_str().into();
            value["available_seats"] = c.seats_left.into();
        }
    }
    serde_json::to_vec(&value).unwrap_or_default()
}

/// The CloudEvent a provider publishes for the schedule change `c`.
pub fn schedule_event_for(type_: &str, c: &ScheduleObservation) -> CloudEvent {
    let subject = format!("{}{}/{}", c.carrier, c.flight_number, c.departure_date);
    envelope(
        type_,
        &c.source,
        &c.event_id,
        c.observed_at,
        subject,
        encode_schedule(type_, c),
    )
}

/// The event carrying live quote `q`, from `source`, observed at `time`.
pub fn quote_event(source: &str, id: &str, time: DateTime<Utc>, q: &LiveQuote) -> CloudEvent {
    let subject = format!("{}{}/{}", q.carrier, q.flight_number, q.departure_date);
    envelope(
        LIVE_QUOTE_V1,
        source,
        id,
        time,
        subject,
        serde_json::to_vec(q).unwrap_or_default(),
    )
}

/// The CloudEvent a provider publishes for `o`: its source and id, `type_`'s payload.
pub fn event_for(type_: &str, o: &FareObservation) -> CloudEvent {
    let subject = format!("{}{}/{}", o.carrier, o.flight_number, o.departure_date);
    envelope(
        type_,
        &o.source,
        &o.event_id,
        o.observed_at,
        subject,
        encode(type_, o),
    )
}

fn envelope(
    type_: &str,
    source: &str,
    id: &str,
    time: DateTime<Utc>,
    subject: String,
    data: Vec<u8>,
) -> CloudEvent {
    CloudEvent {
        id: id.to_string(),
        source: source.to_string(),
        type_: type_.to_string(),
        time: Some(time),
        subject: Some(subject),
        datacontenttype: Some("application/json".into()),
        data,
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
            assert_eq!(back, FeedEvent::Fare(o.clone()), "{type_}");
        }
    }

    #[test]
    fn a_live_quote_is_a_flights_fare_per_adult_with_its_seats_when_the_provider_says() {
        let refdata = RefData::load().unwrap();
        let quote = LiveQuote {
            provider: "FareFinder".into(),
            offer_id: "7".into(),
            carrier: "BA".into(),
            flight_number: "117".into(),
            origin: "LHR".into(),
            destination: "JFK".into(),
            departure_date: "2026-12-20".into(),
            departing_at: "2026-12-20T09:05:00Z".into(),
            cabin: "economy".into(),
            total_amount: "1234.05".into(),
            total_currency: "EUR".into(),
            adults: 3,
            available_seats: Some(4),
        };
        let at = now() - Duration::seconds(5);
        let read = |q: &LiveQuote| {
            normalise(
                &quote_event("/live/farefinder", "q1", at, q),
                &refdata,
                now(),
            )
        };
        let FeedEvent::Fare(o) = read(&quote).unwrap() else {
            panic!("a fare with its seats")
        };
        assert_eq!(
            (
                o.carrier.as_str(),
                o.flight_number,
                o.fare_minor,
                o.seats_left
            ),
            ("BA", 117, 41_135, 4),
            "1234.05 for three adults: 411.35 each"
        );
        assert_eq!(
            (o.source.as_str(), o.event_id.as_str(), o.observed_at),
            ("/live/farefinder", "q1", at)
        );
        // Without seats: a quote, whose seats the inventory gives.
        let unseated = LiveQuote {
            available_seats: None,
            ..quote.clone()
        };
        assert!(matches!(read(&unseated), Ok(FeedEvent::Quote(o)) if o.fare_minor == 41_135));
        for (bad, code, field) in [
            (
                LiveQuote {
                    adults: 0,
                    ..quote.clone()
                },
                "invalid_field",
                "adults",
            ),
            (
                LiveQuote {
                    total_amount: "-3".into(),
                    ..quote.clone()
                },
                "invalid_price",
                "amount",
            ),
            (
                LiveQuote {
                    origin: "XQZ".into(),
                    ..quote.clone()
                },
                "unknown_airport",
                "origin",
            ),
            (
                LiveQuote {
                    departing_at: "2026-11-20T09:05:00Z".into(),
                    departure_date: "2026-11-20".into(),
                    ..quote.clone()
                },
                "departure_in_past",
                "departure_at",
            ),
        ] {
            let why = read(&bad).unwrap_err();
            assert_eq!((why.code, why.field.as_str()), (code, field), "{why}");
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn schedule_change(kind: ScheduleKind) -> ScheduleObservation {
        let departure = now() + Duration::days(19);
        let added = kind == ScheduleKind::Added;
        ScheduleObservation {
            source: "/providers/farefinder".into(),
            event_id: format!("s-{}", kind.as_str()),
            carrier: "BA".into(),
            flight_number: 117,
            departure_date: NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
            origin: "LHR".into(),
            destination: "JFK".into(),
            kind,
            departure_at: if kind == ScheduleKind::Retimed {
                departure + Duration::minutes(50)
            } else {
                departure
            },
            arrival_at: departure + Duration::minutes(490),
            previous_departure_at: (kind == ScheduleKind::Retimed).then_some(departure),
            fare_minor: added.then_some(38_950),
            currency: added.then(|| "GBP".into()),
            seats_left: added.then_some(9),
            observed_at: now() - Duration::minutes(1),
        }
    }

    #[test]
    fn schedule_changes_read_back_as_sent_in_both_vocabularies() {
        let refdata = RefData::load().unwrap();
        for kind in ScheduleKind::ALL {
            let c = schedule_change(kind);
            for type_ in [DUFFEL_SCHEDULE_V1, AMADEUS_SCHEDULE_V1] {
                let back = normalise(&schedule_event_for(type_, &c), &refdata, now()).unwrap();
                assert_eq!(back, FeedEvent::Schedule(c.clone()), "{type_} {kind:?}");
            }
        }
    }

    /// What a schedule change cannot say: each refused with its code and field.
    #[test]
    fn bad_schedule_changes_are_refused_with_the_field_at_fault() {
        let refdata = RefData::load().unwrap();
        let refused = |c: ScheduleObservation, type_: &str| {
            normalise(&schedule_event_for(type_, &c), &refdata, now()).unwrap_err()
        };
        let at = |code: &'static str, field: &str, r: Rejection| {
            assert_eq!((r.code, r.field.as_str()), (code, field), "{r}");
        };
        for type_ in [DUFFEL_SCHEDULE_V1, AMADEUS_SCHEDULE_V1] {
            let mut c = schedule_change(ScheduleKind::Cancelled);
            c.arrival_at = c.departure_at - Duration::minutes(5);
            at("invalid_field", "arrival_at", refused(c, type_));
            let mut c = schedule_change(ScheduleKind::Cancelled);
            c.departure_at = now() - Duration::hours(2);
            c.arrival_at = now() + Duration::hours(5);
            c.departure_date = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
            at("departure_in_past", "departure_at", refused(c, type_));
            let mut c = schedule_change(ScheduleKind::Retimed);
            c.departure_at += Duration::days(3);
            c.arrival_at = c.departure_at + Duration::hours(8);
            at("invalid_field", "departure_at", refused(c, type_));
            let mut c = schedule_change(ScheduleKind::Added);
            c.fare_minor = Some(0);
            at("invalid_price", "amount", refused(c, type_));
            let mut c = schedule_change(ScheduleKind::Added);
            c.currency = Some("XYZ".into());
            at("unknown_currency", "currency", refused(c, type_));
            let mut c = schedule_change(ScheduleKind::Added);
            c.fare_minor = None;
            at("malformed_payload", "amount", refused(c, type_));
            let mut c = schedule_change(ScheduleKind::Cancelled);
            c.origin = "XQX".into();
            at("unknown_airport", "origin", refused(c, type_));
        }
        // A retime without the old departure; a change of another kind.
        let mut e = schedule_event_for(DUFFEL_SCHEDULE_V1, &schedule_change(ScheduleKind::Retimed));
        let mut v: serde_json::Value = serde_json::from_slice(&e.data).unwrap();
        v.as_object_mut().unwrap().remove("previous_departing_at");
        e.data = serde_json::to_vec(&v).unwrap();
        let r = normalise(&e, &refdata, now()).unwrap_err();
        at("malformed_payload", "previous_departure_at", r);
        v["change_type"] = "diverted".into();
        e.data = serde_json::to_vec(&v).unwrap();
        at(
            "invalid_field",
            "change",
            normalise(&e, &refdata, now()).unwrap_err(),
        );
    }
}
