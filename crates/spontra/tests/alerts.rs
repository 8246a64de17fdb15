#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! Price alerts and their mail in a running instance, on both profiles (SQLite with the
//! embedded log; PostgreSQL with a Kafka-protocol broker): provider fare reports go through
//! ingestion into pricing, which evaluates the alerts each price touches; the notifications
//! service mails a real SMTP server, once per price level (a flapping price does not spam);
//! the mail's one-click unsubscribe (RFC 8058) pauses its alert. Every alert route refuses the
//! anonymous and hides one user's alerts from another; bad definitions get their codes and
//! fields; a burst of creations keeps the per-account cap exact. Webhooks get the same alerts
//! as signed POSTs to a receiver (and a test delivery on request); their routes are private,
//! refuse addresses the SSRF guard does not allow, and keep their cap under a burst. On
//! PostgreSQL, two
//! evaluators over separate connection pools (two pricing processes) race through the same
//! alerts and each notification is written once.

mod support;

use chrono::{Duration as Span, NaiveDate, TimeZone, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use spontra::config::ServiceName;
use spontra_events::cloudevents::CloudEvent;
use spontra_events::Message;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::stream::Streamed;
use support::{Backend, Instance, Tokens, PASSWORD};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A Duffel fare report of BA117 LHR→JFK leaving on `day` at `euros`, seen at minute `seen`
/// of December 1st.
fn report(day: &str, euros: i64, seen: i64) -> Message {
    let leaves = Utc.from_utc_datetime(&date(day).and_hms_opt(12, 0, 0).unwrap());
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap() + Span::minutes(seen);
    CloudEvent {
        id: format!("BA117-{day}-{seen}"),
        source: "/providers/skyhub".into(),
        type_: spontra_ingest::feed::DUFFEL_FARE_V1.into(),
        time: Some(at),
        subject: Some("BA117".into()),
        datacontenttype: Some("application/json".into()),
        data: serde_json::to_vec(&json!({
            "owner": {"iata_code": "BA"},
            "marketing_carrier_flight_number": "117",
            "origin": {"iata_code": "LHR"},
            "destination": {"iata_code": "JFK"},
            "departure_date": day,
            "departing_at": leaves.to_rfc3339(),
            "cabin_class": "economy",
            "total_amount": format!("{euros}.00"),
            "total_currency": "EUR",
            "available_seats": 9
        }))
        .unwrap(),
    }
    .to_message("LHR-JFK")
}

struct Setup {
    streamed: Streamed,
    /// Reports sent so far (each later than the one before).
    sent: std::sync::atomic::AtomicI64,
}

impl Setup {
    /// Report Dec 18th's fare and wait until pricing has recorded it.
    async fn fare(&self, euros: i64) {
        let seen = self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let messages = vec![report("2026-12-18", euros, seen)];
        self.streamed.publish("provider.raw", messages).await;
        self.streamed.caught_up(seen).await;
    }
}

async fn start(backend: Backend) -> Option<Setup> {
    let services = vec![
        ServiceName::Users,
        ServiceName::Ingest,
        ServiceName::Pricing,
        ServiceName::Notifications,
    ];
    let streamed = Streamed::start(backend, services, |s| {
        // Alerts are evaluated on each price here; the sweep runs once at start.
        s.pricing.alerts_sweep_seconds = 3_600;
        s.notifications.poll_millis = 100;
        // The receiver below listens on loopback.
        s.notifications.webhook_allow_loopback = true;
    })
    .await?;
    Some(Setup {
        streamed,
        sent: Default::default(),
    })
}

/// A registered, verified, signed-in account.
async fn verified(app: &Instance, email: &str, name: &str) -> Tokens {
    app.given_account(email, name, PASSWORD).await;
    let mail = app.smtp().wait_for(email, "Confirm your email", 1).await;
    let r = app
        .post("/auth/verify-email", json!({ "token": mail.token() }))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    app.sign_in(email, PASSWORD).await
}

/// Until every notification of the account is sent, and how many there are.
async fn delivered(app: &Instance, t: &Tokens) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = app.get("/notifications", &t.access).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let list = r.body["notifications"].as_array().unwrap().clone();
        if list.iter().all(|n| n["status"] == "sent") {
            return list;
        }
        assert!(Instant::now() < deadline, "not delivered: {list:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        l.split_once(':')
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    })
}

async fn alerts_tell_once_per_price_level(backend: Backend) {
    let Some(setup) = start(backend).await else {
        return;
    };
    let app = &setup.streamed.app;
    let ada = verified(app, "ada@example.com", "Ada").await;
    let bob = verified(app, "bob@example.com", "Bob").await;
    let create = |t: &Tokens, body: Value| {
        let token = t.access.clone();
        async move {
            app.call(Method::POST, "/alerts", Some(body), Some(&token))
                .await
        }
    };

    // Ada: Dec 18th under €400 (one way); anywhere 5–8 hours from LHR the week of the 18th,
    // 10 % new lows. Bob: Dec 18th under €100.
    let below = create(
        &ada,
        json!({"origin": "lhr", "destination": "JFK", "dates": {"type": "fixed", "departure": "2026-12-18"},
               "notify": {"when": "below", "amount": "400"}}),
    )
    .await;
    assert_eq!(below.status, 201, "{}", below.body);
    assert_eq!(below.body["origin"], "LHR", "normalised: {}", below.body);
    assert_eq!(
        (
            below.body["cabin"].as_str(),
            below.body["currency"].as_str()
        ),
        (Some("economy"), Some("EUR"))
    );
    assert_eq!(below.body["watching"]["departure_from"], "2026-12-18");
    assert_eq!(below.body["price_now"], Value::Null, "nothing on sale yet");
    let below_id = below.body["id"].as_str().unwrap().to_string();
    let anywhere = create(
        &ada,
        json!({"origin": "LHR", "dates": {"type": "range", "from": "2026-12-15", "to": "2026-12-21"},
               "flight_minutes": {"min": 300, "max": 480}, "notify": {"when": "new_low", "percent": 10}}),
    )
    .await;
    assert_eq!(anywhere.status, 201, "{}", anywhere.body);
    let anywhere_id = anywhere.body["id"].as_str().unwrap().to_string();
    let bobs = create(
        &bob,
        json!({"origin": "LHR", "destination": "JFK", "dates": {"type": "flexible", "departure": "2026-12-17", "days": 2},
               "notify": {"when": "below", "amount": "100.00"}}),
    )
    .await;
    assert_eq!(bobs.status, 201, "{}", bobs.body);
    assert_eq!(
        (
            bobs.body["watching"]["departure_from"].as_str(),
            bobs.body["watching"]["departure_to"].as_str()
        ),
        (Some("2026-12-15"), Some("2026-12-19"))
    );
    let bobs_id = bobs.body["id"].as_str().unwrap().to_string();

    // €450: above the limit; the anywhere alert learns its first price.
    setup.fare(450).await;
    // €390: under the limit (told), and 13 % under €450 (told).
    setup.fare(390).await;
    // Flapping: €410, €395 — the same level for both alerts: nothing.
    setup.fare(410).await;
    setup.fare(395).await;
    // €360: 7.7 % under €390 — a new level for "below" (≥ 5 % under the €390 told), not a
    // 10 % new low.
    setup.fare(360).await;
    let told = delivered(app, &ada).await;
    assert_eq!(told.len(), 3, "{told:?}");
    let subjects: Vec<&str> = told
        .iter()
        .map(|n| n["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        [
            "LHR → JFK 360.00 EUR",
            "LHR → JFK 390.00 EUR",
            "LHR → JFK 390.00 EUR"
        ],
        "newest first"
    );
    let mails = app.smtp().messages();
    let ada_mails: Vec<_> = mails.iter().filter(|m| m.to().contains("ada@")).collect();
    // Two verification mails aside: three alerts.
    assert_eq!(app.smtp().count("ada@example.com", "Price alert"), 3);
    assert_eq!(app.smtp().count("bob@example.com", "Price alert"), 0);
    let first = ada_mails
        .iter()
        .find(|m| m.subject() == "Price alert: LHR to JFK now 390.00 EUR")
        .expect("the first alert mail");
    // A readable mail in text and HTML, with the price, the change, the trip and the search.
    assert!(first.raw.contains("multipart/alternative"), "{}", first.raw);
    assert!(first.raw.contains("text/html"), "{}", first.raw);
    assert!(
        first
            .text
            .contains("LHR → JFK, economy, one way, Fri 18 Dec 2026"),
        "{}",
        first.text
    );
    assert!(
        first.text.contains("under your limit of 400.00 EUR")
            || first.text.contains("new low, down from 450.00 EUR"),
        "{}",
        first.text
    );
    assert!(
        first.text.contains(&format!(
            "{}/search?trip=oneway&origin=LHR&destination=JFK&depart=2026-12-18&cabin=economy",
            app.base
        )),
        "{}",
        first.text
    );
    // RFC 8058: the one-click unsubscribe headers.
    let unsubscribe = header(&first.raw, "List-Unsubscribe").expect("List-Unsubscribe");
    assert_eq!(
        header(&first.raw, "List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let url = unsubscribe
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string();
    assert!(
        url.starts_with(&format!(
            "{}/api/v1/notifications/unsubscribe?alert=",
            app.base
        )),
        "{url}"
    );
    assert!(
        header(&first.raw, "Message-ID").is_some_and(|id| id.contains("@notifications.spontra"))
    );

    // Ada's alerts show what they saw and told.
    let listed = app.get("/alerts", &ada.access).await;
    assert_eq!(listed.status, 200);
    let alerts = listed.body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2);
    let by_id = |id: &str| alerts.iter().find(|a| a["id"] == id).unwrap().clone();
    let b = by_id(&below_id);
    assert_eq!(b["price_now"]["amount"], "360.00", "{b}");
    assert_eq!(b["last_notification"]["status"], "sent", "{b}");
    assert_eq!(b["last_notification"]["price"], "360.00 EUR", "{b}");
    assert!(b["last_notified_at"].is_string());
    assert_eq!(by_id(&anywhere_id)["price_now"]["amount"], "360.00");

    // The link unsubscribes the alert it came from: opening it only shows a button; a
    // forged or altered link is refused; the one-click POST pauses it, and again is fine.
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    let which = url
        .split("alert=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    assert!(
        !app.get(&format!("/alerts/{which}"), &ada.access).await.body["paused"]
            .as_bool()
            .unwrap()
    );
    let one_click = |u: String| async move {
        app.http
            .post(u)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap()
    };
    let forged = one_click(url.replace(&which, &bobs_id)).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(
        forged.json::<Value>().await.unwrap()["code"],
        "invalid_link_token"
    );
    assert_eq!(one_click(format!("{url}x")).await.status(), 403);
    assert_eq!(one_click(url.clone()).await.status(), 200);
    assert_eq!(one_click(url.clone()).await.status(), 200);
    assert!(
        app.get(&format!("/alerts/{which}"), &ada.access).await.body["paused"]
            .as_bool()
            .unwrap()
    );
    assert!(!app
        .get(&format!("/alerts/{bobs_id}"), &bob.access)
        .await
        .body["paused"]
        .as_bool()
        .unwrap());

    // Whichever was stopped says nothing more; Ada pauses the other and resumes it.
    let other = if which == below_id {
        &anywhere_id
    } else {
        &below_id
    };
    let patch = |id: &str, paused: bool| {
        let (id, token) = (id.to_string(), ada.access.clone());
        async move {
            app.call(
                Method::PATCH,
                &format!("/alerts/{id}"),
                Some(json!({"paused": paused})),
                Some(&token),
            )
            .await
        }
    };
    assert_eq!(patch(other, true).await.status, 200);
    setup.fare(200).await;
    assert_eq!(patch(other, false).await.body["paused"], false);
    // Resuming evaluates at once: €200 is under €400 and a 44 % new low from €360 —
    // whichever alert is live tells once more.
    let told = delivered(app, &ada).await;
    assert_eq!(told.len(), 4, "{told:?}");
    assert_eq!(told[0]["subject"], "LHR → JFK 200.00 EUR");
    assert!(
        delivered(app, &bob).await.is_empty(),
        "Bob's €100 limit was never met"
    );

    alert_routes_are_private(app, &ada, &bob, &bobs_id).await;
    bad_definitions_are_refused(app, &ada).await;
    the_cap_holds_under_a_burst(app, &bob).await;
}

async fn alert_routes_are_private(app: &Instance, ada: &Tokens, bob: &Tokens, bobs_id: &str) {
    let body = json!({"origin": "LHR", "destination": "JFK", "dates": {"type": "fixed", "departure": "2026-12-20"},
                      "notify": {"when": "below", "amount": "99"}});
    let one = format!("/alerts/{bobs_id}");
    let routes = [
        (Method::GET, "/alerts".to_string(), None),
        (Method::POST, "/alerts".to_string(), Some(body.clone())),
        (Method::GET, one.clone(), None),
        (Method::PUT, one.clone(), Some(body.clone())),
        (Method::PATCH, one.clone(), Some(json!({"paused": true}))),
        (Method::DELETE, one.clone(), None),
        (Method::GET, "/notifications".to_string(), None),
    ];
    for (method, path, body) in &routes {
        let anonymous = app.call(method.clone(), path, body.clone(), None).await;
        assert_eq!(
            anonymous.problem(),
            (401, "unauthorized"),
            "{method} {path}"
        );
        let forged = app
            .call(method.clone(), path, body.clone(), Some("not-a-token"))
            .await;
        assert_eq!(forged.status, 401, "{method} {path}");
    }
    // Ada cannot read, change or delete Bob's alert: to her it does not exist.
    for (method, path, body) in routes.iter().filter(|(_, p, _)| p == &one) {
        let r = app
            .call(method.clone(), path, body.clone(), Some(&ada.access))
            .await;
        assert_eq!(r.problem(), (404, "not_found"), "{method} {path}");
    }
    for bad in [
        "/alerts/not-a-uuid",
        "/alerts/00000000-0000-0000-0000-000000000000",
    ] {
        assert_eq!(
            app.get(bad, &ada.access).await.problem(),
            (404, "not_found")
        );
    }
    let still = app.get(&one, &bob.access).await;
    assert_eq!(
        (still.status.as_u16(), &still.body["paused"]),
        (200, &json!(false))
    );
    // Bob edits his own: the new trip, watched afresh.
    let put = app
        .call(Method::PUT, &one, Some(body), Some(&bob.access))
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["watching"]["departure_from"], "2026-12-20");
    let deleted = app
        .call(Method::DELETE, &one, None, Some(&bob.access))
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        app.get(&one, &bob.access).await.problem(),
        (404, "not_found")
    );
}

async fn bad_definitions_are_refused(app: &Instance, t: &Tokens) {
    let base = json!({"origin": "LHR", "destination": "JFK", "dates": {"type": "fixed", "departure": "2026-12-18"},
                      "notify": {"when": "below", "amount": "400"}});
    let with = |patch: Value| {
        let mut b = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v.clone();
            }
        }
        b
    };
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            with(json!({"origin": "XXX"})),
            422,
            "unknown_airport",
            "origin",
        ),
        (
            with(json!({"origin": "L1"})),
            400,
            "invalid_field",
            "origin",
        ),
        (
            with(json!({"destination": "LHR"})),
            422,
            "same_origin_destination",
            "destination",
        ),
        (
            with(json!({"cabin": "deluxe"})),
            400,
            "unknown_cabin",
            "cabin",
        ),
        (
            with(json!({"currency": "XYZ"})),
            422,
            "unknown_currency",
            "currency",
        ),
        (
            with(json!({"dates": {"type": "fixed", "departure": "2026-02-30"}})),
            400,
            "invalid_date",
            "dates.departure",
        ),
        (
            with(json!({"dates": {"type": "fixed", "departure": "2026-11-01"}})),
            422,
            "date_in_past",
            "dates",
        ),
        (
            with(json!({"dates": {"type": "fixed", "departure": "2028-06-01"}})),
            422,
            "date_not_served",
            "dates",
        ),
        (
            with(
                json!({"dates": {"type": "fixed", "departure": "2026-12-18", "return": "2026-12-10"}}),
            ),
            422,
            "return_before_outbound",
            "dates.return",
        ),
        (
            with(json!({"dates": {"type": "flexible", "departure": "2026-12-18", "days": 9}})),
            422,
            "invalid_range",
            "dates.days",
        ),
        (
            with(json!({"dates": {"type": "range", "from": "2026-12-18", "to": "2027-03-18"}})),
            422,
            "invalid_range",
            "dates.to",
        ),
        (
            with(json!({"dates": {"type": "month", "month": "2027-13"}})),
            400,
            "invalid_date",
            "dates.month",
        ),
        (
            with(
                json!({"dates": {"type": "month", "month": "2027-01", "nights": {"min": 9, "max": 3}}}),
            ),
            422,
            "invalid_range",
            "dates.nights",
        ),
        (
            with(json!({"destination": null})),
            422,
            "invalid_alert",
            "flight_minutes",
        ),
        (
            with(json!({"flight_minutes": {"min": 60, "max": 120}})),
            422,
            "invalid_alert",
            "flight_minutes",
        ),
        (
            with(json!({"destination": null, "flight_minutes": {"min": 10, "max": 5000}})),
            422,
            "invalid_range",
            "flight_minutes",
        ),
        (
            with(json!({"notify": {"when": "below", "amount": "-5"}})),
            400,
            "invalid_field",
            "notify.amount",
        ),
        (
            with(json!({"notify": {"when": "below", "amount": "0.00"}})),
            422,
            "invalid_range",
            "notify.amount",
        ),
        (
            with(json!({"notify": {"when": "below", "amount": "1e9"}})),
            400,
            "invalid_field",
            "notify.amount",
        ),
        (
            with(json!({"notify": {"when": "new_low", "percent": 95}})),
            422,
            "invalid_range",
            "notify.percent",
        ),
        (
            with(json!({"notify": {"when": "new_low", "percent": 10, "amount": "5"}})),
            422,
            "invalid_alert",
            "notify",
        ),
        (
            with(json!({"notify": {"when": "new_low"}})),
            422,
            "invalid_alert",
            "notify",
        ),
    ];
    for (body, status, code, field) in cases {
        let r = app
            .call(Method::POST, "/alerts", Some(body.clone()), Some(&t.access))
            .await;
        assert_eq!(
            (r.problem(), r.field()),
            ((status, code), field),
            "{body}: {}",
            r.body
        );
    }
    // Not the shape at all: malformed JSON, unknown fields, unknown kinds.
    for raw in [
        "{",
        r#"{"origin": "LHR", "dates": {"type": "someday"}, "notify": {"when": "below", "amount": "1"}}"#,
        r#"{"origin": "LHR", "destination": "JFK", "dates": {"type": "fixed", "departure": "2026-12-18"}, "notify": {"when": "below", "amount": "1"}, "admin": true}"#,
        r#"{"origin": "LHR", "destination": "JFK", "dates": {"type": "fixed", "departure": "2026-12-18"}, "notify": {"when": "whenever"}}"#,
        r#"{"origin": "LHR", "destination": "JFK", "dates": {"type": "flexible", "departure": "2026-12-18", "days": -1}, "notify": {"when": "below", "amount": "1"}}"#,
    ] {
        let req = app
            .request(Method::POST, "/alerts")
            .bearer_auth(&t.access)
            .header("content-type", "application/json")
            .body(raw);
        let r = app.send(req, "/alerts").await;
        assert_eq!(r.status, 400, "{raw}: {}", r.body);
    }
    let patch = app
        .call(
            Method::PATCH,
            "/alerts/00000000-0000-0000-0000-000000000000",
            Some(json!({"paused": "yes"})),
            Some(&t.access),
        )
        .await;
    assert_eq!(patch.status, 400);
}

/// Bob has no alerts left; sixty creations at one instant: exactly the cap (50) are made.
async fn the_cap_holds_under_a_burst(app: &Instance, bob: &Tokens) {
    assert!(app.get("/alerts", &bob.access).await.body["alerts"]
        .as_array()
        .unwrap()
        .is_empty());
    let made = cap_holds(app, bob, "/alerts", 60, 50, "too_many_alerts", |i| {
        json!({"origin": "LHR", "destination": "JFK",
            "dates": {"type": "fixed", "departure": format!("2026-12-{:02}", 2 + i % 28)},
            "notify": {"when": "below", "amount": format!("{}", 100 + i)}})
    })
    .await;
    let listed = app.get("/alerts", &bob.access).await.body["alerts"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(listed, made);
}

/// `n` creations at `path` by `t` released at one instant: each made (201), refused with
/// `code` (409) or shed (503 with Retry-After), and at most `cap` made — all `cap` unless load
/// was shed. How many were made.
async fn cap_holds(
    app: &Instance,
    t: &Tokens,
    path: &str,
    n: usize,
    cap: usize,
    code: &str,
    body: impl Fn(usize) -> Value,
) -> usize {
    let replies = spontra_store::conformance::burst(n, |i| {
        let http = app.http.clone();
        let url = format!("{}/api/v1{path}", app.base);
        let token = t.access.clone();
        let body = body(i);
        async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let retry = r.headers().contains_key("retry-after");
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (
                status,
                retry,
                body["code"].as_str().unwrap_or("").to_string(),
            )
        }
    })
    .await;
    let made = replies.iter().filter(|r| r.0 == 201).count();
    let refused = replies.iter().filter(|r| r.0 == 409 && r.2 == code).count();
    let shed = replies.iter().filter(|r| r.0 == 503 && r.1).count();
    assert_eq!(made + refused + shed, n, "{replies:?}");
    assert!(made <= cap && (shed > 0 || made == cap), "{replies:?}");
    made
}

/// What the test's webhook receiver got: the headers of the scheme and the body.
#[derive(Clone, Debug)]
struct Posted {
    id: String,
    timestamp: i64,
    signature: String,
    body: Vec<u8>,
}

/// A webhook receiver on a loopback port; its URL and what it got.
async fn webhook_receiver() -> (String, Arc<std::sync::Mutex<Vec<Posted>>>) {
    use axum::http::HeaderMap;
    let got: Arc<std::sync::Mutex<Vec<Posted>>> = Default::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                sink.lock().unwrap().push(Posted {
                    id: h("webhook-id"),
                    timestamp: h("webhook-timestamp").parse().unwrap_or(0),
                    signature: h("webhook-signature"),
                    body: body.to_vec(),
                });
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

/// Until every delivery to the webhook is sent; the deliveries.
async fn hook_delivered(app: &Instance, t: &Tokens, hook: &str, at_least: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = app
            .get(&format!("/webhooks/{hook}/deliveries"), &t.access)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let list = r.body["deliveries"].as_array().unwrap().clone();
        if list.len() >= at_least && list.iter().all(|n| n["status"] == "sent") {
            return list;
        }
        assert!(Instant::now() < deadline, "not delivered: {list:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn webhooks_tell_what_mail_tells(backend: Backend) {
    let Some(setup) = start(backend).await else {
        return;
    };
    let app = &setup.streamed.app;
    let ada = verified(app, "ada@example.com", "Ada").await;
    let bob = verified(app, "bob@example.com", "Bob").await;
    let (url, got) = webhook_receiver().await;

    let made = app
        .call(
            Method::POST,
            "/webhooks",
            Some(json!({ "url": url })),
            Some(&ada.access),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let hook = made.body["id"].as_str().unwrap().to_string();
    let secret = made.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let listed = app.get("/webhooks", &ada.access).await;
    assert_eq!(listed.body["webhooks"][0]["url"], url.as_str());
    assert!(
        !listed.body.to_string().contains(&secret),
        "the secret is shown once"
    );

    // A test delivery: through the outbox, signed, listed as sent.
    let test = app
        .call(
            Method::POST,
            &format!("/webhooks/{hook}/test"),
            None,
            Some(&ada.access),
        )
        .await;
    assert_eq!(test.status, 202, "{}", test.body);
    let test_id = test.body["delivery_id"].as_str().unwrap().to_string();
    let deliveries = hook_delivered(app, &ada, &hook, 1).await;
    assert_eq!(deliveries[0]["id"], test_id.as_str());
    assert_eq!(deliveries[0]["subject"], "Test delivery");
    {
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1);
        let d = &got[0];
        assert_eq!(d.id, test_id);
        let now = Utc::now().timestamp();
        assert!(spontra_notifications::signing::verify(
            &secret,
            &d.id,
            d.timestamp,
            &d.body,
            &d.signature,
            now
        ));
        let body: Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(body["type"], "webhook.test");
        assert_eq!(body["data"]["webhook_id"], hook.as_str());
    }

    // An alert under €400: the webhook is told when the mail is, once per price level.
    let alert = app
        .call(
            Method::POST,
            "/alerts",
            Some(json!({"origin": "LHR", "destination": "JFK",
                "dates": {"type": "fixed", "departure": "2026-12-18"},
                "notify": {"when": "below", "amount": "400"}})),
            Some(&ada.access),
        )
        .await;
    assert_eq!(alert.status, 201, "{}", alert.body);
    for euros in [450, 390, 410, 395] {
        setup.fare(euros).await;
    }
    let deliveries = hook_delivered(app, &ada, &hook, 2).await;
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    assert_eq!(deliveries[0]["subject"], "LHR → JFK 390.00 EUR");
    assert_eq!(app.smtp().count("ada@example.com", "Price alert"), 1);
    {
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 2, "once: {got:?}");
        let d = &got[1];
        assert_eq!(d.id, deliveries[0]["id"].as_str().unwrap());
        assert!(spontra_notifications::signing::verify(
            &secret,
            &d.id,
            d.timestamp,
            &d.body,
            &d.signature,
            Utc::now().timestamp()
        ));
        let body: Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(body["type"], "price_alert.triggered");
        assert_eq!(body["data"]["price"], "390.00");
        assert_eq!(body["data"]["alert_id"], alert.body["id"]);
        assert_eq!(body["data"]["reason"], "below");
    }

    // "Everything stored about me" holds the alerts, webhooks and notifications too (issue
    // #25), as their own routes show them, and nothing of another account's.
    let export = app.get("/me/export", &ada.access).await;
    assert_eq!(export.status, 200, "{}", export.body);
    let body = &export.body;
    assert_eq!(body["alerts"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["alerts"][0]["id"], alert.body["id"]);
    assert_eq!(body["webhooks"][0]["id"], hook.as_str());
    assert!(
        !body.to_string().contains(&secret),
        "no webhook secret in the export"
    );
    let sent = body["notifications"].as_array().unwrap();
    assert!(
        sent.iter()
            .any(|n| n["subject"] == "LHR → JFK 390.00 EUR" && n["channel"] == "email"),
        "{sent:?}"
    );
    assert!(sent.iter().any(|n| n["id"] == test_id.as_str()), "{sent:?}");
    let bobs = app.get("/me/export", &bob.access).await;
    assert_eq!(bobs.body["alerts"], json!([]));
    assert_eq!(bobs.body["webhooks"], json!([]));
    assert_eq!(bobs.body["notifications"], json!([]));

    webhook_routes_are_private_and_guarded(app, &ada, &bob, &hook).await;

    // Deleted: gone from the list, its deliveries with it; the next firing goes by mail only.
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/webhooks/{hook}"),
            None,
            Some(&ada.access),
        )
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        app.get(&format!("/webhooks/{hook}/deliveries"), &ada.access)
            .await
            .problem(),
        (404, "not_found")
    );
    setup.fare(300).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.smtp().count("ada@example.com", "Price alert") < 2 {
        assert!(Instant::now() < deadline, "the second alert mail");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(got.lock().unwrap().len(), 2, "nothing to a deleted webhook");
}

async fn webhook_routes_are_private_and_guarded(
    app: &Instance,
    ada: &Tokens,
    bob: &Tokens,
    adas: &str,
) {
    let body = json!({"url": "https://hooks.example.com/spontra"});
    let routes = [
        (Method::GET, "/webhooks".to_string(), None),
        (Method::POST, "/webhooks".to_string(), Some(body.clone())),
        (Method::DELETE, format!("/webhooks/{adas}"), None),
        (Method::GET, format!("/webhooks/{adas}/deliveries"), None),
        (Method::POST, format!("/webhooks/{adas}/test"), None),
    ];
    for (method, path, body) in &routes {
        let anonymous = app.call(method.clone(), path, body.clone(), None).await;
        assert_eq!(
            anonymous.problem(),
            (401, "unauthorized"),
            "{method} {path}"
        );
    }
    // Bob cannot see, test or delete Ada's webhook.
    for (method, path, body) in routes.iter().filter(|(_, p, _)| p.contains(adas)) {
        let r = app
            .call(method.clone(), path, body.clone(), Some(&bob.access))
            .await;
        assert_eq!(r.problem(), (404, "not_found"), "{method} {path}");
    }
    assert_eq!(
        app.get("/webhooks", &bob.access).await.body["webhooks"],
        json!([])
    );
    assert_eq!(
        app.get("/webhooks/not-a-uuid/deliveries", &ada.access)
            .await
            .problem(),
        (404, "not_found")
    );
    // Addresses the guard refuses: the field and a reason, nothing stored.
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/",
        "https://10.0.0.8/hook",
        "https://192.168.1.1/hook",
        "https://[fd00::1]/hook",
        "http://hooks.example.com/plain-http",
        "ftp://hooks.example.com/",
        "https://user:pw@hooks.example.com/",
        "hooks.example.com",
        "",
    ] {
        let r = app
            .call(
                Method::POST,
                "/webhooks",
                Some(json!({ "url": url })),
                Some(&bob.access),
            )
            .await;
        assert_eq!(r.problem(), (422, "webhook_refused"), "{url}: {}", r.body);
        assert_eq!(r.field(), "url", "{url}");
    }
    for bad in [
        json!({"url": 5}),
        json!({"url": "https://e.com", "secret": "x"}),
        json!({}),
    ] {
        let r = app
            .call(
                Method::POST,
                "/webhooks",
                Some(bad.clone()),
                Some(&bob.access),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    assert_eq!(
        app.get("/webhooks", &bob.access).await.body["webhooks"],
        json!([])
    );
    // Twelve registrations at one instant: at most five kept (all five unless load was
    // shed), the rest refused.
    let made = cap_holds(
        app,
        bob,
        "/webhooks",
        12,
        5,
        "too_many_webhooks",
        |i| json!({"url": format!("https://hooks{i}.example.com/")}),
    )
    .await;
    let held = app.get("/webhooks", &bob.access).await.body["webhooks"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(held, made);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_on_sqlite() {
    webhooks_tell_what_mail_tells(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_on_postgres_and_kafka() {
    webhooks_tell_what_mail_tells(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alerts_on_sqlite() {
    alerts_tell_once_per_price_level(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alerts_on_postgres_and_kafka() {
    alerts_tell_once_per_price_level(Backend::Postgres).await;
}

/// Two pricing processes on one PostgreSQL database (two connection pools) sweep the same
/// forty alerts at one instant, five rounds, while prices fall under every limit: each alert
/// is told exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_evaluators_on_postgres_tell_each_alert_once() {
    use spontra_pricing::evaluate::Evaluator;
    use spontra_store::{AlertStore, NewUser, PriceStore, UserStore};
    let Some(db) = spontra_store_postgres::scratch::ScratchDatabase::from_env()
        .await
        .unwrap()
    else {
        eprintln!("SPONTRA_TEST_DATABASE_URL is not set: the PostgreSQL run is skipped here");
        return;
    };
    let open = || async {
        Arc::new(
            spontra_store_postgres::PostgresStore::open(db.url())
                .await
                .unwrap(),
        )
    };
    let (one, two) = (open().await, open().await);
    let clock: spontra_domain::SharedClock = Arc::new(spontra_domain::FixedClock::new(
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
    ));
    let refdata = spontra::world::refdata().unwrap();
    let evaluator = |store: Arc<spontra_store_postgres::PostgresStore>, cap: u32| {
        Arc::new(Evaluator::new(
            store.clone(),
            store,
            refdata.clone(),
            clock.clone(),
            clock.clone(),
            cap,
        ))
    };
    let (a, b) = (evaluator(one.clone(), 100), evaluator(two.clone(), 100));
    let service = spontra_pricing::watchlist::AlertService {
        alerts: one.clone(),
        evaluator: a.clone(),
    };
    let mut users = vec![];
    for u in 0..4 {
        let user = one
            .create_user(&NewUser {
                id: spontra_store::UserId::new(),
                email: spontra_domain::Email::parse(&format!("u{u}@example.com")).unwrap(),
                password_hash: "x".into(),
                display_name: format!("U{u}"),
                role: spontra_store::Role::User,
                created_at: Utc::now(),
            })
            .await
            .unwrap();
        for n in 0..10 {
            let body: spontra_pricing::alert::AlertBody = serde_json::from_value(json!({
                "origin": "LHR", "destination": "JFK",
                "dates": {"type": "fixed", "departure": format!("2026-12-{:02}", 10 + n)},
                "notify": {"when": "below", "amount": "500"}}))
            .unwrap();
            service.create(user.id, &body).await.unwrap();
        }
        users.push(user.id);
    }
    let mut told = 0;
    for round in 0..5i64 {
        // Every date's price falls a step (the first step already under every limit).
        let prices: Vec<spontra_store::FlightPrice> = (0..10)
            .map(|n| spontra_store::FlightPrice {
                route: spontra_store::RouteCabin {
                    origin: "LHR".into(),
                    destination: "JFK".into(),
                    cabin: "economy".into(),
                },
                departure_date: date(&format!("2026-12-{:02}", 10 + n)),
                carrier: "BA".into(),
                flight_number: 117,
                fare_minor: 45_000 - round * 100,
                seats_left: 9,
                observed_at: Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
                    + Span::minutes(round),
            })
            .collect();
        one.record_prices(&prices).await.unwrap();
        let results = spontra_store::conformance::burst(2, |i| {
            let e = if i == 0 { a.clone() } else { b.clone() };
            async move { e.sweep().await.unwrap() }
        })
        .await;
        told += results.iter().sum::<usize>();
    }
    assert_eq!(
        told, 40,
        "each alert told once, by one evaluator or the other"
    );
    let now = clock.now();
    let claimed = one.claim(now, now + Span::minutes(5), 1_000).await.unwrap();
    assert_eq!(claimed.len(), 40);
    let mut alerts: Vec<_> = claimed.iter().map(|n| n.alert_id).collect();
    alerts.sort();
    alerts.dedup();
    assert_eq!(alerts.len(), 40, "one notification per alert");

    // The daily cap across both: with a cap of 12, each user (10 told today) gets two more of
    // five new alerts that all come to qualify, however the two race, round after round.
    let (c, d) = (evaluator(one.clone(), 12), evaluator(two.clone(), 12));
    for &user in &users {
        for n in 0..5 {
            let body: spontra_pricing::alert::AlertBody = serde_json::from_value(json!({
                "origin": "LHR", "destination": "JFK",
                "dates": {"type": "fixed", "departure": format!("2026-12-{:02}", 10 + n)},
                "notify": {"when": "below", "amount": "400"}}))
            .unwrap();
            spontra_pricing::watchlist::AlertService {
                alerts: one.clone(),
                evaluator: c.clone(),
            }
            .create(user, &body)
            .await
            .unwrap();
        }
    }
    let cheaper: Vec<spontra_store::FlightPrice> = (0..5)
        .map(|n| spontra_store::FlightPrice {
            route: spontra_store::RouteCabin {
                origin: "LHR".into(),
                destination: "JFK".into(),
                cabin: "economy".into(),
            },
            departure_date: date(&format!("2026-12-{:02}", 10 + n)),
            carrier: "BA".into(),
            flight_number: 117,
            fare_minor: 39_000,
            seats_left: 9,
            observed_at: Utc.with_ymd_and_hms(2026, 12, 1, 8, 30, 0).unwrap(),
        })
        .collect();
    one.record_prices(&cheaper).await.unwrap();
    let mut more = 0;
    for _round in 0..3 {
        let results = spontra_store::conformance::burst(2, |i| {
            let e = if i == 0 { c.clone() } else { d.clone() };
            async move { e.sweep().await.unwrap() }
        })
        .await;
        more += results.iter().sum::<usize>();
    }
    assert_eq!(more, 8, "two more per user, then the cap holds");
    let later = one.claim(now, now + Span::minutes(5), 1_000).await.unwrap();
    assert_eq!(later.len(), 8);
    drop((one, two));
}
