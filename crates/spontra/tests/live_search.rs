#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! Search follows the market: a provider's fare change goes through ingestion and
//! `inventory.changed` into the index searches read, as a new inventory version that
//! `/readyz` and every answer name; a page cursor continues only the list it came from.

mod support;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde_json::{json, Value};
use spontra::config::ServiceName;
use spontra_domain::FixedClock;
use spontra_events::cloudevents::CloudEvent;
use spontra_events::embedded::{beside, EmbeddedLog};
use spontra_events::Bus;
use spontra_ingest::feed::{schedule_event_for, AMADEUS_SCHEDULE_V1, DUFFEL_SCHEDULE_V1};
use spontra_store::{ScheduleKind, ScheduleObservation};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{spawn_app_with, Backend, Instance, TODAY};

/// Market time now: the world's today at this time of day (market speed 1).
fn market_now() -> DateTime<Utc> {
    let today: NaiveDate = TODAY.parse().unwrap();
    today.and_time(Utc::now().time()).and_utc()
}

/// What the Duffel-shaped provider sends about `segment` (a segment of a search answer) at
/// `fare` euros.
fn fare_event(id: &str, segment: &Value, fare: &str, seats: u32) -> CloudEvent {
    let flight = segment["flight"].as_str().unwrap();
    let local = segment["departure"]["local"].as_str().unwrap();
    CloudEvent {
        id: id.into(),
        source: "/providers/skyhub".into(),
        type_: spontra_ingest::feed::DUFFEL_FARE_V1.into(),
        time: Some(market_now()),
        subject: Some(flight.into()),
        datacontenttype: Some("application/json".into()),
        data: serde_json::to_vec(&json!({
            "owner": {"iata_code": &flight[..2]},
            "marketing_carrier_flight_number": &flight[2..],
            "origin": {"iata_code": segment["origin"]},
            "destination": {"iata_code": segment["destination"]},
            "departure_date": &local[..10],
            "departing_at": local,
            "cabin_class": "economy",
            "total_amount": fare,
            "total_currency": "EUR",
            "available_seats": seats
        }))
        .unwrap(),
    }
}

async fn publish(app: &Instance, events: Vec<CloudEvent>) {
    let log = EmbeddedLog::open(&beside(&app.settings.database.url))
        .await
        .unwrap();
    publish_on(&log, events).await;
}

async fn publish_on(bus: &dyn Bus, events: Vec<CloudEvent>) {
    let messages = events.into_iter().map(|e| e.to_message("route")).collect();
    bus.publish("provider.raw", messages).await.unwrap();
}

async fn readyz(app: &Instance) -> Value {
    reqwest::get(format!("{}/readyz", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn get(app: &Instance, path: &str) -> support::Reply {
    app.call(reqwest::Method::GET, path, None, None).await
}

/// A route of the world with at least `n` itineraries three days out: (path, answer).
async fn busy_route(app: &Instance, n: usize) -> (String, Value) {
    let date = (TODAY.parse::<NaiveDate>().unwrap() + chrono::Days::new(3)).to_string();
    let explore = get(app, &format!("/explore?origin=LHR&from={date}&max_stops=0")).await;
    assert_eq!(explore.status, 200, "{}", explore.body);
    for d in explore.body["destinations"].as_array().unwrap() {
        let code = d["airport"]["code"].as_str().unwrap();
        let path = format!(
            "/search?origin=LHR&destination={code}&depart={date}&max_stops=0&sort=cheapest"
        );
        let r = get(app, &path).await;
        if r.body["itineraries"]
            .as_array()
            .is_some_and(|l| l.len() >= n)
        {
            return (path, r.body);
        }
    }
    panic!("no route from LHR with {n} direct flights on {date}");
}

/// Poll `path` until `done` holds of its answer.
async fn until(app: &Instance, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = get(app, path).await;
        assert_eq!(r.status, 200, "{}", r.body);
        if done(&r.body) {
            return r.body;
        }
        assert!(Instant::now() < deadline, "{what}: {}", r.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn flight_price(answer: &Value, flight: &str) -> Option<i64> {
    answer["itineraries"]
        .as_array()?
        .iter()
        .find(|i| i["slices"][0]["segments"][0]["flight"] == flight)
        .and_then(|i| i["price"]["minor"].as_i64())
}

async fn search_and_ingest() -> Instance {
    spawn_app_with(Backend::Sqlite, |s| {
        s.server.services = vec![ServiceName::Search, ServiceName::Ingest];
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fare_change_reaches_search_as_a_new_version() {
    let app = search_and_ingest().await;
    let ready = readyz(&app).await;
    assert_eq!(ready["inventory_version"], 0, "{ready}");
    let (path, before) = busy_route(&app, 2).await;
    assert_eq!(before["inventory"]["version"], 0);
    let itinerary = &before["itineraries"][1];
    assert!(
        itinerary["price_observed_at"].is_null(),
        "priced as scheduled"
    );
    let segment = &itinerary["slices"][0]["segments"][0];
    let flight = segment["flight"].as_str().unwrap().to_string();
    // Cheaper than the cheapest: the change moves it to the top of a cheapest-first list.
    let cheapest = before["itineraries"][0]["price"]["minor"].as_i64().unwrap();
    let fare = format!("{}.00", (cheapest / 100 - 7).max(1));
    publish(&app, vec![fare_event("c1", segment, &fare, 9)]).await;

    let after = until(&app, &path, "the change is searched", |a| {
        a["inventory"]["version"].as_u64() >= Some(1)
    })
    .await;
    let minor = (cheapest / 100 - 7).max(1) * 100;
    assert_eq!(flight_price(&after, &flight), Some(minor), "{after}");
    assert_eq!(
        after["itineraries"][0]["slices"][0]["segments"][0]["flight"],
        flight.as_str()
    );
    let top = &after["itineraries"][0];
    assert!(top["price_observed_at"].is_string(), "{top}");
    assert!(top["price_age_seconds"].as_u64().unwrap() < 120, "{top}");
    assert!(after["inventory"]["prices_observed_until"].is_string());

    let ready = readyz(&app).await;
    assert!(ready["inventory_version"].as_u64() >= Some(1), "{ready}");
    assert!(ready["last_event_at"].is_string(), "{ready}");

    // Sold out: the flight is no longer offered.
    publish(&app, vec![fare_event("c2", segment, &fare, 0)]).await;
    until(&app, &path, "the sold-out flight disappears", |a| {
        flight_price(a, &flight).is_none()
    })
    .await;

    // A late report (older than the one applied) changes nothing, once everything is through
    // ingestion and search; a newer one does.
    let mut late = fare_event("c3", segment, "1.00", 9);
    late.time = Some(market_now() - chrono::Duration::minutes(30));
    publish(&app, vec![late]).await;
    let log = EmbeddedLog::open(&beside(&app.settings.database.url))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while log.total_lag("provider.raw", "ingest").await.unwrap() > 0
        || readyz(&app).await["update_lag"] != 0
    {
        assert!(Instant::now() < deadline, "ingestion and search settle");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(flight_price(&get(&app, &path).await.body, &flight), None);
    let mut back = fare_event("c4", segment, &fare, 9);
    back.time = Some(market_now() + chrono::Duration::seconds(5));
    publish(&app, vec![back]).await;
    let back = until(&app, &path, "the newer report is applied", |a| {
        flight_price(a, &flight).is_some()
    })
    .await;
    assert_eq!(
        flight_price(&back, &flight),
        Some(minor),
        "not the late 1.00"
    );

    let metrics = app.metrics().await;
    for series in [
        "search_updates_total{outcome=\"changed\"}",
        "search_update_visible_seconds_bucket",
        "search_index_version ",
    ] {
        assert!(metrics.contains(series), "{series}");
    }
}

/// Flights are on sale about 330 days ahead. The days after the live window are generated
/// when a search asks for them and priced as published; a provider's change for one of their
/// flights (kept by search until its window reaches it) shows once the block is built again;
/// a trip from the live window into them is priced with the live window's fares.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn far_off_days_are_on_sale_with_what_providers_said_of_them() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.server.services = vec![ServiceName::Search, ServiceName::Ingest];
        s.search.far_block_seconds = 1;
    })
    .await
    .unwrap();
    let today: NaiveDate = TODAY.parse().unwrap();
    let ready = readyz(&app).await;
    assert_eq!(ready["bookable_from"], TODAY, "{ready}");
    assert_eq!(
        ready["bookable_to"],
        (today + Days::new(329)).to_string(),
        "{ready}"
    );
    let live_until: NaiveDate = ready["live_until"].as_str().unwrap().parse().unwrap();
    assert!(live_until < today + Days::new(40), "{ready}");

    // Nine months out: LHR's direct flights, on that day.
    let far = today + Days::new(270);
    let explore = get(&app, &format!("/explore?origin=LHR&from={far}&max_stops=0")).await;
    assert_eq!(explore.status, 200, "{}", explore.body);
    let destinations = explore.body["destinations"].as_array().unwrap();
    assert!(destinations.len() >= 5, "{}", explore.body);
    let code = destinations[0]["airport"]["code"].as_str().unwrap();
    let path =
        format!("/search?origin=LHR&destination={code}&depart={far}&max_stops=0&sort=cheapest");
    let before = get(&app, &path).await;
    assert_eq!(before.status, 200, "{}", before.body);
    let itineraries = before.body["itineraries"].as_array().unwrap();
    assert!(!itineraries.is_empty(), "{}", before.body);
    for it in itineraries {
        let local = it["slices"][0]["departure"]["local"].as_str().unwrap();
        assert_eq!(&local[..10], far.to_string(), "{it}");
        assert!(
            it["price_observed_at"].is_null(),
            "priced as published: {it}"
        );
    }
    // The day after the horizon is not sold.
    let beyond = today + Days::new(330);
    let r = get(
        &app,
        &format!("/search?origin=LHR&destination={code}&depart={beyond}"),
    )
    .await;
    assert_eq!(r.problem(), (422, "date_not_served"), "{}", r.body);

    // A provider's change for the dearest of that day's flights: it becomes the cheapest.
    let last = itineraries.last().unwrap();
    let segment = &last["slices"][0]["segments"][0];
    let flight = segment["flight"].as_str().unwrap().to_string();
    let cheapest = itineraries[0]["price"]["minor"].as_i64().unwrap();
    let fare_minor = (cheapest / 100 - 3).max(1) * 100;
    publish(
        &app,
        vec![fare_event(
            "far1",
            segment,
            &format!("{}.00", fare_minor / 100),
            9,
        )],
    )
    .await;
    let after = until(&app, &path, "the far change is searched", |a| {
        flight_price(a, &flight) == Some(fare_minor)
    })
    .await;
    assert_eq!(
        after["itineraries"][0]["slices"][0]["segments"][0]["flight"],
        flight.as_str()
    );
    assert!(
        after["itineraries"][0]["price_observed_at"].is_string(),
        "{after}"
    );

    // Out in the live window, back after it: the outbound's fare is the live one.
    let (near_path, near) = busy_route(&app, 2).await;
    let out = &near["itineraries"][1]["slices"][0]["segments"][0];
    let out_flight = out["flight"].as_str().unwrap().to_string();
    publish(&app, vec![fare_event("near1", out, "1.00", 9)]).await;
    until(&app, &near_path, "the live change is searched", |a| {
        flight_price(a, &out_flight) == Some(100)
    })
    .await;
    let back = live_until + Days::new(20);
    let trip = format!("{near_path}&return={back}");
    let r = get(&app, &trip).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let top = &r.body["itineraries"][0];
    assert_eq!(
        top["slices"][0]["segments"][0]["flight"],
        out_flight.as_str(),
        "{top}"
    );
    let return_local = top["slices"][1]["departure"]["local"].as_str().unwrap();
    assert_eq!(&return_local[..10], back.to_string(), "{top}");

    let metrics = app.metrics().await;
    assert!(
        metrics.contains("search_far_blocks_built_total"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_continues_only_the_list_it_came_from() {
    let app = search_and_ingest().await;
    let (path, _) = busy_route(&app, 3).await;
    let first = get(&app, &format!("{path}&limit=1")).await.body;
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let page2 = format!("{path}&limit=1&cursor={cursor}");
    assert_eq!(get(&app, &page2).await.status, 200);

    // A change elsewhere makes a new version but leaves this list alone: the cursor goes on.
    let (other_path, other) = {
        let date = (TODAY.parse::<NaiveDate>().unwrap() + chrono::Days::new(5)).to_string();
        let p = path.replace(
            &path[path.find("depart=").unwrap()..][..17],
            &format!("depart={date}"),
        );
        let a = get(&app, &p).await.body;
        (p, a)
    };
    let segment = &other["itineraries"][0]["slices"][0]["segments"][0];
    publish(&app, vec![fare_event("o1", segment, "1234.00", 9)]).await;
    until(&app, &other_path, "the other change is applied", |a| {
        a["inventory"]["version"].as_u64() >= Some(1)
    })
    .await;
    let r = get(&app, &page2).await;
    assert_eq!(r.status, 200, "same list, later version: {}", r.body);
    assert!(r.body["inventory"]["version"].as_u64() >= Some(1));

    // A change to this list: its cursor is refused, clearly.
    let segment = &first["itineraries"][0]["slices"][0]["segments"][0];
    publish(&app, vec![fare_event("s1", segment, "4321.00", 9)]).await;
    until(&app, &path, "the change is applied", |a| {
        a["inventory"]["version"].as_u64() >= Some(2)
    })
    .await;
    let r = get(&app, &page2).await;
    assert_eq!(r.problem(), (409, "stale_cursor"), "{}", r.body);
    assert_eq!(r.field(), "cursor");
    // Starting again gives a cursor that works.
    let again = get(&app, &format!("{path}&limit=1")).await.body;
    let cursor = again["next_cursor"].as_str().unwrap();
    let r = get(&app, &format!("{path}&limit=1&cursor={cursor}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The scaled profile: ingestion in one process (PostgreSQL, Kafka), search in another (Kafka
/// only, no database); a provider's change reaches the search process through the broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_kafka_a_search_process_follows_an_ingest_process() {
    let broker = spontra_events::testing::Broker::start();
    let brokers = broker.address.clone();
    let Some(_ingest) = spawn_app_with(Backend::Postgres, |s| {
        s.server.services = vec![ServiceName::Ingest];
        s.events.kafka_brokers = Some(brokers.clone());
    })
    .await
    else {
        return;
    };
    let search = spawn_app_with(Backend::Sqlite, |s| {
        s.server.services = vec![ServiceName::Search];
        s.events.kafka_brokers = Some(brokers.clone());
    })
    .await
    .unwrap();
    let (path, before) = busy_route(&search, 1).await;
    let segment = &before["itineraries"][0]["slices"][0]["segments"][0];
    let flight = segment["flight"].as_str().unwrap().to_string();
    let kafka = spontra_events::kafka::Kafka::connect(&broker.address).unwrap();
    publish_on(&kafka, vec![fare_event("k1", segment, "777.00", 5)]).await;
    let after = until(&search, &path, "the change crosses the broker", |a| {
        flight_price(a, &flight) == Some(77_700)
    })
    .await;
    assert!(after["inventory"]["version"].as_u64() >= Some(1));
    let ready = readyz(&search).await;
    assert_eq!(ready["services"], json!(["search"]));
    assert!(ready["inventory_version"].as_u64() >= Some(1), "{ready}");
}

/// At the market's midnight the bookable window rolls on without a restart: the day that
/// ended can no longer be searched, a new last day can, and what the market said of the days
/// both windows hold stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_midnight_the_window_rolls_on_without_a_restart() {
    let today: NaiveDate = TODAY.parse().unwrap();
    let clock = Arc::new(FixedClock::new(
        today.and_hms_opt(23, 59, 0).unwrap().and_utc(),
    ));
    let app = Instance::start_on_clock(Backend::Sqlite, clock.clone(), |s| {
        s.server.services = vec![ServiceName::Search, ServiceName::Ingest];
    })
    .await
    .unwrap();
    let ready = readyz(&app).await;
    assert_eq!(ready["bookable_from"], TODAY, "{ready}");
    let last: NaiveDate = ready["bookable_to"].as_str().unwrap().parse().unwrap();
    let live_until: NaiveDate = ready["live_until"].as_str().unwrap().parse().unwrap();
    let (path, before) = busy_route(&app, 1).await;
    let on = |day: NaiveDate| {
        let at = path.find("depart=").unwrap() + "depart=".len();
        format!("{}{day}{}", &path[..at], &path[at + 10..])
    };
    // The market's word on a flight of a day both windows hold.
    let segment = &before["itineraries"][0]["slices"][0]["segments"][0];
    let flight = segment["flight"].as_str().unwrap().to_string();
    publish(&app, vec![fare_event("r1", segment, "432.00", 4)]).await;
    until(&app, &path, "the change is applied", |a| {
        flight_price(a, &flight) == Some(43_200)
    })
    .await;
    let version = readyz(&app).await["inventory_version"].as_u64().unwrap();
    let beyond = last + chrono::Days::new(1);
    let r = get(&app, &on(beyond)).await;
    assert_eq!(r.problem(), (422, "date_not_served"), "{}", r.body);

    // Two minutes later it is tomorrow.
    clock.set(
        today
            .succ_opt()
            .unwrap()
            .and_hms_opt(0, 1, 0)
            .unwrap()
            .and_utc(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        let ready = readyz(&app).await;
        if ready["bookable_from"] != TODAY {
            break ready;
        }
        assert!(Instant::now() < deadline, "the window rolls on: {ready}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        ready["bookable_from"],
        today.succ_opt().unwrap().to_string()
    );
    assert_eq!(ready["bookable_to"], beyond.to_string(), "{ready}");
    // The live window rolled too: it holds the next day's departures.
    assert_eq!(
        ready["live_until"],
        (live_until + chrono::Days::new(1)).to_string(),
        "{ready}"
    );
    assert!(ready["inventory_version"].as_u64().unwrap() > version);

    let r = get(&app, &on(today)).await;
    assert_eq!(r.problem(), (422, "date_in_past"), "{}", r.body);
    let explore = get(
        &app,
        &format!("/explore?origin=LHR&from={beyond}&max_stops=0"),
    )
    .await;
    assert_eq!(explore.status, 200, "{}", explore.body);
    assert!(
        !explore.body["destinations"].as_array().unwrap().is_empty(),
        "the new day is sold: {}",
        explore.body
    );
    let after = get(&app, &path).await.body;
    assert_eq!(flight_price(&after, &flight), Some(43_200), "{after}");
    assert!(app
        .metrics()
        .await
        .contains("inventory_window_rolls_total 1"));
}

/// What a provider says of a change to `segment`'s flight (a segment of a search answer):
/// `kind` with the new departure `shift` minutes from the old (a new flight number for an
/// added one).
fn schedule_event(id: &str, segment: &Value, kind: ScheduleKind, shift: i64) -> CloudEvent {
    let flight = segment["flight"].as_str().unwrap();
    let at = |m: &Value| -> DateTime<Utc> { m["utc"].as_str().unwrap().parse().unwrap() };
    let (departure, arrival) = (at(&segment["departure"]), at(&segment["arrival"]));
    let local: chrono::DateTime<chrono::FixedOffset> = segment["departure"]["local"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let shift = chrono::Duration::minutes(shift);
    let added = kind == ScheduleKind::Added;
    let change = ScheduleObservation {
        source: "/providers/farefinder".into(),
        event_id: id.into(),
        carrier: flight[..2].into(),
        flight_number: if added {
            9_876
        } else {
            flight[2..].parse().unwrap()
        },
        departure_date: local.date_naive(),
        origin: segment["origin"].as_str().unwrap().into(),
        destination: segment["destination"].as_str().unwrap().into(),
        kind,
        departure_at: departure + shift,
        arrival_at: arrival + shift,
        previous_departure_at: (kind == ScheduleKind::Retimed).then_some(departure),
        fare_minor: added.then_some(1_111),
        currency: added.then(|| "EUR".into()),
        seats_left: added.then_some(9),
        observed_at: market_now(),
    };
    let type_ = if id.len().is_multiple_of(2) {
        DUFFEL_SCHEDULE_V1
    } else {
        AMADEUS_SCHEDULE_V1
    };
    schedule_event_for(type_, &change)
}

/// Flights a provider cancels, retimes or adds go through ingestion into searches as one
/// new version within seconds: the cancelled one is no longer offered, the retimed one leaves
/// at its new time with its fare, the added one is offered at its opening fare.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_retimed_and_added_flights_reach_search() {
    let app = search_and_ingest().await;
    let (path, before) = busy_route(&app, 3).await;
    let segment = |i: usize| before["itineraries"][i]["slices"][0]["segments"][0].clone();
    let flight = |s: &Value| s["flight"].as_str().unwrap().to_string();
    let (gone, moved, beside) = (segment(0), segment(1), segment(2));
    let moved_price = before["itineraries"][1]["price"]["minor"].as_i64().unwrap();
    let started = Instant::now();
    publish(
        &app,
        vec![
            schedule_event("x1", &gone, ScheduleKind::Cancelled, 0),
            schedule_event("x22", &moved, ScheduleKind::Retimed, 35),
            schedule_event("x333", &beside, ScheduleKind::Added, 95),
        ],
    )
    .await;
    let added = format!("{}9876", &flight(&beside)[..2]);
    let after = until(&app, &path, "the schedule changes are searched", |a| {
        flight_price(a, &added).is_some() && flight_price(a, &flight(&gone)).is_none()
    })
    .await;
    let visible = started.elapsed();
    assert!(after["inventory"]["version"].as_u64() >= Some(1));
    assert_eq!(flight_price(&after, &added), Some(1_111));
    assert_eq!(flight_price(&after, &flight(&moved)), Some(moved_price));
    let retimed = after["itineraries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["slices"][0]["segments"][0])
        .find(|s| s["flight"] == flight(&moved).as_str())
        .unwrap();
    let old: DateTime<Utc> = moved["departure"]["utc"].as_str().unwrap().parse().unwrap();
    let new: DateTime<Utc> = retimed["departure"]["utc"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(new - old, chrono::Duration::minutes(35));
    eprintln!("schedule changes searchable {visible:?} after publishing");
    let metrics = app.metrics().await;
    for series in [
        "search_updates_total{outcome=\"cancelled\"} 1",
        "search_updates_total{outcome=\"retimed\"} 1",
        "search_updates_total{outcome=\"added\"} 1",
        "ingest_schedule_changes_total{kind=\"cancelled\"} 1",
    ] {
        assert!(metrics.contains(series), "{series}");
    }
}

/// A `spontra serve` process of its own (killed with SIGKILL when dropped).
struct Process(std::process::Child, String);

impl Process {
    /// Start `spontra serve --services search,ingest` on the embedded log in `dir`, writing
    /// snapshots every second; returns once it listens (its base URL).
    fn start(dir: &std::path::Path) -> Process {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spontra"))
            .args([
                "serve",
                "--services",
                "search,ingest",
                "--bind",
                "127.0.0.1:0",
            ])
            .env(
                "SPONTRA__DATABASE__URL",
                format!("sqlite://{}/spontra.db", dir.display()),
            )
            .env("SPONTRA__DATA__DIR", dir)
            .env("SPONTRA__WORLD__TODAY", TODAY)
            .env("SPONTRA__WORLD__SCALE", "tiny")
            .env("SPONTRA__SEARCH__SNAPSHOT_SECONDS", "1")
            .env("SPONTRA__LOG__FILTER", "error")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        // Its simulated providers' addresses come first, then its own.
        let base = std::io::BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| l.split("listening on ").nth(1).map(str::to_string))
            .expect("serve prints its address");
        assert!(base.starts_with("http://"), "{base}");
        Process(child, base)
    }

    async fn get(&self, path: &str) -> Value {
        reqwest::get(format!("{}{path}", self.1))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A search process killed with SIGKILL is back from its snapshot, not from the start of the
/// stream: at once with the prices it had, and then with what changed while it was down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_search_process_is_back_from_its_snapshot() {
    let dir = std::env::temp_dir().join(format!("spontra-snap-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/spontra.db", dir.display());
    let first = Process::start(&dir);
    let date = (TODAY.parse::<NaiveDate>().unwrap() + chrono::Days::new(3)).to_string();
    let explore = first
        .get(&format!(
            "/api/v1/explore?origin=LHR&from={date}&max_stops=0"
        ))
        .await;
    // A route with two direct flights at least.
    let mut route = None;
    for d in explore["destinations"].as_array().unwrap() {
        let code = d["airport"]["code"].as_str().unwrap();
        let path = format!(
            "/api/v1/search?origin=LHR&destination={code}&depart={date}&max_stops=0&sort=cheapest"
        );
        let answer = first.get(&path).await;
        if answer["itineraries"]
            .as_array()
            .is_some_and(|l| l.len() >= 2)
        {
            route = Some((path, answer));
            break;
        }
    }
    let (path, before) = route.expect("a route with two direct flights");
    let segment = |i: usize| before["itineraries"][i]["slices"][0]["segments"][0].clone();
    let flight = |s: &Value| s["flight"].as_str().unwrap().to_string();
    let log = EmbeddedLog::open(&beside(&url)).await.unwrap();
    publish_on(&log, vec![fare_event("s1", &segment(0), "321.00", 5)]).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let version = loop {
        let a = first.get(&path).await;
        if flight_price(&a, &flight(&segment(0))) == Some(32_100) {
            break a["inventory"]["version"].as_u64().unwrap();
        }
        assert!(Instant::now() < deadline, "the change is applied: {a}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // A snapshot holds it (written every second), then the process dies.
    let snapshot = dir.join("search-snapshot.bin");
    let since = std::time::SystemTime::now();
    while !snapshot
        .metadata()
        .and_then(|m| m.modified())
        .is_ok_and(|t| t > since)
    {
        assert!(Instant::now() < deadline, "no snapshot written");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(first); // SIGKILL
    let other = segment(1);
    publish_on(&log, vec![fare_event("s2", &other, "234.00", 5)]).await;

    let started = Instant::now();
    let second = Process::start(&dir);
    let back = second.get(&path).await;
    let ready_in = started.elapsed();
    assert_eq!(
        flight_price(&back, &flight(&segment(0))),
        Some(32_100),
        "what it had, at once: {back}"
    );
    assert!(back["inventory"]["version"].as_u64().unwrap() >= version);
    let metrics = reqwest::get(format!("{}/metrics", second.1))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("search_snapshot_restored_legs 1"),
        "restored from the snapshot: {metrics}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let a = second.get(&path).await;
        if flight_price(&a, &flight(&other)) == Some(23_400) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "what changed while it was down: {a}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("search back from its snapshot in {ready_in:?} (tiny world)");
    drop(second);
    std::fs::remove_dir_all(&dir).ok();
}
