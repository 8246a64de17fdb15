//! Fare and seat updates: how an index follows the market.
//!
//! An update names one dated leg, its new economy fare (the other cabins keep their multiples
//! of it) and economy seats left, and when that was observed. [`Index::apply`] applies a batch
//! to an index no search is reading (the caller keeps versions: see the search crate's
//! `LiveIndex`), keeping every bound the search prunes with exact: each touched route's
//! cheapest fare is worked out again over its legs, so it is the route's true minimum after
//! the batch, whether fares went up or down. An update older than what the leg already holds
//! is ignored, so batches may be applied again or out of order and the leg still ends with the
//! latest observation.

use crate::index::{AirportId, CarrierId, Index, LegId};
use spontra_domain::UtcMinute;

/// A new economy fare and seat count for one leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FareUpdate {
    pub leg: LegId,
    /// Per adult, minor units of the index currency; never 0.
    pub fare: u32,
    /// Economy seats left (the index keeps at most 15).
    pub seats: u16,
    /// When the provider saw it, seconds since the Unix epoch.
    pub observed: i64,
}

/// What a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateOutcome {
    /// Updates taken (the leg's newest observation so far), changing it or not.
    pub applied: usize,
    /// Legs whose fare or seats changed.
    pub changed: usize,
    /// Updates no newer than what the leg held (late or repeated).
    pub stale: usize,
    /// Updates for legs this index does not hold.
    pub unknown: usize,
}

/// What `Index::observed` holds for an observation at `secs` (seconds since the Unix epoch):
/// seconds after the index epoch plus one, 0 meaning "as built".
fn observed_mark(epoch: UtcMinute, secs: i64) -> u32 {
    (secs - epoch * 60 + 1).clamp(1, u32::MAX as i64) as u32
}

impl Index {
    /// The leg flown by `carrier` `flight_number` from `origin` to `destination` departing at
    /// `departure` (UTC), if the index holds it: the route's day directory, then a short scan.
    pub fn find_leg(
        &self,
        origin: AirportId,
        destination: AirportId,
        departure: UtcMinute,
        carrier: CarrierId,
        flight_number: u16,
    ) -> Option<LegId> {
        let dep = departure - self.epoch;
        if !(0..=u32::MAX as i64).contains(&dep) {
            return None;
        }
        let route = self.route_index(origin, destination)?;
        let dep = dep as u32;
        self.legs_between(&self.routes[route], dep, dep)
            .find(|&id| {
                let l = &self.legs[id as usize];
                l.carrier == carrier && l.flight_number == flight_number
            })
    }

    /// Where the (origin, destination) route sits in `routes`.
    fn route_index(&self, origin: AirportId, destination: AirportId) -> Option<usize> {
        let base = *self.routes_from.get(origin as usize)? as usize;
        self.routes_from(origin)
            .binary_search_by_key(&destination, |r| r.dest)
            .ok()
            .map(|i| base + i)
    }

    /// When leg `id`'s fare was last observed (seconds since the Unix epoch), or `None` when it
    /// is still the fare the index was built with.
    pub fn observed_at(&self, id: LegId) -> Option<i64> {
        match self.observed.get(id as usize).copied().unwrap_or(0) {
            0 => None,
            s => Some(self.epoch * 60 + s as i64 - 1),
        }
    }

    /// Apply `updates` (in order) and make the touched routes' bounds exact again.
    pub fn apply(&mut self, updates: &[FareUpdate]) -> UpdateOutcome {
        let mut out = UpdateOutcome::default();
        if updates.is_empty() {
            return out;
        }
        if self.observed.len() != self.legs.len() {
            self.observed = vec![0; self.legs.len()];
        }
        let mut touched = Vec::with_capacity(updates.len());
        for u in updates {
            let Some(leg) = self.legs.get_mut(u.leg as usize) else {
                out.unknown += 1;
                continue;
            };
            let at = observed_mark(self.epoch, u.observed);
            let held = &mut self.observed[u.leg as usize];
            if at < *held || u.fare == 0 {
                out.stale += 1;
                continue;
            }
            *held = at;
            out.applied += 1;
            let seats = (leg.seats & !0xF) | u.seats.min(15);
            if leg.fare != u.fare || leg.seats != seats {
                leg.fare = u.fare;
                leg.seats = seats;
                out.changed += 1;
                touched.push((leg.origin, leg.dest));
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for (o, d) in touched {
            if let Some(r) = self.route_index(o, d) {
                self.exact_bound(r);
            }
        }
        out
    }

    /// Route `r`'s cheapest fare, over all its days and on each, worked out again over its
    /// legs.
    fn exact_bound(&mut self, r: usize) {
        let route = self.routes[r];
        let days =
            &mut self.day_min[route.day_base as usize..(route.day_base + route.days) as usize];
        days.fill(u32::MAX);
        let mut min = u32::MAX;
        for l in &self.legs[route.start as usize..route.end as usize] {
            let day = &mut days[(l.dep / 1440 - route.first_day) as usize];
            *day = (*day).min(l.fare);
            min = min.min(l.fare);
        }
        self.routes[r].min_fare = min;
    }

    /// Every leg `old` holds that this index holds too, as (id in `old`, id here): matched by
    /// what names a flight (carrier, number, route, departure), not by id — ids differ between
    /// builds and layouts.
    pub fn matching_legs(&self, old: &Index) -> Vec<(LegId, LegId)> {
        let airports: Vec<Option<AirportId>> = old
            .airports
            .iter()
            .map(|a| self.airport_id(a.code))
            .collect();
        let carriers: Vec<Option<CarrierId>> = old
            .carriers
            .iter()
            .map(|c| self.carrier_id(c.code))
            .collect();
        // Legs outside this index's days are passed over without a lookup.
        let (first, last) = (self.first_day, self.last_day + 1440);
        old.legs
            .iter()
            .enumerate()
            .filter(|(_, l)| (first..last).contains(&old.to_utc(l.dep)))
            .filter_map(|(i, l)| {
                let id = self.find_leg(
                    airports[l.origin as usize]?,
                    airports[l.dest as usize]?,
                    old.to_utc(l.dep),
                    carriers[l.carrier as usize]?,
                    l.flight_number,
                )?;
                Some((i as LegId, id))
            })
            .collect()
    }

    /// Take over `old`'s fares, seats and observation times for every leg both indexes hold
    /// ([`Index::matching_legs`]), and make every route's bound exact. `self` is a later
    /// window of the same schedule (the bookable window rolled a day on): the days both cover
    /// keep what the market said of them, and only the days new to `self` keep their fares as
    /// built. Returns the legs carried over.
    pub fn carry_from(&mut self, old: &Index) -> usize {
        let pairs = self.matching_legs(old);
        if self.observed.len() != self.legs.len() {
            self.observed = vec![0; self.legs.len()];
        }
        for &(from, to) in &pairs {
            let l = old.legs[from as usize];
            let leg = &mut self.legs[to as usize];
            (leg.fare, leg.seats) = (l.fare, l.seats);
            self.observed[to as usize] = old
                .observed_at(from)
                .map_or(0, |at| observed_mark(self.epoch, at));
        }
        for r in 0..self.routes.len() {
            self.exact_bound(r);
        }
        pairs.len()
    }
}
