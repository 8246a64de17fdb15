//! The index searches read while the market moves: versions of the engine's [`Index`] that
//! searches take whole, and the follower that turns `inventory.changed` into new versions.
//!
//! A search takes the current [`Snapshot`] once (an atomic pointer load, never a lock) and
//! answers from it alone, so it never waits on an update and never sees part of a batch.
//! Updates are applied by one writer to a second copy of the index — the version before the
//! current one, brought up to date with the batch it missed and then the new batch — which is
//! then published as the next version. When a search still holds that older copy, the writer
//! copies the current index instead (`Arc::make_mut`), so a long search costs a copy, never a
//! wait. Steady state: two copies of the index, and a batch costs its updates plus the routes
//! they touch, not the size of the index.
//!
//! Schedule changes (flights cancelled, retimed, added) lay the index out again
//! (`Index::reschedule`) and are published the same way, as are the next day's window at
//! midnight ([`LiveIndex::roll`]) and a state restored from a snapshot (`crate::snapshot`).

use arc_swap::ArcSwap;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use spontra_domain::{AirportCode, CarrierCode};
use spontra_engine::{
    AirportId, CarrierId, FareUpdate, Index, LegInput, ScheduleChange, ScheduleOutcome,
    UpdateOutcome,
};
use spontra_events::{BatchHandler, Bus, BusError, Record};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The topic search follows.
pub use spontra_events::topics::INVENTORY_CHANGED;

/// One version of the inventory.
pub struct Snapshot {
    /// 0 as built; one more for each batch of updates applied.
    pub version: u64,
    pub index: Arc<Index>,
    /// When the newest observation applied so far was made (market time).
    pub observed_until: Option<DateTime<Utc>>,
    /// The first bookable day (market time) of this version's window.
    pub today: NaiveDate,
}

impl Snapshot {
    /// The bookable days: from today to the index's last day of departures.
    pub fn window(&self) -> (NaiveDate, NaiveDate) {
        let (_, last_day) = self.index.day_span();
        let last = spontra_domain::utc_date(last_day).max(self.today);
        (self.today, last)
    }
}

/// Changes kept for flights beyond the window's last day (the market may roll its window
/// before this process does): applied when the window reaches them.
const AHEAD_KEPT: usize = 200_000;

struct Writer {
    /// The version before the current one, and the batch it has not received.
    spare: Option<Arc<Index>>,
    missed: Vec<FareUpdate>,
    /// Changes for flights after the window's last day, oldest first.
    ahead: VecDeque<Item>,
    /// The schedule changes applied, so a rolled window (built afresh from the schedule)
    /// keeps them.
    schedule: Vec<ScheduleNotice>,
}

impl Writer {
    /// Keep `item` for later when it names a flight after the window's last day.
    fn keep_if_ahead(&mut self, item: Item, last_day: i64) {
        if item.departure().timestamp().div_euclid(60) >= last_day + 1440 {
            if self.ahead.len() == AHEAD_KEPT {
                self.ahead.pop_front();
            }
            self.ahead.push_back(item);
        }
    }
}

/// What [`reschedule_in_order`] did: the new index (`None`: nothing changed), the outcome,
/// the notices made, and the notices skipped with why.
type InOrder = (
    Option<Index>,
    ScheduleOutcome,
    Vec<ScheduleNotice>,
    Vec<(ScheduleNotice, Skipped)>,
);

/// `notices` made on `index` in order. A run of notices that resolve against one layout is
/// made at once; a notice that names a flight as an earlier one of the run left it (a
/// cancellation at a retimed flight's new time) is resolved again after that run.
fn reschedule_in_order(index: &Index, notices: Vec<ScheduleNotice>) -> InOrder {
    let mut next: Option<Index> = None;
    let mut outcome = ScheduleOutcome::default();
    let (mut made, mut skipped) = (vec![], vec![]);
    let (mut batch, mut batch_notices) = (vec![], vec![]);
    let mut flush = |next: &mut Option<Index>,
                     batch: &mut Vec<ScheduleChange>,
                     batch_notices: &mut Vec<ScheduleNotice>,
                     made: &mut Vec<ScheduleNotice>| {
        if batch.is_empty() {
            return;
        }
        let (ix, o) = next.as_ref().unwrap_or(index).reschedule(batch);
        outcome += o;
        *next = Some(ix);
        batch.clear();
        made.append(batch_notices);
    };
    for n in notices {
        match n.resolve(next.as_ref().unwrap_or(index)) {
            Ok(c) => {
                batch.push(c);
                batch_notices.push(n);
            }
            Err(_) if !batch.is_empty() => {
                flush(&mut next, &mut batch, &mut batch_notices, &mut made);
                match n.resolve(next.as_ref().unwrap_or(index)) {
                    Ok(c) => {
                        batch.push(c);
                        batch_notices.push(n);
                    }
                    Err(why) => skipped.push((n, why)),
                }
            }
            Err(why) => skipped.push((n, why)),
        }
    }
    flush(&mut next, &mut batch, &mut batch_notices, &mut made);
    (next, outcome, made, skipped)
}

/// What [`up_to_date`] made.
struct UpToDate {
    index: Index,
    /// Flights whose state was carried over.
    carried: usize,
    /// The schedule changes made on it, in order.
    made: Vec<ScheduleNotice>,
    /// Changes kept for later that name no flight of it.
    unmade_ahead: Vec<Item>,
}

/// `index`, built afresh from the schedule, brought up to date with what a process knows:
/// the schedule changes `log` made again, then `from`'s fares, seats and observation times
/// carried over for every flight both hold, then `ahead` (changes received for flights beyond
/// `from`'s days): schedule changes first (they lay the legs out again), then fares against
/// the final layout.
fn up_to_date(
    index: Index,
    log: Vec<ScheduleNotice>,
    from: &Index,
    ahead: impl IntoIterator<Item = Item>,
) -> UpToDate {
    let (next, _, mut made, _) = reschedule_in_order(&index, log);
    let mut index = next.unwrap_or(index);
    let carried = index.carry_from(from);
    let (mut schedule, mut fares_ahead) = (vec![], vec![]);
    for item in ahead {
        match item {
            Item::Schedule(n) => schedule.push(n),
            Item::Fare(c) => fares_ahead.push(c),
        }
    }
    let (next, _, made_ahead, unmade) = reschedule_in_order(&index, schedule);
    if let Some(next) = next {
        index = next;
    }
    made.extend(made_ahead);
    let mut unmade_ahead: Vec<Item> = unmade.into_iter().map(|(n, _)| Item::Schedule(n)).collect();
    let mut fares = vec![];
    for c in fares_ahead {
        match c.resolve(&index) {
            Ok(u) => fares.push(u),
            Err(_) => unmade_ahead.push(Item::Fare(c)),
        }
    }
    index.apply(&fares);
    UpToDate {
        index,
        carried,
        made,
        unmade_ahead,
    }
}

/// What a batch of schedule changes did.
#[derive(Debug, Default)]
pub struct ScheduleApplied {
    pub outcome: ScheduleOutcome,
    pub skipped: Vec<Skipped>,
}

/// One record of `inventory.changed`, as search reads it.
#[derive(Debug, Clone)]
pub enum Item {
    Fare(Change),
    Schedule(ScheduleNotice),
}

impl Item {
    /// The item `record` carries (its CloudEvents type says which kind).
    pub fn read(record: &Record) -> Result<Item, Skipped> {
        let schedule = record.header("ce_type")
            == Some(spontra_events::topics::types::SCHEDULE_CHANGED.as_bytes());
        if schedule {
            serde_json::from_slice(&record.payload)
                .map(Item::Schedule)
                .map_err(|_| Skipped::Unreadable)
        } else {
            Change::read(record).map(Item::Fare)
        }
    }

    /// The departure that names the flight (before a retime).
    fn departure(&self) -> DateTime<Utc> {
        match self {
            Item::Fare(c) => c.departure_at,
            Item::Schedule(n) => n.scheduled_departure(),
        }
    }
}

/// What a batch of changes did.
#[derive(Debug, Default)]
pub struct Applied {
    pub outcome: UpdateOutcome,
    /// Changes not turned into updates, and why.
    pub skipped: Vec<Skipped>,
}

/// The current version, and the writer making the next.
pub struct LiveIndex {
    current: ArcSwap<Snapshot>,
    writer: Mutex<Writer>,
    /// Records of the followed topic not yet applied (-1 until measured, or when not following).
    lag: AtomicI64,
}

impl LiveIndex {
    /// The index as built for the window starting `today`.
    pub fn new(index: Arc<Index>, today: NaiveDate) -> Self {
        LiveIndex {
            current: ArcSwap::from_pointee(Snapshot {
                version: 0,
                index,
                observed_until: None,
                today,
            }),
            writer: Mutex::new(Writer {
                spare: None,
                missed: vec![],
                ahead: VecDeque::new(),
                schedule: vec![],
            }),
            lag: AtomicI64::new(-1),
        }
    }

    /// The current version, whole.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Records the follower has not applied yet, if it measures them.
    pub fn lag(&self) -> Option<i64> {
        Some(self.lag.load(Ordering::Relaxed)).filter(|l| *l >= 0)
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Apply `changes` as one new version (CPU work: call it off the async runtime), each
    /// resolved to its flight in the current version. Changes for flights after the window's
    /// last day are kept for the day the window reaches them.
    pub fn apply_changes(&self, changes: Vec<Change>) -> Applied {
        let mut w = self.writer();
        let current = self.current.load_full();
        let mut batch = Vec::with_capacity(changes.len());
        let mut skipped = vec![];
        let (_, last_day) = current.index.day_span();
        for c in changes {
            match c.resolve(&current.index) {
                Ok(u) => batch.push(u),
                Err(why) => {
                    if why == Skipped::UnknownFlight {
                        w.keep_if_ahead(Item::Fare(c), last_day);
                    }
                    skipped.push(why);
                }
            }
        }
        let outcome = self.publish(&mut w, current, batch);
        Applied { outcome, skipped }
    }

    /// Apply `batch` (resolved against the current version) as one new version. Nothing is
    /// published when no update was taken (all late, or for flights the index lacks).
    pub fn apply(&self, batch: Vec<FareUpdate>) -> UpdateOutcome {
        let mut w = self.writer();
        let current = self.current.load_full();
        self.publish(&mut w, current, batch)
    }

    /// Make `notices` (schedule changes, in order) as one new version: the index is laid out
    /// again (see `Index::reschedule`), a pass over every leg, so the follower makes each run
    /// of them at once. Changes for flights after the window's last day are kept for the day it reaches
    /// them.
    pub fn apply_schedule(&self, notices: Vec<ScheduleNotice>) -> ScheduleApplied {
        let mut w = self.writer();
        let current = self.current.load_full();
        let (_, last_day) = current.index.day_span();
        let (next, outcome, made, skipped_notices) = reschedule_in_order(&current.index, notices);
        let mut skipped = vec![];
        for (n, why) in skipped_notices {
            if why == Skipped::UnknownFlight {
                w.keep_if_ahead(Item::Schedule(n), last_day);
            }
            skipped.push(why);
        }
        let Some(next) = next else {
            return ScheduleApplied { outcome, skipped };
        };
        let observed_until = made
            .iter()
            .map(|n| n.observed_at)
            .max()
            .max(current.observed_until);
        w.schedule.extend(made);
        self.publish_laid_out(
            &mut w,
            Snapshot {
                version: current.version + 1,
                index: Arc::new(next),
                observed_until,
                today: current.today,
            },
        );
        ScheduleApplied { outcome, skipped }
    }

    /// The current version and the schedule changes applied to reach it, taken together.
    pub(crate) fn current_with_schedule(&self) -> (Arc<Snapshot>, Vec<ScheduleNotice>) {
        let w = self.writer();
        (self.current.load_full(), w.schedule.clone())
    }

    /// Replace the current version (as built) by one with `schedule` made on it and then the
    /// updates `updates` resolves against that layout, published as `version`. Returns the
    /// updates applied.
    pub(crate) fn replace_with(
        &self,
        version: u64,
        observed_until: Option<DateTime<Utc>>,
        schedule: Vec<ScheduleNotice>,
        updates: impl FnOnce(&Index) -> Vec<FareUpdate>,
    ) -> usize {
        let mut w = self.writer();
        let current = self.current.load_full();
        let (next, _, made, _) = reschedule_in_order(&current.index, schedule);
        let mut index = next.unwrap_or_else(|| (*current.index).clone());
        let batch = updates(&index);
        let applied = index.apply(&batch).applied;
        w.schedule = made;
        self.publish_laid_out(
            &mut w,
            Snapshot {
                version: version.max(current.version),
                index: Arc::new(index),
                observed_until: observed_until.max(current.observed_until),
                today: current.today,
            },
        );
        applied
    }

    /// The window rolled: publish `index` (built for the window starting `today`) as the next
    /// version, brought up to date ([`up_to_date`]) with the schedule changes applied so far,
    /// the current version's fares, seats and observation times, and the changes kept for
    /// flights the old window did not reach. Returns the flights carried over.
    pub fn roll(&self, index: Index, today: NaiveDate) -> usize {
        let mut w = self.writer();
        let current = self.current.load_full();
        // Schedule changes of flights gone before the new window are of no more use.
        let (first_day, _) = index.day_span();
        w.schedule
            .retain(|n| n.departure_at.timestamp().div_euclid(60) >= first_day - 1440);
        let log = std::mem::take(&mut w.schedule);
        let ahead = std::mem::take(&mut w.ahead);
        let done = up_to_date(index, log, &current.index, ahead);
        w.schedule = done.made;
        let (_, last_day) = done.index.day_span();
        for item in done.unmade_ahead {
            w.keep_if_ahead(item, last_day);
        }
        self.publish_laid_out(
            &mut w,
            Snapshot {
                version: current.version + 1,
                index: Arc::new(done.index),
                observed_until: current.observed_until,
                today,
            },
        );
        done.carried
    }

    /// `index`, a run of days built afresh from the schedule (a block of far-off days: see
    /// `crate::horizon`), brought up to date as a rolled window is, without changing what this
    /// process holds. Named after the current version (its version, today and observations).
    pub(crate) fn bring_up_to_date(&self, index: Index) -> Snapshot {
        let (current, log, ahead) = {
            let w = self.writer();
            let ahead: Vec<Item> = w.ahead.iter().cloned().collect();
            (self.current.load_full(), w.schedule.clone(), ahead)
        };
        let done = up_to_date(index, log, &current.index, ahead);
        Snapshot {
            version: current.version,
            index: Arc::new(done.index),
            observed_until: current.observed_until,
            today: current.today,
        }
    }

    /// Publish `next`, an index laid out anew (its leg ids are not the current version's):
    /// the spare copy and the batch it missed are of the old layout, so the next fare batch
    /// starts from a copy of this version.
    fn publish_laid_out(&self, w: &mut Writer, next: Snapshot) {
        self.current.store(Arc::new(next));
        w.spare = None;
        w.missed.clear();
    }

    fn publish(
        &self,
        w: &mut Writer,
        current: Arc<Snapshot>,
        batch: Vec<FareUpdate>,
    ) -> UpdateOutcome {
        let (mut next, missed) = match w.spare.take() {
            Some(spare) => (spare, std::mem::take(&mut w.missed)),
            None => (current.index.clone(), vec![]),
        };
        // Only this writer and searches of older versions hold `next`: copy if a search does.
        let index = Arc::make_mut(&mut next);
        index.apply(&missed);
        let outcome = index.apply(&batch);
        if outcome.applied == 0 {
            // Nothing to publish: `next` now equals the current version.
            w.spare = Some(next);
            return outcome;
        }
        let observed_until = batch
            .iter()
            .map(|u| u.observed)
            .max()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .max(current.observed_until);
        self.current.store(Arc::new(Snapshot {
            version: current.version + 1,
            index: next,
            observed_until,
            today: current.today,
        }));
        w.spare = Some(current.index.clone());
        w.missed = batch;
        outcome
    }
}

/// What search reads of an `inventory.changed` event (ingestion publishes more).
#[derive(Deserialize, Debug, Clone)]
pub struct Change {
    carrier: String,
    flight_number: u16,
    origin: String,
    destination: String,
    cabin: String,
    fare_minor: i64,
    currency: String,
    seats_left: i32,
    departure_at: DateTime<Utc>,
    observed_at: DateTime<Utc>,
}

/// Why a change was not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skipped {
    /// Not JSON of the expected shape.
    Unreadable,
    /// A cabin other than economy (the index keeps the other cabins as multiples of it).
    Cabin,
    /// Priced in a currency other than the index's.
    Currency,
    /// A flight this index does not hold (departed, beyond the horizon, or not scheduled).
    UnknownFlight,
}

impl Skipped {
    pub fn as_str(self) -> &'static str {
        match self {
            Skipped::Unreadable => "unreadable",
            Skipped::Cabin => "other_cabin",
            Skipped::Currency => "other_currency",
            Skipped::UnknownFlight => "unknown_flight",
        }
    }
}

/// The index's ids of a flight's airports and carrier (codes the index lacks: a flight it
/// does not hold).
fn flight_ids(
    index: &Index,
    origin: &str,
    destination: &str,
    carrier: &str,
) -> Result<(AirportId, AirportId, CarrierId), Skipped> {
    let airport = |s: &str| AirportCode::parse(s).ok().and_then(|a| index.airport_id(a));
    let carrier = CarrierCode::parse(carrier)
        .ok()
        .and_then(|c| index.carrier_id(c));
    match (airport(origin), airport(destination), carrier) {
        (Some(o), Some(d), Some(c)) => Ok((o, d, c)),
        _ => Err(Skipped::UnknownFlight),
    }
}

impl Change {
    /// The change `record` carries.
    pub fn read(record: &Record) -> Result<Change, Skipped> {
        serde_json::from_slice(&record.payload).map_err(|_| Skipped::Unreadable)
    }

    /// The update this change asks of `index`.
    pub fn resolve(&self, index: &Index) -> Result<FareUpdate, Skipped> {
        let c = self;
        if c.cabin != "economy" {
            return Err(Skipped::Cabin);
        }
        if c.currency != index.currency().as_str() {
            return Err(Skipped::Currency);
        }
        let (origin, destination, carrier) =
            flight_ids(index, &c.origin, &c.destination, &c.carrier)?;
        let fare = u32::try_from(c.fare_minor)
            .ok()
            .filter(|f| *f > 0)
            .ok_or(Skipped::Unreadable)?;
        let leg = index
            .find_leg(
                origin,
                destination,
                c.departure_at.timestamp().div_euclid(60),
                carrier,
                c.flight_number,
            )
            .ok_or(Skipped::UnknownFlight)?;
        Ok(FareUpdate {
            leg,
            fare,
            seats: c.seats_left.clamp(0, u16::MAX as i32) as u16,
            observed: c.observed_at.timestamp(),
        })
    }
}

/// What search reads of a `schedule_changed` event.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ScheduleNotice {
    /// `cancelled`, `retimed` or `added`.
    pub kind: String,
    pub carrier: String,
    pub flight_number: u16,
    pub origin: String,
    pub destination: String,
    /// As scheduled now (a retimed flight's new times).
    pub departure_at: DateTime<Utc>,
    pub arrival_at: DateTime<Utc>,
    /// A retimed flight's departure before the change.
    #[serde(default)]
    pub previous_departure_at: Option<DateTime<Utc>>,
    /// An added flight's opening economy fare and seats.
    #[serde(default)]
    pub fare_minor: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub seats_left: Option<i32>,
    pub observed_at: DateTime<Utc>,
}

impl ScheduleNotice {
    /// The departure that names the flight in the index: before the change, for a retime.
    pub fn scheduled_departure(&self) -> DateTime<Utc> {
        self.previous_departure_at.unwrap_or(self.departure_at)
    }

    /// The schedule change this notice asks of `index`.
    pub fn resolve(&self, index: &Index) -> Result<ScheduleChange, Skipped> {
        let (origin, destination, carrier) =
            flight_ids(index, &self.origin, &self.destination, &self.carrier)?;
        let minute = |t: DateTime<Utc>| t.timestamp().div_euclid(60);
        let held = || {
            index
                .find_leg(
                    origin,
                    destination,
                    minute(self.scheduled_departure()),
                    carrier,
                    self.flight_number,
                )
                .ok_or(Skipped::UnknownFlight)
        };
        match self.kind.as_str() {
            "cancelled" => Ok(ScheduleChange::Cancel { leg: held()? }),
            "retimed" => Ok(ScheduleChange::Retime {
                leg: held()?,
                departure: minute(self.departure_at),
                arrival: minute(self.arrival_at),
            }),
            "added" => {
                if self.currency.as_deref() != Some(index.currency().as_str()) {
                    return Err(Skipped::Currency);
                }
                let fare = self
                    .fare_minor
                    .and_then(|f| u64::try_from(f).ok())
                    .filter(|f| *f > 0)
                    .ok_or(Skipped::Unreadable)?;
                // The other cabins and the aircraft as the carrier's other flights on the
                // route have them (economy only when it flies none).
                let sibling = index
                    .routes_from(origin)
                    .iter()
                    .find(|r| r.dest == destination)
                    .and_then(|r| {
                        (r.start..r.end)
                            .map(|id| index.leg(id))
                            .find(|l| l.carrier == carrier)
                    });
                let seats = self.seats_left.unwrap_or(0).clamp(0, 15) as u8;
                let mut fares = [Some(fare), None, None, None];
                let mut cabin_seats = [seats, 0, 0, 0];
                let mut aircraft = 0;
                if let Some(s) = sibling {
                    for c in 1..4 {
                        fares[c] = s.fare_for(c).map(|f| f * fare / s.fare.max(1) as u64);
                        cabin_seats[c] = s.seats_left(c);
                    }
                    aircraft = s.aircraft;
                }
                Ok(ScheduleChange::Add(LegInput {
                    carrier,
                    flight_number: self.flight_number,
                    origin,
                    destination,
                    departure: minute(self.departure_at),
                    arrival: minute(self.arrival_at),
                    aircraft,
                    fares,
                    seats: cabin_seats,
                }))
            }
            _ => Err(Skipped::Unreadable),
        }
    }
}

/// Follows `inventory.changed` into a [`LiveIndex`].
pub struct Follower {
    pub live: Arc<LiveIndex>,
    pub bus: Arc<dyn Bus>,
    /// This process's own consumer group: every search process reads every change.
    pub group: String,
    /// Changes appended before this (milliseconds since the Unix epoch) are skipped: set when
    /// the index starts as the market is now (the market starts in this process, calibrated
    /// to the world just built), so changes of an earlier run do not apply.
    pub since_ms: Option<i64>,
    /// Where and how often to write snapshots; with them, offsets are committed only once a
    /// snapshot holds what they cover (see [`crate::snapshot`]).
    pub snapshots: Option<Snapshots>,
}

/// A follower's snapshots.
pub struct Snapshots {
    pub path: std::path::PathBuf,
    pub every: Duration,
    /// The world they are of (`snapshot::read` restores only a snapshot of it).
    pub world: String,
    held: Mutex<Held>,
}

/// Records applied since the last snapshot: the last of each partition (what the commit
/// names), how many, and when the last snapshot was written.
struct Held {
    last: std::collections::BTreeMap<i32, Record>,
    count: i64,
    written: std::time::Instant,
}

impl Snapshots {
    pub fn new(path: std::path::PathBuf, every: Duration, world: String) -> Self {
        Snapshots {
            path,
            every,
            world,
            held: Mutex::new(Held {
                last: Default::default(),
                count: 0,
                written: std::time::Instant::now(),
            }),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records are held and the last snapshot is `every` old.
    fn due(&self) -> bool {
        let held = self.held();
        held.count > 0 && held.written.elapsed() >= self.every
    }
}

impl Follower {
    /// A group of its own for this process, so each search process reads every partition. The
    /// index starts as built, so the group starts at the beginning of the topic.
    pub fn group_for_this_process() -> String {
        format!(
            "search-{}-{}",
            std::process::id(),
            Utc::now().timestamp_millis()
        )
    }

    /// One batch: poll, apply as one version, commit. Returns the records read.
    pub async fn step(
        &self,
        consumer: &mut dyn spontra_events::Consumer,
    ) -> Result<usize, BusError> {
        let records = consumer.poll(50_000, Duration::from_millis(100)).await?;
        if records.is_empty() {
            // A quiet stream: what was applied is snapshotted (and committed) in time anyway.
            if let Some(snapshots) = self.snapshots.as_ref().filter(|s| s.due()) {
                self.snapshot(snapshots, consumer).await?;
            }
            return Ok(0);
        }
        let live = self.live.clone();
        let since_ms = self.since_ms;
        let n = records.len();
        let records = tokio::task::spawn_blocking(move || {
            let mut items = Vec::with_capacity(records.len());
            let mut skipped = vec![];
            for r in &records {
                if since_ms.is_some_and(|since| r.timestamp_ms < since) {
                    continue;
                }
                match Item::read(r) {
                    Ok(i) => items.push(i),
                    Err(why) => skipped.push(why),
                }
            }
            let count = |what: &'static str, k: usize| {
                metrics::counter!("search_updates_total", "outcome" => what).increment(k as u64)
            };
            // In order: each run of fare changes as one version, each run of schedule changes
            // as one relayout.
            let mut items = items.into_iter().peekable();
            while let Some(first) = items.next() {
                match first {
                    Item::Fare(c) => {
                        let mut run = vec![c];
                        while let Some(Item::Fare(_)) = items.peek() {
                            if let Some(Item::Fare(c)) = items.next() {
                                run.push(c);
                            }
                        }
                        let applied = live.apply_changes(run);
                        skipped.extend(applied.skipped);
                        let o = applied.outcome;
                        for (what, k) in [
                            ("applied", o.applied),
                            ("changed", o.changed),
                            ("stale", o.stale),
                            ("unknown_flight", o.unknown),
                        ] {
                            count(what, k);
                        }
                    }
                    Item::Schedule(n) => {
                        let mut run = vec![n];
                        while let Some(Item::Schedule(_)) = items.peek() {
                            if let Some(Item::Schedule(n)) = items.next() {
                                run.push(n);
                            }
                        }
                        let applied = live.apply_schedule(run);
                        skipped.extend(applied.skipped);
                        let o = applied.outcome;
                        for (what, k) in [
                            ("cancelled", o.cancelled),
                            ("retimed", o.retimed),
                            ("added", o.added),
                            ("schedule_unchanged", o.unchanged),
                            ("schedule_invalid", o.invalid),
                        ] {
                            count(what, k);
                        }
                    }
                }
            }
            for why in &skipped {
                count(why.as_str(), 1);
            }
            let now_ms = Utc::now().timestamp_millis();
            for r in &records {
                let seconds = (now_ms - r.timestamp_ms).max(0) as f64 / 1000.0;
                metrics::histogram!("search_update_visible_seconds").record(seconds);
            }
            metrics::gauge!("search_index_version").set(live.current().version as f64);
            records
        })
        .await
        .map_err(|e| BusError::Unavailable(format!("applying updates: {e}")))?;
        let Some(snapshots) = &self.snapshots else {
            consumer.commit(&records).await?;
            return Ok(n);
        };
        {
            let mut held = snapshots.held();
            for r in records {
                held.last.insert(r.partition, r);
            }
            held.count += n as i64;
        }
        if snapshots.due() {
            self.snapshot(snapshots, consumer).await?;
        }
        Ok(n)
    }

    /// Write a snapshot of the current version, then commit what it holds.
    async fn snapshot(
        &self,
        snapshots: &Snapshots,
        consumer: &mut dyn spontra_events::Consumer,
    ) -> Result<(), BusError> {
        let (live, group, world, path) = (
            self.live.clone(),
            self.group.clone(),
            snapshots.world.clone(),
            snapshots.path.clone(),
        );
        let started = std::time::Instant::now();
        let written = tokio::task::spawn_blocking(move || {
            let saved = live.save(&group, &world);
            crate::snapshot::write(&path, &saved).map(|()| saved.legs.len())
        })
        .await
        .map_err(|e| BusError::Unavailable(format!("writing a snapshot: {e}")))?;
        let legs = match written {
            Ok(legs) => legs,
            Err(e) => {
                // Not committed: the stream keeps what the snapshot does not.
                tracing::warn!(error = %e, "the search snapshot could not be written; will retry");
                snapshots.held().written = std::time::Instant::now();
                return Ok(());
            }
        };
        metrics::histogram!("search_snapshot_seconds").record(started.elapsed().as_secs_f64());
        metrics::gauge!("search_snapshot_legs").set(legs as f64);
        let last: Vec<Record> = {
            let mut held = snapshots.held();
            held.written = std::time::Instant::now();
            held.count = 0;
            std::mem::take(&mut held.last).into_values().collect()
        };
        consumer.commit(&last).await
    }

    /// Follow until `stop` (see [`spontra_events::run_group`]: errors are logged and
    /// retried, never fatal).
    pub async fn run(self, stop: tokio::sync::watch::Receiver<bool>) {
        spontra_events::run_group(
            self.bus.as_ref(),
            INVENTORY_CHANGED,
            &self.group,
            &self,
            stop,
        )
        .await;
    }
}

#[async_trait::async_trait]
impl BatchHandler for Follower {
    async fn batch(
        &self,
        consumer: &mut dyn spontra_events::Consumer,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.step(consumer).await?;
        Ok(())
    }

    fn lag(&self, records: i64) {
        // Applied but not yet committed (a snapshot will hold them) is not behind.
        let held = self.snapshots.as_ref().map_or(0, |s| s.held().count);
        let records = (records - held).max(0);
        self.live.lag.store(records, Ordering::Relaxed);
        metrics::gauge!("search_update_lag").set(records as f64);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use spontra_sim::{generate, Scale, WorldConfig};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    fn world_from(start: NaiveDate) -> Index {
        let mut config = WorldConfig::new(start, Scale::Tiny);
        config.days = 3;
        let refdata = spontra_refdata::RefData::load().unwrap();
        generate(&refdata, &config).0
    }

    fn tiny() -> Arc<Index> {
        Arc::new(world_from(today()))
    }

    /// Batch `k` sets every leg of `legs` to fare `1000 + k`.
    fn batch(legs: &[u32], k: u64) -> Vec<FareUpdate> {
        legs.iter()
            .map(|&leg| FareUpdate {
                leg,
                fare: 1000 + k as u32,
                seats: 9,
                observed: 1_800_000_000 + k as i64,
            })
            .collect()
    }

    /// Searches read while batches are applied: every snapshot holds whole batches (all of
    /// the legs a batch touched at its fare, and the version counting the batches), and a
    /// snapshot kept while later versions are made never changes.
    #[test]
    fn readers_see_whole_batches_and_kept_versions_stay_put() {
        let live = Arc::new(LiveIndex::new(tiny(), today()));
        let n = live.current().index.leg_count() as u32;
        let legs: Arc<Vec<u32>> = Arc::new((0..n).step_by(7).collect());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..3)
            .map(|r| {
                let (live, legs, stop) = (live.clone(), legs.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut seen = 0u64;
                    let mut kept = vec![];
                    while !stop.load(Ordering::Relaxed) {
                        let snap = live.current();
                        assert!(snap.version >= seen, "versions only go forward");
                        seen = snap.version;
                        let fares: std::collections::BTreeSet<u32> =
                            legs.iter().map(|&l| snap.index.leg(l).fare).collect();
                        if snap.version > 0 {
                            assert_eq!(
                                fares.into_iter().collect::<Vec<_>>(),
                                vec![1000 + snap.version as u32],
                                "version {} is one whole batch",
                                snap.version
                            );
                        }
                        // Some readers keep versions for a while (long searches).
                        if r == 0 && snap.version % 5 == 1 {
                            kept.push(snap);
                        }
                    }
                    for snap in kept {
                        let fare = snap.index.leg(legs[0]).fare;
                        assert_eq!(fare, 1000 + snap.version as u32, "a kept version changed");
                    }
                })
            })
            .collect();
        for k in 1..=120 {
            let outcome = live.apply(batch(&legs, k));
            assert_eq!(outcome.changed, legs.len());
            assert_eq!(live.current().version, k);
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
        // Bounds are exact after all that: each route's cheapest fare is its legs' minimum.
        let snap = live.current();
        let ix = &snap.index;
        for a in 0..ix.airport_count() as u16 {
            for route in ix.routes_from(a) {
                let min = (route.start..route.end).map(|i| ix.leg(i).fare).min();
                assert_eq!(Some(route.min_fare), min);
            }
        }
    }

    #[test]
    fn late_or_unknown_updates_make_no_version() {
        let live = LiveIndex::new(tiny(), today());
        live.apply(batch(&[0, 1], 5));
        let mut late = batch(&[0, 1], 2);
        late[1].leg = u32::MAX;
        let outcome = live.apply(late);
        assert_eq!((outcome.applied, outcome.stale, outcome.unknown), (0, 1, 1));
        assert_eq!(live.current().version, 1);
        assert_eq!(live.current().index.leg(0).fare, 1005);
    }

    /// The change a provider reports of leg `id` of `index`.
    fn change_of(index: &Index, id: u32, fare: i64, observed: &str) -> Change {
        let view = index.leg_view(id);
        let departure = DateTime::from_timestamp(view.departure * 60, 0).unwrap();
        serde_json::from_value(json!({
            "carrier": view.carrier.as_str(), "flight_number": view.flight_number,
            "origin": view.origin.as_str(), "destination": view.destination.as_str(),
            "cabin": "economy", "fare_minor": fare, "currency": "EUR", "seats_left": 3,
            "departure_at": departure.to_rfc3339(), "observed_at": observed,
        }))
        .unwrap()
    }

    /// At midnight the window rolls without a restart: the next version is the next day's
    /// window, the flights both windows hold keep their state, changes that arrived for the
    /// new day before this process rolled are applied, and a search holding the old version
    /// keeps it whole.
    #[test]
    fn the_window_rolls_a_day_on_keeping_what_the_market_said() {
        let live = LiveIndex::new(tiny(), today());
        let tomorrow = today() + chrono::Days::new(1);
        let next = world_from(tomorrow);
        let old = live.current();
        let (first, last0) = old.window();
        assert_eq!(first, today());
        // A change for a flight still in both windows, and one for the day after the window.
        let shared = (0..old.index.leg_count() as u32)
            .rev()
            .find(|&id| old.index.leg_view(id).departure > (old.index.day_span().0 + 2 * 1440))
            .unwrap();
        let (_, last) = next.day_span();
        let beyond = (0..next.leg_count() as u32)
            .find(|&id| next.leg_view(id).departure >= last)
            .unwrap();
        let applied = live.apply_changes(vec![
            change_of(&old.index, shared, 4_321, "2026-12-01T10:00:00Z"),
            change_of(&next, beyond, 1_234, "2026-12-01T10:00:01Z"),
        ]);
        assert_eq!(applied.outcome.applied, 1);
        assert_eq!(applied.skipped, vec![Skipped::UnknownFlight]);
        let held = live.current();
        assert_eq!(held.version, 1);

        let carried = live.roll(world_from(tomorrow), tomorrow);
        let snap = live.current();
        assert_eq!(snap.version, 2);
        assert_eq!(snap.today, tomorrow);
        assert_eq!(snap.window(), (tomorrow, last0 + chrono::Days::new(1)));
        assert!(carried > 0 && carried < old.index.leg_count());
        let find = |ix: &Index, of: &Index, id: u32| {
            let v = of.leg_view(id);
            ix.find_leg(
                ix.airport_id(v.origin).unwrap(),
                ix.airport_id(v.destination).unwrap(),
                v.departure,
                ix.carrier_id(v.carrier).unwrap(),
                v.flight_number,
            )
            .unwrap()
        };
        let moved = find(&snap.index, &old.index, shared);
        assert_eq!(snap.index.leg(moved).fare, 4_321);
        let reached = find(&snap.index, &next, beyond);
        assert_eq!(snap.index.leg(reached).fare, 1_234);
        assert_eq!(snap.index.leg(reached).seats & 0xF, 3);
        // The version a search took before the roll is as it was.
        assert_eq!((held.version, held.today), (1, today()));
        assert_eq!(held.index.leg(shared).fare, 4_321);
        // Batches after the roll go to the new window.
        let after = live.apply(vec![FareUpdate {
            leg: moved,
            fare: 5_000,
            seats: 1,
            observed: 1_796_200_000,
        }]);
        assert_eq!(after.changed, 1);
        assert_eq!(live.current().index.leg(moved).fare, 5_000);
        assert_eq!(live.current().today, tomorrow);
    }

    fn notice(index: &Index, id: u32, kind: &str, shift: i64) -> ScheduleNotice {
        let v = index.leg_view(id);
        let at = |m: i64| DateTime::from_timestamp(m * 60, 0).unwrap();
        ScheduleNotice {
            kind: kind.into(),
            carrier: v.carrier.to_string(),
            flight_number: if kind == "added" {
                9_990
            } else {
                v.flight_number
            },
            origin: v.origin.to_string(),
            destination: v.destination.to_string(),
            departure_at: at(v.departure + shift),
            arrival_at: at(v.arrival + shift),
            previous_departure_at: (kind == "retimed").then(|| at(v.departure)),
            fare_minor: (kind == "added").then_some(7_700),
            currency: (kind == "added").then(|| "EUR".into()),
            seats_left: (kind == "added").then_some(9),
            observed_at: at(v.departure - 3 * 1440),
        }
    }

    /// Flights cancelled, retimed and added reach searches as one new version; later fare
    /// changes find the new layout; the next window keeps all of it.
    #[test]
    fn schedule_changes_make_a_version_and_outlive_the_roll() {
        let live = LiveIndex::new(tiny(), today());
        let ix = live.current().index.clone();
        // Flights of the second afternoon (UTC), so the rolled window still holds them.
        let noon = spontra_domain::utc_minute(today() + chrono::Days::new(1), 720);
        let second: Vec<u32> = (0..ix.leg_count() as u32)
            .filter(|&id| (noon..noon + 720).contains(&ix.leg_view(id).departure))
            .collect();
        let (gone, moved, beside) = (second[0], second[1], second[2]);
        let applied = live.apply_schedule(vec![
            notice(&ix, gone, "cancelled", 0),
            notice(&ix, moved, "retimed", 40),
            notice(&ix, beside, "added", 125),
            // No flight leaves at that time: nothing to cancel.
            notice(&ix, beside, "cancelled", 7),
        ]);
        assert_eq!(
            (
                applied.outcome.cancelled,
                applied.outcome.retimed,
                applied.outcome.added
            ),
            (1, 1, 1)
        );
        assert_eq!(applied.skipped, vec![Skipped::UnknownFlight]);
        let snap = live.current();
        assert_eq!(snap.version, 1);
        assert_eq!(snap.index.leg_count(), ix.leg_count());
        let find = |at: &Index, n: &ScheduleNotice| n.resolve(at);
        assert_eq!(
            find(&snap.index, &notice(&ix, gone, "cancelled", 0)),
            Err(Skipped::UnknownFlight),
            "the cancelled flight is gone"
        );
        let retimed = notice(&ix, moved, "retimed", 40);
        let mut at_new_time = retimed.clone();
        at_new_time.previous_departure_at = None;
        at_new_time.kind = "cancelled".into();
        let Ok(ScheduleChange::Cancel { leg }) = find(&snap.index, &at_new_time) else {
            panic!("the retimed flight is at its new time");
        };
        assert_eq!(
            snap.index.leg(leg).fare,
            ix.leg(moved).fare,
            "with its fare"
        );
        let added = notice(&ix, beside, "added", 125);
        let mut named = added.clone();
        named.kind = "cancelled".into();
        let Ok(ScheduleChange::Cancel { leg: new }) = find(&snap.index, &named) else {
            panic!("the added flight is there");
        };
        assert_eq!(snap.index.leg(new).fare, 7_700);
        assert_eq!(snap.index.leg(new).seats_left(0), 9);
        // A fare change for the added flight finds it (ids are the new layout's).
        let mut change = change_of(&snap.index, new, 8_800, "2026-12-01T11:00:00Z");
        change.seats_left = 2;
        assert_eq!(live.apply_changes(vec![change]).outcome.changed, 1);

        let tomorrow = today() + chrono::Days::new(1);
        live.roll(world_from(tomorrow), tomorrow);
        let rolled = live.current();
        assert_eq!(rolled.today, tomorrow);
        assert_eq!(
            find(&rolled.index, &notice(&ix, gone, "cancelled", 0)),
            Err(Skipped::UnknownFlight),
            "still cancelled"
        );
        assert!(matches!(
            find(&rolled.index, &at_new_time),
            Ok(ScheduleChange::Cancel { .. })
        ));
        let Ok(ScheduleChange::Cancel { leg: new }) = find(&rolled.index, &named) else {
            panic!("the added flight is still there");
        };
        assert_eq!(rolled.index.leg(new).fare, 8_800, "with its latest fare");
    }

    /// The update `record` asks of `index`.
    fn read_change(index: &Index, record: &Record) -> Result<FareUpdate, Skipped> {
        Change::read(record)?.resolve(index)
    }

    fn record(payload: Value) -> Record {
        Record {
            topic: INVENTORY_CHANGED.into(),
            partition: 0,
            offset: 0,
            key: vec![],
            headers: vec![],
            payload: serde_json::to_vec(&payload).unwrap(),
            timestamp_ms: 0,
        }
    }

    use serde_json::{json, Value};

    #[test]
    fn changes_are_read_into_updates_of_the_flight_they_name() {
        let index = tiny();
        let view = index.leg_view(3);
        let departure = DateTime::from_timestamp(view.departure * 60, 0).unwrap();
        let change = |cabin: &str, currency: &str, origin: &str| {
            record(json!({
                "carrier": view.carrier.as_str(), "flight_number": view.flight_number,
                "origin": origin, "destination": view.destination.as_str(),
                "cabin": cabin, "fare_minor": 12_345, "currency": currency, "seats_left": 4,
                "departure_at": departure.to_rfc3339(), "observed_at": "2026-12-01T10:00:00Z",
            }))
        };
        let o = view.origin.as_str();
        let u = read_change(&index, &change("economy", "EUR", o)).unwrap();
        assert_eq!((u.leg, u.fare, u.seats), (3, 12_345, 4));
        assert_eq!(u.observed, 1_796_119_200);
        assert_eq!(
            read_change(&index, &change("business", "EUR", o)),
            Err(Skipped::Cabin)
        );
        assert_eq!(
            read_change(&index, &change("economy", "USD", o)),
            Err(Skipped::Currency)
        );
        assert_eq!(
            read_change(&index, &change("economy", "EUR", "XQX")),
            Err(Skipped::UnknownFlight)
        );
        assert_eq!(
            read_change(&index, &record(json!({"carrier": 1}))),
            Err(Skipped::Unreadable)
        );
    }
}
