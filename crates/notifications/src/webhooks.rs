//! Users' webhooks: registering an address (checked by the SSRF guard), listing them with how
//! their last delivery went, deleting one, the deliveries to one, and a test delivery — which
//! goes through the outbox like a price alert's, so it is signed, retried and listed alike.

use crate::target::Policy;
use crate::webhook::{TestPayload, TEST_EVENT};
use crate::{time, NotificationDto, NotificationsError};
use serde::{Deserialize, Serialize};
use spontra_domain::{ErrorCode, Invalid, SharedClock};
use spontra_store::{
    AlertStore, Delivery, NewNotification, NotificationId, StoreError, UserId, Webhook, WebhookId,
};
use std::sync::Arc;
use std::time::Duration;
use utoipa::ToSchema;

/// Webhooks an account may keep.
pub const MAX_WEBHOOKS_PER_USER: u32 = 5;

/// How long registration waits for a name to resolve before accepting it unchecked (each
/// delivery checks it again).
const LOOKUP_AT_REGISTRATION: Duration = Duration::from_secs(2);

/// A webhook to register.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// Where to post: an `https` address on the public internet.
    #[schema(max_length = 2000, example = "https://hooks.example.com/spontra")]
    pub url: String,
}

/// A registered webhook.
#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    #[schema(format = "uuid")]
    pub id: String,
    pub url: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The key deliveries are signed with (`whsec_` and base64): only in the answer to the
    /// registration; keep it, it is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The latest delivery and how it went.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_delivery: Option<NotificationDto>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first, at most 100.
    pub deliveries: Vec<NotificationDto>,
}

/// A test delivery on its way.
#[derive(Serialize, ToSchema)]
pub struct TestDelivery {
    /// Find it among the webhook's deliveries.
    #[schema(format = "uuid")]
    pub delivery_id: String,
}

pub struct WebhookService {
    pub store: Arc<dyn AlertStore>,
    pub policy: Policy,
    /// Wall-clock time.
    pub clock: SharedClock,
}

fn webhook_id(s: &str) -> Result<WebhookId, NotificationsError> {
    WebhookId::parse(s).ok_or(NotificationsError::NotFound)
}

fn not_found(e: StoreError) -> NotificationsError {
    match e {
        StoreError::NotFound => NotificationsError::NotFound,
        other => other.into(),
    }
}

impl WebhookService {
    pub async fn create(
        &self,
        user: UserId,
        body: &WebhookBody,
    ) -> Result<WebhookView, NotificationsError> {
        let refused = |why: String| Invalid::field(ErrorCode::WebhookRefused, "url", why);
        let url = self
            .policy
            .parse(&body.url)
            .map_err(|e| refused(e.to_string()))?;
        // A name that resolves to a refused address is refused now; one that does not resolve
        // yet is checked again at each delivery.
        if let Err(crate::target::Refused::Address(why)) =
            self.policy.resolve(&url, LOOKUP_AT_REGISTRATION).await
        {
            return Err(refused(why).into());
        }
        let hook = Webhook {
            id: WebhookId::new(),
            user_id: user,
            url: url.to_string(),
            secret: crate::signing::new_secret(),
            created_at: self.clock.now(),
        };
        match self
            .store
            .create_webhook(&hook, MAX_WEBHOOKS_PER_USER)
            .await
        {
            Err(StoreError::Conflict(_)) => {
                return Err(NotificationsError::TooManyWebhooks(MAX_WEBHOOKS_PER_USER))
            }
            other => other?,
        }
        Ok(WebhookView {
            secret: Some(hook.secret.clone()),
            ..view(&hook, None)
        })
    }

    pub async fn list(&self, user: UserId) -> Result<WebhookList, NotificationsError> {
        let mut webhooks = vec![];
        for hook in self.store.webhooks_of(user).await? {
            let last = self.store.deliveries(user, hook.id, 1).await?;
            webhooks.push(view(&hook, last.first().map(NotificationDto::from)));
        }
        Ok(WebhookList { webhooks })
    }

    pub async fn delete(&self, user: UserId, id: &str) -> Result<(), NotificationsError> {
        self.store
            .delete_webhook(user, webhook_id(id)?)
            .await
            .map_err(not_found)
    }

    pub async fn deliveries(
        &self,
        user: UserId,
        id: &str,
    ) -> Result<DeliveryList, NotificationsError> {
        let id = webhook_id(id)?;
        self.store.webhook(user, id).await.map_err(not_found)?;
        let deliveries = self.store.deliveries(user, id, 100).await?;
        Ok(DeliveryList {
            deliveries: deliveries.iter().map(NotificationDto::from).collect(),
        })
    }

    /// Queue a test delivery — or, while one is still waiting, give that one (a button pressed
    /// twice sends one).
    pub async fn test(&self, user: UserId, id: &str) -> Result<TestDelivery, NotificationsError> {
        let id = webhook_id(id)?;
        self.store.webhook(user, id).await.map_err(not_found)?;
        let pending = self.store.deliveries(user, id, 20).await?;
        if let Some(waiting) = pending.iter().find(|n| {
            n.status == Delivery::Pending
                && serde_json::from_str::<TestPayload>(&n.payload)
                    .is_ok_and(|t| t.kind == TEST_EVENT)
        }) {
            return Ok(TestDelivery {
                delivery_id: waiting.id.to_string(),
            });
        }
        let payload = TestPayload {
            kind: TEST_EVENT.into(),
            webhook_id: id.to_string(),
        };
        let delivery = NewNotification {
            id: NotificationId::new(),
            user_id: user,
            alert_id: None,
            channel: "webhook".into(),
            webhook_id: Some(id),
            payload: serde_json::to_string(&payload)
                .map_err(|e| NotificationsError::Internal(e.to_string()))?,
            created_at: self.clock.now(),
        };
        self.store.enqueue(&delivery).await?;
        Ok(TestDelivery {
            delivery_id: delivery.id.to_string(),
        })
    }
}

fn view(hook: &Webhook, last_delivery: Option<NotificationDto>) -> WebhookView {
    WebhookView {
        id: hook.id.to_string(),
        url: hook.url.clone(),
        created_at: time(hook.created_at),
        secret: None,
        last_delivery,
    }
}
