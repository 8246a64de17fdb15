//! Storage: the traits services are written against, the records they exchange, and a
//! conformance suite every backend runs (`spontra-store-sqlite`, `spontra-store-postgres`).
//!
//! Backends translate driver errors at this boundary into [`StoreError`]; services never see
//! a driver type.

/// A uuid newtype for a record's id.
macro_rules! id_type {
    ($name:ident) => {
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(uuid::Uuid::new_v4())
            }

            /// The id `s` spells (a uuid), if it is one.
            pub fn parse(s: &str) -> Option<Self> {
                uuid::Uuid::parse_str(s).ok().map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

mod alerts;
pub mod conformance;
mod inventory;
mod pricing;
mod users;

pub use alerts::*;
pub use inventory::*;
pub use pricing::*;
pub use users::*;

/// What can go wrong in a store, as services need to tell it apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (e.g. an email already registered).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend is busy or out of reach for now (pool exhausted, lock contention,
    /// connection lost): worth retrying shortly. Services answer 503 with `Retry-After`.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The backend failed; the text is for logs, never for clients.
    #[error("storage backend: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;
