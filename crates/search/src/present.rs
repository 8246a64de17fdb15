//! Presentation: engine results as the API's DTOs — itineraries with their slices, segments,
//! layovers, per-passenger prices, CO2 and price freshness, local times, and the inventory
//! version that answered.

use crate::dto::*;
use crate::live::Snapshot;
use crate::query::Display;
use crate::SearchService;
use chrono::{DateTime, FixedOffset, NaiveDate};
use spontra_domain::{co2_kg_round, great_circle_km, Cabin, Passengers, UtcMinute};
use spontra_engine::{
    adult_fare, co2_grams_per_passenger, leg_co2_grams, Candidate, ExploreHit, Filters, Index,
    LegId, TripOption,
};

fn rfc3339(t: DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl SearchService {
    pub(crate) fn moment(&self, utc: UtcMinute, offset: i32) -> Moment {
        let dt = DateTime::from_timestamp(utc * 60, 0).unwrap_or_default();
        let local = FixedOffset::east_opt(offset * 60).map(|o| dt.with_timezone(&o).to_rfc3339());
        Moment {
            local: local.unwrap_or_else(|| dt.to_rfc3339()),
            utc: dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            utc_offset_minutes: offset,
        }
    }

    /// Which version answered, at what market time.
    pub(crate) fn stamp(&self, snap: &Snapshot) -> InventoryStamp {
        InventoryStamp {
            version: snap.version,
            as_of: rfc3339(self.clock.now()),
            prices_observed_until: snap.observed_until.map(rfc3339),
        }
    }

    /// When the least recently reported of `legs` was reported, and how long ago.
    pub(crate) fn freshness(
        &self,
        ix: &Index,
        legs: impl IntoIterator<Item = LegId>,
    ) -> (Option<String>, Option<u64>) {
        let oldest = legs
            .into_iter()
            .map(|id| ix.observed_at(id))
            .try_fold(i64::MAX, |m, o| o.map(|o| m.min(o)));
        match oldest.and_then(|s| DateTime::from_timestamp(s, 0)) {
            Some(at) => (
                Some(rfc3339(at)),
                Some((self.clock.now() - at).num_seconds().max(0) as u64),
            ),
            None => (None, None),
        }
    }

    pub(crate) fn itinerary(
        &self,
        ix: &Index,
        o: &TripOption,
        score: f64,
        f: &Filters,
        d: &Display,
    ) -> ItineraryDto {
        let cabin = f.cabin.index();
        // Per-passenger prices are summed slice by slice, exactly as the total is.
        let (mut adult, mut child, mut infant) = (0u64, 0u64, 0u64);
        let mut co2 = 0u64;
        let mut typical = 0u64;
        let mut ids = vec![];
        let slices = o
            .slices
            .iter()
            .map(|c| {
                let legs: Vec<_> = c.legs().iter().map(|&id| ix.leg(id)).collect();
                let fare = adult_fare(ix, &legs, cabin).unwrap_or(0);
                adult += fare;
                child += Passengers::child_fare(fare);
                infant += Passengers::infant_fare(fare);
                let slice = self.slice(ix, c, f.cabin);
                let kms: Vec<u32> = slice.segments.iter().map(|s| s.distance_km).collect();
                co2 += co2_grams_per_passenger(&kms, cabin);
                let (first, last) = (legs[0], legs[legs.len() - 1]);
                let (a, b) = (
                    ix.airport_lat_lon(first.origin),
                    ix.airport_lat_lon(last.dest),
                );
                typical += leg_co2_grams(great_circle_km(a.0, a.1, b.0, b.1).round() as u32, cabin);
                ids.extend(slice.segments.iter().map(|s| {
                    format!("{}-{}", s.flight, &s.departure.local[..10].replace('-', ""))
                }));
                slice
            })
            .collect();
        let p = f.passengers;
        let mut breakdown = vec![PassengerPrice {
            passenger_type: "adult".into(),
            count: p.adults(),
            each: d.price(adult),
        }];
        if p.children() > 0 {
            breakdown.push(PassengerPrice {
                passenger_type: "child".into(),
                count: p.children(),
                each: d.price(child),
            });
        }
        if p.infants() > 0 {
            breakdown.push(PassengerPrice {
                passenger_type: "infant".into(),
                count: p.infants(),
                each: d.price(infant),
            });
        }
        let (price_observed_at, price_age_seconds) =
            self.freshness(ix, o.slices.iter().flat_map(|c| c.legs().to_vec()));
        ItineraryDto {
            id: ids.join("."),
            price: d.price(o.price),
            price_breakdown: breakdown,
            duration_minutes: o.duration(),
            stops: o.stops(),
            pareto: o.pareto,
            score: (score * 1000.0).round() / 1000.0,
            co2_kg: co2_kg_round(co2),
            typical_co2_kg: co2_kg_round(typical),
            price_observed_at,
            price_age_seconds,
            slices,
        }
    }

    pub(crate) fn slice(&self, ix: &Index, c: &Candidate, cabin: Cabin) -> SliceDto {
        let views: Vec<_> = c.legs().iter().map(|&id| ix.leg_view(id)).collect();
        let segments: Vec<Segment> = views
            .iter()
            .map(|v| Segment {
                carrier: v.carrier.to_string(),
                carrier_name: self
                    .refdata
                    .airline(v.carrier)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                flight: format!("{}{}", v.carrier, v.flight_number),
                origin: v.origin.to_string(),
                destination: v.destination.to_string(),
                departure: self.moment(v.departure, v.departure_offset),
                arrival: self.moment(v.arrival, v.arrival_offset),
                duration_minutes: v.duration_minutes,
                aircraft: v.aircraft.clone(),
                distance_km: v.distance_km,
                cabin: cabin.as_str().to_string(),
            })
            .collect();
        let layovers = views
            .windows(2)
            .map(|w| {
                let (a, b) = (ix.leg(w[0].id), ix.leg(w[1].id));
                let (_, flags) = ix.connection_rule(a, b);
                Layover {
                    arrival_airport: w[0].destination.to_string(),
                    departure_airport: w[1].origin.to_string(),
                    duration_minutes: (w[1].departure - w[0].arrival) as u32,
                    self_transfer: flags & spontra_engine::FLAG_SELF_TRANSFER != 0,
                    airport_change: flags & spontra_engine::FLAG_AIRPORT_CHANGE != 0,
                }
            })
            .collect();
        let (first, last) = (&views[0], &views[views.len() - 1]);
        let local_day = |m: UtcMinute, off: i32| (m + off as i64).div_euclid(1440);
        SliceDto {
            origin: first.origin.to_string(),
            destination: last.destination.to_string(),
            departure: self.moment(first.departure, first.departure_offset),
            arrival: self.moment(last.arrival, last.arrival_offset),
            duration_minutes: c.duration(),
            stops: c.stops() as u32,
            arrival_day_offset: local_day(last.arrival, last.arrival_offset)
                - local_day(first.departure, first.departure_offset),
            self_transfer: c.self_transfer(),
            airport_change: c.airport_change(),
            segments,
            layovers,
        }
    }

    /// One destination of an explore: its airport, the best way there and how fresh its
    /// price is (none for an airport the reference data does not show).
    pub(crate) fn destination(
        &self,
        ix: &Index,
        h: &ExploreHit,
        f: &Filters,
        d: &Display,
    ) -> Option<ExploreDestination> {
        let code = ix.airport_code(h.destination);
        let airport = self.reference.airport_dto(code)?;
        let views: Vec<_> = h.best.legs().iter().map(|&id| ix.leg_view(id)).collect();
        let kms: Vec<u32> = views.iter().map(|v| v.distance_km).collect();
        let (price_observed_at, price_age_seconds) =
            self.freshness(ix, h.best.legs().iter().copied());
        let (first, last) = (views.first()?, views.last()?);
        Some(ExploreDestination {
            airport,
            price: d.price(h.best.price),
            duration_minutes: h.best.duration(),
            stops: h.best.stops() as u32,
            departure: self.moment(first.departure, first.departure_offset),
            arrival: self.moment(last.arrival, last.arrival_offset),
            flights: views
                .iter()
                .map(|v| format!("{}{}", v.carrier, v.flight_number))
                .collect(),
            co2_kg: co2_kg_round(co2_grams_per_passenger(&kms, f.cabin.index())),
            price_observed_at,
            price_age_seconds,
        })
    }
}

/// One day of a price calendar: its cheapest itinerary, if any.
pub(crate) fn calendar_day(d: &Display, date: NaiveDate, c: Option<Candidate>) -> CalendarDay {
    CalendarDay {
        date: date.to_string(),
        price: c.map(|c| d.price(c.price)),
        duration_minutes: c.map(|c| c.duration()),
        stops: c.map(|c| c.stops() as u32),
    }
}

/// Destinations grouped by country, cheapest country first (each group keeps the list's order).
pub(crate) fn country_groups(destinations: &[ExploreDestination]) -> Vec<CountryGroup> {
    let mut groups: Vec<CountryGroup> = vec![];
    for d in destinations {
        match groups.iter_mut().find(|g| g.country == d.airport.country) {
            Some(g) => g.destinations.push(d.clone()),
            None => groups.push(CountryGroup {
                country: d.airport.country.clone(),
                country_name: d.airport.country_name.clone(),
                cheapest: d.price.clone(),
                destinations: vec![d.clone()],
            }),
        }
    }
    groups.sort_by_key(|g| g.cheapest.minor);
    groups
}
