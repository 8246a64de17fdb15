//! The one error-code table. Every error a client or an operator can see has a stable `code`,
//! a title and a [`Kind`]; services return their own `thiserror` enums whose variants name a
//! code through [`Coded`], and only the edge decides what a kind means on its wire (the HTTP
//! crate maps kinds to statuses and renders problem+json; the CLI prints the same message and
//! exits non-zero). Field-level problems found while reading input are gathered in [`Invalid`],
//! so a caller hears about all of them at once.

use std::fmt;

/// What sort of failure a code is, independent of any transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The input does not have the documented shape (malformed, missing, out of the declared
    /// range, length, pattern or enumeration).
    Malformed,
    /// The input has the shape but breaks a rule the shape cannot state (across fields,
    /// against the inventory or the calendar, a password policy beyond its length).
    Unprocessable,
    /// The request conflicts with the current state (taken, already done, stale).
    Conflict,
    /// No valid session was presented.
    Unauthenticated,
    /// A presented secret or the caller's rights do not grant the action.
    Forbidden,
    NotFound,
    /// The caller must slow down for a while.
    Throttled,
    /// We are saturated or starting; the caller may retry shortly.
    Unavailable,
    /// The request took longer than allowed.
    Timeout,
    /// The transport's own refusals: the body is too large, of an unsupported type, or the
    /// method is not one the resource has.
    TooLarge,
    UnsupportedMedia,
    MethodNotAllowed,
    /// Ours: the cause is logged, never shown.
    Internal,
}

macro_rules! error_codes {
    ($( $variant:ident => ($code:literal, $kind:ident, $title:literal) ),* $(,)?) => {
        /// Every stable error code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
            pub fn kind(self) -> Kind {
                match self { $( ErrorCode::$variant => Kind::$kind ),* }
            }
            pub fn title(self) -> &'static str {
                match self { $( ErrorCode::$variant => $title ),* }
            }
        }
    };
}

error_codes! {
    MalformedJson => ("malformed_json", Malformed, "The request body is not valid JSON of the expected shape"),
    MalformedQuery => ("malformed_query", Malformed, "The query string is malformed"),
    MalformedPath => ("malformed_path", Malformed, "A segment of the path is not valid (percent-encoded UTF-8)"),
    UnsupportedMediaType => ("unsupported_media_type", UnsupportedMedia, "The request body must be application/json"),
    PayloadTooLarge => ("payload_too_large", TooLarge, "The request body is too large"),
    MissingField => ("missing_field", Malformed, "A required field is missing"),
    InvalidField => ("invalid_field", Malformed, "A field has an invalid value"),
    InvalidText => ("invalid_text", Unprocessable, "The text is empty or not one line of printable characters"),
    UnknownAirport => ("unknown_airport", Unprocessable, "Unknown airport or city code"),
    UnknownCarrier => ("unknown_carrier", Unprocessable, "Unknown airline code"),
    UnknownAlliance => ("unknown_alliance", Malformed, "Unknown alliance"),
    UnknownCurrency => ("unknown_currency", Unprocessable, "Unknown or unsupported currency"),
    UnknownCabin => ("unknown_cabin", Malformed, "Unknown cabin class"),
    InvalidDate => ("invalid_date", Malformed, "The date is not a valid YYYY-MM-DD date"),
    DateInPast => ("date_in_past", Unprocessable, "The date is in the past"),
    DateNotServed => ("date_not_served", Unprocessable, "The date is outside the bookable window"),
    ReturnBeforeOutbound => ("return_before_outbound", Unprocessable, "The return or later slice leaves before the previous one"),
    SameOriginDestination => ("same_origin_destination", Unprocessable, "Origin and destination are the same place"),
    TooManyPassengers => ("too_many_passengers", Unprocessable, "At most 9 seated passengers per booking"),
    TooManyInfants => ("too_many_infants", Unprocessable, "Each lap infant needs an adult"),
    NoAdult => ("no_adult", Malformed, "At least one adult must travel"),
    InvalidRange => ("invalid_range", Unprocessable, "The range is inverted or out of bounds"),
    RangeTooLong => ("range_too_long", Unprocessable, "The range is longer than allowed"),
    IncompleteTrip => ("incomplete_trip", Unprocessable, "Give slices, or origin, destination and depart"),
    TooManySlices => ("too_many_slices", Malformed, "A trip has between 1 and 6 slices"),
    InvalidLimit => ("invalid_limit", Malformed, "The limit is out of range"),
    InvalidCursor => ("invalid_cursor", Unprocessable, "The cursor is not one this API returned"),
    StaleCursor => ("stale_cursor", Conflict, "Prices or seats changed since the first page; search again"),
    InvalidEmail => ("invalid_email", Unprocessable, "The email address is not valid"),
    WeakPassword => ("weak_password", Unprocessable, "The password does not meet the policy"),
    EmailTaken => ("email_taken", Conflict, "An account with this email already exists"),
    WrongPassword => ("wrong_password", Forbidden, "The current password is wrong"),
    InvalidCredentials => ("invalid_credentials", Unauthenticated, "Email or password is wrong"),
    Unauthorized => ("unauthorized", Unauthenticated, "Sign in first"),
    InvalidToken => ("invalid_token", Unauthenticated, "The token is invalid, expired or already used"),
    TokenReused => ("token_reused", Unauthenticated, "This refresh token was already used; the session has been ended"),
    InvalidLinkToken => ("invalid_link_token", Forbidden, "The link is invalid, expired or already used"),
    AlreadyVerified => ("already_verified", Conflict, "The email address is already verified"),
    TooManyAttempts => ("too_many_attempts", Throttled, "Too many attempts; wait before trying again"),
    AccountDisabled => ("account_disabled", Forbidden, "This account is disabled"),
    Forbidden => ("forbidden", Forbidden, "Not allowed"),
    NotFound => ("not_found", NotFound, "No such resource"),
    LiveSearchNotFound => ("live_search_not_found", NotFound, "No such live search, or it has expired"),
    NoPriceHistory => ("no_price_history", NotFound, "No prices have been observed for this route and date yet"),
    InvalidAlert => ("invalid_alert", Unprocessable, "The alert's fields do not fit together"),
    TooManyAlerts => ("too_many_alerts", Conflict, "The account has as many price alerts as it may keep; delete one first"),
    WebhookRefused => ("webhook_refused", Unprocessable, "Spontra does not post to this address"),
    TooManyWebhooks => ("too_many_webhooks", Conflict, "The account has as many webhooks as it may keep; delete one first"),
    MethodNotAllowed => ("method_not_allowed", MethodNotAllowed, "Method not allowed on this resource"),
    CsrfFailed => ("csrf_failed", Forbidden, "The request lacks a valid CSRF token"),
    TwoFactorRequired => ("two_factor_required", Forbidden, "This needs two-factor authentication"),
    InvalidCode => ("invalid_code", Unauthenticated, "The code is wrong or already used"),
    WrongCode => ("wrong_code", Forbidden, "The code is wrong or already used"),
    AlreadyEnabled => ("two_factor_already_enabled", Conflict, "Two-factor authentication is already on"),
    NotSetUp => ("two_factor_not_set_up", Conflict, "Start two-factor setup first"),
    RequestTimeout => ("request_timeout", Timeout, "The request took too long"),
    QueryTooExpensive => ("query_too_expensive", Unprocessable, "The search needs more work than one request may do"),
    NotReady => ("not_ready", Unavailable, "The service is starting"),
    Overloaded => ("overloaded", Unavailable, "The service is busy; try again shortly"),
    NoProviders => ("no_providers", Unavailable, "No provider is configured for live search"),
    Internal => ("internal", Internal, "Internal error"),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a service's error says about itself, so that any edge can present it: its code, the
/// fields at fault, and how long to wait before retrying. Its `Display` is the detail shown to
/// the caller (for [`Kind::Internal`] codes it is logged instead).
pub trait Coded: std::error::Error {
    fn code(&self) -> ErrorCode;
    /// The fields at fault, if the error is about input.
    fn fields(&self) -> &[FieldProblem] {
        &[]
    }
    /// Seconds to wait before trying again, for the errors that say so.
    fn retry_after_secs(&self) -> Option<u64> {
        None
    }
}

/// One field's problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    /// The input field at fault, e.g. `depart` or `slices[1].origin` (empty: the whole input).
    pub field: String,
    pub code: ErrorCode,
    pub message: String,
}

/// Input that does not hold: one or more field problems. Parsing collects every problem before
/// giving up, so a caller fixes them all at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invalid(Vec<FieldProblem>);

impl Invalid {
    /// One field's problem.
    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid(vec![FieldProblem {
            field: field.into(),
            code,
            message: message.into(),
        }])
    }

    /// A problem with the input as a whole (no one field to name).
    pub fn whole(code: ErrorCode, message: impl Into<String>) -> Self {
        Invalid::field(code, "", message)
    }

    pub fn push(&mut self, code: ErrorCode, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldProblem {
            field: field.into(),
            code,
            message: message.into(),
        });
    }

    /// Keep the value, or record its problems.
    pub fn take<T>(&mut self, r: Result<T, Invalid>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(Invalid(problems)) => {
                self.0.extend(problems);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn problems(&self) -> &[FieldProblem] {
        &self.0
    }

    /// The same problems, reported against `to` where they named `from`.
    pub fn renamed(mut self, from: &str, to: &str) -> Self {
        for p in &mut self.0 {
            if p.field == from {
                p.field = to.to_string();
            }
        }
        self
    }

    /// Take `inner`'s problems as those of an element of a list: `origin` becomes
    /// `{prefix}.origin`.
    pub fn nest(&mut self, prefix: &str, inner: Invalid) {
        self.0.extend(inner.0.into_iter().map(|p| FieldProblem {
            field: if p.field.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}.{}", p.field)
            },
            ..p
        }));
    }

    /// `Ok(())` if nothing went wrong, otherwise every problem, in the order found.
    pub fn finish(self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// The problem that names the error: the first malformed one if any — input that does
    /// not have the documented shape is refused as such even when it also breaks a rule
    /// beyond it — else the first.
    pub fn lead(&self) -> Option<&FieldProblem> {
        self.0
            .iter()
            .find(|p| p.code.kind() == Kind::Malformed)
            .or(self.0.first())
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.lead(), self.0.len()) {
            (None, _) => f.write_str("the input is invalid"),
            (Some(one), 1) if one.field.is_empty() => f.write_str(&one.message),
            (Some(one), 1) => write!(f, "{}: {}", one.field, one.message),
            (Some(first), n) => write!(
                f,
                "{n} fields are invalid; first: {}: {}",
                first.field, first.message
            ),
        }
    }
}

impl std::error::Error for Invalid {}

impl Coded for Invalid {
    /// The leading problem's code (see [`Invalid::lead`]).
    fn code(&self) -> ErrorCode {
        self.lead().map_or(ErrorCode::InvalidField, |p| p.code)
    }
    fn fields(&self) -> &[FieldProblem] {
        &self.0
    }
}

/// A passenger mix that breaks the booking rules (the same codes wherever passengers are
/// given: search, calendar, explore, preferences).
impl From<crate::PassengersError> for Invalid {
    fn from(e: crate::PassengersError) -> Self {
        use crate::PassengersError as P;
        let (code, field) = match e {
            P::NoAdult => (ErrorCode::NoAdult, "adults"),
            P::TooMany(_) => (ErrorCode::TooManyPassengers, "adults"),
            P::TooManyInfants { .. } => (ErrorCode::TooManyInfants, "infants"),
        };
        Invalid::field(code, field, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_named_back() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {}", c.as_str());
            assert_eq!(ErrorCode::named(c.as_str()), Some(*c));
        }
    }

    #[test]
    fn every_problem_is_kept_and_a_malformed_one_names_the_error() {
        let mut e = Invalid::default();
        e.push(ErrorCode::UnknownAirport, "origin", "no airport XXX");
        e.take::<()>(Err(Invalid::field(
            ErrorCode::InvalidDate,
            "depart",
            "not a date",
        )));
        let err = e.finish().unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidDate);
        assert_eq!(err.fields().len(), 2);
        assert_eq!(
            err.to_string(),
            "2 fields are invalid; first: depart: not a date"
        );
        assert!(Invalid::default().finish().is_ok());
    }

    #[test]
    fn nested_problems_name_their_element() {
        let mut e = Invalid::default();
        e.push(ErrorCode::UnknownCurrency, "currency", "no such currency");
        let mut inner = Invalid::default();
        inner.push(ErrorCode::UnknownAirport, "origin", "no airport XXX");
        inner.push(ErrorCode::InvalidRange, "", "the element as a whole");
        e.nest("prices[3]", inner);
        let fields: Vec<&str> = e.problems().iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["currency", "prices[3].origin", "prices[3]"]);
        assert_eq!(e.problems()[1].code, ErrorCode::UnknownAirport);
    }
}
