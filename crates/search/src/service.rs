//! The search service: parses requests into engine queries and turns engine results into the
//! API's DTOs. Used by the HTTP handlers and by the CLI, so both say the same things.

use crate::dto::*;
use crate::facets;
use crate::horizon::Horizon;
use crate::live::{LiveIndex, Snapshot};
use crate::parse::{self, Params, Place, Window};
use crate::reference::Reference;
use chrono::{DateTime, Days, FixedOffset, NaiveDate};
use spontra_domain::{
    co2_kg_round, great_circle_km, Cabin, CurrencyCode, EuroRate, Money, Passengers, SharedClock,
    SystemClock, UtcMinute,
};
use spontra_engine::{
    adult_fare, best_scores, co2_grams_per_passenger, leg_co2_grams, score_inputs, sort_by,
    Candidate, Filters, Index, LegId, SliceQuery, SortOrder, TripOption,
};
use spontra_http::{ApiError, Cursor, ErrorCode, FieldErrors, Position};
use spontra_refdata::RefData;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

pub const MAX_SLICES: usize = 6;
pub const CALENDAR_MAX_DAYS: i64 = 62;
pub const ROUND_TRIP_CALENDAR_MAX_DAYS: i64 = 31;
pub const EXPLORE_MAX_DAYS: i64 = 14;

/// The currency prices are shown in, and its ECB reference rate against the inventory's
/// currency (none when they are the same). Prices are converted only here, at presentation,
/// in integer minor units rounded half up (`EuroRate::convert`).
#[derive(Clone, Copy, Debug)]
pub struct Display {
    pub currency: CurrencyCode,
    pub rate: Option<EuroRate>,
}

impl Display {
    pub fn price(&self, index_minor: u64) -> Price {
        let minor = self.rate.map_or(index_minor, |r| r.convert(index_minor));
        Price {
            amount: Money::new(minor as i64, self.currency).decimal(),
            currency: self.currency.to_string(),
            minor,
        }
    }

    /// The inventory-currency bound of a cap given in this currency: exactly the prices whose
    /// converted amount is within the cap.
    pub fn index_cap(&self, display_minor: u64) -> u64 {
        self.rate
            .map_or(display_minor, |r| r.max_eur_within(display_minor))
    }

    pub fn exchange_rate(&self, from: CurrencyCode) -> Option<ExchangeRate> {
        self.rate.map(|r| ExchangeRate {
            from: from.to_string(),
            to: self.currency.to_string(),
            rate: r.decimal(),
            date: r.date.to_string(),
            source: "European Central Bank euro foreign exchange reference rate".into(),
        })
    }
}

/// A parsed search.
#[derive(Clone, Debug)]
pub struct TripQuery {
    pub display: Display,
    pub slices: Vec<SliceQuery>,
    pub places: Vec<(Place, Place)>,
    pub filters: Filters,
    pub sort: SortOrder,
    pub limit: usize,
    /// Where this page starts, and the list it continues.
    pub at: Position,
    pub fingerprint: u64,
}

#[derive(Clone, Debug)]
pub struct CalendarQuery {
    pub display: Display,
    pub slice: SliceQuery,
    pub filters: Filters,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub nights: Option<(u32, u32)>,
}

impl TripQuery {
    /// Point-to-point searches are cheap (milliseconds); long multi-city trips less so.
    pub fn is_heavy(&self) -> bool {
        self.slices.len() > 2
    }

    /// The first and last departure dates.
    pub fn dates(&self) -> (NaiveDate, NaiveDate) {
        let dates = self.slices.iter().map(|s| s.date);
        let first = dates.clone().min().unwrap_or_default();
        (first, dates.max().unwrap_or(first))
    }
}

impl CalendarQuery {
    /// More than a week of days, or a round-trip grid.
    pub fn is_heavy(&self) -> bool {
        (self.to - self.from).num_days() >= 7 || self.nights.is_some()
    }

    /// The first and last departure dates (the grid's returns included).
    pub fn dates(&self) -> (NaiveDate, NaiveDate) {
        let nights = self.nights.map_or(0, |(_, most)| most as u64);
        (self.from, self.to + Days::new(nights))
    }
}

impl ExploreQuery {
    /// One-to-all over more than two days, or with two stops.
    pub fn is_heavy(&self) -> bool {
        (self.to - self.from).num_days() >= 2 || self.filters.max_stops >= 2
    }

    /// The first and last departure dates.
    pub fn dates(&self) -> (NaiveDate, NaiveDate) {
        (self.from, self.to)
    }
}

#[derive(Clone, Debug)]
pub struct ExploreQuery {
    pub display: Display,
    pub origin: Place,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub filters: Filters,
    pub group_by_country: bool,
    pub by_duration: bool,
    pub limit: usize,
    /// Where this page starts, and the list it continues.
    pub at: Position,
    pub fingerprint: u64,
}

/// One slice as given, with the names of its fields for error messages.
#[derive(Default)]
struct RawSlice<'a> {
    origin_field: String,
    destination_field: String,
    date_field: String,
    origin: Option<&'a str>,
    destination: Option<&'a str>,
    date: Option<&'a str>,
    is_return: bool,
}

impl<'a> RawSlice<'a> {
    fn named(
        prefix: &str,
        date_name: &str,
        origin: Option<&'a str>,
        destination: Option<&'a str>,
        date: Option<&'a str>,
    ) -> Self {
        RawSlice {
            origin_field: format!("{prefix}origin"),
            destination_field: format!("{prefix}destination"),
            date_field: format!("{prefix}{date_name}"),
            origin,
            destination,
            date,
            is_return: false,
        }
    }
}

pub struct SearchService {
    refdata: Arc<RefData>,
    /// Airports, cities, airlines and currencies as the API shows them.
    reference: Reference,
    /// The inventory, one snapshot per search or request parsed. Airports, carriers and the
    /// currency are those of every version (each window is built from the same network).
    live: Arc<LiveIndex>,
    /// Market time: what prices' ages are measured from.
    clock: SharedClock,
    /// The days on sale after the live index's window (none: the window is all there is).
    horizon: Option<Horizon>,
}

/// A digest of an ordered result list: its itineraries' flights and prices, in order.
fn list_digest<L: IntoIterator<Item = LegId>>(list: impl Iterator<Item = (L, u64)>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (legs, price) in list {
        for leg in legs {
            leg.hash(&mut h);
        }
        price.hash(&mut h);
        u32::MAX.hash(&mut h);
    }
    h.finish()
}

/// The position of the next page: the first page names the version and list it shows; a later
/// page continues only the same list (`stale_cursor` otherwise).
fn continuing(at: Position, snap: &Snapshot, list: u64) -> Result<Position, ApiError> {
    if at == Position::default() {
        return Ok(Position {
            offset: 0,
            version: snap.version,
            list,
        });
    }
    if at.list != list {
        return Err(Cursor::stale());
    }
    Ok(at)
}

fn rfc3339(t: DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn fingerprint(parts: impl std::fmt::Debug) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{parts:?}").hash(&mut h);
    h.finish()
}

impl SearchService {
    /// `today` is the first bookable date; the last is the index's last day of departures.
    pub fn new(refdata: Arc<RefData>, index: Arc<Index>, today: NaiveDate) -> Self {
        Self {
            reference: Reference::new(refdata.clone()),
            refdata,
            live: Arc::new(LiveIndex::new(index, today)),
            clock: Arc::new(SystemClock),
            horizon: None,
        }
    }

    /// Sell the days of `horizon` too, beyond the live index's window.
    pub fn with_horizon(mut self, horizon: Horizon) -> Self {
        self.horizon = Some(horizon);
        self
    }

    /// Measure prices' ages on `clock` (the market's).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The versions searches read; the follower of `inventory.changed` writes them.
    pub fn live(&self) -> &Arc<LiveIndex> {
        &self.live
    }

    pub fn refdata(&self) -> &RefData {
        &self.refdata
    }

    /// Airports, cities, airlines and currencies as the API shows them.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// The bookable days now: they roll on at the market's midnight.
    pub fn window(&self) -> (NaiveDate, NaiveDate) {
        let window = self.live.current().window();
        match &self.horizon {
            Some(h) => (window.0, h.last_day(window.0)),
            None => window,
        }
    }

    /// The version that answers for departures on `dates` (first and last): the live one, or
    /// the block of far-off days holding them.
    fn snapshot_for(&self, (first, last): (NaiveDate, NaiveDate)) -> Arc<Snapshot> {
        match &self.horizon {
            Some(h) => h.snapshot_for(&self.live, first, last),
            None => self.live.current(),
        }
    }

    /// Whether answering for departures on `dates` would first generate far-off days (the
    /// search is then heavy).
    pub fn would_build(&self, (first, last): (NaiveDate, NaiveDate)) -> bool {
        self.horizon
            .as_ref()
            .is_some_and(|h| h.would_build(self.live.current().today, first, last))
    }

    fn dates(&self) -> Window {
        let (today, last) = self.window();
        Window { today, last }
    }

    fn currency(&self) -> CurrencyCode {
        self.live.current().index.currency()
    }

    /// The display currency named by `currency` (default: the inventory's own).
    fn display(&self, currency: Option<&str>) -> Result<Display, ApiError> {
        let own = self.currency();
        let Some(code) = currency else {
            return Ok(Display {
                currency: own,
                rate: None,
            });
        };
        let unknown = || {
            ApiError::field(
                ErrorCode::UnknownCurrency,
                "currency",
                format!("{code:?} is not one of the currencies with an ECB reference rate"),
            )
        };
        let c = CurrencyCode::parse(code).map_err(|_| unknown())?;
        if c == own {
            return Ok(Display {
                currency: own,
                rate: None,
            });
        }
        // Rates are per euro: other inventory currencies show only themselves.
        if own.as_str() != "EUR" {
            return Err(unknown());
        }
        let rate = self.refdata.euro_rate(c).ok_or_else(unknown)?;
        Ok(Display {
            currency: c,
            rate: Some(rate),
        })
    }

    fn moment(&self, utc: UtcMinute, offset: i32) -> Moment {
        let dt = DateTime::from_timestamp(utc * 60, 0).unwrap_or_default();
        let local = FixedOffset::east_opt(offset * 60).map(|o| dt.with_timezone(&o).to_rfc3339());
        Moment {
            local: local.unwrap_or_else(|| dt.to_rfc3339()),
            utc: dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            utc_offset_minutes: offset,
        }
    }

    // ------------------------------------------------------------------ parsing

    /// A GET search's query string as a [`SearchBody`].
    pub fn search_body_from_query(raw: Option<&str>) -> Result<SearchBody, ApiError> {
        let p = Params::parse(raw)?;
        let mut e = FieldErrors::default();
        let body = SearchBody {
            slices: None,
            origin: p.str("origin"),
            destination: p.str("destination"),
            depart: p.str("depart"),
            return_date: p.str("return"),
            adults: p.u32("adults", &mut e),
            children: p.u32("children", &mut e),
            infants: p.u32("infants", &mut e),
            cabin: p.str("cabin"),
            max_stops: p.u32("max_stops", &mut e),
            carriers: p.list("carriers"),
            exclude_carriers: p.list("exclude_carriers"),
            alliances: p.list("alliances"),
            exclude_alliances: p.list("exclude_alliances"),
            layovers: p.list("layovers"),
            exclude_layovers: p.list("exclude_layovers"),
            depart_time: p.str("depart_time"),
            arrive_time: p.str("arrive_time"),
            max_duration_hours: p.f64("max_duration_hours", &mut e),
            max_layover_hours: p.f64("max_layover_hours", &mut e),
            max_price: p.f64("max_price", &mut e),
            sort: p.str("sort"),
            limit: p.u32("limit", &mut e),
            cursor: p.str("cursor"),
            currency: p.str("currency"),
        };
        e.finish()?;
        Ok(body)
    }

    fn filters(&self, e: &mut FieldErrors, b: &SearchBody, display: &Display) -> Filters {
        let mut f = Filters::default();
        let pax = e.take(parse::passengers(b.adults, b.children, b.infants));
        f.passengers = pax.unwrap_or(Passengers::one_adult());
        f.cabin = e
            .take(parse::cabin(b.cabin.as_deref()))
            .unwrap_or(Cabin::Economy);
        f.max_stops = e.take(parse::max_stops(b.max_stops)).unwrap_or(2);
        let snap = self.live.current();
        let (rd, ix) = (&*self.refdata, &*snap.index);
        let list = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
        f.carriers_include = e
            .take(parse::carriers(ix, "carriers", &list(&b.carriers)))
            .unwrap_or_default();
        f.carriers_exclude = e
            .take(parse::carriers(
                ix,
                "exclude_carriers",
                &list(&b.exclude_carriers),
            ))
            .unwrap_or_default();
        f.alliances_include = e
            .take(parse::alliances("alliances", &list(&b.alliances)))
            .unwrap_or_default();
        f.alliances_exclude = e
            .take(parse::alliances(
                "exclude_alliances",
                &list(&b.exclude_alliances),
            ))
            .unwrap_or_default();
        f.layovers_include = e
            .take(parse::airports(rd, ix, "layovers", &list(&b.layovers)))
            .unwrap_or_default();
        f.layovers_exclude = e
            .take(parse::airports(
                rd,
                ix,
                "exclude_layovers",
                &list(&b.exclude_layovers),
            ))
            .unwrap_or_default();
        if let Some(w) = &b.depart_time {
            f.departure_window = e
                .take(parse::day_window("depart_time", w))
                .unwrap_or(f.departure_window);
        }
        if let Some(w) = &b.arrive_time {
            f.arrival_window = e
                .take(parse::day_window("arrive_time", w))
                .unwrap_or(f.arrival_window);
        }
        if let Some(h) = b.max_duration_hours {
            f.max_duration_minutes = e.take(parse::hours("max_duration_hours", h, 72.0));
        }
        if let Some(h) = b.max_layover_hours {
            f.max_layover_minutes = e
                .take(parse::hours("max_layover_hours", h, 24.0))
                .unwrap_or(f.max_layover_minutes);
        }
        if let Some(p) = b.max_price {
            f.max_price = e
                .take(parse::price("max_price", p, display.currency))
                .map(|m| display.index_cap(m));
        }
        f
    }

    pub fn parse_search(&self, b: &SearchBody) -> Result<TripQuery, ApiError> {
        let mut e = FieldErrors::default();
        let mut raw: Vec<RawSlice> = vec![];
        match &b.slices {
            Some(s) => {
                if b.origin.is_some()
                    || b.destination.is_some()
                    || b.depart.is_some()
                    || b.return_date.is_some()
                {
                    e.push(
                        ErrorCode::InvalidField,
                        "slices",
                        "give either slices or origin/destination/depart, not both",
                    );
                }
                if s.is_empty() || s.len() > MAX_SLICES {
                    e.push(
                        ErrorCode::TooManySlices,
                        "slices",
                        format!(
                            "a trip has between 1 and {MAX_SLICES} slices, got {}",
                            s.len()
                        ),
                    );
                }
                for (i, sl) in s.iter().enumerate().take(MAX_SLICES) {
                    raw.push(RawSlice::named(
                        &format!("slices[{i}]."),
                        "date",
                        Some(&sl.origin),
                        Some(&sl.destination),
                        Some(&sl.date),
                    ));
                }
            }
            None => {
                raw.push(RawSlice::named(
                    "",
                    "depart",
                    b.origin.as_deref(),
                    b.destination.as_deref(),
                    b.depart.as_deref(),
                ));
                if let Some(r) = &b.return_date {
                    raw.push(RawSlice {
                        date_field: "return".into(),
                        date: Some(r),
                        is_return: true,
                        ..RawSlice::default()
                    });
                }
            }
        }
        let own = Display {
            currency: self.currency(),
            rate: None,
        };
        let display = e.take(self.display(b.currency.as_deref())).unwrap_or(own);
        let filters = self.filters(&mut e, b, &display);
        let mut slices = vec![];
        let mut places: Vec<(Place, Place)> = vec![];
        let mut prev_date: Option<NaiveDate> = None;
        for r in &raw {
            let date = match r.date {
                Some(v) => e.take(parse::date(&r.date_field, v, self.dates())),
                None => {
                    e.push(ErrorCode::MissingField, r.date_field.clone(), "required");
                    None
                }
            };
            if let (Some(prev), Some(d)) = (prev_date, date) {
                if d < prev {
                    e.push(
                        ErrorCode::ReturnBeforeOutbound,
                        r.date_field.clone(),
                        format!("{d} is before the previous slice's date {prev}"),
                    );
                }
            }
            prev_date = date.or(prev_date);
            // A return retraces the outbound; its places were checked there.
            let (origin, dest) = if r.is_return {
                match places.last() {
                    Some((o, d)) => (Some(d.clone()), Some(o.clone())),
                    None => (None, None),
                }
            } else {
                let mut place = |field: &str, value: Option<&str>| match value {
                    Some(v) => e.take(parse::place(
                        &self.refdata,
                        &self.live.current().index,
                        field,
                        v,
                    )),
                    None => {
                        e.push(ErrorCode::MissingField, field, "required");
                        None
                    }
                };
                let origin = place(&r.origin_field, r.origin);
                let dest = place(&r.destination_field, r.destination);
                if let (Some(o), Some(d)) = (&origin, &dest) {
                    if o.code == d.code || o.airports.iter().any(|a| d.airports.contains(a)) {
                        e.push(
                            ErrorCode::SameOriginDestination,
                            r.destination_field.clone(),
                            format!("{} and {} are the same place", o.code, d.code),
                        );
                    }
                }
                (origin, dest)
            };
            if let (Some(o), Some(d), Some(date)) = (origin, dest, date) {
                slices.push(SliceQuery {
                    origins: o.airports.clone(),
                    destinations: d.airports.clone(),
                    date,
                });
                places.push((o, d));
            }
        }
        let sort = match &b.sort {
            None => Some(SortOrder::Best),
            Some(s) => {
                let r = SortOrder::parse(s);
                if r.is_none() {
                    e.push(
                        ErrorCode::InvalidField,
                        "sort",
                        format!("{s:?} is not one of best, cheapest, fastest"),
                    );
                }
                r
            }
        };
        let limit = e.take(parse::limit(b.limit, 20, 100));
        let mut key = b.clone();
        key.cursor = None;
        key.limit = None;
        key.sort = None;
        let fp = fingerprint(&key);
        let at = match &b.cursor {
            Some(c) => e.take(Cursor::decode(c, fp)),
            None => Some(Position::default()),
        };
        e.finish()?;
        Ok(TripQuery {
            display,
            slices,
            places,
            filters,
            sort: sort.unwrap_or(SortOrder::Best),
            limit: limit.unwrap_or(20),
            at: at.unwrap_or_default(),
            fingerprint: fp,
        })
    }

    pub fn calendar_params_from_query(raw: Option<&str>) -> Result<CalendarParams, ApiError> {
        let p = Params::parse(raw)?;
        let mut e = FieldErrors::default();
        let c = CalendarParams {
            origin: p.str("origin"),
            destination: p.str("destination"),
            from: p.str("from"),
            to: p.str("to"),
            nights: p.str("nights"),
            adults: p.u32("adults", &mut e),
            children: p.u32("children", &mut e),
            infants: p.u32("infants", &mut e),
            cabin: p.str("cabin"),
            max_stops: p.u32("max_stops", &mut e),
            currency: p.str("currency"),
        };
        e.finish()?;
        Ok(c)
    }

    pub fn parse_calendar(&self, c: &CalendarParams) -> Result<CalendarQuery, ApiError> {
        let body = SearchBody {
            origin: c.origin.clone(),
            destination: c.destination.clone(),
            depart: Some(
                c.from
                    .clone()
                    .unwrap_or_else(|| self.dates().today.to_string()),
            ),
            adults: c.adults,
            children: c.children,
            infants: c.infants,
            cabin: c.cabin.clone(),
            max_stops: c.max_stops,
            currency: c.currency.clone(),
            ..Default::default()
        };
        let mut e = FieldErrors::default();
        let trip = e.take(
            self.parse_search(&body)
                .map_err(|err| rename_field(err, "depart", "from")),
        );
        let from = trip.as_ref().map(|t| t.slices[0].date);
        let to = match &c.to {
            Some(v) => e.take(parse::date("to", v, self.dates())),
            None => from.map(|f| (f + Days::new(30)).min(self.dates().last)),
        };
        let nights = match &c.nights {
            None => None,
            Some(v) => e.take(parse_nights(v)),
        };
        let max = if nights.is_some() {
            ROUND_TRIP_CALENDAR_MAX_DAYS
        } else {
            CALENDAR_MAX_DAYS
        };
        if let (Some(f), Some(t)) = (from, to) {
            e.take(parse::date_range("to", f, t, max));
        }
        e.finish()?;
        let (Some(trip), Some(to)) = (trip, to) else {
            return Err(ApiError::internal("calendar parse left no value"));
        };
        Ok(CalendarQuery {
            display: trip.display,
            from: trip.slices[0].date,
            slice: trip.slices[0].clone(),
            filters: trip.filters,
            to,
            nights,
        })
    }

    pub fn explore_params_from_query(raw: Option<&str>) -> Result<ExploreParams, ApiError> {
        let p = Params::parse(raw)?;
        let mut e = FieldErrors::default();
        let x = ExploreParams {
            origin: p.str("origin"),
            depart_from: p.str("depart_from"),
            depart_to: p.str("depart_to"),
            min_hours: p.f64("min_hours", &mut e),
            max_hours: p.f64("max_hours", &mut e),
            max_price: p.f64("max_price", &mut e),
            max_stops: p.u32("max_stops", &mut e),
            adults: p.u32("adults", &mut e),
            children: p.u32("children", &mut e),
            infants: p.u32("infants", &mut e),
            cabin: p.str("cabin"),
            group_by: p.str("group_by"),
            sort: p.str("sort"),
            limit: p.u32("limit", &mut e),
            cursor: p.str("cursor"),
            currency: p.str("currency"),
        };
        e.finish()?;
        Ok(x)
    }

    pub fn parse_explore(&self, x: &ExploreParams) -> Result<ExploreQuery, ApiError> {
        let mut e = FieldErrors::default();
        let origin = match &x.origin {
            Some(v) => e.take(parse::place(
                &self.refdata,
                &self.live.current().index,
                "origin",
                v,
            )),
            None => {
                e.push(ErrorCode::MissingField, "origin", "required");
                None
            }
        };
        let from = match &x.depart_from {
            Some(v) => e.take(parse::date("depart_from", v, self.dates())),
            None => Some(self.dates().today),
        };
        let to = match &x.depart_to {
            Some(v) => e.take(parse::date("depart_to", v, self.dates())),
            None => from,
        };
        if let (Some(f), Some(t)) = (from, to) {
            e.take(parse::date_range("depart_to", f, t, EXPLORE_MAX_DAYS));
        }
        let mut f = Filters {
            max_stops: 1,
            ..Filters::default()
        };
        if let Some(p) = e.take(parse::passengers(x.adults, x.children, x.infants)) {
            f.passengers = p;
        }
        if let Some(c) = e.take(parse::cabin(x.cabin.as_deref())) {
            f.cabin = c;
        }
        if x.max_stops.is_some() {
            f.max_stops = e.take(parse::max_stops(x.max_stops)).unwrap_or(1);
        }
        f.duration_range = e
            .take(parse::hours_range(x.min_hours, x.max_hours))
            .flatten();
        let display = e
            .take(self.display(x.currency.as_deref()))
            .unwrap_or(Display {
                currency: self.currency(),
                rate: None,
            });
        if let Some(p) = x.max_price {
            f.max_price = e
                .take(parse::price("max_price", p, display.currency))
                .map(|m| display.index_cap(m));
        }
        let group_by_country = match x.group_by.as_deref() {
            None | Some("none") => false,
            Some("country") => true,
            Some(other) => {
                e.push(
                    ErrorCode::InvalidField,
                    "group_by",
                    format!("{other:?} is not one of country, none"),
                );
                false
            }
        };
        let by_duration = match x.sort.as_deref() {
            None | Some("price") | Some("cheapest") => false,
            Some("duration") | Some("fastest") => true,
            Some(other) => {
                e.push(
                    ErrorCode::InvalidField,
                    "sort",
                    format!("{other:?} is not one of price, duration"),
                );
                false
            }
        };
        let limit = e.take(parse::limit(x.limit, 50, 500));
        let fp = fingerprint((
            &x.origin,
            &x.depart_from,
            &x.depart_to,
            x.min_hours,
            x.max_hours,
            x.max_price,
            x.max_stops,
            x.adults,
            x.children,
            x.infants,
            &x.cabin,
            &x.sort,
        ));
        let at = match &x.cursor {
            Some(c) => e.take(Cursor::decode(c, fp)),
            None => Some(Position::default()),
        };
        e.finish()?;
        let (Some(origin), Some(from), Some(to)) = (origin, from, to) else {
            return Err(ApiError::internal("explore parse left no value"));
        };
        Ok(ExploreQuery {
            display,
            origin,
            from,
            to,
            filters: f,
            group_by_country,
            by_duration,
            limit: limit.unwrap_or(50),
            at: at.unwrap_or_default(),
            fingerprint: fp,
        })
    }

    // ------------------------------------------------------------------ running

    pub fn search(&self, q: &TripQuery) -> Result<SearchResponse, ApiError> {
        let started = Instant::now();
        let snap = self.snapshot_for(q.dates());
        let ix = &*snap.index;
        // One engine run without the facet filters; results and counts both filter it, so
        // every count is exactly what choosing it shows (see `facets`).
        let all = ix.search_trip(&q.slices, &facets::engine_filters(&q.filters));
        let (options, facets) =
            facets::results_and_facets(ix, &self.refdata, all, &q.filters, |m| q.display.price(m));
        let inputs = score_inputs(ix, &options);
        let order = sort_by(&inputs, q.sort);
        let list = list_digest(order.iter().map(|&i| {
            let o = &options[i];
            (o.slices.iter().flat_map(|c| c.legs().to_vec()), o.price)
        }));
        let at = continuing(q.at, &snap, list)?;
        let scores = best_scores(&inputs);
        let engine_micros = started.elapsed().as_micros() as u64;
        let summary_of = |o: SortOrder| {
            sort_by(&inputs, o).first().map(|&i| SortSummary {
                price: q.display.price(options[i].price),
                duration_minutes: options[i].duration(),
            })
        };
        let summary = SearchSummary {
            total: options.len(),
            best: summary_of(SortOrder::Best),
            cheapest: summary_of(SortOrder::Cheapest),
            fastest: summary_of(SortOrder::Fastest),
        };
        let end = q.at.offset.saturating_add(q.limit).min(order.len());
        let itineraries = order
            .get(q.at.offset.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .map(|&i| self.itinerary(ix, &options[i], scores[i], &q.filters, &q.display))
            .collect();
        Ok(SearchResponse {
            currency: q.display.currency.to_string(),
            exchange_rate: q.display.exchange_rate(ix.currency()),
            sort: q.sort.as_str().to_string(),
            summary,
            facets,
            itineraries,
            next_cursor: (end < order.len())
                .then(|| Cursor::encode(Position { offset: end, ..at }, q.fingerprint)),
            engine_micros,
            inventory: self.stamp(&snap),
        })
    }

    /// Which version answered, at what market time.
    fn stamp(&self, snap: &Snapshot) -> InventoryStamp {
        InventoryStamp {
            version: snap.version,
            as_of: rfc3339(self.clock.now()),
            prices_observed_until: snap.observed_until.map(rfc3339),
        }
    }

    /// When the least recently reported of `legs` was reported, and how long ago.
    fn freshness(
        &self,
        ix: &Index,
        legs: impl IntoIterator<Item = LegId>,
    ) -> (Option<String>, Option<u64>) {
        let oldest = legs
            .into_iter()
            .map(|id| ix.observed_at(id))
            .try_fold(i64::MAX, |m, o| o.map(|o| m.min(o)));
        match oldest.and_then(|s| DateTime::from_timestamp(s, 0)) {
            Some(at) => (
                Some(rfc3339(at)),
                Some((self.clock.now() - at).num_seconds().max(0) as u64),
            ),
            None => (None, None),
        }
    }

    fn itinerary(
        &self,
        ix: &Index,
        o: &TripOption,
        score: f64,
        f: &Filters,
        d: &Display,
    ) -> ItineraryDto {
        let cabin = f.cabin.index();
        // Per-passenger prices are summed slice by slice, exactly as the total is.
        let (mut adult, mut child, mut infant) = (0u64, 0u64, 0u64);
        let mut co2 = 0u64;
        let mut typical = 0u64;
        let mut ids = vec![];
        let slices = o
            .slices
            .iter()
            .map(|c| {
                let legs: Vec<_> = c.legs().iter().map(|&id| ix.leg(id)).collect();
                let fare = adult_fare(ix, &legs, cabin).unwrap_or(0);
                adult += fare;
                child += Passengers::child_fare(fare);
                infant += Passengers::infant_fare(fare);
                let slice = self.slice(ix, c, f.cabin);
                let kms: Vec<u32> = slice.segments.iter().map(|s| s.distance_km).collect();
                co2 += co2_grams_per_passenger(&kms, cabin);
                let (first, last) = (legs[0], legs[legs.len() - 1]);
                let (a, b) = (
                    ix.airport_lat_lon(first.origin),
                    ix.airport_lat_lon(last.dest),
                );
                typical += leg_co2_grams(great_circle_km(a.0, a.1, b.0, b.1).round() as u32, cabin);
                ids.extend(slice.segments.iter().map(|s| {
                    format!("{}-{}", s.flight, &s.departure.local[..10].replace('-', ""))
                }));
                slice
            })
            .collect();
        let p = f.passengers;
        let mut breakdown = vec![PassengerPrice {
            passenger_type: "adult".into(),
            count: p.adults(),
            each: d.price(adult),
        }];
        if p.children() > 0 {
            breakdown.push(PassengerPrice {
                passenger_type: "child".into(),
                count: p.children(),
                each: d.price(child),
            });
        }
        if p.infants() > 0 {
            breakdown.push(PassengerPrice {
                passenger_type: "infant".into(),
                count: p.infants(),
                each: d.price(infant),
            });
        }
        let (price_observed_at, price_age_seconds) =
            self.freshness(ix, o.slices.iter().flat_map(|c| c.legs().to_vec()));
        ItineraryDto {
            id: ids.join("."),
            price: d.price(o.price),
            price_breakdown: breakdown,
            duration_minutes: o.duration(),
            stops: o.stops(),
            pareto: o.pareto,
            score: (score * 1000.0).round() / 1000.0,
            co2_kg: co2_kg_round(co2),
            typical_co2_kg: co2_kg_round(typical),
            price_observed_at,
            price_age_seconds,
            slices,
        }
    }

    fn slice(&self, ix: &Index, c: &Candidate, cabin: Cabin) -> SliceDto {
        let views: Vec<_> = c.legs().iter().map(|&id| ix.leg_view(id)).collect();
        let segments: Vec<Segment> = views
            .iter()
            .map(|v| Segment {
                carrier: v.carrier.to_string(),
                carrier_name: self
                    .refdata
                    .airline(v.carrier)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                flight: format!("{}{}", v.carrier, v.flight_number),
                origin: v.origin.to_string(),
                destination: v.destination.to_string(),
                departure: self.moment(v.departure, v.departure_offset),
                arrival: self.moment(v.arrival, v.arrival_offset),
                duration_minutes: v.duration_minutes,
                aircraft: v.aircraft.clone(),
                distance_km: v.distance_km,
                cabin: cabin.as_str().to_string(),
            })
            .collect();
        let layovers = views
            .windows(2)
            .map(|w| {
                let (a, b) = (ix.leg(w[0].id), ix.leg(w[1].id));
                let (_, flags) = ix.connection_rule(a, b);
                Layover {
                    arrival_airport: w[0].destination.to_string(),
                    departure_airport: w[1].origin.to_string(),
                    duration_minutes: (w[1].departure - w[0].arrival) as u32,
                    self_transfer: flags & spontra_engine::FLAG_SELF_TRANSFER != 0,
                    airport_change: flags & spontra_engine::FLAG_AIRPORT_CHANGE != 0,
                }
            })
            .collect();
        let (first, last) = (&views[0], &views[views.len() - 1]);
        let local_day = |m: UtcMinute, off: i32| (m + off as i64).div_euclid(1440);
        SliceDto {
            origin: first.origin.to_string(),
            destination: last.destination.to_string(),
            departure: self.moment(first.departure, first.departure_offset),
            arrival: self.moment(last.arrival, last.arrival_offset),
            duration_minutes: c.duration(),
            stops: c.stops() as u32,
            arrival_day_offset: local_day(last.arrival, last.arrival_offset)
                - local_day(first.departure, first.departure_offset),
            self_transfer: c.self_transfer(),
            airport_change: c.airport_change(),
            segments,
            layovers,
        }
    }

    pub fn calendar(&self, q: &CalendarQuery) -> CalendarResponse {
        let started = Instant::now();
        let snap = self.snapshot_for(q.dates());
        let ix = &*snap.index;
        let range = spontra_domain::DateRange::new(q.from, q.to, i64::MAX)
            .unwrap_or(spontra_domain::DateRange::single(q.from));
        let day = |d: NaiveDate, c: Option<Candidate>| CalendarDay {
            date: d.to_string(),
            price: c.map(|c| q.display.price(c.price)),
            duration_minutes: c.map(|c| c.duration()),
            stops: c.map(|c| c.stops() as u32),
        };
        let days: Vec<CalendarDay> = ix
            .calendar(&q.slice, &q.filters, range)
            .into_iter()
            .map(|(d, c)| day(d, c))
            .collect();
        let grid = match q.nights {
            None => vec![],
            Some((lo, hi)) => ix
                .round_trip_calendar(&q.slice, &q.filters, range, lo..=hi)
                .into_iter()
                .map(|(d, n, p)| CalendarCell {
                    depart: d.to_string(),
                    nights: n,
                    return_date: (d + Days::new(n as u64)).to_string(),
                    price: p.map(|p| q.display.price(p)),
                })
                .collect(),
        };
        let cheapest = days
            .iter()
            .filter(|d| d.price.is_some())
            .min_by_key(|d| d.price.as_ref().map(|p| p.minor))
            .cloned();
        CalendarResponse {
            currency: q.display.currency.to_string(),
            exchange_rate: q.display.exchange_rate(ix.currency()),
            days,
            grid,
            cheapest,
            engine_micros: started.elapsed().as_micros() as u64,
            inventory: self.stamp(&snap),
        }
    }

    pub fn explore(&self, q: &ExploreQuery) -> Result<ExploreResponse, ApiError> {
        let started = Instant::now();
        let snap = self.snapshot_for(q.dates());
        let ix = &*snap.index;
        let range = spontra_domain::DateRange::new(q.from, q.to, i64::MAX)
            .unwrap_or(spontra_domain::DateRange::single(q.from));
        let mut hits = ix.explore(&q.origin.airports, range, &q.filters);
        if q.by_duration {
            hits.sort_by_key(|h| (h.best.duration(), h.best.price, h.destination));
        }
        let list = list_digest(hits.iter().map(|h| (h.best.legs().to_vec(), h.best.price)));
        let at = continuing(q.at, &snap, list)?;
        let engine_micros = started.elapsed().as_micros() as u64;
        let total = hits.len();
        let end = q.at.offset.saturating_add(q.limit).min(total);
        let cabin = q.filters.cabin.index();
        let destinations: Vec<ExploreDestination> = hits
            .get(q.at.offset.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .filter_map(|h| {
                let code = ix.airport_code(h.destination);
                let airport = self.reference.airport_dto(code)?;
                let views: Vec<_> = h.best.legs().iter().map(|&id| ix.leg_view(id)).collect();
                let kms: Vec<u32> = views.iter().map(|v| v.distance_km).collect();
                let (price_observed_at, price_age_seconds) =
                    self.freshness(ix, h.best.legs().iter().copied());
                let (first, last) = (views.first()?, views.last()?);
                Some(ExploreDestination {
                    airport,
                    price: q.display.price(h.best.price),
                    duration_minutes: h.best.duration(),
                    stops: h.best.stops() as u32,
                    departure: self.moment(first.departure, first.departure_offset),
                    arrival: self.moment(last.arrival, last.arrival_offset),
                    flights: views
                        .iter()
                        .map(|v| format!("{}{}", v.carrier, v.flight_number))
                        .collect(),
                    co2_kg: co2_kg_round(co2_grams_per_passenger(&kms, cabin)),
                    price_observed_at,
                    price_age_seconds,
                })
            })
            .collect();
        let mut groups: Vec<CountryGroup> = vec![];
        if q.group_by_country {
            for d in &destinations {
                match groups.iter_mut().find(|g| g.country == d.airport.country) {
                    Some(g) => g.destinations.push(d.clone()),
                    None => groups.push(CountryGroup {
                        country: d.airport.country.clone(),
                        country_name: d.airport.country_name.clone(),
                        cheapest: d.price.clone(),
                        destinations: vec![d.clone()],
                    }),
                }
            }
            groups.sort_by_key(|g| g.cheapest.minor);
        }
        Ok(ExploreResponse {
            currency: q.display.currency.to_string(),
            exchange_rate: q.display.exchange_rate(ix.currency()),
            origin: q.origin.code.to_string(),
            total,
            destinations,
            groups,
            next_cursor: (end < total)
                .then(|| Cursor::encode(Position { offset: end, ..at }, q.fingerprint)),
            engine_micros,
            inventory: self.stamp(&snap),
        })
    }
}

fn parse_nights(v: &str) -> Result<(u32, u32), ApiError> {
    let bad = || {
        ApiError::field(
            ErrorCode::InvalidField,
            "nights",
            format!("{v:?} is not N or MIN..MAX nights"),
        )
    };
    let (lo, hi) = match v.split_once("..") {
        Some((a, b)) => (
            a.trim().parse::<u32>().map_err(|_| bad())?,
            b.trim().parse::<u32>().map_err(|_| bad())?,
        ),
        None => {
            let n = v.trim().parse::<u32>().map_err(|_| bad())?;
            (n, n)
        }
    };
    if hi < lo {
        return Err(ApiError::field(
            ErrorCode::InvalidRange,
            "nights",
            "the range ends before it starts",
        ));
    }
    if lo == 0 || hi > 30 || hi - lo >= 21 {
        return Err(ApiError::field(
            ErrorCode::RangeTooLong,
            "nights",
            "nights must be 1–30, at most 21 values",
        ));
    }
    Ok((lo, hi))
}

fn rename_field(err: ApiError, from: &str, to: &str) -> ApiError {
    match err {
        ApiError::Client {
            code,
            detail,
            errors,
        } => ApiError::Client {
            code,
            detail: detail.replace(&format!("{from}:"), &format!("{to}:")),
            errors: errors
                .into_iter()
                .map(|mut e| {
                    if e.field == from {
                        e.field = to.to_string();
                    }
                    e
                })
                .collect(),
        },
        other => other,
    }
}
