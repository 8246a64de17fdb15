//! problem+json at the edge. The code table is [`spontra_domain::error`]; this is the one place
//! that knows what its kinds mean in HTTP ([`status`]) and renders a service's error
//! ([`Coded`]) as RFC 9457 `application/problem+json` with field errors. Internal errors are
//! opaque to the client and logged once, here, with their cause.
//!
//! Statuses: 400 when the request does not match the OpenAPI document (malformed, missing,
//! out of the declared range, length, pattern or enumeration); 422 when it matches but breaks
//! a rule the document cannot state (across fields, against the inventory or the calendar, a
//! password policy beyond its length); 403 when a presented secret (current password, code,
//! emailed link) does not grant the action; 401 only for a missing or dead session.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
pub use spontra_domain::error::{Coded, ErrorCode, FieldProblem, Invalid, Kind};
use utoipa::ToSchema;

/// The HTTP status of a code's kind.
pub fn status(code: ErrorCode) -> StatusCode {
    match code.kind() {
        Kind::Malformed => StatusCode::BAD_REQUEST,
        Kind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Throttled => StatusCode::TOO_MANY_REQUESTS,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Kind::Timeout => StatusCode::REQUEST_TIMEOUT,
        Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Kind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// One field's problem.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// The request field at fault, e.g. `depart` or `slices[1].origin`.
    pub field: String,
    /// The stable error code for this field.
    pub code: String,
    pub message: String,
}

/// The problem+json body.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProblemDetails {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable error code.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error an API handler returns: a service's error as the edge sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The client's fault, a resource that does not exist, or a request to come back later
    /// (`retry_after_secs`: 429 when throttled, 503 when we shed load — never a 500).
    #[error("{code:?}: {detail}")]
    Client {
        code: ErrorCode,
        detail: String,
        errors: Vec<FieldError>,
        retry_after_secs: Option<u64>,
    },
    /// Ours. The text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Any service error renders through its code: `?` in a handler is all it takes.
impl<E: Coded> From<E> for ApiError {
    fn from(e: E) -> Self {
        let code = e.code();
        if code.kind() == Kind::Internal {
            return ApiError::Internal(cause_chain(&e));
        }
        ApiError::Client {
            code,
            detail: e.to_string(),
            errors: e
                .fields()
                .iter()
                .filter(|p| !p.field.is_empty())
                .map(FieldError::from)
                .collect(),
            retry_after_secs: e.retry_after_secs(),
        }
    }
}

fn cause_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl From<&FieldProblem> for FieldError {
    fn from(p: &FieldProblem) -> Self {
        FieldError {
            field: p.field.clone(),
            code: p.code.as_str().to_string(),
            message: p.message.clone(),
        }
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::Client {
            code,
            detail: detail.into(),
            errors: vec![],
            retry_after_secs: None,
        }
    }

    /// An error about one field.
    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid::field(code, field, message).into()
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// Shed load: 503 `overloaded` with `Retry-After`.
    pub fn overloaded(retry_after_secs: u64, detail: impl Into<String>) -> Self {
        ApiError::Client {
            code: ErrorCode::Overloaded,
            detail: detail.into(),
            errors: vec![],
            retry_after_secs: Some(retry_after_secs),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Client { code, .. } => *code,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Seconds the client should wait (at least 1), for the errors that say so.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::Client {
                retry_after_secs: Some(s),
                ..
            } => Some((*s).max(1)),
            _ => None,
        }
    }

    pub fn problem(&self) -> ProblemDetails {
        let code = self.code();
        let (detail, errors) = match self {
            ApiError::Client { detail, errors, .. } => (detail.clone(), errors.clone()),
            ApiError::Internal(_) => (
                "Something went wrong on our side; it has been logged.".to_string(),
                vec![],
            ),
        };
        ProblemDetails {
            type_: format!("https://spontra.dev/problems/{}", code.as_str()),
            title: code.title().to_string(),
            status: status(code).as_u16(),
            detail,
            code: code.as_str().to_string(),
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error.cause = %cause, "internal error");
        }
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (
            status(self.code()),
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if let Some(secs) = self.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, secs.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_codes_are_4xx() {
        for c in ErrorCode::ALL {
            if !matches!(
                c,
                ErrorCode::Internal
                    | ErrorCode::NotReady
                    | ErrorCode::Overloaded
                    | ErrorCode::NoProviders
            ) {
                assert!(status(*c).is_client_error(), "{}", c.as_str());
            }
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("wait")]
    struct Wait;
    impl Coded for Wait {
        fn code(&self) -> ErrorCode {
            ErrorCode::TooManyAttempts
        }
        fn retry_after_secs(&self) -> Option<u64> {
            Some(8)
        }
    }

    #[test]
    fn throttled_is_a_429_with_retry_after() {
        let r = ApiError::from(Wait).into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "8");
        let r = ApiError::overloaded(0, "busy").into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }

    #[test]
    fn field_problems_reach_the_body() {
        let mut e = Invalid::default();
        e.push(ErrorCode::UnknownAirport, "origin", "no airport XXX");
        e.push(ErrorCode::InvalidDate, "depart", "not a date");
        let err = ApiError::from(e.finish().unwrap_err());
        // Not matching the document (400) outranks breaking a rule beyond it (422).
        assert_eq!(err.code(), ErrorCode::InvalidDate);
        assert_eq!(err.problem().status, 400);
        assert_eq!(err.problem().errors.len(), 2);
    }
}
