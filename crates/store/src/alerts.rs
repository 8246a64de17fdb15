//! Price alerts and the notification outbox.
//!
//! An alert is a user's watch on a trip's price. The store keeps its definition (as the user
//! gave it, and the airports, cabin and dates it watches, which is how evaluators find the
//! alerts a recorded price touches) and the evaluator's state (the price level it last told
//! the user about, whether it is armed). Every change of either bumps the alert's `version`;
//! an evaluator saves its verdict only if the version is still the one it read
//! ([`AlertStore::settle`]), and a notification is written in the same transaction as that
//! save, so two evaluators that both decide to notify produce one notification.
//!
//! Notifications wait in an outbox table until a worker claims them ([`AlertStore::claim`]):
//! a claim is a lease, so a crashed worker's jobs come back after the lease and a live one's
//! are never taken by another.

use crate::{StoreResult, UserId};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

id_type!(AlertId);
id_type!(NotificationId);
id_type!(WebhookId);

/// What an alert watches: a trip from `origin` in `cabin`, leaving between `depart.0` and
/// `depart.1`, and with `returns` coming back between those dates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    pub origin: String,
    /// `None`: anywhere (the destinations the alert's flight-time range allows).
    pub destination: Option<String>,
    pub cabin: String,
    pub depart: (NaiveDate, NaiveDate),
    /// Return dates, both inclusive; `None`: one way.
    pub returns: Option<(NaiveDate, NaiveDate)>,
}

/// The evaluator's memory of an alert.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Watch {
    /// The price (euro cents) a new notification is measured against: the level last notified,
    /// or for a "new low" alert the first price seen.
    pub reference_minor: Option<i64>,
    /// A "below a price" alert fires only while armed; it disarms when it fires and re-arms
    /// once the price has gone clearly back above the limit (hysteresis).
    pub disarmed: bool,
    /// The trip's lowest price at the last evaluation (`None`: nothing on sale).
    pub last_price_minor: Option<i64>,
    pub evaluated_at: Option<DateTime<Utc>>,
    pub notified_at: Option<DateTime<Utc>>,
}

/// A stored alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub id: AlertId,
    pub user_id: UserId,
    /// The definition as the user gave it (the pricing service's JSON).
    pub spec: String,
    pub watched: Watched,
    pub paused: bool,
    /// Bumped by every change to the definition, the pause or the watch.
    pub version: i64,
    pub watch: Watch,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A notification to put in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub alert_id: Option<AlertId>,
    /// `email` or `webhook`.
    pub channel: String,
    /// The webhook a `webhook` notification goes to.
    pub webhook_id: Option<WebhookId>,
    /// What to tell (the notifications service's JSON).
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

/// Where a notification is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Pending,
    Sent,
    /// Every attempt failed.
    Dead,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Pending => "pending",
            Delivery::Sent => "sent",
            Delivery::Dead => "dead",
        }
    }
    pub fn parse(s: &str) -> Option<Delivery> {
        [Delivery::Pending, Delivery::Sent, Delivery::Dead]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// A notification in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub alert_id: Option<AlertId>,
    pub channel: String,
    pub webhook_id: Option<WebhookId>,
    pub payload: String,
    pub status: Delivery,
    /// Attempts made (a claim counts as one).
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// How [`AlertStore::settle`] went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// The watch is saved (and the notification, if any, is in the outbox).
    Saved,
    /// The alert changed (another evaluator, an edit) or went since it was read: nothing saved.
    Stale,
    /// The user's notifications for the day are used up: nothing saved, so the alert fires
    /// when the cap allows if the price still warrants it.
    Capped,
}

/// What became of a claimed notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Failed; try again at the time given.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Failed for the last time.
    Dead {
        error: String,
    },
}

/// Fields of an alert to change; `None` leaves them.
#[derive(Clone, Debug, Default)]
pub struct AlertChange {
    /// A new definition (resets the watch: the new trip's prices start afresh).
    pub definition: Option<(String, Watched)>,
    pub paused: Option<bool>,
}

#[async_trait]
pub trait AlertStore: Send + Sync + 'static {
    /// Store a new alert unless its user already has `max_per_user` (then `Conflict`).
    async fn create_alert(&self, alert: &Alert, max_per_user: u32) -> StoreResult<()>;

    /// The user's alerts, newest first.
    async fn alerts_of(&self, user: UserId) -> StoreResult<Vec<Alert>>;

    /// One of the user's alerts (`NotFound` if it is another user's).
    async fn alert(&self, user: UserId, id: AlertId) -> StoreResult<Alert>;

    /// Change one of the user's alerts (`NotFound` if it is another user's).
    async fn update_alert(
        &self,
        user: UserId,
        id: AlertId,
        change: &AlertChange,
        at: DateTime<Utc>,
    ) -> StoreResult<Alert>;

    /// Delete one of the user's alerts (`NotFound` if it is another user's). Its notifications
    /// stay (the outbox may still hold one in flight) without their link to it.
    async fn delete_alert(&self, user: UserId, id: AlertId) -> StoreResult<()>;

    /// Pause an alert whatever its user (a signed one-click unsubscribe). `NotFound` if gone.
    async fn pause_alert(&self, id: AlertId, at: DateTime<Utc>) -> StoreResult<()>;

    /// Live alerts in `cabin` from or to any of `airports` whose dates have not all passed by
    /// `today`.
    async fn alerts_touching(
        &self,
        cabin: &str,
        airports: &[String],
        today: NaiveDate,
    ) -> StoreResult<Vec<Alert>>;

    /// Live alerts with ids after `after`, by id, at most `limit` (the sweep's pages).
    async fn live_alerts(
        &self,
        after: Option<AlertId>,
        today: NaiveDate,
        limit: u32,
    ) -> StoreResult<Vec<Alert>>;

    /// Save `watch` for the alert if its version is still `version` (bumping it), and put
    /// `notify` (the mail, if the alert fires) in the outbox in the same transaction, with a
    /// copy on channel `webhook` for each of the user's webhooks — unless the user already has
    /// `daily_cap` alerts told on `day` (a firing counts once, whatever its channels).
    async fn settle(
        &self,
        id: AlertId,
        version: i64,
        watch: &Watch,
        notify: Option<&NewNotification>,
        daily_cap: u32,
        day: NaiveDate,
    ) -> StoreResult<Settled>;

    /// Put a notification in the outbox outside any alert (a test delivery).
    async fn enqueue(&self, notification: &NewNotification) -> StoreResult<()>;

    /// Claim up to `limit` pending notifications due at `now` whose lease (if any) has run out,
    /// leasing them until `lease_until` and counting the attempt. Concurrent claimers never get
    /// the same notification while its lease runs.
    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Notification>>;

    /// Record what became of a claimed notification.
    async fn finish(
        &self,
        id: NotificationId,
        outcome: &Outcome,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// The user's notifications, newest first, at most `limit`.
    async fn notifications_of(&self, user: UserId, limit: u32) -> StoreResult<Vec<Notification>>;

    /// Store a new webhook unless its user already has `max_per_user` (then `Conflict`).
    async fn create_webhook(&self, webhook: &Webhook, max_per_user: u32) -> StoreResult<()>;

    /// The user's webhooks, oldest first.
    async fn webhooks_of(&self, user: UserId) -> StoreResult<Vec<Webhook>>;

    /// One of the user's webhooks (`NotFound` if it is another user's).
    async fn webhook(&self, user: UserId, id: WebhookId) -> StoreResult<Webhook>;

    /// Delete one of the user's webhooks and its deliveries (`NotFound` if another user's).
    async fn delete_webhook(&self, user: UserId, id: WebhookId) -> StoreResult<()>;

    /// The deliveries to one of the user's webhooks, newest first, at most `limit` (none for
    /// another user's).
    async fn deliveries(
        &self,
        user: UserId,
        id: WebhookId,
        limit: u32,
    ) -> StoreResult<Vec<Notification>>;
}

/// A user's webhook: an address price alerts are posted to, and the key that signs them.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub user_id: UserId,
    pub url: String,
    /// The signing key as given to the user (`whsec_` and base64).
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// What a price alert's notification tells (the outbox payload pricing writes and the
/// notifications service renders as a mail or a webhook body).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PriceAlertMessage {
    pub alert_id: AlertId,
    pub origin: String,
    pub destination: String,
    pub cabin: String,
    pub departure_date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_date: Option<NaiveDate>,
    /// The currency the user chose; amounts below are decimal strings in it.
    pub currency: String,
    pub price: String,
    /// `below` (at or under `limit`) or `new_low` (at least the alert's drop under `previous`).
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// The price the change is measured from (the one last told, or first seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    pub observed_at: DateTime<Utc>,
}
