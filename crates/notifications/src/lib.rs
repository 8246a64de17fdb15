//! The notifications service: delivers what the outbox holds ([`outbox::Outbox`], a worker
//! with leases, retries and backoff) — price alerts by email, a readable HTML + text mail with
//! an RFC 8058 one-click unsubscribe ([`unsubscribe::Signer`]) — and answers, as an axum
//! [`Router`] under `/api/v1`:
//!
//! - `GET /notifications`: the signed-in user's notifications with their delivery status;
//! - `GET|POST /notifications/unsubscribe?alert=…&sig=…`: the unsubscribe link of a mail; the
//!   GET shows a confirmation button (link scanners must not unsubscribe anyone), the POST
//!   (the button, or a mail client's one-click `List-Unsubscribe-Post`) pauses the alert;
//! - `GET|POST /webhooks`, `DELETE /webhooks/{id}`, `GET /webhooks/{id}/deliveries`,
//!   `POST /webhooks/{id}/test`: the signed-in user's webhooks ([`webhooks`]), which get every
//!   price alert as a signed POST ([`webhook`], [`signing`]) to an address the SSRF guard
//!   allows ([`target`]).

pub mod compose;
pub mod outbox;
pub mod signing;
pub mod target;
pub mod unsubscribe;
pub mod webhook;
pub mod webhooks;

use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use spontra_domain::{Coded, ErrorCode, FieldProblem, Invalid, SharedClock};
use spontra_http::openapi::BearerScheme;
use spontra_http::{ApiError, ApiJson, ApiPath, ApiQuery, Auth, Authenticator, ProblemDetails};
use spontra_store::{AlertId, AlertStore, Notification, PriceAlertMessage, StoreError, UserId};
use std::sync::Arc;
use unsubscribe::Signer;
use utoipa::{IntoParams, OpenApi, ToSchema};
use webhooks::{DeliveryList, TestDelivery, WebhookBody, WebhookList, WebhookService, WebhookView};

/// What the notifications service can refuse.
#[derive(Debug, thiserror::Error)]
pub enum NotificationsError {
    /// The input does not hold (a webhook address Spontra will not post to).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("this unsubscribe link is not one Spontra sent")]
    InvalidLink,
    /// No such webhook among the caller's.
    #[error("no such webhook")]
    NotFound,
    /// The account keeps as many webhooks as it may.
    #[error("an account keeps at most {0} webhooks; delete one first")]
    TooManyWebhooks(u32),
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
            NotificationsError::Invalid(e) => e.code(),
            NotificationsError::InvalidLink => ErrorCode::InvalidLinkToken,
            NotificationsError::NotFound => ErrorCode::NotFound,
            NotificationsError::TooManyWebhooks(_) => ErrorCode::TooManyWebhooks,
            NotificationsError::Busy => ErrorCode::Overloaded,
            NotificationsError::Internal(_) => ErrorCode::Internal,
        }
    }

    fn fields(&self) -> &[FieldProblem] {
        match self {
            NotificationsError::Invalid(e) => e.fields(),
            _ => &[],
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
    pub webhooks: Arc<WebhookService>,
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
    paths(list, unsubscribe_page, unsubscribe, list_webhooks, create_webhook, delete_webhook,
        webhook_deliveries, test_webhook),
    components(schemas(NotificationDto, NotificationList, ProblemDetails, WebhookBody, WebhookView,
        WebhookList, DeliveryList, TestDelivery)),
    modifiers(&BearerScheme),
    tags((name = "notifications", description = "What alerts told, and unsubscribing from a mail"),
        (name = "webhooks", description = "Price alerts posted to an address of the user's, signed (Standard Webhooks)"))
)]
pub struct NotificationsApi;

pub fn router(state: NotificationsState) -> Router {
    Router::new()
        .route("/notifications", get(list))
        .route(
            "/notifications/unsubscribe",
            get(unsubscribe_page).post(unsubscribe),
        )
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route("/webhooks/{id}", delete(delete_webhook))
        .route("/webhooks/{id}/deliveries", get(webhook_deliveries))
        .route("/webhooks/{id}/test", post(test_webhook))
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
    /// `email` or `webhook`.
    pub channel: String,
    /// `pending` (waiting or being retried), `sent`, or `dead` (every attempt failed).
    pub status: String,
    pub attempts: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// What it told: the trip and its price, or that it is a test.
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

pub(crate) fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl From<&Notification> for NotificationDto {
    fn from(n: &Notification) -> Self {
        let subject = match serde_json::from_str::<PriceAlertMessage>(&n.payload) {
            Ok(m) => Some(format!(
                "{} → {} {} {}",
                m.origin, m.destination, m.price, m.currency
            )),
            Err(_) => serde_json::from_str::<webhook::TestPayload>(&n.payload)
                .ok()
                .map(|_| "Test delivery".to_string()),
        };
        NotificationDto {
            id: n.id.to_string(),
            alert_id: n.alert_id.map(|a| a.to_string()),
            channel: n.channel.clone(),
            status: n.status.as_str().to_string(),
            attempts: n.attempts,
            last_error: n.last_error.clone(),
            subject,
            created_at: time(n.created_at),
            next_attempt_at: (n.status == spontra_store::Delivery::Pending)
                .then(|| time(n.next_attempt_at)),
            sent_at: n.sent_at.map(time),
        }
    }
}

/// The caller's id (sessions carry a uuid).
fn user_id(s: &str) -> Result<UserId, NotificationsError> {
    UserId::parse(s)
        .ok_or_else(|| NotificationsError::Internal("a principal without a uuid".into()))
}

/// The caller's latest 100 notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationList),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in")))]
async fn list(
    State(s): State<NotificationsState>,
    Auth(p): Auth,
) -> Result<Json<NotificationList>, ApiError> {
    let notifications = s
        .alerts
        .notifications_of(user_id(&p.user_id)?, 100)
        .await
        .map_err(NotificationsError::from)?;
    Ok(Json(NotificationList {
        notifications: notifications.iter().map(NotificationDto::from).collect(),
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

/// The caller's webhooks, oldest first, each with its latest delivery.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = WebhookList),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn list_webhooks(
    State(s): State<NotificationsState>,
    Auth(p): Auth,
) -> Result<Json<WebhookList>, ApiError> {
    Ok(Json(s.webhooks.list(user_id(&p.user_id)?).await?))
}

/// Register a webhook: every price alert of the caller's is then also posted to it, signed
/// with the secret in this answer (shown once). Only `https` addresses on the public internet
/// are accepted.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])), request_body = WebhookBody,
    responses((status = 201, body = WebhookView),
        (status = 400, body = ProblemDetails, content_type = "application/problem+json", description = "`malformed_json`"),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json", description = "`too_many_webhooks`"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json", description = "`webhook_refused`: not https, or a private, loopback, link-local or reserved address"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn create_webhook(
    State(s): State<NotificationsState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<WebhookBody>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let view = s.webhooks.create(user_id(&p.user_id)?, &body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Delete a webhook and its deliveries.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path, format = "uuid")),
    responses((status = 204, description = "deleted"),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`not_found`: no such webhook of the caller's")))]
async fn delete_webhook(
    State(s): State<NotificationsState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    s.webhooks.delete(user_id(&p.user_id)?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's deliveries, newest first, with their status (pending, sent, dead), attempts and
/// the last error.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path, format = "uuid")),
    responses((status = 200, body = DeliveryList),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`not_found`: no such webhook of the caller's")))]
async fn webhook_deliveries(
    State(s): State<NotificationsState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeliveryList>, ApiError> {
    Ok(Json(
        s.webhooks.deliveries(user_id(&p.user_id)?, &id).await?,
    ))
}

/// Send a test delivery (`webhook.test`) through the outbox; follow it in the deliveries.
/// While one is waiting, pressing again gives the same one.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path, format = "uuid")),
    responses((status = 202, body = TestDelivery),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json", description = "`unauthorized`: sign in"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json", description = "`not_found`: no such webhook of the caller's"),
        (status = 503, body = ProblemDetails, content_type = "application/problem+json", description = "`overloaded`", headers(("Retry-After" = u64, description = "seconds to wait")))))]
async fn test_webhook(
    State(s): State<NotificationsState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<TestDelivery>), ApiError> {
    let sent = s.webhooks.test(user_id(&p.user_id)?, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}
