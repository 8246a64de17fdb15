#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The ingest service in a running instance: `server.services = ["ingest"]` consumes the
//! embedded event log in the instance's SQLite database. A provider event published there
//! becomes the flight's current fare; a bad one goes to the dead-letter topic with its
//! reason; `/readyz` names the service.

mod support;

use chrono::{Duration as Days, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use spontra::config::ServiceName;
use spontra_events::cloudevents::CloudEvent;
use spontra_events::embedded::{beside, EmbeddedLog};
use spontra_events::Bus;
use spontra_store::InventoryStore;
use std::time::{Duration, Instant};
use support::{spawn_app_with, Backend, PASSWORD};

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
    let log = EmbeddedLog::open(&beside(url)).await.unwrap();
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

/// The market and ingestion together, as `spontra serve` runs them: the simulated providers'
/// feeds (both shapes, with faults) flow through the embedded log into the store; the faults
/// end in the dead-letter topic with their reasons, and ingestion keeps up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_market_feeds_ingestion() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.server.services = vec![ServiceName::Market, ServiceName::Ingest];
        s.market.sweep_seconds = 1.0;
        s.market.fault_rate = 0.1;
        // Two market hours a second: the tiny world's fares change a few hundred times a
        // second.
        s.market.speed = 7200.0;
    })
    .await
    .unwrap();
    let url = &app.settings.database.url;
    let store = spontra_store_sqlite::SqliteStore::open(url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.observation_count().await.unwrap() < 500 {
        assert!(
            Instant::now() < deadline,
            "the market's feed is not applied"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = EmbeddedLog::open(&beside(url)).await.unwrap();
    let mut dead = log.subscribe("provider.dead_letter", "test").await.unwrap();
    let mut codes = std::collections::BTreeSet::new();
    while codes.len() < 5 && Instant::now() < deadline {
        for r in dead.poll(500, Duration::from_millis(500)).await.unwrap() {
            codes.insert(String::from_utf8(r.header("dlq_code").unwrap().to_vec()).unwrap());
        }
    }
    let known: std::collections::BTreeSet<String> = [
        "malformed_payload",
        "unknown_airport",
        "invalid_price",
        "unknown_currency",
        "departure_in_past",
        "unknown_schema",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert!(codes.len() >= 5 && codes.is_subset(&known), "{codes:?}");
    // Ingestion keeps up: what is not yet committed stays within a few ticks' worth.
    let lag = log.total_lag("provider.raw", "ingest").await.unwrap();
    assert!(lag < 2_000, "ingestion falls behind: {lag}");
    // ...and says so in its metrics.
    let metrics = app.metrics().await;
    for series in [
        "ingest_events_total{outcome=\"applied\"}",
        "ingest_events_total{outcome=\"dead_letter\"}",
        "ingest_dead_letters_total{code=",
        "ingest_apply_seconds_bucket",
        "ingest_lag ",
    ] {
        assert!(metrics.contains(series), "{series} in {metrics}");
    }
}

/// Run the binary on the database at `url`: exit code, stdout, stderr.
fn cli(url: &str, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spontra"))
        .args(args)
        .env("SPONTRA__DATABASE__URL", url)
        .env("SPONTRA__LOG__FILTER", "warn")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `spontra ingest status --json` once nothing is behind and `dead` dead letters are listed.
fn settled_status(url: &str, dead: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, out, err) = cli(url, &["ingest", "status", "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        if v["lag"] == 0 && v["dead_letters"].as_array().unwrap().len() == dead {
            return v;
        }
        assert!(Instant::now() < deadline, "{v}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `spontra ingest status` and `replay` against a running instance's database: the lag, the
/// dead letter with its reason; a replayed dead letter is judged again (and refused again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_see_and_replay_dead_letters() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.server.services = vec![ServiceName::Ingest]
    })
    .await
    .unwrap();
    let url = app.settings.database.url.clone();
    let log = EmbeddedLog::open(&beside(&url)).await.unwrap();
    log.publish(
        "provider.raw",
        vec![
            fare_event("ok", "120.00").to_message("LHR-JFK"),
            fare_event("bad", "0.00").to_message("LHR-JFK"),
        ],
    )
    .await
    .unwrap();
    let v = tokio::task::block_in_place(|| settled_status(&url, 1));
    let dead = &v["dead_letters"][0];
    assert_eq!(
        (dead["code"].as_str(), dead["field"].as_str()),
        (Some("invalid_price"), Some("amount"))
    );
    assert_eq!(dead["event_id"], "bad");
    assert_eq!(v["dead_letters_by_code"]["invalid_price"], 1);
    assert!(
        v["events_per_second"].as_f64().is_some_and(|r| r >= 0.0),
        "{v}"
    );
    let (_, table, _) = cli(&url, &["ingest", "status"]);
    assert!(
        table.contains("1 dead letter\n")
            && table.contains("invalid_price")
            && table.contains("events/s"),
        "{table}"
    );

    // Replayed, it is judged again and refused again: two dead letters now; --all sends only
    // what it has not sent before.
    let (code, out, err) = cli(&url, &["ingest", "replay", "--all"]);
    assert_eq!((code, out.trim()), (0, "replayed 1 dead letter"), "{err}");
    let v = tokio::task::block_in_place(|| settled_status(&url, 2));
    assert_eq!(v["dead_letters_by_code"]["invalid_price"], 2);
    let (code, out, _) = cli(&url, &["ingest", "replay", "--all"]);
    assert_eq!(
        (code, out.trim()),
        (0, "replayed 1 dead letter"),
        "only the new one"
    );
    let (code, _, _) = cli(
        &url,
        &["ingest", "replay", "--partition", "0", "--offset", "999"],
    );
    assert_eq!(code, 1, "no such dead letter");
    let (code, _, err) = cli(&url, &["ingest", "replay"]);
    assert_eq!(code, 2, "{err}");
}

/// The admin API of a process that ingests beside the users service: only an administrator
/// with a two-factor session sees ingestion (lag per partition, its rate, the dead letters
/// with their reasons) and replays dead letters; bad requests get their 4xx; a burst of
/// replays sends each dead letter back once, the rest told to retry, never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_see_and_replay_ingestion_over_http() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.server.services = vec![ServiceName::Ingest, ServiceName::Users]
    })
    .await
    .unwrap();
    let log = EmbeddedLog::open(&beside(&app.settings.database.url))
        .await
        .unwrap();
    log.publish(
        "provider.raw",
        vec![
            fare_event("ok", "120.00").to_message("LHR-JFK"),
            fare_event("bad", "0.00").to_message("LHR-JFK"),
        ],
    )
    .await
    .unwrap();

    let anonymous = app.call(Method::GET, "/admin/ingest", None, None).await;
    assert_eq!(anonymous.problem(), (401, "unauthorized"));
    app.given_account("ada@example.com", "Ada", PASSWORD).await;
    let user = app.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(
        app.get("/admin/ingest", &user.access).await.problem(),
        (403, "forbidden")
    );
    let (code, out) = app.create_user_cli("ops@example.com", "operations 2026!", true);
    assert_eq!(code, 0, "{out}");
    let admin = app.sign_in("ops@example.com", "operations 2026!").await;
    assert_eq!(
        app.get("/admin/ingest", &admin.access).await.problem(),
        (403, "two_factor_required")
    );
    app.enrol_two_factor(&admin, "operations 2026!").await;

    let settled = |dead: u64| {
        let (app, token) = (&app, admin.access.clone());
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let r = app.get("/admin/ingest?limit=10", &token).await;
                assert_eq!(r.status, 200, "{}", r.body);
                if r.body["lag"] == 0 && r.body["dead_letters_total"] == dead {
                    return r;
                }
                assert!(Instant::now() < deadline, "{}", r.body);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let status = settled(1).await;
    assert_eq!(status.header("cache-control"), "no-store");
    let v = &status.body;
    assert_eq!(
        (v["topic"].as_str(), v["group"].as_str()),
        (Some("provider.raw"), Some("ingest"))
    );
    assert_eq!(v["dead_letters"][0]["code"], "invalid_price");
    assert_eq!(v["dead_letters"][0]["field"], "amount");
    assert_eq!(v["dead_letters"][0]["event_id"], "bad");
    assert_eq!(v["dead_letters_by_code"]["invalid_price"], 1);
    assert!(v["events_per_second"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["partitions"].as_array().is_some_and(|p| !p.is_empty()));

    // What is refused, and why.
    let token = Some(admin.access.as_str());
    let r = app.get("/admin/ingest?limit=501", &admin.access).await;
    assert_eq!(r.problem(), (400, "invalid_limit"));
    for body in [
        json!({}),
        json!({"all": true, "partition": 0}),
        json!({"offset": 3}),
    ] {
        let r = app
            .call(
                Method::POST,
                "/admin/ingest/replay",
                Some(body.clone()),
                token,
            )
            .await;
        assert_eq!(r.problem(), (400, "invalid_field"), "{body}: {}", r.body);
    }
    let r = app
        .call(
            Method::POST,
            "/admin/ingest/replay",
            Some(json!({"all": "yes"})),
            token,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app
        .call(
            Method::POST,
            "/admin/ingest/replay",
            Some(json!({"partition": 0, "offset": 999})),
            token,
        )
        .await;
    assert_eq!(r.problem(), (404, "not_found"));
    let r = app
        .call(
            Method::POST,
            "/admin/ingest/replay",
            Some(json!({"all": true})),
            Some(&user.access),
        )
        .await;
    assert_eq!(r.problem(), (403, "forbidden"), "a user replays nothing");

    // Replayed, the dead letter is judged again and refused again.
    let r = app
        .call(
            Method::POST,
            "/admin/ingest/replay",
            Some(json!({"all": true})),
            token,
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["replayed"].as_u64()),
        (200, Some(1)),
        "{}",
        r.body
    );
    settled(2).await;

    // A burst of replays released at once: each dead letter goes back once. (A letter sent
    // back is refused again as a new dead letter, which a later replay of the burst may send
    // back in turn: the replay group's position counts the letters sent.)
    let gate = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = vec![];
    for _ in 0..8 {
        let (gate, base, access) = (gate.clone(), app.base.clone(), admin.access.clone());
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            let r = reqwest::Client::new()
                .post(format!("{base}/api/v1/admin/ingest/replay"))
                .bearer_auth(access)
                .json(&json!({"all": true}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let retry = r.headers().contains_key("retry-after");
            let body: Value = r.json().await.unwrap();
            (status, retry, body)
        }));
    }
    let mut replayed = 0;
    for t in tasks {
        let (status, retry, body) = t.await.unwrap();
        match status {
            200 => replayed += body["replayed"].as_u64().unwrap(),
            503 => assert!(retry, "503 says when to retry"),
            other => panic!("{other}: {body}"),
        }
    }
    assert!(replayed >= 1, "the new dead letter goes back");
    let sent: i64 = log
        .lag("provider.dead_letter", spontra_ingest::status::REPLAY_GROUP)
        .await
        .unwrap()
        .iter()
        .map(|l| l.committed)
        .sum();
    assert_eq!(
        sent as u64,
        1 + replayed,
        "each dead letter replayed once: the group moved past as many as were sent"
    );
    settled(2 + replayed).await;
}
