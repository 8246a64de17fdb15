//! Filter counts ("facets") for a search's results: how many itineraries, and from what
//! price, each choice of stops, airline, alliance and connection airport gives, plus the price
//! and duration ranges for the sliders — each exactly what choosing it then shows.
//!
//! That holds by construction: the engine runs once without the facet filters (stops,
//! airlines, alliances, connection airports, price, journey time; the party, cabin, time
//! windows and longest connection stay), and both the results and the counts are that set
//! filtered here. The results pass every filter. Each value's count (and "from" price) is what
//! choosing that value alone in its dimension shows with every other filter as it is: "up to N
//! stops" counts what `max_stops = N` keeps; an airline counts the itineraries with a flight
//! by it (the airline filter keeps itineraries with a flight by any chosen airline, as
//! Google Flights' does); a connection airport counts the itineraries connecting there (the
//! filter keeps itineraries connecting in any chosen airport, so nonstops never); an alliance
//! counts the itineraries flown wholly within it (the filter keeps itineraries whose every
//! flight is by a member of a chosen alliance). Chosen values stay listed, with a zero count
//! when nothing has them, so they can be unchosen. The price range is taken without the price
//! cap, the journey-time range without the journey-time cap (and, as that cap, per slice).

use crate::dto::{FacetValue, Facets, Price};
use spontra_domain::Alliance;
use spontra_engine::{AirportId, Filters, Index, TripOption};
use spontra_refdata::RefData;
use std::collections::{BTreeMap, BTreeSet};

/// The filters the engine runs with: the request's, without the facet filters.
pub fn engine_filters(f: &Filters) -> Filters {
    Filters {
        max_stops: 2,
        carriers_include: vec![],
        carriers_exclude: vec![],
        alliances_include: vec![],
        alliances_exclude: vec![],
        layovers_include: vec![],
        layovers_exclude: vec![],
        max_price: None,
        max_duration_minutes: None,
        ..f.clone()
    }
}

/// A facet dimension, left out when its own counts are taken.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dim {
    Stops,
    Carriers,
    Alliances,
    Layovers,
    Price,
    Duration,
}

/// What one itinerary is, for the facet filters.
struct Traits {
    stops: u32,
    carriers: BTreeSet<String>,
    alliances: BTreeSet<Alliance>,
    /// A flight's airline is in no alliance (so no alliance choice keeps it).
    unallied: bool,
    layovers: BTreeSet<AirportId>,
    price: u64,
    /// The longest slice (the journey-time cap applies to each slice).
    longest: u32,
}

fn traits(index: &Index, o: &TripOption) -> Traits {
    let mut t = Traits {
        stops: 0,
        carriers: BTreeSet::new(),
        alliances: BTreeSet::new(),
        unallied: false,
        layovers: BTreeSet::new(),
        price: o.price,
        longest: 0,
    };
    for c in &o.slices {
        t.stops = t.stops.max(c.stops() as u32);
        t.longest = t.longest.max(c.duration());
        let legs: Vec<_> = c.legs().iter().map(|&id| index.leg(id)).collect();
        for leg in &legs {
            t.carriers
                .insert(index.carrier_code(leg.carrier).to_string());
            match index.carrier_alliance(leg.carrier) {
                Some(a) => {
                    t.alliances.insert(a);
                }
                None => t.unallied = true,
            }
        }
        for pair in legs.windows(2) {
            t.layovers.insert(pair[0].dest);
            t.layovers.insert(pair[1].origin);
        }
    }
    t
}

/// The request's facet filters, in the terms of [`Traits`].
struct Choice<'a> {
    f: &'a Filters,
    carriers: BTreeSet<String>,
    carriers_excluded: BTreeSet<String>,
    alliances: BTreeSet<Alliance>,
    layovers: BTreeSet<AirportId>,
}

impl<'a> Choice<'a> {
    fn new(index: &Index, f: &'a Filters) -> Self {
        let code = |c: &spontra_engine::CarrierId| index.carrier_code(*c).to_string();
        Choice {
            f,
            carriers: f.carriers_include.iter().map(code).collect(),
            carriers_excluded: f.carriers_exclude.iter().map(code).collect(),
            alliances: f.alliances_include.iter().copied().collect(),
            layovers: f.layovers_include.iter().copied().collect(),
        }
    }

    /// Whether `t` passes every filter but `skip`'s own choice (exclusions always apply).
    fn keeps(&self, t: &Traits, skip: Option<Dim>) -> bool {
        let f = self.f;
        let on = |d: Dim| skip != Some(d);
        (!on(Dim::Stops) || t.stops <= f.max_stops as u32)
            && (!on(Dim::Carriers)
                || self.carriers.is_empty()
                || carrier_matches(t, &self.carriers))
            && t.carriers.is_disjoint(&self.carriers_excluded)
            && (!on(Dim::Alliances)
                || self.alliances.is_empty()
                || alliance_matches(t, &self.alliances))
            && !t.alliances.iter().any(|x| f.alliances_exclude.contains(x))
            && (!on(Dim::Layovers)
                || self.layovers.is_empty()
                || layover_matches(t, &self.layovers))
            && !t.layovers.iter().any(|a| f.layovers_exclude.contains(a))
            && (!on(Dim::Price) || f.max_price.is_none_or(|m| t.price <= m))
            && (!on(Dim::Duration) || f.max_duration_minutes.is_none_or(|m| t.longest <= m))
    }
}

/// A flight of the itinerary is by one of `chosen`.
fn carrier_matches(t: &Traits, chosen: &BTreeSet<String>) -> bool {
    !t.carriers.is_disjoint(chosen)
}

/// Every flight of the itinerary is by a member of one of `chosen`.
fn alliance_matches(t: &Traits, chosen: &BTreeSet<Alliance>) -> bool {
    !t.unallied && t.alliances.is_subset(chosen)
}

/// The itinerary connects in one of `chosen`.
fn layover_matches(t: &Traits, chosen: &BTreeSet<AirportId>) -> bool {
    !t.layovers.is_disjoint(chosen)
}

#[derive(Default)]
struct Tally {
    count: usize,
    min_price: Option<u64>,
}

impl Tally {
    fn add(&mut self, price: u64) {
        self.min_price = Some(self.min_price.map_or(price, |m| m.min(price)));
        self.count += 1;
    }
}

/// One list dimension's tallies: for each value any itinerary has (and each chosen one), what
/// choosing that value alone keeps among `kept` (the itineraries passing every other filter).
/// `alone(t)`: whether choosing one of `t`'s own values alone keeps `t` — always for "any of"
/// filters (airlines, connection airports), only with a single value for "all within" ones
/// (alliances).
fn tally_dimension<'a, K: Ord + Clone + 'a>(
    kept: impl Iterator<Item = &'a Traits>,
    own: impl Fn(&'a Traits) -> &'a BTreeSet<K>,
    alone: impl Fn(&'a Traits) -> bool,
    chosen: &BTreeSet<K>,
    all: impl Iterator<Item = &'a Traits>,
) -> BTreeMap<K, Tally> {
    let mut tallies: BTreeMap<K, Tally> = all
        .flat_map(|t| own(t).iter().cloned())
        .chain(chosen.iter().cloned())
        .map(|k| (k, Tally::default()))
        .collect();
    for t in kept.filter(|t| alone(t)) {
        for v in own(t) {
            if let Some(tally) = tallies.get_mut(v) {
                tally.add(t.price);
            }
        }
    }
    tallies.retain(|k, t| t.count > 0 || chosen.contains(k));
    tallies
}

/// The results (the itineraries of `options` that pass every filter of `f`) and their facets,
/// each itinerary's traits worked out once for both.
pub fn results_and_facets(
    index: &Index,
    refdata: &RefData,
    options: Vec<TripOption>,
    f: &Filters,
    money: impl Fn(u64) -> Price,
) -> (Vec<TripOption>, Facets) {
    let choice = &Choice::new(index, f);
    let all: Vec<Traits> = options.iter().map(|o| traits(index, o)).collect();
    let results = options
        .into_iter()
        .zip(&all)
        .filter(|(_, t)| choice.keeps(t, None))
        .map(|(o, _)| o)
        .collect();
    let without = |d: Dim| all.iter().filter(move |t| choice.keeps(t, Some(d)));

    let mut stops: BTreeMap<u32, Tally> = BTreeMap::new();
    for t in without(Dim::Stops) {
        for n in t.stops..=2 {
            stops.entry(n).or_default().add(t.price);
        }
    }

    let carriers = tally_dimension(
        without(Dim::Carriers),
        |t| &t.carriers,
        |_| true,
        &choice.carriers,
        all.iter(),
    );
    let alliances = tally_dimension(
        without(Dim::Alliances),
        |t| &t.alliances,
        |t| !t.unallied && t.alliances.len() == 1,
        &choice.alliances,
        all.iter(),
    );
    let layovers = tally_dimension(
        without(Dim::Layovers),
        |t| &t.layovers,
        |_| true,
        &choice.layovers,
        all.iter(),
    );

    let value = |value: String, label: String, t: &Tally| FacetValue {
        value,
        label,
        count: t.count,
        min_price: t.min_price.map(&money),
    };
    let by_count = |mut v: Vec<FacetValue>| {
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
        v
    };
    let airline_name = |code: &str| {
        code.parse()
            .ok()
            .and_then(|c| refdata.airline(c))
            .map_or_else(|| code.to_string(), |a| a.name.clone())
    };
    let airport_label = |a: AirportId| {
        let code = index.airport_code(a).to_string();
        refdata
            .airport(index.airport_code(a))
            .map_or_else(|| code.clone(), |x| format!("{} ({code})", x.city))
    };
    let stop_label = |n: u32| match n {
        0 => "Nonstop".to_string(),
        1 => "Up to 1 stop".to_string(),
        n => format!("Up to {n} stops"),
    };
    let prices = without(Dim::Price).map(|t| t.price);
    let durations = without(Dim::Duration).map(|t| t.longest);
    let facets = Facets {
        stops: stops
            .iter()
            .map(|(n, t)| value(n.to_string(), stop_label(*n), t))
            .collect(),
        carriers: by_count(
            carriers
                .iter()
                .map(|(c, t)| value(c.clone(), airline_name(c), t))
                .collect(),
        ),
        alliances: by_count(
            alliances
                .iter()
                .map(|(a, t)| value(a.as_str().to_string(), a.display_name().to_string(), t))
                .collect(),
        ),
        layovers: by_count(
            layovers
                .iter()
                .map(|(a, t)| value(index.airport_code(*a).to_string(), airport_label(*a), t))
                .collect(),
        ),
        price_min: prices.clone().min().map(&money),
        price_max: prices.max().map(&money),
        duration_min_minutes: durations.clone().min(),
        duration_max_minutes: durations.max(),
    };
    (results, facets)
}
