//! The HTTP application: every service router mounted under `/api/v1`, health checks, the
//! OpenAPI document, and the web app's static files. Build is separate from run so tests can
//! bind port 0.
//!
//! `run` serves connections itself (hyper's HTTP/1 server) rather than through `axum::serve`,
//! because the edge needs what that does not offer: a header-read timeout (which also closes
//! idle keep-alive connections), and a cap on connections served at once — beyond it new
//! connections wait in the listen backlog instead of taking memory and file descriptors. The
//! body and whole-request deadlines are middleware (`spontra_http::with_deadlines`).

use crate::application::Parts;
use crate::config::ServiceName;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use spontra_http::{
    with_common_layers, with_deadlines, ApiError, Deadlines, ErrorCode, TrustForwardedFor,
};
use spontra_search::SearchService;
use spontra_search::{SearchApi, SearchLimits, SearchState};
use spontra_users::UsersApi;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::{OpenApi, ToSchema};

/// What the edge allows a client.
#[derive(Clone, Copy, Debug)]
pub struct EdgeLimits {
    /// To send a request's headers (and the longest an idle connection stays open).
    pub header_read_timeout: Duration,
    /// To send a request's body, from the request's start.
    pub body_timeout: Duration,
    /// For the whole answer.
    pub request_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        EdgeLimits {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// Content Security Policy of the web app's pages.
const WEB_CSP: &str =
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'self'; form-action 'self'; object-src 'none'";

/// The process answers.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// The process is ready: the services it runs, and for search, the inventory it serves and
/// which departure dates are on sale.
#[derive(Clone, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    pub status: String,
    /// The services this process runs (`search`, `users`, `ingest`, `market`, `pricing`).
    pub services: Vec<String>,
    /// The world or schedule served (search only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<u64>,
    /// First departure date on sale (search only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub bookable_from: Option<String>,
    /// Last departure date on sale (search only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub bookable_to: Option<String>,
    /// Last departure date the live inventory holds (search only): its fares and seats move
    /// with the market as it happens; later days until `bookable_to` are the schedule and its
    /// published fares, with the changes received for them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub live_until: Option<String>,
    /// The inventory version searches read now (search only): 0 as built, one more per batch
    /// of fare and seat updates applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory_version: Option<u64>,
    /// Market time of the newest fare observation applied (search only, once one is).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub last_event_at: Option<String>,
    /// Inventory changes published but not yet applied (search following the stream only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_lag: Option<i64>,
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness, and the bookable window (which may differ from the client's calendar).
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = Ready)))]
async fn readyz(
    State((ready, search)): State<(Arc<Ready>, Option<Arc<SearchService>>)>,
) -> Json<Ready> {
    let mut ready = (*ready).clone();
    if let Some(search) = search {
        let live = search.live();
        let now = live.current();
        ready.inventory_version = Some(now.version);
        let (from, to) = search.window();
        ready.bookable_from = Some(from.to_string());
        ready.bookable_to = Some(to.to_string());
        ready.live_until = Some(now.window().1.to_string());
        ready.legs = Some(now.index.leg_count() as u64);
        ready.routes = Some(now.index.route_count() as u64);
        ready.last_event_at = now
            .observed_until
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        ready.update_lag = live.lag();
    }
    Json(ready)
}

/// Prometheus metrics of this process: requests by route and status with their latency, and
/// the services' own (ingestion's events, dead letters, apply latency and lag).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text exposition format", content_type = "text/plain; version=0.0.4", body = String)
))]
async fn metrics_text() -> Response {
    match spontra_http::metrics::prometheus() {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => ApiError::new(
            ErrorCode::NotReady,
            "metrics are not recorded in this process",
        )
        .into_response(),
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(healthz, readyz, metrics_text),
    components(schemas(Health, Ready)),
    tags((name = "operations", description = "Liveness, readiness and metrics (outside /api/v1)"))
)]
struct OperationsApi;

/// The OpenAPI document of `/api/v1` for the services a process runs, with every error
/// response an operation can give. Served at `/api/v1/openapi.json`, printed by `spontra
/// openapi` for all services (the web app's types are generated from it).
pub fn openapi_document(services: &[ServiceName]) -> serde_json::Value {
    let mut openapi = OperationsApi::openapi();
    for service in services {
        match service {
            ServiceName::Search => {
                openapi.merge(SearchApi::openapi());
                openapi.merge(spontra_search::live_search::wire::LiveApi::openapi());
            }
            ServiceName::Users => openapi.merge(UsersApi::openapi()),
            // Ingestion's admin API is served beside the users service (its sessions).
            ServiceName::Ingest if services.contains(&ServiceName::Users) => {
                openapi.merge(spontra_ingest::routes::IngestApi::openapi())
            }
            ServiceName::Pricing => openapi.merge(spontra_pricing::PricingApi::openapi()),
            ServiceName::Notifications => {
                openapi.merge(spontra_notifications::NotificationsApi::openapi())
            }
            // No HTTP API: they consume and publish the event stream.
            ServiceName::Ingest | ServiceName::Market => {}
        }
    }
    spontra_http::complete_error_responses(&mut openapi);
    let mut doc = serde_json::to_value(&openapi).unwrap_or_default();
    camel_case_links(&mut doc);
    doc
}

/// utoipa 5.5 writes a Link Object's fields in snake case (`operation_id`, `request_body`);
/// OpenAPI names them `operationId`, `operationRef`, `requestBody`.
fn camel_case_links(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let responses = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(|r| r.as_object_mut()))
        .flat_map(|r| r.values_mut());
    for response in responses {
        let links = response.get_mut("links").and_then(|l| l.as_object_mut());
        for link in links.into_iter().flat_map(|l| l.values_mut()) {
            let Some(link) = link.as_object_mut() else {
                continue;
            };
            for (from, to) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(v) = link.remove(from) {
                    link.insert(to.into(), v);
                }
            }
        }
    }
}

pub struct App {
    router: Router,
    limits: EdgeLimits,
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such API route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this route does not accept that method",
    )
}

impl App {
    /// The routes of the services in `parts` (built by [`crate::application`], the one
    /// composition root), the operations routes, and the web app when `web_dir` holds it.
    pub(crate) fn build(
        parts: &Parts,
        web_dir: Option<PathBuf>,
        search_limits: &SearchLimits,
    ) -> App {
        let ready = Arc::new(Ready {
            status: "ready".into(),
            services: parts
                .services
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
            inventory: parts.world.as_ref().map(|w| w.description.clone()),
            legs: parts.world.as_ref().map(|w| w.index.leg_count() as u64),
            routes: parts.world.as_ref().map(|w| w.index.route_count() as u64),
            bookable_from: parts.search.as_ref().map(|s| s.window().0.to_string()),
            bookable_to: parts.search.as_ref().map(|s| s.window().1.to_string()),
            live_until: None,
            inventory_version: None,
            last_event_at: None,
            update_lag: None,
        });
        let search = parts.search.clone();
        let openapi = openapi_document(&parts.services);
        let mut api = Router::new();
        if let Some(search) = &parts.search {
            api = api.merge(spontra_search::router(SearchState::new(
                search.clone(),
                search_limits,
            )));
        }
        if let (Some(search), Some(live)) = (&parts.search, &parts.live) {
            api = api.merge(spontra_search::live_search::wire::router(
                spontra_search::live_search::wire::LiveState {
                    live: live.clone(),
                    search: search.clone(),
                },
            ));
        }
        if let Some(pricing) = &parts.pricing {
            api = api
                .merge(spontra_pricing::router(pricing.service.clone()))
                .merge(spontra_pricing::alerts_router(pricing.alerts.clone()));
        }
        if let Some(n) = &parts.notifications {
            api = api.merge(spontra_notifications::router(n.state.clone()));
        }
        if let Some(users) = &parts.users {
            api = api.merge(spontra_users::router(users.clone()));
            // Ingestion's admin API where this process ingests: its sessions are the users
            // service's.
            if let Some(ingest) = &parts.ingest {
                api = api.merge(spontra_ingest::routes::router(
                    spontra_ingest::routes::AdminState {
                        bus: ingest.bus.clone(),
                        throughput: ingest.throughput.clone(),
                        auth: axum::extract::FromRef::from_ref(users),
                    },
                ));
            }
        }
        // Record from the start: installing the recorder is what makes metrics count.
        let _ = spontra_http::metrics::prometheus();
        let track = axum::middleware::from_fn(spontra_http::metrics::track);
        let api = api
            .route(
                "/openapi.json",
                get(move || {
                    let doc = openapi.clone();
                    async move { Json(doc) }
                }),
            )
            .route_layer(track.clone())
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed);
        let mut router = Router::new()
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz).with_state((ready, search)))
            .route("/metrics", get(metrics_text))
            .route_layer(track)
            .nest("/api/v1", api)
            .route("/api", get(not_found))
            .route("/api/{*rest}", get(not_found).fallback(not_found));
        router = match web_dir.filter(|d| d.join("index.html").exists()) {
            Some(dir) => {
                let index = dir.join("index.html");
                let files = ServeDir::new(dir)
                    .append_index_html_on_directories(true)
                    .fallback(ServeFile::new(index));
                // The app loads nothing from elsewhere; Next.js's bootstrap is inline script.
                router.fallback_service(
                    tower::ServiceBuilder::new()
                        .layer(SetResponseHeaderLayer::if_not_present(
                            header::CONTENT_SECURITY_POLICY,
                            header::HeaderValue::from_static(WEB_CSP),
                        ))
                        .service(files),
                )
            }
            None => router.fallback(|| async { no_web_app() }),
        };
        // Links in mails carry tokens in the query string: never send them on as a referrer.
        let router = router
            .layer(SetResponseHeaderLayer::if_not_present(
                header::REFERRER_POLICY,
                header::HeaderValue::from_static("no-referrer"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::X_CONTENT_TYPE_OPTIONS,
                header::HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::X_FRAME_OPTIONS,
                header::HeaderValue::from_static("DENY"),
            ));
        App {
            router: with_common_layers(router),
            limits: EdgeLimits::default(),
        }
    }

    pub fn with_limits(mut self, limits: EdgeLimits) -> App {
        self.limits = limits;
        self
    }

    /// Served over https: tell browsers to use nothing else (HSTS, one year, subdomains).
    pub fn strict_transport_security(mut self, https: bool) -> App {
        if https {
            self.router = self.router.layer(SetResponseHeaderLayer::overriding(
                header::STRICT_TRANSPORT_SECURITY,
                header::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            ));
        }
        self
    }

    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Let browsers on these origins call the API (a web app hosted elsewhere). Credentials
    /// are bearer tokens in a header, so no cookies are allowed across origins.
    pub fn allow_origins(mut self, origins: &[String]) -> anyhow::Result<App> {
        if origins.is_empty() {
            return Ok(self);
        }
        let origins = origins
            .iter()
            .map(|o| {
                header::HeaderValue::from_str(o.trim_end_matches('/'))
                    .map_err(|_| anyhow::anyhow!("server.cors_origins: {o:?} is not an origin"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([
                header::RETRY_AFTER,
                header::HeaderName::from_static(spontra_http::REQUEST_ID_HEADER),
            ])
            .max_age(std::time::Duration::from_secs(3600));
        self.router = self.router.layer(cors);
        Ok(self)
    }

    /// Behind a proxy: take the client address from `X-Forwarded-For` (its right-most entry).
    pub fn trust_forwarded_for(mut self, trust: bool) -> App {
        if trust {
            self.router = self.router.layer(axum::Extension(TrustForwardedFor));
        }
        self
    }

    /// Serve until `shutdown` resolves, then let open requests finish (at most the request
    /// timeout).
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let limits = self.limits;
        let router = with_deadlines(
            self.router,
            Deadlines {
                body: limits.body_timeout,
                request: limits.request_timeout,
            },
        );
        let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(64 * 1024);
        tokio::pin!(shutdown);
        loop {
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break,
                },
                () = &mut shutdown => break,
            };
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors, or a connection reset before accept:
                        // wait a moment rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let service = router.clone().map_request(
                move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    req
                },
            );
            let connection = http.serve_connection(
                TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(service),
            );
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, peer = %peer, "connection closed with an error");
                }
                drop(slot);
            });
        }
        drop(listener);
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(limits.request_timeout) => {
                tracing::warn!("connections still open at shutdown; closing them");
            }
        }
        Ok(())
    }
}

fn no_web_app() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Spontra API is running: see /api/v1/openapi.json. The web app is not built here.\n",
    )
        .into_response()
}
