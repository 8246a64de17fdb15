//! Putting the same flights side by side: offers from any number of providers, merged into
//! itineraries, each with a price from every provider that sells it.
//!
//! Two offers are the same itinerary when every segment of every slice is the same flight as
//! flown: the same **operating carrier**, leaving the same airport for the same airport at the
//! same **local departure date and time**. That identifies a flight as its operating flight
//! number and date do (an airline does not fly two flights between the same airports in the
//! same minute), and it holds across providers that do not all give the operating number:
//! Amadeus names only a codeshare's operating carrier. So a codeshare (AA6135 operated as
//! BA117) and the flight under its own number are one itinerary, and so are one provider's
//! fare brands of it (Basic, Standard, Flex).
//!
//! An itinerary keeps, per provider, its cheapest fare and the provider's other fare brands;
//! providers are sorted by price (compared in euros at the rates the caller gives), and
//! itineraries by their lowest price.

use crate::offer::{Offer, Slice};
use chrono::{DateTime, NaiveDateTime, Utc};
use spontra_domain::{AirportCode, CarrierCode, Money};
use std::collections::HashMap;

/// One flight as flown, as far as merging is concerned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlownSegment {
    pub operating_carrier: CarrierCode,
    pub origin: AirportCode,
    pub destination: AirportCode,
    pub departing_at: NaiveDateTime,
}

/// An itinerary's identity: its slices' flights as flown.
pub type ItineraryKey = Vec<Vec<FlownSegment>>;

/// The key of `offer`'s itinerary.
pub fn key(offer: &Offer) -> ItineraryKey {
    offer
        .slices
        .iter()
        .map(|s| {
            s.segments
                .iter()
                .map(|g| FlownSegment {
                    operating_carrier: g.operating_carrier,
                    origin: g.origin,
                    destination: g.destination,
                    departing_at: g.departing_at,
                })
                .collect()
        })
        .collect()
}

/// One fare of one provider for an itinerary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fare {
    pub offer_id: String,
    /// The slices' fare brands joined (`Basic / Flex`), when the provider names them.
    pub brand: Option<String>,
    pub total: Money,
    /// The total in euro cents, for comparing.
    pub total_eur: i64,
    pub owner: CarrierCode,
    pub expires_at: Option<DateTime<Utc>>,
    pub seats_left: Option<u16>,
}

/// A provider's price for an itinerary: its cheapest fare and its other brands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderPrice {
    pub provider: String,
    pub cheapest: Fare,
    /// The provider's other fares for the same flights, cheapest first.
    pub other_fares: Vec<Fare>,
}

/// Flights sold by one or more providers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Itinerary {
    pub key: ItineraryKey,
    /// The flights as the first offer seen described them (marketing numbers included).
    pub slices: Vec<Slice>,
    /// One per provider, cheapest first.
    pub prices: Vec<ProviderPrice>,
}

impl Itinerary {
    /// The lowest price, in euro cents.
    pub fn lowest_eur(&self) -> i64 {
        self.prices
            .first()
            .map_or(i64::MAX, |p| p.cheapest.total_eur)
    }
}

/// Itineraries built up as providers answer.
#[derive(Default, Debug)]
pub struct Merged {
    by_key: HashMap<ItineraryKey, Itinerary>,
}

/// The slices' fare brands: one name when they agree, else joined (`Basic / Flex`).
fn brand_of(offer: &Offer) -> Option<String> {
    let brands: Vec<&str> = offer
        .slices
        .iter()
        .filter_map(|s| s.fare_brand.as_deref())
        .collect();
    match brands.first() {
        None => None,
        Some(one) if brands.iter().all(|b| b == one) => Some(one.to_string()),
        Some(_) => Some(brands.join(" / ")),
    }
}

impl Merged {
    /// Add offers (`to_eur`: an offer's total in euro cents, `None` when its currency has no
    /// rate — the offer is then left out, and counted in the answer). Returns the keys of the
    /// itineraries added or changed, and how many offers were left out.
    pub fn add(
        &mut self,
        offers: impl IntoIterator<Item = Offer>,
        to_eur: impl Fn(Money) -> Option<i64>,
    ) -> (Vec<ItineraryKey>, usize) {
        let mut changed = vec![];
        let mut left_out = 0;
        for offer in offers {
            let Some(total_eur) = to_eur(offer.total) else {
                left_out += 1;
                continue;
            };
            let k = key(&offer);
            let fare = Fare {
                brand: brand_of(&offer),
                offer_id: offer.id.clone(),
                total: offer.total,
                total_eur,
                owner: offer.owner,
                expires_at: offer.expires_at,
                seats_left: offer.seats_left,
            };
            let it = self.by_key.entry(k.clone()).or_insert_with(|| Itinerary {
                key: k.clone(),
                slices: offer.slices.clone(),
                prices: vec![],
            });
            match it.prices.iter_mut().find(|p| p.provider == offer.provider) {
                Some(p) => {
                    // The same offer again (a provider answering twice) changes nothing.
                    if p.cheapest.offer_id == fare.offer_id
                        || p.other_fares.iter().any(|f| f.offer_id == fare.offer_id)
                    {
                        continue;
                    }
                    if fare.total_eur < p.cheapest.total_eur {
                        let was = std::mem::replace(&mut p.cheapest, fare);
                        p.other_fares.push(was);
                    } else {
                        p.other_fares.push(fare);
                    }
                    p.other_fares.sort_by(|a, b| {
                        (a.total_eur, &a.offer_id).cmp(&(b.total_eur, &b.offer_id))
                    });
                }
                None => it.prices.push(ProviderPrice {
                    provider: offer.provider.clone(),
                    cheapest: fare,
                    other_fares: vec![],
                }),
            }
            it.prices.sort_by(|a, b| {
                (a.cheapest.total_eur, &a.provider).cmp(&(b.cheapest.total_eur, &b.provider))
            });
            if !changed.contains(&k) {
                changed.push(k);
            }
        }
        (changed, left_out)
    }

    /// Every itinerary, cheapest first (then by departure).
    pub fn sorted(&self) -> Vec<&Itinerary> {
        let mut all: Vec<&Itinerary> = self.by_key.values().collect();
        all.sort_by(|a, b| (a.lowest_eur(), &a.key).cmp(&(b.lowest_eur(), &b.key)));
        all
    }

    pub fn get(&self, key: &ItineraryKey) -> Option<&Itinerary> {
        self.by_key.get(key)
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::offer::{FlightNumber, Segment};
    use spontra_domain::CurrencyCode;

    fn segment(marketing: &str, operating: &str, at: &str) -> Segment {
        let code = |s: &str| CarrierCode::parse(&s[..2]).unwrap();
        Segment {
            origin: AirportCode::parse("LHR").unwrap(),
            destination: AirportCode::parse("JFK").unwrap(),
            departing_at: at.parse().unwrap(),
            arriving_at: "2026-12-18T12:10:00".parse().unwrap(),
            marketing: FlightNumber {
                carrier: code(marketing),
                number: marketing[2..].parse().unwrap(),
            },
            operating_carrier: code(operating),
            operating_number: None,
            cabin: None,
        }
    }

    fn offer(
        provider: &str,
        id: &str,
        seg: Segment,
        brand: Option<&str>,
        amount: &str,
        cur: &str,
    ) -> Offer {
        let currency = CurrencyCode::parse(cur).unwrap();
        Offer {
            provider: provider.into(),
            id: id.into(),
            owner: seg.marketing.carrier,
            slices: vec![Slice {
                segments: vec![seg],
                fare_brand: brand.map(str::to_string),
            }],
            total: Money::parse_decimal(amount, currency).unwrap(),
            expires_at: None,
            seats_left: None,
        }
    }

    /// Euros as they are; pounds at 1.17; nothing else.
    fn to_eur(m: Money) -> Option<i64> {
        match m.currency.as_str() {
            "EUR" => Some(m.minor),
            "GBP" => Some((m.minor as f64 * 1.17).round() as i64),
            _ => None,
        }
    }

    const NINE: &str = "2026-12-18T09:05:00";

    #[test]
    fn codeshares_and_fare_brands_of_one_flight_are_one_itinerary_priced_per_provider() {
        let mut m = Merged::default();
        let (changed, left_out) = m.add(
            [
                offer(
                    "Duffel",
                    "d1",
                    segment("BA117", "BA", NINE),
                    Some("Basic"),
                    "412.30",
                    "GBP",
                ),
                offer(
                    "Duffel",
                    "d2",
                    segment("AA6135", "BA", NINE),
                    Some("Main Cabin"),
                    "455.30",
                    "GBP",
                ),
                offer(
                    "Duffel",
                    "d3",
                    segment("BA117", "BA", NINE),
                    Some("Flex"),
                    "399.00",
                    "GBP",
                ),
                offer(
                    "Amadeus",
                    "a1",
                    segment("AA6135", "BA", NINE),
                    Some("BASIC"),
                    "470.00",
                    "EUR",
                ),
                // Another flight: BA a few hours later.
                offer(
                    "Amadeus",
                    "a2",
                    segment("BA175", "BA", "2026-12-18T13:45:00"),
                    None,
                    "300.00",
                    "EUR",
                ),
                offer(
                    "Amadeus",
                    "a3",
                    segment("BA117", "BA", NINE),
                    None,
                    "52000",
                    "JPY",
                ),
            ],
            to_eur,
        );
        assert_eq!((changed.len(), left_out), (2, 1));
        assert_eq!(m.len(), 2);
        let sorted = m.sorted();
        assert_eq!(
            sorted[0].prices[0].cheapest.offer_id, "a2",
            "the cheaper itinerary first"
        );
        let ba117 = sorted[1];
        let providers: Vec<(&str, &str, i64)> = ba117
            .prices
            .iter()
            .map(|p| {
                (
                    p.provider.as_str(),
                    p.cheapest.offer_id.as_str(),
                    p.cheapest.total_eur,
                )
            })
            .collect();
        assert_eq!(
            providers,
            [("Duffel", "d3", 46_683), ("Amadeus", "a1", 47_000)]
        );
        let duffel = &ba117.prices[0];
        assert_eq!(duffel.cheapest.brand.as_deref(), Some("Flex"));
        let others: Vec<&str> = duffel
            .other_fares
            .iter()
            .map(|f| f.offer_id.as_str())
            .collect();
        assert_eq!(others, ["d1", "d2"]);
        // The same answer again changes nothing.
        let before = m.sorted().into_iter().cloned().collect::<Vec<_>>();
        let (changed, _) = m.add(
            [offer(
                "Duffel",
                "d1",
                segment("BA117", "BA", NINE),
                Some("Basic"),
                "412.30",
                "GBP",
            )],
            to_eur,
        );
        assert_eq!(changed.len(), 0);
        assert_eq!(m.sorted().into_iter().cloned().collect::<Vec<_>>(), before);
    }

    #[test]
    fn a_flight_by_another_operator_or_at_another_time_is_another_itinerary() {
        let mut m = Merged::default();
        m.add(
            [
                offer(
                    "Duffel",
                    "d1",
                    segment("BA117", "BA", NINE),
                    None,
                    "400.00",
                    "EUR",
                ),
                offer(
                    "Duffel",
                    "d2",
                    segment("AA6135", "AA", NINE),
                    None,
                    "400.00",
                    "EUR",
                ),
                offer(
                    "Duffel",
                    "d3",
                    segment("BA117", "BA", "2026-12-19T09:05:00"),
                    None,
                    "400.00",
                    "EUR",
                ),
            ],
            to_eur,
        );
        assert_eq!(m.len(), 3);
    }
}
