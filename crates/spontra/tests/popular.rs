#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! Popular routes from search analytics in a running instance, on both profiles: searches made
//! over the API are counted by the search service, published in batches on `search.performed`,
//! added once each by pricing, and ranked by `GET /prices/popular`. A batch delivered twice
//! counts once; an unreadable one is dead-lettered and the consumer goes on; later pages of a
//! search are not counted again; bad queries get their codes.

mod support;

use serde_json::{json, Value};
use spontra::config::ServiceName;
use spontra_events::cloudevents::CloudEvent;
use std::time::{Duration, Instant};
use support::stream::Streamed;
use support::{Backend, Instance};

async fn get(app: &Instance, path: &str) -> (u16, Value) {
    let r = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Until `/prices/popular{query}` counts `total` searches over its routes.
async fn popular_when(app: &Instance, query: &str, total: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, p) = get(app, &format!("/api/v1/prices/popular{query}")).await;
        assert_eq!(status, 200, "{p}");
        let counted: i64 = p["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["searches"].as_i64().unwrap())
            .sum();
        if counted >= total {
            return p;
        }
        assert!(Instant::now() < deadline, "not counted yet: {p}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn batch(id: &str, origin: &str, destination: &str, searches: i64) -> spontra_events::Message {
    CloudEvent {
        id: id.into(),
        source: "/services/search".into(),
        type_: spontra_events::topics::types::SEARCH_PERFORMED.into(),
        time: Some(chrono::Utc::now()),
        subject: None,
        datacontenttype: Some("application/json".into()),
        data: serde_json::to_vec(&json!({"day": "2026-12-01", "counts": [
            {"origin": origin, "destination": destination, "searches": searches}]}))
        .unwrap(),
    }
    .to_message("searches")
}

async fn searches_become_popular_routes(backend: Backend) {
    let Some(setup) = Streamed::start(
        backend,
        vec![
            ServiceName::Search,
            ServiceName::Ingest,
            ServiceName::Pricing,
        ],
        |s| s.search.analytics_seconds = 1,
    )
    .await
    else {
        return;
    };
    let app = &setup.app;
    let search = |o: &str, d: &str| {
        format!("/api/v1/search?origin={o}&destination={d}&depart=2026-12-10&limit=2")
    };
    for (path, times) in [
        (search("LHR", "JFK"), 3),
        (search("LON", "NYC"), 2),
        (
            "/api/v1/explore?origin=LHR&depart_from=2026-12-18&max_price=150".to_string(),
            1,
        ),
    ] {
        for _ in 0..times {
            let (status, body) = get(app, &path).await;
            assert_eq!(status, 200, "{path}: {body}");
        }
    }
    // A later page is the same search: not counted again.
    let (_, first) = get(app, &search("LHR", "JFK")).await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let (status, _) = get(app, &format!("{}&cursor={cursor}", search("LHR", "JFK"))).await;
    assert_eq!(status, 200);

    let p = popular_when(app, "", 7).await;
    assert_eq!(
        p["routes"],
        json!([
            {"origin": "LHR", "destination": "JFK", "searches": 4},
            {"origin": "LON", "destination": "NYC", "searches": 2},
            {"origin": "LHR", "destination": null, "searches": 1},
        ]),
        "{p}"
    );
    assert_eq!(
        p["destinations"],
        json!([{"destination": "JFK", "searches": 4}, {"destination": "NYC", "searches": 2}])
    );
    assert_eq!(p["since"], "2026-11-02", "30 days to the market's today");
    let (_, lon) = get(app, "/api/v1/prices/popular?origin=lon&limit=5").await;
    assert_eq!(
        lon["routes"],
        json!([{"origin": "LON", "destination": "NYC", "searches": 2}])
    );

    // The same batch twice counts once; a broken record is dead-lettered and the next counted.
    let broken = spontra_events::Message::new("searches", b"{not json".to_vec())
        .header("ce_specversion", "1.0")
        .header("ce_id", "broken-1")
        .header("ce_source", "/test")
        .header("ce_type", spontra_events::topics::types::SEARCH_PERFORMED);
    setup
        .publish(
            "search.performed",
            vec![
                batch("twice-1", "PAR", "ROM", 5),
                broken,
                batch("twice-1", "PAR", "ROM", 5),
                batch("later-1", "PAR", "ROM", 1),
            ],
        )
        .await;
    let p = popular_when(app, "?origin=PAR", 6).await;
    assert_eq!(
        p["routes"],
        json!([{"origin": "PAR", "destination": "ROM", "searches": 6}])
    );
    let mut dead = setup
        .bus
        .subscribe("search.dead_letter", "test")
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got = vec![];
    while got.is_empty() && Instant::now() < deadline {
        got = dead.poll(10, Duration::from_millis(500)).await.unwrap();
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("dlq_code"), Some(&b"invalid_data"[..]));

    for (query, status, code, field) in [
        ("?limit=0", 422, "invalid_range", "limit"),
        ("?limit=51", 422, "invalid_range", "limit"),
        ("?days=91", 422, "invalid_range", "days"),
        ("?days=x", 400, "invalid_field", "days"),
        ("?days=123456789012", 400, "invalid_field", "days"),
        ("?origin=L1", 400, "invalid_field", "origin"),
        ("?colour=red", 400, "malformed_query", ""),
    ] {
        let (got, body) = get(app, &format!("/api/v1/prices/popular{query}")).await;
        assert_eq!(
            (got, body["code"].as_str().unwrap_or("")),
            (status, code),
            "{query}: {body}"
        );
        if !field.is_empty() {
            assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_become_popular_routes_on_sqlite() {
    searches_become_popular_routes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_become_popular_routes_on_postgres_and_kafka() {
    searches_become_popular_routes(Backend::Postgres).await;
}
