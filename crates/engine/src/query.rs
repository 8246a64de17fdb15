use crate::index::Index;
use crate::{AirportId, CarrierId};
use chrono::NaiveDate;
use spontra_domain::{Alliance, Cabin, DayWindow, HoursRange, Passengers};

/// One slice of a trip: from any of `origins` to any of `destinations`, leaving on `date` (local
/// date at the origin).
#[derive(Clone, Debug)]
pub struct SliceQuery {
    pub origins: Vec<AirportId>,
    pub destinations: Vec<AirportId>,
    pub date: NaiveDate,
}

/// Who travels, in which cabin, and the user's filters. Prices are totals for the whole party
/// in minor units of the index currency.
#[derive(Clone, Debug)]
pub struct Filters {
    pub cabin: Cabin,
    pub passengers: Passengers,
    pub max_stops: u8,
    pub carriers_include: Vec<CarrierId>,
    pub carriers_exclude: Vec<CarrierId>,
    pub alliances_include: Vec<Alliance>,
    pub alliances_exclude: Vec<Alliance>,
    pub departure_window: DayWindow,
    pub arrival_window: DayWindow,
    pub max_duration_minutes: Option<u32>,
    pub layovers_include: Vec<AirportId>,
    pub layovers_exclude: Vec<AirportId>,
    pub max_price: Option<u64>,
    pub max_layover_minutes: u32,
    /// Whole-journey duration range (explore's time-first filter).
    pub duration_range: Option<HoursRange>,
}

impl Default for Filters {
    fn default() -> Self {
        Self {
            cabin: Cabin::Economy,
            passengers: Passengers::one_adult(),
            max_stops: 2,
            carriers_include: vec![],
            carriers_exclude: vec![],
            alliances_include: vec![],
            alliances_exclude: vec![],
            departure_window: DayWindow::ALL_DAY,
            arrival_window: DayWindow::ALL_DAY,
            max_duration_minutes: None,
            layovers_include: vec![],
            layovers_exclude: vec![],
            max_price: None,
            max_layover_minutes: Filters::DEFAULT_MAX_LAYOVER,
            duration_range: None,
        }
    }
}

impl Filters {
    /// Longest connection offered by default: 12 hours.
    pub const DEFAULT_MAX_LAYOVER: u32 = 12 * 60;
}

/// A slice and its filters turned into lookup tables for the search loops.
pub struct CompiledSlice {
    pub(crate) origins: Vec<AirportId>,
    pub(crate) dests: Vec<AirportId>,
    pub(crate) is_origin: Vec<bool>,
    pub(crate) is_dest: Vec<bool>,
    pub(crate) layover_ok: Vec<bool>,
    pub(crate) carrier_ok: Vec<bool>,
    /// Local day number (days since 1970-01-01) of departure.
    pub(crate) local_day: i64,
    pub(crate) cabin: usize,
    pub(crate) seats: u8,
    pub(crate) passengers: Passengers,
    pub(crate) max_stops: u8,
    pub(crate) dep_window: DayWindow,
    pub(crate) arr_window: DayWindow,
    pub(crate) max_duration: u32,
    pub(crate) min_duration: u32,
    pub(crate) max_price: u64,
    pub(crate) max_layover: u32,
}

pub(crate) fn day_number(date: NaiveDate) -> i64 {
    spontra_domain::utc_minute(date, 0).div_euclid(1440)
}

impl CompiledSlice {
    pub fn new(index: &Index, slice: &SliceQuery, f: &Filters) -> Self {
        let n = index.airport_count();
        let mut is_origin = vec![false; n];
        for &o in &slice.origins {
            is_origin[o as usize] = true;
        }
        let mut is_dest = vec![false; n];
        for &d in &slice.destinations {
            is_dest[d as usize] = true;
        }
        let mut layover_ok = if f.layovers_include.is_empty() {
            vec![true; n]
        } else {
            let mut v = vec![false; n];
            for &a in &f.layovers_include {
                v[a as usize] = true;
            }
            v
        };
        for &a in &f.layovers_exclude {
            layover_ok[a as usize] = false;
        }
        // No connection in the origin's or the destination's city (an airport of it, or
        // another airport of the same city): so a city's search and each of its airports'
        // own searches agree on what a connection is.
        for &a in slice.origins.iter().chain(&slice.destinations) {
            for x in index.connect_points(a) {
                layover_ok[x as usize] = false;
            }
        }
        let carrier_ok = (0..index.carrier_count() as CarrierId)
            .map(|c| {
                let alliance = index.carrier_alliance(c);
                (f.carriers_include.is_empty() || f.carriers_include.contains(&c))
                    && !f.carriers_exclude.contains(&c)
                    && (f.alliances_include.is_empty()
                        || alliance.is_some_and(|a| f.alliances_include.contains(&a)))
                    && !alliance.is_some_and(|a| f.alliances_exclude.contains(&a))
            })
            .collect();
        Self {
            origins: slice.origins.clone(),
            dests: slice.destinations.clone(),
            is_origin,
            is_dest,
            layover_ok,
            carrier_ok,
            local_day: day_number(slice.date),
            cabin: f.cabin.index(),
            seats: f.passengers.seats(),
            passengers: f.passengers,
            max_stops: f.max_stops.min(2),
            dep_window: f.departure_window,
            arr_window: f.arrival_window,
            max_duration: f
                .max_duration_minutes
                .unwrap_or(u32::MAX)
                .min(f.duration_range.map(|r| r.max_minutes).unwrap_or(u32::MAX)),
            min_duration: f.duration_range.map(|r| r.min_minutes).unwrap_or(0),
            max_price: f.max_price.unwrap_or(u64::MAX),
            max_layover: f.max_layover_minutes,
        }
    }

    /// Move the compiled slice to another departure date (calendar searches reuse the tables).
    pub fn set_date(&mut self, date: NaiveDate) {
        self.local_day = day_number(date);
    }
}
