//! A per-search work budget, so one request cannot take the machine.
//!
//! Work is counted in *steps*: one route the search looks at (a route's legs are few, so a
//! step is a bounded amount of work). The count is deterministic — the same query costs the
//! same steps on any machine — and needs no clock, so the engine stays pure. A search loop is
//! charged for all the routes it will look at before it starts (one meter update per loop, not
//! per route: the meter costs about 2 % on the heaviest explore). The caller may also pass a
//! cancel flag (the client went away); it is looked at every 256 charges.
//!
//! The meter is thread-local, like the search scratch space: [`within`] sets it for the
//! search run on this thread and takes it down after. Searches run outside [`within`] are
//! unlimited (tests, benchmarks, the CLI).

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a search may spend.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    /// Steps allowed; `None` is unlimited.
    pub max_steps: Option<u64>,
    /// Raised by whoever waits for the result when they stop waiting.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// Why a search stopped before its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Stopped {
    #[error("the search needs more than {0} steps")]
    OverBudget(u64),
    #[error("the search was cancelled")]
    Cancelled,
}

#[derive(Clone, Copy)]
struct Meter {
    used: u64,
    limit: u64,
    charges: u32,
    stopped: Option<Stopped>,
}

const UNLIMITED: Meter = Meter {
    used: 0,
    limit: u64::MAX,
    charges: 0,
    stopped: None,
};

thread_local! {
    static METER: Cell<Meter> = const { Cell::new(UNLIMITED) };
    static CANCEL: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Charge `steps` (the routes a loop is about to look at); `true` once the search must stop
/// (it stays stopped).
#[inline]
pub(crate) fn charge(steps: usize) -> bool {
    METER.with(|m| {
        let mut meter = m.get();
        if meter.stopped.is_some() {
            return true;
        }
        meter.used = meter.used.saturating_add(steps as u64);
        meter.charges = meter.charges.wrapping_add(1);
        if meter.used > meter.limit {
            meter.stopped = Some(Stopped::OverBudget(meter.limit));
        } else if meter.charges % 256 == 0 && cancelled() {
            meter.stopped = Some(Stopped::Cancelled);
        }
        m.set(meter);
        meter.stopped.is_some()
    })
}

#[cold]
fn cancelled() -> bool {
    CANCEL.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    })
}

/// Run `search` under `budget` on this thread: its result and the steps it took, or why it
/// stopped (its partial result is dropped).
pub fn within<T>(budget: &Budget, search: impl FnOnce() -> T) -> Result<(T, u64), Stopped> {
    let outer_meter = METER.with(|m| {
        m.replace(Meter {
            used: 0,
            limit: budget.max_steps.unwrap_or(u64::MAX),
            charges: 0,
            stopped: None,
        })
    });
    let outer_cancel = CANCEL.with(|c| c.replace(budget.cancel.clone()));
    let out = search();
    let meter = METER.with(|m| m.replace(outer_meter));
    CANCEL.with(|c| c.replace(outer_cancel));
    match meter.stopped {
        Some(why) => Err(why),
        None => Ok((out, meter.used)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(n: u64) -> u64 {
        let mut done = 0;
        for _ in 0..n {
            if charge(1) {
                break;
            }
            done += 1;
        }
        done
    }

    #[test]
    fn a_budget_stops_work_and_reports_it() {
        assert_eq!(work(5_000), 5_000, "unlimited outside a budget");
        let b = Budget {
            max_steps: Some(10_000),
            cancel: None,
        };
        assert_eq!(within(&b, || work(5_000)), Ok((5_000, 5_000)));
        assert_eq!(
            within(&b, || work(50_000)),
            Err(Stopped::OverBudget(10_000))
        );
        assert_eq!(work(5_000), 5_000, "the meter is put back afterwards");
        let flag = Arc::new(AtomicBool::new(true));
        let c = Budget {
            max_steps: None,
            cancel: Some(flag),
        };
        assert_eq!(within(&c, || work(50_000)), Err(Stopped::Cancelled));
    }
}
