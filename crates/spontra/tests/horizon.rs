#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! Far-off days under a crowd: simultaneous searches of one far week generate it once, and a
//! burst over many far weeks is answered or shed (503 `overloaded`), never failed. A process of
//! its own, so the block counter is this test's alone.

mod support;

use chrono::{Days, NaiveDate};
use spontra::config::ServiceName;
use support::{raw, spawn_app_with, Backend, TODAY};

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").into_bytes()
}

fn built(metrics: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("search_far_blocks_built_total "))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_on_far_days_builds_each_week_once_and_is_answered_or_shed() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.server.services = vec![ServiceName::Search];
        s.search.heavy_workers = 1;
        s.search.heavy_queue = 2;
    })
    .await
    .unwrap();
    let today: NaiveDate = TODAY.parse().unwrap();
    let far = today + Days::new(200);
    let one_week = format!("/api/v1/search?origin=LHR&destination=JFK&depart={far}");

    // Eight at once on one far day: they go to the heavy pool (one worker, two waiting), so
    // some are shed; those answered share the one block built.
    let answers = raw::burst(app.addr, (0..8).map(|_| get(&one_week)).collect()).await;
    for (status, body) in &answers {
        assert!(
            *status == 200 || (*status == 503 && body.contains("overloaded")),
            "{status}: {body}"
        );
    }
    assert!(answers.iter().any(|(s, _)| *s == 200), "{answers:?}");
    assert_eq!(built(&app.metrics().await), 1, "one week, one block");
    let again = app
        .call(reqwest::Method::GET, &one_week[7..], None, None)
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(!again.body["itineraries"].as_array().unwrap().is_empty());
    assert_eq!(built(&app.metrics().await), 1, "kept, not built again");

    // Twelve far weeks at once: each answered or shed, never a failure; what was answered
    // was built once.
    let weeks: Vec<Vec<u8>> = (0..12u64)
        .map(|w| {
            let day = today + Days::new(100 + 7 * w);
            get(&format!(
                "/api/v1/search?origin=LHR&destination=JFK&depart={day}"
            ))
        })
        .collect();
    let answers = raw::burst(app.addr, weeks).await;
    let ok = answers.iter().filter(|(s, _)| *s == 200).count() as u64;
    for (status, body) in &answers {
        assert!(
            *status == 200 || (*status == 503 && body.contains("overloaded")),
            "{status}: {body}"
        );
    }
    assert!(ok >= 1, "{answers:?}");
    let after = built(&app.metrics().await);
    assert!(after > 1 && after <= 1 + 12, "{after} blocks built");
}
