//! Schedule changes: flights cancelled, retimed or added while the index serves.
//!
//! Fare and seat updates change legs in place (see `update`); a schedule change moves legs
//! between routes' sorted runs and day directories, so [`Index::reschedule`] lays the index out
//! again: the kept legs (with their fares, seats and observation times), minus the cancelled,
//! with the retimed at their new times and the added appended, sorted and given their routes,
//! bounds and directories afresh. That costs a sort of the legs (about half a second on the
//! full world's 35 days), which is why callers batch schedule changes — they are rare next to
//! fare changes — and why it makes a new index rather than changing one searches read.

use crate::build::LegInput;
use crate::index::{Index, LegId};
use spontra_domain::UtcMinute;

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

impl ScheduleOutcome {
    pub fn changed(&self) -> usize {
        self.cancelled + self.retimed + self.added
    }
}

impl Index {
    /// This index with `changes` made, in order; leg ids are those of `self` (a leg added by
    /// the batch cannot be named by a later change in it). Leg ids of the result differ.
    pub fn reschedule(&self, changes: &[ScheduleChange]) -> (Index, ScheduleOutcome) {
        let mut out = ScheduleOutcome::default();
        let n = self.legs.len();
        let mut gone = vec![false; n];
        let mut legs = self.legs.clone();
        let mut observed = if self.observed.len() == n {
            self.observed.clone()
        } else {
            vec![0; n]
        };
        let (airports, carriers) = (self.airports.len(), self.carriers.len());
        let mut added = std::collections::HashSet::new();
        for change in changes {
            match change {
                ScheduleChange::Cancel { leg } => match gone.get_mut(*leg as usize) {
                    Some(g) if !*g => {
                        *g = true;
                        out.cancelled += 1;
                    }
                    _ => out.unchanged += 1,
                },
                ScheduleChange::Retime {
                    leg,
                    departure,
                    arrival,
                } => {
                    let Some(l) = legs.get_mut(*leg as usize).filter(|_| !gone[*leg as usize])
                    else {
                        out.unchanged += 1;
                        continue;
                    };
                    let dep = departure - self.epoch;
                    let duration = arrival - departure;
                    if dep < 0 || dep > (u32::MAX / 2) as i64 || !(1..=45 * 60).contains(&duration)
                    {
                        out.invalid += 1;
                    } else if (dep as u32, duration as u16) == (l.dep, l.duration) {
                        out.unchanged += 1;
                    } else {
                        l.dep = dep as u32;
                        l.duration = duration as u16;
                        out.retimed += 1;
                    }
                }
                ScheduleChange::Add(input) => {
                    let Ok(leg) = input.to_leg(self.epoch, airports, carriers) else {
                        out.invalid += 1;
                        continue;
                    };
                    let key = (
                        leg.origin,
                        leg.dest,
                        leg.dep,
                        leg.carrier,
                        leg.flight_number,
                    );
                    let held = self
                        .find_leg(
                            leg.origin,
                            leg.dest,
                            input.departure,
                            leg.carrier,
                            leg.flight_number,
                        )
                        .is_some_and(|id| !gone[id as usize]);
                    if held || !added.insert(key) {
                        out.unchanged += 1;
                    } else {
                        legs.push(leg);
                        observed.push(0);
                        gone.push(false);
                        out.added += 1;
                    }
                }
            }
        }
        let mut next = Index {
            legs: Vec::with_capacity(legs.len()),
            observed: Vec::with_capacity(legs.len()),
            ..self.without_legs()
        };
        for ((leg, seen), gone) in legs.into_iter().zip(observed).zip(gone) {
            if !gone {
                next.legs.push(leg);
                next.observed.push(seen);
            }
        }
        next.lay_out();
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
            first_day: 0,
            last_day: 0,
            city_span_km: self.city_span_km,
            observed: vec![],
        }
    }
}
