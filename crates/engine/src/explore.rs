//! One-to-all "explore": from an origin (or city) over a departure window, the cheapest
//! itinerary to every reachable destination, optionally within a whole-journey duration range
//! (the time-first search: "anywhere 2–4 hours away").
//!
//! Passes run by number of stops (direct first), so each destination's best price is known
//! early and later passes skip any route whose cheapest fare on the days a leg could leave (a
//! lower bound kept per route and day) cannot beat it, or whose fastest flight cannot arrive
//! within the duration limit.

use crate::budget;
use crate::index::{Index, Leg, Route};
use crate::query::{CompiledSlice, Filters, SliceQuery};
use crate::search::Candidate;
use crate::{AirportId, LegId};
use spontra_domain::DateRange;

/// The cheapest way found to one destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExploreHit {
    pub destination: AirportId,
    pub best: Candidate,
}

/// (cheapest first-leg fare, first stop, first legs with their fares).
type Group = (u64, AirportId, Vec<(LegId, u64)>);

struct Best {
    hits: Vec<Option<Candidate>>,
    max_price: u64,
}

impl Best {
    fn bound(&self, d: AirportId) -> u64 {
        match self.hits[d as usize] {
            Some(c) => c.price + 1,
            None => self.max_price.saturating_add(1),
        }
    }
    fn offer(&mut self, d: AirportId, c: Candidate) {
        let slot = &mut self.hits[d as usize];
        if slot.is_none_or(|b| c.sort_key() < b.sort_key()) {
            *slot = Some(c);
        }
    }
}

impl Index {
    /// Cheapest itinerary to every destination, sorted by price. Destinations in the origin's
    /// city are left out.
    pub fn explore(
        &self,
        origins: &[AirportId],
        dates: DateRange,
        filters: &Filters,
    ) -> Vec<ExploreHit> {
        if origins.is_empty() {
            return vec![];
        }
        let slice = SliceQuery {
            origins: origins.to_vec(),
            destinations: vec![],
            date: dates.first(),
        };
        let mut q = CompiledSlice::new(self, &slice, filters);
        // Nowhere in the origin's city is a destination or a layover of its own trip.
        for &o in origins {
            for s in self.connect_points(o) {
                q.is_origin[s as usize] = true;
                q.layover_ok[s as usize] = false;
            }
        }
        let mut best = Best {
            hits: vec![None; self.airport_count()],
            max_price: q.max_price,
        };
        for stops in 0..=q.max_stops {
            // First legs of every day and origin grouped by their first stop; cheapest groups
            // first, so destinations get a best price early and later routes are skipped.
            let mut groups: Vec<Group> = Vec::new();
            for day in dates.days() {
                q.set_date(day);
                for &o in origins {
                    self.first_legs(&q, o, stops, &mut best, &mut groups);
                }
            }
            groups.sort_unstable_by_key(|g| (g.0, g.1));
            for (_, a, group) in &groups {
                if budget::charge(1) {
                    break;
                }
                if stops == 1 {
                    self.explore_one_stop(&q, *a, group, &mut best);
                } else {
                    for &(id1, f1) in group {
                        self.explore_onward(&q, &[id1], f1, 0, stops, &mut best);
                    }
                }
            }
        }
        let mut out: Vec<ExploreHit> = best
            .hits
            .iter()
            .enumerate()
            .filter_map(|(d, c)| {
                c.map(|best| ExploreHit {
                    destination: d as AirportId,
                    best,
                })
            })
            .collect();
        out.sort_by_key(|h| (h.best.price, h.best.duration(), h.destination));
        out
    }

    /// Direct itineraries (when `stops` is 0) go straight to `best`; otherwise the usable first
    /// legs from `o` on the slice's date are added to `groups` by first stop.
    fn first_legs(
        &self,
        q: &CompiledSlice,
        o: AirportId,
        stops: u8,
        best: &mut Best,
        groups: &mut Vec<Group>,
    ) {
        let (lo, hi) = self.day_bounds(o, q.local_day, q);
        if budget::charge(self.routes_from(o).len()) {
            return;
        }
        for route in self.routes_from(o) {
            let a = route.dest;
            if q.is_origin[a as usize] {
                continue;
            }
            if stops == 0 && self.route_hopeless(q, route, (lo, hi), 0, 0, best.bound(a)) {
                continue;
            }
            let mut group = Vec::new();
            for id1 in self.legs_between(route, lo, hi) {
                let l1 = &self.legs[id1 as usize];
                if !self.usable(q, l1) {
                    continue;
                }
                let (day, minute) = self.local_day_minute(o, l1.dep);
                if day != q.local_day || !q.dep_window.contains(minute) {
                    continue;
                }
                if stops == 0 {
                    if let Some(c) = self.candidate(q, &[id1], 0) {
                        best.offer(a, c);
                    }
                    continue;
                }
                if !q.layover_ok[a as usize] || l1.duration as u32 > q.max_duration {
                    continue;
                }
                let f1 = self.fare(q, l1);
                if !self.prune(q, f1, q.max_price.saturating_add(1)) {
                    group.push((id1, f1));
                }
            }
            if !group.is_empty() {
                group.sort_unstable_by_key(|g| (g.1, g.0));
                groups.push((group[0].1, a, group));
            }
        }
    }

    /// One-stop itineraries from all first legs into `a` at once: a route out of `a` that
    /// cannot help even with the cheapest and quickest of those legs is skipped for all.
    fn explore_one_stop(
        &self,
        q: &CompiledSlice,
        a: AirportId,
        group: &[(LegId, u64)],
        best: &mut Best,
    ) {
        let min_fare = group.iter().map(|g| g.1).min().unwrap_or(0);
        let min_flight = group
            .iter()
            .map(|g| self.legs[g.0 as usize].duration as u32)
            .min()
            .unwrap_or(0);
        // When the onward legs of any of them may leave.
        let arrivals = group.iter().map(|g| self.legs[g.0 as usize].arr());
        let after = arrivals.clone().min().unwrap_or(0);
        let before = arrivals.max().unwrap_or(0).saturating_add(q.max_layover);
        for x in self.connect_points(a) {
            if !q.layover_ok[x as usize] {
                continue;
            }
            let mct = self.min_mct(x);
            if budget::charge(self.routes_from(x).len()) {
                return;
            }
            for route in self.routes_from(x) {
                let b = route.dest;
                if q.is_origin[b as usize] || b == a {
                    continue;
                }
                let window = (after, before);
                if self.route_hopeless(q, route, window, min_fare, min_flight + mct, best.bound(b))
                {
                    continue;
                }
                // The route's cheapest fare while any of them connects: the group is cheapest
                // first, so once a first leg cannot beat the best even with it, none after can.
                let onward_min = self.min_fare_between(route, after, before) as u64;
                for &(id1, f1) in group {
                    if self.prune(q, f1 + onward_min, best.bound(b)) {
                        break;
                    }
                    let l1 = &self.legs[id1 as usize];
                    let window = (l1.arr(), l1.arr().saturating_add(q.max_layover));
                    let elapsed = l1.duration as u32 + mct;
                    if self.route_hopeless(q, route, window, f1, elapsed, best.bound(b)) {
                        continue;
                    }
                    self.extend(q, &[id1], f1, 0, route, true, 1, best);
                }
            }
        }
    }

    /// True if no leg of `route` departing in `window` (index minutes) can improve on `bound`
    /// or meet the duration limit, given the partial fare and the minutes since the trip
    /// started.
    fn route_hopeless(
        &self,
        q: &CompiledSlice,
        route: &Route,
        (from, to): (u32, u32),
        partial: u64,
        elapsed_min: u32,
        bound: u64,
    ) -> bool {
        elapsed_min + route.min_duration as u32 > q.max_duration
            || self.prune(
                q,
                partial + self.min_fare_between(route, from, to) as u64,
                bound,
            )
    }

    /// Extend `ids` (ending at a layover airport) by one more leg; complete with exactly
    /// `stops` connections.
    fn explore_onward(
        &self,
        q: &CompiledSlice,
        ids: &[LegId],
        fare: u64,
        flags: u8,
        stops: u8,
        best: &mut Best,
    ) {
        let prev: &Leg = &self.legs[ids[ids.len() - 1] as usize];
        let first: &Leg = &self.legs[ids[0] as usize];
        let last_leg = ids.len() as u8 == stops;
        let visited = |a: AirportId| {
            ids.iter().any(|&i| {
                let l = &self.legs[i as usize];
                l.origin == a || l.dest == a
            })
        };
        // When the next leg may leave.
        let window = (prev.arr(), prev.arr().saturating_add(q.max_layover));
        for x in self.connect_points(prev.dest) {
            if !q.layover_ok[x as usize] || (x != prev.dest && visited(x)) {
                continue;
            }
            // Earliest possible departure from x, for the duration bound.
            let elapsed = prev.arr() + self.min_mct(x) - first.dep;
            if budget::charge(self.routes_from(x).len()) {
                return;
            }
            for route in self.routes_from(x) {
                let b = route.dest;
                if q.is_origin[b as usize] || visited(b) {
                    continue;
                }
                let bound = if last_leg {
                    best.bound(b)
                } else {
                    if !q.layover_ok[b as usize] {
                        continue;
                    }
                    q.max_price.saturating_add(1)
                };
                if self.route_hopeless(q, route, window, fare, elapsed, bound) {
                    continue;
                }
                self.extend(q, ids, fare, flags, route, last_leg, stops, best);
            }
        }
    }

    /// Whether the itinerary `ids` connects at `d` or another airport of `d`'s city.
    fn connects_in_city_of(&self, ids: &[LegId], d: AirportId) -> bool {
        ids[..ids.len() - 1].iter().any(|&i| {
            let l = &self.legs[i as usize];
            self.connect_points(d).any(|x| x == l.dest)
        }) || ids[1..].iter().any(|&i| {
            let l = &self.legs[i as usize];
            self.connect_points(d).any(|x| x == l.origin)
        })
    }

    /// Add each leg of `route` that can follow `ids`; complete the itinerary if this is its
    /// last leg, else go one stop further.
    #[allow(clippy::too_many_arguments)]
    fn extend(
        &self,
        q: &CompiledSlice,
        ids: &[LegId],
        fare: u64,
        flags: u8,
        route: &Route,
        last_leg: bool,
        stops: u8,
        best: &mut Best,
    ) {
        let prev: &Leg = &self.legs[ids[ids.len() - 1] as usize];
        let first: &Leg = &self.legs[ids[0] as usize];
        let b = route.dest;
        for (id, _, leg_fare, f) in self.onward(q, prev, route, first.dep) {
            let total = fare + leg_fare;
            let bound = if last_leg {
                best.bound(b)
            } else {
                q.max_price.saturating_add(1)
            };
            if self.prune(q, total, bound) {
                continue;
            }
            let mut next = [0; 3];
            next[..ids.len()].copy_from_slice(ids);
            next[ids.len()] = id;
            let next = &next[..ids.len() + 1];
            if last_leg {
                // As a point-to-point search: no connection in the destination's city.
                if self.connects_in_city_of(next, b) {
                    continue;
                }
                if let Some(c) = self.candidate(q, next, flags | f) {
                    best.offer(b, c);
                }
            } else {
                self.explore_onward(q, next, total, flags | f, stops, best);
            }
        }
    }
}
