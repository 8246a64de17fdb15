#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The ingest service in a running instance: `server.services = ["ingest"]` consumes the
//! embedded event log in the instance's SQLite database. A provider event published there
//! becomes the flight's current fare; a bad one goes to the dead-letter topic with its
//! reason; `/readyz` names the service.

mod support;

use chrono::{Duration as Days, Utc};
use serde_json::{json, Value};
use spontra::config::ServiceName;
use spontra_events::cloudevents::CloudEvent;
use spontra_events::embedded::EmbeddedLog;
use spontra_events::Bus;
use spontra_store::InventoryStore;
use std::time::{Duration, Instant};
use support::{spawn_app_with, Backend};

fn fare_event(id: &str, fare: &str) -> CloudEvent {
    let departing = Utc::now() + Days::days(12);
    CloudEvent {
        id: id.into(),
        source: "/providers/skyhub".into(),
        type_: spontra_ingest::feed::DUFFEL_FARE_V1.into(),
        time: Some(Utc::now()),
        subject: Some("BA117".into()),
        datacontenttype: Some("application/json".into()),
        data: serde_json::to_vec(&json!({
            "owner": {"iata_code": "BA"},
            "marketing_carrier_flight_number": "117",
            "origin": {"iata_code": "LHR"},
            "destination": {"iata_code": "JFK"},
            "departure_date": departing.date_naive().to_string(),
            "departing_at": departing.to_rfc3339(),
            "cabin_class": "economy",
            "total_amount": fare,
            "total_currency": "EUR",
            "available_seats": 12
        }))
        .unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_process_applies_the_feed_of_its_event_log() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.server.services = vec![ServiceName::Ingest]
    })
    .await
    .unwrap();
    let ready: Value = reqwest::get(format!("{}/readyz", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["services"], json!(["ingest"]));

    let url = &app.settings.database.url;
    let log = EmbeddedLog::open(url).await.unwrap();
    log.publish(
        "provider.raw",
        vec![
            fare_event("e1", "412.00").to_message("LHR-JFK"),
            fare_event("e2", "0.00").to_message("LHR-JFK"),
        ],
    )
    .await
    .unwrap();

    let store = spontra_store_sqlite::SqliteStore::open(url).await.unwrap();
    let date = (Utc::now() + Days::days(12)).date_naive();
    let deadline = Instant::now() + Duration::from_secs(30);
    let current = loop {
        if let Some(f) = store
            .current_fare("BA", 117, date, "economy")
            .await
            .unwrap()
        {
            break f;
        }
        assert!(Instant::now() < deadline, "the event was not applied");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!((current.fare_minor, current.seats_left), (41_200, 12));
    let mut dead = log.subscribe("provider.dead_letter", "test").await.unwrap();
    let mut got = vec![];
    while got.is_empty() && Instant::now() < deadline {
        got = dead.poll(10, Duration::from_millis(500)).await.unwrap();
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("dlq_code"), Some(&b"invalid_price"[..]));
    // Committed once both are handled.
    loop {
        let lag: i64 = log.total_lag("provider.raw", "ingest").await.unwrap();
        if lag == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{lag} not committed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
