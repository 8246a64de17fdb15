use crate::index::{AirportInfo, CarrierInfo, Index, Leg, Route};
use crate::{AirportId, CarrierId};
use spontra_domain::{AirportCode, Alliance, CarrierCode, CountryCode, CurrencyCode, UtcMinute};
use std::collections::HashMap;

/// An airport as the engine needs it.
#[derive(Clone, Debug)]
pub struct AirportSpec {
    pub code: AirportCode,
    pub city: Option<AirportCode>,
    pub country: CountryCode,
    pub mct_domestic: u16,
    pub mct_international: u16,
    pub lat: f64,
    pub lon: f64,
    /// UTC offsets in force: (from UTC minute, offset minutes), first entry at or before the
    /// index epoch.
    pub offsets: Vec<(UtcMinute, i32)>,
}

#[derive(Clone, Debug)]
pub struct CarrierSpec {
    pub code: CarrierCode,
    pub alliance: Option<Alliance>,
}

/// One dated leg to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegInput {
    pub carrier: CarrierId,
    pub flight_number: u16,
    pub origin: AirportId,
    pub destination: AirportId,
    pub departure: UtcMinute,
    pub arrival: UtcMinute,
    pub aircraft: u8,
    /// Per-adult fare in minor units for each cabin (economy, premium, business, first);
    /// economy is required.
    pub fares: [Option<u64>; 4],
    pub seats: [u8; 4],
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    #[error("unknown airport id {0}")]
    UnknownAirport(AirportId),
    #[error("unknown carrier id {0}")]
    UnknownCarrier(CarrierId),
    #[error("airport {0} added twice")]
    DuplicateAirport(AirportCode),
    #[error("carrier {0} added twice")]
    DuplicateCarrier(CarrierCode),
    #[error("too many airports (at most 65,535)")]
    TooManyAirports,
    #[error("a leg arrives before it departs or lasts over 45 hours")]
    BadDuration,
    #[error("a leg departs before the index epoch or too far after it")]
    OutOfWindow,
    #[error("a leg has the same origin and destination")]
    SameEnds,
    #[error("a leg has no economy fare, or a fare out of range")]
    BadFare,
}

/// A leg's departure (minutes after `epoch`) and duration, if they make a leg: it lands after
/// it leaves and within 45 hours, and leaves after the epoch and not too far after it.
pub(crate) fn leg_times(
    epoch: UtcMinute,
    departure: UtcMinute,
    arrival: UtcMinute,
) -> Result<(u32, u16), BuildError> {
    let duration = arrival - departure;
    if !(1..=45 * 60).contains(&duration) {
        return Err(BuildError::BadDuration);
    }
    let dep = departure - epoch;
    if dep < 0 || dep > (u32::MAX / 2) as i64 {
        return Err(BuildError::OutOfWindow);
    }
    Ok((dep as u32, duration as u16))
}

impl LegInput {
    /// The leg as the index stores it (times after `epoch`), checked against an index of
    /// `airports` airports and `carriers` carriers.
    pub(crate) fn to_leg(
        &self,
        epoch: UtcMinute,
        airports: usize,
        carriers: usize,
    ) -> Result<Leg, BuildError> {
        let leg = self;
        if leg.origin as usize >= airports {
            return Err(BuildError::UnknownAirport(leg.origin));
        }
        if leg.destination as usize >= airports {
            return Err(BuildError::UnknownAirport(leg.destination));
        }
        if leg.carrier as usize >= carriers {
            return Err(BuildError::UnknownCarrier(leg.carrier));
        }
        if leg.origin == leg.destination {
            return Err(BuildError::SameEnds);
        }
        let (dep, duration) = leg_times(epoch, leg.departure, leg.arrival)?;
        let economy = leg.fares[0].ok_or(BuildError::BadFare)?;
        if economy == 0 || economy > u32::MAX as u64 {
            return Err(BuildError::BadFare);
        }
        let mut cabin_multiplier = [0u8; 3];
        for (m, fare) in cabin_multiplier.iter_mut().zip(&leg.fares[1..]) {
            if let Some(f) = fare {
                // Tenths of the economy fare, rounded, at least 1.0x and at most 25.5x.
                *m = ((f * 10 + economy / 2) / economy).clamp(10, 255) as u8;
            }
        }
        let mut seats = 0u16;
        for (i, s) in leg.seats.iter().enumerate() {
            seats |= ((*s).min(15) as u16) << (i * 4);
        }
        Ok(Leg {
            dep,
            fare: economy as u32,
            origin: leg.origin,
            dest: leg.destination,
            carrier: leg.carrier,
            flight_number: leg.flight_number,
            duration,
            seats,
            cabin_multiplier,
            aircraft: leg.aircraft,
        })
    }
}

/// Collects airports, carriers and legs, then builds the [`Index`].
pub struct IndexBuilder {
    epoch: UtcMinute,
    currency: CurrencyCode,
    airports: Vec<AirportSpec>,
    airport_by_code: HashMap<AirportCode, AirportId>,
    carriers: Vec<CarrierSpec>,
    carrier_by_code: HashMap<CarrierCode, CarrierId>,
    aircraft: Vec<String>,
    legs: Vec<Leg>,
}

impl IndexBuilder {
    /// `epoch` must be at or before the first departure; times are stored relative to it.
    pub fn new(currency: CurrencyCode, epoch: UtcMinute) -> Self {
        Self {
            epoch,
            currency,
            airports: vec![],
            airport_by_code: HashMap::new(),
            carriers: vec![],
            carrier_by_code: HashMap::new(),
            aircraft: vec![],
            legs: vec![],
        }
    }

    pub fn reserve_legs(&mut self, n: usize) {
        self.legs.reserve(n);
    }

    pub fn add_airport(&mut self, spec: AirportSpec) -> Result<AirportId, BuildError> {
        if self.airport_by_code.contains_key(&spec.code) {
            return Err(BuildError::DuplicateAirport(spec.code));
        }
        let id =
            AirportId::try_from(self.airports.len()).map_err(|_| BuildError::TooManyAirports)?;
        self.airport_by_code.insert(spec.code, id);
        self.airports.push(spec);
        Ok(id)
    }

    pub fn airport_id(&self, code: AirportCode) -> Option<AirportId> {
        self.airport_by_code.get(&code).copied()
    }

    pub fn add_carrier(&mut self, spec: CarrierSpec) -> Result<CarrierId, BuildError> {
        if self.carrier_by_code.contains_key(&spec.code) {
            return Err(BuildError::DuplicateCarrier(spec.code));
        }
        let id = self.carriers.len() as CarrierId;
        self.carrier_by_code.insert(spec.code, id);
        self.carriers.push(spec);
        Ok(id)
    }

    pub fn carrier_id(&self, code: CarrierCode) -> Option<CarrierId> {
        self.carrier_by_code.get(&code).copied()
    }

    /// Register an aircraft type name, returning its id (reused if already known).
    pub fn aircraft_id(&mut self, name: &str) -> u8 {
        if let Some(i) = self.aircraft.iter().position(|a| a == name) {
            return i as u8;
        }
        self.aircraft.push(name.to_string());
        (self.aircraft.len() - 1).min(255) as u8
    }

    pub fn add_leg(&mut self, leg: LegInput) -> Result<(), BuildError> {
        let leg = leg.to_leg(self.epoch, self.airports.len(), self.carriers.len())?;
        self.legs.push(leg);
        Ok(())
    }

    pub fn build(self) -> Index {
        let n_airports = self.airports.len();
        let mut by_city: HashMap<AirportCode, Vec<AirportId>> = HashMap::new();
        for (i, a) in self.airports.iter().enumerate() {
            if let Some(c) = a.city {
                by_city.entry(c).or_default().push(i as AirportId);
            }
        }
        // The farthest apart two airports of one city are: a change of airports flies nothing,
        // so the circuity bounds of the search allow for it (see `search`).
        let city_span_km = by_city
            .values()
            .flat_map(|list| {
                list.iter()
                    .flat_map(move |&a| list.iter().map(move |&b| (a, b)))
            })
            .map(|(a, b)| {
                let (a, b) = (&self.airports[a as usize], &self.airports[b as usize]);
                spontra_domain::great_circle_km(a.lat, a.lon, b.lat, b.lon).ceil() as u32
            })
            .max()
            .unwrap_or(0);
        let epoch = self.epoch;
        let airports = self
            .airports
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut offsets: Vec<(u32, i16)> = a
                    .offsets
                    .iter()
                    .map(|&(from, off)| ((from - epoch).max(0) as u32, off as i16))
                    .collect();
                if offsets.is_empty() {
                    offsets.push((0, 0));
                }
                offsets[0].0 = 0;
                AirportInfo {
                    code: a.code,
                    city: a.city,
                    country: a.country,
                    mct_domestic: a.mct_domestic,
                    mct_international: a.mct_international,
                    lat: a.lat,
                    lon: a.lon,
                    offsets,
                    siblings: a
                        .city
                        .and_then(|c| by_city.get(&c))
                        .map(|list| list.iter().copied().filter(|&s| s as usize != i).collect())
                        .unwrap_or_default(),
                }
            })
            .collect();
        let mut index = Index {
            epoch,
            currency: self.currency,
            airports,
            airport_by_code: self.airport_by_code,
            carriers: self
                .carriers
                .into_iter()
                .map(|c| CarrierInfo {
                    code: c.code,
                    alliance: c.alliance,
                })
                .collect(),
            carrier_by_code: self.carrier_by_code,
            aircraft: self.aircraft,
            legs: self.legs,
            routes: vec![],
            routes_from: vec![],
            routes_into: vec![],
            routes_into_ids: vec![],
            day_starts: vec![],
            day_min: vec![],
            longest_flight: 0,
            first_day: 0,
            last_day: 0,
            city_span_km,
            observed: Vec::new(),
        };
        debug_assert_eq!(index.airports.len(), n_airports);
        index.legs.sort_unstable_by_key(Leg::order);
        index.lay_out_sorted();
        index
    }
}

impl Index {
    /// Work out everything derived from the legs, which are in order ([`Leg::order`]):
    /// routes with their bounds, day directories, the routes from and into each airport, the
    /// first and last day.
    pub(crate) fn lay_out_sorted(&mut self) {
        debug_assert!(self
            .legs
            .windows(2)
            .all(|w| Leg::order(&w[0]) <= Leg::order(&w[1])));
        self.legs.shrink_to_fit();
        let n_airports = self.airports.len();
        let mut routes: Vec<Route> = Vec::new();
        let mut day_starts: Vec<u32> = Vec::new();
        let mut day_min: Vec<u32> = Vec::new();
        let mut i = 0usize;
        while i < self.legs.len() {
            let (o, d) = (self.legs[i].origin, self.legs[i].dest);
            let mut j = i;
            let mut min_fare = u32::MAX;
            let mut min_duration = u16::MAX;
            while j < self.legs.len() && self.legs[j].origin == o && self.legs[j].dest == d {
                min_fare = min_fare.min(self.legs[j].fare);
                min_duration = min_duration.min(self.legs[j].duration);
                j += 1;
            }
            let (a, b) = (&self.airports[o as usize], &self.airports[d as usize]);
            let km = spontra_domain::great_circle_km(a.lat, a.lon, b.lat, b.lon);
            let first_day = self.legs[i].dep / 1440;
            let days = self.legs[j - 1].dep / 1440 - first_day + 1;
            let day_base = day_starts.len() as u32;
            let mut k = i;
            for day in first_day..first_day + days {
                while k < j && self.legs[k].dep < day * 1440 {
                    k += 1;
                }
                day_starts.push(k as u32);
                let mut m = k;
                let mut cheapest = u32::MAX;
                while m < j && self.legs[m].dep < (day + 1) * 1440 {
                    cheapest = cheapest.min(self.legs[m].fare);
                    m += 1;
                }
                day_min.push(cheapest);
            }
            routes.push(Route {
                origin: o,
                dest: d,
                start: i as u32,
                end: j as u32,
                min_fare,
                min_duration,
                distance_km: km.round().min(u16::MAX as f64) as u16,
                first_day,
                day_base,
                days,
            });
            i = j;
        }
        let mut routes_from = vec![0u32; n_airports + 1];
        for r in &routes {
            routes_from[r.origin as usize + 1] += 1;
        }
        for a in 0..n_airports {
            routes_from[a + 1] += routes_from[a];
        }
        let mut into: Vec<u32> = (0..routes.len() as u32).collect();
        into.sort_unstable_by_key(|&r| (routes[r as usize].dest, routes[r as usize].origin));
        let mut routes_into = vec![0u32; n_airports + 1];
        for r in &routes {
            routes_into[r.dest as usize + 1] += 1;
        }
        for a in 0..n_airports {
            routes_into[a + 1] += routes_into[a];
        }
        let epoch = self.epoch;
        let first = self.legs.iter().map(|l| l.dep).min().unwrap_or(0) as i64 + epoch;
        let last = self.legs.iter().map(|l| l.dep).max().unwrap_or(0) as i64 + epoch;
        self.routes = routes;
        self.routes_from = routes_from;
        self.routes_into = routes_into;
        self.routes_into_ids = into;
        self.day_starts = day_starts;
        self.day_min = day_min;
        self.longest_flight = self
            .legs
            .iter()
            .map(|l| l.duration as u32)
            .max()
            .unwrap_or(0);
        self.first_day = first.div_euclid(1440) * 1440;
        self.last_day = last.div_euclid(1440) * 1440;
    }
}
