//! The one error-code table: every client-visible error has a stable `code`, an HTTP status
//! and a title, and is rendered as RFC 9457 `application/problem+json` with field errors.
//! Internal errors are opaque to the client and logged once, here, with their cause chain.
//!
//! Statuses: 400 when the request does not match the OpenAPI document (malformed, missing,
//! out of the declared range, length, pattern or enumeration); 422 when it matches but breaks
//! a rule the document cannot state (across fields, against the inventory or the calendar, a
//! password policy beyond its length); 403 when a presented secret (current password, code,
//! emailed link) does not grant the action; 401 only for a missing or dead session.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

macro_rules! error_codes {
    ($( $variant:ident => ($code:literal, $status:ident, $title:literal) ),* $(,)?) => {
        /// Every stable error code the API returns.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ErrorCode { $( $variant ),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant ),* ];
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code ),* }
            }
            /// The code named `code`, if there is one.
            pub fn named(code: &str) -> Option<ErrorCode> {
                Self::ALL.iter().copied().find(|c| c.as_str() == code)
            }
            pub fn status(self) -> StatusCode {
                match self { $( ErrorCode::$variant => StatusCode::$status ),* }
            }
            pub fn title(self) -> &'static str {
                match self { $( ErrorCode::$variant => $title ),* }
            }
        }
    };
}

error_codes! {
    MalformedJson => ("malformed_json", BAD_REQUEST, "The request body is not valid JSON of the expected shape"),
    MalformedQuery => ("malformed_query", BAD_REQUEST, "The query string is malformed"),
    UnsupportedMediaType => ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "The request body must be application/json"),
    PayloadTooLarge => ("payload_too_large", PAYLOAD_TOO_LARGE, "The request body is too large"),
    MissingField => ("missing_field", BAD_REQUEST, "A required field is missing"),
    InvalidField => ("invalid_field", BAD_REQUEST, "A field has an invalid value"),
    InvalidText => ("invalid_text", UNPROCESSABLE_ENTITY, "The text is empty or not one line of printable characters"),
    UnknownAirport => ("unknown_airport", UNPROCESSABLE_ENTITY, "Unknown airport or city code"),
    UnknownCarrier => ("unknown_carrier", UNPROCESSABLE_ENTITY, "Unknown airline code"),
    UnknownAlliance => ("unknown_alliance", BAD_REQUEST, "Unknown alliance"),
    UnknownCurrency => ("unknown_currency", UNPROCESSABLE_ENTITY, "Unknown or unsupported currency"),
    UnknownCabin => ("unknown_cabin", BAD_REQUEST, "Unknown cabin class"),
    InvalidDate => ("invalid_date", BAD_REQUEST, "The date is not a valid YYYY-MM-DD date"),
    DateInPast => ("date_in_past", UNPROCESSABLE_ENTITY, "The date is in the past"),
    DateNotServed => ("date_not_served", UNPROCESSABLE_ENTITY, "The date is outside the bookable window"),
    ReturnBeforeOutbound => ("return_before_outbound", UNPROCESSABLE_ENTITY, "The return or later slice leaves before the previous one"),
    SameOriginDestination => ("same_origin_destination", UNPROCESSABLE_ENTITY, "Origin and destination are the same place"),
    TooManyPassengers => ("too_many_passengers", UNPROCESSABLE_ENTITY, "At most 9 seated passengers per booking"),
    TooManyInfants => ("too_many_infants", UNPROCESSABLE_ENTITY, "Each lap infant needs an adult"),
    NoAdult => ("no_adult", BAD_REQUEST, "At least one adult must travel"),
    InvalidRange => ("invalid_range", UNPROCESSABLE_ENTITY, "The range is inverted or out of bounds"),
    RangeTooLong => ("range_too_long", UNPROCESSABLE_ENTITY, "The range is longer than allowed"),
    IncompleteTrip => ("incomplete_trip", UNPROCESSABLE_ENTITY, "Give slices, or origin, destination and depart"),
    TooManySlices => ("too_many_slices", BAD_REQUEST, "A trip has between 1 and 6 slices"),
    InvalidLimit => ("invalid_limit", BAD_REQUEST, "The limit is out of range"),
    InvalidCursor => ("invalid_cursor", UNPROCESSABLE_ENTITY, "The cursor is not one this API returned"),
    StaleCursor => ("stale_cursor", CONFLICT, "Prices or seats changed since the first page; search again"),
    InvalidEmail => ("invalid_email", UNPROCESSABLE_ENTITY, "The email address is not valid"),
    WeakPassword => ("weak_password", UNPROCESSABLE_ENTITY, "The password does not meet the policy"),
    EmailTaken => ("email_taken", CONFLICT, "An account with this email already exists"),
    WrongPassword => ("wrong_password", FORBIDDEN, "The current password is wrong"),
    InvalidCredentials => ("invalid_credentials", UNAUTHORIZED, "Email or password is wrong"),
    Unauthorized => ("unauthorized", UNAUTHORIZED, "Sign in first"),
    InvalidToken => ("invalid_token", UNAUTHORIZED, "The token is invalid, expired or already used"),
    TokenReused => ("token_reused", UNAUTHORIZED, "This refresh token was already used; the session has been ended"),
    InvalidLinkToken => ("invalid_link_token", FORBIDDEN, "The link is invalid, expired or already used"),
    AlreadyVerified => ("already_verified", CONFLICT, "The email address is already verified"),
    TooManyAttempts => ("too_many_attempts", TOO_MANY_REQUESTS, "Too many attempts; wait before trying again"),
    AccountDisabled => ("account_disabled", FORBIDDEN, "This account is disabled"),
    Forbidden => ("forbidden", FORBIDDEN, "Not allowed"),
    NotFound => ("not_found", NOT_FOUND, "No such resource"),
    MethodNotAllowed => ("method_not_allowed", METHOD_NOT_ALLOWED, "Method not allowed on this resource"),
    CsrfFailed => ("csrf_failed", FORBIDDEN, "The request lacks a valid CSRF token"),
    TwoFactorRequired => ("two_factor_required", FORBIDDEN, "This needs two-factor authentication"),
    InvalidCode => ("invalid_code", UNAUTHORIZED, "The code is wrong or already used"),
    WrongCode => ("wrong_code", FORBIDDEN, "The code is wrong or already used"),
    AlreadyEnabled => ("two_factor_already_enabled", CONFLICT, "Two-factor authentication is already on"),
    NotSetUp => ("two_factor_not_set_up", CONFLICT, "Start two-factor setup first"),
    RequestTimeout => ("request_timeout", REQUEST_TIMEOUT, "The request took too long"),
    QueryTooExpensive => ("query_too_expensive", UNPROCESSABLE_ENTITY, "The search needs more work than one request may do"),
    NotReady => ("not_ready", SERVICE_UNAVAILABLE, "The service is starting"),
    Overloaded => ("overloaded", SERVICE_UNAVAILABLE, "The service is busy; try again shortly"),
    Internal => ("internal", INTERNAL_SERVER_ERROR, "Internal error"),
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

/// An error an API handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The client's fault, or a resource that does not exist.
    #[error("{code:?}: {detail}")]
    Client {
        code: ErrorCode,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// Slow down: sent as 429 with `Retry-After` (whole seconds, at least 1).
    #[error("throttled for {retry_after_secs} s: {detail}")]
    Throttled {
        retry_after_secs: u64,
        detail: String,
    },
    /// We are saturated (a full work queue, a busy database): sent as 503 `overloaded` with
    /// `Retry-After`. Load is shed this way, never as a 500.
    #[error("overloaded, retry in {retry_after_secs} s: {detail}")]
    Unavailable {
        retry_after_secs: u64,
        detail: String,
    },
    /// Ours. The text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::Client {
            code,
            detail: detail.into(),
            errors: vec![],
        }
    }

    /// An error about one field.
    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        let (field, message) = (field.into(), message.into());
        ApiError::Client {
            code,
            detail: format!("{field}: {message}"),
            errors: vec![FieldError {
                field,
                code: code.as_str().to_string(),
                message,
            }],
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// Shed load: 503 `overloaded` with `Retry-After`.
    pub fn overloaded(retry_after_secs: u64, detail: impl Into<String>) -> Self {
        ApiError::Unavailable {
            retry_after_secs,
            detail: detail.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Client { code, .. } => *code,
            ApiError::Throttled { .. } => ErrorCode::TooManyAttempts,
            ApiError::Unavailable { .. } => ErrorCode::Overloaded,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Seconds the client should wait, for the errors that say so.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::Throttled {
                retry_after_secs, ..
            }
            | ApiError::Unavailable {
                retry_after_secs, ..
            } => Some((*retry_after_secs).max(1)),
            _ => None,
        }
    }

    pub fn problem(&self) -> ProblemDetails {
        let code = self.code();
        let (detail, errors) = match self {
            ApiError::Client { detail, errors, .. } => (detail.clone(), errors.clone()),
            ApiError::Throttled { detail, .. } | ApiError::Unavailable { detail, .. } => {
                (detail.clone(), vec![])
            }
            ApiError::Internal(_) => (
                "Something went wrong on our side; it has been logged.".to_string(),
                vec![],
            ),
        };
        ProblemDetails {
            type_: format!("https://spontra.dev/problems/{}", code.as_str()),
            title: code.title().to_string(),
            status: code.status().as_u16(),
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
        let status = self.code().status();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (
            status,
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

/// Collects field errors while parsing a request, so the client hears about all of them.
#[derive(Default, Debug)]
pub struct FieldErrors(Vec<(ErrorCode, FieldError)>);

impl FieldErrors {
    pub fn push(&mut self, code: ErrorCode, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((
            code,
            FieldError {
                field: field.into(),
                code: code.as_str().to_string(),
                message: message.into(),
            },
        ));
    }

    /// Keep the value, or record its error.
    pub fn take<T>(&mut self, r: Result<T, ApiError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(ApiError::Client {
                code,
                errors,
                detail,
            }) => {
                if errors.is_empty() {
                    self.push(code, "", detail);
                } else {
                    self.0.extend(errors.into_iter().map(|e| (code, e)));
                }
                None
            }
            Err(e @ (ApiError::Throttled { .. } | ApiError::Unavailable { .. })) => {
                self.push(e.code(), "", e.to_string());
                None
            }
            Err(ApiError::Internal(e)) => {
                self.push(ErrorCode::Internal, "", e);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` if nothing went wrong, otherwise one error listing every problem, whose code
    /// is the first problem's — the first 400 one if any: a request that does not match the
    /// document is answered 400 even when it also breaks a rule beyond it (422).
    pub fn finish(self) -> Result<(), ApiError> {
        let Some((code, first)) = self
            .0
            .iter()
            .find(|(c, _)| c.status() == StatusCode::BAD_REQUEST)
            .or(self.0.first())
            .cloned()
        else {
            return Ok(());
        };
        let detail = if self.0.len() == 1 {
            format!("{}: {}", first.field, first.message)
        } else {
            format!(
                "{} fields are invalid; first: {}: {}",
                self.0.len(),
                first.field,
                first.message
            )
        };
        Err(ApiError::Client {
            code,
            detail,
            errors: self.0.into_iter().map(|(_, e)| e).collect(),
        })
    }
}

/// A passenger mix that breaks the booking rules (the same codes wherever passengers are
/// given: search, calendar, explore, preferences).
impl From<spontra_domain::PassengersError> for ApiError {
    fn from(e: spontra_domain::PassengersError) -> Self {
        use spontra_domain::PassengersError as P;
        let (code, field) = match e {
            P::NoAdult => (ErrorCode::NoAdult, "adults"),
            P::TooMany(_) => (ErrorCode::TooManyPassengers, "adults"),
            P::TooManyInfants { .. } => (ErrorCode::TooManyInfants, "infants"),
        };
        ApiError::field(code, field, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_client_codes_are_4xx() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {}", c.as_str());
            if !matches!(
                c,
                ErrorCode::Internal | ErrorCode::NotReady | ErrorCode::Overloaded
            ) {
                assert!(c.status().is_client_error(), "{}", c.as_str());
            }
        }
    }

    #[test]
    fn throttled_is_a_429_with_retry_after() {
        let r = ApiError::Throttled {
            retry_after_secs: 8,
            detail: "wait".into(),
        }
        .into_response();
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
    fn field_errors_keep_every_problem() {
        let mut e = FieldErrors::default();
        e.push(ErrorCode::UnknownAirport, "origin", "no airport XXX");
        e.push(ErrorCode::InvalidDate, "depart", "not a date");
        let err = e.finish().unwrap_err();
        // Not matching the document (400) outranks breaking a rule beyond it (422).
        assert_eq!(err.code(), ErrorCode::InvalidDate);
        assert_eq!(err.problem().errors.len(), 2);
    }
}
