#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! Live search over HTTP against the simulated provider network, the real clients in
//! between: a search started, polled after its cursor and streamed as server-sent events
//! finds every itinerary the providers sell once, priced by each that sells it with a link;
//! a provider failing, hanging or skipped is a status beside the others' results; a hundred
//! searches for one query at one instant ask each provider once; finished results are reused,
//! then shown stale while one refresh runs; hostile input gets a 4xx with its code.

mod support;

use serde_json::{json, Value};
use spontra::config::{ProviderSettings, Settings};
use spontra::sim_providers::{self, Running, SimProviderSettings};
use spontra_providers::merge::{FlownSegment, ItineraryKey};
use spontra_search::dto::SearchBody;
use spontra_search::SearchService;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{spawn_app_with, Backend, Instance};

fn service() -> Arc<SearchService> {
    support::search_service()
}

/// The demo's two providers without faults, answering after about `ms` each.
fn providers(ms: [u64; 2]) -> Vec<SimProviderSettings> {
    SimProviderSettings::defaults()
        .into_iter()
        .zip(ms)
        .map(|(s, ms)| {
            let mut s = s.calm();
            s.latency_median_ms = ms;
            s.latency_max_ms = ms;
            s
        })
        .collect()
}

/// Simulated providers started here (so their calls can be counted), and an instance whose
/// live search asks them and `extra`.
async fn setup(
    sims: Vec<SimProviderSettings>,
    extra: Vec<ProviderSettings>,
    tune: impl FnOnce(&mut Settings),
) -> (Instance, Vec<Running>) {
    let (listed, running) = listed(sims, extra).await;
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.simulated_providers.start = false;
        s.providers = listed;
        tune(s);
    })
    .await
    .unwrap();
    (app, running)
}

/// Simulated providers started here, listed for live search with `extra`.
async fn listed(
    sims: Vec<SimProviderSettings>,
    extra: Vec<ProviderSettings>,
) -> (Vec<ProviderSettings>, Vec<Running>) {
    let running = sim_providers::start(service(), sims.clone()).await.unwrap();
    let mut listed: Vec<ProviderSettings> = running
        .iter()
        .zip(&sims)
        .map(|(r, s)| spontra::live::simulated(r, s))
        .collect();
    listed.extend(extra);
    (listed, running)
}

fn body(origin: &str, destination: &str, depart: &str) -> Value {
    json!({"origin": origin, "destination": destination, "depart": depart, "max_stops": 2})
}

/// Poll `id` after each answer's cursor until complete; the itineraries by id as last sent,
/// the answers seen, and the last answer.
async fn poll_to_end(app: &Instance, first: &Value) -> (HashMap<String, Value>, usize, Value) {
    let id = first["id"].as_str().unwrap();
    let mut seen: HashMap<String, Value> = HashMap::new();
    let mut answer = first.clone();
    let mut answers = 1;
    let started = Instant::now();
    loop {
        for it in answer["itineraries"].as_array().unwrap() {
            seen.insert(it["id"].as_str().unwrap().to_string(), it.clone());
        }
        assert_eq!(answer["total"].as_u64().unwrap() as usize, seen.len());
        if answer["status"] == "complete" {
            return (seen, answers, answer);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never completed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        let cursor = answer["cursor"].as_u64().unwrap();
        let r = app
            .get(&format!("/live-searches/{id}?after={cursor}"), "")
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body["cursor"].as_u64().unwrap() >= cursor);
        answer = r.body;
        answers += 1;
    }
}

fn statuses(answer: &Value) -> Vec<(String, String)> {
    answer["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn key_of_live(it: &Value) -> ItineraryKey {
    it["slices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| FlownSegment {
                    operating_carrier: spontra_domain::CarrierCode::parse(
                        g["operating_carrier"].as_str().unwrap(),
                    )
                    .unwrap(),
                    origin: spontra_domain::AirportCode::parse(g["origin"].as_str().unwrap())
                        .unwrap(),
                    destination: spontra_domain::AirportCode::parse(
                        g["destination"].as_str().unwrap(),
                    )
                    .unwrap(),
                    departing_at: g["departing_at"].as_str().unwrap().parse().unwrap(),
                })
                .collect()
        })
        .collect()
}

/// What the providers sell of the search service's answer, by itinerary, with who sells it.
fn sold(
    sims: &[SimProviderSettings],
    origin: &str,
    destination: &str,
    depart: &str,
) -> HashMap<ItineraryKey, HashSet<String>> {
    let svc = service();
    let b = SearchBody {
        origin: Some(origin.into()),
        destination: Some(destination.into()),
        depart: Some(depart.into()),
        adults: Some(1),
        max_stops: Some(2),
        limit: Some(100),
        ..SearchBody::default()
    };
    let truth = svc.search(&svc.parse_search(&b).unwrap()).unwrap();
    let mut out = HashMap::new();
    for it in truth.itineraries {
        let key = support::flown_key(&it);
        let sellers: HashSet<String> = sims
            .iter()
            .filter(|s| {
                it.slices
                    .iter()
                    .flat_map(|sl| &sl.segments)
                    .all(|g| s.sells(&g.carrier))
            })
            .map(|s| s.name.clone())
            .collect();
        if !sellers.is_empty() {
            out.insert(key, sellers);
        }
    }
    out
}

#[tokio::test]
async fn a_live_search_polled_after_its_cursor_finds_each_itinerary_once_priced_by_each_seller() {
    let sims = providers([100, 700]);
    let (app, running) = setup(sims.clone(), vec![], |_| {}).await;
    let r = app
        .post("/live-searches", body("LHR", "JFK", "2026-12-18"))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("location"), format!("/api/v1/live-searches/{id}"));
    assert_eq!(r.body["status"], "running");
    assert_eq!(r.body["currency"], "EUR");
    assert_eq!(r.body["stale"], false);
    assert_eq!(
        statuses(&r.body),
        [
            ("SkyHub".to_string(), "pending".to_string()),
            ("FareFinder".to_string(), "pending".to_string())
        ]
    );
    let (seen, answers, last) = poll_to_end(&app, &r.body).await;
    assert!(answers >= 3, "pending, one provider in, both in: {answers}");
    assert_eq!(
        statuses(&last),
        [
            ("SkyHub".to_string(), "complete".to_string()),
            ("FareFinder".to_string(), "complete".to_string())
        ]
    );
    for p in last["providers"].as_array().unwrap() {
        assert!(p["offers"].as_u64().unwrap() > 0, "{p}");
        assert_eq!(p["left_out"], 0);
        assert!(p["elapsed_ms"].as_u64().unwrap() >= 100);
        assert!(p["error"].is_null());
    }
    // Exactly the itineraries sold, each priced by exactly its sellers.
    let expected = sold(&sims, "LHR", "JFK", "2026-12-18");
    assert_eq!(seen.len(), expected.len());
    let mut both = 0;
    for it in seen.values() {
        let sellers: HashSet<String> = it["prices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["provider"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(sellers, expected[&key_of_live(it)], "{it}");
        both += usize::from(sellers.len() == 2);
        let minors: Vec<u64> = it["prices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["price"]["minor"].as_u64().unwrap())
            .collect();
        assert!(minors.windows(2).all(|w| w[0] <= w[1]), "cheapest first");
        assert_eq!(it["price"]["minor"].as_u64().unwrap(), minors[0]);
        for p in it["prices"].as_array().unwrap() {
            let link = p["deep_link"].as_str().unwrap();
            assert!(link.contains("/book/"), "{link}");
            // Every fare brand beside the cheapest, each with its own link.
            assert!(!p["other_fares"].as_array().unwrap().is_empty());
            let page = reqwest::get(link).await.unwrap();
            assert_eq!(page.status(), 200);
            assert!(page
                .text()
                .await
                .unwrap()
                .contains(p["offer_id"].as_str().unwrap()));
        }
        assert!(it["slices"][0]["duration_minutes"].as_i64().unwrap() > 0);
    }
    assert!(both > 0, "some itinerary is sold by both providers");
    // From the start again: the same itineraries, cheapest first.
    let all = app.get(&format!("/live-searches/{id}"), "").await.body;
    let list = all["itineraries"].as_array().unwrap();
    assert_eq!(list.len(), seen.len());
    let lows: Vec<u64> = list
        .iter()
        .map(|it| it["price"]["minor"].as_u64().unwrap())
        .collect();
    assert!(lows.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(running.iter().map(Running::requests).sum::<u64>(), 2);
    // Shown in another currency: the same search, reused.
    let r = app
        .post(
            "/live-searches",
            json!({"origin": "LHR", "destination": "JFK", "depart": "2026-12-18", "max_stops": 2, "currency": "GBP"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["status"], "complete");
    assert_eq!(r.body["currency"], "GBP");
    assert_eq!(r.body["itineraries"].as_array().unwrap().len(), seen.len());
    assert_eq!(
        r.body["itineraries"][0]["prices"][0]["price"]["currency"],
        "GBP"
    );
    assert_eq!(running.iter().map(Running::requests).sum::<u64>(), 2);
}

#[tokio::test]
async fn the_event_stream_sends_each_change_once_and_resumes_after_last_event_id() {
    let sims = providers([200, 900]);
    let (app, _running) = setup(sims, vec![], |_| {}).await;
    let r = app
        .post("/live-searches", body("CDG", "LHR", "2026-12-05"))
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let url = format!("{}/api/v1/live-searches/{id}/events", app.base);
    let read = |last: Option<String>| {
        let (http, url) = (app.http.clone(), url.clone());
        async move {
            let mut req = http.get(&url);
            if let Some(last) = last {
                req = req.header("Last-Event-ID", last);
            }
            let mut resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            assert!(resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream"));
            let mut text = String::new();
            while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), resp.chunk())
                .await
                .unwrap()
                .unwrap()
            {
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
            // Events: (name, id, data).
            text.split("\n\n")
                .filter(|e| e.contains("data:"))
                .map(|e| {
                    let field = |k: &str| {
                        e.lines()
                            .filter_map(|l| l.strip_prefix(k))
                            .map(str::trim_start)
                            .collect::<Vec<_>>()
                            .join("\n")
                    };
                    (
                        field("event:"),
                        field("id:"),
                        serde_json::from_str::<Value>(&field("data:")).unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let events = read(None).await;
    assert!(events.len() >= 2, "{events:?}");
    let (last_name, _, last) = events.last().unwrap();
    assert_eq!(last_name, "complete");
    assert_eq!(last["status"], "complete");
    let mut ids = vec![];
    let mut seen: HashMap<String, Value> = HashMap::new();
    for (name, eid, data) in &events {
        assert_eq!(eid, &data["cursor"].to_string());
        ids.push(data["cursor"].as_u64().unwrap());
        if name != "complete" {
            assert_eq!(name, "update");
        }
        for it in data["itineraries"].as_array().unwrap() {
            seen.insert(it["id"].as_str().unwrap().into(), it.clone());
        }
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(seen.len() as u64, last["total"].as_u64().unwrap());
    // Polled whole, the same.
    let whole = app.get(&format!("/live-searches/{id}"), "").await.body;
    let polled: HashSet<String> = whole["itineraries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| it["id"].as_str().unwrap().into())
        .collect();
    assert_eq!(polled, seen.keys().cloned().collect());
    // Resumed after the first event: the rest, not the first again.
    let resumed = read(Some(ids[0].to_string())).await;
    assert_eq!(
        resumed
            .iter()
            .map(|e| e.2["cursor"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![*ids.last().unwrap()]
    );
    // Resumed at the end: only the final state (nothing after it).
    let at_end = read(Some(ids.last().unwrap().to_string())).await;
    assert!(at_end.is_empty(), "{at_end:?}");
}

#[tokio::test]
async fn a_hundred_searches_for_one_query_at_one_instant_ask_each_provider_once() {
    let sims = providers([300, 300]);
    let (app, running) = setup(sims, vec![], |_| {}).await;
    let request = support::raw::post_json(
        "/api/v1/live-searches",
        &body("LHR", "SIN", "2026-12-10").to_string(),
        &[],
    );
    let answers = support::raw::burst(app.addr, vec![request; 100]).await;
    let mut ids = HashSet::new();
    for (status, text) in &answers {
        assert_eq!(*status, 201, "{text}");
        let v: Value = serde_json::from_str(text).unwrap();
        ids.insert(v["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 100, "each search its own id");
    // Each followed to the end sees the same results.
    let mut totals = HashSet::new();
    for id in ids.iter().take(5) {
        let started = Instant::now();
        loop {
            let r = app.get(&format!("/live-searches/{id}"), "").await;
            if r.body["status"] == "complete" {
                totals.insert(r.body["total"].as_u64().unwrap());
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(totals.len(), 1);
    assert!(totals.iter().all(|&t| t > 0));
    let calls: Vec<u64> = running.iter().map(Running::requests).collect();
    assert_eq!(calls, [1, 1], "one call per provider");
}

#[tokio::test]
async fn a_failing_a_hanging_and_an_unreachable_provider_are_statuses_beside_the_others_results() {
    let mut sims = providers([50, 50]);
    // FareFinder hangs on every request; its deadline is 2 s.
    sims[1].hang_rate = 1.0;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let nowhere = ProviderSettings {
        name: "Nowhere".into(),
        format: spontra::sim_providers::Format::Duffel,
        base_url: closed_url,
        access_token: "t".into(),
        client_id: String::new(),
        client_secret: String::new(),
        deadline_seconds: 2,
        concurrency: 4,
        deep_link: None,
    };
    let running = sim_providers::start(service(), sims.clone()).await.unwrap();
    let mut listed: Vec<ProviderSettings> = running
        .iter()
        .zip(&sims)
        .map(|(r, s)| spontra::live::simulated(r, s))
        .collect();
    listed[1].deadline_seconds = 2;
    listed.push(nowhere);
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.simulated_providers.start = false;
        s.providers = listed;
    })
    .await
    .unwrap();
    let mut last = Value::Null;
    // Five different queries (no reuse): the unreachable provider fails each time …
    for day in 10..16 {
        let r = app
            .post(
                "/live-searches",
                body("LHR", "JFK", &format!("2026-12-{day}")),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let (_, _, answer) = poll_to_end(&app, &r.body).await;
        last = answer;
        if day < 15 {
            let s = statuses(&last);
            assert_eq!(s[0].1, "complete");
            assert_eq!(s[1].1, "timed_out", "hangs past its 2 s deadline");
            assert_eq!(s[2].1, "failed");
            let nowhere = &last["providers"][2];
            assert_eq!(nowhere["error"]["code"], "provider_unreachable");
            assert!(last["total"].as_u64().unwrap() > 0, "SkyHub's results");
            let t = last["providers"][1]["elapsed_ms"].as_u64().unwrap();
            assert!((1_900..10_000).contains(&t), "{t}");
        }
    }
    // … and after five failures in a row it is skipped for a while.
    let s = statuses(&last);
    assert_eq!(s[2].1, "skipped", "{last}");
    assert_eq!(s[0].1, "complete");
}

#[tokio::test]
async fn finished_results_are_reused_then_shown_stale_while_one_refresh_runs() {
    let sims = providers([300, 300]);
    let (app, running) = setup(sims, vec![], |s| s.live.cache_seconds = 1).await;
    let calls = || running.iter().map(Running::requests).sum::<u64>();
    let start = || app.post("/live-searches", body("FRA", "NYC", "2026-12-12"));
    let first = start().await;
    let (seen, _, _) = poll_to_end(&app, &first.body).await;
    assert_eq!(calls(), 2);
    // Within its second: reused, complete at once.
    let again = start().await;
    assert_eq!(
        (again.body["status"].as_str(), again.body["stale"].as_bool()),
        (Some("complete"), Some(false))
    );
    assert_eq!(calls(), 2);
    // After it: the old results at once, marked stale, and one refresh for the three asks.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    for _ in 0..3 {
        let stale = start().await;
        assert_eq!(stale.body["status"], "complete");
        assert_eq!(stale.body["stale"], true);
        assert_eq!(
            stale.body["itineraries"].as_array().unwrap().len(),
            seen.len()
        );
    }
    let started = Instant::now();
    while calls() < 4 {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Once refreshed, fresh again (no further calls).
    let started = Instant::now();
    loop {
        let r = start().await;
        if r.body["stale"] == false {
            assert_eq!(r.body["status"], "complete");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(calls(), 4);
}

#[tokio::test]
async fn hostile_input_is_refused_with_its_code_and_nothing_is_asked() {
    let sims = providers([0, 0]);
    let (app, running) = setup(sims, vec![], |_| {}).await;
    for (b, status, code, field) in [
        (json!({"origin": "LHR"}), 400, "malformed_json", ""),
        (
            json!({"origin": "LHR", "destination": "JFK", "depart": "2026-12-18", "slices": []}),
            400,
            "malformed_json",
            "",
        ),
        (
            json!({"origin": "XQZ", "destination": "JFK", "depart": "2026-12-18"}),
            422,
            "unknown_airport",
            "origin",
        ),
        (
            json!({"origin": "LHR", "destination": "JFK", "depart": "2026-11-02"}),
            422,
            "date_in_past",
            "depart",
        ),
        (
            json!({"origin": "LHR", "destination": "JFK", "depart": "2026-12-18", "return": "2026-12-10"}),
            422,
            "return_before_outbound",
            "return",
        ),
        (
            json!({"origin": "LHR", "destination": "JFK", "depart": "18/12/2026"}),
            400,
            "invalid_date",
            "depart",
        ),
        (
            json!({"origin": "LHR", "destination": "LHR", "depart": "2026-12-18"}),
            422,
            "same_origin_destination",
            "destination",
        ),
        (
            json!({"origin": "LHR", "destination": "JFK", "depart": "2026-12-18", "adults": 0}),
            400,
            "no_adult",
            "adults",
        ),
        (
            json!({"origin": "LHR", "destination": "JFK", "depart": "2026-12-18", "adults": 2, "infants": 3}),
            422,
            "too_many_infants",
            "infants",
        ),
        (
            json!({"origin": "LHR", "destination": "JFK", "depart": "2026-12-18", "currency": "XXX"}),
            422,
            "unknown_currency",
            "currency",
        ),
        (
            json!({"origin": "LHR", "destination": "JFK", "depart": "2026-12-18", "max_stops": 7}),
            400,
            "invalid_field",
            "max_stops",
        ),
        (
            json!({"origin": "<script>", "destination": "JFK", "depart": "2026-12-18"}),
            422,
            "unknown_airport",
            "origin",
        ),
    ] {
        let r = app.post("/live-searches", b.clone()).await;
        assert_eq!(r.problem(), (status, code), "{b} → {}", r.body);
        if !field.is_empty() {
            assert_eq!(r.field(), field, "{b} → {}", r.body);
        }
        assert_eq!(r.header("content-type"), "application/problem+json");
    }
    let r = app
        .send(
            app.request(reqwest::Method::POST, "/live-searches")
                .header("content-type", "application/json")
                .body("{\"origin\": "),
            "/live-searches",
        )
        .await;
    assert_eq!(r.problem(), (400, "malformed_json"));
    for path in [
        "/live-searches/0123456789abcdef0123456789abcdef",
        "/live-searches/..%2F..%2Fetc",
        "/live-searches/x/events",
    ] {
        let r = app.get(path, "").await;
        assert_eq!(r.problem(), (404, "live_search_not_found"), "{path}");
    }
    let ok = app
        .post("/live-searches", body("LHR", "JFK", "2026-12-18"))
        .await;
    let id = ok.body["id"].as_str().unwrap();
    let r = app.get(&format!("/live-searches/{id}?after=-1"), "").await;
    assert_eq!(r.problem(), (400, "invalid_field"));
    let r = app
        .send(
            app.request(reqwest::Method::GET, &format!("/live-searches/{id}/events"))
                .header("Last-Event-ID", "yesterday"),
            "events",
        )
        .await;
    assert_eq!(r.problem(), (400, "invalid_field"));
    assert_eq!(r.field(), "Last-Event-ID");
    // Only the one good search asked anyone.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(running.iter().map(Running::requests).sum::<u64>(), 2);
}

#[tokio::test]
async fn without_providers_live_search_says_so() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.simulated_providers.start = false;
        s.providers = vec![];
    })
    .await
    .unwrap();
    let r = app
        .post("/live-searches", body("LHR", "JFK", "2026-12-18"))
        .await;
    assert_eq!(r.problem(), (503, "no_providers"));
}

#[tokio::test]
async fn live_quotes_go_to_provider_raw_and_become_price_history_on_sqlite() {
    quotes_become_history(Backend::Sqlite).await;
}

#[tokio::test]
async fn live_quotes_go_to_provider_raw_and_become_price_history_on_postgres() {
    quotes_become_history(Backend::Postgres).await;
}

async fn quotes_become_history(backend: Backend) {
    use spontra::config::ServiceName;
    let (listed, _running) = listed(providers([50, 50]), vec![]).await;
    let Some(streamed) = support::stream::Streamed::start(
        backend,
        vec![
            ServiceName::Search,
            ServiceName::Ingest,
            ServiceName::Pricing,
        ],
        |s| {
            s.simulated_providers.start = false;
            s.providers = listed;
        },
    )
    .await
    else {
        return;
    };
    let app = &streamed.app;
    let r = app
        .post("/live-searches", body("LHR", "JFK", "2026-12-10"))
        .await;
    let (seen, _, last) = poll_to_end(app, &r.body).await;
    assert_eq!(statuses(&last)[1].1, "complete");
    // FareFinder (Amadeus' format) says how many seats are at each price: its cheapest quote
    // for each nonstop flight is that flight's fare. SkyHub's (Duffel's, without seats) are for
    // flights the inventory does not hold yet: acknowledged, not applied.
    let cheapest = seen
        .values()
        .filter(|it| it["slices"][0]["segments"].as_array().unwrap().len() == 1)
        .filter_map(|it| {
            it["prices"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["provider"] == "FareFinder")
                .map(|p| p["price"]["minor"].as_u64().unwrap())
        })
        .min()
        .expect("a nonstop flight FareFinder sells");
    let started = Instant::now();
    let history = loop {
        let r = app
            .get(
                "/prices/history?origin=LHR&destination=JFK&departure_date=2026-12-10",
                "",
            )
            .await;
        if r.status == 200 && !r.body["current"].is_null() {
            break r.body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no history from the quotes: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        history["current"]["minor"].as_u64().unwrap(),
        cheapest,
        "{history}"
    );
    let metrics = app.metrics().await;
    let unattributed = metrics
        .lines()
        .find(|l| l.starts_with("ingest_events_total") && l.contains("outcome=\"unattributed\""))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(unattributed > 0.0, "SkyHub's quotes counted: {metrics}");
}
