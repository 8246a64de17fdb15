#![allow(clippy::unwrap_used, clippy::expect_used)] // test and benchmark code may panic
//! The HTTP API against a real instance on a port-0 listener, on the tiny simulated world with
//! a fixed "today" so results are reproducible.

mod support;

use serde_json::{json, Value};
use spontra::config::ServiceName;
use spontra_domain::{AirportCode, CarrierCode};
use spontra_refdata::RefData;
use std::sync::{Arc, OnceLock};
use support::{shared_world, spawn_app_with, Backend, Instance, TODAY};

/// An instance running the search service alone (no database, no mail).
async fn search_app(tune: impl FnOnce(&mut spontra::config::Settings)) -> Instance {
    spawn_app_with(Backend::Sqlite, |s| {
        s.server.services = vec![ServiceName::Search];
        tune(s);
    })
    .await
    .expect("a search instance")
}

struct TestApp {
    base: String,
    client: reqwest::Client,
    _instance: Instance,
}

impl TestApp {
    async fn spawn() -> TestApp {
        let instance = search_app(|_| {}).await;
        TestApp {
            base: instance.base.clone(),
            client: reqwest::Client::new(),
            _instance: instance,
        }
    }

    async fn get(&self, path: &str) -> (u16, String, Value) {
        send(self.client.get(format!("{}{path}", self.base))).await
    }

    async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, String, Value) {
        send(
            self.client
                .post(format!("{}{path}", self.base))
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }
}

/// Status, content type and JSON body (null if not JSON).
async fn send(request: reqwest::RequestBuilder) -> (u16, String, Value) {
    let r = request.send().await.expect("request");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, r.json::<Value>().await.unwrap_or(Value::Null))
}

fn refdata() -> &'static RefData {
    static REFDATA: OnceLock<Arc<RefData>> = OnceLock::new();
    REFDATA.get_or_init(|| shared_world().refdata.clone())
}

#[tokio::test]
async fn health_readiness_openapi_and_request_ids() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.2["status"], "ok");
    let (s, _, ready) = app.get("/readyz").await;
    assert_eq!(s, 200);
    assert!(ready["legs"].as_u64().unwrap() > 10_000);
    assert_eq!(ready["bookable_from"], TODAY);
    let (s, _, doc) = app.get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    for path in [
        "/api/v1/search",
        "/api/v1/calendar",
        "/api/v1/explore",
        "/api/v1/airports",
        "/api/v1/airports/{code}",
        "/api/v1/airlines",
        "/api/v1/airlines/{code}",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["x-request-id"].len() >= 32);
}

/// The documented MCT rules, from the reference data.
fn expected_mct(
    prev_origin: &str,
    at: &str,
    next_origin: &str,
    next_dest: &str,
    self_transfer: bool,
) -> i64 {
    let ap = |c: &str| refdata().airport(AirportCode::parse(c).unwrap()).unwrap();
    let airport = ap(next_origin);
    let domestic = [prev_origin, at, next_dest]
        .iter()
        .all(|c| ap(c).country == airport.country);
    let mut m = if domestic {
        airport.mct.domestic
    } else {
        airport.mct.international
    } as i64;
    if self_transfer {
        m += 60;
    }
    if at != next_origin {
        m = m.max(240);
    }
    m
}

#[tokio::test]
async fn search_ranks_itineraries_that_respect_connection_times() {
    let app = TestApp::spawn().await;
    let (s, _, r) = app
        .get("/api/v1/search?origin=LHR&destination=SIN&depart=2026-12-10&limit=100&sort=cheapest")
        .await;
    assert_eq!(s, 200, "{r}");
    let its = r["itineraries"].as_array().unwrap();
    assert!(!its.is_empty());
    let prices: Vec<u64> = its
        .iter()
        .map(|i| i["price"]["minor"].as_u64().unwrap())
        .collect();
    assert!(
        prices.windows(2).all(|w| w[0] <= w[1]),
        "cheapest sort: {prices:?}"
    );
    assert_eq!(
        r["summary"]["cheapest"]["price"]["minor"].as_u64(),
        prices.first().copied()
    );
    let mut connections = 0;
    for it in its {
        for slice in it["slices"].as_array().unwrap() {
            let segs = slice["segments"].as_array().unwrap();
            assert_eq!(slice["stops"].as_u64().unwrap() as usize, segs.len() - 1);
            assert!(slice["departure"]["local"]
                .as_str()
                .unwrap()
                .starts_with("2026-12-10"));
            for (k, lay) in slice["layovers"].as_array().unwrap().iter().enumerate() {
                connections += 1;
                let (a, b) = (&segs[k], &segs[k + 1]);
                let carriers = [
                    a["carrier"].as_str().unwrap(),
                    b["carrier"].as_str().unwrap(),
                ];
                let alliance = |c: &str| {
                    refdata()
                        .airline(CarrierCode::parse(c).unwrap())
                        .and_then(|x| x.alliance)
                };
                let protected = carriers[0] == carriers[1]
                    || (alliance(carriers[0]).is_some()
                        && alliance(carriers[0]) == alliance(carriers[1]));
                assert_eq!(lay["self_transfer"].as_bool().unwrap(), !protected);
                let mct = expected_mct(
                    a["origin"].as_str().unwrap(),
                    a["destination"].as_str().unwrap(),
                    b["origin"].as_str().unwrap(),
                    b["destination"].as_str().unwrap(),
                    !protected,
                );
                assert!(
                    lay["duration_minutes"].as_i64().unwrap() >= mct,
                    "layover {lay} shorter than MCT {mct}"
                );
                assert!(lay["duration_minutes"].as_i64().unwrap() <= 12 * 60);
            }
        }
    }
    assert!(connections > 0, "expected connecting itineraries LHR-SIN");
    // Other orders.
    let (_, _, fastest) = app
        .get("/api/v1/search?origin=LHR&destination=SIN&depart=2026-12-10&limit=100&sort=fastest")
        .await;
    let d: Vec<u64> = fastest["itineraries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["duration_minutes"].as_u64().unwrap())
        .collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]));
    let (_, _, best) = app
        .get("/api/v1/search?origin=LHR&destination=SIN&depart=2026-12-10")
        .await;
    let scores: Vec<f64> = best["itineraries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");
}

#[tokio::test]
async fn round_trips_city_codes_passengers_and_pagination() {
    let app = TestApp::spawn().await;
    let (s, _, r) = app.get("/api/v1/search?origin=LON&destination=NYC&depart=2026-12-10&return=2026-12-17&adults=2&children=1&infants=1&cabin=business&limit=5").await;
    assert_eq!(s, 200, "{r}");
    let it = &r["itineraries"][0];
    assert_eq!(it["slices"].as_array().unwrap().len(), 2);
    let london = ["LHR", "LGW", "LCY", "STN", "LTN", "SEN"];
    assert!(london.contains(&it["slices"][0]["origin"].as_str().unwrap()));
    assert!(london.contains(&it["slices"][1]["destination"].as_str().unwrap()));
    assert_eq!(it["slices"][0]["segments"][0]["cabin"], "business");
    let b = it["price_breakdown"].as_array().unwrap();
    let each = |i: usize| b[i]["each"]["minor"].as_u64().unwrap();
    assert_eq!(b[0]["count"], 2);
    // Children pay 75 % and lap infants 10 % of the adult fare (rounded down per slice).
    assert!(each(0) * 75 / 100 - each(1) <= 1);
    assert!(each(0) / 10 - each(2) <= 1);
    assert_eq!(
        it["price"]["minor"].as_u64().unwrap(),
        2 * each(0) + each(1) + each(2)
    );
    // Page 2 continues where page 1 stopped.
    let cursor = r["next_cursor"].as_str().expect("more pages");
    let (s, _, page2) = app.get(&format!("/api/v1/search?origin=LON&destination=NYC&depart=2026-12-10&return=2026-12-17&adults=2&children=1&infants=1&cabin=business&limit=5&cursor={cursor}")).await;
    assert_eq!(s, 200);
    let ids = |v: &Value| {
        v["itineraries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let (a, b) = (ids(&r), ids(&page2));
    assert!(!b.is_empty() && a.iter().all(|x| !b.contains(x)));

    // A cursor forged from a real one, with the offset pushed to 2^64 - 1: refused, not
    // wrapped around.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let text = String::from_utf8(b64.decode(cursor).unwrap()).unwrap();
    // v2:offset:fingerprint:version:list
    let parts: Vec<&str> = text.split(':').collect();
    assert_eq!((parts[0], parts.len()), ("v2", 5), "{text}");
    let forged = b64.encode(format!(
        "v2:{}:{}:{}:{}",
        u64::MAX,
        parts[2],
        parts[3],
        parts[4]
    ));
    let (s, _, body) = app.get(&format!("/api/v1/search?origin=LON&destination=NYC&depart=2026-12-10&return=2026-12-17&adults=2&children=1&infants=1&cabin=business&limit=5&cursor={forged}")).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (422, Some("invalid_cursor")),
        "{body}"
    );
}

#[tokio::test]
async fn filters_apply() {
    let app = TestApp::spawn().await;
    let (_, _, r) = app
        .get("/api/v1/search?origin=LHR&destination=SIN&depart=2026-12-10&max_stops=0")
        .await;
    assert!(r["itineraries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["stops"] == 0));
    let (_, _, r) = app.get("/api/v1/search?origin=LHR&destination=SIN&depart=2026-12-10&exclude_carriers=SQ,BA&limit=100").await;
    for it in r["itineraries"].as_array().unwrap() {
        for seg in it["slices"][0]["segments"].as_array().unwrap() {
            assert!(!["SQ", "BA"].contains(&seg["carrier"].as_str().unwrap()));
        }
    }
    let (_, _, r) = app.get("/api/v1/search?origin=LHR&destination=SIN&depart=2026-12-10&depart_time=06:00-12:00&max_price=2000&limit=100").await;
    for it in r["itineraries"].as_array().unwrap() {
        let local = it["slices"][0]["departure"]["local"].as_str().unwrap();
        let hour: u32 = local[11..13].parse().unwrap();
        assert!((6..=12).contains(&hour), "{local}");
        assert!(it["price"]["minor"].as_u64().unwrap() <= 200_000);
    }
}

/// Every filter count and "from" price is exactly what choosing that value alone shows: each
/// value of each facet, with and without another choice made, is searched and compared (issue
/// #9: "British Airways 9 · €1,545" had opened 60 itineraries from €1,677; issue #25: a ticked
/// airline vanished from the list and others counted more than the results).
#[tokio::test]
async fn facet_counts_and_prices_are_what_choosing_them_shows() {
    let app = TestApp::spawn().await;
    let trips = [
        "/api/v1/search?origin=LHR&destination=SIN&depart=2026-12-10&limit=100&currency=GBP&max_price=4000",
        "/api/v1/search?origin=LON&destination=NYC&depart=2026-12-10&return=2026-12-14&limit=100",
    ];
    for base in trips {
        let (s, _, all) = app.get(base).await;
        assert_eq!(s, 200, "{all}");
        assert!(all["summary"]["total"].as_u64().unwrap() > 0, "{base}");
        check_facets(&app, base, &all).await;
        // On top of a choice already made: the first airline.
        let first = all["facets"]["carriers"][0]["value"].as_str().unwrap();
        let narrowed = format!("{base}&carriers={first}");
        let (_, _, some) = app.get(&narrowed).await;
        check_facets(&app, &narrowed, &some).await;
        let listed = some["facets"]["carriers"].as_array().unwrap();
        assert!(
            listed.iter().any(|v| v["value"] == first),
            "{narrowed}: the chosen airline is still listed"
        );
        // An airline means a flight by it: every result has one.
        for it in some["itineraries"].as_array().unwrap() {
            let flown = it["slices"].as_array().unwrap().iter().flat_map(|s| {
                s["segments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|g| g["carrier"].clone())
            });
            assert!(flown.into_iter().any(|c| c == first), "{narrowed}: {it}");
        }
    }
}

/// Choosing each facet value of `answer` (the answer to `base`) gives exactly its count and
/// its price; the sliders' ranges hold the results.
async fn check_facets(app: &TestApp, base: &str, answer: &Value) {
    let f = &answer["facets"];
    let mut checked = 0;
    for (dim, param) in [
        ("stops", "max_stops"),
        ("carriers", "carriers"),
        ("alliances", "alliances"),
        ("layovers", "layovers"),
    ] {
        for v in f[dim].as_array().unwrap().iter().take(6) {
            let value = v["value"].as_str().unwrap();
            // The value alone in its filter (a choice already made in it is replaced).
            let kept: Vec<&str> = base
                .split('&')
                .filter(|kv| !kv.starts_with(&format!("{param}=")))
                .collect();
            let url = format!("{}&{param}={value}", kept.join("&"));
            let (s, _, chosen) = app.get(&url).await;
            assert_eq!(s, 200, "{url}: {chosen}");
            assert_eq!(
                chosen["summary"]["total"], v["count"],
                "{url}: the count promised {v}"
            );
            assert_eq!(
                chosen["summary"]["cheapest"]["price"], v["min_price"],
                "{url}: the price promised {v}"
            );
            checked += 1;
        }
    }
    assert!(checked > 3, "{base}: {f}");
    let total = answer["summary"]["total"].as_u64().unwrap();
    if total > 0 {
        assert_eq!(
            f["price_min"], answer["summary"]["cheapest"]["price"],
            "{base}"
        );
        let max = f["price_max"]["minor"].as_u64().unwrap();
        for i in answer["itineraries"].as_array().unwrap() {
            assert!(
                i["price"]["minor"].as_u64().unwrap() <= max,
                "{base}: above the slider"
            );
        }
    }
}

#[tokio::test]
async fn the_web_app_is_served_with_security_headers() {
    let dir = std::env::temp_dir().join(format!("spontra-web-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("reset-password")).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>home</h1>").unwrap();
    std::fs::write(dir.join("reset-password/index.html"), "<h1>reset</h1>").unwrap();
    let instance = search_app(|s| s.web.dir = Some(dir.clone())).await;
    let base = instance.base.clone();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // A mail's link: redirected to the page's directory with its token kept.
    let link = http
        .get(format!("{base}/reset-password?token=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), 307);
    assert_eq!(link.headers()["location"], "/reset-password/?token=abc");
    let page = http
        .get(format!("{base}/reset-password/?token=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let h = page.headers();
    assert_eq!(
        h["referrer-policy"], "no-referrer",
        "tokens never leak as referrer"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    // Client-side routes fall back to the app; the API keeps its own answers.
    let deep = http
        .get(format!("{base}/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(deep.text().await.unwrap(), "<h1>home</h1>");
    let api = http
        .get(format!("{base}/api/v1/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
    assert!(api.headers().get("content-security-policy").is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn browsers_on_configured_origins_may_call_the_api() {
    let instance =
        search_app(|s| s.server.cors_origins = vec!["https://app.spontra.example".into()]).await;
    let base = instance.base.clone();
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, format!("{base}/api/v1/search"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let ok = preflight("https://app.spontra.example").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.spontra.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let mut settings = instance.settings.clone();
    settings.server.cors_origins = vec!["bad\norigin".into()];
    assert!(spontra::application::Application::build(settings)
        .await
        .is_err());
}

#[tokio::test]
async fn multi_city_by_post() {
    let app = TestApp::spawn().await;
    let body = r#"{"slices":[{"origin":"LHR","destination":"CDG","date":"2026-12-05"},{"origin":"CDG","destination":"FRA","date":"2026-12-08"},{"origin":"FRA","destination":"LHR","date":"2026-12-12"}],"sort":"cheapest"}"#;
    let (s, _, r) = app.post("/api/v1/search", "application/json", body).await;
    assert_eq!(s, 200, "{r}");
    let it = &r["itineraries"][0];
    let route: Vec<(&str, &str)> = it["slices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["origin"].as_str().unwrap(),
                s["destination"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(route, vec![("LHR", "CDG"), ("CDG", "FRA"), ("FRA", "LHR")]);
}

#[tokio::test]
async fn calendar_and_explore_answer() {
    let app = TestApp::spawn().await;
    let (s, _, c) = app
        .get("/api/v1/calendar?origin=LHR&destination=JFK&from=2026-12-01&to=2026-12-31")
        .await;
    assert_eq!(s, 200, "{c}");
    let days = c["days"].as_array().unwrap();
    assert_eq!(days.len(), 31);
    assert!(days.iter().filter(|d| d["price"].is_object()).count() >= 28);
    // The calendar's price for a day is that day's cheapest search result.
    let (_, _, day) = app
        .get("/api/v1/search?origin=LHR&destination=JFK&depart=2026-12-09&sort=cheapest&limit=1")
        .await;
    assert_eq!(
        days[8]["price"]["minor"],
        day["itineraries"][0]["price"]["minor"]
    );
    let (s, _, g) = app
        .get(
            "/api/v1/calendar?origin=LHR&destination=JFK&from=2026-12-01&to=2026-12-07&nights=3..5",
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(g["grid"].as_array().unwrap().len(), 21);

    let (s, _, x) = app.get("/api/v1/explore?origin=LHR&depart_from=2026-12-18&depart_to=2026-12-19&min_hours=2&max_hours=4&group_by=country").await;
    assert_eq!(s, 200, "{x}");
    let dests = x["destinations"].as_array().unwrap();
    assert!(!dests.is_empty());
    for d in dests {
        let m = d["duration_minutes"].as_u64().unwrap();
        assert!((120..=240).contains(&m), "{d}");
        assert_ne!(d["airport"]["city_code"], "LON");
    }
    let prices: Vec<u64> = dests
        .iter()
        .map(|d| d["price"]["minor"].as_u64().unwrap())
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]));
    assert!(!x["groups"].as_array().unwrap().is_empty());
    let (_, _, cheap) = app
        .get("/api/v1/explore?origin=LHR&depart_from=2026-12-18&max_price=150")
        .await;
    assert!(cheap["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["price"]["minor"].as_u64().unwrap() <= 15_000));
}

#[tokio::test]
async fn airports_and_airlines() {
    let app = TestApp::spawn().await;
    let (_, _, a) = app.get("/api/v1/airports?q=londn").await;
    assert_eq!(a[0]["code"], "LON");
    assert_eq!(a[0]["kind"], "city");
    let (_, _, a) = app.get("/api/v1/airports/LHR").await;
    assert_eq!(a["time_zone"], "Europe/London");
    let (_, _, a) = app.get("/api/v1/airports/NYC").await;
    let nyc = a["airports"].as_array().unwrap();
    for code in ["JFK", "LGA", "EWR"] {
        assert!(
            nyc.iter().any(|x| x == code),
            "New York lacks {code}: {nyc:?}"
        );
    }
    // Local names and translations; the first answer says when the text names it for sure.
    let (_, _, m) = app.get("/api/v1/airports?q=M%C3%BCnchen&limit=5").await;
    assert_eq!(
        (&m[0]["code"], &m[0]["best_match"]),
        (&json!("MUC"), &json!(true)),
        "{m}"
    );
    let (_, _, l) = app.get("/api/v1/airports?q=London&limit=5").await;
    assert_eq!(
        (&l[0]["code"], &l[0]["best_match"]),
        (&json!("LON"), &json!(true)),
        "{l}"
    );
    let (_, _, p) = app.get("/api/v1/airports?q=Lond&limit=5").await;
    assert_eq!(
        p[0]["best_match"],
        json!(false),
        "a prefix names nothing for sure"
    );
    let (_, _, l) = app.get("/api/v1/airlines?alliance=oneworld").await;
    assert!(l.as_array().unwrap().iter().any(|x| x["code"] == "BA"));
    let (_, _, l) = app.get("/api/v1/airlines/BA").await;
    assert_eq!(l["name"], "British Airways");
}

#[tokio::test]
async fn every_bad_input_is_a_4xx_problem_with_code_and_field() {
    let app = TestApp::spawn().await;
    let s = "/api/v1/search?origin=LHR&destination=JFK&depart=2026-12-10";
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        (
            "/api/v1/search?origin=XXX&destination=JFK&depart=2026-12-10".into(),
            422,
            "unknown_airport",
            Some("origin"),
        ),
        (
            "/api/v1/search?origin=LHR&destination=J1K&depart=2026-12-10".into(),
            422,
            "unknown_airport",
            Some("destination"),
        ),
        (
            "/api/v1/search?origin=LHR&destination=JFK&depart=2026-13-40".into(),
            400,
            "invalid_date",
            Some("depart"),
        ),
        (
            "/api/v1/search?origin=LHR&destination=JFK&depart=2026-11-20".into(),
            422,
            "date_in_past",
            Some("depart"),
        ),
        (
            "/api/v1/search?origin=LHR&destination=JFK&depart=2027-12-01".into(),
            422,
            "date_not_served",
            Some("depart"),
        ),
        (
            format!("{s}&return=2026-12-05"),
            422,
            "return_before_outbound",
            Some("return"),
        ),
        (
            "/api/v1/search?origin=LHR&destination=LHR&depart=2026-12-10".into(),
            422,
            "same_origin_destination",
            Some("destination"),
        ),
        (
            "/api/v1/search?origin=LON&destination=LHR&depart=2026-12-10".into(),
            422,
            "same_origin_destination",
            Some("destination"),
        ),
        (
            "/api/v1/search?destination=JFK&depart=2026-12-10".into(),
            400,
            "missing_field",
            Some("origin"),
        ),
        (
            format!("{s}&adults=10"),
            422,
            "too_many_passengers",
            Some("adults"),
        ),
        (
            format!("{s}&adults=5&children=5"),
            422,
            "too_many_passengers",
            Some("adults"),
        ),
        (
            format!("{s}&adults=1&infants=2"),
            422,
            "too_many_infants",
            Some("infants"),
        ),
        (format!("{s}&adults=0"), 400, "no_adult", Some("adults")),
        (
            format!("{s}&adults=two"),
            400,
            "invalid_field",
            Some("adults"),
        ),
        (
            format!("{s}&cabin=deluxe"),
            400,
            "unknown_cabin",
            Some("cabin"),
        ),
        (format!("{s}&limit=0"), 400, "invalid_limit", Some("limit")),
        (
            format!("{s}&limit=101"),
            400,
            "invalid_limit",
            Some("limit"),
        ),
        (
            format!("{s}&cursor=bm9wZQ"),
            422,
            "invalid_cursor",
            Some("cursor"),
        ),
        (
            format!("{s}&sort=random"),
            400,
            "invalid_field",
            Some("sort"),
        ),
        (
            format!("{s}&depart_time=18:00-06:00"),
            422,
            "invalid_range",
            Some("depart_time"),
        ),
        (
            format!("{s}&carriers=ZZ9"),
            422,
            "unknown_carrier",
            Some("carriers"),
        ),
        (
            format!("{s}&alliances=galaxy"),
            400,
            "unknown_alliance",
            Some("alliances"),
        ),
        (
            format!("{s}&max_stops=3"),
            400,
            "invalid_field",
            Some("max_stops"),
        ),
        (
            format!("{s}&max_price=-5"),
            400,
            "invalid_field",
            Some("max_price"),
        ),
        (format!("{s}&depart=%zz"), 400, "malformed_query", None),
        (
            format!("{s}&origin=CDG"),
            400,
            "malformed_query",
            Some("origin"),
        ),
        (
            "/api/v1/explore?origin=LHR&depart_from=2026-12-10&min_hours=5&max_hours=2".into(),
            422,
            "invalid_range",
            Some("min_hours"),
        ),
        (
            "/api/v1/explore?origin=LHR&depart_from=2026-12-10&max_hours=100".into(),
            422,
            "invalid_range",
            Some("max_hours"),
        ),
        (
            "/api/v1/explore?origin=LHR&depart_from=2026-12-10&depart_to=2026-12-05".into(),
            422,
            "invalid_range",
            Some("depart_to"),
        ),
        (
            "/api/v1/explore?origin=LHR&depart_from=2026-12-01&depart_to=2026-12-30".into(),
            422,
            "range_too_long",
            Some("depart_to"),
        ),
        (
            "/api/v1/explore?origin=QQQ".into(),
            422,
            "unknown_airport",
            Some("origin"),
        ),
        (
            "/api/v1/explore?origin=LHR&limit=501".into(),
            400,
            "invalid_limit",
            Some("limit"),
        ),
        (
            "/api/v1/explore?origin=LHR&group_by=planet".into(),
            400,
            "invalid_field",
            Some("group_by"),
        ),
        (
            "/api/v1/calendar?origin=LHR&destination=JFK&from=2026-12-10&to=2026-12-01".into(),
            422,
            "invalid_range",
            Some("to"),
        ),
        (
            "/api/v1/calendar?origin=LHR&destination=JFK&from=2026-12-01&to=2026-12-20&nights=5..2"
                .into(),
            422,
            "invalid_range",
            Some("nights"),
        ),
        (
            "/api/v1/calendar?origin=LHR&destination=JFK&from=2026-11-01".into(),
            422,
            "date_in_past",
            Some("from"),
        ),
        (
            "/api/v1/airports?q=lon&limit=1000".into(),
            400,
            "invalid_limit",
            Some("limit"),
        ),
        ("/api/v1/airports".into(), 400, "missing_field", Some("q")),
        (
            "/api/v1/airports/ZZZ".into(),
            404,
            "not_found",
            Some("code"),
        ),
        ("/api/v1/airlines/Z".into(), 404, "not_found", Some("code")),
        ("/api/v1/nowhere".into(), 404, "not_found", None),
    ];
    for (url, status, code, field) in cases {
        let (s, ct, body) = app.get(&url).await;
        assert_eq!(
            (s, body["code"].as_str().unwrap_or("")),
            (status, code),
            "{url}: {body}"
        );
        assert_eq!(ct, "application/problem+json", "{url}");
        assert_eq!(body["status"], status);
        if let Some(f) = field {
            assert!(
                body["errors"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|x| x["field"] == f)),
                "{url}: {body}"
            );
        }
    }
    let posts: Vec<(&str, String, u16, &str, Option<&str>)> = vec![
        ("application/json", "{not json".into(), 400, "malformed_json", None),
        ("application/json", r#"{"origin":"LHR","destination":"JFK","depart":"2026-12-10","adults":"two"}"#.into(), 400, "malformed_json", Some("adults")),
        ("application/json", r#"{"origin":"LHR","destination":"JFK","depart":"2026-12-10","colour":"red"}"#.into(), 400, "malformed_json", None),
        ("text/plain", "{}".into(), 415, "unsupported_media_type", None),
        ("application/json", format!("{{\"origin\":\"{}\"}}", "x".repeat(70_000)), 413, "payload_too_large", None),
        ("application/json", format!("{{\"slices\":[{}]}}", [r#"{"origin":"LHR","destination":"CDG","date":"2026-12-05"}"#; 7].join(",")), 400, "too_many_slices", Some("slices")),
        ("application/json", r#"{"slices":[{"origin":"LHR","destination":"CDG","date":"2026-12-09"},{"origin":"CDG","destination":"FRA","date":"2026-12-05"}]}"#.into(), 422, "return_before_outbound", Some("slices[1].date")),
    ];
    for (ct, body, status, code, field) in posts {
        let (s, rct, r) = app.post("/api/v1/search", ct, body).await;
        assert_eq!((s, r["code"].as_str().unwrap_or("")), (status, code), "{r}");
        assert_eq!(rct, "application/problem+json");
        if let Some(f) = field {
            assert!(
                r["errors"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|x| x["field"] == f)),
                "{r}"
            );
        }
    }
    let r = app
        .client
        .delete(format!("{}/api/v1/search", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "method_not_allowed"
    );
}

/// Round trips offer the variety of one-way searches (issue #9: returns stopped at exactly 60
/// combinations, all nonstops on one airport pair): other airports of the city, connections,
/// many airlines, paginated to the end; and the cheapest round trip is the cheapest outbound
/// plus the cheapest return (days apart, so any pair fits).
#[tokio::test]
async fn round_trips_are_varied_paginated_and_cheapest_first() {
    let app = TestApp::spawn().await;
    let base = "/api/v1/search?origin=LON&destination=NYC&depart=2026-12-10&return=2026-12-14";
    let mut all: Vec<Value> = vec![];
    let mut cursor = String::new();
    let total = loop {
        let (s, _, page) = app.get(&format!("{base}&limit=100{cursor}")).await;
        assert_eq!(s, 200, "{page}");
        all.extend(page["itineraries"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break page["summary"]["total"].as_u64().unwrap(),
        }
    };
    assert_eq!(all.len() as u64, total);
    assert!(total > 60, "{total} combinations");
    let ids: std::collections::HashSet<&str> =
        all.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), all.len(), "no combination twice across pages");
    // Every airport pair, stop count and airline the one-way outbound search offers is in
    // some round trip.
    let (_, _, one_way) = app
        .get("/api/v1/search?origin=LON&destination=NYC&depart=2026-12-10&limit=100")
        .await;
    type Kinds = (
        std::collections::BTreeSet<String>,
        std::collections::BTreeSet<u64>,
        std::collections::BTreeSet<String>,
    );
    let kinds = |slices: Vec<&Value>| -> Kinds {
        let mut k: Kinds = Default::default();
        for s in slices {
            k.0.insert(format!("{}-{}", s["origin"], s["destination"]));
            k.1.insert(s["stops"].as_u64().unwrap());
            for seg in s["segments"].as_array().unwrap() {
                k.2.insert(seg["carrier"].to_string());
            }
        }
        k
    };
    let offered = kinds(
        one_way["itineraries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| &i["slices"][0])
            .collect(),
    );
    let outbound = kinds(all.iter().map(|i| &i["slices"][0]).collect());
    assert!(
        offered.0.is_subset(&outbound.0),
        "{offered:?} vs {outbound:?}"
    );
    assert!(
        offered.1.is_subset(&outbound.1),
        "{offered:?} vs {outbound:?}"
    );
    assert!(
        offered.2.is_subset(&outbound.2),
        "{offered:?} vs {outbound:?}"
    );
    let cheapest_one_way = |path: &'static str| {
        let app = &app;
        async move {
            let (_, _, r) = app.get(path).await;
            r["summary"]["cheapest"]["price"]["minor"].as_u64().unwrap()
        }
    };
    let out = cheapest_one_way("/api/v1/search?origin=LON&destination=NYC&depart=2026-12-10").await;
    let back =
        cheapest_one_way("/api/v1/search?origin=NYC&destination=LON&depart=2026-12-14").await;
    let cheapest = all
        .iter()
        .map(|i| i["price"]["minor"].as_u64().unwrap())
        .min()
        .unwrap();
    assert_eq!(cheapest, out + back);
}

/// Prices in the traveller's currency: converted at the ECB reference rate shipped as
/// reference data, in integer minor units by ISO 4217 digits, rounded half up; the rate and
/// its date come with the answer; a price cap is in the chosen currency.
#[tokio::test]
async fn prices_in_the_travellers_currency() {
    let app = TestApp::spawn().await;
    let base = "/api/v1/search?origin=LHR&destination=JFK&depart=2026-12-10&sort=cheapest&limit=50";
    let (_, _, eur) = app.get(base).await;
    assert_eq!(eur["currency"], "EUR");
    assert!(eur["exchange_rate"].is_null());
    for (code, digits) in [("GBP", 2u32), ("JPY", 0)] {
        let (s, _, other) = app.get(&format!("{base}&currency={code}")).await;
        assert_eq!(s, 200, "{other}");
        assert_eq!(other["currency"], code);
        let rate = &other["exchange_rate"];
        assert_eq!((&rate["from"], &rate["to"]), (&json!("EUR"), &json!(code)));
        assert_eq!(rate["date"], "2026-10-30");
        // The rate as a fraction (millionths), to convert exactly as the API must.
        let (whole, frac) = rate["rate"]
            .as_str()
            .unwrap()
            .split_once('.')
            .unwrap_or((rate["rate"].as_str().unwrap(), ""));
        let millionths: u128 = whole.parse::<u128>().unwrap() * 1_000_000
            + format!("{frac:0<6}").parse::<u128>().unwrap();
        let convert = |eur_minor: u64| {
            let num = eur_minor as u128 * millionths * 10u128.pow(digits);
            ((num + 50_000_000) / 100_000_000) as u64
        };
        let a = eur["itineraries"].as_array().unwrap();
        let b = other["itineraries"].as_array().unwrap();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x["id"], y["id"]);
            let minor = y["price"]["minor"].as_u64().unwrap();
            assert_eq!(minor, convert(x["price"]["minor"].as_u64().unwrap()));
            let amount = y["price"]["amount"].as_str().unwrap();
            assert_eq!(
                amount.split('.').nth(1).map_or(0, str::len),
                digits as usize,
                "{amount}"
            );
        }
    }
    // A cap in pounds keeps exactly the itineraries priced within it in pounds.
    let (_, _, gbp) = app.get(&format!("{base}&currency=GBP")).await;
    let third = gbp["itineraries"][2]["price"]["minor"].as_u64().unwrap();
    let cap = format!("{}.{:02}", third / 100, third % 100);
    let (_, _, capped) = app
        .get(&format!("{base}&currency=GBP&max_price={cap}"))
        .await;
    let within = gbp["itineraries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["price"]["minor"].as_u64().unwrap() <= third)
        .count() as u64;
    assert_eq!(capped["summary"]["total"].as_u64().unwrap(), within);
    let (_, _, list) = app.get("/api/v1/currencies").await;
    let find = |c: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|x| x["code"] == c)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (
            find("EUR")["per_eur"].clone(),
            find("JPY")["digits"].clone()
        ),
        (json!("1"), json!(0))
    );
    assert_eq!(find("GBP")["name"], "Pound sterling");
    let (s, _, bad) = app.get(&format!("{base}&currency=XYZ")).await;
    assert_eq!((s, &bad["code"]), (422, &json!("unknown_currency")));
    // The calendar and explore speak it too.
    let (_, _, cal) = app
        .get("/api/v1/calendar?origin=LHR&destination=JFK&from=2026-12-10&to=2026-12-12&currency=GBP")
        .await;
    assert_eq!(cal["cheapest"]["price"]["currency"], "GBP");
    let (_, _, ex) = app
        .get("/api/v1/explore?origin=LHR&depart_from=2026-12-10&currency=JPY&limit=3")
        .await;
    assert_eq!(ex["destinations"][0]["price"]["currency"], "JPY");
}

/// `server.services` decides what a process mounts and builds: a users-only process has no
/// inventory and no search routes; a search-only one opens no database and has no account
/// routes; the document lists what is served.
#[tokio::test]
async fn services_decide_what_a_process_runs() {
    let users = spawn_app_with(Backend::Sqlite, |s| {
        s.server.services = vec![ServiceName::Users]
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let ready: Value = http
        .get(format!("{}/readyz", users.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["services"], json!(["users"]));
    assert!(
        ready.get("inventory").is_none() && ready.get("bookable_from").is_none(),
        "{ready}"
    );
    let (s, _, _) = send(http.get(format!("{}/api/v1/airports?q=london", users.base))).await;
    assert_eq!(s, 404, "no search routes");
    assert_eq!(users.register("solo@example.com", "Solo").await.status, 202);
    let (_, _, doc) = send(http.get(format!("{}/api/v1/openapi.json", users.base))).await;
    assert!(doc["paths"]["/api/v1/auth/register"].is_object());
    assert!(doc["paths"]["/api/v1/search"].is_null());

    let search = search_app(|_| {}).await;
    assert!(search.service.is_none());
    assert!(
        !search.data_dir.exists(),
        "a search-only process opens no database"
    );
    let (_, _, ready) = send(http.get(format!("{}/readyz", search.base))).await;
    assert_eq!(ready["services"], json!(["search"]));
    assert_eq!(ready["bookable_from"], TODAY);
    let (s, _, _) = send(
        http.post(format!("{}/api/v1/auth/login", search.base))
            .json(&json!({"email": "a@b.c", "password": "x"})),
    )
    .await;
    assert_eq!(s, 404, "no account routes");
    let (_, _, doc) = send(http.get(format!("{}/api/v1/openapi.json", search.base))).await;
    assert!(doc["paths"]["/api/v1/auth/register"].is_null());

    // The market needs the world, but a market-only process answers no searches.
    let market = spawn_app_with(Backend::Sqlite, |s| {
        s.server.services = vec![ServiceName::Market];
    })
    .await
    .unwrap();
    let (_, _, ready) = send(http.get(format!("{}/readyz", market.base))).await;
    assert_eq!(ready["services"], json!(["market"]));
    assert!(ready.get("bookable_from").is_none(), "{ready}");
    let (s, _, _) = send(http.get(format!("{}/api/v1/airports?q=london", market.base))).await;
    assert_eq!(s, 404, "no search routes");
}

/// `/metrics` counts requests by method, matched route (the pattern, not the raw path) and
/// status, with their latency, in Prometheus' text format.
#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = TestApp::spawn().await;
    for code in ["LHR", "JFK", "XXX"] {
        app.get(&format!("/api/v1/airports/{code}")).await;
    }
    let r = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; version=0.0.4");
    let text = r.text().await.unwrap();
    let count = |status: &str| {
        let series = format!(
            "http_requests_total{{method=\"GET\",route=\"/api/v1/airports/{{code}}\",status=\"{status}\"}} "
        );
        text.lines()
            .find_map(|l| l.strip_prefix(&series))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Other tests of this process add to the same counters: at least ours.
    assert!(
        count("200") >= 2 && count("422") + count("404") >= 1,
        "{text}"
    );
    assert!(text.contains(
        "http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/airports/{code}\""
    ));
    assert!(
        !text.contains("route=\"/api/v1/airports/LHR\""),
        "raw paths are not labels"
    );
}
