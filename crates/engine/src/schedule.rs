//! Schedule changes: flights cancelled, retimed or added while the index serves.
//!
//! Fare and seat updates change legs in place (see `update`); a schedule change moves legs
//! between routes' sorted runs and day directories, so [`Index::reschedule`] lays the index out
//! again: the kept legs (with their fares, seats and observation times), minus the cancelled,
//! with the retimed at their new times and the added merged in, given their routes, bounds and
//! directories afresh. That is a pass over every leg (88 ms on the full world's 35 days), which
//! is why callers batch schedule changes — they are rare next to fare changes — and why it
//! makes a new index rather than changing one searches read.

use crate::build::{leg_times, LegInput};
use crate::index::{AirportId, CarrierId, Index, Leg, LegId};
use spontra_domain::UtcMinute;
use std::collections::HashMap;

/// One change to the schedule.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleChange {
    /// The flight no longer operates.
    Cancel { leg: LegId },
    /// The flight leaves and arrives at new times (UTC); it keeps its fares and seats.
    Retime {
        leg: LegId,
        departure: UtcMinute,
        arrival: UtcMinute,
    },
    /// A new dated flight (an added frequency, an extra section).
    Add(LegInput),
}

/// What a batch of schedule changes did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScheduleOutcome {
    pub cancelled: usize,
    pub retimed: usize,
    pub added: usize,
    /// Changes naming a leg the index does not hold, or cancelled earlier in the batch; an
    /// addition of a flight the index already holds (the same carrier, number, route and
    /// departure); a retime to the time it already has.
    pub unchanged: usize,
    /// Changes that would make an invalid leg (see `BuildError`).
    pub invalid: usize,
}

impl std::ops::AddAssign for ScheduleOutcome {
    fn add_assign(&mut self, o: Self) {
        self.cancelled += o.cancelled;
        self.retimed += o.retimed;
        self.added += o.added;
        self.unchanged += o.unchanged;
        self.invalid += o.invalid;
    }
}

impl Index {
    /// This index with `changes` made, in order; leg ids are those of `self` (a leg added by
    /// the batch cannot be named by a later change in it). Leg ids of the result differ.
    pub fn reschedule(&self, changes: &[ScheduleChange]) -> (Index, ScheduleOutcome) {
        let mut out = ScheduleOutcome::default();
        let n = self.legs.len();
        let seen = |id: usize| self.observed.get(id).copied().unwrap_or(0);
        // What the batch does, by leg: taken out (cancelled or moved), and the legs to put in
        // (retimed, with their state, and added).
        let mut out_of_place: HashMap<LegId, Option<Leg>> = HashMap::new();
        let mut added: HashMap<(AirportId, AirportId, u32, CarrierId, u16), Leg> = HashMap::new();
        let (airports, carriers) = (self.airports.len(), self.carriers.len());
        for change in changes {
            match change {
                ScheduleChange::Cancel { leg } => {
                    let live = (*leg as usize) < n && !matches!(out_of_place.get(leg), Some(None));
                    if live {
                        out_of_place.insert(*leg, None);
                        out.cancelled += 1;
                    } else {
                        out.unchanged += 1;
                    }
                }
                ScheduleChange::Retime {
                    leg,
                    departure,
                    arrival,
                } => {
                    let current = match out_of_place.get(leg) {
                        Some(None) => None,
                        Some(Some(l)) => Some(*l),
                        None => self.legs.get(*leg as usize).copied(),
                    };
                    let Some(mut l) = current else {
                        out.unchanged += 1;
                        continue;
                    };
                    match leg_times(self.epoch, *departure, *arrival) {
                        Err(_) => out.invalid += 1,
                        Ok(times) if times == (l.dep, l.duration) => out.unchanged += 1,
                        Ok((dep, duration)) => {
                            (l.dep, l.duration) = (dep, duration);
                            out_of_place.insert(*leg, Some(l));
                            out.retimed += 1;
                        }
                    }
                }
                ScheduleChange::Add(input) => {
                    let Ok(leg) = input.to_leg(self.epoch, airports, carriers) else {
                        out.invalid += 1;
                        continue;
                    };
                    let held = self
                        .find_leg(
                            leg.origin,
                            leg.dest,
                            input.departure,
                            leg.carrier,
                            leg.flight_number,
                        )
                        .is_some_and(|id| !matches!(out_of_place.get(&id), Some(None)));
                    if held || added.contains_key(&leg.order()) {
                        out.unchanged += 1;
                    } else {
                        added.insert(leg.order(), leg);
                        out.added += 1;
                    }
                }
            }
        }
        // The legs that keep their place are still in order: the moved and added ones (few,
        // sorted) are merged into them in one pass instead of sorting everything again.
        let mut moved: Vec<(Leg, u32)> = out_of_place
            .iter()
            .filter_map(|(&id, l)| l.map(|l| (l, seen(id as usize))))
            .chain(added.into_values().map(|l| (l, 0)))
            .collect();
        moved.sort_unstable_by_key(|(l, _)| l.order());
        let total = n + moved.len();
        let mut next = Index {
            legs: Vec::with_capacity(total),
            observed: Vec::with_capacity(total),
            ..self.without_legs()
        };
        let mut moved = moved.into_iter().peekable();
        for (i, leg) in self.legs.iter().enumerate() {
            if out_of_place.contains_key(&(i as LegId)) {
                continue;
            }
            while let Some((m, s)) = moved.next_if(|(m, _)| m.order() < leg.order()) {
                next.legs.push(m);
                next.observed.push(s);
            }
            next.legs.push(*leg);
            next.observed.push(seen(i));
        }
        for (m, s) in moved {
            next.legs.push(m);
            next.observed.push(s);
        }
        next.lay_out_sorted();
        (next, out)
    }

    /// This index's airports, carriers and aircraft, with no legs.
    fn without_legs(&self) -> Index {
        Index {
            epoch: self.epoch,
            currency: self.currency,
            airports: self.airports.clone(),
            airport_by_code: self.airport_by_code.clone(),
            carriers: self.carriers.clone(),
            carrier_by_code: self.carrier_by_code.clone(),
            aircraft: self.aircraft.clone(),
            legs: vec![],
            routes: vec![],
            routes_from: vec![],
            routes_into: vec![],
            routes_into_ids: vec![],
            day_starts: vec![],
            day_min: vec![],
            longest_flight: 0,
            first_day: 0,
            last_day: 0,
            city_span_km: self.city_span_km,
            observed: vec![],
        }
    }
}
