//! What the account service can refuse, each with its code from the one table. The edge (the
//! routes, the CLI) renders it; nothing here knows HTTP.

use crate::throttle::retry_after_secs;
use spontra_domain::{Coded, ErrorCode, FieldProblem, Invalid};
use spontra_http::PoolError;
use spontra_store::StoreError;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Input that does not hold, every field at fault named: an invalid email, a weak
    /// password, an email already taken, a wrong current password or code, an unknown id.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The same answer for an unknown email and a wrong password (no user enumeration).
    #[error("email or password is wrong")]
    InvalidCredentials,
    #[error("{0}")]
    Disabled(&'static str),
    /// No live session: the caller must sign in (again).
    #[error("{0}")]
    SignInAgain(&'static str),
    /// A refresh token, or a half-finished sign-in, that is no good.
    #[error("{0}")]
    InvalidToken(&'static str),
    #[error("this refresh token was already used, so its session has been ended; sign in again")]
    TokenReused,
    #[error("this email address is already verified")]
    AlreadyVerified,
    #[error("{detail}")]
    Throttled {
        wait: Duration,
        detail: &'static str,
    },
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    TwoFactorAlreadyOn(&'static str),
    #[error("start with POST /api/v1/me/2fa/setup")]
    TwoFactorNotSetUp,
    /// The second step of a sign-in got a wrong or spent code.
    #[error("the code is wrong or already used")]
    InvalidCode,
    #[error("no such resource")]
    NotFound,
    /// The store or the hashing pool is saturated: come back in a moment.
    #[error("the service is busy; try again in a moment")]
    Busy { retry_after_secs: u64 },
    #[error("the account store failed")]
    Store(#[source] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl AccountError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AccountError::Internal(cause.to_string())
    }

    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        AccountError::Invalid(Invalid::field(code, field, message))
    }
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AccountError::NotFound,
            StoreError::Unavailable(cause) => {
                tracing::warn!(error.cause = %cause, "store busy: shedding load with 503");
                AccountError::Busy {
                    retry_after_secs: 1,
                }
            }
            other => AccountError::Store(other),
        }
    }
}

impl From<PoolError> for AccountError {
    fn from(e: PoolError) -> Self {
        match e.retry_after_secs() {
            Some(retry_after_secs) => AccountError::Busy { retry_after_secs },
            None => AccountError::internal(e),
        }
    }
}

impl Coded for AccountError {
    fn code(&self) -> ErrorCode {
        use AccountError as E;
        match self {
            E::Invalid(e) => e.code(),
            E::InvalidCredentials => ErrorCode::InvalidCredentials,
            E::Disabled(_) => ErrorCode::AccountDisabled,
            E::SignInAgain(_) => ErrorCode::Unauthorized,
            E::InvalidToken(_) => ErrorCode::InvalidToken,
            E::TokenReused => ErrorCode::TokenReused,
            E::AlreadyVerified => ErrorCode::AlreadyVerified,
            E::Throttled { .. } => ErrorCode::TooManyAttempts,
            E::Forbidden(_) => ErrorCode::Forbidden,
            E::TwoFactorAlreadyOn(_) => ErrorCode::AlreadyEnabled,
            E::TwoFactorNotSetUp => ErrorCode::NotSetUp,
            E::InvalidCode => ErrorCode::InvalidCode,
            E::NotFound => ErrorCode::NotFound,
            E::Busy { .. } => ErrorCode::Overloaded,
            E::Store(_) | E::Internal(_) => ErrorCode::Internal,
        }
    }

    fn fields(&self) -> &[FieldProblem] {
        match self {
            AccountError::Invalid(e) => e.fields(),
            _ => &[],
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AccountError::Throttled { wait, .. } => Some(retry_after_secs(*wait)),
            AccountError::Busy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_store_asks_to_retry_and_a_broken_one_is_ours() {
        let busy = AccountError::from(StoreError::Unavailable("pool timed out".into()));
        assert_eq!(
            (busy.code(), busy.retry_after_secs()),
            (ErrorCode::Overloaded, Some(1))
        );
        let broken = AccountError::from(StoreError::Backend("disk I/O error".into()));
        assert_eq!(broken.code(), ErrorCode::Internal);
        let taken = AccountError::field(ErrorCode::EmailTaken, "email", "taken");
        assert_eq!(taken.fields()[0].field, "email");
    }
}
