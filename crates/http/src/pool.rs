//! Bounded pools for CPU-bound work (password hashing, engine searches).
//!
//! Work runs on tokio's blocking threads, never on the async workers, so `/healthz` and cheap
//! requests stay fast while hashes and searches run. A pool admits at most `workers` jobs at
//! once and `queue` more waiting; a job that finds the queue full, or waits longer than
//! `queue_timeout`, is refused with [`PoolError::Saturated`] (the edge answers 503 with
//! `Retry-After`) instead of piling up until every client times out.
//!
//! A job gets a [`Cancel`] flag that is raised when the request awaiting it goes away (the
//! client disconnected, or a deadline fired), so long jobs can stop early.

use crate::{Coded, ErrorCode};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("the service is busy; try again in a moment")]
    Saturated {
        pool: &'static str,
        retry_after: Duration,
    },
    #[error("a {pool} job failed: {cause}")]
    Failed { pool: &'static str, cause: String },
}

impl Coded for PoolError {
    fn code(&self) -> ErrorCode {
        match self {
            PoolError::Saturated { .. } => ErrorCode::Overloaded,
            PoolError::Failed { .. } => ErrorCode::Internal,
        }
    }
    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            PoolError::Saturated { retry_after, .. } => Some(retry_after.as_secs().max(1)),
            PoolError::Failed { .. } => None,
        }
    }
}

/// Raised when whoever awaits the job stops waiting.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// The flag itself, for code that only knows `AtomicBool` (the engine).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

/// Raises the flag when dropped (the awaiting future was dropped or finished).
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[derive(Clone, Copy, Debug)]
pub struct PoolSize {
    /// Jobs running at once.
    pub workers: usize,
    /// Jobs waiting beyond those.
    pub queue: usize,
    /// The longest a job waits for a worker before it is refused.
    pub queue_timeout: Duration,
}

impl PoolSize {
    /// One worker per core.
    pub fn per_core(queue: usize, queue_timeout: Duration) -> PoolSize {
        PoolSize {
            workers: cores(),
            queue,
            queue_timeout,
        }
    }
}

/// Cores this process may use (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub struct WorkPool {
    name: &'static str,
    size: PoolSize,
    workers: Arc<Semaphore>,
    admission: Arc<Semaphore>,
    refused: AtomicUsize,
}

impl WorkPool {
    pub fn new(name: &'static str, size: PoolSize) -> WorkPool {
        let workers = size.workers.max(1);
        WorkPool {
            name,
            size: PoolSize { workers, ..size },
            workers: Arc::new(Semaphore::new(workers)),
            admission: Arc::new(Semaphore::new(workers + size.queue)),
            refused: AtomicUsize::new(0),
        }
    }

    /// Jobs refused so far (for tests and metrics).
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }

    fn saturated(&self) -> PoolError {
        self.refused.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            pool = self.name,
            "work pool saturated: shedding load with 503"
        );
        PoolError::Saturated {
            pool: self.name,
            retry_after: self.size.queue_timeout.max(Duration::from_secs(1)),
        }
    }

    /// Run `job` on a blocking thread once a worker is free.
    pub async fn run<T, F>(&self, job: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce(&Cancel) -> T + Send + 'static,
    {
        let Ok(admitted) = self.admission.clone().try_acquire_owned() else {
            return Err(self.saturated());
        };
        let worker = match tokio::time::timeout(
            self.size.queue_timeout,
            self.workers.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            _ => return Err(self.saturated()),
        };
        let cancel = Cancel::default();
        let guard = CancelOnDrop(cancel.clone());
        let handle = tokio::task::spawn_blocking(move || {
            // The permits are held until the job really ends, even if nobody waits for it.
            let _permits = (admitted, worker);
            job(&cancel)
        });
        let out = handle.await.map_err(|e| PoolError::Failed {
            pool: self.name,
            cause: e.to_string(),
        });
        drop(guard);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_is_refused_at_once_and_a_long_wait_times_out() {
        let pool = Arc::new(WorkPool::new(
            "test",
            PoolSize {
                workers: 1,
                queue: 1,
                queue_timeout: Duration::from_millis(200),
            },
        ));
        let (release, hold) = mpsc::channel::<()>();
        let busy = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move |_| {
                    let _ = hold.recv();
                    1
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        // One waits in the queue (and times out); the next finds the queue full.
        let queued = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|_| 2).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let full = pool.run(|_| 3).await;
        assert!(matches!(full, Err(PoolError::Saturated { .. })), "{full:?}");
        let timed_out = queued.await.unwrap();
        assert!(matches!(timed_out, Err(PoolError::Saturated { .. })));
        release.send(()).unwrap();
        assert_eq!(busy.await.unwrap().unwrap(), 1);
        assert_eq!(pool.run(|_| 4).await.unwrap(), 4);
        assert_eq!(pool.refused(), 2);
    }

    #[tokio::test]
    async fn the_job_hears_when_its_caller_goes_away() {
        let pool = WorkPool::new("test", PoolSize::per_core(4, Duration::from_secs(1)));
        let (seen, saw) = mpsc::channel();
        let waiting = pool.run(move |cancel| {
            let start = std::time::Instant::now();
            while !cancel.is_cancelled() && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = seen.send(cancel.is_cancelled());
        });
        // The caller gives up after 50 ms.
        let _ = tokio::time::timeout(Duration::from_millis(50), waiting).await;
        let cancelled =
            tokio::task::spawn_blocking(move || saw.recv_timeout(Duration::from_secs(2)))
                .await
                .unwrap();
        assert_eq!(cancelled, Ok(true));
    }
}
