//! Typed queries: a search, a calendar and an explore as the engine takes them, parsed from the
//! wire DTOs (a JSON body or a query string) against the reference data, the bookable window
//! and the display currency. Every problem found names its field and code ([`Invalid`]).

use crate::dto::*;
use crate::error::SearchError;
use crate::parse::{self, Params, Place, Window};
use crate::SearchService;
use chrono::{Days, NaiveDate};
use spontra_domain::{Cabin, CurrencyCode, ErrorCode, Invalid, Passengers};
use spontra_engine::{Filters, SliceQuery, SortOrder};
use spontra_http::{Cursor, Position};
use std::hash::{Hash, Hasher};

pub const MAX_SLICES: usize = 6;
pub const CALENDAR_MAX_DAYS: i64 = 62;
pub const ROUND_TRIP_CALENDAR_MAX_DAYS: i64 = 31;
pub const EXPLORE_MAX_DAYS: i64 = 14;

/// The currency prices are shown in, and its ECB reference rate against the inventory's
/// currency (none when they are the same). Prices are converted only at presentation, in
/// integer minor units rounded half up (`EuroRate::convert`).
pub use spontra_http::Display;

/// The conversion a search's prices went through, for its answer.
pub fn exchange_rate(display: &Display, from: CurrencyCode) -> Option<ExchangeRate> {
    display.rate.map(|r| ExchangeRate {
        from: from.to_string(),
        to: display.currency.to_string(),
        rate: r.decimal(),
        date: r.date.to_string(),
        source: "European Central Bank euro foreign exchange reference rate".into(),
    })
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

fn fingerprint(parts: impl std::fmt::Debug) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{parts:?}").hash(&mut h);
    h.finish()
}

impl SearchService {
    pub(crate) fn dates(&self) -> Window {
        let (today, last) = self.window();
        Window { today, last }
    }

    fn currency(&self) -> CurrencyCode {
        self.live.current().index.currency()
    }

    /// The display currency named by `currency` (default: the inventory's own).
    fn display(&self, currency: Option<&str>) -> Result<Display, Invalid> {
        let own = self.currency();
        let Some(code) = currency else {
            return Ok(Display {
                currency: own,
                rate: None,
            });
        };
        let unknown = || {
            Invalid::field(
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

    // ------------------------------------------------------------------ parsing

    /// A GET search's query string as a [`SearchBody`].
    pub fn search_body_from_query(raw: Option<&str>) -> Result<SearchBody, Invalid> {
        let p = Params::parse(raw)?;
        let mut e = Invalid::default();
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

    fn filters(&self, e: &mut Invalid, b: &SearchBody, display: &Display) -> Filters {
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

    pub fn parse_search(&self, b: &SearchBody) -> Result<TripQuery, Invalid> {
        let mut e = Invalid::default();
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

    pub fn calendar_params_from_query(raw: Option<&str>) -> Result<CalendarParams, Invalid> {
        let p = Params::parse(raw)?;
        let mut e = Invalid::default();
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

    pub fn parse_calendar(&self, c: &CalendarParams) -> Result<CalendarQuery, SearchError> {
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
        let mut e = Invalid::default();
        let trip = e.take(
            self.parse_search(&body)
                .map_err(|err| err.renamed("depart", "from")),
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
            return Err(SearchError::Internal("calendar parse left no value".into()));
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

    pub fn explore_params_from_query(raw: Option<&str>) -> Result<ExploreParams, Invalid> {
        let p = Params::parse(raw)?;
        let mut e = Invalid::default();
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

    pub fn parse_explore(&self, x: &ExploreParams) -> Result<ExploreQuery, SearchError> {
        let mut e = Invalid::default();
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
            return Err(SearchError::Internal("explore parse left no value".into()));
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
}

fn parse_nights(v: &str) -> Result<(u32, u32), Invalid> {
    let bad = || {
        Invalid::field(
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
        return Err(Invalid::field(
            ErrorCode::InvalidRange,
            "nights",
            "the range ends before it starts",
        ));
    }
    if lo == 0 || hi > 30 || hi - lo >= 21 {
        return Err(Invalid::field(
            ErrorCode::RangeTooLong,
            "nights",
            "nights must be 1–30, at most 21 values",
        ));
    }
    Ok((lo, hi))
}
