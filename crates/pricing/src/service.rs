//! The pricing service: typed queries parsed from the wire, answered from the store's
//! roll-ups. Transport-free: it returns [`PricingError`]s, the routes render them.

use crate::alert::{AlertBody, AlertDef};
use crate::dto::*;
use crate::error::PricingError;
use crate::insight::{quartiles, Label, Quartiles};
use chrono::{DateTime, Datelike, Days, NaiveDate, SecondsFormat, Utc};
use spontra_domain::{AirportCode, Cabin, CurrencyCode, ErrorCode, Invalid, Money, SharedClock};
use spontra_http::Display;
use spontra_refdata::RefData;
use spontra_store::{DailyPrice, PriceStore, RouteCabin};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Days of history the graph shows and insights draw from.
pub const HISTORY_DAYS: u64 = 60;
/// Departure dates either side of the one asked about whose prices form its sample, tried in
/// turn until the sample holds [`MIN_SAMPLE`] prices.
const SAMPLE_SPREADS: [u64; 2] = [3, 15];
const MIN_SAMPLE: usize = 8;
/// Prices one labels request may ask about.
pub const MAX_LABELS: usize = 200;
/// How far from today a departure date may be asked about (history back, sale ahead).
const DATES_BACK: u64 = 400;
const DATES_AHEAD: u64 = 400;

pub struct PricingService {
    store: Arc<dyn PriceStore>,
    refdata: Arc<RefData>,
    /// Market time: what "today" is.
    clock: SharedClock,
}

/// A route in a cabin, prices shown in `display`.
#[derive(Clone, Debug)]
pub struct RouteQuery {
    pub route: RouteCabin,
    pub display: Display,
}

/// A route and one departure date.
#[derive(Clone, Debug)]
pub struct DepartureQuery {
    pub route: RouteQuery,
    pub departure_date: NaiveDate,
    /// A price to label, in euro cents, and as asked.
    pub price: Option<(i64, String)>,
}

/// Prices to label: each a route, a departure date and a price, in the order asked.
#[derive(Clone, Debug)]
pub struct LabelsQuery {
    pub display: Display,
    pub prices: Vec<DepartureQuery>,
}

/// Whether `s` has the form the document gives `price`: 1–7 digits, then optionally a point
/// and 1–3 digits.
fn documented_amount(s: &str) -> bool {
    let digits = |p: &str, max: usize| {
        !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
    };
    match s.split_once('.') {
        Some((whole, frac)) => digits(whole, 7) && digits(frac, 3),
        None => digits(s, 7),
    }
}

/// An amount given in the display currency: in euro cents, and as a decimal in that currency.
/// Malformed → `invalid_field` (400); the document's form but not a positive amount in the
/// currency → `invalid_range` (422).
pub(crate) fn amount_eur(
    field: &str,
    amount: &str,
    display: &Display,
    invalid: &mut Invalid,
) -> Option<(i64, String)> {
    let currency = display.currency;
    match Money::parse_decimal(amount, currency) {
        Ok(m) if m.minor > 0 => {
            let minor = m.minor as u64;
            let eur = display.rate.map_or(minor, |rate| rate.to_eur(minor));
            Some((eur as i64, m.decimal()))
        }
        // The document's form, but no price in this currency.
        _ if documented_amount(amount) => {
            invalid.push(
                ErrorCode::InvalidRange,
                field,
                format!("a positive amount in {currency}, in its minor units at most"),
            );
            None
        }
        _ => {
            invalid.push(
                ErrorCode::InvalidField,
                field,
                format!("a positive decimal amount in {currency}, e.g. 149.99"),
            );
            None
        }
    }
}

/// The days a sample's prices were on sale: the last 60 up to today.
fn sample_days(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (today - Days::new(HISTORY_DAYS), today)
}

/// The departure dates the widest sample for departures `from`..=`to` may draw on.
fn widest(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let spread = Days::new(SAMPLE_SPREADS[SAMPLE_SPREADS.len() - 1]);
    (from - spread, to + spread)
}

/// The quartiles of the daily lowest prices among `rows` for departures around `d` (±3 days,
/// ±15 while that holds fewer than 8), and the departure dates they came from.
fn sample_of(rows: &[DailyPrice], d: NaiveDate) -> Option<(Quartiles, (NaiveDate, NaiveDate))> {
    SAMPLE_SPREADS.iter().find_map(|&spread| {
        let departures = (d - Days::new(spread), d + Days::new(spread));
        let lows: Vec<i64> = rows
            .iter()
            .filter(|r| (departures.0..=departures.1).contains(&r.departure_date))
            .map(|r| r.low_minor)
            .collect();
        (lows.len() >= MIN_SAMPLE)
            .then(|| quartiles(&lows))
            .flatten()
            .map(|q| (q, departures))
    })
}

fn day(d: NaiveDate) -> String {
    d.to_string()
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn label(l: Label) -> PriceLabel {
    match l {
        Label::Low => PriceLabel::Low,
        Label::Typical => PriceLabel::Typical,
        Label::High => PriceLabel::High,
    }
}

/// An airport field: required, an IATA code, an airport with service.
pub(crate) fn airport(
    refdata: &RefData,
    field: &str,
    value: Option<&str>,
    invalid: &mut Invalid,
) -> Option<String> {
    let Some(value) = value else {
        invalid.push(
            ErrorCode::MissingField,
            field,
            format!("{field} is required"),
        );
        return None;
    };
    match AirportCode::parse(value) {
        Err(_) => {
            invalid.push(
                ErrorCode::InvalidField,
                field,
                "an IATA airport code, three letters",
            );
            None
        }
        Ok(code) if refdata.airport(code).is_none() => {
            invalid.push(
                ErrorCode::UnknownAirport,
                field,
                format!("{code} is not an airport with scheduled service"),
            );
            None
        }
        Ok(code) => Some(code.to_string()),
    }
}

/// The currency prices are shown in (default EUR): one with an ECB reference rate.
pub(crate) fn display(
    refdata: &RefData,
    currency: Option<&str>,
    invalid: &mut Invalid,
) -> Option<Display> {
    let Some(code) = currency else {
        return Some(Display {
            currency: CurrencyCode::parse("EUR").ok()?,
            rate: None,
        });
    };
    let parsed = CurrencyCode::parse(code).ok();
    match parsed {
        Some(c) if c.as_str() == "EUR" => Some(Display {
            currency: c,
            rate: None,
        }),
        Some(c) if refdata.euro_rate(c).is_some() => Some(Display {
            currency: c,
            rate: refdata.euro_rate(c),
        }),
        _ => {
            invalid.push(
                ErrorCode::UnknownCurrency,
                "currency",
                format!("{code:?} is not a currency with an ECB reference rate"),
            );
            None
        }
    }
}

/// Parse an alert's definition; `today`: check its dates against it (a new or edited alert).
pub(crate) fn alert_def(
    refdata: &RefData,
    body: &AlertBody,
    today: Option<NaiveDate>,
) -> Result<AlertDef, PricingError> {
    AlertDef::parse(
        body,
        today,
        |field, value, invalid| airport(refdata, field, value, invalid),
        |currency, invalid| display(refdata, currency, invalid),
    )
}

impl PricingService {
    pub fn new(store: Arc<dyn PriceStore>, refdata: Arc<RefData>, clock: SharedClock) -> Self {
        PricingService {
            store,
            refdata,
            clock,
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    fn airport(&self, field: &str, value: Option<&str>, invalid: &mut Invalid) -> Option<String> {
        airport(&self.refdata, field, value, invalid)
    }

    /// The route, cabin and display currency of `p` (origin and destination required).
    fn route(&self, p: &Wire, invalid: &mut Invalid) -> Option<RouteQuery> {
        let origin = self.airport("origin", p.origin, invalid);
        let destination = self.airport("destination", p.destination, invalid);
        if origin.is_some() && origin == destination {
            invalid.push(
                ErrorCode::SameOriginDestination,
                "destination",
                "origin and destination are the same airport",
            );
        }
        let cabin = match p.cabin {
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
        let display = self.display(p.currency, invalid);
        Some(RouteQuery {
            route: RouteCabin {
                origin: origin?,
                destination: destination?,
                cabin: cabin?.as_str().to_string(),
            },
            display: display?,
        })
    }

    fn display(&self, currency: Option<&str>, invalid: &mut Invalid) -> Option<Display> {
        display(&self.refdata, currency, invalid)
    }

    /// A route query (cheapest dates).
    pub fn parse_route(&self, p: &RouteParams) -> Result<RouteQuery, PricingError> {
        let mut invalid = Invalid::default();
        let route = self.route(&p.into(), &mut invalid);
        invalid.finish()?;
        route.ok_or_else(|| PricingError::Internal("route parsed without a value".into()))
    }

    /// A route and departure date query (history).
    pub fn parse_departure(&self, p: &DepartureParams) -> Result<DepartureQuery, PricingError> {
        self.departure(p.into())
    }

    /// A route and departure date query with a price to label (metrics).
    pub fn parse_metrics(&self, p: &MetricsParams) -> Result<DepartureQuery, PricingError> {
        self.departure(p.into())
    }

    fn departure(&self, p: Wire) -> Result<DepartureQuery, PricingError> {
        let mut invalid = Invalid::default();
        let route = self.route(&p, &mut invalid);
        let today = self.today();
        let date = match p.departure_date {
            None => {
                invalid.push(
                    ErrorCode::MissingField,
                    "departure_date",
                    "departure_date is required",
                );
                None
            }
            Some(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Err(_) => {
                    invalid.push(
                        ErrorCode::InvalidDate,
                        "departure_date",
                        "a date, YYYY-MM-DD",
                    );
                    None
                }
                Ok(d)
                    if d < today - Days::new(DATES_BACK) || d > today + Days::new(DATES_AHEAD) =>
                {
                    invalid.push(
                        ErrorCode::DateNotServed,
                        "departure_date",
                        format!("prices are kept for departures within {DATES_BACK} days of today ({today})"),
                    );
                    None
                }
                Ok(d) => Some(d),
            },
        };
        let price = match (p.price, &route) {
            (Some(amount), Some(r)) => amount_eur("price", amount, &r.display, &mut invalid),
            _ => None,
        };
        invalid.finish()?;
        match (route, date) {
            (Some(route), Some(departure_date)) => Ok(DepartureQuery {
                route,
                departure_date,
                price,
            }),
            _ => Err(PricingError::Internal(
                "query parsed without a value".into(),
            )),
        }
    }

    /// The daily lowest prices around `q`'s departure date over the last 60 days: ±3
    /// departure dates, widened to ±15 while fewer than 8 prices (one read of the widest).
    async fn sample(
        &self,
        q: &DepartureQuery,
        today: NaiveDate,
    ) -> Result<Option<(Quartiles, (NaiveDate, NaiveDate), (NaiveDate, NaiveDate))>, PricingError>
    {
        let days = sample_days(today);
        let d = q.departure_date;
        let rows = self
            .store
            .daily_prices(&q.route.route, widest(d, d), days)
            .await?;
        Ok(sample_of(&rows, d).map(|(q, departures)| (q, departures, days)))
    }

    fn insight(&self, q: &Quartiles, price: i64, display: &Display) -> PriceInsight {
        PriceInsight {
            label: label(q.label(price)),
            typical_low: display.price(q.first.max(0) as u64),
            typical_high: display.price(q.third.max(0) as u64),
            sample_size: q.size as u64,
        }
    }

    /// Prices to label: the currency and cabin once (their problems named once), then each
    /// price, its problems named `prices[i].field`.
    pub fn parse_labels(&self, body: &LabelsBody) -> Result<LabelsQuery, PricingError> {
        let mut invalid = Invalid::default();
        let display = self.display(body.currency.as_deref(), &mut invalid);
        if let Some(c) = body.cabin.as_deref() {
            if Cabin::from_name(c).is_none() {
                invalid.push(
                    ErrorCode::UnknownCabin,
                    "cabin",
                    "economy, premium_economy, business or first",
                );
            }
        }
        if body.prices.is_empty() || body.prices.len() > MAX_LABELS {
            invalid.push(
                ErrorCode::InvalidRange,
                "prices",
                format!("1 to {MAX_LABELS} prices"),
            );
        }
        std::mem::take(&mut invalid).finish()?;
        let mut prices = Vec::with_capacity(body.prices.len());
        for (i, p) in body.prices.iter().enumerate() {
            let wire = Wire {
                origin: Some(&p.origin),
                destination: Some(&p.destination),
                cabin: body.cabin.as_deref(),
                currency: body.currency.as_deref(),
                departure_date: Some(&p.departure_date),
                price: Some(&p.price),
            };
            match self.departure(wire) {
                Ok(q) => prices.push(q),
                Err(PricingError::Invalid(problems)) => {
                    invalid.nest(&format!("prices[{i}]"), problems)
                }
                Err(e) => return Err(e),
            }
        }
        invalid.finish()?;
        match display {
            Some(display) => Ok(LabelsQuery { display, prices }),
            None => Err(PricingError::Internal(
                "labels parsed without a currency".into(),
            )),
        }
    }

    /// Each price's label against its route's typical range around its date (the sample
    /// `metrics` draws), in the order asked; one read of the store per route.
    pub async fn labels(&self, q: &LabelsQuery) -> Result<PriceLabels, PricingError> {
        let days = sample_days(self.today());
        let mut by_route: BTreeMap<&RouteCabin, Vec<&DepartureQuery>> = BTreeMap::new();
        for p in &q.prices {
            by_route.entry(&p.route.route).or_default().push(p);
        }
        let mut samples: HashMap<(&RouteCabin, NaiveDate), Option<Quartiles>> = HashMap::new();
        for (route, asked) in by_route {
            let dates = asked.iter().map(|p| p.departure_date);
            let (Some(first), Some(last)) = (dates.clone().min(), dates.max()) else {
                continue;
            };
            let rows = self
                .store
                .daily_prices(route, widest(first, last), days)
                .await?;
            for p in asked {
                samples
                    .entry((route, p.departure_date))
                    .or_insert_with(|| sample_of(&rows, p.departure_date).map(|(q, _)| q));
            }
        }
        let labels = q
            .prices
            .iter()
            .map(|p| LabelledDeparture {
                origin: p.route.route.origin.clone(),
                destination: p.route.route.destination.clone(),
                departure_date: day(p.departure_date),
                price: p
                    .price
                    .as_ref()
                    .map(|(_, asked)| asked.clone())
                    .unwrap_or_default(),
                insight: match (samples.get(&(&p.route.route, p.departure_date)), &p.price) {
                    (Some(Some(quartiles)), Some((eur, _))) => {
                        Some(self.insight(quartiles, *eur, &q.display))
                    }
                    _ => None,
                },
            })
            .collect();
        Ok(PriceLabels {
            currency: q.display.currency.to_string(),
            labels,
        })
    }

    /// The lowest price of `q`'s route and date day by day over the last 60 days, the price on
    /// sale now and how it compares.
    pub async fn history(&self, q: &DepartureQuery) -> Result<PriceHistory, PricingError> {
        let today = self.today();
        let d = q.departure_date;
        let route = &q.route.route;
        let rows = self
            .store
            .daily_prices(route, (d, d), (today - Days::new(DATES_BACK), today))
            .await?;
        let now = self.store.route_prices(route, (d, d)).await?;
        let (Some(first), Some(now)) = (rows.first(), now.first()) else {
            return Err(PricingError::NoHistory(format!(
                "{}-{} on {d} in {}",
                route.origin, route.destination, route.cabin
            )));
        };
        let display = &q.route.display;
        let days = graph(
            &rows,
            first.day.max(today - Days::new(HISTORY_DAYS - 1)),
            today.min(d),
        );
        let insight = match (now.lowest_minor, self.sample(q, today).await?) {
            (Some(price), Some((quartiles, ..))) => Some(self.insight(&quartiles, price, display)),
            _ => None,
        };
        Ok(PriceHistory {
            origin: route.origin.clone(),
            destination: route.destination.clone(),
            departure_date: day(d),
            cabin: route.cabin.clone(),
            currency: display.currency.to_string(),
            today: day(today),
            days: days
                .into_iter()
                .map(|g| HistoryDay {
                    date: day(g.date),
                    days_before: (d - g.date).num_days(),
                    price: display.price(g.close as u64),
                    low: display.price(g.low as u64),
                    high: display.price(g.high as u64),
                    observed: g.observed,
                })
                .collect(),
            current: now.lowest_minor.map(|p| display.price(p as u64)),
            observed_at: time(now.observed_at),
            insight,
        })
    }

    /// The most searched routes and destinations of the last `days` days (search analytics).
    pub async fn popular(&self, p: &PopularParams) -> Result<PopularRoutes, PricingError> {
        let mut invalid = Invalid::default();
        let origin = p.origin.as_deref().and_then(|o| {
            let code = o.to_ascii_uppercase();
            if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
                Some(code)
            } else {
                invalid.push(
                    ErrorCode::InvalidField,
                    "origin",
                    "three letters: an airport or city code",
                );
                None
            }
        });
        // Not a number: malformed (400); a number out of range: unprocessable (422).
        let mut number = |field: &str, given: Option<&str>, default: u32, max: u32| match given {
            None => default,
            Some(s) => {
                let code = match s.parse::<u32>() {
                    Ok(n) if (1..=max).contains(&n) => return n,
                    Ok(_) if s.len() <= 2 => ErrorCode::InvalidRange,
                    _ => ErrorCode::InvalidField,
                };
                invalid.push(code, field, format!("a whole number from 1 to {max}"));
                default
            }
        };
        let days = number("days", p.days.as_deref(), 30, 90);
        let limit = number("limit", p.limit.as_deref(), 10, 50);
        invalid.finish()?;
        let since = self.today() - Days::new(u64::from(days) - 1);
        let top = self
            .store
            .popular_routes(since, origin.as_deref(), 1_000)
            .await?;
        let mut destinations: std::collections::HashMap<&str, i64> = Default::default();
        for r in &top {
            if let Some(d) = &r.destination {
                *destinations.entry(d).or_default() += r.searches;
            }
        }
        let mut destinations: Vec<PopularDestination> = destinations
            .into_iter()
            .map(|(d, n)| PopularDestination {
                destination: d.to_string(),
                searches: n,
            })
            .collect();
        destinations.sort_by(|a, b| {
            b.searches
                .cmp(&a.searches)
                .then(a.destination.cmp(&b.destination))
        });
        destinations.truncate(limit as usize);
        Ok(PopularRoutes {
            since: day(since),
            routes: top
                .iter()
                .take(limit as usize)
                .map(|r| PopularRoute {
                    origin: r.origin.clone(),
                    destination: r.destination.clone(),
                    searches: r.searches,
                })
                .collect(),
            destinations,
        })
    }

    /// Buy now or wait for `q`'s departure, from the shipped model and the prices seen over
    /// the last 60 days.
    pub async fn advice(&self, q: &DepartureQuery) -> Result<BuyOrWait, PricingError> {
        use crate::advice::{peer_level, Features, Situation, PEER_WEEKS};
        let today = self.today();
        let d = q.departure_date;
        let route = &q.route.route;
        if d < today {
            return Err(Invalid::field(
                ErrorCode::DateInPast,
                "departure_date",
                format!("the flight has left (today is {today})"),
            )
            .into());
        }
        let no_history = || {
            PricingError::NoHistory(format!(
                "{}-{} on {d} in {}",
                route.origin, route.destination, route.cabin
            ))
        };
        let rows = self
            .store
            .daily_prices(route, (d, d), (today - Days::new(HISTORY_DAYS), today))
            .await?;
        let flights = self.store.flight_prices(route, d).await?;
        let on_sale: Vec<_> = flights.iter().filter(|f| f.seats_left > 0).collect();
        let now = on_sale.first().ok_or_else(no_history)?.fare_minor;
        // Today first, then each day before (a day without a report holds the day before's).
        let mut prices: Vec<Option<i64>> = match rows.first() {
            Some(first) => graph(&rows, first.day, today)
                .into_iter()
                .rev()
                .map(|g| Some(g.close))
                .collect(),
            None => vec![],
        };
        match prices.first_mut() {
            Some(p) => *p = Some(now),
            None => prices.push(Some(now)),
        }
        // The cheapest flight on sale now for the departures 1 to 6 weeks later.
        let cheapest = on_sale[0];
        let mut peers = vec![];
        for week in 1..=PEER_WEEKS {
            let later = self
                .store
                .flight_prices(route, d + Days::new(7 * week))
                .await?;
            peers.extend(
                later
                    .iter()
                    .find(|f| {
                        f.carrier == cheapest.carrier
                            && f.flight_number == cheapest.flight_number
                            && f.seats_left > 0
                    })
                    .map(|f| f.fare_minor),
            );
        }
        let peer = peer_level(now, peers);
        let situation = Situation {
            days_before: (d - today).num_days().max(0) as u32,
            prices: &prices,
            seats: on_sale[0].seats_left.clamp(0, 9) as u16,
            flights: on_sale.len().min(u16::MAX as usize) as u16,
            weekday: d.weekday().num_days_from_monday() as u8,
            peer_level: peer,
        };
        let features = Features::of(&situation).ok_or_else(no_history)?;
        let advice = crate::advice::shipped()
            .advise_features(&features, situation.days_before)
            .ok_or_else(no_history)?;
        let display = &q.route.display;
        let percent = |x: f64| (x * 1000.0).round() / 10.0;
        let expected = ((now as f64) * (1.0 + advice.expected_change))
            .round()
            .max(0.0) as u64;
        let forecast_7d = advice.change_7d.map(|c| {
            let euros = now as f64 * c / 100.0;
            Forecast {
                direction: if euros > 20.0 {
                    "up"
                } else if euros < -20.0 {
                    "down"
                } else {
                    "steady"
                }
                .into(),
                change_percent: percent(c),
            }
        });
        let mut summary = if advice.wait {
            format!(
                "Wait: prices like this usually come down — about {:.0} % less if you wait and buy when we say.",
                -percent(advice.expected_change)
            )
        } else if advice.expected_change > 0.005 {
            format!(
                "Buy now: waiting usually costs more here — about {:.0} % more.",
                percent(advice.expected_change)
            )
        } else {
            "Buy now: prices are unlikely to drop much further.".to_string()
        };
        match peer.map(|r| percent(r - 1.0)) {
            Some(p) if p <= -5.0 => summary.push_str(&format!(
                " The cheapest flight is {:.0} % below its price for the same flight in the weeks after.",
                -p
            )),
            Some(p) if p >= 5.0 => summary.push_str(&format!(
                " The cheapest flight is {p:.0} % above its price for the same flight in the weeks after."
            )),
            _ => {}
        }
        Ok(BuyOrWait {
            origin: route.origin.clone(),
            destination: route.destination.clone(),
            departure_date: day(d),
            cabin: route.cabin.clone(),
            currency: display.currency.to_string(),
            today: day(today),
            advice: if advice.wait {
                Verdict::Wait
            } else {
                Verdict::Buy
            },
            price_now: display.price(now as u64),
            expected_change_percent: percent(advice.expected_change),
            expected_price: display.price(expected),
            confidence: (advice.confidence * 100.0).round() / 100.0,
            forecast_7d,
            summary,
            basis: AdviceBasis {
                days_before: situation.days_before as i64,
                level: [
                    "well_below",
                    "below",
                    "usual",
                    "above",
                    "well_above",
                    "unknown",
                ][features.level as usize]
                    .into(),
                trend: ["falling", "flat", "rising", "unknown"][features.trend as usize].into(),
                against_later_departures: peer.map(|r| (r * 100.0).round() / 100.0),
                seats_left: situation.seats,
                flights: situation.flights,
                samples: advice.samples,
            },
        })
    }

    /// Minimum, quartiles and maximum of the route's recent daily lowest prices around the
    /// date, as Amadeus' Flight Price Analysis answers, and the label of `q.price`.
    pub async fn metrics(&self, q: &DepartureQuery) -> Result<PriceMetricsResponse, PricingError> {
        let today = self.today();
        let route = &q.route.route;
        let Some((m, departures, days)) = self.sample(q, today).await? else {
            return Err(PricingError::NoHistory(format!(
                "{}-{} around {} in {}",
                route.origin, route.destination, q.departure_date, route.cabin
            )));
        };
        let display = &q.route.display;
        let amount = |minor: i64| display.price(minor.max(0) as u64).amount;
        let metric = |v: i64, quartile_ranking| PriceMetric {
            amount: amount(v),
            quartile_ranking,
        };
        Ok(PriceMetricsResponse {
            data: vec![ItineraryPriceMetric {
                type_: "itinerary-price-metric".into(),
                origin: IataCode {
                    iata_code: route.origin.clone(),
                },
                destination: IataCode {
                    iata_code: route.destination.clone(),
                },
                departure_date: day(q.departure_date),
                transport_type: "FLIGHT".into(),
                currency_code: display.currency.to_string(),
                one_way: true,
                cabin: route.cabin.clone(),
                price_metrics: vec![
                    metric(m.minimum, QuartileRanking::Minimum),
                    metric(m.first, QuartileRanking::First),
                    metric(m.median, QuartileRanking::Medium),
                    metric(m.third, QuartileRanking::Third),
                    metric(m.maximum, QuartileRanking::Maximum),
                ],
                sample_size: m.size as u64,
                sample_departures: [day(departures.0), day(departures.1)],
                sample_days: [day(days.0), day(days.1)],
                price: q.price.as_ref().map(|(eur, asked)| LabelledPrice {
                    amount: asked.clone(),
                    label: label(m.label(*eur)),
                }),
            }],
            meta: MetricsMeta { count: 1 },
        })
    }

    /// The cheapest departure date and month of a route among the lowest prices on sale now.
    pub async fn cheapest(&self, q: &RouteQuery) -> Result<CheapestDates, PricingError> {
        let today = self.today();
        let route = &q.route;
        let on_sale: Vec<(NaiveDate, i64, DateTime<Utc>)> = self
            .store
            .route_prices(route, (today, today + Days::new(DATES_AHEAD)))
            .await?
            .into_iter()
            .filter_map(|p| p.lowest_minor.map(|l| (p.departure_date, l, p.observed_at)))
            .collect();
        let display = &q.display;
        let date_price = |(d, p, at): &(NaiveDate, i64, DateTime<Utc>)| DatePrice {
            departure_date: day(*d),
            price: display.price(*p as u64),
            observed_at: time(*at),
        };
        let mut months: Vec<MonthPrice> = vec![];
        for chunk in on_sale
            .chunk_by(|a, b| a.0.format("%Y-%m").to_string() == b.0.format("%Y-%m").to_string())
        {
            let prices: Vec<i64> = chunk.iter().map(|c| c.1).collect();
            let Some(m) = quartiles(&prices) else {
                continue;
            };
            months.push(MonthPrice {
                month: chunk[0].0.format("%Y-%m").to_string(),
                lowest: display.price(m.minimum as u64),
                median: display.price(m.median as u64),
                departures: m.size as u64,
            });
        }
        let cheapest_day = on_sale.iter().min_by_key(|(d, p, _)| (*p, *d));
        let cheapest_month = months
            .iter()
            .min_by_key(|m| (m.median.minor, m.month.clone()));
        let (Some(cheapest_day), Some(cheapest_month)) = (cheapest_day, cheapest_month) else {
            return Err(PricingError::NoHistory(format!(
                "{}-{} in {}",
                route.origin, route.destination, route.cabin
            )));
        };
        Ok(CheapestDates {
            origin: route.origin.clone(),
            destination: route.destination.clone(),
            cabin: route.cabin.clone(),
            currency: display.currency.to_string(),
            today: day(today),
            cheapest_day: date_price(cheapest_day),
            cheapest_month: cheapest_month.clone(),
            days: on_sale.iter().map(date_price).collect(),
            months,
        })
    }
}

/// One day of the graph, in euro cents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphDay {
    pub date: NaiveDate,
    pub close: i64,
    pub low: i64,
    pub high: i64,
    pub observed: bool,
}

/// The graph from `from` to `to` of one departure's roll-ups (`rows`, by day): a day without
/// a roll-up holds the day before's close; days before the first roll-up are left out.
pub fn graph(rows: &[DailyPrice], from: NaiveDate, to: NaiveDate) -> Vec<GraphDay> {
    let mut out = vec![];
    let mut held: Option<i64> = rows
        .iter()
        .take_while(|r| r.day < from)
        .last()
        .map(|r| r.close_minor);
    let mut next = rows.iter().skip_while(|r| r.day < from).peekable();
    let mut date = from;
    while date <= to {
        match next.next_if(|r| r.day == date) {
            Some(r) => {
                out.push(GraphDay {
                    date,
                    close: r.close_minor,
                    low: r.low_minor,
                    high: r.high_minor,
                    observed: true,
                });
                held = Some(r.close_minor);
            }
            None => {
                if let Some(p) = held {
                    out.push(GraphDay {
                        date,
                        close: p,
                        low: p,
                        high: p,
                        observed: false,
                    });
                }
            }
        }
        let Some(after) = date.succ_opt() else { break };
        date = after;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn roll(day: u32, low: i64, close: i64) -> DailyPrice {
        let d = NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
        DailyPrice {
            departure_date: NaiveDate::from_ymd_opt(2026, 12, 28).unwrap(),
            day: d,
            low_minor: low,
            high_minor: close.max(low),
            close_minor: close,
            close_at: d.and_hms_opt(20, 0, 0).unwrap().and_utc(),
        }
    }

    #[test]
    fn the_graph_carries_a_price_over_days_without_change() {
        let rows = [roll(1, 100, 120), roll(3, 90, 95), roll(4, 95, 110)];
        let d = |n| NaiveDate::from_ymd_opt(2026, 12, n).unwrap();
        let g = graph(&rows, d(2), d(6));
        let closes: Vec<(u32, i64, bool)> = g
            .iter()
            .map(|g| (chrono::Datelike::day(&g.date), g.close, g.observed))
            .collect();
        assert_eq!(
            closes,
            [
                (2, 120, false),
                (3, 95, true),
                (4, 110, true),
                (5, 110, false),
                (6, 110, false)
            ]
        );
        assert_eq!((g[1].low, g[1].high), (90, 95));
        // Nothing before the first roll-up.
        assert_eq!(graph(&rows[1..], d(1), d(3)).len(), 1);
        assert!(graph(&[], d(1), d(3)).is_empty());
    }
}
