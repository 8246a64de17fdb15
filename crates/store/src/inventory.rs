//! What ingestion writes: each flight's current fare and seats per cabin, an append-only table
//! of price observations (what pricing will build history, insights and alerts on), and the
//! ids of the events applied, so an event delivered twice is applied once.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

/// One provider's report of a flight's fare and seats in one cabin, validated and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FareObservation {
    /// The CloudEvent's `source` and `id`: together they identify the event.
    pub source: String,
    pub event_id: String,
    /// Operating carrier and flight number, and the local departure date at the origin.
    pub carrier: String,
    pub flight_number: u16,
    pub departure_date: NaiveDate,
    pub origin: String,
    pub destination: String,
    /// `economy`, `premium_economy`, `business` or `first`.
    pub cabin: String,
    /// Per adult, in minor units of `currency`.
    pub fare_minor: i64,
    pub currency: String,
    pub seats_left: i32,
    pub departure_at: DateTime<Utc>,
    /// When the provider saw it (the event's time).
    pub observed_at: DateTime<Utc>,
}

impl FareObservation {
    /// Whole days from the observation to departure (the "days before departure" of price
    /// history).
    pub fn days_before(&self) -> i64 {
        (self.departure_at - self.observed_at).num_days()
    }
}

/// What a schedule change did to a flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScheduleKind {
    /// The flight no longer operates.
    Cancelled,
    /// It leaves (and arrives) at other times.
    Retimed,
    /// A flight not scheduled before (an added frequency, an extra section).
    Added,
}

impl ScheduleKind {
    pub const ALL: [ScheduleKind; 3] = [
        ScheduleKind::Cancelled,
        ScheduleKind::Retimed,
        ScheduleKind::Added,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleKind::Cancelled => "cancelled",
            ScheduleKind::Retimed => "retimed",
            ScheduleKind::Added => "added",
        }
    }

    pub fn parse(s: &str) -> Option<ScheduleKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One provider's report of a change to a flight's schedule, validated and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleObservation {
    pub source: String,
    pub event_id: String,
    pub carrier: String,
    pub flight_number: u16,
    /// The local departure date at the origin the flight was scheduled on (for a retime: as
    /// it was before the change).
    pub departure_date: NaiveDate,
    pub origin: String,
    pub destination: String,
    pub kind: ScheduleKind,
    /// Departure and arrival as scheduled now: a retimed flight's new times, an added
    /// flight's times, the times a cancelled flight had.
    pub departure_at: DateTime<Utc>,
    pub arrival_at: DateTime<Utc>,
    /// A retimed flight's departure before the change.
    pub previous_departure_at: Option<DateTime<Utc>>,
    /// An added flight's opening economy fare per adult (minor units of `currency`) and seats.
    pub fare_minor: Option<i64>,
    pub currency: Option<String>,
    pub seats_left: Option<i32>,
    pub observed_at: DateTime<Utc>,
}

impl ScheduleObservation {
    /// The departure that names the flight in a schedule: before the change for a retime.
    pub fn scheduled_departure(&self) -> DateTime<Utc> {
        self.previous_departure_at.unwrap_or(self.departure_at)
    }
}

/// What applying one observation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The event had not been applied before (otherwise nothing was written).
    pub new: bool,
    /// The flight's current fare or seats changed (an observation older than the one
    /// already held is recorded in history but changes nothing).
    pub changed: bool,
}

/// A flight's fare and seats in one cabin as last observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentFare {
    pub fare_minor: i64,
    pub currency: String,
    pub seats_left: i32,
    pub observed_at: DateTime<Utc>,
}

#[async_trait]
pub trait InventoryStore: Send + Sync + 'static {
    /// Apply `batch` in one transaction, each observation once in effect: one whose
    /// (source, event id) was applied before changes nothing; a new one is appended to the
    /// price observations and becomes the flight's current fare unless a later observation
    /// is already held (feeds deliver out of order). One answer per observation, in order.
    async fn apply_observations(
        &self,
        batch: &[FareObservation],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Applied>>;

    async fn current_fare(
        &self,
        carrier: &str,
        flight_number: u16,
        departure_date: NaiveDate,
        cabin: &str,
    ) -> StoreResult<Option<CurrentFare>>;

    /// Price observations held.
    async fn observation_count(&self) -> StoreResult<u64>;

    /// Whether the event (source, id) has been applied.
    async fn was_applied(&self, source: &str, event_id: &str) -> StoreResult<bool>;

    /// Apply `batch` in one transaction, each change once in effect (by source and event id):
    /// a new one is appended to the flight's schedule history (`changed` is then true). One
    /// answer per change, in order.
    async fn apply_schedule_changes(
        &self,
        batch: &[ScheduleObservation],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Applied>>;

    /// The schedule changes applied to a flight (by its scheduled local departure date), in
    /// the order they were observed.
    async fn schedule_history(
        &self,
        carrier: &str,
        flight_number: u16,
        departure_date: NaiveDate,
    ) -> StoreResult<Vec<ScheduleObservation>>;
}
