//! The outbox worker: claims due notifications (a lease, so a crashed worker's jobs come back
//! and a live one's are never taken by another worker), delivers each, and records the outcome
//! — sent, retried later with exponential backoff, or dead after the last attempt.
//!
//! Delivery is at least once at the transport: a worker that dies after the SMTP server
//! accepted a mail and before recording it sends it again when the lease runs out. Each mail
//! carries the notification's id as its `Message-ID`, so a receiving system can tell the
//! second copy from a new alert. Two live workers never send the same notification.

use crate::compose::price_alert_mail;
use crate::unsubscribe::Signer;
use crate::webhook::{PostError, Sender};
use chrono::Duration;
use spontra_domain::SharedClock;
use spontra_mail::Mailer;
use spontra_store::{AlertStore, Notification, Outcome, PriceAlertMessage, StoreError, UserStore};
use std::sync::Arc;

/// How the worker paces itself.
#[derive(Clone, Debug)]
pub struct OutboxSettings {
    /// How long a claim holds a notification.
    pub lease_seconds: i64,
    /// Notifications claimed at once.
    pub batch: u32,
    /// Attempts before a notification is dead.
    pub max_attempts: i32,
    /// The wait after the first failure; doubled after each further one.
    pub backoff_seconds: i64,
    /// How often an idle worker looks for due notifications.
    pub poll_millis: u64,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            lease_seconds: 120,
            batch: 20,
            max_attempts: 6,
            backoff_seconds: 30,
            poll_millis: 1_000,
        }
    }
}

pub struct Outbox {
    pub alerts: Arc<dyn AlertStore>,
    pub users: Arc<dyn UserStore>,
    pub mailer: Arc<dyn Mailer>,
    pub signer: Arc<Signer>,
    /// Where links in mails point.
    pub public_url: String,
    /// Wall-clock time.
    pub clock: SharedClock,
    pub settings: OutboxSettings,
    pub webhooks: Sender,
}

/// Why a delivery did not happen.
enum Failure {
    /// Worth another attempt.
    Transient(String),
    /// No attempt can succeed.
    Permanent(String),
}

impl Outbox {
    /// The wait before attempt `attempts + 1` after `attempts` failed.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = (attempts - 1).clamp(0, 20) as u32;
        Duration::seconds(self.settings.backoff_seconds.saturating_mul(1 << doublings))
    }

    /// Claim and deliver one batch; how many were claimed.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let lease = now + Duration::seconds(self.settings.lease_seconds);
        let claimed = self.alerts.claim(now, lease, self.settings.batch).await?;
        for n in &claimed {
            let outcome = match self.deliver(n).await {
                Ok(()) => {
                    metrics::counter!("notifications_sent_total", "channel" => n.channel.clone())
                        .increment(1);
                    Outcome::Sent
                }
                Err(Failure::Permanent(error)) => Outcome::Dead { error },
                Err(Failure::Transient(error)) if n.attempts >= self.settings.max_attempts => {
                    Outcome::Dead {
                        error: format!("{error} (after {} attempts)", n.attempts),
                    }
                }
                Err(Failure::Transient(error)) => Outcome::Retry {
                    at: self.clock.now() + self.backoff(n.attempts),
                    error,
                },
            };
            if let Outcome::Dead { error } = &outcome {
                metrics::counter!("notifications_dead_total", "channel" => n.channel.clone())
                    .increment(1);
                tracing::warn!(notification = %n.id, %error, "a notification could not be delivered");
            }
            match self.alerts.finish(n.id, &outcome, self.clock.now()).await {
                // Deleted with its webhook while in flight: nothing to record.
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(claimed.len())
    }

    /// Deliver until `stop` says so.
    pub async fn run(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let idle = std::time::Duration::from_millis(self.settings.poll_millis);
        while !*stop.borrow() {
            let pause = match self.run_once().await {
                Ok(n) if n > 0 => std::time::Duration::ZERO,
                Ok(_) => idle,
                Err(e) => {
                    tracing::warn!(error = %e, "the outbox could not be read; trying again");
                    idle * 5
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }

    async fn deliver(&self, n: &Notification) -> Result<(), Failure> {
        match n.channel.as_str() {
            "email" => self.email(n).await,
            "webhook" => self.webhook(n).await,
            other => Err(Failure::Permanent(format!("no channel {other:?}"))),
        }
    }

    /// The account a notification is for, if it may still be told anything.
    async fn open_account(&self, n: &Notification) -> Result<spontra_store::User, Failure> {
        let user = match self.users.user_by_id(n.user_id).await {
            Ok(u) => u,
            Err(StoreError::NotFound) => {
                return Err(Failure::Permanent("the account is gone".into()))
            }
            Err(e) => return Err(Failure::Transient(e.to_string())),
        };
        if user.deleted_at.is_some() || user.disabled {
            return Err(Failure::Permanent(
                "the account is closed or disabled".into(),
            ));
        }
        Ok(user)
    }

    async fn webhook(&self, n: &Notification) -> Result<(), Failure> {
        let Some(id) = n.webhook_id else {
            return Err(Failure::Permanent("no webhook named".into()));
        };
        self.open_account(n).await?;
        let hook = match self.alerts.webhook(n.user_id, id).await {
            Ok(h) => h,
            Err(StoreError::NotFound) => {
                return Err(Failure::Permanent("the webhook is gone".into()))
            }
            Err(e) => return Err(Failure::Transient(e.to_string())),
        };
        let body = self
            .webhooks
            .body(&n.payload, n.created_at)
            .ok_or_else(|| Failure::Permanent("unreadable payload".into()))?;
        self.webhooks
            .post(&hook, &n.id.to_string(), body, self.clock.now())
            .await
            .map_err(|e| match e {
                PostError::Transient(why) => Failure::Transient(why),
                PostError::Permanent(why) => Failure::Permanent(why),
            })
    }

    async fn email(&self, n: &Notification) -> Result<(), Failure> {
        let message: PriceAlertMessage = serde_json::from_str(&n.payload)
            .map_err(|e| Failure::Permanent(format!("unreadable payload: {e}")))?;
        let user = self.open_account(n).await?;
        let Some(email) = user.email else {
            return Err(Failure::Permanent(
                "the account is closed or disabled".into(),
            ));
        };
        if user.email_verified_at.is_none() {
            return Err(Failure::Permanent(
                "the account's email address is not verified".into(),
            ));
        }
        let prefs = self
            .users
            .preferences(n.user_id)
            .await
            .map_err(|e| Failure::Transient(e.to_string()))?;
        if !price_alert_mail_on(prefs.as_deref()) {
            return Err(Failure::Permanent(
                "price-alert mail is off in the account's preferences".into(),
            ));
        }
        let unsubscribe = self.signer.url(&self.public_url, message.alert_id);
        let mut mail = price_alert_mail(
            email.as_str(),
            &message,
            n.created_at,
            &self.public_url,
            &unsubscribe,
        );
        mail.message_id = Some(format!("<{}@notifications.spontra>", n.id));
        self.mailer.send(&mail).await.map_err(|e| match e {
            spontra_mail::MailError::Address(..) | spontra_mail::MailError::Build(_) => {
                Failure::Permanent(e.to_string())
            }
            _ => Failure::Transient(e.to_string()),
        })
    }
}

/// Whether the stored preferences (JSON, none: defaults) allow price-alert mail.
fn price_alert_mail_on(prefs: Option<&str>) -> bool {
    let Some(json) = prefs else { return true };
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v.pointer("/notifications/price_alerts")?.as_bool())
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_turn_price_alert_mail_off_only_when_they_say_so() {
        assert!(price_alert_mail_on(None));
        assert!(price_alert_mail_on(Some(r#"{"currency":"EUR"}"#)));
        assert!(price_alert_mail_on(Some(
            r#"{"notifications":{"price_alerts":true}}"#
        )));
        assert!(!price_alert_mail_on(Some(
            r#"{"notifications":{"price_alerts":false}}"#
        )));
    }
}
