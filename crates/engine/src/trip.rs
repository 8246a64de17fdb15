//! Whole trips (one-way, round trip, multi-city), the price calendar, and the round-trip
//! calendar grid.

use crate::pareto::{group_pareto, pareto_front, Criteria};
use crate::query::{CompiledSlice, Filters, SliceQuery};
use crate::rank::{best_scores, ScoreInput};
use crate::search::Candidate;
use crate::{AirportId, Index};
use chrono::NaiveDate;
use spontra_domain::DateRange;

/// Minimum time between arriving on one slice and leaving on the next.
pub const MIN_STOPOVER_MINUTES: u32 = 120;
/// Per slice of a multi-slice trip, the best-scored options of each kind (first and last
/// airport, airlines, stops) carried into the combinations.
const PER_KIND: usize = 2;
/// Most options of one slice carried into the combinations.
const MAX_PER_SLICE: usize = 120;
/// For each option of a slice, how many of the best earlier combinations it is paired with.
const PARTNERS: usize = 4;
/// Most combinations kept after each slice is added.
const MAX_PARTIAL: usize = 3_000;

/// One bookable option for the whole trip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TripOption {
    pub slices: Vec<Candidate>,
    /// Total for the party, minor units.
    pub price: u64,
    /// Not dominated on (price, total flying-and-connecting time, total stops) by any other
    /// option of the trip.
    pub pareto: bool,
}

impl TripOption {
    pub fn duration(&self) -> u32 {
        self.slices.iter().map(|c| c.duration()).sum()
    }
    pub fn stops(&self) -> u32 {
        self.slices.iter().map(|c| c.stops() as u32).sum()
    }
    fn criteria(&self) -> Criteria {
        (self.price, self.duration(), self.stops())
    }
}

/// Score inputs for ranking `options`.
pub fn score_inputs(index: &Index, options: &[TripOption]) -> Vec<ScoreInput> {
    options
        .iter()
        .map(|o| ScoreInput {
            price: o.price,
            duration: o.duration(),
            stops: o.stops(),
            self_transfers: o.slices.iter().filter(|c| c.self_transfer()).count() as u32,
            airport_changes: o.slices.iter().filter(|c| c.airport_change()).count() as u32,
            night_departures: o
                .slices
                .iter()
                .filter(|c| {
                    let first = index.leg(c.legs[0]);
                    index.local_day_minute(first.origin, first.dep).1 < 360
                })
                .count() as u32,
        })
        .collect()
}

/// One slice of [`cheapest_chain`]: its options, and for each the price of the cheapest chain
/// ending with it and that chain's option on the slice before (`u64::MAX`: none arrives in
/// time).
type Layer = (Vec<Candidate>, Vec<(u64, usize)>);

/// A slice's options for each (origin airport, destination airport) pair with any.
pub type PairOptions = Vec<((AirportId, AirportId), Vec<Candidate>)>;

/// The cheapest sequence of one option per slice, each at least [`MIN_STOPOVER_MINUTES`]
/// after the one before, among options with at most `max_stops` stops; ties go to the last
/// slice's earliest option by [`Candidate::sort_key`] (and, before it, to the chain that
/// arrived first). Exact: a dynamic programme over the slices, each
/// option taking the cheapest chain that has arrived in time for it.
pub fn cheapest_chain(per_slice: &[Vec<Candidate>], max_stops: u8) -> Option<Vec<Candidate>> {
    // For each slice: its options, and for each the cheapest chain's price and predecessor.
    let mut layers: Vec<Layer> = Vec::new();
    for cands in per_slice {
        let mut options: Vec<Candidate> = cands
            .iter()
            .filter(|c| c.stops() <= max_stops)
            .copied()
            .collect();
        options.sort_unstable_by_key(|c| (c.dep, c.sort_key()));
        let costs: Vec<(u64, usize)> = match layers.last() {
            None => options.iter().map(|c| (c.price, usize::MAX)).collect(),
            Some((prev, prev_costs)) => {
                // Previous chains by arrival, with the cheapest so far at each point.
                let mut by_arrival: Vec<usize> = (0..prev.len())
                    .filter(|&i| prev_costs[i].0 < u64::MAX)
                    .collect();
                by_arrival.sort_unstable_by_key(|&i| (prev[i].arr, prev_costs[i].0, i));
                let mut best_so_far: Vec<(u64, usize)> = Vec::with_capacity(by_arrival.len());
                for &i in &by_arrival {
                    let here = (prev_costs[i].0, i);
                    let b = best_so_far
                        .last()
                        .map_or(here, |&b| if here.0 < b.0 { here } else { b });
                    best_so_far.push(b);
                }
                options
                    .iter()
                    .map(|c| {
                        // Chains that arrived at least the stopover before `c` leaves.
                        let n = by_arrival.partition_point(|&i| {
                            prev[i].arr.saturating_add(MIN_STOPOVER_MINUTES) <= c.dep
                        });
                        match n {
                            0 => (u64::MAX, usize::MAX),
                            n => (
                                best_so_far[n - 1]
                                    .0
                                    .saturating_add(c.price)
                                    .min(u64::MAX - 1),
                                best_so_far[n - 1].1,
                            ),
                        }
                    })
                    .collect()
            }
        };
        layers.push((options, costs));
    }
    let (last, costs) = layers.last()?;
    let mut at = (0..last.len())
        .filter(|&i| costs[i].0 < u64::MAX)
        .min_by_key(|&i| (costs[i].0, last[i].sort_key()))?;
    let mut chain = Vec::with_capacity(layers.len());
    for (options, costs) in layers.iter().rev() {
        chain.push(options[at]);
        at = costs[at].1;
    }
    chain.reverse();
    Some(chain)
}

/// Every pair's options, in [`Candidate::sort_key`] order.
fn union(pairs: &PairOptions) -> Vec<Candidate> {
    let mut all: Vec<Candidate> = pairs.iter().flat_map(|(_, o)| o.iter().copied()).collect();
    all.sort_unstable_by_key(Candidate::sort_key);
    all
}

/// Two slices, the second from the first's destinations back to its origins.
fn is_round_trip(slices: &[SliceQuery]) -> bool {
    let same = |a: &[AirportId], b: &[AirportId]| {
        let (mut a, mut b) = (a.to_vec(), b.to_vec());
        a.sort_unstable();
        a.dedup();
        b.sort_unstable();
        b.dedup();
        a == b
    };
    matches!(slices, [out, back] if same(&out.origins, &back.destinations) && same(&out.destinations, &back.origins))
}

fn compatible(prev: &Candidate, next: &Candidate) -> bool {
    next.dep >= prev.arr + MIN_STOPOVER_MINUTES
}

impl Index {
    /// The options of one slice worth showing: for each pair of an origin and a destination
    /// airport, what that pair searched alone shows (see [`Index::pair_options`]). So a
    /// city's search holds every one of its airports' own searches, whole.
    pub fn slice_options(&self, slice: &SliceQuery, filters: &Filters) -> Vec<Candidate> {
        union(&self.pair_options(slice, filters))
    }

    /// For each (origin airport, destination airport) of `slice` with options, the options
    /// of that pair alone: within each group sharing a first flight, the Pareto set (see
    /// [`group_pareto`]), without two-stop itineraries that a direct or one-stop itinerary
    /// of the pair beats on both price and duration.
    pub fn pair_options(&self, slice: &SliceQuery, filters: &Filters) -> PairOptions {
        let mut out = Vec::new();
        for &o in &slice.origins {
            for &d in &slice.destinations {
                if o == d {
                    continue;
                }
                let pair = SliceQuery {
                    origins: vec![o],
                    destinations: vec![d],
                    date: slice.date,
                };
                let q = CompiledSlice::new(self, &pair, filters);
                let options = group_pareto(self.slice_candidates_pruned(&q));
                if !options.is_empty() {
                    out.push(((o, d), options));
                }
            }
        }
        out
    }

    /// Search a trip of one or more slices. For several slices, the result is a varied set of
    /// combinations (see `combine`), the Pareto-optimal ones marked. A round trip between
    /// cities also holds, for each pair of airports, every combination that pair's own round
    /// trip finds (out and back between the same two airports), besides the combinations
    /// across the cities' airports.
    pub fn search_trip(&self, slices: &[SliceQuery], filters: &Filters) -> Vec<TripOption> {
        let by_pair: Vec<PairOptions> = slices
            .iter()
            .map(|s| self.pair_options(s, filters))
            .collect();
        let per_slice: Vec<Vec<Candidate>> = by_pair.iter().map(union).collect();
        if per_slice.is_empty() || per_slice.iter().any(|v| v.is_empty()) {
            return vec![];
        }
        let max_price = filters.max_price.unwrap_or(u64::MAX);
        let mut options: Vec<TripOption> = if per_slice.len() == 1 {
            per_slice[0]
                .iter()
                .map(|c| TripOption {
                    slices: vec![*c],
                    price: c.price,
                    pareto: false,
                })
                .collect()
        } else {
            let mut all = self.combinations(&per_slice);
            if is_round_trip(slices) && slices[0].origins.len() * slices[0].destinations.len() > 1 {
                for ((o, d), out) in &by_pair[0] {
                    let back = by_pair[1].iter().find(|(p, _)| *p == (*d, *o));
                    if let Some((_, back)) = back {
                        all.extend(self.combinations(&[out.clone(), back.clone()]));
                    }
                }
            }
            all.sort_by(|a, b| {
                a.slices
                    .iter()
                    .map(|c| c.sort_key())
                    .cmp(b.slices.iter().map(|c| c.sort_key()))
            });
            all.dedup_by(|a, b| a.slices == b.slices);
            all
        };
        options.retain(|o| o.price <= max_price);
        let pts: Vec<Criteria> = options.iter().map(TripOption::criteria).collect();
        for i in pareto_front(&pts) {
            options[i].pareto = true;
        }
        options
    }

    /// The combinations a trip of several slices offers: a varied set (see `combine`) and the
    /// cheapest trip with at most n stops on a slice, for each n, whatever the varied set
    /// carried — so the Cheapest tab, the "nonstop" filter's price and the calendar's cell
    /// are the same figure.
    fn combinations(&self, per_slice: &[Vec<Candidate>]) -> Vec<TripOption> {
        let mut all = self.combine(per_slice);
        for stops in 0..=2 {
            if let Some(slices) = cheapest_chain(per_slice, stops) {
                let price = slices.iter().map(|c| c.price).sum();
                all.push(TripOption {
                    slices,
                    price,
                    pareto: false,
                });
            }
        }
        all
    }

    /// Combine slices left to right into a varied set, as a traveller comparing trips expects:
    /// each slice contributes its best options of every kind (other airports of the city,
    /// other airlines, cheaper connections — not only the best-scored nonstop), plus its
    /// Pareto set; each of them is paired with the best few earlier combinations it fits
    /// (and the cheapest one), and each earlier combination with the best and the cheapest
    /// option of the slice that fits it. So every kind of outbound appears with good returns
    /// and every kind of return with good outbounds; and since the slices' prices add up, the
    /// cheapest combination of the options carried is among these pairings.
    fn combine(&self, per_slice: &[Vec<Candidate>]) -> Vec<TripOption> {
        let mut partial: Vec<(TripOption, f64)> = vec![(
            TripOption {
                slices: vec![],
                price: 0,
                pareto: false,
            },
            0.0,
        )];
        for cands in per_slice {
            let picked = self.varied(cands);
            let mut next: Vec<(TripOption, f64)> = Vec::new();
            let mut add = |p: &(TripOption, f64), (c, score): (Candidate, f64)| {
                let mut slices = p.0.slices.clone();
                slices.push(c);
                next.push((
                    TripOption {
                        slices,
                        price: p.0.price + c.price,
                        pareto: false,
                    },
                    p.1 + score,
                ));
            };
            let fits = |p: &TripOption, c: &Candidate| {
                p.slices.last().is_none_or(|prev| compatible(prev, c))
            };
            // Earlier combinations best first; ties by price.
            partial.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.price.cmp(&b.0.price)));
            for &(c, score) in &picked {
                let fitting = partial.iter().filter(|p| fits(&p.0, &c));
                for p in fitting.clone().take(PARTNERS) {
                    add(p, (c, score));
                }
                if let Some(p) = fitting.min_by_key(|p| p.0.price) {
                    add(p, (c, score));
                }
            }
            for p in &partial {
                let fitting = picked.iter().filter(|(c, _)| fits(&p.0, c));
                if let Some(&best) = fitting.clone().min_by(|a, b| a.1.total_cmp(&b.1)) {
                    add(p, best);
                }
                if let Some(&cheapest) = fitting.min_by_key(|(c, _)| c.price) {
                    add(p, cheapest);
                }
            }
            next.sort_by(|a, b| {
                a.0.slices
                    .iter()
                    .map(|c| c.sort_key())
                    .cmp(b.0.slices.iter().map(|c| c.sort_key()))
            });
            next.dedup_by(|a, b| a.0.slices == b.0.slices);
            if next.len() > MAX_PARTIAL {
                next.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.price.cmp(&b.0.price)));
                next.truncate(MAX_PARTIAL);
            }
            partial = next;
        }
        partial.into_iter().map(|(o, _)| o).collect()
    }

    /// The options of one slice that take part in combinations, with their scores (lower is
    /// better): the best `PER_KIND` of each kind, the Pareto set, at most `MAX_PER_SLICE`.
    fn varied(&self, cands: &[Candidate]) -> Vec<(Candidate, f64)> {
        let single: Vec<TripOption> = cands
            .iter()
            .map(|c| TripOption {
                slices: vec![*c],
                price: c.price,
                pareto: false,
            })
            .collect();
        let scores = best_scores(&score_inputs(self, &single));
        let mut order: Vec<usize> = (0..cands.len()).collect();
        order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
        let pts: Vec<Criteria> = cands
            .iter()
            .map(|c| (c.price, c.duration(), c.stops() as u32))
            .collect();
        let mut keep = vec![false; cands.len()];
        for i in pareto_front(&pts) {
            keep[i] = true;
        }
        let mut per_kind: std::collections::HashMap<(u16, u16, Vec<u16>, u8), usize> =
            std::collections::HashMap::new();
        for &i in &order {
            let c = &cands[i];
            let legs: Vec<_> = c.legs().iter().map(|&id| self.leg(id)).collect();
            let mut carriers: Vec<u16> = legs.iter().map(|l| l.carrier).collect();
            carriers.sort_unstable();
            carriers.dedup();
            let kind = (
                legs[0].origin,
                legs[legs.len() - 1].dest,
                carriers,
                c.stops(),
            );
            let n = per_kind.entry(kind).or_default();
            if *n < PER_KIND {
                *n += 1;
                keep[i] = true;
            }
        }
        let mut picked: Vec<usize> = order
            .into_iter()
            .filter(|&i| keep[i])
            .take(MAX_PER_SLICE)
            .collect();
        // The slice's cheapest option always takes part.
        if let Some(cheapest) = (0..cands.len()).min_by_key(|&i| cands[i].sort_key()) {
            if !picked.contains(&cheapest) {
                picked.push(cheapest);
            }
        }
        picked.into_iter().map(|i| (cands[i], scores[i])).collect()
    }

    /// The cheapest itinerary for each departure date in `dates`.
    pub fn calendar(
        &self,
        slice: &SliceQuery,
        filters: &Filters,
        dates: DateRange,
    ) -> Vec<(NaiveDate, Option<Candidate>)> {
        let mut q = CompiledSlice::new(self, slice, filters);
        dates
            .days()
            .map(|d| {
                q.set_date(d);
                (d, self.cheapest(&q))
            })
            .collect()
    }

    /// Round-trip grid: for each departure date and each trip length (nights) in
    /// `lengths`, the cheapest outbound plus the cheapest return. Pricing is per slice, so
    /// the cheapest pair is the pair of cheapest slices when they do not overlap in time.
    pub fn round_trip_calendar(
        &self,
        outbound: &SliceQuery,
        filters: &Filters,
        departures: DateRange,
        lengths: std::ops::RangeInclusive<u32>,
    ) -> Vec<(NaiveDate, u32, Option<u64>)> {
        let inbound = SliceQuery {
            origins: outbound.destinations.clone(),
            destinations: outbound.origins.clone(),
            date: outbound.date,
        };
        let out_prices = self.calendar(outbound, filters, departures);
        let first_in = departures.first() + chrono::Days::new(*lengths.start() as u64);
        let last_in = departures.last() + chrono::Days::new(*lengths.end() as u64);
        let in_range = DateRange::new(first_in, last_in, i64::MAX).unwrap_or(departures);
        let in_prices: std::collections::HashMap<NaiveDate, Option<Candidate>> = self
            .calendar(&inbound, filters, in_range)
            .into_iter()
            .collect();
        let mut grid = Vec::new();
        for (d, out) in &out_prices {
            for len in lengths.clone() {
                let back = *d + chrono::Days::new(len as u64);
                let inn = in_prices.get(&back).copied().flatten();
                let price = match (out, inn) {
                    (Some(o), Some(i)) if compatible(o, &i) => Some(o.price + i.price),
                    // The cheapest of each way do not fit together (the return leaves too soon
                    // after the outbound lands): the cheapest pair that does, as the search
                    // finds it.
                    (Some(_), Some(_)) => {
                        let out_slice = SliceQuery {
                            date: *d,
                            ..outbound.clone()
                        };
                        let in_slice = SliceQuery {
                            date: back,
                            ..inbound.clone()
                        };
                        let both = [
                            self.slice_options(&out_slice, filters),
                            self.slice_options(&in_slice, filters),
                        ];
                        cheapest_chain(&both, filters.max_stops)
                            .map(|c| c.iter().map(|x| x.price).sum())
                    }
                    _ => None,
                };
                grid.push((*d, len, price));
            }
        }
        grid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn option(dep: u32, len: u32, price: u64, legs: u8) -> Candidate {
        Candidate {
            legs: [dep, dep + 1, dep + 2],
            len: legs,
            flags: 0,
            price,
            dep,
            arr: dep + len,
        }
    }

    proptest! {
        /// The cheapest chain is the brute-force minimum over every sequence that fits.
        #[test]
        fn cheapest_chain_is_the_minimum(
            slices in proptest::collection::vec(
                proptest::collection::vec((0u32..3000, 60u32..900, 1u64..500, 1u8..=3), 0..8),
                1..4,
            ),
            max_stops in 0u8..=2,
        ) {
            let per_slice: Vec<Vec<Candidate>> = slices
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    s.iter()
                        .map(|&(dep, len, price, legs)| option(dep + 1500 * k as u32, len, price, legs))
                        .collect()
                })
                .collect();
            let mut best: Option<u64> = None;
            let mut chains: Vec<(u64, Option<&Candidate>)> = vec![(0, None)];
            for s in &per_slice {
                let mut next = vec![];
                for (price, prev) in &chains {
                    for c in s.iter().filter(|c| c.stops() <= max_stops) {
                        if prev.is_none_or(|p| compatible(p, c)) {
                            next.push((price + c.price, Some(c)));
                        }
                    }
                }
                chains = next;
            }
            for (price, _) in &chains {
                best = Some(best.map_or(*price, |b| b.min(*price)));
            }
            let found = cheapest_chain(&per_slice, max_stops);
            prop_assert_eq!(found.as_ref().map(|c| c.iter().map(|x| x.price).sum::<u64>()), best);
            if let Some(chain) = found {
                for w in chain.windows(2) {
                    prop_assert!(compatible(&w[0], &w[1]));
                }
                prop_assert!(chain.iter().all(|c| c.stops() <= max_stops));
            }
        }
    }
}
