//! Filter counts ("facets") for a search's results: how many itineraries, and from what
//! price, each choice of stops, airline, alliance and layover airport would give, plus the
//! price and duration ranges for sliders.
//!
//! They are counted over the search without its narrowing filters (stops, airlines,
//! alliances, times, durations, layovers, price), so a choice that is currently filtered out
//! still shows what picking it would bring. When no narrowing filter is set that is the same
//! set of results, and no second search runs.

use crate::dto::{FacetValue, Facets, Price};
use spontra_domain::Alliance;
use spontra_engine::{Filters, Index, TripOption};
use spontra_refdata::RefData;
use std::collections::{BTreeMap, BTreeSet};

/// The filters facets are counted under: the trip's party and cabin, nothing narrowing.
pub fn unnarrowed(f: &Filters) -> Filters {
    Filters {
        cabin: f.cabin,
        passengers: f.passengers,
        ..Filters::default()
    }
}

/// Whether `f` narrows the results beyond the party and cabin.
pub fn narrows(f: &Filters) -> bool {
    let base = unnarrowed(f);
    f.max_stops != base.max_stops
        || !f.carriers_include.is_empty()
        || !f.carriers_exclude.is_empty()
        || !f.alliances_include.is_empty()
        || !f.alliances_exclude.is_empty()
        || f.departure_window != base.departure_window
        || f.arrival_window != base.arrival_window
        || f.max_duration_minutes.is_some()
        || !f.layovers_include.is_empty()
        || !f.layovers_exclude.is_empty()
        || f.max_price.is_some()
        || f.max_layover_minutes != base.max_layover_minutes
}

#[derive(Default)]
struct Tally {
    count: usize,
    min_price: u64,
}

impl Tally {
    fn add(&mut self, price: u64) {
        self.min_price = if self.count == 0 {
            price
        } else {
            self.min_price.min(price)
        };
        self.count += 1;
    }
}

pub fn facets(
    index: &Index,
    refdata: &RefData,
    options: &[TripOption],
    money: impl Fn(u64) -> Price,
) -> Facets {
    let mut stops: BTreeMap<u32, Tally> = BTreeMap::new();
    let mut carriers: BTreeMap<String, Tally> = BTreeMap::new();
    let mut alliances: BTreeMap<String, Tally> = BTreeMap::new();
    let mut layovers: BTreeMap<String, Tally> = BTreeMap::new();
    for o in options {
        let max_stops = o.slices.iter().map(|c| c.stops() as u32).max().unwrap_or(0);
        stops.entry(max_stops).or_default().add(o.price);
        let mut own_carriers = BTreeSet::new();
        let mut own_alliances = BTreeSet::new();
        let mut own_layovers = BTreeSet::new();
        for c in &o.slices {
            let legs = c.legs();
            for &id in legs {
                let leg = index.leg(id);
                own_carriers.insert(index.carrier_code(leg.carrier).to_string());
                if let Some(a) = index.carrier_alliance(leg.carrier) {
                    own_alliances.insert(a.as_str().to_string());
                }
            }
            for &id in legs.iter().skip(1) {
                own_layovers.insert(index.airport_code(index.leg(id).origin).to_string());
            }
        }
        for (set, tally) in [
            (own_carriers, &mut carriers),
            (own_alliances, &mut alliances),
            (own_layovers, &mut layovers),
        ] {
            for key in set {
                tally.entry(key).or_default().add(o.price);
            }
        }
    }
    let values = |m: BTreeMap<String, Tally>, label: &dyn Fn(&str) -> String| {
        let mut v: Vec<FacetValue> = m
            .into_iter()
            .map(|(value, t)| FacetValue {
                label: label(&value),
                value,
                count: t.count,
                min_price: money(t.min_price),
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
        v
    };
    let airline_name = |code: &str| {
        code.parse()
            .ok()
            .and_then(|c| refdata.airline(c))
            .map_or_else(|| code.to_string(), |a| a.name.clone())
    };
    let airport_name = |code: &str| {
        code.parse()
            .ok()
            .and_then(|c| refdata.airport(c))
            .map_or_else(|| code.to_string(), |a| format!("{} ({code})", a.city))
    };
    let stop_label = |n: u32| match n {
        0 => "Nonstop".to_string(),
        1 => "1 stop".to_string(),
        n => format!("{n} stops"),
    };
    let prices = options.iter().map(|o| o.price);
    let durations = options.iter().map(|o| o.duration());
    Facets {
        stops: stops
            .into_iter()
            .map(|(n, t)| FacetValue {
                value: n.to_string(),
                label: stop_label(n),
                count: t.count,
                min_price: money(t.min_price),
            })
            .collect(),
        carriers: values(carriers, &airline_name),
        alliances: values(alliances, &|a: &str| {
            Alliance::parse(a).map_or_else(|| a.to_string(), |x| x.display_name().to_string())
        }),
        layovers: values(layovers, &airport_name),
        price_min: prices.clone().min().map(&money),
        price_max: prices.max().map(&money),
        duration_min_minutes: durations.clone().min(),
        duration_max_minutes: durations.max(),
    }
}
