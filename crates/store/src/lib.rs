//! Storage: the traits services are written against, the records they exchange, and a
//! conformance suite every backend runs (`spontra-store-sqlite`, `spontra-store-postgres`).
//!
//! Backends translate driver errors at this boundary into [`StoreError`]; services never see
//! a driver type.

pub mod conformance;
mod inventory;
mod pricing;
mod users;

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
