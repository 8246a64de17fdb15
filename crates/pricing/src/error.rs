//! What the pricing service can refuse, each with its code from the one table. The edge (the
//! routes) renders it; nothing here knows HTTP.

use spontra_domain::{Coded, ErrorCode, FieldProblem, Invalid};
use spontra_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    /// The query does not hold, every field at fault named.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Nothing observed yet for what was asked.
    #[error("no prices have been observed for {0} yet")]
    NoHistory(String),
    /// No such alert among the caller's.
    #[error("no such alert")]
    NotFound,
    /// The account keeps as many alerts as it may.
    #[error("an account keeps at most {0} price alerts; delete one first")]
    TooManyAlerts(u32),
    /// The store is busy or out of reach for now.
    #[error("the service is busy; try again in a moment")]
    Busy,
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for PricingError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => PricingError::Busy,
            other => PricingError::Internal(other.to_string()),
        }
    }
}

impl Coded for PricingError {
    fn code(&self) -> ErrorCode {
        match self {
            PricingError::Invalid(e) => e.code(),
            PricingError::NoHistory(_) => ErrorCode::NoPriceHistory,
            PricingError::NotFound => ErrorCode::NotFound,
            PricingError::TooManyAlerts(_) => ErrorCode::TooManyAlerts,
            PricingError::Busy => ErrorCode::Overloaded,
            PricingError::Internal(_) => ErrorCode::Internal,
        }
    }

    fn fields(&self) -> &[FieldProblem] {
        match self {
            PricingError::Invalid(e) => e.fields(),
            _ => &[],
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        matches!(self, PricingError::Busy).then_some(1)
    }
}
