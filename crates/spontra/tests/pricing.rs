#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The pricing service in a running instance, on both profiles: provider fare reports go
//! through ingestion (`provider.raw` → `price.observed`) into pricing's roll-ups, and the API
//! answers the price graph, the Amadeus-shaped metrics with the low / typical / high label,
//! buy-or-wait advice from the features the history gives, and the cheapest dates — computed by hand here from the prices sent. The same reports sent
//! again change nothing; a record pricing cannot read is dead-lettered and the consumer goes
//! on; bad queries are refused with their codes; a burst of queries is answered whole.
//! SQLite with the embedded log; PostgreSQL with a Kafka-protocol broker (tansu).

mod support;

use chrono::{Duration as Span, NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};
use spontra::config::ServiceName;
use spontra_events::cloudevents::CloudEvent;
use spontra_events::Message;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::stream::Streamed;
use support::{Backend, Instance};

/// Departure dates 2026-12-15 … 21 (`di` 0–6), each reported on five sale days (`k` 0–4:
/// November 10, 15, 20, 25 and 30) by three flights: prices fall by €100 a step, BA is the
/// cheapest, AA €50 and VS €100 above it, and each later date €10 dearer. So the lowest
/// price of date `di` on step `k` is €300 + (4 − k)·€100 + di·€10.
const FLIGHTS: [(&str, u16, i64); 3] = [("BA", 117, 0), ("AA", 100, 5_000), ("VS", 3, 10_000)];

fn departure(di: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 15).unwrap() + Span::days(di)
}

fn sale_day(k: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 10).unwrap() + Span::days(5 * k)
}

fn lowest(di: i64, k: i64) -> i64 {
    30_000 + (4 - k) * 10_000 + di * 1_000
}

fn report(di: i64, k: i64, flight: usize) -> Message {
    let (carrier, number, extra) = FLIGHTS[flight];
    let seen = Utc.from_utc_datetime(&sale_day(k).and_hms_opt(9, flight as u32, 0).unwrap());
    fare_report(
        format!("{carrier}{number}-{di}-{k}"),
        (carrier, number),
        departure(di),
        seen,
        lowest(di, k) + extra,
    )
}

/// What SkyHub (Duffel's vocabulary) reports of `flight` leaving LHR for JFK at noon on
/// `date`, seen at `seen` at `cents` euro cents with 9 seats.
fn fare_report(
    id: String,
    (carrier, number): (&str, u16),
    date: NaiveDate,
    seen: chrono::DateTime<Utc>,
    cents: i64,
) -> Message {
    let leaves = Utc.from_utc_datetime(&date.and_hms_opt(12, 0, 0).unwrap());
    CloudEvent {
        id,
        source: "/providers/skyhub".into(),
        type_: spontra_ingest::feed::DUFFEL_FARE_V1.into(),
        time: Some(seen),
        subject: Some(format!("{carrier}{number}")),
        datacontenttype: Some("application/json".into()),
        data: serde_json::to_vec(&json!({
            "owner": {"iata_code": carrier},
            "marketing_carrier_flight_number": number.to_string(),
            "origin": {"iata_code": "LHR"},
            "destination": {"iata_code": "JFK"},
            "departure_date": date.to_string(),
            "departing_at": leaves.to_rfc3339(),
            "cabin_class": "economy",
            "total_amount": euros(cents),
            "total_currency": "EUR",
            "available_seats": 9
        }))
        .unwrap(),
    }
    .to_message("LHR-JFK")
}

fn reports() -> Vec<Message> {
    let mut out = vec![];
    for k in 0..5 {
        for di in 0..7 {
            for f in 0..FLIGHTS.len() {
                out.push(report(di, k, f));
            }
        }
    }
    out
}

async fn start(backend: Backend) -> Option<Streamed> {
    Streamed::start(
        backend,
        vec![ServiceName::Ingest, ServiceName::Pricing],
        |_| {},
    )
    .await
}

async fn get(app: &Instance, path: &str) -> (u16, Value) {
    let r = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(app: &Instance, path: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `a` (an advice answered 17 days before departure) is the shipped model's for `features`.
fn assert_advice_is_the_models(a: &Value, features: &spontra_pricing::advice::Features) {
    let expected = spontra_pricing::advice::shipped()
        .advise_features(features, 17)
        .expect("the shipped model advises");
    assert_eq!(
        a["advice"],
        if expected.wait { "wait" } else { "buy" },
        "{a}"
    );
    assert_eq!(a["basis"]["samples"], expected.samples);
    assert_eq!(a["price_now"]["amount"], euros(lowest(3, 4)));
    let change = a["expected_change_percent"].as_f64().unwrap();
    assert!(
        (change - expected.expected_change * 100.0).abs() < 0.051,
        "{a}"
    );
    let confidence = a["confidence"].as_f64().unwrap();
    assert!((confidence - expected.confidence).abs() < 0.0051, "{a}");
    assert!(a["forecast_7d"]["direction"].is_string(), "{a}");
}

async fn prices_flow_from_reports_to_the_api(backend: Backend) {
    let Some(setup) = start(backend).await else {
        return;
    };
    let (app, bus) = (&setup.app, setup.bus.clone());
    setup.publish("provider.raw", reports()).await;
    setup.caught_up(0).await;

    // The graph of December 18th (di 3): from its first sale day to today (December 1st),
    // the days without reports holding the day before's price.
    let q = "origin=LHR&destination=JFK&departure_date=2026-12-18";
    let (status, h) = get(app, &format!("/api/v1/prices/history?{q}")).await;
    assert_eq!(status, 200, "{h}");
    let days = h["days"].as_array().unwrap();
    assert_eq!(days.len(), 22, "November 10th to December 1st: {h}");
    for (n, day) in days.iter().enumerate() {
        let date = sale_day(0) + Span::days(n as i64);
        let k = (n as i64 / 5).min(4);
        assert_eq!(day["date"], date.to_string());
        assert_eq!(day["days_before"], (departure(3) - date).num_days());
        assert_eq!(day["price"]["amount"], euros(lowest(3, k)), "{day}");
        assert_eq!(day["observed"], n % 5 == 0 && n <= 20, "{day}");
    }
    assert_eq!(h["current"]["amount"], euros(lowest(3, 4)));
    assert_eq!(h["current"]["currency"], "EUR");
    // Its price now is the lowest of the whole sample: low, against 415.00–645.00 (the
    // quartiles of the 35 daily lows of December 15–21).
    assert_eq!(h["insight"]["label"], "low");
    assert_eq!(h["insight"]["typical_low"]["amount"], "415.00");
    assert_eq!(h["insight"]["typical_high"]["amount"], "645.00");
    assert_eq!(h["insight"]["sample_size"], 35);

    // Buy or wait for December 18th, 17 days out: €330 against a median of €530 over the
    // previous 28 days (well below), €530 a week ago (falling), three flights on sale, 9 seats
    // on the cheapest, a Friday, no later departures of its flight on sale — the advice is
    // the shipped model's for those features.
    let (status, a) = get(app, &format!("/api/v1/prices/advice?{q}")).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(
        a["basis"],
        json!({"days_before": 17, "level": "well_below", "trend": "falling", "seats_left": 9,
               "flights": 3, "against_later_departures": null, "samples": a["basis"]["samples"]})
    );
    let features = spontra_pricing::advice::Features {
        days: 3,
        peer: 9,
        level: 0,
        trend: 0,
        seats: 2,
        flights: 1,
        weekday: 4,
    };
    assert_advice_is_the_models(&a, &features);

    // Metrics as Amadeus writes them, and labels either side of the typical range.
    for (price, label) in [
        ("414.99", "low"),
        ("415", "typical"),
        ("645.00", "typical"),
        ("645.01", "high"),
    ] {
        let (status, m) = get(app, &format!("/api/v1/prices/metrics?{q}&price={price}")).await;
        assert_eq!(status, 200, "{m}");
        assert_eq!(m["data"][0]["price"]["label"], label, "{price}: {m}");
    }
    let (_, m) = get(app, &format!("/api/v1/prices/metrics?{q}")).await;
    let metric = &m["data"][0];
    assert_eq!(metric["type"], "itinerary-price-metric");
    assert_eq!(metric["origin"]["iataCode"], "LHR");
    assert_eq!(metric["departureDate"], "2026-12-18");
    assert_eq!(metric["currencyCode"], "EUR");
    let ranked: Vec<(String, String)> = metric["priceMetrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["quartileRanking"].as_str().unwrap().into(),
                p["amount"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("MINIMUM", "300.00"),
        ("FIRST", "415.00"),
        ("MEDIUM", "530.00"),
        ("THIRD", "645.00"),
        ("MAXIMUM", "760.00"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(ranked, expected);
    assert!(metric.get("price").is_none());

    // Many prices at once (a calendar's days, explore's destinations): each labelled as the
    // metrics label it alone, in the order asked; a route or cabin without history gets none.
    let batch = json!({"prices": [
        {"origin": "LHR", "destination": "JFK", "departure_date": "2026-12-18", "price": "414.99"},
        {"origin": "lhr", "destination": "JFK", "departure_date": "2026-12-18", "price": "645.01"},
        {"origin": "LHR", "destination": "JFK", "departure_date": "2026-12-15", "price": "420"},
        {"origin": "LHR", "destination": "JFK", "departure_date": "2026-12-21", "price": "700.00"},
        {"origin": "LHR", "destination": "JFK", "departure_date": "2027-02-01", "price": "300.00"},
        {"origin": "JFK", "destination": "LHR", "departure_date": "2026-12-18", "price": "300.00"}
    ]});
    let (status, l) = post(app, "/api/v1/prices/labels", &batch).await;
    assert_eq!(status, 200, "{l}");
    assert_eq!(l["currency"], "EUR");
    let labels = l["labels"].as_array().unwrap();
    assert_eq!(labels.len(), 6, "{l}");
    assert_eq!(labels[0]["insight"]["label"], "low", "{l}");
    assert_eq!(labels[0]["insight"]["typical_low"]["amount"], "415.00");
    assert_eq!(labels[0]["insight"]["typical_high"]["amount"], "645.00");
    assert_eq!(labels[0]["insight"]["sample_size"], 35);
    assert_eq!(labels[1]["origin"], "LHR");
    assert_eq!(labels[1]["insight"]["label"], "high", "{l}");
    for (i, asked) in batch["prices"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .take(4)
    {
        let (date, price) = (
            asked["departure_date"].as_str().unwrap(),
            asked["price"].as_str().unwrap(),
        );
        let (_, m) = get(
            app,
            &format!("/api/v1/prices/metrics?origin=LHR&destination=JFK&departure_date={date}&price={price}"),
        )
        .await;
        let m = &m["data"][0];
        assert_eq!(labels[i]["departure_date"], date);
        assert_eq!(
            labels[i]["price"], m["price"]["amount"],
            "the price asked, in the currency's digits"
        );
        assert_eq!(
            labels[i]["insight"]["label"], m["price"]["label"],
            "{i}: {l} {m}"
        );
        assert_eq!(
            labels[i]["insight"]["typical_low"]["amount"],
            m["priceMetrics"][1]["amount"]
        );
        assert_eq!(
            labels[i]["insight"]["typical_high"]["amount"],
            m["priceMetrics"][3]["amount"]
        );
        assert_eq!(labels[i]["insight"]["sample_size"], m["sampleSize"], "{m}");
    }
    assert_eq!(
        labels[4]["insight"],
        Value::Null,
        "no departures near February 1st: {l}"
    );
    assert_eq!(
        labels[5]["insight"],
        Value::Null,
        "no history the other way: {l}"
    );
    let (_, gbp) = post(
        app,
        "/api/v1/prices/labels",
        &json!({"currency": "GBP", "cabin": "business", "prices": [batch["prices"][0]]}),
    )
    .await;
    assert_eq!(gbp["currency"], "GBP");
    assert_eq!(
        gbp["labels"][0]["insight"],
        Value::Null,
        "nothing in business: {gbp}"
    );
    let one = |origin: &str, date: &str, price: &str| json!({"origin": origin, "destination": "JFK", "departure_date": date, "price": price});
    let many: Vec<Value> = (0..201).map(|_| one("LHR", "2026-12-18", "1")).collect();
    for (body, status, code, field) in [
        (json!({"prices": []}), 422, "invalid_range", "prices"),
        (json!({"prices": many}), 422, "invalid_range", "prices"),
        (
            json!({"prices": [one("LHR", "2026-12-18", "1"), one("ZZZ", "2026-12-18", "1")]}),
            422,
            "unknown_airport",
            "prices[1].origin",
        ),
        (
            json!({"prices": [one("LHR", "2026-13-01", "1")]}),
            400,
            "invalid_date",
            "prices[0].departure_date",
        ),
        (
            json!({"prices": [one("LHR", "2026-12-18", "-1")]}),
            400,
            "invalid_field",
            "prices[0].price",
        ),
        (
            json!({"prices": [one("JFK", "2026-12-18", "1")]}),
            422,
            "same_origin_destination",
            "prices[0].destination",
        ),
        (
            json!({"currency": "XYZ", "prices": [one("LHR", "2026-12-18", "1")]}),
            422,
            "unknown_currency",
            "currency",
        ),
        (
            json!({"cabin": "deluxe", "prices": [one("LHR", "2026-12-18", "1")]}),
            400,
            "unknown_cabin",
            "cabin",
        ),
        (
            json!({"prices": [{"origin": 5, "destination": "JFK", "departure_date": "2026-12-18", "price": "1"}]}),
            400,
            "malformed_json",
            "prices[0].origin",
        ),
    ] {
        let (got, answer) = post(app, "/api/v1/prices/labels", &body).await;
        assert_eq!(
            (got, answer["code"].as_str().unwrap_or("")),
            (status, code),
            "{answer}"
        );
        assert_eq!(
            answer["errors"][0]["field"].as_str().unwrap_or(""),
            field,
            "{answer}"
        );
    }

    // In pounds: the same figures converted.
    let (_, gbp) = get(app, &format!("/api/v1/prices/history?{q}&currency=GBP")).await;
    assert_eq!(gbp["currency"], "GBP");
    assert_eq!(gbp["current"]["currency"], "GBP");
    assert_ne!(gbp["current"]["amount"], h["current"]["amount"]);

    // The cheapest dates: the 15th, in December.
    let (status, c) = get(
        app,
        "/api/v1/prices/cheapest-dates?origin=LHR&destination=JFK",
    )
    .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["cheapest_day"]["departure_date"], "2026-12-15");
    assert_eq!(c["cheapest_day"]["price"]["amount"], euros(lowest(0, 4)));
    assert_eq!(c["days"].as_array().unwrap().len(), 7);
    assert_eq!(c["cheapest_month"]["month"], "2026-12");
    assert_eq!(c["cheapest_month"]["median"]["amount"], euros(lowest(3, 4)));
    assert_eq!(c["cheapest_month"]["departures"], 7);

    // Everything again (ingestion publishes the observations again for what it had
    // applied): nothing changes. And a record pricing cannot read goes to its dead letters.
    setup.publish("provider.raw", reports()).await;
    setup
        .publish(
            "price.observed",
            vec![Message::new("LHR-JFK", b"{not json".to_vec())
                .header("ce_specversion", "1.0")
                .header("ce_id", "broken-1")
                .header("ce_source", "/test")
                .header("ce_type", "dev.spontra.price.observed.v1")],
        )
        .await;
    setup.caught_up(0).await;
    let (_, again) = get(app, &format!("/api/v1/prices/history?{q}")).await;
    assert_eq!(again, h);
    let mut dead = bus.subscribe("price.dead_letter", "test").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got = vec![];
    while got.is_empty() && Instant::now() < deadline {
        got = dead.poll(10, Duration::from_millis(500)).await.unwrap();
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("dlq_code"), Some(&b"invalid_data"[..]));

    // BA 117 on sale a week and two weeks later (December 25th at €600, January 1st at
    // €700), and AA 100 cheaper than it on December 25th (€400): the cheapest flight of
    // December 18th (BA 117 at €330) is 0.51 of its own median later (the route's lowest
    // prices would make it 0.6), and the advice is the model's for that.
    let later = |date: &str, carrier: &str, number: u16, cents: i64| {
        let seen = Utc.from_utc_datetime(&sale_day(4).and_hms_opt(10, 0, 0).unwrap());
        fare_report(
            format!("{carrier}{number}-{date}"),
            (carrier, number),
            date.parse().unwrap(),
            seen,
            cents,
        )
    };
    setup
        .publish(
            "provider.raw",
            vec![
                later("2026-12-25", "BA", 117, 60_000),
                later("2026-12-25", "AA", 100, 40_000),
                later("2027-01-01", "BA", 117, 70_000),
            ],
        )
        .await;
    setup.caught_up(0).await;
    let (status, a) = get(app, &format!("/api/v1/prices/advice?{q}")).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["basis"]["against_later_departures"], 0.51, "{a}");
    assert!(
        a["summary"].as_str().unwrap().ends_with(
            "The cheapest flight is 49 % below its price for the same flight in the weeks after."
        ),
        "{a}"
    );
    assert_advice_is_the_models(
        &a,
        &spontra_pricing::advice::Features {
            peer: 0,
            ..features
        },
    );

    // Bad queries: refused with their codes and fields, never a 500.
    for (path, status, code, field) in [
        (
            "history?origin=LHR&destination=JFK",
            400,
            "missing_field",
            "departure_date",
        ),
        (
            "history?origin=LH&destination=JFK&departure_date=2026-12-18",
            400,
            "invalid_field",
            "origin",
        ),
        (
            "history?origin=ZZZ&destination=JFK&departure_date=2026-12-18",
            422,
            "unknown_airport",
            "origin",
        ),
        (
            "history?origin=LHR&destination=LHR&departure_date=2026-12-18",
            422,
            "same_origin_destination",
            "destination",
        ),
        (
            "history?origin=LHR&destination=JFK&departure_date=2026-13-01",
            400,
            "invalid_date",
            "departure_date",
        ),
        (
            "history?origin=LHR&destination=JFK&departure_date=2031-01-01",
            422,
            "date_not_served",
            "departure_date",
        ),
        (
            "history?origin=LHR&destination=JFK&departure_date=2026-12-18&cabin=deluxe",
            400,
            "unknown_cabin",
            "cabin",
        ),
        (
            "history?origin=LHR&destination=JFK&departure_date=2026-12-18&currency=XYZ",
            422,
            "unknown_currency",
            "currency",
        ),
        (
            "history?origin=LHR&destination=JFK&departure_date=2026-12-18&price=1",
            400,
            "malformed_query",
            "price",
        ),
        (
            "metrics?origin=LHR&destination=JFK&departure_date=2026-12-18&price=-5",
            400,
            "invalid_field",
            "price",
        ),
        (
            "metrics?origin=LHR&destination=JFK&departure_date=2026-12-18&price=%00",
            400,
            "invalid_field",
            "price",
        ),
        (
            "cheapest-dates?origin=LHR&destination=JFK&departure_date=2026-12-18",
            400,
            "malformed_query",
            "departure_date",
        ),
        (
            "history?origin=LHR&destination=JFK&departure_date=2026-12-18&cabin=business",
            404,
            "no_price_history",
            "",
        ),
        (
            "cheapest-dates?origin=JFK&destination=LHR",
            404,
            "no_price_history",
            "",
        ),
        (
            "advice?origin=LHR&destination=JFK&departure_date=2026-11-20",
            422,
            "date_in_past",
            "departure_date",
        ),
        (
            "advice?origin=LHR&destination=JFK&departure_date=2026-12-18&cabin=business",
            404,
            "no_price_history",
            "",
        ),
    ] {
        let (got, body) = get(app, &format!("/api/v1/prices/{path}")).await;
        assert_eq!(
            (got, body["code"].as_str().unwrap_or("")),
            (status, code),
            "{path}: {body}"
        );
        assert_eq!(
            body["errors"][0]["field"].as_str().unwrap_or(""),
            field,
            "{path}: {body}"
        );
    }

    // A crowd at one instant: every answer whole.
    let barrier = Arc::new(tokio::sync::Barrier::new(64));
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let (base, barrier) = (app.base.clone(), barrier.clone());
            let path = match i % 4 {
                0 => format!("/api/v1/prices/history?{q}"),
                1 => format!("/api/v1/prices/metrics?{q}&price=500"),
                2 => "/api/v1/prices/labels".to_string(),
                _ => "/api/v1/prices/cheapest-dates?origin=LHR&destination=JFK".to_string(),
            };
            let body = batch.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let client = reqwest::Client::new();
                let url = format!("{base}{path}");
                let sent = if path.ends_with("labels") {
                    client.post(url).json(&body).send().await
                } else {
                    client.get(url).send().await
                };
                sent.unwrap().status().as_u16()
            })
        })
        .collect();
    for t in tasks {
        let status = t.await.unwrap();
        assert!(status == 200 || status == 503, "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_flow_from_reports_to_the_api_on_sqlite() {
    prices_flow_from_reports_to_the_api(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_flow_from_reports_to_the_api_on_postgres_and_kafka() {
    prices_flow_from_reports_to_the_api(Backend::Postgres).await;
}
