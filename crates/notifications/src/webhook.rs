//! Posting to a webhook: the body (an event envelope), the signature headers
//! ([`crate::signing`]), and one attempt over HTTPS to the addresses the SSRF guard checked
//! ([`crate::target`]), pinned, without redirects or proxies, within a timeout.
//!
//! The body is JSON: `{"type": …, "timestamp": …, "data": {…}}`. Types:
//!
//! - `price_alert.triggered`: `data` is the alert's message (route, dates, cabin, price and
//!   currency, why it fired, the limit or previous price) and `search_url`, the web app's
//!   search for the trip;
//! - `webhook.test`: `data` names the webhook; sent by "send a test delivery".
//!
//! A `2xx` answer is success; anything else, a timeout or a failed connection is retried (the
//! outbox's backoff); an address the guard refuses is not.

use crate::compose::search_url;
use crate::target::{Policy, Refused};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use spontra_store::{PriceAlertMessage, Webhook};
use std::time::Duration;

/// The event type of a test delivery.
pub const TEST_EVENT: &str = "webhook.test";
/// The event type of a price alert.
pub const PRICE_ALERT_EVENT: &str = "price_alert.triggered";

/// The outbox payload of a test delivery.
#[derive(Serialize, Deserialize)]
pub struct TestPayload {
    #[serde(rename = "type")]
    pub kind: String,
    pub webhook_id: String,
}

/// What an attempt came to, when it failed.
#[derive(Debug)]
pub enum PostError {
    /// Worth another attempt.
    Transient(String),
    /// No attempt can succeed.
    Permanent(String),
}

/// Sends deliveries.
#[derive(Clone, Debug)]
pub struct Sender {
    pub policy: Policy,
    /// The whole attempt (resolution, connection, answer).
    pub timeout: Duration,
    /// Where links in bodies point.
    pub public_url: String,
}

impl Sender {
    /// The body for a notification's payload (`None`: the payload is no event this knows).
    pub fn body(&self, payload: &str, at: DateTime<Utc>) -> Option<Vec<u8>> {
        let timestamp = at.to_rfc3339_opts(SecondsFormat::Secs, true);
        let value = if let Ok(m) = serde_json::from_str::<PriceAlertMessage>(payload) {
            let mut data = serde_json::to_value(&m).ok()?;
            data.as_object_mut()?
                .insert("search_url".into(), search_url(&self.public_url, &m).into());
            serde_json::json!({"type": PRICE_ALERT_EVENT, "timestamp": timestamp, "data": data})
        } else {
            let test: TestPayload = serde_json::from_str(payload).ok()?;
            (test.kind == TEST_EVENT).then_some(())?;
            serde_json::json!({
                "type": TEST_EVENT,
                "timestamp": timestamp,
                "data": {
                    "webhook_id": test.webhook_id,
                    "message": "A test delivery from Spontra: this webhook receives price alerts.",
                },
            })
        };
        serde_json::to_vec(&value).ok()
    }

    /// One attempt to post `body` as delivery `id` to `hook`, signed at `now`.
    pub async fn post(
        &self,
        hook: &Webhook,
        id: &str,
        body: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<(), PostError> {
        let url = self
            .policy
            .parse(&hook.url)
            .map_err(|e| PostError::Permanent(e.to_string()))?;
        let started = tokio::time::Instant::now();
        let addrs = match self.policy.resolve(&url, self.timeout).await {
            Ok(a) => a,
            Err(Refused::Address(why)) => return Err(PostError::Permanent(why)),
            Err(Refused::Lookup(why)) => return Err(PostError::Transient(why)),
        };
        let timestamp = now.timestamp();
        let signature = crate::signing::sign(&hook.secret, id, timestamp, &body)
            .ok_or_else(|| PostError::Permanent("the webhook's secret is unusable".into()))?;
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("Spontra-Webhooks/", env!("CARGO_PKG_VERSION")))
            .timeout(self.timeout.saturating_sub(started.elapsed()));
        if let Some(url::Host::Domain(name)) = url.host() {
            // Connect to the checked addresses and no others.
            client = client.resolve_to_addrs(name, &addrs);
        }
        let client = client
            .build()
            .map_err(|e| PostError::Transient(e.without_url().to_string()))?;
        let answer = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match answer {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(PostError::Transient(format!(
                "the webhook answered HTTP {}",
                r.status().as_u16()
            ))),
            Err(e) if e.is_timeout() => Err(PostError::Transient(format!(
                "no answer within {} s",
                self.timeout.as_secs_f64()
            ))),
            Err(e) => Err(PostError::Transient(format!(
                "could not reach the webhook: {}",
                causes(e)
            ))),
        }
    }
}

/// An error and its causes in one line, without the address (a webhook's URL may hold a token
/// of the receiver's, and errors are logged and shown).
fn causes(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut out = e.to_string();
    let mut next = std::error::Error::source(&e);
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}
