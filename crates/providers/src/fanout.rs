//! Asking every provider at once: each within its own deadline and the whole search's, at
//! most so many calls to one provider at a time, and a provider that keeps failing skipped
//! for a while (its circuit open) and then probed with one search before it is trusted again.
//! Answers are sent on as they come; a provider failing or late is a status, not an error.

use crate::{OfferQuery, Offers, Provider, ProviderError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;

/// How one provider is asked.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Its deadline within a search (2–60 s).
    pub deadline: Duration,
    /// Its calls in flight at most, across searches; a search that cannot start one within
    /// the deadline finds the provider timed out.
    pub concurrency: usize,
    /// Failures in a row that open its circuit.
    pub failures_to_open: u32,
    /// How long an open circuit skips the provider before one probe.
    pub open_for: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_secs(20),
            concurrency: 16,
            failures_to_open: 5,
            open_for: Duration::from_secs(30),
        }
    }
}

/// A deadline is kept within 2–60 s (Duffel's supplier timeout range).
pub fn clamp_deadline(d: Duration) -> Duration {
    d.clamp(Duration::from_secs(2), Duration::from_secs(60))
}

#[derive(Debug)]
enum Circuit {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out; others are skipped until it answers.
    Probing,
}

/// A provider's circuit breaker.
#[derive(Debug)]
pub struct Breaker {
    state: Mutex<Circuit>,
    failures_to_open: u32,
    open_for: Duration,
}

impl Breaker {
    pub fn new(failures_to_open: u32, open_for: Duration) -> Self {
        Breaker {
            state: Mutex::new(Circuit::Closed { failures: 0 }),
            failures_to_open: failures_to_open.max(1),
            open_for,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Circuit> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a call may go now (an open circuit whose time is up lets one probe through).
    pub fn admit(&self) -> bool {
        let mut s = self.lock();
        match *s {
            Circuit::Closed { .. } => true,
            Circuit::Open { until } if Instant::now() >= until => {
                *s = Circuit::Probing;
                true
            }
            Circuit::Open { .. } | Circuit::Probing => false,
        }
    }

    pub fn succeeded(&self) {
        *self.lock() = Circuit::Closed { failures: 0 };
    }

    pub fn failed(&self) {
        let mut s = self.lock();
        *s = match *s {
            Circuit::Closed { failures } if failures + 1 < self.failures_to_open => {
                Circuit::Closed {
                    failures: failures + 1,
                }
            }
            _ => Circuit::Open {
                until: Instant::now() + self.open_for,
            },
        };
    }

    /// A probe that could not even start, or failed for a reason that is not the provider's,
    /// still ends the probe (the circuit opens again, so the next probe goes out later
    /// rather than never).
    fn failed_if_probing(&self) {
        let probing = matches!(*self.lock(), Circuit::Probing);
        if probing {
            self.failed();
        }
    }

    /// The circuit lets calls through (closed).
    pub fn is_closed(&self) -> bool {
        matches!(*self.lock(), Circuit::Closed { .. })
    }
}

/// What became of one provider in one search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It answered (offers, and those that did not read).
    Complete(Offers),
    /// It failed (its error's code and message).
    Failed { code: &'static str, message: String },
    /// No answer within its deadline or the search's.
    TimedOut,
    /// Not asked: its circuit is open after failing again and again.
    Skipped,
}

/// One provider's outcome in a search, as it happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    pub provider: String,
    pub outcome: Outcome,
    /// From the search's start.
    pub after: Duration,
}

/// A provider with its limits, as the fan-out holds it.
pub struct Registered {
    provider: Arc<dyn Provider>,
    limits: Limits,
    slots: Arc<Semaphore>,
    breaker: Breaker,
}

impl Registered {
    pub fn new(provider: Arc<dyn Provider>, limits: Limits) -> Self {
        Registered {
            slots: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            breaker: Breaker::new(limits.failures_to_open, limits.open_for),
            limits: Limits {
                deadline: clamp_deadline(limits.deadline),
                ..limits
            },
            provider,
        }
    }

    pub fn name(&self) -> &str {
        self.provider.name()
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    async fn ask(&self, q: &OfferQuery, until: Instant) -> Outcome {
        if !self.breaker.admit() {
            return Outcome::Skipped;
        }
        let own = Instant::now() + self.limits.deadline;
        // Late against its own deadline is the provider's failing; cut short by the search's
        // is not.
        let late_is_its_fault = own <= until;
        let until = until.min(own);
        let left = || until.saturating_duration_since(Instant::now());
        let permit = match tokio::time::timeout(left(), self.slots.acquire()).await {
            Ok(Ok(p)) => p,
            // Waiting for a slot until the deadline: it would be late anyway; not its fault.
            _ => {
                self.breaker.failed_if_probing();
                return Outcome::TimedOut;
            }
        };
        let answer = tokio::time::timeout(left(), self.provider.search(q, left())).await;
        drop(permit);
        match answer {
            Ok(Ok(offers)) => {
                self.breaker.succeeded();
                Outcome::Complete(offers)
            }
            Ok(Err(e)) => {
                // The query refused is the query's fault, not the provider's health.
                let its_fault = match &e {
                    ProviderError::Rejected { .. } => false,
                    ProviderError::Timeout { .. } => late_is_its_fault,
                    _ => true,
                };
                if its_fault {
                    self.breaker.failed();
                } else {
                    self.breaker.failed_if_probing();
                }
                if e.is_timeout() {
                    Outcome::TimedOut
                } else {
                    Outcome::Failed {
                        code: e.code(),
                        message: e.to_string(),
                    }
                }
            }
            Err(_) => {
                if late_is_its_fault {
                    self.breaker.failed();
                } else {
                    self.breaker.failed_if_probing();
                }
                Outcome::TimedOut
            }
        }
    }
}

/// Every registered provider, asked together.
#[derive(Default)]
pub struct FanOut {
    providers: Vec<Arc<Registered>>,
}

impl FanOut {
    pub fn new(providers: Vec<Registered>) -> Self {
        FanOut {
            providers: providers.into_iter().map(Arc::new).collect(),
        }
    }

    pub fn providers(&self) -> impl Iterator<Item = &Registered> {
        self.providers.iter().map(|p| p.as_ref())
    }

    /// Ask every provider for `q`, the whole search ending by `within`; each provider's
    /// outcome is sent on the channel as it comes (every provider's exactly once, then the
    /// channel closes).
    pub fn search(&self, q: OfferQuery, within: Duration) -> mpsc::Receiver<Answered> {
        let (tx, rx) = mpsc::channel(self.providers.len().max(1));
        let started = Instant::now();
        let until = started + within;
        let q = Arc::new(q);
        for p in &self.providers {
            let (p, q, tx) = (p.clone(), q.clone(), tx.clone());
            tokio::spawn(async move {
                let outcome = p.ask(&q, until).await;
                let _ = tx
                    .send(Answered {
                        provider: p.name().to_string(),
                        outcome,
                        after: started.elapsed(),
                    })
                    .await;
            });
        }
        rx
    }
}
