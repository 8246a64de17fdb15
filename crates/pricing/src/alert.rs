//! Price alerts: what a user watches ([`AlertDef`], parsed from [`AlertBody`]) and when a price
//! is worth telling them about ([`decide`]).
//!
//! Kinds, all on the nonstop prices pricing records (the lowest fare on sale per route, date
//! and cabin):
//! - a route on fixed dates, one way or return;
//! - a route on any dates in a month or a date range, with a trip length in nights;
//! - a route on a date ±N days (and its return the same number of nights later);
//! - **anywhere** from an origin whose nonstop flight time is in a range (estimated from the
//!   great-circle distance: 30 minutes plus the distance at 780 km/h).
//!
//! Each notifies either when the trip's lowest price is at or below a limit, or when it is a
//! new low at least a percentage or an amount below the price last told (the first price seen
//! when none was). Hysteresis: a "below" alert that fired is disarmed and fires again only for
//! a price a step ([`LEVEL_STEP_PERCENT`]) below the one it told, or — once the price has gone
//! [`REARM_PERCENT`] above the limit and re-armed it — when it comes back under; a price
//! flapping around the limit tells the user once.

use crate::error::PricingError;
use crate::service::amount_eur;
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use spontra_domain::{great_circle_km, AirportCode, Cabin, ErrorCode, Invalid};
use spontra_http::vocabulary::CabinName;
use spontra_http::Display;
use spontra_refdata::RefData;
use spontra_store::{Watch, Watched};
use utoipa::ToSchema;

/// A "below" alert re-arms once the price is this much above its limit.
pub const REARM_PERCENT: i64 = 5;
/// A disarmed "below" alert tells again only of a price this much below the one it told.
pub const LEVEL_STEP_PERCENT: i64 = 5;
/// The widest departure range an alert may watch, in days.
pub const MAX_RANGE_DAYS: i64 = 62;
/// How far ahead an alert may watch.
pub const MAX_AHEAD_DAYS: u64 = 365;
const MAX_FLEX_DAYS: u32 = 7;
const MAX_NIGHTS: u16 = 60;

/// A price alert as a user defines it.
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertBody {
    /// Departure airport (IATA).
    #[schema(pattern = "^[A-Za-z]{3}$", example = "LHR")]
    pub origin: String,
    /// Arrival airport (IATA). Leave it out for an **anywhere** alert, which then needs
    /// `flight_minutes`.
    #[schema(pattern = "^[A-Za-z]{3}$", example = "JFK")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    #[schema(value_type = Option<CabinName>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cabin: Option<String>,
    /// The currency of the amounts given and of the prices notifications show (ISO 4217, one
    /// with an ECB reference rate; default EUR).
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub dates: AlertDates,
    /// Anywhere alerts: the range of nonstop flight time, in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flight_minutes: Option<Range>,
    pub notify: NotifyWhen,
}

/// The dates an alert watches. (Fields a kind does not have are ignored: the document cannot
/// say otherwise of a tagged union's variants, so refusing them would refuse what it allows.)
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AlertDates {
    /// One departure date, and a return date for a return trip.
    Fixed {
        #[schema(format = Date, example = "2027-01-15")]
        departure: String,
        #[schema(format = Date, example = "2027-01-22")]
        #[serde(default, rename = "return", skip_serializing_if = "Option::is_none")]
        return_date: Option<String>,
    },
    /// A departure date ±`days` (1–7); with a return date, the trip keeps its length.
    Flexible {
        #[schema(format = Date, example = "2027-01-15")]
        departure: String,
        #[schema(minimum = 1, maximum = 7)]
        #[serde(deserialize_with = "spontra_http::whole::u32")]
        days: u32,
        #[schema(format = Date, example = "2027-01-22")]
        #[serde(default, rename = "return", skip_serializing_if = "Option::is_none")]
        return_date: Option<String>,
    },
    /// Any departure date from `from` to `to` (at most 62 days), with `nights` for a return trip.
    Range {
        #[schema(format = Date, example = "2027-01-01")]
        from: String,
        #[schema(format = Date, example = "2027-01-31")]
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nights: Option<Range>,
    },
    /// Any departure date in a month (`YYYY-MM`), with `nights` for a return trip.
    Month {
        #[schema(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2027-02")]
        month: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nights: Option<Range>,
    },
}

/// An inclusive range of whole numbers.
#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Range {
    #[serde(deserialize_with = "spontra_http::whole::u32")]
    pub min: u32,
    #[serde(deserialize_with = "spontra_http::whole::u32")]
    pub max: u32,
}

/// When to tell the user.
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug, PartialEq)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum NotifyWhen {
    /// The trip's lowest price is at or below `amount` (in `currency`).
    Below {
        #[schema(pattern = "^[0-9]{1,7}(\\.[0-9]{1,3})?$", example = "150.00")]
        amount: String,
    },
    /// The price is a new low at least `percent` (1–90) or `amount` below the price last told
    /// (or the first price seen); give one of the two.
    NewLow {
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "spontra_http::whole::opt_u32"
        )]
        #[schema(minimum = 1, maximum = 90)]
        percent: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(pattern = "^[0-9]{1,7}(\\.[0-9]{1,3})?$", example = "20.00")]
        amount: Option<String>,
    },
}

/// When an alert fires, in euro cents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Below(i64),
    DropPercent(u8),
    DropAmount(i64),
}

/// A parsed alert.
#[derive(Clone, Debug)]
pub struct AlertDef {
    pub watched: Watched,
    /// Return trips: nights between departure and return.
    pub nights: Option<(u16, u16)>,
    /// Anywhere alerts: nonstop flight time range in minutes.
    pub flight_minutes: Option<(u16, u16)>,
    pub trigger: Trigger,
    pub display: Display,
    /// The body normalised (codes upper-case, the default cabin and currency filled in): what
    /// the store keeps and the API shows.
    pub body: AlertBody,
}

/// The estimated nonstop flight time between two airports, in minutes.
pub fn flight_minutes(refdata: &RefData, a: &str, b: &str) -> Option<u32> {
    let airport = |c: &str| AirportCode::parse(c).ok().and_then(|c| refdata.airport(c));
    let (a, b) = (airport(a)?, airport(b)?);
    let km = great_circle_km(a.lat, a.lon, b.lat, b.lon);
    Some(30 + (km / 780.0 * 60.0).round() as u32)
}

fn date(field: &str, s: &str, invalid: &mut Invalid) -> Option<NaiveDate> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    if d.is_none() {
        invalid.push(ErrorCode::InvalidDate, field, "a date, YYYY-MM-DD");
    }
    d
}

fn range(field: &str, r: Range, bounds: (u16, u16), invalid: &mut Invalid) -> Option<(u16, u16)> {
    if r.min > r.max || r.min < u32::from(bounds.0) || r.max > u32::from(bounds.1) {
        invalid.push(
            ErrorCode::InvalidRange,
            field,
            format!("min ≤ max, both from {} to {}", bounds.0, bounds.1),
        );
        return None;
    }
    Some((r.min as u16, r.max as u16))
}

/// The departure window, and the nights of a return trip, of `dates`.
type Window = ((NaiveDate, NaiveDate), Option<(u16, u16)>);

fn window(dates: &AlertDates, invalid: &mut Invalid) -> Option<Window> {
    let nights_between = |d: NaiveDate, r: NaiveDate, invalid: &mut Invalid| {
        let n = (r - d).num_days();
        if n < 0 {
            invalid.push(
                ErrorCode::ReturnBeforeOutbound,
                "dates.return",
                "the return is before the departure",
            );
            None
        } else if n > i64::from(MAX_NIGHTS) {
            invalid.push(
                ErrorCode::InvalidRange,
                "dates.return",
                format!("a trip of at most {MAX_NIGHTS} nights"),
            );
            None
        } else {
            Some((n as u16, n as u16))
        }
    };
    match dates {
        AlertDates::Fixed {
            departure,
            return_date,
        } => {
            let d = date("dates.departure", departure, invalid);
            let r = return_date
                .as_deref()
                .map(|r| date("dates.return", r, invalid));
            let d = d?;
            let nights = match r {
                None => None,
                Some(r) => Some(nights_between(d, r?, invalid)?),
            };
            Some(((d, d), nights))
        }
        AlertDates::Flexible {
            departure,
            days,
            return_date,
        } => {
            if !(1..=MAX_FLEX_DAYS).contains(days) {
                invalid.push(
                    ErrorCode::InvalidRange,
                    "dates.days",
                    format!("from 1 to {MAX_FLEX_DAYS} days either side"),
                );
            }
            let d = date("dates.departure", departure, invalid);
            let r = return_date
                .as_deref()
                .map(|r| date("dates.return", r, invalid));
            let d = d?;
            let nights = match r {
                None => None,
                Some(r) => Some(nights_between(d, r?, invalid)?),
            };
            let days = Days::new(u64::from(*days));
            Some(((d - days, d + days), nights))
        }
        AlertDates::Range { from, to, nights } => {
            let f = date("dates.from", from, invalid);
            let t = date("dates.to", to, invalid);
            let nights = match nights {
                Some(n) => Some(range("dates.nights", *n, (0, MAX_NIGHTS), invalid)?),
                None => None,
            };
            let (f, t) = (f?, t?);
            if t < f || (t - f).num_days() >= MAX_RANGE_DAYS {
                invalid.push(
                    ErrorCode::InvalidRange,
                    "dates.to",
                    format!("on or after `from`, at most {MAX_RANGE_DAYS} days of departures"),
                );
                return None;
            }
            Some(((f, t), nights))
        }
        AlertDates::Month { month, nights } => {
            let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
                .ok()
                .filter(|_| month.len() == 7);
            if first.is_none() {
                invalid.push(ErrorCode::InvalidDate, "dates.month", "a month, YYYY-MM");
            }
            let nights = match nights {
                Some(n) => Some(range("dates.nights", *n, (0, MAX_NIGHTS), invalid)?),
                None => None,
            };
            let first = first?;
            let last = first + Months::new(1) - Days::new(1);
            debug_assert_eq!(last.month(), first.month());
            Some(((first, last), nights))
        }
    }
}

impl AlertDef {
    /// Parse `body`, its dates checked against `today` if given. `airport` checks an airport
    /// field; `display` the currency.
    pub fn parse(
        body: &AlertBody,
        today: Option<NaiveDate>,
        airport: impl Fn(&str, Option<&str>, &mut Invalid) -> Option<String>,
        display: impl Fn(Option<&str>, &mut Invalid) -> Option<Display>,
    ) -> Result<AlertDef, PricingError> {
        let mut invalid = Invalid::default();
        let origin = airport("origin", Some(&body.origin), &mut invalid);
        let destination = body
            .destination
            .as_deref()
            .map(|d| airport("destination", Some(d), &mut invalid));
        if let (Some(o), Some(Some(d))) = (&origin, &destination) {
            if o == d {
                invalid.push(
                    ErrorCode::SameOriginDestination,
                    "destination",
                    "origin and destination are the same airport",
                );
            }
        }
        let cabin = match body.cabin.as_deref() {
            None => Some(Cabin::Economy),
            Some(c) => Cabin::from_name(c).or_else(|| {
                invalid.push(
                    ErrorCode::UnknownCabin,
                    "cabin",
                    "economy, premium_economy, business or first",
                );
                None
            }),
        };
        let display = display(body.currency.as_deref(), &mut invalid);
        let window = window(&body.dates, &mut invalid);
        if let (Some(((from, to), _)), Some(today)) = (window, today) {
            let last = today + Days::new(MAX_AHEAD_DAYS);
            if to < today {
                invalid.push(
                    ErrorCode::DateInPast,
                    "dates",
                    format!("the dates have passed (today is {today})"),
                );
            } else if from > last {
                invalid.push(
                    ErrorCode::DateNotServed,
                    "dates",
                    format!("alerts watch departures up to {MAX_AHEAD_DAYS} days ahead ({last})"),
                );
            }
        }
        let flight_minutes = match (&body.destination, body.flight_minutes) {
            (None, None) => {
                invalid.push(
                    ErrorCode::InvalidAlert,
                    "flight_minutes",
                    "an anywhere alert (no destination) needs a flight-time range",
                );
                None
            }
            (None, Some(r)) => range("flight_minutes", r, (30, 1_200), &mut invalid),
            (Some(_), Some(_)) => {
                invalid.push(
                    ErrorCode::InvalidAlert,
                    "flight_minutes",
                    "only anywhere alerts (no destination) take a flight-time range",
                );
                None
            }
            (Some(_), None) => None,
        };
        let trigger = display.as_ref().and_then(|display| match &body.notify {
            NotifyWhen::Below { amount } => {
                amount_eur("notify.amount", amount, display, &mut invalid)
                    .map(|(eur, _)| Trigger::Below(eur))
            }
            NotifyWhen::NewLow {
                percent: Some(p),
                amount: None,
            } if (1..=90).contains(p) => Some(Trigger::DropPercent(*p as u8)),
            NotifyWhen::NewLow {
                percent: Some(_),
                amount: None,
            } => {
                invalid.push(
                    ErrorCode::InvalidRange,
                    "notify.percent",
                    "from 1 to 90 percent",
                );
                None
            }
            NotifyWhen::NewLow {
                percent: None,
                amount: Some(a),
            } => amount_eur("notify.amount", a, display, &mut invalid)
                .map(|(eur, _)| Trigger::DropAmount(eur)),
            NotifyWhen::NewLow { .. } => {
                invalid.push(
                    ErrorCode::InvalidAlert,
                    "notify",
                    "a new-low alert takes one of `percent` or `amount`",
                );
                None
            }
        });
        invalid.finish()?;
        let missing = || PricingError::Internal("alert parsed without a value".into());
        let (depart, nights) = window.ok_or_else(missing)?;
        let display = display.ok_or_else(missing)?;
        let returns = nights.map(|(min, max)| {
            (
                depart.0 + Days::new(u64::from(min)),
                depart.1 + Days::new(u64::from(max)),
            )
        });
        let origin = origin.ok_or_else(missing)?;
        let destination = destination.flatten();
        let cabin = cabin.ok_or_else(missing)?.as_str().to_string();
        let mut normal = body.clone();
        normal.origin = origin.clone();
        normal.destination = destination.clone();
        normal.cabin = Some(cabin.clone());
        normal.currency = Some(display.currency.to_string());
        Ok(AlertDef {
            watched: Watched {
                origin,
                destination,
                cabin,
                depart,
                returns,
            },
            nights,
            flight_minutes,
            trigger: trigger.ok_or_else(missing)?,
            display,
            body: normal,
        })
    }
}

/// Why an alert fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fired {
    /// At or below the limit (euro cents).
    Below { limit: i64 },
    /// A new low, this far under the price it is measured against.
    NewLow { previous: i64 },
}

/// The watch after seeing `price` (the trip's lowest price now, euro cents; `None`: nothing on
/// sale), and whether to tell the user.
pub fn decide(
    trigger: Trigger,
    watch: &Watch,
    price: Option<i64>,
    now: DateTime<Utc>,
) -> (Watch, Option<Fired>) {
    let mut next = Watch {
        last_price_minor: price,
        evaluated_at: Some(now),
        ..watch.clone()
    };
    let Some(price) = price else {
        return (next, None);
    };
    let fired = match trigger {
        Trigger::Below(limit) => {
            // In i128: a limit may be any amount a user types.
            let (price, limit) = (i128::from(price), i128::from(limit));
            if next.disarmed && price * 100 > limit * i128::from(100 + REARM_PERCENT) {
                next.disarmed = false;
                next.reference_minor = None;
            }
            let armed_and_under = !next.disarmed && price <= limit;
            let next_level = next.disarmed
                && next.reference_minor.is_some_and(|r| {
                    price * 100 <= i128::from(r) * i128::from(100 - LEVEL_STEP_PERCENT)
                });
            (armed_and_under || next_level).then_some(Fired::Below {
                limit: limit as i64,
            })
        }
        Trigger::DropPercent(_) | Trigger::DropAmount(_) => match next.reference_minor {
            None => {
                next.reference_minor = Some(price);
                None
            }
            Some(reference) => {
                let drop = match trigger {
                    Trigger::DropPercent(p) => (reference * i64::from(p)).div_euclid(100).max(1),
                    Trigger::DropAmount(a) => a,
                    Trigger::Below(_) => unreachable!(),
                };
                (price <= reference.saturating_sub(drop)).then_some(Fired::NewLow {
                    previous: reference,
                })
            }
        },
    };
    if fired.is_some() {
        next.reference_minor = Some(price);
        next.disarmed = matches!(trigger, Trigger::Below(_));
        next.notified_at = Some(now);
    }
    (next, fired)
}

/// Whether the watch changed in what matters (not only when it was evaluated), so an
/// evaluation that learned nothing writes nothing.
pub fn changed(before: &Watch, after: &Watch) -> bool {
    before.reference_minor != after.reference_minor
        || before.disarmed != after.disarmed
        || before.last_price_minor != after.last_price_minor
        || before.notified_at != after.notified_at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(trigger: Trigger, prices: &[Option<i64>]) -> Vec<bool> {
        let mut watch = Watch::default();
        let now = Utc::now();
        prices
            .iter()
            .map(|p| {
                let (w, fired) = decide(trigger, &watch, *p, now);
                watch = w;
                fired.is_some()
            })
            .collect()
    }

    #[test]
    fn below_fires_once_while_the_price_flaps_around_the_limit() {
        let fired = run(
            Trigger::Below(15_000),
            &[
                Some(16_000),
                Some(14_900),
                Some(15_100),
                Some(14_900),
                Some(15_500),
                Some(14_800),
            ],
        );
        assert_eq!(fired, [false, true, false, false, false, false]);
    }

    #[test]
    fn below_tells_a_lower_level_and_rearms_clearly_above_the_limit() {
        let fired = run(
            Trigger::Below(15_000),
            &[
                Some(14_000),
                Some(13_500), // 3.6 % lower: same level
                Some(13_300), // 5 % under 14,000: a new level
                None,         // sold out: nothing to tell, nothing forgotten
                Some(15_800), // above 15,750 (limit + 5 %): re-armed
                Some(14_999),
            ],
        );
        assert_eq!(fired, [true, false, true, false, false, true]);
    }

    #[test]
    fn new_low_measures_from_the_first_price_then_from_each_told() {
        let fired = run(
            Trigger::DropPercent(10),
            &[
                Some(20_000),
                Some(18_100), // 9.5 % down
                Some(18_000), // 10 %
                Some(25_000),
                Some(16_300), // 9.4 % under 18,000
                Some(16_200), // 10 %
            ],
        );
        assert_eq!(fired, [false, false, true, false, false, true]);
        let fired = run(
            Trigger::DropAmount(2_000),
            &[Some(10_000), Some(8_001), Some(8_000), Some(6_000)],
        );
        assert_eq!(fired, [false, false, true, true]);
    }

    #[test]
    fn any_limit_a_user_types_is_safe_to_compare() {
        assert_eq!(
            run(
                Trigger::Below(i64::MAX),
                &[Some(1), Some(i64::MAX / 2), Some(1)]
            ),
            [true, false, false]
        );
        assert_eq!(
            run(Trigger::DropAmount(i64::MAX), &[Some(10), Some(1)]),
            [false, false]
        );
    }

    #[test]
    fn an_evaluation_that_saw_the_same_price_changes_nothing_worth_writing() {
        let now = Utc::now();
        let (w, _) = decide(Trigger::Below(100), &Watch::default(), Some(500), now);
        let (again, fired) = decide(Trigger::Below(100), &w, Some(500), now);
        assert!(fired.is_none());
        assert!(!changed(&w, &again));
        let (cheaper, _) = decide(Trigger::Below(100), &w, Some(400), now);
        assert!(changed(&w, &cheaper));
    }
}
