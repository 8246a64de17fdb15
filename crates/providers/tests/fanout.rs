#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The fan-out with scripted providers (each answers after a set time with a set result, and
//! counts its calls in flight): outcomes arrive as they happen and once per provider, the
//! deadlines hold, a provider's concurrency limit holds across searches, and a failing
//! provider's circuit opens, skips it, and closes after a good probe. Time is tokio's paused
//! clock, so the waits are exact.

use async_trait::async_trait;
use chrono::NaiveDate;
use spontra_domain::{AirportCode, Cabin, Passengers};
use spontra_providers::fanout::{Answered, FanOut, Limits, Outcome, Registered};
use spontra_providers::{OfferQuery, Offers, Provider, ProviderError};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

struct Scripted {
    name: &'static str,
    delay: Duration,
    fail: AtomicBool,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(name: &'static str, delay_ms: u64, fail: bool) -> Arc<Self> {
        Arc::new(Scripted {
            name,
            delay: Duration::from_millis(delay_ms),
            fail: AtomicBool::new(fail),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl Provider for Scripted {
    fn name(&self) -> &str {
        self.name
    }

    async fn search(&self, _: &OfferQuery, deadline: Duration) -> Result<Offers, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        let late = self.delay > deadline;
        tokio::time::sleep(self.delay.min(deadline)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if late {
            return Err(ProviderError::Timeout {
                provider: self.name.into(),
                after: deadline,
            });
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err(ProviderError::Upstream {
                provider: self.name.into(),
                status: 503,
                detail: "down".into(),
            });
        }
        Ok(Offers {
            offers: vec![],
            skipped: vec![format!("{} answered", self.name)],
        })
    }
}

fn query() -> OfferQuery {
    OfferQuery {
        origin: AirportCode::parse("LHR").unwrap(),
        destination: AirportCode::parse("JFK").unwrap(),
        departure_date: NaiveDate::from_ymd_opt(2026, 12, 18).unwrap(),
        return_date: None,
        passengers: Passengers::one_adult(),
        cabin: Cabin::Economy,
        max_connections: 1,
        currency: None,
    }
}

fn limits(deadline_s: u64) -> Limits {
    Limits {
        deadline: Duration::from_secs(deadline_s),
        ..Limits::default()
    }
}

async fn all(mut rx: tokio::sync::mpsc::Receiver<Answered>) -> Vec<Answered> {
    let mut out = vec![];
    while let Some(a) = rx.recv().await {
        out.push(a);
    }
    out
}

#[tokio::test(start_paused = true)]
async fn answers_arrive_as_they_come_and_each_provider_once() {
    let fast = Scripted::new("fast", 300, false);
    let failing = Scripted::new("failing", 1_000, true);
    let slow = Scripted::new("slow", 30_000, false);
    let fan = FanOut::new(vec![
        Registered::new(slow.clone(), limits(5)),
        Registered::new(fast.clone(), limits(5)),
        Registered::new(failing.clone(), limits(5)),
    ]);
    let got = all(fan.search(query(), Duration::from_secs(20))).await;
    let seen: Vec<(&str, Duration)> = got.iter().map(|a| (a.provider.as_str(), a.after)).collect();
    assert_eq!(
        seen,
        [
            ("fast", Duration::from_millis(300)),
            ("failing", Duration::from_secs(1)),
            ("slow", Duration::from_secs(5)),
        ]
    );
    assert!(matches!(got[0].outcome, Outcome::Complete(_)));
    assert_eq!(
        got[1].outcome,
        Outcome::Failed {
            code: "provider_failed",
            message: "failing failed (503): down".into()
        }
    );
    assert_eq!(got[2].outcome, Outcome::TimedOut);

    // The whole search's deadline cuts every provider's short.
    let started = Instant::now();
    let got = all(fan.search(query(), Duration::from_millis(500))).await;
    assert_eq!(got.len(), 3);
    assert!(started.elapsed() <= Duration::from_millis(500));
    assert_eq!(
        got.iter()
            .filter(|a| a.outcome == Outcome::TimedOut)
            .count(),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn a_provider_never_has_more_calls_in_flight_than_its_limit() {
    let p = Scripted::new("busy", 1_000, false);
    let fan = Arc::new(FanOut::new(vec![Registered::new(
        p.clone(),
        Limits {
            concurrency: 2,
            ..limits(5)
        },
    )]));
    // Seven searches at one instant: two at a time, a second each; six have answered by 3 s,
    // and the seventh, starting then, is cut off by its search's 3.5 s deadline.
    let searches: Vec<_> = (0..7)
        .map(|_| {
            let fan = fan.clone();
            tokio::spawn(
                async move { all(fan.search(query(), Duration::from_millis(3_500))).await },
            )
        })
        .collect();
    let mut complete = 0;
    let mut timed_out = 0;
    for s in searches {
        for a in s.await.unwrap() {
            match a.outcome {
                Outcome::Complete(_) => complete += 1,
                Outcome::TimedOut => timed_out += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!((complete, timed_out), (6, 1));
    assert_eq!(p.most_in_flight.load(Ordering::SeqCst), 2);
    // Waiting for a slot under the search's deadline is not the provider failing.
    assert!(fan.providers().next().unwrap().breaker().is_closed());
}

#[tokio::test(start_paused = true)]
async fn a_failing_provider_is_skipped_while_its_circuit_is_open_then_probed() {
    let p = Scripted::new("flaky", 10, true);
    let fan = FanOut::new(vec![Registered::new(
        p.clone(),
        Limits {
            failures_to_open: 3,
            open_for: Duration::from_secs(30),
            ..limits(5)
        },
    )]);
    let outcome = |a: Vec<Answered>| a.into_iter().next().unwrap().outcome;
    for _ in 0..3 {
        let o = outcome(all(fan.search(query(), Duration::from_secs(5))).await);
        assert!(matches!(o, Outcome::Failed { .. }), "{o:?}");
    }
    // Open: skipped at once, not called.
    for _ in 0..4 {
        let o = outcome(all(fan.search(query(), Duration::from_secs(5))).await);
        assert_eq!(o, Outcome::Skipped);
    }
    assert_eq!(p.calls.load(Ordering::SeqCst), 3);
    // After 30 s one probe goes; it fails, so the circuit opens again.
    tokio::time::sleep(Duration::from_secs(30)).await;
    let o = outcome(all(fan.search(query(), Duration::from_secs(5))).await);
    assert!(matches!(o, Outcome::Failed { .. }), "{o:?}");
    let o = outcome(all(fan.search(query(), Duration::from_secs(5))).await);
    assert_eq!(o, Outcome::Skipped);
    // The provider recovers: the next probe succeeds and the circuit closes.
    p.fail.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(30)).await;
    for _ in 0..3 {
        let o = outcome(all(fan.search(query(), Duration::from_secs(5))).await);
        assert!(matches!(o, Outcome::Complete(_)), "{o:?}");
    }
    assert!(fan.providers().next().unwrap().breaker().is_closed());
    assert_eq!(p.calls.load(Ordering::SeqCst), 7);
}
