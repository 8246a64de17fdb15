use spontra_domain::{AirportCode, Alliance, CarrierCode, CountryCode, CurrencyCode, UtcMinute};
use std::collections::HashMap;

pub type AirportId = u16;
pub type CarrierId = u16;
pub type LegId = u32;

/// One dated flight leg in the hot index: 24 bytes.
///
/// Times are minutes after the index epoch (UTC). Fares are per adult in minor units of the
/// index currency; premium economy, business and first are stored as multiples (in tenths) of
/// the economy fare, 0 meaning the cabin is not sold on this leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Leg {
    pub dep: u32,
    pub fare: u32,
    pub origin: AirportId,
    pub dest: AirportId,
    pub carrier: CarrierId,
    pub flight_number: u16,
    pub duration: u16,
    /// Seats left per cabin (economy, premium, business, first), 4 bits each, capped at 15.
    pub seats: u16,
    pub cabin_multiplier: [u8; 3],
    pub aircraft: u8,
}

/// Size of one leg in the hot index.
pub const LEG_BYTES: usize = std::mem::size_of::<Leg>();

impl Leg {
    /// The order of legs in the index: by route, then departure (then carrier and number).
    pub(crate) fn order(&self) -> (AirportId, AirportId, u32, CarrierId, u16) {
        (
            self.origin,
            self.dest,
            self.dep,
            self.carrier,
            self.flight_number,
        )
    }

    pub fn arr(&self) -> u32 {
        self.dep + self.duration as u32
    }

    /// The per-adult fare in `cabin`, or `None` if that cabin is not sold on this leg.
    pub fn fare_for(&self, cabin: usize) -> Option<u64> {
        if cabin == 0 {
            return Some(self.fare as u64);
        }
        match self.cabin_multiplier[cabin - 1] {
            0 => None,
            m => Some(self.fare as u64 * m as u64 / 10),
        }
    }

    pub fn seats_left(&self, cabin: usize) -> u8 {
        ((self.seats >> (cabin * 4)) & 0xF) as u8
    }
}

/// All legs of one (origin, destination) pair, a contiguous run of the leg array sorted by
/// departure.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub origin: AirportId,
    pub dest: AirportId,
    pub start: u32,
    pub end: u32,
    /// Cheapest economy fare on the route, over all days: a lower bound for pruning.
    pub min_fare: u32,
    pub min_duration: u16,
    pub distance_km: u16,
    /// Day (index minute / 1440) of the route's first departure.
    pub first_day: u32,
    /// Where the route's day directory starts in `Index::day_starts`.
    pub day_base: u32,
    /// Days in the directory (last departure day − first day + 1).
    pub days: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct AirportInfo {
    pub code: AirportCode,
    pub city: Option<AirportCode>,
    pub country: CountryCode,
    pub mct_domestic: u16,
    pub mct_international: u16,
    pub lat: f64,
    pub lon: f64,
    /// (from minute after epoch, UTC offset in minutes), first entry at 0.
    pub offsets: Vec<(u32, i16)>,
    /// Other airports of the same metropolitan city.
    pub siblings: Vec<AirportId>,
}

#[derive(Clone, Debug)]
pub(crate) struct CarrierInfo {
    pub code: CarrierCode,
    pub alliance: Option<Alliance>,
}

/// The inventory index: built once, shared between searches. Fares and seats change through
/// [`Index::apply`] on a private copy (see `update`); the routes, directories and airports
/// never do.
#[derive(Clone)]
pub struct Index {
    pub(crate) epoch: UtcMinute,
    pub(crate) currency: CurrencyCode,
    pub(crate) airports: Vec<AirportInfo>,
    pub(crate) airport_by_code: HashMap<AirportCode, AirportId>,
    pub(crate) carriers: Vec<CarrierInfo>,
    pub(crate) carrier_by_code: HashMap<CarrierCode, CarrierId>,
    pub(crate) aircraft: Vec<String>,
    pub(crate) legs: Vec<Leg>,
    pub(crate) routes: Vec<Route>,
    /// routes[routes_from[a]..routes_from[a+1]] leave airport a, sorted by destination.
    pub(crate) routes_from: Vec<u32>,
    /// route ids arriving at each airport: routes_into_ids[routes_into[a]..routes_into[a+1]].
    pub(crate) routes_into: Vec<u32>,
    pub(crate) routes_into_ids: Vec<u32>,
    /// For each route and each day from its first to its last departure, the id of its first
    /// leg departing that day or later: searches start at the right day, not by bisection.
    pub(crate) day_starts: Vec<u32>,
    /// For each entry of `day_starts`: the cheapest economy fare of the route's legs departing
    /// that day (`u32::MAX`: none). A tighter bound than the route's over all days; updates
    /// keep it exact as they do the route's.
    pub(crate) day_min: Vec<u32>,
    /// The longest flight of any leg, minutes.
    pub(crate) longest_flight: u32,
    pub(crate) first_day: UtcMinute,
    pub(crate) last_day: UtcMinute,
    /// The greatest distance between two airports of one city, km (rounded up).
    pub(crate) city_span_km: u32,
    /// When each leg's fare and seats were last observed: seconds after the epoch plus one
    /// (0: as built). Empty until the first update.
    pub(crate) observed: Vec<u32>,
}

/// A leg with its codes resolved, for presentation.
#[derive(Clone, Debug)]
pub struct LegView {
    pub id: LegId,
    pub carrier: CarrierCode,
    pub flight_number: u16,
    pub origin: AirportCode,
    pub destination: AirportCode,
    pub departure: UtcMinute,
    pub arrival: UtcMinute,
    pub departure_offset: i32,
    pub arrival_offset: i32,
    pub aircraft: String,
    pub distance_km: u32,
    pub duration_minutes: u32,
}

impl Index {
    pub fn currency(&self) -> CurrencyCode {
        self.currency
    }

    pub fn leg_count(&self) -> usize {
        self.legs.len()
    }

    pub fn route_count(&self) -> usize {
        self.routes.len()
    }

    pub fn airport_count(&self) -> usize {
        self.airports.len()
    }

    /// Bytes held by the hot structures: legs, routes and their directories.
    pub fn memory_bytes(&self) -> usize {
        self.legs.capacity() * LEG_BYTES
            + self.routes.capacity() * std::mem::size_of::<Route>()
            + (self.routes_from.capacity()
                + self.routes_into.capacity()
                + self.routes_into_ids.capacity()
                + self.day_starts.capacity()
                + self.day_min.capacity()
                + self.observed.capacity())
                * 4
    }

    /// The first and last UTC day (as minute at midnight) with departures.
    pub fn day_span(&self) -> (UtcMinute, UtcMinute) {
        (self.first_day, self.last_day)
    }

    pub fn airport_id(&self, code: AirportCode) -> Option<AirportId> {
        self.airport_by_code.get(&code).copied()
    }

    pub fn airport_code(&self, id: AirportId) -> AirportCode {
        self.airports[id as usize].code
    }

    pub fn airport_city(&self, id: AirportId) -> Option<AirportCode> {
        self.airports[id as usize].city
    }

    pub fn carrier_id(&self, code: CarrierCode) -> Option<CarrierId> {
        self.carrier_by_code.get(&code).copied()
    }

    pub fn carrier_code(&self, id: CarrierId) -> CarrierCode {
        self.carriers[id as usize].code
    }

    pub fn carrier_alliance(&self, id: CarrierId) -> Option<Alliance> {
        self.carriers[id as usize].alliance
    }

    pub fn carrier_count(&self) -> usize {
        self.carriers.len()
    }

    pub fn leg(&self, id: LegId) -> &Leg {
        &self.legs[id as usize]
    }

    pub fn routes_from(&self, a: AirportId) -> &[Route] {
        let (s, e) = (
            self.routes_from[a as usize] as usize,
            self.routes_from[a as usize + 1] as usize,
        );
        &self.routes[s..e]
    }

    pub(crate) fn route_ids_into(&self, a: AirportId) -> &[u32] {
        let (s, e) = (
            self.routes_into[a as usize] as usize,
            self.routes_into[a as usize + 1] as usize,
        );
        &self.routes_into_ids[s..e]
    }

    /// UTC offset (minutes) at airport `a` at index minute `t`.
    pub(crate) fn offset(&self, a: AirportId, t: u32) -> i32 {
        let offs = &self.airports[a as usize].offsets;
        let mut o = offs.first().map(|x| x.1).unwrap_or(0);
        for &(from, off) in offs.iter().skip(1) {
            if from <= t {
                o = off;
            } else {
                break;
            }
        }
        o as i32
    }

    /// Local (day number since Unix epoch, minute of day) of index minute `t` at airport `a`.
    pub(crate) fn local_day_minute(&self, a: AirportId, t: u32) -> (i64, u16) {
        let local = self.epoch + t as i64 + self.offset(a, t) as i64;
        (local.div_euclid(1440), local.rem_euclid(1440) as u16)
    }

    /// Index minute of a UTC minute, if it lies inside the index's range.
    pub(crate) fn to_index_minute(&self, m: UtcMinute) -> u32 {
        (m - self.epoch).clamp(0, u32::MAX as i64) as u32
    }

    pub fn to_utc(&self, t: u32) -> UtcMinute {
        self.epoch + t as i64
    }

    /// The UTC offset at airport `a` at UTC minute `m`.
    pub fn offset_at(&self, a: AirportId, m: UtcMinute) -> i32 {
        self.offset(a, self.to_index_minute(m))
    }

    /// Legs of one route within `[from, to]` (index minutes of departure), as leg ids: jump
    /// to the first leg of `from`'s day through the day directory, then scan.
    pub(crate) fn legs_between(&self, r: &Route, from: u32, to: u32) -> std::ops::Range<u32> {
        let day = from / 1440;
        let (mut lo, day_end) = if day < r.first_day {
            (r.start, r.start)
        } else if day - r.first_day >= r.days {
            (r.end, r.end)
        } else {
            let at = (r.day_base + day - r.first_day) as usize;
            let end = if day - r.first_day + 1 < r.days {
                self.day_starts[at + 1]
            } else {
                r.end
            };
            (self.day_starts[at], end)
        };
        // Within the day, by bisection (a busy route has dozens of legs a day).
        if lo < day_end {
            let legs = &self.legs[lo as usize..day_end as usize];
            lo += legs.partition_point(|l| l.dep < from) as u32;
        }
        let mut hi = lo;
        while hi < r.end && self.legs[hi as usize].dep <= to {
            hi += 1;
        }
        lo..hi
    }

    /// A lower bound of the economy fare of `route`'s legs departing between index minutes
    /// `from` and `to`: the cheapest of the days they span (`u32::MAX` when none departs on
    /// those days, so nothing can).
    #[inline]
    pub(crate) fn min_fare_between(&self, r: &Route, from: u32, to: u32) -> u32 {
        let first = (from / 1440).max(r.first_day);
        let last = (to / 1440).min(r.first_day + r.days - 1);
        if first > last {
            return u32::MAX;
        }
        let at = |day: u32| (r.day_base + (day - r.first_day)) as usize;
        self.day_min[at(first)..=at(last)]
            .iter()
            .copied()
            .min()
            .unwrap_or(u32::MAX)
    }

    /// Great-circle distance between two airports, whole km (as routes record it).
    pub fn km_between(&self, a: AirportId, b: AirportId) -> u32 {
        let (a, b) = (&self.airports[a as usize], &self.airports[b as usize]);
        spontra_domain::great_circle_km(a.lat, a.lon, b.lat, b.lon).round() as u32
    }

    pub(crate) fn route_distance(&self, leg: &Leg) -> u16 {
        let rs = self.routes_from(leg.origin);
        match rs.binary_search_by_key(&leg.dest, |r| r.dest) {
            Ok(i) => rs[i].distance_km,
            Err(_) => 0,
        }
    }

    /// Every leg's details, codes resolved.
    pub fn leg_view(&self, id: LegId) -> LegView {
        let l = &self.legs[id as usize];
        LegView {
            id,
            carrier: self.carrier_code(l.carrier),
            flight_number: l.flight_number,
            origin: self.airport_code(l.origin),
            destination: self.airport_code(l.dest),
            departure: self.to_utc(l.dep),
            arrival: self.to_utc(l.arr()),
            departure_offset: self.offset(l.origin, l.dep),
            arrival_offset: self.offset(l.dest, l.arr()),
            aircraft: self
                .aircraft
                .get(l.aircraft as usize)
                .cloned()
                .unwrap_or_default(),
            distance_km: self.route_distance(l) as u32,
            duration_minutes: l.duration as u32,
        }
    }

    /// Minimum connection time between two consecutive legs, and the connection's flags, per
    /// the documented rules: the airport's domestic or international MCT; a self-transfer
    /// (carriers neither the same nor allied) adds [`crate::SELF_TRANSFER_EXTRA_MINUTES`]; a
    /// change of airport within a city needs at least [`crate::AIRPORT_CHANGE_MINUTES`].
    pub fn connection_rule(&self, prev: &Leg, next: &Leg) -> (u32, u8) {
        use crate::search::*;
        let mut flags = 0u8;
        let at = &self.airports[next.origin as usize];
        let domestic = self.airports[prev.origin as usize].country == at.country
            && self.airports[prev.dest as usize].country == at.country
            && self.airports[next.dest as usize].country == at.country;
        let mut mct = if domestic {
            at.mct_domestic
        } else {
            at.mct_international
        } as u32;
        if !self.protected(prev.carrier, next.carrier) {
            flags |= FLAG_SELF_TRANSFER;
            mct += SELF_TRANSFER_EXTRA_MINUTES;
        }
        if prev.dest != next.origin {
            flags |= FLAG_AIRPORT_CHANGE;
            mct = mct.max(AIRPORT_CHANGE_MINUTES);
        }
        (mct, flags)
    }

    /// True when a connection between these carriers is protected (same carrier or alliance).
    pub fn protected(&self, a: CarrierId, b: CarrierId) -> bool {
        a == b
            || matches!((self.carrier_alliance(a), self.carrier_alliance(b)), (Some(x), Some(y)) if x == y)
    }

    /// Airports a passenger can continue from after landing at `a`: `a` itself, then the other
    /// airports of its city.
    pub(crate) fn connect_points(&self, a: AirportId) -> impl Iterator<Item = AirportId> + '_ {
        std::iter::once(a).chain(self.airports[a as usize].siblings.iter().copied())
    }

    /// Lowest MCT of any connection at `a` (used to start binary searches early).
    pub(crate) fn min_mct(&self, a: AirportId) -> u32 {
        let at = &self.airports[a as usize];
        at.mct_domestic.min(at.mct_international) as u32
    }

    pub fn airport_lat_lon(&self, a: AirportId) -> (f64, f64) {
        let at = &self.airports[a as usize];
        (at.lat, at.lon)
    }
}
