//! The notifications service: delivers what the outbox holds ([`outbox::Outbox`], a worker
//! with leases, retries and backoff) — price alerts by email, a readable HTML + text mail with
//! an RFC 8058 one-click unsubscribe ([`unsubscribe::Signer`]) — and answers, as an axum
//! [`Router`] under `/api/v1`:
//!
//! - `GET /notifications`: the signed-in user's notifications with their delivery status;
//! - `GET|POST /notifications/unsubscribe?alert=…&sig=…`: the unsubscribe link of a mail; the
//!   GET shows a confirmation button (link scanners must not unsubscribe anyone), the POST
//!   (the button, or a mail client's one-click `List-Unsubscribe-Post`) pauses the alert.

pub mod compose;
pub mod outbox;
pub mod unsubscribe;

use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use spontra_domain::{Coded, ErrorCode, SharedClock};
use spontra_http::openapi::BearerScheme;
use spontra_http::{ApiError, ApiQuery, Auth, Authenticator, ProblemDetails};
use spontra_store::{AlertId, AlertStore, PriceAlertMessage, StoreError, UserId};
use std::sync::Arc;
use unsubscribe::Signer;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// What the notifications service can refuse.
#[derive(Debug, thiserror::Error)]
pub enum NotificationsError {
    #[error("this unsubscribe link is not one Spontra sent")]
    InvalidLink,
    #[error("the service is busy; try again in a moment")]
    Busy,
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for NotificationsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => NotificationsError::Busy,
            other => NotificationsError::Internal(other.to_string()),
        }
    }
}

impl Coded for NotificationsError {
    fn code(&self) -> ErrorCode {
        match self {
            NotificationsError::InvalidLink => ErrorCode::InvalidLinkToken,
            NotificationsError::Busy => ErrorCode::Overloaded,
            NotificationsError::Internal(_) => ErrorCode::Internal,
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        matches!(self, NotificationsError::Busy).then_some(1)
    }
}

#[derive(Clone)]
pub struct NotificationsState {
    pub alerts: Arc<dyn AlertStore>,
    pub signer: Arc<Signer>,
    pub auth: Arc<dyn Authenticator>,
    /// Wall-clock time.
    pub clock: SharedClock,
}

impl FromRef<NotificationsState> for Arc<dyn Authenticator> {
    fn from_ref(s: &NotificationsState) -> Self {
        s.auth.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(list, unsubscribe_page, unsubscribe),
    components(schemas(NotificationDto, NotificationList, ProblemDetails)),
    modifiers(&BearerScheme),
    tags((name = "notifications", description = "What alerts told, and unsubscribing from a mail"))
)]
pub struct NotificationsApi;

pub fn router(state: NotificationsState) -> Router {
    Router::new()
        .route("/notifications", get(list))
        .route(
            "/notifications/unsubscribe",
            get(unsubscribe_page).post(unsubscribe),
        )
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}

/// A notification and how its delivery went.
#[derive(Serialize, ToSchema)]
pub struct NotificationDto {
    #[schema(format = "uuid")]
    pub id: String,
    /// The alert it came from (none once the alert is deleted).
    #[schema(format = "uuid")]
    pub alert_id: Option<String>,
    /// `email`.
    pub channel: String,
    /// `pending` (waiting or being retried), `sent`, or `dead` (every attempt failed).
    pub status: String,
    pub attempts: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// What it told: the trip and its price.
    pub subject: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<NotificationDto>,
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The caller's latest 100 notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationList),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in")))]
async fn list(
    State(s): State<NotificationsState>,
    Auth(p): Auth,
) -> Result<Json<NotificationList>, ApiError> {
    let user = UserId::parse(&p.user_id)
        .ok_or_else(|| NotificationsError::Internal("a principal without a uuid".into()))?;
    let notifications = s
        .alerts
        .notifications_of(user, 100)
        .await
        .map_err(NotificationsError::from)?;
    Ok(Json(NotificationList {
        notifications: notifications
            .into_iter()
            .map(|n| {
                let subject = serde_json::from_str::<PriceAlertMessage>(&n.payload)
                    .ok()
                    .map(|m| {
                        format!(
                            "{} → {} {} {}",
                            m.origin, m.destination, m.price, m.currency
                        )
                    });
                NotificationDto {
                    id: n.id.to_string(),
                    alert_id: n.alert_id.map(|a| a.to_string()),
                    channel: n.channel,
                    status: n.status.as_str().to_string(),
                    attempts: n.attempts,
                    last_error: n.last_error,
                    subject,
                    created_at: time(n.created_at),
                    next_attempt_at: (n.status == spontra_store::Delivery::Pending)
                        .then(|| time(n.next_attempt_at)),
                    sent_at: n.sent_at.map(time),
                }
            })
            .collect(),
    }))
}

/// An unsubscribe link's parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeParams {
    /// The alert the mail was about.
    #[param(format = "uuid")]
    pub alert: String,
    /// The link's signature.
    #[param(pattern = "^[A-Za-z0-9_-]{43}$")]
    pub sig: String,
}

fn checked(s: &NotificationsState, p: &UnsubscribeParams) -> Result<AlertId, NotificationsError> {
    let alert = AlertId::parse(&p.alert).ok_or(NotificationsError::InvalidLink)?;
    if !s.signer.verify(alert, &p.sig) {
        return Err(NotificationsError::InvalidLink);
    }
    Ok(alert)
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title></head><body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:1rem\">\
         <main><h1>{title}</h1>{body}</main></body></html>"
    );
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        )],
        Html(html),
    )
        .into_response()
}

/// The page an unsubscribe link opens: a button that stops the alert (opening the link alone
/// changes nothing, so mail scanners that follow links unsubscribe no one).
#[utoipa::path(get, path = "/api/v1/notifications/unsubscribe", tag = "notifications", params(UnsubscribeParams),
    responses((status = 200, content_type = "text/html", body = String, description = "a confirmation page"),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json", description = "`invalid_link_token`")))]
async fn unsubscribe_page(
    State(s): State<NotificationsState>,
    ApiQuery(p): ApiQuery<UnsubscribeParams>,
) -> Result<Response, ApiError> {
    let alert = checked(&s, &p)?;
    Ok(page(
        "Stop this price alert?",
        &format!(
            "<p>You will get no more mail from this alert. You can turn it back on from your alerts.</p>\
             <form method=\"post\" action=\"?alert={alert}&amp;sig={}\"><button type=\"submit\">Stop the alert</button></form>",
            s.signer.sign(alert)
        ),
    ))
}

/// Stop the alert a mail came from: the page's button, or a mail client's one-click
/// unsubscribe (RFC 8058: `List-Unsubscribe=One-Click` posted to the link). Repeating it, or
/// an alert already deleted, is still a success.
#[utoipa::path(post, path = "/api/v1/notifications/unsubscribe", tag = "notifications", params(UnsubscribeParams),
    responses((status = 200, content_type = "text/html", body = String, description = "the alert is stopped"),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json", description = "`invalid_link_token`"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn unsubscribe(
    State(s): State<NotificationsState>,
    ApiQuery(p): ApiQuery<UnsubscribeParams>,
) -> Result<Response, ApiError> {
    let alert = checked(&s, &p)?;
    match s.alerts.pause_alert(alert, s.clock.now()).await {
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(e) => return Err(NotificationsError::from(e).into()),
    }
    metrics::counter!("notifications_unsubscribed_total").increment(1);
    Ok((
        StatusCode::OK,
        page(
            "Alert stopped",
            "<p>You will get no more mail from this alert.</p>",
        ),
    )
        .into_response())
}
