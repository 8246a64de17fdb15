//! Evaluating alerts: after each batch of prices pricing records (the alerts it touches) and
//! in a periodic sweep (all live alerts). An evaluation prices the alert's trip from the
//! store's route prices, [`decide`]s, and saves the verdict with the store's version check, so
//! several evaluators — the recorder and the sweep, or several pricing processes on one
//! database — tell the user once: the second to settle finds the alert changed and drops its
//! verdict (it is evaluated again on the next price).

use crate::alert::{changed, decide, flight_minutes, AlertBody, AlertDef, Fired};
use chrono::{DateTime, Days, NaiveDate, Utc};
use spontra_domain::SharedClock;
use spontra_refdata::RefData;
use spontra_store::{
    Alert, AlertStore, NewNotification, NotificationId, PriceAlertMessage, PriceStore, RouteCabin,
    RoutePrice, Settled, StoreError, UserId,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The cheapest trip an alert watches, as on sale now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    /// Euro cents, per adult (a return: both ways).
    pub price: i64,
    pub destination: String,
    pub departure: NaiveDate,
    pub return_date: Option<NaiveDate>,
    pub observed_at: DateTime<Utc>,
}

/// What an evaluation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing new to save.
    Unchanged,
    /// The watch was saved; no one to tell.
    Saved,
    /// The user will be told (the notification is in the outbox).
    Notified,
    /// Another evaluator or an edit got there first.
    Stale,
    /// The user's daily cap held it back.
    Capped,
}

pub struct Evaluator {
    pub prices: Arc<dyn PriceStore>,
    pub alerts: Arc<dyn AlertStore>,
    pub refdata: Arc<RefData>,
    /// Market time: which departures are still ahead.
    pub clock: SharedClock,
    /// Wall-clock time: when things happen (evaluations, notifications, the daily cap's day).
    pub wall: SharedClock,
    /// Alerts told per user per day, at most.
    pub daily_cap: u32,
    /// The accounts whose cap this process has seen used up, and the day: their firings are
    /// held back without a write (a day's count only grows, so this holds for every process).
    capped: Mutex<HashSet<(UserId, NaiveDate)>>,
}

/// The cheapest pairing of `out` and `back` (date → price) with nights in `nights`, earliest
/// first among equals.
fn cheapest_pair(
    out: &BTreeMap<NaiveDate, (i64, DateTime<Utc>)>,
    back: &BTreeMap<NaiveDate, (i64, DateTime<Utc>)>,
    nights: (u16, u16),
) -> Option<(i64, NaiveDate, NaiveDate, DateTime<Utc>)> {
    let mut best: Option<(i64, NaiveDate, NaiveDate, DateTime<Utc>)> = None;
    for (&d, &(p, at)) in out {
        let range = (d + Days::new(u64::from(nights.0)))..=(d + Days::new(u64::from(nights.1)));
        for (&r, &(q, at2)) in back.range(range) {
            if best.is_none_or(|b| p + q < b.0) {
                best = Some((p + q, d, r, at.max(at2)));
            }
        }
    }
    best
}

fn by_date(prices: &[RoutePrice]) -> BTreeMap<NaiveDate, (i64, DateTime<Utc>)> {
    prices
        .iter()
        .filter_map(|p| Some((p.departure_date, (p.lowest_minor?, p.observed_at))))
        .collect()
}

fn by_airport(
    prices: Vec<(String, RoutePrice)>,
) -> HashMap<String, BTreeMap<NaiveDate, (i64, DateTime<Utc>)>> {
    let mut out: HashMap<String, BTreeMap<_, _>> = HashMap::new();
    for (airport, p) in prices {
        if let Some(lowest) = p.lowest_minor {
            out.entry(airport)
                .or_default()
                .insert(p.departure_date, (lowest, p.observed_at));
        }
    }
    out
}

/// The cheapest trip to one destination: one way from `out`, or a return pairing.
fn cheapest_trip(
    destination: &str,
    out: &BTreeMap<NaiveDate, (i64, DateTime<Utc>)>,
    back: Option<&BTreeMap<NaiveDate, (i64, DateTime<Utc>)>>,
    nights: Option<(u16, u16)>,
) -> Option<Quote> {
    match nights {
        None => out
            .iter()
            .min_by_key(|(d, (p, _))| (*p, **d))
            .map(|(&d, &(p, at))| Quote {
                price: p,
                destination: destination.to_string(),
                departure: d,
                return_date: None,
                observed_at: at,
            }),
        Some(nights) => {
            let (price, d, r, at) = cheapest_pair(out, back?, nights)?;
            Some(Quote {
                price,
                destination: destination.to_string(),
                departure: d,
                return_date: Some(r),
                observed_at: at,
            })
        }
    }
}

impl Evaluator {
    pub fn new(
        prices: Arc<dyn PriceStore>,
        alerts: Arc<dyn AlertStore>,
        refdata: Arc<RefData>,
        clock: SharedClock,
        wall: SharedClock,
        daily_cap: u32,
    ) -> Evaluator {
        Evaluator {
            prices,
            alerts,
            refdata,
            clock,
            wall,
            daily_cap,
            capped: Mutex::default(),
        }
    }

    fn is_capped(&self, user: UserId, day: NaiveDate) -> bool {
        self.capped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&(user, day))
    }

    fn mark_capped(&self, user: UserId, day: NaiveDate) {
        let mut capped = self.capped.lock().unwrap_or_else(|e| e.into_inner());
        capped.retain(|(_, d)| *d >= day);
        capped.insert((user, day));
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    /// The alert's definition as stored (checked when it was saved).
    pub fn definition(&self, alert: &Alert) -> Option<AlertDef> {
        let body: AlertBody = serde_json::from_str(&alert.spec).ok()?;
        crate::service::alert_def(&self.refdata, &body, None).ok()
    }

    /// The cheapest trip `def` watches among the prices on sale, departing today or later.
    pub async fn quote(&self, def: &AlertDef) -> Result<Option<Quote>, StoreError> {
        let w = &def.watched;
        let today = self.today();
        let depart = (w.depart.0.max(today), w.depart.1);
        if depart.0 > depart.1 {
            return Ok(None);
        }
        let returns = w.returns.map(|r| (r.0.max(today), r.1));
        match &w.destination {
            Some(dest) => {
                let route = |origin: &str, destination: &str| RouteCabin {
                    origin: origin.to_string(),
                    destination: destination.to_string(),
                    cabin: w.cabin.clone(),
                };
                let out = by_date(
                    &self
                        .prices
                        .route_prices(&route(&w.origin, dest), depart)
                        .await?,
                );
                let back = match returns {
                    Some(r) => Some(by_date(
                        &self.prices.route_prices(&route(dest, &w.origin), r).await?,
                    )),
                    None => None,
                };
                Ok(cheapest_trip(dest, &out, back.as_ref(), def.nights))
            }
            None => {
                let (min, max) = def.flight_minutes.unwrap_or((0, u16::MAX));
                let out = by_airport(
                    self.prices
                        .airport_prices(&w.origin, &w.cabin, depart, true)
                        .await?,
                );
                let back = match returns {
                    Some(r) => by_airport(
                        self.prices
                            .airport_prices(&w.origin, &w.cabin, r, false)
                            .await?,
                    ),
                    None => HashMap::new(),
                };
                let mut best: Option<Quote> = None;
                let mut destinations: Vec<_> = out.keys().collect();
                destinations.sort();
                for dest in destinations {
                    let minutes = flight_minutes(&self.refdata, &w.origin, dest);
                    if !minutes.is_some_and(|m| (u32::from(min)..=u32::from(max)).contains(&m)) {
                        continue;
                    }
                    let trip = cheapest_trip(dest, &out[dest], back.get(dest), def.nights);
                    if let Some(q) = trip {
                        if best.as_ref().is_none_or(|b| q.price < b.price) {
                            best = Some(q);
                        }
                    }
                }
                Ok(best)
            }
        }
    }

    /// Evaluate one alert now.
    pub async fn evaluate(&self, alert: &Alert) -> Result<Verdict, StoreError> {
        let Some(def) = self.definition(alert) else {
            tracing::warn!(alert = %alert.id, "an alert's stored definition no longer parses; skipped");
            return Ok(Verdict::Unchanged);
        };
        let quote = self.quote(&def).await?;
        let now = self.wall.now();
        let (watch, fired) = decide(
            def.trigger,
            &alert.watch,
            quote.as_ref().map(|q| q.price),
            now,
        );
        let notify = match (fired, &quote) {
            (Some(why), Some(q)) => Some(self.notification(alert, &def, q, why, now)),
            _ => None,
        };
        if notify.is_none() && !changed(&alert.watch, &watch) {
            return Ok(Verdict::Unchanged);
        }
        let day = now.date_naive();
        if notify.is_some() && self.is_capped(alert.user_id, day) {
            metrics::counter!("pricing_alerts_capped_total").increment(1);
            return Ok(Verdict::Capped);
        }
        let settled = self
            .alerts
            .settle(
                alert.id,
                alert.version,
                &watch,
                notify.as_ref(),
                self.daily_cap,
                day,
            )
            .await?;
        Ok(match settled {
            Settled::Saved if notify.is_none() => Verdict::Saved,
            Settled::Saved => {
                metrics::counter!("pricing_alerts_fired_total").increment(1);
                Verdict::Notified
            }
            Settled::Stale => Verdict::Stale,
            Settled::Capped => {
                self.mark_capped(alert.user_id, day);
                metrics::counter!("pricing_alerts_capped_total").increment(1);
                Verdict::Capped
            }
        })
    }

    fn notification(
        &self,
        alert: &Alert,
        def: &AlertDef,
        q: &Quote,
        why: Fired,
        now: DateTime<Utc>,
    ) -> NewNotification {
        let shown = |eur: i64| def.display.price(eur.max(0) as u64).amount;
        let (reason, limit, previous) = match why {
            Fired::Below { limit } => (
                "below",
                Some(shown(limit)),
                alert.watch.reference_minor.map(shown),
            ),
            Fired::NewLow { previous } => ("new_low", None, Some(shown(previous))),
        };
        let message = PriceAlertMessage {
            alert_id: alert.id,
            origin: def.watched.origin.clone(),
            destination: q.destination.clone(),
            cabin: def.watched.cabin.clone(),
            departure_date: q.departure,
            return_date: q.return_date,
            currency: def.display.currency.to_string(),
            price: shown(q.price),
            reason: reason.to_string(),
            limit,
            previous,
            observed_at: q.observed_at,
        };
        NewNotification {
            id: NotificationId::new(),
            user_id: alert.user_id,
            alert_id: Some(alert.id),
            channel: "email".into(),
            webhook_id: None,
            payload: serde_json::to_string(&message).unwrap_or_default(),
            created_at: now,
        }
    }

    /// Evaluate the alerts that the route prices just recorded touch. Returns how many told
    /// their user.
    pub async fn on_recorded(
        &self,
        recorded: &[(RouteCabin, RoutePrice)],
    ) -> Result<usize, StoreError> {
        if recorded.is_empty() {
            return Ok(0);
        }
        let mut by_cabin: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (r, _) in recorded {
            let set = by_cabin.entry(r.cabin.as_str()).or_default();
            set.insert(r.origin.clone());
            set.insert(r.destination.clone());
        }
        let today = self.today();
        let mut told = 0;
        for (cabin, airports) in by_cabin {
            let airports: Vec<String> = airports.into_iter().collect();
            for alert in self.alerts.alerts_touching(cabin, &airports, today).await? {
                if recorded
                    .iter()
                    .any(|(r, p)| touches(&alert, r, p.departure_date))
                {
                    told += usize::from(self.evaluate(&alert).await? == Verdict::Notified);
                }
            }
        }
        Ok(told)
    }

    /// Evaluate every live alert, a page at a time. Returns how many told their user.
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        let mut after = None;
        let mut told = 0;
        loop {
            let page = self.alerts.live_alerts(after, self.today(), 500).await?;
            let Some(last) = page.last() else {
                return Ok(told);
            };
            after = Some(last.id);
            for alert in &page {
                told += usize::from(self.evaluate(alert).await? == Verdict::Notified);
            }
        }
    }
}

/// Whether a price of `route` on `date` is part of a trip `alert` watches.
fn touches(alert: &Alert, route: &RouteCabin, date: NaiveDate) -> bool {
    let w = &alert.watched;
    let within = |(from, to): (NaiveDate, NaiveDate)| from <= date && date <= to;
    let dest_is = |code: &str| w.destination.as_deref().is_none_or(|d| d == code);
    let outbound = w.origin == route.origin && dest_is(&route.destination) && within(w.depart);
    let inbound =
        w.origin == route.destination && dest_is(&route.origin) && w.returns.is_some_and(within);
    w.cabin == route.cabin && (outbound || inbound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn prices(list: &[(&str, i64)]) -> BTreeMap<NaiveDate, (i64, DateTime<Utc>)> {
        let at = Utc::now();
        list.iter().map(|(day, p)| (d(day), (*p, at))).collect()
    }

    #[test]
    fn a_return_pairs_the_cheapest_dates_the_nights_allow() {
        let out = prices(&[("2027-01-01", 100), ("2027-01-02", 60), ("2027-01-03", 80)]);
        let back = prices(&[("2027-01-04", 90), ("2027-01-05", 30), ("2027-01-09", 10)]);
        // 3–3 nights: 01→04 190, 02→05 90, 03→06 none.
        let q = cheapest_trip("JFK", &out, Some(&back), Some((3, 3))).unwrap();
        assert_eq!(
            (q.price, q.departure, q.return_date),
            (90, d("2027-01-02"), Some(d("2027-01-05")))
        );
        // 2–7 nights: 02→09 70 is the cheapest.
        let q = cheapest_trip("JFK", &out, Some(&back), Some((2, 7))).unwrap();
        assert_eq!(
            (q.price, q.departure, q.return_date),
            (70, d("2027-01-02"), Some(d("2027-01-09")))
        );
        // No return on sale: no trip.
        assert!(cheapest_trip("JFK", &out, None, Some((2, 7))).is_none());
        // One way: the cheapest date, the earliest among equals.
        let out = prices(&[("2027-01-03", 60), ("2027-01-02", 60)]);
        let q = cheapest_trip("JFK", &out, None, None).unwrap();
        assert_eq!((q.price, q.departure), (60, d("2027-01-02")));
    }
}
