//! `spontra bench live`: live search on the simulated provider network with its default
//! character (latencies up to 30 s, errors, hangs, garbage, rate limits), over HTTP as a
//! client sees it. Measured per search, from the moment the client asks:
//!
//! - when the Browse answer arrives (shown first), and when the first live prices do;
//! - when 95 % of the offers the search ends with are in, and the share of searches with
//!   95 % of their offers in by 10 s;
//! - de-duplication: the itineraries merged from the providers' offers against the ones the
//!   providers sell (the search service's answer for the query, filtered by each provider's
//!   carriers: every fare brand and codeshare number is an injected duplicate) — precision and
//!   recall over the providers that answered;
//! - a cache hit (the same query asked again) over HTTP, and a hundred concurrent searches for
//!   one new query against the providers' call counts.

use crate::application::Application;
use crate::bench::percentile;
use crate::cli::WorldArgs;
use crate::config::ServiceName;
use crate::sim_providers::SimProviderSettings;
use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct LiveBenchArgs {
    /// Live searches made (the first of the query file's lines).
    #[arg(long, default_value_t = 200)]
    searches: usize,
    /// Searches in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// CSV of `origin,destination,date` (date as YYYY-MM-DD or +N days from today).
    #[arg(long, default_value = "bench/queries.csv")]
    queries: PathBuf,
    /// Cache hits timed.
    #[arg(long, default_value_t = 2_000)]
    hits: usize,
    #[command(flatten)]
    world: WorldArgs,
}

/// What one search showed its client, and when (from the request).
#[derive(Default)]
struct Timeline {
    browse: Option<Duration>,
    browse_results: usize,
    first_live: Option<Duration>,
    /// Offers of the providers that had answered, at each answer.
    offers: Vec<(Duration, u64)>,
    final_offers: u64,
    /// The providers that answered, and what became of each.
    outcomes: Vec<(String, String)>,
    /// Itineraries merged, as flown (operating carrier, airports, local departure).
    merged: HashSet<String>,
    /// Offers that fell together with another of the same itinerary and provider.
    folded: u64,
    sold: HashSet<String>,
}

fn flown(segments: &[Value], carrier: &str, departing: &str) -> String {
    segments
        .iter()
        .map(|g| {
            format!(
                "{}:{}-{}@{}",
                g[carrier].as_str().unwrap_or(""),
                g["origin"].as_str().unwrap_or(""),
                g["destination"].as_str().unwrap_or(""),
                g.pointer(departing)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .chars()
                    .take(16)
                    .collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn slices_key(it: &Value, carrier: &str, departing: &str) -> String {
    it["slices"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|s| {
                    flown(
                        s["segments"].as_array().map_or(&[], |v| v),
                        carrier,
                        departing,
                    )
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .unwrap_or_default()
}

/// One live search followed on its event stream, beside the Browse search for the same query.
async fn one(
    http: &reqwest::Client,
    base: &str,
    sims: &[SimProviderSettings],
    body: Value,
) -> anyhow::Result<Timeline> {
    let t0 = Instant::now();
    let mut t = Timeline::default();
    let browse_url = format!(
        "{base}/api/v1/search?origin={}&destination={}&depart={}&limit=100&max_stops=2",
        body["origin"].as_str().unwrap_or(""),
        body["destination"].as_str().unwrap_or(""),
        body["depart"].as_str().unwrap_or("")
    );
    let browse = async {
        let v: Value = http.get(&browse_url).send().await?.json().await?;
        anyhow::Ok((t0.elapsed(), v))
    };
    let live = async {
        let first: Value = http
            .post(format!("{base}/api/v1/live-searches"))
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        let id = first["id"]
            .as_str()
            .context("a live search id")?
            .to_string();
        let mut answers = vec![(t0.elapsed(), first.clone())];
        if first["status"] != "complete" {
            let mut stream = http
                .get(format!("{base}/api/v1/live-searches/{id}/events"))
                .send()
                .await?;
            let mut buffer = String::new();
            'read: while let Some(chunk) = stream.chunk().await? {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let event: String = buffer.drain(..end + 2).collect();
                    let data: String = event
                        .lines()
                        .filter_map(|l| l.strip_prefix("data:"))
                        .map(str::trim_start)
                        .collect();
                    if data.is_empty() {
                        continue;
                    }
                    let v: Value = serde_json::from_str(&data)?;
                    let done = v["status"] == "complete";
                    answers.push((t0.elapsed(), v));
                    if done {
                        break 'read;
                    }
                }
            }
        }
        anyhow::Ok(answers)
    };
    let (browse, answers) = tokio::join!(browse, live);
    let (at, browse) = browse?;
    let answers = answers?;
    t.browse = Some(at);
    t.browse_results = browse["itineraries"].as_array().map_or(0, Vec::len);
    let mut pairs: HashMap<(String, String), u64> = HashMap::new();
    for (at, a) in &answers {
        let offers: u64 = a["providers"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["offers"].as_u64()).sum())
            .unwrap_or(0);
        t.offers.push((*at, offers));
        if t.first_live.is_none() && a["total"].as_u64().unwrap_or(0) > 0 {
            t.first_live = Some(*at);
        }
        for it in a["itineraries"].as_array().into_iter().flatten() {
            let key = slices_key(it, "operating_carrier", "/departing_at");
            for p in it["prices"].as_array().into_iter().flatten() {
                let fares = 1 + p["other_fares"].as_array().map_or(0, Vec::len) as u64;
                pairs.insert(
                    (
                        key.clone(),
                        p["provider"].as_str().unwrap_or("").to_string(),
                    ),
                    fares,
                );
            }
            t.merged.insert(key);
        }
    }
    t.folded = pairs.values().map(|f| f - 1).sum();
    let last = &answers.last().context("an answer")?.1;
    t.final_offers = t.offers.last().map_or(0, |o| o.1);
    t.outcomes = last["providers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("").to_string(),
                p["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    // What the providers that answered sell of the Browse answer (the simulated providers
    // sell from the same answer: its first 100 itineraries).
    t.sold = browse["itineraries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|it| (it, slices_key(it, "carrier", "/departure/local")))
        .filter(|(it, _)| {
            sims.iter()
                .filter(|s| {
                    t.outcomes
                        .iter()
                        .any(|(n, status)| *n == s.name && status == "complete")
                })
                .any(|s| {
                    it["slices"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .flat_map(|sl| sl["segments"].as_array().into_iter().flatten())
                        .all(|g| s.sells(g["carrier"].as_str().unwrap_or("")))
                })
        })
        .map(|(_, k)| k)
        .collect();
    Ok(t)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn line(name: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    println!(
        "{name:<44} n={:<5} p50={:>9.1} ms  p95={:>9.1} ms  p99={:>9.1} ms  max={:>9.1} ms",
        v.len(),
        percentile(&v, 0.5),
        percentile(&v, 0.95),
        percentile(&v, 0.99),
        v.last().copied().unwrap_or(0.0)
    );
}

pub fn run(args: LiveBenchArgs) -> anyhow::Result<ExitCode> {
    let mut settings = args.world.settings()?;
    settings.server.services = vec![ServiceName::Search];
    settings.server.bind = "127.0.0.1:0".into();
    settings.web.dir = None;
    settings.log.filter = "error".into();
    settings.simulated_providers.start = true;
    let sims = Arc::new(settings.simulated_providers.providers.clone());
    let text = std::fs::read_to_string(&args.queries)
        .with_context(|| format!("reading {}", args.queries.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = Application::build(settings).await?;
        let base = format!("http://{}", app.address());
        let today = app
            .parts()
            .world
            .as_ref()
            .map(|w| w.today)
            .context("the world")?;
        let running = app.parts().sim_providers.clone();
        tokio::spawn(app.run(std::future::pending()));
        let mut bodies = vec![];
        for (i, l) in text.lines().enumerate() {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            if f.len() != 3 || (i == 0 && f[0] == "origin") {
                continue;
            }
            let date = match f[2].strip_prefix('+') {
                Some(d) => today + chrono::Days::new(d.parse().context("a +N date")?),
                None => f[2].parse().context("a date")?,
            };
            bodies.push(json!({"origin": f[0], "destination": f[1], "depart": date.to_string(), "max_stops": 2}));
            if bodies.len() == args.searches + 1 {
                break;
            }
        }
        anyhow::ensure!(bodies.len() > 1, "too few queries in {}", args.queries.display());
        let spare = bodies.pop().context("a query")?;
        println!(
            "live search: {} searches, {} at once, providers {:?} (latency medians {:?} ms, capped {:?} ms)",
            bodies.len(),
            args.concurrency,
            running.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            sims.iter().map(|s| s.latency_median_ms).collect::<Vec<_>>(),
            sims.iter().map(|s| s.latency_max_ms).collect::<Vec<_>>(),
        );
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
        let gate = Arc::new(tokio::sync::Semaphore::new(args.concurrency.max(1)));
        let started = Instant::now();
        let mut tasks = vec![];
        for body in bodies.clone() {
            let (http, base, gate, sims) = (http.clone(), base.clone(), gate.clone(), sims.clone());
            tasks.push(tokio::spawn(async move {
                let _slot = gate.acquire_owned().await;
                one(&http, &base, &sims, body).await
            }));
        }
        let mut timelines = vec![];
        for t in tasks {
            match t.await? {
                Ok(t) => timelines.push(t),
                Err(e) => println!("a search failed at the client: {e:#}"),
            }
        }
        println!("{} searches in {:.1} s", timelines.len(), started.elapsed().as_secs_f64());
        let answered: Vec<&Timeline> = timelines.iter().filter(|t| t.browse_results > 0).collect();
        line("Browse answer (shown first)", answered.iter().filter_map(|t| t.browse.map(ms)).collect());
        line("first live prices", answered.iter().filter_map(|t| t.first_live.map(ms)).collect());
        line(
            "first results (Browse or live)",
            answered
                .iter()
                .filter_map(|t| [t.browse, t.first_live].into_iter().flatten().min().map(ms))
                .collect(),
        );
        let mut in_by_10 = 0;
        let mut t95 = vec![];
        let with_offers: Vec<&&Timeline> = answered.iter().filter(|t| t.final_offers > 0).collect();
        for t in &with_offers {
            let need = (t.final_offers as f64 * 0.95).ceil() as u64;
            let at = t.offers.iter().find(|(_, o)| *o >= need).map(|(at, _)| *at);
            if let Some(at) = at {
                t95.push(ms(at));
                if at <= Duration::from_secs(10) {
                    in_by_10 += 1;
                }
            }
        }
        line("95 % of the search's offers in", t95);
        println!(
            "searches with 95 % of their offers in by 10 s: {in_by_10} of {} ({:.1} %)",
            with_offers.len(),
            100.0 * in_by_10 as f64 / with_offers.len().max(1) as f64
        );
        let mut outcomes: HashMap<(String, String), usize> = HashMap::new();
        for t in &timelines {
            for o in &t.outcomes {
                *outcomes.entry(o.clone()).or_default() += 1;
            }
        }
        let mut outcomes: Vec<_> = outcomes.into_iter().collect();
        outcomes.sort();
        println!("provider outcomes: {outcomes:?}");
        let (mut tp, mut fp, mut missed, mut folded, mut offers) = (0usize, 0usize, 0usize, 0u64, 0u64);
        for t in &answered {
            tp += t.merged.intersection(&t.sold).count();
            fp += t.merged.difference(&t.sold).count();
            missed += t.sold.difference(&t.merged).count();
            folded += t.folded;
            offers += t.final_offers;
        }
        println!(
            "de-duplication: {offers} offers ({folded} fare brands and codeshare numbers of an itinerary already offered) → {} itineraries; precision {:.2} %, recall {:.2} % ({fp} merged that are not sold, {missed} sold not found)",
            tp + fp,
            100.0 * tp as f64 / (tp + fp).max(1) as f64,
            100.0 * tp as f64 / (tp + missed).max(1) as f64
        );
        // A cache hit: the first query again, one request at a time.
        let hit = bodies.first().cloned().context("a query")?;
        let mut hits = vec![];
        for _ in 0..args.hits {
            let at = Instant::now();
            let r = http.post(format!("{base}/api/v1/live-searches")).json(&hit).send().await?;
            let _ = r.bytes().await?;
            hits.push(ms(at.elapsed()));
        }
        line("cache hit (POST, answer complete)", hits);
        // A hundred at once for a query not asked before.
        let before: Vec<u64> = running.iter().map(|r| r.requests()).collect();
        let mut burst = vec![];
        for _ in 0..100 {
            let (http, base, body) = (http.clone(), base.clone(), spare.clone());
            burst.push(tokio::spawn(async move {
                http.post(format!("{base}/api/v1/live-searches")).json(&body).send().await
            }));
        }
        for b in burst {
            let _ = b.await?;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let calls: Vec<u64> = running.iter().zip(&before).map(|(r, b)| r.requests() - b).collect();
        println!("100 concurrent searches for one new query: provider calls {calls:?}");
        Ok(ExitCode::SUCCESS)
    })
}
