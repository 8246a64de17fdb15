#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! Webhook deliveries from the outbox worker to a real HTTP receiver on loopback (the test
//! allowance), on the embedded store: a delivery is signed so that the receiver can check it
//! with nothing but the scheme (HMAC-SHA256 over id, timestamp and body, computed here
//! independently); a receiver that fails or hangs gets retries with doubling waits, the same
//! `webhook-id` on each, then a dead letter with the reason; a redirect is not followed; an
//! address the guard refuses is never contacted; a deleted webhook's deliveries go with it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use spontra_domain::{Clock, Email, FixedClock, SharedClock};
use spontra_mail::OutboxMailer;
use spontra_notifications::outbox::{Outbox, OutboxSettings};
use spontra_notifications::target::Policy;
use spontra_notifications::unsubscribe::Signer;
use spontra_notifications::webhook::Sender;
use spontra_store::{
    AlertId, AlertStore, Delivery, NewNotification, NewUser, NotificationId, PriceAlertMessage,
    Role, UserId, UserStore, Webhook, WebhookId,
};
use spontra_store_sqlite::SqliteStore;
use std::sync::{Arc, Mutex};

/// What the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    body: Vec<u8>,
}

/// How the receiver answers each request in turn (the last repeats).
#[derive(Clone, Copy, Debug)]
enum Answer {
    Ok,
    Fail,
    Hang,
    Redirect,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Vec<Answer>>>,
    redirect_to: Arc<Mutex<String>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    r.got.lock().unwrap().push(Received {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp").parse().unwrap_or(-1),
        signature: h("webhook-signature"),
        body: body.to_vec(),
    });
    let answer = {
        let mut script = r.script.lock().unwrap();
        if script.len() > 1 {
            script.remove(0)
        } else {
            script.first().copied().unwrap_or(Answer::Ok)
        }
    };
    match answer {
        Answer::Ok => StatusCode::NO_CONTENT.into_response(),
        Answer::Fail => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Answer::Hang => {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            StatusCode::OK.into_response()
        }
        Answer::Redirect => (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", r.redirect_to.lock().unwrap().clone())],
        )
            .into_response(),
    }
}

/// A receiver on a loopback port, answering as `script` says; its URL.
async fn receiver(script: Vec<Answer>) -> (Receiver, String) {
    let r = Receiver {
        script: Arc::new(Mutex::new(script)),
        ..Receiver::default()
    };
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, url)
}

struct Fixture {
    store: Arc<SqliteStore>,
    clock: Arc<FixedClock>,
    dir: std::path::PathBuf,
    user: UserId,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn fixture() -> Fixture {
    let dir = std::env::temp_dir().join(format!("spontra-webhooks-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(
        SqliteStore::open(&format!("sqlite://{}/db.sqlite", dir.display()))
            .await
            .unwrap(),
    );
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap(),
    ));
    let user = store
        .create_user(&NewUser {
            id: UserId::new(),
            email: Email::parse("ada@example.com").unwrap(),
            password_hash: "x".into(),
            display_name: "Ada".into(),
            role: Role::User,
            created_at: clock.now(),
        })
        .await
        .unwrap()
        .id;
    Fixture {
        store,
        clock,
        dir,
        user,
    }
}

impl Fixture {
    fn outbox(&self, policy: Policy) -> Outbox {
        let clock: SharedClock = self.clock.clone();
        Outbox {
            alerts: self.store.clone(),
            users: self.store.clone(),
            mailer: Arc::new(
                OutboxMailer::new(&self.dir.join("mail"), "Spontra <a@spontra.example>").unwrap(),
            ),
            signer: Arc::new(Signer::new(&[9; 32]).unwrap()),
            public_url: "https://spontra.example".into(),
            clock,
            settings: OutboxSettings {
                max_attempts: 4,
                backoff_seconds: 30,
                lease_seconds: 120,
                ..OutboxSettings::default()
            },
            webhooks: Sender {
                policy,
                timeout: std::time::Duration::from_millis(800),
                public_url: "https://spontra.example".into(),
            },
        }
    }

    async fn webhook(&self, url: &str) -> Webhook {
        let hook = Webhook {
            id: WebhookId::new(),
            user_id: self.user,
            url: url.into(),
            secret: spontra_notifications::signing::new_secret(),
            created_at: self.clock.now(),
        };
        self.store.create_webhook(&hook, 5).await.unwrap();
        hook
    }

    /// A price alert's delivery to `hook`.
    async fn enqueue(&self, hook: &Webhook) -> NotificationId {
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
            user_id: self.user,
            alert_id: None,
            channel: "webhook".into(),
            webhook_id: Some(hook.id),
            payload: serde_json::to_string(&message).unwrap(),
            created_at: self.clock.now(),
        };
        self.store.enqueue(&n).await.unwrap();
        n.id
    }

    async fn status(&self, hook: &Webhook) -> (Delivery, i32, Option<String>) {
        let n = self
            .store
            .deliveries(self.user, hook.id, 1)
            .await
            .unwrap()
            .remove(0);
        (n.status, n.attempts, n.last_error)
    }
}

const LOOPBACK: Policy = Policy {
    allow_loopback: true,
};

/// The receiver's check, written from the scheme alone.
fn signed_by(secret: &str, r: &Received) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    r.signature == expected
}

#[tokio::test]
async fn deliveries_are_signed_so_the_receiver_can_check_them() {
    let f = fixture().await;
    let (r, url) = receiver(vec![Answer::Ok]).await;
    let hook = f.webhook(&url).await;
    let id = f.enqueue(&hook).await;
    let outbox = f.outbox(LOOPBACK);
    assert_eq!(outbox.run_once().await.unwrap(), 1);
    assert_eq!(f.status(&hook).await, (Delivery::Sent, 1, None));
    let got = r.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(d.id, id.to_string());
    assert_eq!(d.timestamp, f.clock.now().timestamp());
    assert!(signed_by(&hook.secret, d), "{d:?}");
    assert!(spontra_notifications::signing::verify(
        &hook.secret,
        &d.id,
        d.timestamp,
        &d.body,
        &d.signature,
        f.clock.now().timestamp()
    ));
    // Another key, or a changed body, does not check.
    let other = Webhook {
        secret: spontra_notifications::signing::new_secret(),
        ..hook.clone()
    };
    assert!(!signed_by(&other.secret, d));
    let mut tampered = d.clone();
    tampered.body = String::from_utf8(d.body.clone())
        .unwrap()
        .replace("390.00", "190.00")
        .into_bytes();
    assert!(!signed_by(&hook.secret, &tampered));

    let body: serde_json::Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(body["type"], "price_alert.triggered");
    assert_eq!(body["timestamp"], "2026-12-01T12:00:00Z");
    assert_eq!(body["data"]["price"], "390.00");
    assert_eq!(body["data"]["currency"], "EUR");
    assert_eq!(body["data"]["limit"], "400.00");
    assert_eq!(
        body["data"]["search_url"],
        "https://spontra.example/search?trip=oneway&origin=LHR&destination=JFK&depart=2026-12-18&cabin=economy"
    );
    f.clock.advance(Duration::days(1));
    assert_eq!(outbox.run_once().await.unwrap(), 0, "sent once");
    assert_eq!(r.got.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn failing_and_hanging_receivers_get_retries_then_a_dead_letter() {
    let f = fixture().await;
    let (r, url) = receiver(vec![Answer::Fail, Answer::Hang, Answer::Fail, Answer::Fail]).await;
    let hook = f.webhook(&url).await;
    f.enqueue(&hook).await;
    let outbox = f.outbox(LOOPBACK);
    // Attempts 1–3 fail (an error, no answer in time, an error) and wait 30, 60, 120 s.
    for (attempt, wait, why) in [
        (1, 30, "HTTP 500"),
        (2, 60, "no answer within"),
        (3, 120, "HTTP 500"),
    ] {
        assert_eq!(outbox.run_once().await.unwrap(), 1, "attempt {attempt}");
        let (status, attempts, error) = f.status(&hook).await;
        assert_eq!((status, attempts), (Delivery::Pending, attempt));
        let error = error.unwrap();
        assert!(error.contains(why), "{error}");
        assert!(
            !error.contains("/hook"),
            "the address is not repeated: {error}"
        );
        f.clock.advance(Duration::seconds(wait - 1));
        assert_eq!(outbox.run_once().await.unwrap(), 0, "not due yet");
        f.clock.advance(Duration::seconds(1));
    }
    assert_eq!(outbox.run_once().await.unwrap(), 1);
    let (status, attempts, error) = f.status(&hook).await;
    assert_eq!((status, attempts), (Delivery::Dead, 4));
    assert!(error.unwrap().contains("after 4 attempts"));
    f.clock.advance(Duration::days(1));
    assert_eq!(outbox.run_once().await.unwrap(), 0, "dead stays dead");
    // Four attempts, one delivery id, a fresh timestamp and signature on each.
    let got = r.got.lock().unwrap().clone();
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|d| d.id == got[0].id));
    assert!(got.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
    assert!(got.iter().all(|d| signed_by(&hook.secret, d)));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let f = fixture().await;
    let (elsewhere, target) = receiver(vec![Answer::Ok]).await;
    let (r, url) = receiver(vec![Answer::Redirect]).await;
    *r.redirect_to.lock().unwrap() = target;
    let hook = f.webhook(&url).await;
    f.enqueue(&hook).await;
    f.outbox(LOOPBACK).run_once().await.unwrap();
    let (status, _, error) = f.status(&hook).await;
    assert_eq!(status, Delivery::Pending);
    assert!(error.unwrap().contains("HTTP 307"));
    assert_eq!(r.got.lock().unwrap().len(), 1);
    assert!(elsewhere.got.lock().unwrap().is_empty());
}

#[tokio::test]
async fn refused_addresses_are_dead_at_once_and_never_contacted() {
    let f = fixture().await;
    let (r, url) = receiver(vec![Answer::Ok]).await;
    // Stored while loopback was allowed; delivered by a worker that does not allow it.
    let local = f.webhook(&url).await;
    let metadata = f
        .webhook("https://169.254.169.254/latest/meta-data/iam/")
        .await;
    let named_local = f
        .webhook(
            &url.replace("127.0.0.1", "localhost")
                .replace("http:", "https:"),
        )
        .await;
    for hook in [&local, &metadata, &named_local] {
        f.enqueue(hook).await;
    }
    let strict = f.outbox(Policy::default());
    assert_eq!(strict.run_once().await.unwrap(), 3);
    for hook in [&local, &metadata, &named_local] {
        let (status, attempts, error) = f.status(hook).await;
        assert_eq!((status, attempts), (Delivery::Dead, 1), "{error:?}");
        let error = error.unwrap();
        assert!(
            error.contains("loopback")
                || error.contains("https://")
                || error.contains("link-local"),
            "{error}"
        );
    }
    assert!(r.got.lock().unwrap().is_empty());
}

#[tokio::test]
async fn deleted_webhooks_and_closed_accounts_get_nothing() {
    let f = fixture().await;
    let (r, url) = receiver(vec![Answer::Ok]).await;
    let kept = f.webhook(&url).await;
    let gone = f.webhook(&url).await;
    f.enqueue(&kept).await;
    f.enqueue(&gone).await;
    f.store.delete_webhook(f.user, gone.id).await.unwrap();
    assert!(f
        .store
        .deliveries(f.user, gone.id, 10)
        .await
        .unwrap()
        .is_empty());
    let outbox = f.outbox(LOOPBACK);
    assert_eq!(outbox.run_once().await.unwrap(), 1);
    assert_eq!(r.got.lock().unwrap().len(), 1);
    // A delivery waiting when the account is disabled is dead, not sent (a minute later, so
    // it is the newest).
    f.clock.advance(Duration::minutes(1));
    f.enqueue(&kept).await;
    f.store
        .update_user(
            f.user,
            &spontra_store::UserUpdate {
                disabled: Some(true),
                ..Default::default()
            },
            f.clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(outbox.run_once().await.unwrap(), 1);
    let (status, _, error) = f.status(&kept).await;
    assert_eq!(status, Delivery::Dead);
    assert!(error.unwrap().contains("disabled"));
    assert_eq!(r.got.lock().unwrap().len(), 1);
}
