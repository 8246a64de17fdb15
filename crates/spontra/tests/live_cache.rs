#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! Live search's second level against the real Redis on this machine: search processes share
//! one run per query (a burst of searches for one query spread over two processes asks each
//! provider once, and a third process finds the finished results without asking anyone); and
//! a Redis of the test's own stopped in the middle of a search changes nothing a traveller
//! sees — each process goes on alone, no error.

mod support;

use serde_json::{json, Value};
use spontra::config::ProviderSettings;
use spontra::sim_providers::{self, Running, SimProviderSettings};
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{spawn_app_with, Backend, Instance};

/// The demo's two providers without faults, answering after `ms`.
fn providers(ms: u64) -> Vec<SimProviderSettings> {
    SimProviderSettings::defaults()
        .into_iter()
        .map(|s| {
            let mut s = s.calm();
            s.latency_median_ms = ms;
            s.latency_max_ms = ms;
            s
        })
        .collect()
}

async fn sims(ms: u64) -> (Vec<Running>, Vec<ProviderSettings>) {
    let settings = providers(ms);
    let running = sim_providers::start(support::search_service(), settings.clone())
        .await
        .unwrap();
    let listed = running
        .iter()
        .zip(&settings)
        .map(|(r, s)| spontra::live::simulated(r, s))
        .collect();
    (running, listed)
}

async fn instance(listed: &[ProviderSettings], redis: &str, prefix: &str) -> Instance {
    let (listed, redis, prefix) = (listed.to_vec(), redis.to_string(), prefix.to_string());
    spawn_app_with(Backend::Sqlite, move |s| {
        s.simulated_providers.start = false;
        s.providers = listed;
        s.cache.redis_url = Some(redis);
        s.cache.key_prefix = prefix;
    })
    .await
    .unwrap()
}

fn calls(running: &[Running]) -> u64 {
    running.iter().map(Running::requests).sum()
}

fn body(origin: &str, destination: &str, depart: &str) -> Value {
    json!({"origin": origin, "destination": destination, "depart": depart, "max_stops": 2})
}

/// Poll `id` on `app` until complete; its itinerary ids.
async fn finished(app: &Instance, id: &str) -> (Value, HashSet<String>) {
    let started = Instant::now();
    loop {
        let r = app.get(&format!("/live-searches/{id}"), "").await;
        assert_eq!(r.status, 200, "{}", r.body);
        if r.body["status"] == "complete" {
            let ids = r.body["itineraries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|it| it["id"].as_str().unwrap().to_string())
                .collect();
            return (r.body, ids);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never completed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every key under `prefix` deleted.
async fn clean(url: &str, prefix: &str) {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut c)
        .await
        .unwrap();
    for k in keys {
        let _: i64 = redis::cmd("DEL").arg(k).query_async(&mut c).await.unwrap();
    }
}

const REDIS: &str = "redis://127.0.0.1:6379/";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn search_processes_share_one_run_per_query_through_redis() {
    let prefix = format!("spontra:test:{}:", uuid::Uuid::new_v4().simple());
    let (running, listed) = sims(500).await;
    let a = instance(&listed, REDIS, &prefix).await;
    let b = instance(&listed, REDIS, &prefix).await;
    let request = support::raw::post_json(
        "/api/v1/live-searches",
        &body("LHR", "JFK", "2026-12-18").to_string(),
        &[],
    );
    // Fifty searches on each process, released at one instant.
    let (on_a, on_b) = tokio::join!(
        support::raw::burst(a.addr, vec![request.clone(); 50]),
        support::raw::burst(b.addr, vec![request.clone(); 50]),
    );
    let id_of = |(status, text): &(u16, String)| {
        assert_eq!(*status, 201, "{text}");
        serde_json::from_str::<Value>(text).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (ids_a, ids_b): (Vec<String>, Vec<String>) = (
        on_a.iter().map(id_of).collect(),
        on_b.iter().map(id_of).collect(),
    );
    let (last_a, seen_a) = finished(&a, &ids_a[0]).await;
    let (last_b, seen_b) = finished(&b, &ids_b[49]).await;
    assert!(!seen_a.is_empty());
    assert_eq!(seen_a, seen_b, "the same itineraries in both processes");
    for last in [&last_a, &last_b] {
        for p in last["providers"].as_array().unwrap() {
            assert_eq!(p["status"], "complete", "{p}");
        }
    }
    assert_eq!(
        calls(&running),
        2,
        "one call per provider for a hundred searches"
    );
    // A third process finds the finished run without asking anyone.
    let c = instance(&listed, REDIS, &prefix).await;
    let r = c
        .post("/live-searches", body("LHR", "JFK", "2026-12-18"))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["status"], "complete", "{}", r.body);
    let ids: HashSet<String> = r.body["itineraries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| it["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, seen_a);
    assert_eq!(calls(&running), 2);
    // Another query on the third process: asked once, and written for the others.
    let r = c
        .post("/live-searches", body("CDG", "LHR", "2026-12-05"))
        .await;
    finished(&c, r.body["id"].as_str().unwrap()).await;
    assert_eq!(calls(&running), 4);
    let r = a
        .post("/live-searches", body("CDG", "LHR", "2026-12-05"))
        .await;
    assert_eq!(r.body["status"], "complete");
    assert_eq!(calls(&running), 4);
    clean(REDIS, &prefix).await;
}

/// A Redis server of the test's own on a free port (stopped when dropped).
struct OwnRedis {
    child: Child,
    url: String,
}

impl OwnRedis {
    async fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (installed on this machine)");
        let url = format!("redis://127.0.0.1:{port}/");
        let started = Instant::now();
        loop {
            let client = redis::Client::open(url.as_str()).unwrap();
            if let Ok(mut c) = client.get_multiplexed_async_connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
                {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        OwnRedis { child, url }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_stopped_mid_search_each_process_goes_on_alone_without_an_error() {
    let mut redis = OwnRedis::start().await;
    let (running, listed) = sims(600).await;
    let a = instance(&listed, &redis.url, "spontra:live:v1:").await;
    let b = instance(&listed, &redis.url, "spontra:live:v1:").await;
    // Shared while Redis runs.
    let r = a
        .post("/live-searches", body("LHR", "SIN", "2026-12-10"))
        .await;
    finished(&a, r.body["id"].as_str().unwrap()).await;
    let r = b
        .post("/live-searches", body("LHR", "SIN", "2026-12-10"))
        .await;
    assert_eq!(r.body["status"], "complete");
    assert_eq!(calls(&running), 2);
    // A search under way when Redis stops.
    let r = a
        .post("/live-searches", body("FRA", "NYC", "2026-12-12"))
        .await;
    assert_eq!(r.status, 201);
    let id = r.body["id"].as_str().unwrap().to_string();
    redis.stop();
    let (last, seen) = finished(&a, &id).await;
    assert!(!seen.is_empty());
    for p in last["providers"].as_array().unwrap() {
        assert_eq!(p["status"], "complete", "{p}");
    }
    assert_eq!(calls(&running), 4);
    // Without Redis each process asks for itself, and keeps what it has.
    let r = b
        .post("/live-searches", body("FRA", "NYC", "2026-12-12"))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (_, seen_b) = finished(&b, r.body["id"].as_str().unwrap()).await;
    assert_eq!(seen_b, seen);
    assert_eq!(calls(&running), 6);
    let r = a
        .post("/live-searches", body("LHR", "SIN", "2026-12-10"))
        .await;
    assert_eq!(r.body["status"], "complete", "still in its own cache");
    assert_eq!(calls(&running), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_query_locked_by_a_process_that_went_away_is_asked_for_after_two_seconds() {
    let prefix = format!("spontra:test:{}:", uuid::Uuid::new_v4().simple());
    let (running, listed) = sims(50).await;
    let a = instance(&listed, REDIS, &prefix).await;
    // A process claimed the query and died before writing anything.
    let client = redis::Client::open(REDIS).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg(format!(
            "{prefix}lock:LHR-JFK-2026-12-20-ow-a1c0i0-economy-s2"
        ))
        .arg("gone")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut c)
        .await
        .unwrap();
    let started = Instant::now();
    let r = a
        .post("/live-searches", body("LHR", "JFK", "2026-12-20"))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(calls(&running), 0, "it waits for the holder first");
    let (last, seen) = finished(&a, r.body["id"].as_str().unwrap()).await;
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(!seen.is_empty());
    assert_eq!(last["providers"][0]["status"], "complete");
    assert_eq!(calls(&running), 2);
    clean(REDIS, &prefix).await;
}
