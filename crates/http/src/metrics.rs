//! Prometheus metrics. One recorder per process (`metrics` with
//! `metrics-exporter-prometheus`), installed the first time [`prometheus`] is asked for, and
//! rendered at `/metrics` in the text exposition format. Every HTTP service's routes record
//! `http_requests_total{method, route, status}` and `http_request_duration_seconds{method,
//! route}` through [`track`] (the route is the matched pattern, `/api/v1/airports/{code}`,
//! never the raw path, so the label set stays small); the services record their own (ingest:
//! `ingest_events_total{outcome}`, `ingest_dead_letters_total{code}`, `ingest_apply_seconds`,
//! `ingest_lag`).

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Latency buckets, seconds: from a cached answer to a slow heavy search.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder (installed on first use); `None` if another recorder was
/// installed first.
pub fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

/// Middleware: count and time each request by method, matched route and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
