//! The other services' sections of an account's export (`GET /me/export`): price alerts,
//! webhooks and the notifications sent, each as its own API shows it. Built here, from the
//! database every users process opens, so an export is whole whichever services a process
//! runs; the services themselves know nothing of each other.

use crate::config::Settings;
use crate::store::Stores;
use async_trait::async_trait;
use spontra_domain::SharedClock;
use spontra_notifications::webhooks::WebhookService;
use spontra_notifications::NotificationDto;
use spontra_pricing::evaluate::Evaluator;
use spontra_pricing::watchlist::AlertService;
use spontra_store::{AlertStore, UserId};
use spontra_users::privacy::PersonalData;
use std::sync::Arc;

/// Notifications kept per account, at most, in an export.
const NOTIFICATIONS: u32 = 10_000;

struct Alerts(AlertService);

#[async_trait]
impl PersonalData for Alerts {
    fn section(&self) -> &'static str {
        "alerts"
    }
    async fn export(&self, user: UserId) -> Result<serde_json::Value, String> {
        let list = self.0.list(user).await.map_err(|e| e.to_string())?;
        serde_json::to_value(list.alerts).map_err(|e| e.to_string())
    }
}

struct Webhooks(WebhookService);

#[async_trait]
impl PersonalData for Webhooks {
    fn section(&self) -> &'static str {
        "webhooks"
    }
    async fn export(&self, user: UserId) -> Result<serde_json::Value, String> {
        let list = self.0.list(user).await.map_err(|e| e.to_string())?;
        serde_json::to_value(list.webhooks).map_err(|e| e.to_string())
    }
}

struct Notifications(Arc<dyn AlertStore>);

#[async_trait]
impl PersonalData for Notifications {
    fn section(&self) -> &'static str {
        "notifications"
    }
    async fn export(&self, user: UserId) -> Result<serde_json::Value, String> {
        let sent = self
            .0
            .notifications_of(user, NOTIFICATIONS)
            .await
            .map_err(|e| e.to_string())?;
        let list: Vec<NotificationDto> = sent.iter().map(NotificationDto::from).collect();
        serde_json::to_value(list).map_err(|e| e.to_string())
    }
}

/// Every section, over `stores`. `market`: market time (which alerts have expired); `wall`:
/// wall-clock time.
pub fn parts(
    settings: &Settings,
    stores: &Stores,
    market: SharedClock,
    wall: SharedClock,
) -> anyhow::Result<Vec<Arc<dyn PersonalData>>> {
    let evaluator = Arc::new(Evaluator::new(
        stores.prices.clone(),
        stores.alerts.clone(),
        crate::world::refdata()?,
        market,
        wall.clone(),
        settings.pricing.alerts_daily_cap,
    ));
    Ok(vec![
        Arc::new(Alerts(AlertService {
            alerts: stores.alerts.clone(),
            evaluator,
        })),
        Arc::new(Webhooks(WebhookService {
            store: stores.alerts.clone(),
            policy: spontra_notifications::target::Policy {
                allow_loopback: settings.notifications.webhook_allow_loopback,
            },
            clock: wall,
        })),
        Arc::new(Notifications(stores.alerts.clone())),
    ])
}
