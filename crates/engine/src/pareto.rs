//! Pareto sets over (price, total duration, stops): an itinerary is dominated when another is
//! no worse on all three and better on one.

use crate::search::Candidate;

/// A point to compare: (price, duration, stops).
pub type Criteria = (u64, u32, u32);

/// Indices of the non-dominated points, in ascending (price, duration, stops) order.
/// Identical points do not dominate each other, so all copies are kept.
pub fn pareto_front(points: &[Criteria]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by_key(|&i| points[i]);
    // min_duration[s]: the shortest duration seen so far among points with exactly s stops,
    // over groups strictly before the current one.
    let max_stops = points.iter().map(|p| p.2).max().unwrap_or(0) as usize;
    let mut min_duration = vec![u32::MAX; max_stops + 1];
    let mut out = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let p = points[order[i]];
        let mut j = i;
        while j < order.len() && points[order[j]] == p {
            j += 1;
        }
        let dominated = min_duration[..=p.2 as usize].iter().any(|&d| d <= p.1);
        if !dominated {
            out.extend_from_slice(&order[i..j]);
        }
        let slot = &mut min_duration[p.2 as usize];
        *slot = (*slot).min(p.1);
        i = j;
    }
    out
}

fn criteria(c: &Candidate) -> Criteria {
    (c.price, c.duration(), c.stops() as u32)
}

/// The itineraries worth showing for one slice: within each group of itineraries that share
/// their first flight, the Pareto set over (price, duration, stops). This keeps one good
/// option per departure while dropping, say, a two-stop that its own one-stop beats.
/// Output is sorted by [`Candidate::sort_key`] and has no duplicates.
pub fn group_pareto(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_unstable_by_key(|c| (c.legs[0], c.sort_key()));
    candidates.dedup();
    let mut out = Vec::with_capacity(candidates.len() / 2 + 1);
    let mut i = 0;
    while i < candidates.len() {
        let mut j = i;
        while j < candidates.len() && candidates[j].legs[0] == candidates[i].legs[0] {
            j += 1;
        }
        let group = &candidates[i..j];
        if group.len() == 1 {
            out.push(group[0]);
        } else {
            let points: Vec<Criteria> = group.iter().map(criteria).collect();
            out.extend(pareto_front(&points).into_iter().map(|k| group[k]));
        }
        i = j;
    }
    out.sort_unstable_by_key(Candidate::sort_key);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dominates(a: Criteria, b: Criteria) -> bool {
        a.0 <= b.0 && a.1 <= b.1 && a.2 <= b.2 && a != b
    }

    proptest! {
        #[test]
        fn front_matches_the_definition(points in proptest::collection::vec((0u64..20, 0u32..20, 0u32..3), 0..40)) {
            let mut fast = pareto_front(&points);
            fast.sort();
            let slow: Vec<usize> = (0..points.len())
                .filter(|&i| !points.iter().any(|&p| dominates(p, points[i])))
                .collect();
            prop_assert_eq!(fast, slow);
        }
    }
}
