//! The itinerary pricing rule, shared by every search so that ranking, filters and the
//! reference search agree: a connecting itinerary all on one carrier gets
//! [`ONLINE_DISCOUNT_PCT`] off the sum of its leg fares, one all within one alliance
//! [`ALLIANCE_DISCOUNT_PCT`]; self-transfers pay the plain sum.

use crate::index::{Index, Leg};

pub const ONLINE_DISCOUNT_PCT: u64 = 10;
pub const ALLIANCE_DISCOUNT_PCT: u64 = 5;

/// Per-adult fare of a slice in `cabin`, `None` if any leg does not sell that cabin.
pub fn adult_fare(index: &Index, legs: &[&Leg], cabin: usize) -> Option<u64> {
    let mut sum = 0u64;
    for l in legs {
        sum += l.fare_for(cabin)?;
    }
    Some(apply_discount(index, legs, sum))
}

pub(crate) fn apply_discount(index: &Index, legs: &[&Leg], sum: u64) -> u64 {
    if legs.len() < 2 {
        return sum;
    }
    let first = legs[0].carrier;
    if legs.iter().all(|l| l.carrier == first) {
        return sum * (100 - ONLINE_DISCOUNT_PCT) / 100;
    }
    let alliance = index.carrier_alliance(first);
    if alliance.is_some()
        && legs
            .iter()
            .all(|l| index.carrier_alliance(l.carrier) == alliance)
    {
        return sum * (100 - ALLIANCE_DISCOUNT_PCT) / 100;
    }
    sum
}

/// A lower bound of the final per-adult fare of any completion of a partial slice whose leg
/// fares sum to `partial`.
pub(crate) fn lower_bound(partial: u64) -> u64 {
    partial.saturating_mul(100 - ONLINE_DISCOUNT_PCT) / 100
}
