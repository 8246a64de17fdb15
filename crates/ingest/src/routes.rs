//! The ingest service's admin API — what `spontra ingest status` and `spontra ingest replay`
//! do, over HTTP, for administrators (a two-factor session, as on every admin route). Mounted
//! by a process that runs ingestion beside the users service (whose sessions it checks).

use crate::status::{replay, status, DeadLetter, PartitionStatus, Replay};
use crate::worker::Throughput;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use spontra_events::{Bus, BusError};
use spontra_http::{AdminAuth, ApiError, ApiJson, ApiQuery, Authenticator, ErrorCode};
use std::collections::BTreeMap;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(Clone)]
pub struct AdminState {
    pub bus: Arc<dyn Bus>,
    /// What this process's ingesting consumer received, by second.
    pub throughput: Arc<Throughput>,
    pub auth: Arc<dyn Authenticator>,
}

impl FromRef<AdminState> for Arc<dyn Authenticator> {
    fn from_ref(s: &AdminState) -> Self {
        s.auth.clone()
    }
}

pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/admin/ingest", get(ingest_status))
        .route("/admin/ingest/replay", post(replay_dead_letters))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}

/// The most dead letters one answer lists.
const MAX_LISTED: u32 = 500;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// How many of the latest dead letters to list, 0–500 (default 50); the counts by code
    /// cover them all.
    #[param(minimum = 0, maximum = 500)]
    pub limit: Option<u32>,
}

/// How ingestion stands.
#[derive(Serialize, ToSchema)]
pub struct IngestStatus {
    /// The topic ingestion consumes and its consumer group.
    pub topic: String,
    pub group: String,
    /// Records of the topic not yet ingested, over all partitions.
    pub lag: i64,
    pub partitions: Vec<PartitionStatus>,
    /// Events this process received per second over the last minute.
    pub events_per_second: f64,
    pub dead_letters_total: usize,
    pub dead_letters_by_code: BTreeMap<String, usize>,
    /// The latest dead letters, newest first.
    pub dead_letters: Vec<DeadLetter>,
}

/// Which dead letters to send back to the raw topic: `{"all": true}` (every one not replayed
/// before), or `{"partition": P, "offset": O}` (one, as the status lists it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    #[serde(default)]
    pub all: bool,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Replayed {
    pub replayed: usize,
}

/// The stream not answering is a moment's trouble, not ours to explain: 503 with Retry-After.
fn unavailable(e: BusError) -> ApiError {
    tracing::warn!(error = %e, "the event stream did not answer an admin request");
    ApiError::overloaded(5, "the event stream did not answer; try again shortly")
}

/// Ingestion's lag per partition, its rate, and its dead letters (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/ingest", tag = "admin", security(("bearer" = [])),
    params(StatusQuery),
    responses((status = 200, body = IngestStatus), (status = 403, body = spontra_http::ProblemDetails)))]
pub async fn ingest_status(
    State(s): State<AdminState>,
    AdminAuth(_admin): AdminAuth,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> Result<Json<IngestStatus>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if limit > MAX_LISTED {
        return Err(ApiError::field(
            ErrorCode::InvalidLimit,
            "limit",
            format!("give a limit from 0 to {MAX_LISTED}"),
        ));
    }
    let st = status(s.bus.as_ref()).await.map_err(unavailable)?;
    let total = st.dead_letters.len();
    Ok(Json(IngestStatus {
        topic: st.topic.to_string(),
        group: st.group.to_string(),
        lag: st.lag,
        partitions: st.partitions,
        events_per_second: s.throughput.per_second(chrono::Utc::now()),
        dead_letters_total: total,
        dead_letters_by_code: st.dead_letters_by_code,
        dead_letters: st
            .dead_letters
            .into_iter()
            .rev()
            .take(limit as usize)
            .collect(),
    }))
}

/// Send dead letters back to be judged again (administrators only).
#[utoipa::path(post, path = "/api/v1/admin/ingest/replay", tag = "admin", security(("bearer" = [])),
    request_body = ReplayBody,
    responses((status = 200, body = Replayed), (status = 403, body = spontra_http::ProblemDetails),
        (status = 404, body = spontra_http::ProblemDetails, content_type = "application/problem+json", description = "`not_found`: no dead letter at that partition and offset")))]
pub async fn replay_dead_letters(
    State(s): State<AdminState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(b): ApiJson<ReplayBody>,
) -> Result<Json<Replayed>, ApiError> {
    let which = match (b.all, b.partition, b.offset) {
        (true, None, None) => Replay::All,
        (false, Some(partition), Some(offset)) => Replay::One { partition, offset },
        _ => {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "all",
                "give {\"all\": true}, or the partition and offset of one dead letter",
            ))
        }
    };
    let replayed = replay(s.bus.as_ref(), which).await.map_err(unavailable)?;
    if replayed == 0 && !b.all {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "no dead letter at that partition and offset",
        ));
    }
    tracing::info!(user = %admin.user_id, replayed, "dead letters replayed");
    Ok(Json(Replayed { replayed }))
}

#[derive(OpenApi)]
#[openapi(
    paths(ingest_status, replay_dead_letters),
    components(schemas(IngestStatus, PartitionStatus, DeadLetter, ReplayBody, Replayed))
)]
pub struct IngestApi;
