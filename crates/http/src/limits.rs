//! Deadlines every request lives under, so a slow or stalled client cannot hold a worker:
//! the body must arrive within `body` of the request's start (checked where bodies are read,
//! [`crate::ApiJson`]: 408 `request_timeout`), and the whole answer must be ready within
//! `request` (503 `overloaded`). Both close the connection. Slow *headers* are the server's
//! business (hyper's header-read timeout, set where connections are served).

use crate::extract::BodyDeadline;
use crate::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    pub body: Duration,
    pub request: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            body: crate::extract::DEFAULT_BODY_TIMEOUT,
            request: Duration::from_secs(30),
        }
    }
}

pub fn with_deadlines(router: Router, deadlines: Deadlines) -> Router {
    router.layer(axum::middleware::from_fn_with_state(deadlines, enforce))
}

async fn enforce(State(d): State<Deadlines>, mut req: Request, next: Next) -> Response {
    req.extensions_mut()
        .insert(BodyDeadline(Instant::now() + d.body));
    let mut response = match tokio::time::timeout(d.request, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                timeout_secs = d.request.as_secs(),
                "request deadline passed"
            );
            ApiError::overloaded(1, "the answer took too long; try again").into_response()
        }
    };
    if matches!(
        response.status(),
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE
    ) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
