//! Whole trips (one-way, round trip, multi-city), the price calendar, and the round-trip
//! calendar grid.

use crate::pareto::{group_pareto, pareto_front, Criteria};
use crate::query::{CompiledSlice, Filters, SliceQuery};
use crate::rank::{best_scores, ScoreInput};
use crate::search::Candidate;
use crate::Index;
use chrono::NaiveDate;
use spontra_domain::DateRange;

/// Minimum time between arriving on one slice and leaving on the next.
pub const MIN_STOPOVER_MINUTES: u32 = 120;
/// Options per slice carried into the "best" combinations of a multi-slice trip.
const BEAM_PER_SLICE: usize = 10;
/// Combinations kept after each slice is added.
const BEAM_WIDTH: usize = 60;

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

fn compatible(prev: &Candidate, next: &Candidate) -> bool {
    next.dep >= prev.arr + MIN_STOPOVER_MINUTES
}

impl Index {
    /// The options of one slice worth showing: within each group sharing a first flight, the
    /// Pareto set (see [`group_pareto`]), without two-stop itineraries that a direct or
    /// one-stop itinerary beats on both price and duration.
    pub fn slice_options(&self, slice: &SliceQuery, filters: &Filters) -> Vec<Candidate> {
        let q = CompiledSlice::new(self, slice, filters);
        group_pareto(self.slice_candidates_pruned(&q))
    }

    /// Search a trip of one or more slices. For several slices, the result holds every
    /// Pareto-optimal combination plus the best-scored combinations (a beam search).
    pub fn search_trip(&self, slices: &[SliceQuery], filters: &Filters) -> Vec<TripOption> {
        let per_slice: Vec<Vec<Candidate>> = slices
            .iter()
            .map(|s| self.slice_options(s, filters))
            .collect();
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
            let mut all = self.combine(
                &per_slice,
                |cands| {
                    let pts: Vec<Criteria> = cands
                        .iter()
                        .map(|c| (c.price, c.duration(), c.stops() as u32))
                        .collect();
                    pareto_front(&pts)
                },
                None,
            );
            all.extend(self.combine(
                &per_slice,
                |cands| top_by_score(self, cands, BEAM_PER_SLICE),
                Some(BEAM_WIDTH),
            ));
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

    /// Combine slices left to right: `pick` chooses which options of each slice take part;
    /// with `beam`, only the best-scored partial combinations survive each step, otherwise
    /// only the Pareto-optimal ones.
    fn combine(
        &self,
        per_slice: &[Vec<Candidate>],
        pick: impl Fn(&[Candidate]) -> Vec<usize>,
        beam: Option<usize>,
    ) -> Vec<TripOption> {
        let mut partial: Vec<TripOption> = vec![TripOption {
            slices: vec![],
            price: 0,
            pareto: false,
        }];
        for cands in per_slice {
            let chosen = pick(cands);
            let mut next = Vec::new();
            for p in &partial {
                for &i in &chosen {
                    let c = cands[i];
                    if p.slices.last().is_some_and(|prev| !compatible(prev, &c)) {
                        continue;
                    }
                    let mut slices = p.slices.clone();
                    slices.push(c);
                    next.push(TripOption {
                        slices,
                        price: p.price + c.price,
                        pareto: false,
                    });
                }
            }
            partial = match beam {
                Some(width) => {
                    let scores = best_scores(&score_inputs(self, &next));
                    let mut order: Vec<usize> = (0..next.len()).collect();
                    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
                    order.truncate(width);
                    order.into_iter().map(|i| next[i].clone()).collect()
                }
                None => {
                    let pts: Vec<Criteria> = next.iter().map(TripOption::criteria).collect();
                    pareto_front(&pts)
                        .into_iter()
                        .map(|i| next[i].clone())
                        .collect()
                }
            };
        }
        partial
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
                    _ => None,
                };
                grid.push((*d, len, price));
            }
        }
        grid
    }
}

fn top_by_score(index: &Index, cands: &[Candidate], n: usize) -> Vec<usize> {
    let opts: Vec<TripOption> = cands
        .iter()
        .map(|c| TripOption {
            slices: vec![*c],
            price: c.price,
            pareto: false,
        })
        .collect();
    let scores = best_scores(&score_inputs(index, &opts));
    let mut order: Vec<usize> = (0..cands.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
    order.truncate(n);
    order
}
