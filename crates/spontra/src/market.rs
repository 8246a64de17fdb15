//! The simulated market's provider feeds (the `market` service): what providers would send
//! about the world's flights, published to `provider.raw` as they would send it.
//!
//! The feed reports **changes**, as real fare feeds do. It sweeps the world's dated legs in
//! turn (every leg once per `market.sweep_seconds`), works out each one's economy fare and
//! seats at the market clock's time with `sim::market`, and reports those whose fare or seats
//! changed since it last reported them (a cabin selling out is reported with no seats left).
//! Each leg's market is calibrated so that at the moment the feed starts its fare is the
//! world's own (the fare search starts from): base fare = world fare ÷ (trend · load ·
//! bucket) then. So a search process that follows the changes from the start of the stream
//! holds exactly what the providers say, and the volume is the market's own: about 0.3
//! changes per flight per day (buckets, load steps, trend days), so `--market-speed 60` on
//! the full world sends about 1,000 a second. Each leg's bucket walk is carried from sweep to
//! sweep (`sim::market::Walk`), so a sweep costs a few tens of nanoseconds per leg once the
//! first has worked the walks out; the feed holds 56 bytes per dated leg for it (about 200 MB
//! on the full world).
//!
//! Reports go out as the provider that sells the carrier would send them: carriers are split
//! between two simulated providers, `/providers/skyhub` (Duffel's vocabulary) and
//! `/providers/farefinder` (Amadeus'), and a third of them are sold by both. A share
//! `fault_rate` of what is sent carries the faults real feeds carry: a message sent twice, one
//! delivered late (observed minutes before), JSON cut short, an unknown airport, a zero price,
//! an unknown currency, a departure already gone, an unknown schema version.

use crate::world::World;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use spontra_domain::SharedClock;
use spontra_engine::Index;
use spontra_events::Bus;
use spontra_events::Message;
use spontra_ingest::feed::{
    event_for, schedule_event_for, AMADEUS_FARE_V1, AMADEUS_SCHEDULE_V1, DUFFEL_FARE_V1,
    DUFFEL_SCHEDULE_V1,
};
use spontra_ingest::worker::RAW;
use spontra_sim::market::{flight_id, FlightMarket, Walk};
use spontra_sim::rng::{code3, unit};
use spontra_store::{FareObservation, ScheduleKind, ScheduleObservation};
use std::sync::{Arc, Mutex};

/// `[market]` settings.
#[derive(Debug, Clone, Deserialize)]
pub struct MarketSettings {
    /// Market time runs this many times as fast as real time (`--market-speed 60`: a market
    /// hour per real minute).
    #[serde(default = "one")]
    pub speed: f64,
    /// Every leg is looked at again this often (real seconds): the longest a change waits
    /// before it is reported.
    #[serde(default = "sweep_seconds")]
    pub sweep_seconds: f64,
    /// Share of messages that carry a fault.
    #[serde(default = "fault_rate")]
    pub fault_rate: f64,
    /// When the feed starts, it also reports the fares of flights leaving within this many
    /// days as they stand (a snapshot, as feeds send on connecting), so prices have a history
    /// from the first day; 0: changes only.
    #[serde(default)]
    pub snapshot_days: u32,
}

fn one() -> f64 {
    1.0
}
fn sweep_seconds() -> f64 {
    5.0
}
fn fault_rate() -> f64 {
    0.02
}

impl Default for MarketSettings {
    fn default() -> Self {
        MarketSettings {
            speed: one(),
            sweep_seconds: sweep_seconds(),
            fault_rate: fault_rate(),
            snapshot_days: 0,
        }
    }
}

/// Seats left are reported up to 9 ("9 or more"), as GDS availability and Amadeus'
/// `numberOfBookableSeats` do: a seat sold is news only when few are left.
const SEATS_SHOWN: u16 = 9;

/// Seats in an economy cabin (the world's legs keep only a capped count of seats left).
const ECONOMY_SEATS: u16 = 180;

/// A simulated provider: its CloudEvents source and the types of its fare and schedule feeds.
pub struct Provider {
    pub source: &'static str,
    pub fare_type: &'static str,
    pub schedule_type: &'static str,
}

/// The Duffel-shaped and the Amadeus-shaped provider.
pub const PROVIDERS: [Provider; 2] = [
    Provider {
        source: "/providers/skyhub",
        fare_type: DUFFEL_FARE_V1,
        schedule_type: DUFFEL_SCHEDULE_V1,
    },
    Provider {
        source: "/providers/farefinder",
        fare_type: AMADEUS_FARE_V1,
        schedule_type: AMADEUS_SCHEDULE_V1,
    },
];

/// The simulated providers that sell `carrier`: a third of the carriers each alone, a third
/// both.
pub fn providers_of(carrier: &str) -> impl Iterator<Item = &'static Provider> {
    let (duffel, amadeus) = match code3(carrier) % 3 {
        0 => (true, false),
        1 => (false, true),
        _ => (true, true),
    };
    PROVIDERS
        .iter()
        .zip([duffel, amadeus])
        .filter_map(|(p, sells)| sells.then_some(p))
}

/// What the feed knows of one leg between sweeps.
#[derive(Clone, Copy)]
struct Tracked {
    /// `sim::market`'s identity of the flight.
    id: u64,
    /// Calibrated so the fare when the feed started is the world's.
    base_cents: f32,
    walk: Walk,
    /// The fare (cents) and seats last reported (0 seats: sold out at that fare).
    fare: u32,
    seats: u16,
    /// Minutes the flight was retimed by (0 until it is).
    shift: i16,
    /// Schedule changes reported: [`CANCELLED`], [`RETIMED`], [`EXTRA_ADDED`].
    flags: u8,
}

const CANCELLED: u8 = 1;
const RETIMED: u8 = 2;
const EXTRA_ADDED: u8 = 4;
/// No schedule change is left to report: none is planned, or it was due before the feed
/// calibrated the flight (the world's schedule already is what it became). Most flights, so
/// the sweep skips them without working out their plan.
const SETTLED: u8 = 8;

/// Share of flights cancelled some time in their last 30 days on sale, and retimed in their
/// last 60 (by 5 to 60 minutes, either way). Airlines' schedule changes: IATA slot seasons
/// bring a few percent of flights retimed; cancellations for commercial reasons around 1-2 %.
const CANCEL_SHARE: f64 = 0.015;
const RETIME_SHARE: f64 = 0.04;
/// Share of flights that, selling out more than two days ahead, get an extra section two and a
/// half hours later (an added frequency), opening at 90 % of the last fare with 9 seats.
const EXTRA_SHARE: f64 = 0.25;
const EXTRA_AFTER_MINUTES: i64 = 150;

/// A schedule change a flight is due: what, when (days before departure) and by how much.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Planned {
    Cancel { at_days: f64 },
    Retime { at_days: f64, shift: i16 },
}

/// The schedule change planned for flight `id` (a function of the flight alone), if any.
fn planned(id: u64) -> Option<Planned> {
    let u = unit(&[id, 11]);
    if u < CANCEL_SHARE {
        Some(Planned::Cancel {
            at_days: 1.0 + 29.0 * unit(&[id, 12]),
        })
    } else if u < CANCEL_SHARE + RETIME_SHARE {
        let minutes = 5 * (1 + (unit(&[id, 14]) * 12.0) as i16).min(12);
        Some(Planned::Retime {
            at_days: 2.0 + 58.0 * unit(&[id, 13]),
            shift: if unit(&[id, 15]) < 0.5 {
                -minutes
            } else {
                minutes
            },
        })
    } else {
        None
    }
}

/// Where the sweep is: the world swept (its window rolls on at midnight), the next leg to look
/// at, and each leg's state once looked at.
struct Sweep {
    world: Arc<World>,
    /// When legs first looked at are calibrated: the feed's start, or when the window rolled
    /// on (the new day's flights' fares are the world's then).
    since: DateTime<Utc>,
    next: u32,
    /// Where the start's snapshot pass stands (`None`: done, or no snapshot asked for).
    snapshot: Option<u32>,
    legs: Vec<Option<Tracked>>,
    sent: u64,
}

pub struct MarketFeed {
    pub bus: Arc<dyn Bus>,
    /// Airports' curfews, for schedule changes.
    refdata: Arc<spontra_refdata::RefData>,
    pub clock: SharedClock,
    pub settings: MarketSettings,
    pub seed: u64,
    /// Market time when the feed started: when its fares are the world's.
    start: DateTime<Utc>,
    sweep: Mutex<Sweep>,
}

impl MarketFeed {
    /// A feed of `world`'s market from now (market time).
    pub fn new(
        world: Arc<World>,
        bus: Arc<dyn Bus>,
        clock: SharedClock,
        settings: MarketSettings,
        seed: u64,
    ) -> Self {
        let legs = world.index.leg_count();
        let start = clock.now();
        let snapshot = (settings.snapshot_days > 0).then_some(0);
        MarketFeed {
            start,
            refdata: world.refdata.clone(),
            bus,
            clock,
            settings,
            seed,
            sweep: Mutex::new(Sweep {
                world,
                since: start,
                next: 0,
                snapshot,
                legs: vec![None; legs],
                sent: 0,
            }),
        }
    }

    fn sweep(&self) -> std::sync::MutexGuard<'_, Sweep> {
        self.sweep.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The world swept now.
    pub fn world(&self) -> Arc<World> {
        self.sweep().world.clone()
    }

    /// The window rolled on at `at` (market time): sweep `world` from now on. Flights both
    /// worlds hold keep their market (walk, calibration, what was last reported) — those not
    /// looked at yet are calibrated to the old world first, as search carries the old fares —
    /// and the new day's flights are calibrated to the new world's fares at `at`.
    pub fn adopt(&self, world: Arc<World>, at: DateTime<Utc>) {
        let mut sweep = self.sweep();
        let (old, new) = (&sweep.world.index, &world.index);
        let mut legs: Vec<Option<Tracked>> = vec![None; new.leg_count()];
        for (from, to) in new.matching_legs(old) {
            let t = sweep.legs[from as usize].unwrap_or_else(|| self.track(old, from, sweep.since));
            legs[to as usize] = Some(t);
        }
        sweep.world = world;
        sweep.since = at;
        sweep.legs = legs;
        sweep.next = 0;
        // Leg numbers changed: what the snapshot pass had left, the sweep reports.
        sweep.snapshot = None;
    }

    /// Days from `at` to leg `id`'s departure.
    fn days_before(index: &Index, id: u32, at: DateTime<Utc>) -> f64 {
        let departure = index.to_utc(index.leg(id).dep) * 60;
        (departure - at.timestamp()) as f64 / 86_400.0
            - at.timestamp_subsec_millis() as f64 / 86_400_000.0
    }

    /// Days from `now` to leg `id`'s departure, as retimed.
    fn days_left(index: &Index, id: u32, t: &Tracked, now: DateTime<Utc>) -> f64 {
        Self::days_before(index, id, now) + t.shift as f64 / 1440.0
    }

    /// The leg's market calibrated at `since`: its identity, and the base that makes its fare
    /// then the world's.
    fn track(&self, index: &Index, id: u32, since: DateTime<Utc>) -> Tracked {
        let leg = index.leg(id);
        let view = index.leg_view(id);
        let local_day = (view.departure + view.departure_offset as i64).div_euclid(1440);
        let market = FlightMarket {
            id: flight_id(
                self.seed,
                code3(view.carrier.as_str()),
                view.flight_number,
                local_day,
                0,
            ),
            base_cents: leg.fare as f64,
            capacity: ECONOMY_SEATS,
        };
        let mut walk = market.walk();
        let days = Self::days_before(index, id, since);
        market.advance(&mut walk, days);
        let (factor, seats) = market.factor(&walk, days);
        Tracked {
            id: market.id,
            base_cents: (leg.fare as f64 / factor.unwrap_or(1.0)) as f32,
            walk,
            fare: leg.fare,
            seats: if factor.is_some() {
                seats.min(SEATS_SHOWN)
            } else {
                0
            },
            shift: 0,
            flags: match planned(market.id) {
                Some(Planned::Cancel { at_days } | Planned::Retime { at_days, .. })
                    if days > at_days =>
                {
                    0
                }
                _ => SETTLED,
            },
        }
    }

    /// Look at leg `id` at market time `now`: what a provider reports about it, if its fare
    /// or seats changed since the last report.
    fn look(
        &self,
        index: &Index,
        t: &mut Tracked,
        id: u32,
        now: DateTime<Utc>,
    ) -> Option<FareObservation> {
        let days = Self::days_left(index, id, t, now);
        if days <= 0.0 || t.flags & CANCELLED != 0 {
            return None;
        }
        let market = FlightMarket {
            id: t.id,
            base_cents: t.base_cents as f64,
            capacity: ECONOMY_SEATS,
        };
        let state = market.state_on(&mut t.walk, days);
        // A sold-out cabin is reported with no seats, at the fare it last sold for.
        let fare = state.fare_cents.map_or(t.fare, |f| f as u32);
        let seats = state.seats_left.min(SEATS_SHOWN);
        if (fare, seats) == (t.fare, t.seats) {
            return None;
        }
        (t.fare, t.seats) = (fare, seats);
        Self::observation(index, id, t, now)
    }

    /// The fare and seats of leg `id` as `t` last reported them, observed at `now`.
    fn observation(
        index: &Index,
        id: u32,
        t: &Tracked,
        now: DateTime<Utc>,
    ) -> Option<FareObservation> {
        let (fare, seats) = (t.fare, t.seats);
        let view = index.leg_view(id);
        let scheduled = DateTime::<Utc>::from_timestamp(view.departure * 60, 0)?;
        let local = scheduled + Duration::minutes(view.departure_offset as i64);
        // A retimed flight keeps the date it was sold for, and leaves at its new time.
        let departure_at = scheduled + Duration::minutes(t.shift as i64);
        Some(FareObservation {
            source: String::new(),
            event_id: String::new(),
            carrier: view.carrier.as_str().to_string(),
            flight_number: view.flight_number,
            departure_date: local.date_naive(),
            origin: view.origin.as_str().to_string(),
            destination: view.destination.as_str().to_string(),
            cabin: "economy".into(),
            fare_minor: fare.max(1) as i64,
            currency: index.currency().as_str().to_string(),
            seats_left: seats as i32,
            departure_at,
            observed_at: now,
        })
    }

    /// The schedule change leg `id` is due at `now`, if any (once each: `t` remembers).
    fn due(
        &self,
        index: &Index,
        t: &mut Tracked,
        id: u32,
        now: DateTime<Utc>,
    ) -> Option<ScheduleObservation> {
        let days = Self::days_left(index, id, t, now);
        if days <= 0.0 || t.flags & (CANCELLED | RETIMED | SETTLED) != 0 {
            return None;
        }
        match planned(t.id)? {
            Planned::Cancel { at_days } if days <= at_days => {
                t.flags |= CANCELLED;
                self.schedule_change(index, id, t, ScheduleKind::Cancelled, 0, now)
            }
            // Announced while it still leaves in more than two hours, at either time.
            Planned::Retime { at_days, shift } if days <= at_days => {
                if days.min(days + shift as f64 / 1440.0) < 2.0 / 24.0 {
                    t.flags |= SETTLED;
                    return None;
                }
                t.flags |= RETIMED;
                let change =
                    self.schedule_change(index, id, t, ScheduleKind::Retimed, shift as i64, now)?;
                t.shift = shift;
                Some(change)
            }
            _ => None,
        }
    }

    /// Leg `id` sold out: perhaps its carrier adds an extra section (once per flight).
    fn extra(
        &self,
        index: &Index,
        t: &mut Tracked,
        id: u32,
        now: DateTime<Utc>,
    ) -> Option<ScheduleObservation> {
        let days = Self::days_left(index, id, t, now);
        if t.seats > 0 || days <= 2.0 || t.flags & EXTRA_ADDED != 0 {
            return None;
        }
        t.flags |= EXTRA_ADDED;
        if unit(&[t.id, 21]) >= EXTRA_SHARE {
            return None;
        }
        let mut added = self.schedule_change(
            index,
            id,
            t,
            ScheduleKind::Added,
            t.shift as i64 + EXTRA_AFTER_MINUTES,
            now,
        )?;
        // A number of its own: 9000 and up (this world's scheduled numbers stay below).
        added.flight_number = 9_000 + added.flight_number % 1_000;
        added.fare_minor = Some((t.fare as i64 * 9 / 10).max(1));
        added.currency = Some(index.currency().as_str().to_string());
        added.seats_left = Some(SEATS_SHOWN as i32);
        Some(added)
    }

    /// `kind` of leg `id`, leaving `shift` minutes from its scheduled time (none when that
    /// would break a night curfew at either end).
    fn schedule_change(
        &self,
        index: &Index,
        id: u32,
        t: &Tracked,
        kind: ScheduleKind,
        shift: i64,
        now: DateTime<Utc>,
    ) -> Option<ScheduleObservation> {
        let view = index.leg_view(id);
        let refdata = &self.refdata;
        for (airport, utc, offset) in [
            (view.origin, view.departure + shift, view.departure_offset),
            (view.destination, view.arrival + shift, view.arrival_offset),
        ] {
            let curfew = refdata.airport(airport).and_then(|a| a.curfew.as_ref());
            if curfew.is_some_and(|c| c.covers(utc + offset as i64)) {
                return None;
            }
        }
        let at = |m: i64| DateTime::<Utc>::from_timestamp(m * 60, 0);
        let scheduled = at(view.departure)?;
        let local = scheduled + Duration::minutes(view.departure_offset as i64);
        let current = at(view.departure + t.shift as i64)?;
        Some(ScheduleObservation {
            source: String::new(),
            event_id: String::new(),
            carrier: view.carrier.as_str().to_string(),
            flight_number: view.flight_number,
            departure_date: local.date_naive(),
            origin: view.origin.as_str().to_string(),
            destination: view.destination.as_str().to_string(),
            kind,
            departure_at: at(view.departure + shift)?,
            arrival_at: at(view.arrival + shift)?,
            previous_departure_at: (kind == ScheduleKind::Retimed).then_some(current),
            fare_minor: None,
            currency: None,
            seats_left: None,
            observed_at: now,
        })
    }

    /// One tick at market time `now`: the next share of the sweep, and the messages that
    /// report what changed. Works at most `budget` (real time), so the first sweep — which
    /// works every walk out from the start of sales — is spread over several ticks. With
    /// `snapshot_days`, the first ticks go to the start's snapshot: the flights leaving within
    /// those days, reported as they stand before the sweep works through the rest (as a feed
    /// sends its snapshot on connecting), so a fresh instance has the near days' prices soon.
    pub fn tick(&self, now: DateTime<Utc>, budget: std::time::Duration) -> Vec<Message> {
        let started = std::time::Instant::now();
        let mut out = vec![];
        let mut sweep = self.sweep();
        let world = sweep.world.clone();
        let index = &world.index;
        let legs = index.leg_count() as u32;
        if legs == 0 {
            return out;
        }
        if let Some(from) = sweep.snapshot {
            // Scheduled times here (a day's margin for retimings); `visit` judges each as
            // retimed.
            let horizon = self.settings.snapshot_days as f64 + 1.0;
            let mut id = from;
            while id < legs && started.elapsed() < budget {
                let days = Self::days_before(index, id, now);
                if days > -1.0 && days <= horizon && sweep.legs[id as usize].is_none() {
                    self.visit(&mut sweep, index, id, now, &mut out);
                }
                id += 1;
            }
            sweep.snapshot = (id < legs).then_some(id);
            if sweep.snapshot.is_some() {
                return out;
            }
        }
        let ticks_per_sweep = (self.settings.sweep_seconds * 10.0).max(1.0);
        let share = (legs as f64 / ticks_per_sweep).ceil() as u32;
        for _ in 0..share {
            let id = sweep.next;
            sweep.next = (id + 1) % legs;
            self.visit(&mut sweep, index, id, now, &mut out);
            if started.elapsed() >= budget {
                break;
            }
        }
        out
    }

    /// Look at leg `id` at `now`: its schedule's and fare's changes since it was last looked
    /// at (a leg first looked at leaving within `snapshot_days`: its fare as it stands).
    fn visit(
        &self,
        sweep: &mut Sweep,
        index: &Index,
        id: u32,
        now: DateTime<Utc>,
        out: &mut Vec<Message>,
    ) {
        let since = sweep.since;
        let fresh = sweep.legs[id as usize].is_none();
        let tracked = sweep.legs[id as usize].get_or_insert_with(|| self.track(index, id, since));
        let mut schedule = vec![];
        schedule.extend(self.due(index, tracked, id, now));
        let fare = self.look(index, tracked, id, now);
        if fare.is_some() {
            schedule.extend(self.extra(index, tracked, id, now));
        }
        // The start's snapshot: a flight first looked at, leaving soon, as it stands.
        let soon = |t: &Tracked| {
            let days = Self::days_left(index, id, t, now);
            days > 0.0 && days <= self.settings.snapshot_days as f64 && t.flags & CANCELLED == 0
        };
        let fare = match fare {
            None if fresh && soon(tracked) => Self::observation(index, id, tracked, now),
            other => other,
        };
        // The flight's schedule before its fare (one route, one partition: in order).
        for c in schedule {
            sweep.sent += 1;
            out.extend(self.schedule_messages_for(c, sweep.sent));
        }
        if let Some(o) = fare {
            sweep.sent += 1;
            out.extend(self.messages_for(o, sweep.sent));
        }
    }

    /// Schedule change `n` as each provider selling its carrier sends it.
    fn schedule_messages_for(&self, change: ScheduleObservation, n: u64) -> Vec<Message> {
        let key = format!("{}-{}", change.origin, change.destination);
        providers_of(&change.carrier)
            .map(|p| {
                let c = ScheduleObservation {
                    source: p.source.to_string(),
                    event_id: format!("{}-s{n}", self.start.timestamp_millis()),
                    ..change.clone()
                };
                schedule_event_for(p.schedule_type, &c).to_message(key.clone())
            })
            .collect()
    }

    /// Observation `n` as each provider selling its carrier sends it, faults and all.
    fn messages_for(&self, observed: FareObservation, n: u64) -> Vec<Message> {
        let mut out = vec![];
        for p in providers_of(&observed.carrier) {
            let o = FareObservation {
                source: p.source.to_string(),
                event_id: format!("{}-{n}", self.start.timestamp_millis()),
                ..observed.clone()
            };
            let fault = unit(&[self.seed, n, 2]) < self.settings.fault_rate;
            out.extend(self.messages(p.fare_type, o, fault.then(|| unit(&[self.seed, n, 3]))));
        }
        out
    }

    /// `o` as `type_`'s provider sends it, with the fault `which` picks (if any).
    fn messages(&self, type_: &str, mut o: FareObservation, which: Option<f64>) -> Vec<Message> {
        let key = format!("{}-{}", o.origin, o.destination);
        let Some(which) = which else {
            return vec![event_for(type_, &o).to_message(key)];
        };
        let mut event = event_for(type_, &o);
        match (which * 8.0) as u32 {
            0 => return vec![event.to_message(key.clone()), event.to_message(key)],
            1 => {
                o.observed_at -= Duration::minutes(1 + (which * 997.0) as i64 % 120);
                event = event_for(type_, &o);
            }
            2 => event.data.truncate(event.data.len() / 2),
            3 => {
                o.origin = "XQX".into();
                event = event_for(type_, &o);
            }
            4 => {
                o.fare_minor = 0;
                event = event_for(type_, &o);
            }
            5 => {
                o.currency = "XYZ".into();
                event = event_for(type_, &o);
            }
            6 => {
                o.departure_at = o.observed_at - Duration::hours(3);
                o.departure_date = o.departure_at.date_naive();
                event = event_for(type_, &o);
            }
            _ => event.type_ = event.type_.replace(".v1", ".v9"),
        }
        vec![event.to_message(key)]
    }

    /// Publish a tick every tenth of a second until `stop`.
    pub async fn run(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut every = tokio::time::interval(std::time::Duration::from_millis(100));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        while !*stop.borrow() {
            tokio::select! {
                _ = every.tick() => {}
                _ = stop.changed() => break,
            }
            let feed = self.clone();
            let now = self.clock.now();
            // Sweeping is CPU work: off the async workers, at most 40 ms of it a tick.
            let messages = tokio::task::spawn_blocking(move || {
                feed.tick(now, std::time::Duration::from_millis(40))
            })
            .await
            .unwrap_or_default();
            if let Err(e) = self.bus.publish(RAW, messages).await {
                tracing::warn!(error = %e, "the market could not publish; it goes on");
            }
        }
    }
}
