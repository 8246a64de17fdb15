//! What the search service can refuse, each with its code from the one table. The edge (the
//! routes, the CLI) renders it; nothing here knows HTTP.

use spontra_domain::{Coded, ErrorCode, FieldProblem, Invalid};
use spontra_http::PoolError;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query does not hold, every field at fault named (unknown places, dates outside
    /// the window, a cursor from another search or an older answer, …).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Over the work budget of one request.
    #[error("this search needs more work than one request may do: narrow the dates, allow fewer stops, or set a journey-time or price limit")]
    TooExpensive,
    /// Whoever asked stopped waiting (the client went away or a deadline fired).
    #[error("the search was abandoned")]
    Abandoned,
    /// Every engine worker is busy and the queue is full.
    #[error("the service is busy; try again in a moment")]
    Busy { retry_after_secs: u64 },
    /// No live search has this id (or it has expired).
    #[error("no live search has this id, or it has expired; start a new one")]
    NoSuchLiveSearch,
    /// Live search has no provider to ask.
    #[error("no provider is configured for live search")]
    NoProviders,
    #[error("{0}")]
    Internal(String),
}

impl From<PoolError> for SearchError {
    fn from(e: PoolError) -> Self {
        match e.retry_after_secs() {
            Some(retry_after_secs) => SearchError::Busy { retry_after_secs },
            None => SearchError::Internal(e.to_string()),
        }
    }
}

impl Coded for SearchError {
    fn code(&self) -> ErrorCode {
        match self {
            SearchError::Invalid(e) => e.code(),
            SearchError::TooExpensive => ErrorCode::QueryTooExpensive,
            SearchError::Abandoned => ErrorCode::RequestTimeout,
            SearchError::Busy { .. } => ErrorCode::Overloaded,
            SearchError::NoSuchLiveSearch => ErrorCode::LiveSearchNotFound,
            SearchError::NoProviders => ErrorCode::NoProviders,
            SearchError::Internal(_) => ErrorCode::Internal,
        }
    }

    fn fields(&self) -> &[FieldProblem] {
        match self {
            SearchError::Invalid(e) => e.fields(),
            _ => &[],
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            SearchError::Busy { retry_after_secs } => Some(*retry_after_secs),
            // Until an operator configures one.
            SearchError::NoProviders => Some(300),
            _ => None,
        }
    }
}
