#![allow(clippy::unwrap_used, clippy::expect_used)] // a measuring tool: failures are reports
//! Load against a running `spontra serve` (started by `scripts/load`), measured, not asserted.
//!
//! `accounts`: pre-registers N/2 accounts, then releases N/2 registrations and N/2 sign-ins at
//! one instant, each client from its own address (`X-Forwarded-For`; the server must trust
//! it), while `/healthz` is asked every 10 ms. Prints the answers by status and the latency
//! percentiles of the burst and of `/healthz` under it.
//!
//! `search`: cheap point-to-point searches alone, then the same while 16 heavy explores
//! (two stops, 14 days) run at once; prints latency percentiles of each and what the heavy
//! ones were answered.
//!
//! `alerts`: the accounts `scripts/load` made create 50 price alerts each at once while the
//! market runs; then they are listed in turn; prints latencies, what the alerts told, and
//! pricing's lag (does evaluating alerts on every recorded batch keep up with the market?).
//!
//! `cargo run --release -p spontra --example load -- accounts http://127.0.0.1:8080 400`

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name}: n={} p50={:.1} ms p90={:.1} ms p99={:.1} ms max={:.1} ms",
        times.len(),
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.90)),
        ms(percentile(&times, 0.99)),
        ms(times.last().copied().unwrap_or_default())
    );
}

fn address(i: usize) -> String {
    format!("10.{}.{}.{}", i / 62_500, (i / 250) % 250, i % 250 + 1)
}

const PASSWORD: &str = "load test password 2026";

/// Poll `/healthz` every 10 ms until `stop` is set; the latencies.
fn probe_health(
    http: reqwest::Client,
    base: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Duration>> {
    tokio::spawn(async move {
        let mut times = vec![];
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let t = Instant::now();
            let r = http.get(format!("{base}/healthz")).send().await;
            if r.map(|r| r.status().is_success()).unwrap_or(false) {
                times.push(t.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        times
    })
}

async fn accounts(base: &str, clients: usize) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let half = clients / 2;
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    // Existing accounts to sign in to, registered 16 at a time.
    let started = Instant::now();
    for chunk in (0..half).collect::<Vec<_>>().chunks(16) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|&i| {
                let (http, base, run) = (http.clone(), base.to_string(), run.clone());
                tokio::spawn(async move {
                    http.post(format!("{base}/api/v1/auth/register"))
                        .header("x-forwarded-for", address(100_000 + i))
                        .json(&serde_json::json!({"email": format!("old{i}-{run}@load.example"), "password": PASSWORD, "display_name": "Load"}))
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0)
                })
            })
            .collect();
        for t in tasks {
            let s = t.await.unwrap();
            assert_eq!(s, 201, "pre-registration failed with {s}");
        }
    }
    println!(
        "pre-registered {half} accounts in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let health = probe_health(http.clone(), base.to_string(), stop.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(clients));
    let burst_start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let (http, base, run, barrier) =
                (http.clone(), base.to_string(), run.clone(), barrier.clone());
            tokio::spawn(async move {
                let req = if i % 2 == 0 {
                    http.post(format!("{base}/api/v1/auth/register")).json(&serde_json::json!({
                        "email": format!("new{i}-{run}@load.example"), "password": PASSWORD, "display_name": "Load"}))
                } else {
                    http.post(format!("{base}/api/v1/auth/login")).json(&serde_json::json!({
                        "email": format!("old{}-{run}@load.example", i / 2), "password": PASSWORD}))
                };
                let req = req
                    .header("x-forwarded-for", address(i))
                    .timeout(Duration::from_secs(60));
                barrier.wait().await;
                let t = Instant::now();
                let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
                (status, t.elapsed())
            })
        })
        .collect();
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    let mut times = vec![];
    for t in tasks {
        let (status, took) = t.await.unwrap();
        *by_status.entry(status).or_default() += 1;
        times.push(took);
    }
    let wall = burst_start.elapsed();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let health = health.await.unwrap();
    println!(
        "burst of {clients} ({half} registrations + {half} sign-ins) done in {:.2} s; answers by status: {by_status:?} (0 = no answer)",
        wall.as_secs_f64()
    );
    let failed: usize = by_status
        .iter()
        .filter(|(s, _)| **s >= 500 || **s == 0)
        .map(|(_, n)| n)
        .sum();
    println!("responses >= 500 or missing: {failed}");
    summary("burst request latency", times);
    summary("/healthz during the burst", health);
}

async fn timed_get(http: &reqwest::Client, url: &str) -> (u16, Duration) {
    let t = Instant::now();
    let status = http
        .get(url)
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    (status, t.elapsed())
}

async fn search(base: &str, day: &str, heavy_to: &str) {
    let http = reqwest::Client::new();
    let cheap = [
        ("LHR", "JFK"),
        ("FRA", "SIN"),
        ("CDG", "BCN"),
        ("AMS", "LIS"),
        ("MAD", "FCO"),
    ];
    let cheap_round = |http: reqwest::Client| {
        let base = base.to_string();
        let day = day.to_string();
        async move {
            let mut times = vec![];
            for _ in 0..20 {
                for (o, d) in cheap {
                    let url = format!(
                        "{base}/api/v1/search?origin={o}&destination={d}&depart={day}&limit=20"
                    );
                    let (s, t) = timed_get(&http, &url).await;
                    assert_eq!(s, 200, "{url}");
                    times.push(t);
                }
            }
            times
        }
    };
    summary("cheap searches alone", cheap_round(http.clone()).await);
    let heavy_url = format!(
        "{base}/api/v1/explore?origin=LHR&depart_from={day}&depart_to={heavy_to}&max_stops=2"
    );
    let heavy: Vec<_> = (0..16)
        .map(|_| {
            let (http, url) = (http.clone(), heavy_url.clone());
            tokio::spawn(async move { timed_get(&http, &url).await })
        })
        .collect();
    let during = cheap_round(http.clone()).await;
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    let mut heavy_times = vec![];
    for h in heavy {
        let (s, t) = h.await.unwrap();
        *by_status.entry(s).or_default() += 1;
        heavy_times.push(t);
    }
    summary("cheap searches while 16 heavy explores run", during);
    summary("heavy explores (LHR, 2 stops, 14 days)", heavy_times);
    println!("heavy explores answered: {by_status:?}");
}

/// One number from the Prometheus text: the sum of the samples of `name` (any labels).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn metrics(http: &reqwest::Client, base: &str) -> String {
    http.get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// `alerts`: the accounts `scripts/load` created (verified, `load{i}@example.com`) sign in and
/// create 50 alerts each on busy routes and anywhere from hubs, while the market runs; then
/// for `seconds` the alerts are listed by every user in turn. Prints creation and listing
/// latency, alerts told and mails sent, and pricing's lag and recorded reports over the run.
async fn alerts(base: &str, users: usize, seconds: u64) {
    let http = reqwest::Client::new();
    let ready: serde_json::Value = http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let from: chrono::NaiveDate = ready["bookable_from"].as_str().unwrap().parse().unwrap();
    let routes = [
        ("LHR", "JFK"),
        ("LHR", "DXB"),
        ("FRA", "JFK"),
        ("CDG", "JFK"),
        ("AMS", "LHR"),
        ("MAD", "BCN"),
        ("LHR", "DUB"),
        ("FRA", "LHR"),
        ("CDG", "FCO"),
        ("LGW", "BCN"),
    ];
    let hubs = ["LHR", "FRA", "CDG", "AMS", "MAD"];
    let mut tokens = vec![];
    for i in 0..users {
        let r: serde_json::Value = http
            .post(format!("{base}/api/v1/auth/login"))
            .header("x-forwarded-for", address(i))
            .json(
                &serde_json::json!({"email": format!("load{i}@example.com"), "password": PASSWORD}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(r["access_token"].as_str().expect("signed in").to_string());
    }
    let before = metrics(&http, base).await;
    let mut create_times = vec![];
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let tasks: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(u, token)| {
            let (http, base, token) = (http.clone(), base.to_string(), token.clone());
            tokio::spawn(async move {
                let mut out = vec![];
                for n in 0..50usize {
                    let k = u * 50 + n;
                    let day = from + chrono::Days::new(3 + (k % 20) as u64);
                    // Limits from €60 to €600: some already met, most waiting.
                    let amount = 60 + (k * 37) % 540;
                    let body = if k % 5 == 4 {
                        serde_json::json!({"origin": hubs[k % hubs.len()],
                            "flight_minutes": {"min": 60, "max": 240},
                            "dates": {"type": "range", "from": day.to_string(), "to": (day + chrono::Days::new(6)).to_string()},
                            "notify": {"when": "below", "amount": amount.to_string()}})
                    } else {
                        let (o, d) = routes[k % routes.len()];
                        serde_json::json!({"origin": o, "destination": d,
                            "dates": {"type": "flexible", "departure": day.to_string(), "days": 2},
                            "notify": if k % 2 == 0 { serde_json::json!({"when": "below", "amount": amount.to_string()}) }
                                      else { serde_json::json!({"when": "new_low", "percent": 5}) }})
                    };
                    let t = Instant::now();
                    let status = http
                        .post(format!("{base}/api/v1/alerts"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    out.push((status, t.elapsed()));
                }
                out
            })
        })
        .collect();
    for t in tasks {
        for (s, d) in t.await.unwrap() {
            *statuses.entry(s).or_default() += 1;
            create_times.push(d);
        }
    }
    println!("alerts created ({users} users, 50 each, all at once): {statuses:?}");
    summary("create an alert (evaluated at once)", create_times);
    let start = Instant::now();
    let mut list_times = vec![];
    let mut max_lag = 0f64;
    while start.elapsed() < Duration::from_secs(seconds) {
        for token in &tokens {
            let t = Instant::now();
            let r = http
                .get(format!("{base}/api/v1/alerts"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let _ = r.bytes().await;
            list_times.push(t.elapsed());
        }
        max_lag = max_lag.max(metric(&metrics(&http, base).await, "pricing_lag"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    summary("list 50 alerts", list_times);
    let after = metrics(&http, base).await;
    let delta = |name: &str| metric(&after, name) - metric(&before, name);
    println!(
        "over {seconds} s of market after creation: pricing recorded {:.0} reports, alerts told {:.0} (capped {:.0}), \
         mails sent {:.0}, dead {:.0}, evaluation errors {:.0}, sweeps {:.0}; pricing lag max {max_lag:.0} records, now {:.0}",
        delta("pricing_observations_total"),
        delta("pricing_alerts_fired_total"),
        delta("pricing_alerts_capped_total"),
        delta("notifications_sent_total"),
        delta("notifications_dead_total"),
        delta("pricing_alert_evaluation_errors_total"),
        delta("pricing_alert_sweeps_total"),
        metric(&after, "pricing_lag"),
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("accounts") => {
            let base = args.get(2).expect("base URL");
            let clients = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(400);
            accounts(base, clients).await;
        }
        Some("search") => {
            let base = args.get(2).expect("base URL");
            let day = args.get(3).expect("departure day YYYY-MM-DD");
            let to = args.get(4).expect("last day of the heavy explore window");
            search(base, day, to).await;
        }
        Some("alerts") => {
            let base = args.get(2).expect("base URL");
            let users = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(20);
            let seconds = args.get(4).and_then(|n| n.parse().ok()).unwrap_or(120);
            alerts(base, users, seconds).await;
        }
        _ => {
            eprintln!("usage: load accounts BASE [CLIENTS] | load search BASE DAY LAST_DAY | load alerts BASE [USERS] [SECONDS]");
            std::process::exit(2);
        }
    }
}
