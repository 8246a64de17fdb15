//! Retrying within a deadline, only what is safe to retry.

use crate::ProviderError;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// Whether repeating a request can do harm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Safety {
    /// Reading (a `GET` search): repeated after a failure to connect, a timeout of one
    /// attempt, a 5xx or a 429.
    Idempotent,
    /// Creating something (Duffel's offer request): repeated only when it surely was not
    /// processed — the connection never made, or a 429.
    Creates,
}

/// Attempts at most.
pub const MAX_ATTEMPTS: u32 = 4;
/// The wait before the second attempt; it doubles after each (a 429's `Retry-After` wins).
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// One attempt's outcome: its error may say the request never reached the provider.
pub struct Failure {
    pub error: ProviderError,
    /// The connection was never made (nothing was sent).
    pub not_sent: bool,
}

impl From<ProviderError> for Failure {
    fn from(error: ProviderError) -> Self {
        Failure {
            error,
            not_sent: false,
        }
    }
}

fn worth_retrying(f: &Failure, safety: Safety) -> bool {
    match (&f.error, safety) {
        (ProviderError::RateLimited { .. }, _) => true,
        (_, Safety::Creates) => f.not_sent,
        (
            ProviderError::Unreachable { .. }
            | ProviderError::Timeout { .. }
            | ProviderError::Upstream { .. },
            Safety::Idempotent,
        ) => true,
        _ => false,
    }
}

/// Run `attempt` (given the time it may take) until it succeeds, fails in a way not worth
/// retrying, [`MAX_ATTEMPTS`] are spent, or the next wait would pass `deadline`; then the last
/// error. An attempt is never given less than the time left.
pub async fn within<T, F, Fut>(
    deadline: Instant,
    safety: Safety,
    mut attempt: F,
) -> Result<T, ProviderError>
where
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut backoff = FIRST_BACKOFF;
    let mut tries = 0;
    loop {
        tries += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let failure = match attempt(left).await {
            Ok(v) => return Ok(v),
            Err(f) => f,
        };
        if tries >= MAX_ATTEMPTS || !worth_retrying(&failure, safety) {
            return Err(failure.error);
        }
        let wait = match &failure.error {
            ProviderError::RateLimited {
                retry_after: Some(after),
                ..
            } => *after,
            _ => backoff,
        };
        if Instant::now() + wait >= deadline {
            return Err(failure.error);
        }
        tracing::debug!(error = %failure.error, ?wait, "retrying a provider request");
        tokio::time::sleep(wait).await;
        backoff *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn upstream() -> ProviderError {
        ProviderError::Upstream {
            provider: "p".into(),
            status: 503,
            detail: String::new(),
        }
    }

    async fn count(safety: Safety, errors: Vec<Failure>) -> (Result<u32, ProviderError>, u32) {
        let calls = AtomicU32::new(0);
        let errors = std::sync::Mutex::new(errors.into_iter());
        let r = within(
            Instant::now() + Duration::from_secs(30),
            safety,
            |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                match errors.lock().unwrap_or_else(|e| e.into_inner()).next() {
                    Some(f) => Err(f),
                    None => Ok(7),
                }
            },
        )
        .await;
        (r, calls.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn reads_are_retried_after_5xx_but_creations_only_when_not_sent() {
        let (r, calls) = count(
            Safety::Idempotent,
            vec![upstream().into(), upstream().into()],
        )
        .await;
        assert_eq!((r, calls), (Ok(7), 3));
        let (r, calls) = count(Safety::Creates, vec![upstream().into()]).await;
        assert_eq!((r, calls), (Err(upstream()), 1), "a POST that may have run");
        let refused = Failure {
            error: ProviderError::Unreachable {
                provider: "p".into(),
                detail: "refused".into(),
            },
            not_sent: true,
        };
        let (r, calls) = count(Safety::Creates, vec![refused]).await;
        assert_eq!((r, calls), (Ok(7), 2), "never sent: safe to send");
        let rejected = ProviderError::Rejected {
            provider: "p".into(),
            status: 422,
            detail: String::new(),
        };
        let (r, calls) = count(Safety::Idempotent, vec![rejected.clone().into()]).await;
        assert_eq!(
            (r, calls),
            (Err(rejected), 1),
            "a refused query stays refused"
        );
        let (r, calls) = count(
            Safety::Idempotent,
            (0..10).map(|_| upstream().into()).collect(),
        )
        .await;
        assert_eq!((r, calls), (Err(upstream()), MAX_ATTEMPTS));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_that_would_pass_the_deadline_is_not_taken() {
        let start = Instant::now();
        let limited = ProviderError::RateLimited {
            provider: "p".into(),
            retry_after: Some(Duration::from_secs(40)),
        };
        let (r, calls) = count(Safety::Creates, vec![limited.clone().into()]).await;
        assert_eq!((r, calls), (Err(limited), 1));
        assert!(start.elapsed() < Duration::from_secs(1));
        let soon = ProviderError::RateLimited {
            provider: "p".into(),
            retry_after: Some(Duration::from_secs(3)),
        };
        let (r, calls) = count(Safety::Creates, vec![soon.into()]).await;
        assert_eq!((r, calls), (Ok(7), 2));
        assert!(start.elapsed() >= Duration::from_secs(3), "waited as told");
    }
}
