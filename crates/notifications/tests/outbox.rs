#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The outbox worker against real transports on the embedded store: a mail server that is
//! down gets the mail retried with doubling waits until the last attempt, then dead with the
//! reason; a worker that claimed mail and died leaves it to another once the lease runs out,
//! which sends it; mail to an account that cannot receive it is dead at once; the written
//! mail (the outbox transport, RFC 5322 as an SMTP server receives it) carries the one-click
//! unsubscribe headers and the notification's Message-ID.

use chrono::{Duration, TimeZone, Utc};
use spontra_domain::{Email, FixedClock, SharedClock};
use spontra_mail::{Mailer, OutboxMailer, SmtpMailer};
use spontra_notifications::outbox::{Outbox, OutboxSettings};
use spontra_notifications::unsubscribe::Signer;
use spontra_store::{
    AlertId, AlertStore, Delivery, NewNotification, NewUser, NotificationId, PriceAlertMessage,
    Role, UserId, UserStore, UserUpdate,
};
use spontra_store_sqlite::SqliteStore;
use std::sync::Arc;

struct Fixture {
    store: Arc<SqliteStore>,
    clock: Arc<FixedClock>,
    dir: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn fixture() -> Fixture {
    let dir = std::env::temp_dir().join(format!("spontra-outbox-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(&format!("sqlite://{}/db.sqlite", dir.display()))
        .await
        .unwrap();
    Fixture {
        store: Arc::new(store),
        clock: Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap(),
        )),
        dir,
    }
}

impl Fixture {
    fn outbox(&self, mailer: Arc<dyn Mailer>) -> Outbox {
        let clock: SharedClock = self.clock.clone();
        Outbox {
            alerts: self.store.clone(),
            users: self.store.clone(),
            mailer,
            signer: Arc::new(Signer::new(&[9; 32]).unwrap()),
            public_url: "https://spontra.example".into(),
            clock,
            settings: OutboxSettings {
                max_attempts: 4,
                backoff_seconds: 30,
                lease_seconds: 120,
                ..OutboxSettings::default()
            },
            webhooks: spontra_notifications::webhook::Sender {
                policy: Default::default(),
                timeout: std::time::Duration::from_secs(1),
                public_url: "https://spontra.example".into(),
            },
        }
    }

    async fn user(&self, email: &str, verified: bool) -> UserId {
        let id = UserId::new();
        self.store
            .create_user(&NewUser {
                id,
                email: Email::parse(email).unwrap(),
                password_hash: "x".into(),
                display_name: "Ada".into(),
                role: Role::User,
                created_at: self.clock.now(),
            })
            .await
            .unwrap();
        if verified {
            let update = UserUpdate {
                email_verified_at: Some(self.clock.now()),
                ..Default::default()
            };
            self.store
                .update_user(id, &update, self.clock.now())
                .await
                .unwrap();
        }
        id
    }

    async fn enqueue(&self, user: UserId) -> NotificationId {
        let message = PriceAlertMessage {
            alert_id: AlertId::new(),
            origin: "LHR".into(),
            destination: "JFK".into(),
            cabin: "economy".into(),
            departure_date: "2026-12-18".parse().unwrap(),
            return_date: None,
            currency: "EUR".into(),
            price: "390.00".into(),
            reason: "below".into(),
            limit: Some("400.00".into()),
            previous: None,
            observed_at: self.clock.now(),
        };
        let n = NewNotification {
            id: NotificationId::new(),
            user_id: user,
            alert_id: None,
            channel: "email".into(),
            webhook_id: None,
            payload: serde_json::to_string(&message).unwrap(),
            created_at: self.clock.now(),
        };
        self.store.enqueue(&n).await.unwrap();
        n.id
    }

    async fn status(&self, user: UserId) -> (Delivery, i32, Option<String>) {
        let n = self
            .store
            .notifications_of(user, 1)
            .await
            .unwrap()
            .remove(0);
        (n.status, n.attempts, n.last_error)
    }
}

use spontra_domain::Clock;

/// A port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_mail_server_that_is_down_gets_retries_with_doubling_waits_then_a_dead_letter() {
    let f = fixture().await;
    let ada = f.user("ada@example.com", true).await;
    f.enqueue(ada).await;
    let down = SmtpMailer::new(
        &format!("smtp://127.0.0.1:{}", closed_port()),
        "Spontra <alerts@spontra.example>",
    )
    .unwrap();
    let outbox = f.outbox(Arc::new(down));
    // Attempts 1–3 fail and wait 30 s, 60 s, 120 s; nothing is due in between.
    for (attempt, wait) in [(1, 30), (2, 60), (3, 120)] {
        assert_eq!(outbox.run_once().await.unwrap(), 1, "attempt {attempt}");
        let (status, attempts, error) = f.status(ada).await;
        assert_eq!((status, attempts), (Delivery::Pending, attempt));
        assert!(error.is_some_and(|e| !e.is_empty()));
        f.clock.advance(Duration::seconds(wait - 1));
        assert_eq!(outbox.run_once().await.unwrap(), 0, "not due yet");
        f.clock.advance(Duration::seconds(1));
    }
    // The fourth and last attempt fails: dead, with the reason.
    assert_eq!(outbox.run_once().await.unwrap(), 1);
    let (status, attempts, error) = f.status(ada).await;
    assert_eq!((status, attempts), (Delivery::Dead, 4));
    assert!(error.unwrap().contains("after 4 attempts"));
    f.clock.advance(Duration::days(1));
    assert_eq!(outbox.run_once().await.unwrap(), 0, "dead stays dead");
}

#[tokio::test]
async fn a_worker_that_died_holding_mail_leaves_it_to_another_after_the_lease() {
    let f = fixture().await;
    let ada = f.user("ada@example.com", true).await;
    let id = f.enqueue(ada).await;
    // The first worker claims it and dies before sending.
    let now = f.clock.now();
    let held = f
        .store
        .claim(now, now + Duration::seconds(120), 10)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    let mailbox = f.dir.join("mail");
    let outbox = f.outbox(Arc::new(
        OutboxMailer::new(&mailbox, "Spontra <alerts@spontra.example>").unwrap(),
    ));
    assert_eq!(
        outbox.run_once().await.unwrap(),
        0,
        "leased to the dead worker"
    );
    f.clock.advance(Duration::seconds(120));
    assert_eq!(outbox.run_once().await.unwrap(), 1);
    let (status, attempts, _) = f.status(ada).await;
    assert_eq!((status, attempts), (Delivery::Sent, 2));
    f.clock.advance(Duration::days(1));
    assert_eq!(outbox.run_once().await.unwrap(), 0, "sent once");
    let files: Vec<_> = std::fs::read_dir(&mailbox).unwrap().collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    assert!(
        raw.contains("Subject: Price alert: LHR to JFK now 390.00 EUR"),
        "{raw}"
    );
    assert!(
        raw.contains(
            "List-Unsubscribe: <https://spontra.example/api/v1/notifications/unsubscribe?alert="
        ),
        "{raw}"
    );
    assert!(
        raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{raw}"
    );
    assert!(
        raw.contains(&format!("Message-ID: <{id}@notifications.spontra>")),
        "{raw}"
    );
    assert!(raw.contains("multipart/alternative"), "{raw}");
}

#[tokio::test]
async fn mail_no_account_can_receive_is_dead_at_once() {
    let f = fixture().await;
    let unverified = f.user("new@example.com", false).await;
    let closed = f.user("gone@example.com", true).await;
    let muted = f.user("muted@example.com", true).await;
    f.store
        .put_preferences(
            muted,
            r#"{"notifications":{"price_alerts":false}}"#,
            f.clock.now(),
        )
        .await
        .unwrap();
    for u in [unverified, closed, muted] {
        f.enqueue(u).await;
    }
    f.store.anonymise_user(closed, f.clock.now()).await.unwrap();
    let outbox = f.outbox(Arc::new(
        OutboxMailer::new(&f.dir.join("mail"), "Spontra <alerts@spontra.example>").unwrap(),
    ));
    assert_eq!(
        outbox.run_once().await.unwrap(),
        2,
        "the deleted account's went with it"
    );
    let (status, _, error) = f.status(unverified).await;
    assert_eq!(status, Delivery::Dead);
    assert!(error.unwrap().contains("not verified"));
    let (status, _, error) = f.status(muted).await;
    assert_eq!(status, Delivery::Dead);
    assert!(error.unwrap().contains("preferences"));
    assert!(f
        .store
        .notifications_of(closed, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(std::fs::read_dir(f.dir.join("mail")).unwrap().count(), 0);
}
