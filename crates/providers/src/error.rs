//! What can go wrong asking a provider, with a stable code each (the provider's status in a
//! live search names it).

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// No answer within the deadline (after any retries that fitted in it).
    #[error("{provider} did not answer within {after:?}")]
    Timeout { provider: String, after: Duration },
    /// The connection could not be made (refused, reset, DNS).
    #[error("could not reach {provider}: {detail}")]
    Unreachable { provider: String, detail: String },
    /// The provider refused our credentials.
    #[error("{provider} refused the credentials: {detail}")]
    Unauthorized { provider: String, detail: String },
    /// Too many requests; `retry_after` as the provider said.
    #[error("{provider} is limiting our requests (retry after {retry_after:?})")]
    RateLimited {
        provider: String,
        retry_after: Option<Duration>,
    },
    /// The provider refused the query itself (4xx other than the above).
    #[error("{provider} refused the query ({status}): {detail}")]
    Rejected {
        provider: String,
        status: u16,
        detail: String,
    },
    /// The provider failed (5xx).
    #[error("{provider} failed ({status}): {detail}")]
    Upstream {
        provider: String,
        status: u16,
        detail: String,
    },
    /// The answer is not the provider's documented format.
    #[error("{provider} answered in a format it does not document: {detail}")]
    Malformed { provider: String, detail: String },
    /// The client is configured wrongly (a base URL that is not one).
    #[error("provider configuration: {0}")]
    Config(String),
}

impl ProviderError {
    /// A stable code for each kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            ProviderError::Timeout { .. } => "provider_timeout",
            ProviderError::Unreachable { .. } => "provider_unreachable",
            ProviderError::Unauthorized { .. } => "provider_unauthorized",
            ProviderError::RateLimited { .. } => "provider_rate_limited",
            ProviderError::Rejected { .. } => "provider_rejected",
            ProviderError::Upstream { .. } => "provider_failed",
            ProviderError::Malformed { .. } => "provider_malformed",
            ProviderError::Config(_) => "provider_config",
        }
    }

    /// The failure is the provider not answering in time (a live search shows the provider
    /// as timed out rather than failed).
    pub fn is_timeout(&self) -> bool {
        matches!(self, ProviderError::Timeout { .. })
    }
}
