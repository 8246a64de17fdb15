//! The Browse engine: a compact in-memory index of dated flight legs, and itinerary search over
//! it (point-to-point with up to two stops, calendar, one-to-all explore).
//!
//! Architecture invariant: this crate is pure and synchronous. It knows nothing of HTTP, SQL,
//! serde, async or the clock; callers hand it ids and dates and get candidates back. Work is
//! bounded by a step budget ([`budget`]), not by time.

pub mod budget;
mod build;
pub mod circuity;
mod co2;
mod explore;
mod index;
mod pareto;
mod price;
mod query;
mod rank;
mod schedule;
mod search;
mod trip;
mod update;

pub use build::{AirportSpec, BuildError, CarrierSpec, IndexBuilder, LegInput};
pub use co2::{co2_grams_per_passenger, leg_co2_grams};
pub use explore::ExploreHit;
pub use index::{AirportId, CarrierId, Index, Leg, LegId, LegView, Route, LEG_BYTES};
pub use pareto::{group_pareto, pareto_front};
pub use price::{adult_fare, ALLIANCE_DISCOUNT_PCT, ONLINE_DISCOUNT_PCT};
pub use query::{CompiledSlice, Filters, SliceQuery};
pub use rank::{best_scores, sort_by, ScoreInput, SortOrder};
pub use schedule::{ScheduleChange, ScheduleOutcome};
pub use search::{
    Candidate, CheapestCollector, CollectAll, Collector, AIRPORT_CHANGE_MINUTES,
    FLAG_AIRPORT_CHANGE, FLAG_SELF_TRANSFER, SELF_TRANSFER_EXTRA_MINUTES,
};
pub use trip::{score_inputs, TripOption, MIN_STOPOVER_MINUTES};
pub use update::{FareUpdate, UpdateOutcome};
