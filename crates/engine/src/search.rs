//! Point-to-point enumeration of itineraries with up to two stops.
//!
//! Legs are grouped in routes (origin, destination) sorted by departure, so every step is a
//! binary search into a short run. Before enumerating, the search marks the airports with a
//! route into the destination set ("to-dest" runs); one-stop itineraries then only look at
//! those runs, and two-stop itineraries only at middle routes whose far end has such a run.
//! Nothing is pruned that could complete into a valid itinerary, except by the collector's
//! price bound (an exact lower bound), so the result is exactly the set of valid itineraries.

use crate::budget;
use crate::circuity;
use crate::index::{Index, Leg, Route};
use crate::price::{apply_discount, lower_bound};
use crate::query::CompiledSlice;
use crate::{AirportId, LegId};
use std::cell::RefCell;

/// Extra minimum connection time for a self-transfer (collect bags, check in again).
pub const SELF_TRANSFER_EXTRA_MINUTES: u32 = 60;
/// Minimum time to change airports within a city (e.g. LHR to LGW).
pub const AIRPORT_CHANGE_MINUTES: u32 = 240;
pub const FLAG_SELF_TRANSFER: u8 = 1;
pub const FLAG_AIRPORT_CHANGE: u8 = 2;

/// One itinerary for one slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Candidate {
    pub legs: [LegId; 3],
    pub len: u8,
    pub flags: u8,
    /// Total for the whole party, minor units.
    pub price: u64,
    pub dep: u32,
    pub arr: u32,
}

impl Candidate {
    pub fn legs(&self) -> &[LegId] {
        &self.legs[..self.len as usize]
    }
    pub fn stops(&self) -> u8 {
        self.len - 1
    }
    pub fn duration(&self) -> u32 {
        self.arr - self.dep
    }
    pub fn self_transfer(&self) -> bool {
        self.flags & FLAG_SELF_TRANSFER != 0
    }
    pub fn airport_change(&self) -> bool {
        self.flags & FLAG_AIRPORT_CHANGE != 0
    }
    /// A total order used to make results deterministic.
    pub fn sort_key(&self) -> (u64, u32, u8, u32, [LegId; 3]) {
        (self.price, self.duration(), self.len, self.dep, self.legs)
    }
}

/// Receives complete itineraries. `bound` lets a collector prune: partial itineraries whose
/// price lower bound is at or above it are not completed.
pub trait Collector {
    fn bound(&self) -> u64 {
        u64::MAX
    }
    /// Whether every itinerary with at least this price and duration is of no interest
    /// (used to prune two-stop itineraries that a simpler one beats on both).
    fn dominated(&self, _price_lb: u64, _duration_lb: u32) -> bool {
        false
    }
    fn offer(&mut self, candidate: Candidate);
}

/// Which itineraries an enumeration produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Direct and connecting, up to the slice's stop limit.
    All,
    /// Direct and one-stop only.
    UpToOneStop,
    /// Direct only.
    DirectOnly,
    /// One-stop only.
    OneStopOnly,
    /// Two-stop only.
    TwoStopOnly,
}

/// The (price, duration) staircase of a set of itineraries: answers "is there one at most
/// this expensive and at most this long?" with one lookup in a table of the lowest price
/// within each duration (in minutes).
pub struct Staircase {
    /// `cheapest_within[d]`: the lowest price among itineraries lasting at most `d` minutes.
    cheapest_within: Vec<u64>,
}

impl Staircase {
    pub fn new(points: impl Iterator<Item = (u64, u32)>) -> Self {
        let points: Vec<(u64, u32)> = points.collect();
        let longest = points.iter().map(|p| p.1).max().unwrap_or(0) as usize;
        let mut cheapest_within = vec![u64::MAX; if points.is_empty() { 0 } else { longest + 1 }];
        for &(price, duration) in &points {
            let slot = &mut cheapest_within[duration as usize];
            *slot = (*slot).min(price);
        }
        for d in 1..cheapest_within.len() {
            cheapest_within[d] = cheapest_within[d].min(cheapest_within[d - 1]);
        }
        Staircase { cheapest_within }
    }

    pub fn covers(&self, price: u64, duration: u32) -> bool {
        let Some(last) = self.cheapest_within.len().checked_sub(1) else {
            return false;
        };
        self.cheapest_within[(duration as usize).min(last)] <= price
    }
}

/// Collects two-stop itineraries not beaten on both price and duration by a simpler one.
pub struct TwoStopCollector<'a> {
    pub simpler: &'a Staircase,
    pub found: Vec<Candidate>,
}

impl Collector for TwoStopCollector<'_> {
    fn dominated(&self, price_lb: u64, duration_lb: u32) -> bool {
        self.simpler.covers(price_lb, duration_lb)
    }
    fn offer(&mut self, c: Candidate) {
        if !self.simpler.covers(c.price, c.duration()) {
            self.found.push(c);
        }
    }
}

/// Keeps everything.
#[derive(Default)]
pub struct CollectAll(pub Vec<Candidate>);

impl Collector for CollectAll {
    fn offer(&mut self, candidate: Candidate) {
        self.0.push(candidate);
    }
}

/// Keeps, for each first flight, the Pareto set of what it was offered. Enumeration emits
/// all completions of one first leg together, so a small buffer per first leg is reduced as
/// soon as the next first leg starts; the raw candidates are never all held at once.
#[derive(Default)]
pub struct GroupFrontCollector {
    current: Option<LegId>,
    buffer: Vec<Candidate>,
    pub kept: Vec<Candidate>,
}

impl GroupFrontCollector {
    fn flush(&mut self) {
        if self.buffer.len() <= 1 {
            self.kept.append(&mut self.buffer);
            return;
        }
        let points: Vec<crate::pareto::Criteria> = self
            .buffer
            .iter()
            .map(|c| (c.price, c.duration(), c.stops() as u32))
            .collect();
        for i in crate::pareto::pareto_front(&points) {
            self.kept.push(self.buffer[i]);
        }
        self.buffer.clear();
    }

    pub fn finish(mut self) -> Vec<Candidate> {
        self.flush();
        self.kept
    }
}

impl Collector for GroupFrontCollector {
    fn offer(&mut self, c: Candidate) {
        if self.current != Some(c.legs[0]) {
            self.flush();
            self.current = Some(c.legs[0]);
        }
        self.buffer.push(c);
    }
}

/// Keeps the cheapest (ties broken by [`Candidate::sort_key`]).
#[derive(Default)]
pub struct CheapestCollector {
    pub best: Option<Candidate>,
}

impl Collector for CheapestCollector {
    fn bound(&self) -> u64 {
        self.best.map(|b| b.price + 1).unwrap_or(u64::MAX)
    }
    fn offer(&mut self, c: Candidate) {
        if self.best.is_none_or(|b| c.sort_key() < b.sort_key()) {
            self.best = Some(c);
        }
    }
}

#[derive(Default)]
struct Scratch {
    generation: u32,
    to_dest_stamp: Vec<u32>,
    to_dest_range: Vec<(u32, u32)>,
    /// Cheapest fare and shortest flight of the routes from an airport into the destination set.
    to_dest_min: Vec<(u32, u16)>,
    to_dest_routes: Vec<u32>,
    mid_stamp: Vec<u32>,
    mid_range: Vec<(u32, u32)>,
    /// Cheapest possible fare of the last two legs of a two-stop itinerary from an airport.
    mid_floor: Vec<u64>,
    mid_routes: Vec<u32>,
    pairs: Vec<(AirportId, u32)>,
    /// Fewest km from an airport (or its city) to the destination set, once per search.
    to_go_stamp: Vec<u32>,
    to_go_km: Vec<u32>,
    /// Index minutes any leg of this search's itineraries may depart in: the route bounds
    /// above are the cheapest fares of those days.
    span: (u32, u32),
}

impl Scratch {
    fn begin(&mut self, airports: usize) {
        if self.to_dest_stamp.len() != airports {
            *self = Scratch {
                to_dest_stamp: vec![0; airports],
                to_dest_range: vec![(0, 0); airports],
                to_dest_min: vec![(0, 0); airports],
                mid_stamp: vec![0; airports],
                mid_range: vec![(0, 0); airports],
                mid_floor: vec![0; airports],
                to_go_stamp: vec![0; airports],
                to_go_km: vec![0; airports],
                ..Default::default()
            };
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.to_dest_stamp.fill(0);
            self.mid_stamp.fill(0);
            self.to_go_stamp.fill(0);
            self.generation = 1;
        }
        self.to_dest_routes.clear();
        self.mid_routes.clear();
        self.pairs.clear();
    }

    fn to_dest(&self, x: AirportId) -> &[u32] {
        if self.to_dest_stamp[x as usize] != self.generation {
            return &[];
        }
        let (s, e) = self.to_dest_range[x as usize];
        &self.to_dest_routes[s as usize..e as usize]
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Index {
    /// Offer every valid itinerary of the slice (of the phase's stop counts) to `out`.
    pub fn search_slice<C: Collector>(&self, q: &CompiledSlice, phase: Phase, out: &mut C) {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            self.enumerate(q, phase, &mut s, out)
        })
    }

    /// All valid itineraries of a slice.
    pub fn slice_candidates(&self, q: &CompiledSlice) -> Vec<Candidate> {
        let mut all = CollectAll::default();
        self.search_slice(q, Phase::All, &mut all);
        all.0
    }

    /// Valid itineraries of a slice, except two-stop ones that some direct or one-stop
    /// itinerary beats on both price and duration (those are pruned, not enumerated).
    /// Per first flight, already reduced to its Pareto set (a subset of the pruned set with
    /// the same [`crate::group_pareto`]).
    pub fn slice_candidates_pruned(&self, q: &CompiledSlice) -> Vec<Candidate> {
        let mut simple = GroupFrontCollector::default();
        self.search_slice(q, Phase::UpToOneStop, &mut simple);
        let mut all = simple.finish();
        if q.max_stops >= 2 {
            let stairs = Staircase::new(all.iter().map(|c| (c.price, c.duration())));
            let mut two = TwoStopCollector {
                simpler: &stairs,
                found: vec![],
            };
            self.search_slice(q, Phase::TwoStopOnly, &mut two);
            all.extend(two.found);
        }
        all
    }

    /// The cheapest itinerary of a slice (simpler itineraries first, so the price bound
    /// prunes most two-stop paths).
    pub fn cheapest(&self, q: &CompiledSlice) -> Option<Candidate> {
        let mut c = CheapestCollector::default();
        self.search_slice(q, Phase::DirectOnly, &mut c);
        if q.max_stops >= 1 {
            self.search_slice(q, Phase::OneStopOnly, &mut c);
        }
        if q.max_stops >= 2 {
            self.search_slice(q, Phase::TwoStopOnly, &mut c);
        }
        c.best
    }

    /// Index-minute range that certainly contains every departure on the local day at `o`
    /// within the window (widened by 3 h for daylight-saving changes; callers check exactly).
    pub(crate) fn day_bounds(&self, o: AirportId, local_day: i64, q: &CompiledSlice) -> (u32, u32) {
        let local_midnight = local_day * 1440;
        let off = self.offset_at(o, local_midnight) as i64;
        let lo = local_midnight + q.dep_window.from_minute as i64 - off - 180;
        let hi = local_midnight + q.dep_window.to_minute as i64 - off + 180;
        (self.to_index_minute(lo), self.to_index_minute(hi))
    }

    pub(crate) fn usable(&self, q: &CompiledSlice, l: &Leg) -> bool {
        q.carrier_ok[l.carrier as usize]
            && l.fare_for(q.cabin).is_some()
            && l.seats_left(q.cabin) >= q.seats
    }

    /// Legs of `route` that could follow `prev` (by departure time; exact MCT checked after).
    pub(crate) fn followers(
        &self,
        q: &CompiledSlice,
        prev: &Leg,
        route: &Route,
    ) -> std::ops::Range<u32> {
        let arr = prev.arr();
        self.legs_between(
            route,
            arr + self.min_mct(route.origin),
            arr.saturating_add(q.max_layover),
        )
    }

    /// Legs of `route` that can follow `prev` on a slice whose first leg left at `start`:
    /// usable, connecting within the minimum connection time rules, and within the maximum
    /// duration. Each comes with its id, fare and connection flags.
    pub(crate) fn onward<'a>(
        &'a self,
        q: &'a CompiledSlice,
        prev: &'a Leg,
        route: &Route,
        start: u32,
    ) -> impl Iterator<Item = (LegId, &'a Leg, u64, u8)> + 'a {
        self.followers(q, prev, route).filter_map(move |id| {
            let l = &self.legs[id as usize];
            if !self.usable(q, l) || l.arr() - start > q.max_duration {
                return None;
            }
            let flags = self.connects(prev, l)?;
            Some((id, l, self.fare(q, l), flags))
        })
    }

    /// Whether `next` can follow `prev`; returns the connection's flags.
    pub(crate) fn connects(&self, prev: &Leg, next: &Leg) -> Option<u8> {
        let (mct, flags) = self.connection_rule(prev, next);
        (next.dep >= prev.arr() + mct).then_some(flags)
    }

    pub(crate) fn fare(&self, q: &CompiledSlice, l: &Leg) -> u64 {
        l.fare_for(q.cabin).unwrap_or(u64::MAX / 4)
    }

    pub(crate) fn prune(&self, q: &CompiledSlice, partial_fare: u64, bound: u64) -> bool {
        q.passengers.total_for(lower_bound(partial_fare)) >= bound
    }

    /// The itinerary made of `ids`, if it passes the slice's price, duration and arrival
    /// filters.
    pub(crate) fn candidate(
        &self,
        q: &CompiledSlice,
        ids: &[LegId],
        flags: u8,
    ) -> Option<Candidate> {
        let mut legs: [&Leg; 3] = [&self.legs[ids[0] as usize]; 3];
        let mut sum = 0;
        for (i, &id) in ids.iter().enumerate() {
            legs[i] = &self.legs[id as usize];
            sum += self.fare(q, legs[i]);
        }
        let legs = &legs[..ids.len()];
        let price = q.passengers.total_for(apply_discount(self, legs, sum));
        if price > q.max_price {
            return None;
        }
        let (first, last) = (legs[0], legs[ids.len() - 1]);
        if legs.len() > 1 {
            // Each leg's distance as its route records it (the same whole km as `km_between`).
            let flown: u32 = legs.iter().map(|l| self.route_distance(l) as u32).sum();
            if flown > circuity::max_flown_km(self.km_between(first.origin, last.dest)) {
                return None;
            }
        }
        let duration = last.arr() - first.dep;
        if duration > q.max_duration || duration < q.min_duration {
            return None;
        }
        let (_, arr_minute) = self.local_day_minute(last.dest, last.arr());
        if !q.arr_window.contains(arr_minute) {
            return None;
        }
        let mut arr_legs = [0; 3];
        arr_legs[..ids.len()].copy_from_slice(ids);
        Some(Candidate {
            legs: arr_legs,
            len: ids.len() as u8,
            flags,
            price,
            dep: first.dep,
            arr: last.arr(),
        })
    }

    /// Whether finishing with `last` after `flown` km from `o` breaks the circuity rule.
    fn too_circuitous(&self, o: AirportId, last: &Route, flown: u32) -> bool {
        flown + last.distance_km as u32 > circuity::max_flown_km(self.km_between(o, last.dest))
    }

    fn emit<C: Collector>(&self, q: &CompiledSlice, out: &mut C, ids: &[LegId], flags: u8) {
        if let Some(c) = self.candidate(q, ids, flags) {
            out.offer(c);
        }
    }

    /// The fewest km still to fly from `a` (or another airport of its city) to a destination
    /// (worked out once per airport and search: the loops ask for the same airports often).
    fn km_to_go(&self, q: &CompiledSlice, s: &mut Scratch, a: AirportId) -> u32 {
        if s.to_go_stamp[a as usize] == s.generation {
            return s.to_go_km[a as usize];
        }
        let km = self
            .connect_points(a)
            .flat_map(|x| q.dests.iter().map(move |&d| (x, d)))
            .map(|(x, d)| self.km_between(x, d))
            .min()
            .unwrap_or(0);
        s.to_go_stamp[a as usize] = s.generation;
        s.to_go_km[a as usize] = km;
        km
    }

    /// A lower bound of the km an itinerary still flies after landing at `a`: exactly the
    /// fewest km to go when one leg is left; when two may be left (`two_legs`), the stop
    /// between them may be a change of airports within a city, which flies nothing, so the
    /// bound gives up the widest city's span, plus 2 km for the rounding of the two legs'
    /// distances (each triangle inequality may lose 1 km to it).
    fn km_still_to_fly(
        &self,
        q: &CompiledSlice,
        s: &mut Scratch,
        a: AirportId,
        two_legs: bool,
    ) -> u32 {
        let km = self.km_to_go(q, s, a);
        if two_legs {
            km.saturating_sub(self.city_span_km + 2)
        } else {
            km
        }
    }

    /// The most an itinerary from `o` may fly to any destination ([`circuity`]).
    fn km_allowed(&self, q: &CompiledSlice, o: AirportId) -> u32 {
        q.dests
            .iter()
            .map(|&d| circuity::max_flown_km(self.km_between(o, d)))
            .max()
            .unwrap_or(u32::MAX)
    }

    fn build_to_dest(&self, q: &CompiledSlice, s: &mut Scratch) {
        for &d in &q.dests {
            for &rid in self.route_ids_into(d) {
                let x = self.routes[rid as usize].origin;
                if q.layover_ok[x as usize] {
                    s.pairs.push((x, rid));
                }
            }
        }
        s.pairs.sort_unstable();
        let generation = s.generation;
        for i in 0..s.pairs.len() {
            let (x, rid) = s.pairs[i];
            let pos = s.to_dest_routes.len() as u32;
            let r = &self.routes[rid as usize];
            if s.to_dest_stamp[x as usize] != generation {
                s.to_dest_stamp[x as usize] = generation;
                s.to_dest_range[x as usize] = (pos, pos);
                s.to_dest_min[x as usize] = (u32::MAX, u16::MAX);
            }
            s.to_dest_routes.push(rid);
            s.to_dest_range[x as usize].1 = pos + 1;
            let fare = self.min_fare_between(r, s.span.0, s.span.1);
            let m = &mut s.to_dest_min[x as usize];
            *m = (m.0.min(fare), m.1.min(r.min_duration));
        }
    }

    /// Routes from `x` to an airport from which (or from whose city) a route reaches the
    /// destination set; built once per airport per search.
    fn mid_routes(&self, q: &CompiledSlice, s: &mut Scratch, x: AirportId) -> (u32, u32) {
        if s.mid_stamp[x as usize] == s.generation {
            return s.mid_range[x as usize];
        }
        let start = s.mid_routes.len() as u32;
        let base = self.routes_from[x as usize];
        let mut floor = u64::MAX;
        for (i, r) in self.routes_from(x).iter().enumerate() {
            let b = r.dest;
            if !q.layover_ok[b as usize] {
                continue;
            }
            let finish = self.finish_bounds(q, s, b).0;
            if finish != u64::MAX {
                s.mid_routes.push(base + i as u32);
                let fare = self.min_fare_between(r, s.span.0, s.span.1);
                floor = floor.min((fare as u64).saturating_add(finish));
            }
        }
        let range = (start, s.mid_routes.len() as u32);
        s.mid_stamp[x as usize] = s.generation;
        s.mid_range[x as usize] = range;
        s.mid_floor[x as usize] = floor;
        range
    }

    /// Lower bound of the fare still to pay after a first leg into `a`, for the itineraries
    /// this phase produces: one more leg into the destination, or two.
    fn completion_floor(
        &self,
        q: &CompiledSlice,
        s: &mut Scratch,
        a: AirportId,
        one: bool,
        two: bool,
    ) -> u64 {
        let mut floor = if one {
            self.finish_bounds(q, s, a).0
        } else {
            u64::MAX
        };
        if two {
            for x in self.connect_points(a) {
                if q.layover_ok[x as usize] {
                    self.mid_routes(q, s, x);
                    floor = floor.min(s.mid_floor[x as usize]);
                }
            }
        }
        floor
    }

    /// Index minutes in which any leg of `q`'s itineraries may depart: from the first legs'
    /// departure window to as late as a third leg can leave (two flights and two layovers
    /// later, or the journey-time limit).
    fn span(&self, q: &CompiledSlice) -> (u32, u32) {
        let (mut lo, mut hi) = (u32::MAX, 0);
        for &o in &q.origins {
            let (a, b) = self.day_bounds(o, q.local_day, q);
            (lo, hi) = (lo.min(a), hi.max(b));
        }
        let later = (2 * (self.longest_flight + q.max_layover)).min(q.max_duration);
        (lo, hi.saturating_add(later))
    }

    /// Lower bounds (fare, flight minutes) of finishing from airport `b` (or its city).
    fn finish_bounds(&self, q: &CompiledSlice, s: &Scratch, b: AirportId) -> (u64, u32) {
        let mut best = (u64::MAX, u32::MAX);
        for y in self.connect_points(b) {
            if q.layover_ok[y as usize] && s.to_dest_stamp[y as usize] == s.generation {
                let (f, d) = s.to_dest_min[y as usize];
                best = (best.0.min(f as u64), best.1.min(d as u32 + self.min_mct(y)));
            }
        }
        best
    }

    fn enumerate<C: Collector>(
        &self,
        q: &CompiledSlice,
        phase: Phase,
        s: &mut Scratch,
        out: &mut C,
    ) {
        s.begin(self.airport_count());
        s.span = self.span(q);
        if q.max_stops > 0 {
            self.build_to_dest(q, s);
        }
        let (direct, one, two) = match phase {
            Phase::All => (true, q.max_stops >= 1, q.max_stops >= 2),
            Phase::UpToOneStop => (true, q.max_stops >= 1, false),
            Phase::DirectOnly => (true, false, false),
            Phase::OneStopOnly => (false, q.max_stops >= 1, false),
            Phase::TwoStopOnly => (false, false, q.max_stops >= 2),
        };
        for &o in &q.origins {
            let (lo, hi) = self.day_bounds(o, q.local_day, q);
            if budget::charge(self.routes_from(o).len()) {
                return;
            }
            let allowed = self.km_allowed(q, o);
            for route in self.routes_from(o) {
                let a = route.dest;
                if q.is_origin[a as usize] {
                    continue;
                }
                // Skip whole routes that cannot lead anywhere in this phase or within bounds.
                let mut finish = 0;
                if q.is_dest[a as usize] {
                    if !direct {
                        continue;
                    }
                } else {
                    if !(one || two) || !q.layover_ok[a as usize] {
                        continue;
                    }
                    // Circuity: even the straightest way on from here flies too far.
                    if route.distance_km as u32 + self.km_still_to_fly(q, s, a, two) > allowed {
                        continue;
                    }
                    finish = self.completion_floor(q, s, a, one, two);
                    let bound = out.bound().min(q.max_price.saturating_add(1));
                    let first = self.min_fare_between(route, lo, hi) as u64;
                    if self.prune(q, first.saturating_add(finish), bound) {
                        continue;
                    }
                }
                for id1 in self.legs_between(route, lo, hi) {
                    let l1 = &self.legs[id1 as usize];
                    if !self.usable(q, l1) {
                        continue;
                    }
                    let (day, minute) = self.local_day_minute(o, l1.dep);
                    if day != q.local_day || !q.dep_window.contains(minute) {
                        continue;
                    }
                    if q.is_dest[a as usize] {
                        if direct {
                            self.emit(q, out, &[id1], 0);
                        }
                        continue;
                    }
                    if !(one || two)
                        || !q.layover_ok[a as usize]
                        || l1.duration as u32 > q.max_duration
                    {
                        continue;
                    }
                    let f1 = self.fare(q, l1);
                    // `finish`: the cheapest the rest of the itinerary can be (see above).
                    if self.prune(
                        q,
                        f1.saturating_add(finish),
                        out.bound().min(q.max_price.saturating_add(1)),
                    ) {
                        continue;
                    }
                    if one {
                        self.one_stop(q, s, out, id1, f1);
                    }
                    if two {
                        self.two_stop(q, s, out, id1, f1);
                    }
                }
            }
        }
    }

    fn one_stop<C: Collector>(
        &self,
        q: &CompiledSlice,
        s: &mut Scratch,
        out: &mut C,
        id1: LegId,
        f1: u64,
    ) {
        let l1 = &self.legs[id1 as usize];
        let km1 = self.km_between(l1.origin, l1.dest);
        for x in self.connect_points(l1.dest) {
            if !q.layover_ok[x as usize] {
                continue;
            }
            if budget::charge(s.to_dest(x).len()) {
                return;
            }
            let (after, before) = (l1.arr(), l1.arr().saturating_add(q.max_layover));
            for &rid in s.to_dest(x) {
                let route = &self.routes[rid as usize];
                if self.prune(
                    q,
                    f1 + self.min_fare_between(route, after, before) as u64,
                    out.bound(),
                ) || self.too_circuitous(l1.origin, route, km1)
                {
                    continue;
                }
                for (id2, _, f2, flags) in self.onward(q, l1, route, l1.dep) {
                    if !self.prune(q, f1 + f2, out.bound()) {
                        self.emit(q, out, &[id1, id2], flags);
                    }
                }
            }
        }
    }

    fn two_stop<C: Collector>(
        &self,
        q: &CompiledSlice,
        s: &mut Scratch,
        out: &mut C,
        id1: LegId,
        f1: u64,
    ) {
        let l1 = &self.legs[id1 as usize];
        let a = l1.dest;
        let km1 = self.km_between(l1.origin, a);
        let allowed = self.km_allowed(q, l1.origin);
        for x in self.connect_points(a) {
            if !q.layover_ok[x as usize] {
                continue;
            }
            let (ms, me) = self.mid_routes(q, s, x);
            if budget::charge((me - ms) as usize) {
                return;
            }
            for mi in ms..me {
                let mid = &self.routes[s.mid_routes[mi as usize] as usize];
                let b = mid.dest;
                if b == a {
                    continue;
                }
                let km12 = km1 + mid.distance_km as u32;
                if km12 + self.km_to_go(q, s, b) > allowed {
                    continue;
                }
                // Route-level bounds: the cheapest and quickest this route could possibly be
                // finished, against the price bound and the simpler itineraries.
                let (finish_fare, finish_minutes) = self.finish_bounds(q, s, b);
                let mid_fare =
                    self.min_fare_between(mid, l1.arr(), l1.arr().saturating_add(q.max_layover));
                let route_fare = (f1 + mid_fare as u64).saturating_add(finish_fare);
                let route_arrival =
                    l1.arr() + self.min_mct(x) + mid.min_duration as u32 + finish_minutes;
                let route_price = q.passengers.total_for(lower_bound(route_fare));
                if route_price >= out.bound().min(q.max_price.saturating_add(1))
                    || out.dominated(route_price, route_arrival - l1.dep)
                    || route_arrival - l1.dep > q.max_duration
                {
                    continue;
                }
                for (id2, l2, f2, flags2) in self.onward(q, l1, mid, l1.dep) {
                    let f12 = f1 + f2;
                    if self.prune(
                        q,
                        f12 + finish_fare,
                        out.bound().min(q.max_price.saturating_add(1)),
                    ) {
                        continue;
                    }
                    let earliest = l2.arr() + finish_minutes - l1.dep;
                    if out.dominated(
                        q.passengers.total_for(lower_bound(f12 + finish_fare)),
                        earliest,
                    ) || earliest > q.max_duration
                    {
                        continue;
                    }
                    for y in self.connect_points(b) {
                        if y == a || y == x || !q.layover_ok[y as usize] {
                            continue;
                        }
                        if budget::charge(s.to_dest(y).len()) {
                            return;
                        }
                        for &rid in s.to_dest(y) {
                            let route = &self.routes[rid as usize];
                            if self.too_circuitous(l1.origin, route, km12) {
                                continue;
                            }
                            let last = self.min_fare_between(
                                route,
                                l2.arr(),
                                l2.arr().saturating_add(q.max_layover),
                            );
                            let fare_lb = q.passengers.total_for(lower_bound(f12 + last as u64));
                            let arrival_lb = l2.arr() + self.min_mct(y) + route.min_duration as u32;
                            if fare_lb >= out.bound() || out.dominated(fare_lb, arrival_lb - l1.dep)
                            {
                                continue;
                            }
                            for (id3, _, f3, flags3) in self.onward(q, l2, route, l1.dep) {
                                if !self.prune(q, f12 + f3, out.bound()) {
                                    self.emit(q, out, &[id1, id2, id3], flags2 | flags3);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
