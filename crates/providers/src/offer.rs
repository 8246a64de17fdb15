//! What a live search asks and what providers answer, in one shape whichever the provider.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use spontra_domain::{AirportCode, Cabin, CarrierCode, CurrencyCode, Money, Passengers};

/// A search as providers are asked it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferQuery {
    /// IATA airport or city codes (providers expand cities themselves).
    pub origin: AirportCode,
    pub destination: AirportCode,
    pub departure_date: NaiveDate,
    /// A return on this date (a round trip), or one way.
    pub return_date: Option<NaiveDate>,
    pub passengers: Passengers,
    pub cabin: Cabin,
    /// Connections allowed on each way (0: non-stop only).
    pub max_connections: u8,
    /// The currency asked for (providers that can price in it do; others answer in their own).
    pub currency: Option<CurrencyCode>,
}

/// A carrier's flight number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlightNumber {
    pub carrier: CarrierCode,
    pub number: u16,
}

impl std::fmt::Display for FlightNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.carrier, self.number)
    }
}

/// One flight of an offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub origin: AirportCode,
    pub destination: AirportCode,
    /// Local times at the origin and the destination, as providers give them.
    pub departing_at: NaiveDateTime,
    pub arriving_at: NaiveDateTime,
    /// The flight number it is sold under.
    pub marketing: FlightNumber,
    /// The carrier flying it, and its own flight number when the provider gives it (Amadeus
    /// gives only the carrier of a codeshare).
    pub operating_carrier: CarrierCode,
    pub operating_number: Option<u16>,
    pub cabin: Option<Cabin>,
}

impl Segment {
    /// The flight as flown: its operating carrier and number (the marketing number when the
    /// provider gives no operating one and the carrier is the same), and its local date.
    pub fn flown(&self) -> (CarrierCode, Option<u16>, NaiveDate) {
        let number =
            self.operating_number
                .or((self.operating_carrier == self.marketing.carrier)
                    .then_some(self.marketing.number));
        (self.operating_carrier, number, self.departing_at.date())
    }
}

/// One way of an offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slice {
    pub segments: Vec<Segment>,
    /// The fare brand (`Basic`, `Standard`, `Flex` …) when the provider names one.
    pub fare_brand: Option<String>,
}

/// A price for an itinerary from one provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    /// The provider's name ([`crate::Provider::name`]).
    pub provider: String,
    /// The provider's id of the offer.
    pub id: String,
    /// The airline selling it (Duffel's owner, Amadeus' validating carrier).
    pub owner: CarrierCode,
    pub slices: Vec<Slice>,
    /// For all the passengers asked for.
    pub total: Money,
    pub expires_at: Option<DateTime<Utc>>,
    /// Seats at this price, when the provider says (Amadeus' `numberOfBookableSeats`).
    pub seats_left: Option<u16>,
}

/// A provider's answer: its offers, and those it sent that did not read, each with why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offers {
    pub offers: Vec<Offer>,
    pub skipped: Vec<String>,
}
