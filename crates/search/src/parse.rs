//! Turning request fields into domain and engine values: the edge where "parse, don't
//! validate" happens. Every failure names its field and carries a stable code.

use chrono::NaiveDate;
use spontra_domain::{
    minor_digits, AirportCode, Alliance, Cabin, CarrierCode, CurrencyCode, DateRange, DayWindow,
    HoursRange, Passengers, RangeError,
};
use spontra_domain::{ErrorCode, Invalid};
use spontra_engine::{AirportId, CarrierId, Index};
use spontra_refdata::RefData;
use std::collections::HashMap;

/// A resolved origin or destination: the code the user gave and its airports in the index.
#[derive(Clone, Debug)]
pub struct Place {
    pub code: AirportCode,
    pub airports: Vec<AirportId>,
}

/// The dates the inventory covers.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub today: NaiveDate,
    pub last: NaiveDate,
}

pub fn place(refdata: &RefData, index: &Index, field: &str, value: &str) -> Result<Place, Invalid> {
    let code = AirportCode::parse(value).map_err(|_| {
        Invalid::field(
            ErrorCode::UnknownAirport,
            field,
            format!("{value:?} is not an airport or city code (three letters, e.g. LHR or LON)"),
        )
    })?;
    let place = refdata.place(code).ok_or_else(|| {
        Invalid::field(
            ErrorCode::UnknownAirport,
            field,
            format!("no airport or city has the code {code}"),
        )
    })?;
    let airports: Vec<AirportId> = place
        .airports()
        .into_iter()
        .filter_map(|a| index.airport_id(a))
        .collect();
    if airports.is_empty() {
        return Err(Invalid::field(
            ErrorCode::UnknownAirport,
            field,
            format!("no airport or city has the code {code}"),
        ));
    }
    Ok(Place { code, airports })
}

pub fn date(field: &str, value: &str, window: Window) -> Result<NaiveDate, Invalid> {
    let d = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        Invalid::field(
            ErrorCode::InvalidDate,
            field,
            format!("{value:?} is not a date in the form YYYY-MM-DD"),
        )
    })?;
    if d < window.today {
        return Err(Invalid::field(
            ErrorCode::DateInPast,
            field,
            format!("{d} is in the past (today is {})", window.today),
        ));
    }
    if d > window.last {
        return Err(Invalid::field(
            ErrorCode::DateNotServed,
            field,
            format!(
                "{d} is outside the bookable window {} to {}",
                window.today, window.last
            ),
        ));
    }
    Ok(d)
}

/// A date range `FROM..TO` or the pair of fields; at most `max_days` long.
pub fn date_range(
    field: &str,
    from: NaiveDate,
    to: NaiveDate,
    max_days: i64,
) -> Result<DateRange, Invalid> {
    DateRange::new(from, to, max_days).map_err(|e| range_error(field, e))
}

pub fn range_error(field: &str, e: RangeError) -> Invalid {
    let code = match e {
        RangeError::TooLong { .. } => ErrorCode::RangeTooLong,
        _ => ErrorCode::InvalidRange,
    };
    Invalid::field(code, field, e.to_string())
}

pub fn passengers(
    adults: Option<u32>,
    children: Option<u32>,
    infants: Option<u32>,
) -> Result<Passengers, Invalid> {
    Passengers::new(
        adults.unwrap_or(1),
        children.unwrap_or(0),
        infants.unwrap_or(0),
    )
    .map_err(Invalid::from)
}

pub fn cabin(value: Option<&str>) -> Result<Cabin, Invalid> {
    match value {
        None => Ok(Cabin::Economy),
        Some(v) => Cabin::from_name(v).ok_or_else(|| {
            Invalid::field(
                ErrorCode::UnknownCabin,
                "cabin",
                format!("{v:?} is not one of economy, premium_economy, business, first"),
            )
        }),
    }
}

pub fn carriers(index: &Index, field: &str, values: &[String]) -> Result<Vec<CarrierId>, Invalid> {
    values
        .iter()
        .map(|v| {
            CarrierCode::parse(v)
                .ok()
                .and_then(|c| index.carrier_id(c))
                .ok_or_else(|| {
                    Invalid::field(
                        ErrorCode::UnknownCarrier,
                        field,
                        format!("{v:?} is not a known airline code"),
                    )
                })
        })
        .collect()
}

pub fn alliances(field: &str, values: &[String]) -> Result<Vec<Alliance>, Invalid> {
    values
        .iter()
        .map(|v| {
            Alliance::from_name(v).ok_or_else(|| {
                Invalid::field(
                    ErrorCode::UnknownAlliance,
                    field,
                    format!("{v:?} is not one of star_alliance, oneworld, skyteam"),
                )
            })
        })
        .collect()
}

pub fn airports(
    refdata: &RefData,
    index: &Index,
    field: &str,
    values: &[String],
) -> Result<Vec<AirportId>, Invalid> {
    let mut out = vec![];
    for v in values {
        // A code that is an airport names that airport (SHA is Hongqiao, as the connection
        // facet lists it), a city code every airport of the city (LON).
        let airport = AirportCode::parse(v)
            .ok()
            .filter(|c| refdata.airport(*c).is_some())
            .and_then(|c| index.airport_id(c));
        match airport {
            Some(id) => out.push(id),
            None => out.extend(place(refdata, index, field, v)?.airports),
        }
    }
    Ok(out)
}

pub fn day_window(field: &str, value: &str) -> Result<DayWindow, Invalid> {
    DayWindow::parse(value).map_err(|e| match e {
        RangeError::Inverted => Invalid::field(
            ErrorCode::InvalidRange,
            field,
            "the window ends before it starts (windows cannot wrap midnight)",
        ),
        _ => Invalid::field(
            ErrorCode::InvalidField,
            field,
            format!("{value:?} is not a time window like 06:00-12:00"),
        ),
    })
}

pub fn hours(field: &str, value: f64, max: f64) -> Result<u32, Invalid> {
    if !(0.0..=max).contains(&value) || value.is_nan() {
        return Err(Invalid::field(
            ErrorCode::InvalidField,
            field,
            format!("must be between 0 and {max} hours"),
        ));
    }
    Ok((value * 60.0).round() as u32)
}

pub fn hours_range(min: Option<f64>, max: Option<f64>) -> Result<Option<HoursRange>, Invalid> {
    if min.is_none() && max.is_none() {
        return Ok(None);
    }
    let (lo, hi) = (min.unwrap_or(0.0), max.unwrap_or(HoursRange::LIMIT_HOURS));
    HoursRange::from_hours(lo, hi)
        .map(Some)
        .map_err(|e| match e {
            RangeError::Inverted => Invalid::field(
                ErrorCode::InvalidRange,
                "min_hours",
                format!("min_hours ({lo}) is greater than max_hours ({hi})"),
            ),
            _ => Invalid::field(
                ErrorCode::InvalidRange,
                if min.is_some_and(|m| !(0.0..=72.0).contains(&m)) {
                    "min_hours"
                } else {
                    "max_hours"
                },
                e.to_string(),
            ),
        })
}

/// A price in major units of `currency` (e.g. 150 or 149.99) to its minor units.
pub fn price(field: &str, value: f64, currency: CurrencyCode) -> Result<u64, Invalid> {
    if !(0.0..=1_000_000_000.0).contains(&value) || value.is_nan() {
        return Err(Invalid::field(
            ErrorCode::InvalidField,
            field,
            "must be between 0 and 1,000,000,000",
        ));
    }
    Ok((value * 10f64.powi(minor_digits(currency) as i32)).round() as u64)
}

pub fn limit(value: Option<u32>, default: u32, max: u32) -> Result<usize, Invalid> {
    match value {
        None => Ok(default as usize),
        Some(v) if (1..=max).contains(&v) => Ok(v as usize),
        Some(v) => Err(Invalid::field(
            ErrorCode::InvalidLimit,
            "limit",
            format!("{v} is not between 1 and {max}"),
        )),
    }
}

pub fn max_stops(value: Option<u32>) -> Result<u8, Invalid> {
    match value {
        None => Ok(2),
        Some(v) if v <= 2 => Ok(v as u8),
        Some(v) => Err(Invalid::field(
            ErrorCode::InvalidField,
            "max_stops",
            format!("{v} is not 0, 1 or 2"),
        )),
    }
}

/// Parameters whose empty value means something: free text and comma-separated lists.
const MAY_BE_EMPTY: [&str; 7] = [
    "q",
    "carriers",
    "exclude_carriers",
    "alliances",
    "exclude_alliances",
    "layovers",
    "exclude_layovers",
];

/// Query-string parameters, checked for well-formedness, with typed getters that record
/// field errors.
pub struct Params {
    map: HashMap<String, String>,
}

impl Params {
    pub fn parse(raw: Option<&str>) -> Result<Params, Invalid> {
        let raw = raw.unwrap_or("");
        let bytes = raw.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'%'
                && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return Err(Invalid::whole(
                    ErrorCode::MalformedQuery,
                    "the query string has an invalid percent-escape",
                ));
            }
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|e| {
            Invalid::whole(
                ErrorCode::MalformedQuery,
                format!("the query string is malformed: {e}"),
            )
        })?;
        let mut map = HashMap::new();
        for (k, v) in pairs {
            // A parameter given is given a value (leave it out for the default); free text
            // may be anything, and an empty list is a list of nothing.
            if !MAY_BE_EMPTY.contains(&k.as_str()) && v.trim().is_empty() {
                return Err(Invalid::field(
                    ErrorCode::InvalidField,
                    k,
                    "empty; give a value or leave the parameter out",
                ));
            }
            if map.insert(k.clone(), v).is_some() {
                return Err(Invalid::field(
                    ErrorCode::MalformedQuery,
                    k,
                    "given more than once; use a comma-separated list",
                ));
            }
        }
        Ok(Params { map })
    }

    pub fn str(&self, key: &str) -> Option<String> {
        self.map
            .get(key)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// The value as sent, spaces and all (free text).
    pub fn text(&self, key: &str) -> Option<String> {
        self.map.get(key).cloned()
    }

    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        self.str(key).map(|s| {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
    }

    fn number<T: std::str::FromStr>(
        &self,
        key: &str,
        errors: &mut Invalid,
        what: &str,
    ) -> Option<T> {
        let v = self.str(key)?;
        match v.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(ErrorCode::InvalidField, key, format!("{v:?} is not {what}"));
                None
            }
        }
    }

    pub fn u32(&self, key: &str, errors: &mut Invalid) -> Option<u32> {
        self.number(key, errors, "a whole number")
    }

    /// A finite number: `NaN`, `inf` and `-inf` (which Rust's parser takes) are refused as
    /// the field's error, never dropped as if the field were absent.
    pub fn f64(&self, key: &str, errors: &mut Invalid) -> Option<f64> {
        let v = self.number::<f64>(key, errors, "a number")?;
        if v.is_finite() {
            return Some(v);
        }
        errors.push(
            ErrorCode::InvalidField,
            key,
            format!(
                "{:?} is not a finite number",
                self.str(key).unwrap_or_default()
            ),
        );
        None
    }
}

/// Free text of at most `max` characters.
pub fn text_within(field: &str, value: Option<&str>, max: usize) -> Result<(), Invalid> {
    match value {
        Some(v) if v.chars().count() > max => Err(Invalid::field(
            ErrorCode::InvalidField,
            field,
            format!("at most {max} characters"),
        )),
        _ => Ok(()),
    }
}
