//! A user's price alerts: create, list, read, replace, pause and delete, each only on the
//! caller's own alerts (another user's alert is "not found", never "forbidden", so ids reveal
//! nothing). A new or edited alert is evaluated at once: it learns the price now and tells the
//! user if that already qualifies.

use crate::alert::{AlertBody, AlertDef};
use crate::dto::{AlertList, AlertView, NotificationSummary, Watching};
use crate::error::PricingError;
use crate::evaluate::Evaluator;
use chrono::{DateTime, SecondsFormat, Utc};
use spontra_store::{
    Alert, AlertChange, AlertId, AlertStore, Notification, PriceAlertMessage, StoreError, UserId,
    Watch,
};
use std::collections::HashMap;
use std::sync::Arc;

/// How many alerts one account may keep.
pub const MAX_ALERTS_PER_USER: u32 = 50;

pub struct AlertService {
    pub alerts: Arc<dyn AlertStore>,
    pub evaluator: Arc<Evaluator>,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The caller's id (sessions carry a uuid).
pub fn user_id(s: &str) -> Result<UserId, PricingError> {
    UserId::parse(s).ok_or_else(|| PricingError::Internal("a principal without a uuid".into()))
}

/// An alert id from the path: anything not a uuid is no alert of the caller's.
fn alert_id(s: &str) -> Result<AlertId, PricingError> {
    AlertId::parse(s).ok_or(PricingError::NotFound)
}

fn not_found(e: StoreError) -> PricingError {
    match e {
        StoreError::NotFound => PricingError::NotFound,
        other => other.into(),
    }
}

impl AlertService {
    fn parse(&self, body: &AlertBody) -> Result<AlertDef, PricingError> {
        let today = self.evaluator.today();
        crate::service::alert_def(&self.evaluator.refdata, body, Some(today))
    }

    fn spec(def: &AlertDef) -> Result<String, PricingError> {
        serde_json::to_string(&def.body).map_err(|e| PricingError::Internal(e.to_string()))
    }

    /// Evaluate a new or edited alert; a failure here is the sweep's to make up.
    async fn first_look(&self, alert: &Alert) {
        if let Err(e) = self.evaluator.evaluate(alert).await {
            tracing::warn!(alert = %alert.id, error = %e, "evaluating a new alert; the sweep will");
        }
    }

    pub async fn create(&self, user: UserId, body: &AlertBody) -> Result<AlertView, PricingError> {
        let def = self.parse(body)?;
        let now = self.evaluator.wall.now();
        let alert = Alert {
            id: AlertId::new(),
            user_id: user,
            spec: Self::spec(&def)?,
            watched: def.watched.clone(),
            paused: false,
            version: 0,
            watch: Watch::default(),
            created_at: now,
            updated_at: now,
        };
        match self.alerts.create_alert(&alert, MAX_ALERTS_PER_USER).await {
            Err(StoreError::Conflict(_)) => {
                return Err(PricingError::TooManyAlerts(MAX_ALERTS_PER_USER))
            }
            other => other?,
        }
        self.first_look(&alert).await;
        self.get(user, &alert.id.to_string()).await
    }

    pub async fn list(&self, user: UserId) -> Result<AlertList, PricingError> {
        let alerts = self.alerts.alerts_of(user).await?;
        let last = self.last_notifications(user).await?;
        Ok(AlertList {
            alerts: alerts
                .iter()
                .map(|a| self.view(a, last.get(&a.id)))
                .collect::<Result<_, _>>()?,
        })
    }

    pub async fn get(&self, user: UserId, id: &str) -> Result<AlertView, PricingError> {
        let alert = self
            .alerts
            .alert(user, alert_id(id)?)
            .await
            .map_err(not_found)?;
        let last = self.last_notifications(user).await?;
        self.view(&alert, last.get(&alert.id))
    }

    /// Replace the definition; the watch starts afresh.
    pub async fn replace(
        &self,
        user: UserId,
        id: &str,
        body: &AlertBody,
    ) -> Result<AlertView, PricingError> {
        let id = alert_id(id)?;
        let def = self.parse(body)?;
        let change = AlertChange {
            definition: Some((Self::spec(&def)?, def.watched.clone())),
            paused: None,
        };
        let now = self.evaluator.wall.now();
        let alert = self
            .alerts
            .update_alert(user, id, &change, now)
            .await
            .map_err(not_found)?;
        if !alert.paused {
            self.first_look(&alert).await;
        }
        self.get(user, &id.to_string()).await
    }

    pub async fn set_paused(
        &self,
        user: UserId,
        id: &str,
        paused: bool,
    ) -> Result<AlertView, PricingError> {
        let id = alert_id(id)?;
        let change = AlertChange {
            definition: None,
            paused: Some(paused),
        };
        let now = self.evaluator.wall.now();
        let alert = self
            .alerts
            .update_alert(user, id, &change, now)
            .await
            .map_err(not_found)?;
        if !paused {
            self.first_look(&alert).await;
        }
        self.get(user, &id.to_string()).await
    }

    pub async fn delete(&self, user: UserId, id: &str) -> Result<(), PricingError> {
        self.alerts
            .delete_alert(user, alert_id(id)?)
            .await
            .map_err(not_found)
    }

    /// Each alert's newest notification (among the user's latest 500).
    async fn last_notifications(
        &self,
        user: UserId,
    ) -> Result<HashMap<AlertId, Notification>, PricingError> {
        let mut last = HashMap::new();
        for n in self.alerts.notifications_of(user, 500).await? {
            if let Some(a) = n.alert_id {
                last.entry(a).or_insert(n);
            }
        }
        Ok(last)
    }

    fn view(&self, alert: &Alert, last: Option<&Notification>) -> Result<AlertView, PricingError> {
        let def = self.evaluator.definition(alert);
        // Saved only after it parsed; it does not fail to read back short of a corrupt row.
        let definition: AlertBody = serde_json::from_str(&alert.spec)
            .map_err(|e| PricingError::Internal(format!("alert {}: {e}", alert.id)))?;
        let w = &alert.watched;
        let last_day = w.returns.map_or(w.depart.1, |r| r.1);
        Ok(AlertView {
            id: alert.id.to_string(),
            definition,
            paused: alert.paused,
            expired: last_day < self.evaluator.today(),
            watching: Watching {
                departure_from: w.depart.0.to_string(),
                departure_to: w.depart.1.to_string(),
                return_from: w.returns.map(|r| r.0.to_string()),
                return_to: w.returns.map(|r| r.1.to_string()),
            },
            price_now: match (&def, alert.watch.last_price_minor) {
                (Some(def), Some(p)) => Some(def.display.price(p.max(0) as u64)),
                _ => None,
            },
            last_checked_at: alert.watch.evaluated_at.map(time),
            last_notified_at: alert.watch.notified_at.map(time),
            last_notification: last.map(|n| NotificationSummary {
                id: n.id.to_string(),
                channel: n.channel.clone(),
                status: n.status.as_str().to_string(),
                attempts: n.attempts,
                price: serde_json::from_str::<PriceAlertMessage>(&n.payload)
                    .ok()
                    .map(|m| format!("{} {}", m.price, m.currency)),
                created_at: time(n.created_at),
                sent_at: n.sent_at.map(time),
            }),
            created_at: time(alert.created_at),
            updated_at: time(alert.updated_at),
        })
    }
}
