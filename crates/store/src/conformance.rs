//! The conformance suite: every backend must pass these, each against a fresh, empty store.
//! Backends run them with [`crate::conformance_tests!`].
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: failures are assertions

use crate::*;
use chrono::{Duration, TimeZone, Utc};
use spontra_domain::Email;
use std::sync::Arc;

fn t(minute: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .single()
        .expect("valid time")
        + Duration::minutes(minute)
}

fn new_user(email: &str, name: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: Email::parse(email).unwrap(),
        password_hash: format!("hash-of-{name}"),
        display_name: name.to_string(),
        role: Role::User,
        created_at: t(0),
    }
}

fn new_session(user: UserId, hash: &str, expires_in_minutes: i64) -> NewSession {
    NewSession {
        id: SessionId::new(),
        user_id: user,
        refresh_hash: hash.to_string(),
        created_at: t(0),
        expires_at: t(expires_in_minutes),
        idle_expires_at: t(expires_in_minutes),
        user_agent: "test-agent".into(),
        ip: "127.0.0.1".into(),
        mfa: false,
    }
}

/// The session cap the cases use where the cap is not what they test.
const MANY: u32 = 1000;

pub async fn users_are_created_found_and_unique(store: &dyn UserStore) {
    let ada = store
        .create_user(&new_user("Ada@Example.com", "Ada"))
        .await
        .unwrap();
    assert_eq!(
        ada.email.as_ref().map(|e| e.as_str()),
        Some("ada@example.com")
    );
    assert_eq!(ada.role, Role::User);
    assert!(!ada.disabled && ada.email_verified_at.is_none());
    assert_eq!(store.user_by_id(ada.id).await.unwrap(), ada);
    assert_eq!(
        store
            .user_by_email(&Email::parse("ADA@example.COM").unwrap())
            .await
            .unwrap()
            .id,
        ada.id
    );
    let dup = store
        .create_user(&new_user("ada@example.com", "Other"))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert!(matches!(
        store.user_by_id(UserId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .user_by_email(&Email::parse("nobody@example.com").unwrap())
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn users_are_updated_and_searched(store: &dyn UserStore) {
    let ada = store
        .create_user(&new_user("ada@example.com", "Ada Lovelace"))
        .await
        .unwrap();
    store
        .create_user(&new_user("grace@example.com", "Grace Hopper"))
        .await
        .unwrap();
    let upd = UserUpdate {
        display_name: Some("Countess".into()),
        role: Some(Role::Admin),
        disabled: Some(true),
        email_verified_at: Some(t(5)),
        password_hash: Some("new-hash".into()),
    };
    let u = store.update_user(ada.id, &upd, t(10)).await.unwrap();
    assert_eq!(
        (
            u.display_name.as_str(),
            u.role,
            u.disabled,
            u.password_hash.as_str()
        ),
        ("Countess", Role::Admin, true, "new-hash")
    );
    assert_eq!(u.email_verified_at, Some(t(5)));
    assert_eq!(u.updated_at, t(10));
    assert!(matches!(
        store.update_user(UserId::new(), &upd, t(10)).await,
        Err(StoreError::NotFound)
    ));
    let found = store.search_users("GRACE", 10, 0).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].display_name, "Grace Hopper");
    assert_eq!(
        store
            .search_users("example.com", 10, 0)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(store.search_users("", 1, 1).await.unwrap().len(), 1);
    assert!(
        store.search_users("%", 10, 0).await.unwrap().is_empty(),
        "wildcards are literal"
    );
}

pub async fn refresh_tokens_rotate_and_reuse_revokes_the_family(store: &dyn UserStore) {
    let u = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    let s = store
        .create_session(&new_session(u.id, "h1", 60), MANY)
        .await
        .unwrap();
    let Rotation::Rotated(after) = store.rotate_refresh("h1", "h2", t(1), t(60)).await.unwrap()
    else {
        panic!("h1 should rotate");
    };
    assert_eq!(after.id, s.id);
    assert_eq!(after.last_used_at, t(1));
    assert!(matches!(
        store.rotate_refresh("h2", "h3", t(2), t(60)).await.unwrap(),
        Rotation::Rotated(_)
    ));
    // h1 again: somebody kept an old token. The whole session goes.
    assert_eq!(
        store.rotate_refresh("h1", "h4", t(3), t(60)).await.unwrap(),
        Rotation::ReuseDetected(u.id)
    );
    assert!(store.session(s.id).await.unwrap().revoked_at.is_some());
    assert_eq!(
        store.rotate_refresh("h3", "h5", t(4), t(60)).await.unwrap(),
        Rotation::Invalid
    );
    assert_eq!(
        store
            .rotate_refresh("never-issued", "h6", t(4), t(60))
            .await
            .unwrap(),
        Rotation::Invalid
    );
    // Expired sessions do not rotate.
    store
        .create_session(&new_session(u.id, "e1", 10), MANY)
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate_refresh("e1", "e2", t(11), t(60))
            .await
            .unwrap(),
        Rotation::Invalid
    );
}

pub async fn sessions_are_listed_and_revoked(store: &dyn UserStore) {
    let u = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    let other = store
        .create_user(&new_user("grace@example.com", "Grace"))
        .await
        .unwrap();
    let a = store
        .create_session(&new_session(u.id, "a", 60), MANY)
        .await
        .unwrap();
    let b = store
        .create_session(&new_session(u.id, "b", 60), MANY)
        .await
        .unwrap();
    let c = store
        .create_session(&new_session(u.id, "c", 60), MANY)
        .await
        .unwrap();
    store
        .create_session(&new_session(other.id, "o", 60), MANY)
        .await
        .unwrap();
    store
        .create_session(&new_session(u.id, "old", 5), MANY)
        .await
        .unwrap();
    assert_eq!(store.live_sessions(u.id, t(10)).await.unwrap().len(), 3);
    store.revoke_session(a.id, t(11)).await.unwrap();
    assert_eq!(store.live_sessions(u.id, t(12)).await.unwrap().len(), 2);
    assert_eq!(
        store
            .revoke_sessions(u.id, Some(b.id), t(13))
            .await
            .unwrap(),
        1
    );
    let live = store.live_sessions(u.id, t(14)).await.unwrap();
    assert_eq!(live.iter().map(|s| s.id).collect::<Vec<_>>(), vec![b.id]);
    assert!(store.session(c.id).await.unwrap().revoked_at.is_some());
    assert_eq!(store.live_sessions(other.id, t(14)).await.unwrap().len(), 1);
    assert!(matches!(
        store.session(SessionId::new()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn one_time_tokens_work_once(store: &dyn UserStore) {
    let u = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    let token = |hash: &str, purpose, minutes| NewOneTimeToken {
        hash: hash.into(),
        user_id: u.id,
        purpose,
        created_at: t(0),
        expires_at: t(minutes),
    };
    store
        .create_token(&token("r1", TokenPurpose::ResetPassword, 30))
        .await
        .unwrap();
    store
        .create_token(&token("v1", TokenPurpose::VerifyEmail, 30))
        .await
        .unwrap();
    store
        .create_token(&token("r2", TokenPurpose::ResetPassword, 5))
        .await
        .unwrap();
    store
        .create_token(&token("r3", TokenPurpose::ResetPassword, 30))
        .await
        .unwrap();
    assert!(matches!(
        store
            .consume_token("r1", TokenPurpose::VerifyEmail, t(1))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .consume_token("r1", TokenPurpose::ResetPassword, t(1))
            .await
            .unwrap(),
        u.id
    );
    assert!(matches!(
        store
            .consume_token("r1", TokenPurpose::ResetPassword, t(2))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .consume_token("r2", TokenPurpose::ResetPassword, t(6))
            .await,
        Err(StoreError::NotFound)
    ));
    // Using r1 spent the account's other reset links: an older mail must not work later.
    assert!(matches!(
        store
            .consume_token("r3", TokenPurpose::ResetPassword, t(2))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .consume_token("v1", TokenPurpose::VerifyEmail, t(3))
            .await
            .unwrap(),
        u.id
    );
    // Revoking the account's sessions voids the sign-ins waiting for their second step, and
    // nothing else.
    store
        .create_token(&token("s1", TokenPurpose::SecondFactor, 30))
        .await
        .unwrap();
    store
        .create_token(&token("r4", TokenPurpose::ResetPassword, 30))
        .await
        .unwrap();
    // Looking at a live token does not use it.
    for _ in 0..2 {
        assert_eq!(
            store
                .live_token("s1", TokenPurpose::SecondFactor, t(3))
                .await
                .unwrap(),
            u.id
        );
    }
    assert!(matches!(
        store
            .live_token("s1", TokenPurpose::ResetPassword, t(3))
            .await,
        Err(StoreError::NotFound)
    ));
    store.revoke_sessions(u.id, None, t(4)).await.unwrap();
    assert!(matches!(
        store
            .live_token("s1", TokenPurpose::SecondFactor, t(5))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .consume_token("s1", TokenPurpose::SecondFactor, t(5))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .consume_token("r4", TokenPurpose::ResetPassword, t(5))
            .await
            .unwrap(),
        u.id
    );
}

pub async fn preferences_and_consents_are_kept(store: &dyn UserStore) {
    let u = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    assert_eq!(store.preferences(u.id).await.unwrap(), None);
    store
        .put_preferences(u.id, r#"{"home_airport":"LHR"}"#, t(1))
        .await
        .unwrap();
    store
        .put_preferences(u.id, r#"{"home_airport":"CDG"}"#, t(2))
        .await
        .unwrap();
    assert_eq!(
        store.preferences(u.id).await.unwrap().as_deref(),
        Some(r#"{"home_airport":"CDG"}"#)
    );
    for (i, granted) in [true, false].iter().enumerate() {
        store
            .record_consent(&Consent {
                user_id: u.id,
                kind: "marketing".into(),
                granted: *granted,
                recorded_at: t(i as i64 + 1),
            })
            .await
            .unwrap();
    }
    let c = store.consents(u.id).await.unwrap();
    assert_eq!(
        c.iter().map(|c| c.granted).collect::<Vec<_>>(),
        vec![true, false]
    );
    assert_eq!(c[1].recorded_at, t(2));
}

pub async fn deleted_accounts_are_anonymised(store: &dyn UserStore) {
    let u = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    store
        .create_session(&new_session(u.id, "s1", 60), MANY)
        .await
        .unwrap();
    store.put_preferences(u.id, "{}", t(1)).await.unwrap();
    store.anonymise_user(u.id, t(2)).await.unwrap();
    let gone = store.user_by_id(u.id).await.unwrap();
    assert_eq!(
        (
            gone.email.clone(),
            gone.display_name.as_str(),
            gone.password_hash.as_str()
        ),
        (None, "", "")
    );
    assert_eq!(gone.deleted_at, Some(t(2)));
    assert!(gone.disabled);
    assert!(store.live_sessions(u.id, t(3)).await.unwrap().is_empty());
    assert_eq!(store.preferences(u.id).await.unwrap(), None);
    assert!(matches!(
        store
            .user_by_email(&Email::parse("ada@example.com").unwrap())
            .await,
        Err(StoreError::NotFound)
    ));
    // The address is free again.
    store
        .create_user(&new_user("ada@example.com", "Ada again"))
        .await
        .unwrap();
}

pub async fn sessions_are_capped_and_go_idle(store: &dyn UserStore) {
    let u = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    let mut ids = vec![];
    for i in 0..5 {
        let mut s = new_session(u.id, &format!("cap{i}"), 600);
        s.created_at = t(i);
        ids.push(store.create_session(&s, 3).await.unwrap().id);
    }
    let live: Vec<SessionId> = store
        .live_sessions(u.id, t(10))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        live,
        vec![ids[4], ids[3], ids[2]],
        "the oldest sessions end first"
    );
    assert!(store.session(ids[0]).await.unwrap().revoked_at.is_some());

    // Idle expiry: live until it passes, a refresh moves it, and an idle session is dead.
    let mut s = new_session(u.id, "idle1", 600);
    s.idle_expires_at = t(20);
    let idle = store.create_session(&s, MANY).await.unwrap();
    assert!(idle.is_live(t(19)) && !idle.is_live(t(20)));
    let Rotation::Rotated(moved) = store
        .rotate_refresh("idle1", "idle2", t(19), t(40))
        .await
        .unwrap()
    else {
        panic!("a live session rotates");
    };
    assert_eq!(moved.idle_expires_at, t(40));
    assert!(store
        .live_sessions(u.id, t(30))
        .await
        .unwrap()
        .iter()
        .any(|x| x.id == idle.id));
    assert_eq!(
        store
            .rotate_refresh("idle2", "idle3", t(41), t(80))
            .await
            .unwrap(),
        Rotation::Invalid,
        "an idle session does not come back"
    );
    assert!(!store
        .live_sessions(u.id, t(41))
        .await
        .unwrap()
        .iter()
        .any(|x| x.id == idle.id));
    // The idle expiry never passes the absolute one.
    let mut s = new_session(u.id, "short1", 30);
    s.idle_expires_at = t(20);
    store.create_session(&s, MANY).await.unwrap();
    let Rotation::Rotated(capped) = store
        .rotate_refresh("short1", "short2", t(10), t(100))
        .await
        .unwrap()
    else {
        panic!("a live session rotates");
    };
    assert_eq!(capped.idle_expires_at, t(30));
}

pub async fn prune_deletes_what_can_no_longer_be_used(store: &dyn UserStore) {
    let u = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    let live = store
        .create_session(&new_session(u.id, "live", 600), MANY)
        .await
        .unwrap();
    let expired = store
        .create_session(&new_session(u.id, "expired", 5), MANY)
        .await
        .unwrap();
    let revoked = store
        .create_session(&new_session(u.id, "revoked", 600), MANY)
        .await
        .unwrap();
    store.revoke_session(revoked.id, t(1)).await.unwrap();
    let token = |hash: &str, minutes| NewOneTimeToken {
        hash: hash.into(),
        user_id: u.id,
        purpose: TokenPurpose::VerifyEmail,
        created_at: t(0),
        expires_at: t(minutes),
    };
    store.create_token(&token("old", 5)).await.unwrap();
    store.create_token(&token("fresh", 600)).await.unwrap();
    let gone = store.prune(t(10)).await.unwrap();
    assert_eq!(gone, 2 + 2 + 1, "two sessions, their two tokens, one link");
    assert!(matches!(
        store.session(expired.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.session(revoked.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.session(live.id).await.unwrap().id, live.id);
    assert!(matches!(
        store
            .rotate_refresh("live", "live2", t(11), t(600))
            .await
            .unwrap(),
        Rotation::Rotated(_)
    ));
    assert_eq!(
        store
            .consume_token("fresh", TokenPurpose::VerifyEmail, t(11))
            .await
            .unwrap(),
        u.id
    );
}

pub async fn totp_codes_and_recovery_codes_work_once(store: &dyn UserStore) {
    let u = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    assert!(!u.totp_enabled());
    store
        .set_totp_secret(u.id, Some("JBSWY3DPEHPK3PXP"), t(1))
        .await
        .unwrap();
    let pending = store.user_by_id(u.id).await.unwrap();
    assert_eq!(pending.totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));
    assert!(!pending.totp_enabled(), "pending until a code confirms it");
    assert!(
        !store.use_totp_step(u.id, 100).await.unwrap(),
        "no step is accepted before two-factor is on"
    );
    let codes = vec!["rc1".to_string(), "rc2".to_string()];
    store.enable_totp(u.id, &codes, t(2)).await.unwrap();
    assert!(store.user_by_id(u.id).await.unwrap().totp_enabled());
    assert!(store.use_totp_step(u.id, 100).await.unwrap());
    assert!(!store.use_totp_step(u.id, 100).await.unwrap(), "replayed");
    assert!(!store.use_totp_step(u.id, 99).await.unwrap(), "older step");
    assert!(store.use_totp_step(u.id, 101).await.unwrap());
    assert_eq!(store.recovery_codes_left(u.id).await.unwrap(), 2);
    assert!(store.use_recovery_code(u.id, "rc1", t(3)).await.unwrap());
    assert!(!store.use_recovery_code(u.id, "rc1", t(3)).await.unwrap());
    assert!(!store.use_recovery_code(u.id, "nope", t(3)).await.unwrap());
    let other = store
        .create_user(&new_user("grace@example.com", "Grace"))
        .await
        .unwrap();
    assert!(
        !store
            .use_recovery_code(other.id, "rc2", t(3))
            .await
            .unwrap(),
        "codes belong to one account"
    );
    assert_eq!(store.recovery_codes_left(u.id).await.unwrap(), 1);
    store.set_totp_secret(u.id, None, t(4)).await.unwrap();
    let off = store.user_by_id(u.id).await.unwrap();
    assert!(!off.totp_enabled() && off.totp_secret.is_none());
    assert_eq!(store.recovery_codes_left(u.id).await.unwrap(), 0);
    // The second factor is recorded on the session.
    let s = store
        .create_session(&new_session(u.id, "m1", 60), MANY)
        .await
        .unwrap();
    assert!(!s.mfa);
    store.mark_session_mfa(s.id).await.unwrap();
    assert!(store.session(s.id).await.unwrap().mfa);
}

/// Start `n` tasks that wait for each other and then run `f(i)` at the same instant (also
/// used by the HTTP tests that fire bursts at a running instance).
pub async fn burst<T, F, Fut>(n: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let fut = f(i);
            tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await.expect("task"));
    }
    out
}

/// Twenty users refresh their own sessions at the same instant, eight rounds: every refresh
/// succeeds (on SQLite this failed with "database is locked" before writes were serialised).
pub async fn concurrent_refreshes_of_distinct_sessions_all_rotate(store: Arc<dyn UserStore>) {
    let mut current = vec![];
    for i in 0..20 {
        let u = store
            .create_user(&new_user(&format!("u{i}@example.com"), "U"))
            .await
            .unwrap();
        let hash = format!("s{i}-r0");
        store
            .create_session(&new_session(u.id, &hash, 600), MANY)
            .await
            .unwrap();
        current.push(hash);
    }
    for round in 1..=8 {
        let next: Vec<String> = (0..20).map(|i| format!("s{i}-r{round}")).collect();
        let results = burst(20, |i| {
            let (store, presented, replacement) =
                (store.clone(), current[i].clone(), next[i].clone());
            async move {
                store
                    .rotate_refresh(&presented, &replacement, t(round), t(600))
                    .await
            }
        })
        .await;
        for (i, r) in results.into_iter().enumerate() {
            assert!(
                matches!(r, Ok(Rotation::Rotated(_))),
                "round {round}, session {i}: {r:?}"
            );
        }
        current = next;
    }
}

/// Sixteen presentations of one refresh token at once: exactly one rotates, every other one
/// is reuse, and the session ends.
pub async fn concurrent_presentations_of_one_token_let_one_win(store: Arc<dyn UserStore>) {
    let u = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    let s = store
        .create_session(&new_session(u.id, "shared", 600), MANY)
        .await
        .unwrap();
    let results = burst(16, |i| {
        let store = store.clone();
        async move {
            store
                .rotate_refresh("shared", &format!("next{i}"), t(1), t(600))
                .await
                .unwrap()
        }
    })
    .await;
    let rotated = results
        .iter()
        .filter(|r| matches!(r, Rotation::Rotated(_)))
        .count();
    let reused = results
        .iter()
        .filter(|r| **r == Rotation::ReuseDetected(u.id))
        .count();
    assert_eq!((rotated, reused), (1, 15), "{results:?}");
    assert!(store.session(s.id).await.unwrap().revoked_at.is_some());
}

/// Every write path at once, on distinct rows and on one shared row: nothing fails, each
/// uniqueness or single-use rule lets exactly one writer win, and nothing is lost.
pub async fn concurrent_writes_to_distinct_and_shared_rows(store: Arc<dyn UserStore>) {
    // Distinct accounts, and one email claimed by many at once.
    let created = burst(24, |i| {
        let store = store.clone();
        async move {
            store
                .create_user(&new_user(&format!("n{i}@example.com"), "N"))
                .await
        }
    })
    .await;
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    let same = burst(12, |_| {
        let store = store.clone();
        async move {
            store
                .create_user(&new_user("same@example.com", "Same"))
                .await
        }
    })
    .await;
    assert_eq!(same.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(same
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict(_)))));
    let shared = same
        .into_iter()
        .find_map(Result::ok)
        .expect("one account won");

    // One account: profile updates, preferences, consents, sessions (capped), tokens.
    let writes = burst(24, |i| {
        let store = store.clone();
        let id = shared.id;
        async move {
            let update = UserUpdate {
                display_name: Some(format!("name {i}")),
                ..Default::default()
            };
            store.update_user(id, &update, t(1)).await?;
            store
                .put_preferences(id, &format!("{{\"n\":{i}}}"), t(1))
                .await?;
            store
                .record_consent(&Consent {
                    user_id: id,
                    kind: "marketing".into(),
                    granted: i % 2 == 0,
                    recorded_at: t(1),
                })
                .await?;
            let mut s = new_session(id, &format!("c{i}"), 600);
            s.created_at = t(i as i64);
            store.create_session(&s, 10).await?;
            store
                .create_token(&NewOneTimeToken {
                    hash: format!("tok{i}"),
                    user_id: id,
                    purpose: TokenPurpose::ResetPassword,
                    created_at: t(1),
                    expires_at: t(600),
                })
                .await
        }
    })
    .await;
    assert!(writes.iter().all(Result::is_ok), "{writes:?}");
    let user = store.user_by_id(shared.id).await.unwrap();
    assert!(user.display_name.starts_with("name "));
    assert!(store.preferences(shared.id).await.unwrap().is_some());
    assert_eq!(store.consents(shared.id).await.unwrap().len(), 24);
    assert_eq!(
        store.live_sessions(shared.id, t(30)).await.unwrap().len(),
        10,
        "the session cap holds under concurrent sign-ins"
    );

    // Many spend the same link at once: one wins.
    let spent = burst(12, |_| {
        let store = store.clone();
        async move {
            store
                .consume_token("tok3", TokenPurpose::ResetPassword, t(2))
                .await
        }
    })
    .await;
    assert_eq!(spent.iter().filter(|r| r.is_ok()).count(), 1, "{spent:?}");
    assert!(spent
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(StoreError::NotFound))));

    // Two-factor: one time step and one recovery code are accepted once, however many race.
    store
        .set_totp_secret(shared.id, Some("JBSWY3DPEHPK3PXP"), t(3))
        .await
        .unwrap();
    store
        .enable_totp(shared.id, &["code".to_string()], t(3))
        .await
        .unwrap();
    let steps = burst(12, |_| {
        let store = store.clone();
        async move { store.use_totp_step(shared.id, 500).await.unwrap() }
    })
    .await;
    assert_eq!(steps.iter().filter(|ok| **ok).count(), 1);
    let codes = burst(12, |_| {
        let store = store.clone();
        async move {
            store
                .use_recovery_code(shared.id, "code", t(4))
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(codes.iter().filter(|ok| **ok).count(), 1);

    // Revoking everything while others sign in and refresh: no errors.
    let mixed = burst(16, |i| {
        let store = store.clone();
        let id = shared.id;
        async move {
            match i % 4 {
                0 => store.revoke_sessions(id, None, t(40)).await.map(|_| ()),
                1 => {
                    let s = new_session(id, &format!("m{i}"), 600);
                    store.create_session(&s, 10).await.map(|_| ())
                }
                2 => store
                    .rotate_refresh(&format!("c{i}"), &format!("c{i}-2"), t(40), t(600))
                    .await
                    .map(|_| ()),
                _ => store.prune(t(0)).await.map(|_| ()),
            }
        }
    })
    .await;
    assert!(mixed.iter().all(Result::is_ok), "{mixed:?}");

    // Distinct accounts deleted at once, while their owners update them.
    let deleted = burst(16, |i| {
        let store = store.clone();
        let id = created[i / 2].as_ref().map(|u| u.id).expect("created");
        async move {
            if i % 2 == 0 {
                store.anonymise_user(id, t(50)).await
            } else {
                store.put_preferences(id, "{}", t(50)).await
            }
        }
    })
    .await;
    assert!(deleted.iter().all(Result::is_ok), "{deleted:?}");
}

// ---------------------------------------------------------------- inventory (ingestion)

fn observation(event: &str, flight: u16, fare: i64, observed_minute: i64) -> FareObservation {
    FareObservation {
        source: "/providers/test".into(),
        event_id: event.into(),
        carrier: "BA".into(),
        flight_number: flight,
        departure_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
        origin: "LHR".into(),
        destination: "JFK".into(),
        cabin: "economy".into(),
        fare_minor: fare,
        currency: "EUR".into(),
        seats_left: 30,
        departure_at: t(19 * 1440),
        observed_at: t(observed_minute),
    }
}

pub async fn observations_apply_once_and_the_latest_is_current(store: &dyn InventoryStore) {
    let a = observation("e1", 117, 45_000, 0);
    let newer = observation("e2", 117, 47_000, 60);
    let older = observation("e3", 117, 43_000, 30); // arrives late
    let same = observation("e4", 117, 47_000, 90); // newer, no change
    let applied = store
        .apply_observations(&[a.clone(), newer.clone(), older.clone(), same], t(100))
        .await
        .unwrap();
    assert_eq!(
        applied,
        vec![
            Applied {
                new: true,
                changed: true
            },
            Applied {
                new: true,
                changed: true
            },
            Applied {
                new: true,
                changed: false
            },
            Applied {
                new: true,
                changed: false
            },
        ]
    );
    let date = a.departure_date;
    let current = store
        .current_fare("BA", 117, date, "economy")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((current.fare_minor, current.observed_at), (47_000, t(90)));
    assert_eq!(
        store.observation_count().await.unwrap(),
        4,
        "history keeps every one"
    );
    // Delivered again (a redelivery after a crash, or a feed's duplicate): nothing happens.
    let again = store.apply_observations(&[a, older], t(200)).await.unwrap();
    assert!(again.iter().all(|x| !x.new && !x.changed));
    assert_eq!(store.observation_count().await.unwrap(), 4);
    assert!(store.was_applied("/providers/test", "e2").await.unwrap());
    assert!(!store.was_applied("/providers/other", "e2").await.unwrap());
    assert_eq!(newer.days_before(), 18);
    assert!(store
        .current_fare("BA", 118, date, "economy")
        .await
        .unwrap()
        .is_none());
}

/// `workers` ingesters released together, each applying overlapping chunks of `items` (of
/// `chunk`) in its own order through `apply`, a busy store retried: how many applications
/// found their event new, over all of them.
async fn race<T, F, Fut>(items: Vec<T>, workers: usize, chunk: usize, apply: F) -> usize
where
    T: Clone + Send + Sync + 'static,
    F: Fn(Vec<T>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = StoreResult<Vec<Applied>>> + Send,
{
    let gate = Arc::new(tokio::sync::Barrier::new(workers));
    let rounds = items.len().div_ceil(chunk);
    let mut tasks = vec![];
    for w in 0..workers {
        let (gate, items, apply) = (gate.clone(), items.clone(), apply.clone());
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            let mut new = 0;
            for slice in items.chunks(chunk).cycle().skip(w).take(rounds) {
                loop {
                    match apply(slice.to_vec()).await {
                        Ok(applied) => {
                            new += applied.iter().filter(|a| a.new).count();
                            break;
                        }
                        Err(StoreError::Unavailable(_)) => tokio::task::yield_now().await,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            new
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    total
}

/// Ingesters racing on one database with overlapping batches (the same events delivered to
/// several, released together) apply each event exactly once.
pub async fn concurrent_ingesters_apply_each_event_once(store: Arc<dyn InventoryStore>) {
    let events: Vec<FareObservation> = (0..200)
        .map(|i| {
            observation(
                &format!("burst-{i}"),
                100 + (i % 10) as u16,
                30_000 + i as i64,
                i as i64,
            )
        })
        .collect();
    let s = store.clone();
    let total = race(events.clone(), 8, 25, move |chunk| {
        let s = s.clone();
        async move { s.apply_observations(&chunk, t(1000)).await }
    })
    .await;
    assert_eq!(total, 200, "each event applied by exactly one worker");
    assert_eq!(store.observation_count().await.unwrap(), 200);
    let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
    for f in 100..110u16 {
        let latest = events
            .iter()
            .filter(|e| e.flight_number == f)
            .max_by_key(|e| e.observed_at)
            .unwrap();
        let current = store
            .current_fare("BA", f, date, "economy")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            current.fare_minor, latest.fare_minor,
            "flight {f} holds its latest"
        );
    }
}

fn schedule_change(
    event: &str,
    flight: u16,
    kind: ScheduleKind,
    minute: i64,
) -> ScheduleObservation {
    let scheduled = t(19 * 1440);
    ScheduleObservation {
        source: "/providers/test".into(),
        event_id: event.into(),
        carrier: "BA".into(),
        flight_number: flight,
        departure_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
        origin: "LHR".into(),
        destination: "JFK".into(),
        kind,
        departure_at: if kind == ScheduleKind::Retimed {
            scheduled + Duration::minutes(45)
        } else {
            scheduled
        },
        arrival_at: scheduled + Duration::minutes(480),
        previous_departure_at: (kind == ScheduleKind::Retimed).then_some(scheduled),
        fare_minor: (kind == ScheduleKind::Added).then_some(39_900),
        currency: (kind == ScheduleKind::Added).then(|| "EUR".to_string()),
        seats_left: (kind == ScheduleKind::Added).then_some(9),
        observed_at: t(minute),
    }
}

/// Schedule changes are applied once each (by source and id, shared with fare events) and
/// kept as each flight's history, in the order observed, whatever order they arrive in.
pub async fn schedule_changes_apply_once_and_are_kept_in_order(store: &dyn InventoryStore) {
    let retimed = schedule_change("s1", 117, ScheduleKind::Retimed, 10);
    let cancelled = schedule_change("s2", 117, ScheduleKind::Cancelled, 50);
    let added = schedule_change("s3", 4117, ScheduleKind::Added, 20);
    let applied = store
        .apply_schedule_changes(&[cancelled.clone(), retimed.clone(), added.clone()], t(100))
        .await
        .unwrap();
    assert!(applied.iter().all(|a| a.new && a.changed), "{applied:?}");
    let date = retimed.departure_date;
    assert_eq!(
        store.schedule_history("BA", 117, date).await.unwrap(),
        vec![retimed.clone(), cancelled.clone()],
        "in the order observed"
    );
    assert_eq!(
        store.schedule_history("BA", 4117, date).await.unwrap(),
        vec![added]
    );
    // Delivered again: nothing happens; an id shared with a fare event is the same event.
    let again = store
        .apply_schedule_changes(&[retimed, cancelled], t(200))
        .await
        .unwrap();
    assert!(again.iter().all(|a| !a.new && !a.changed));
    assert_eq!(
        store.schedule_history("BA", 117, date).await.unwrap().len(),
        2
    );
    assert!(store.was_applied("/providers/test", "s2").await.unwrap());
    let fare = observation("s1", 117, 45_000, 0);
    assert!(!store.apply_observations(&[fare], t(300)).await.unwrap()[0].new);
    assert!(store
        .schedule_history("BA", 118, date)
        .await
        .unwrap()
        .is_empty());
}

/// Ingesters racing with overlapping batches of schedule changes apply each exactly once.
pub async fn concurrent_ingesters_apply_each_schedule_change_once(store: Arc<dyn InventoryStore>) {
    let changes: Vec<ScheduleObservation> = (0..120)
        .map(|i| {
            schedule_change(
                &format!("sched-{i}"),
                200 + (i % 6) as u16,
                ScheduleKind::ALL[i % 3],
                i as i64,
            )
        })
        .collect();
    let s = store.clone();
    let total = race(changes, 6, 20, move |chunk| {
        let s = s.clone();
        async move { s.apply_schedule_changes(&chunk, t(1000)).await }
    })
    .await;
    assert_eq!(total, 120, "each change applied by exactly one worker");
    let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
    for f in 200..206u16 {
        let history = store.schedule_history("BA", f, date).await.unwrap();
        assert_eq!(history.len(), 20, "flight {f}");
        assert!(history
            .windows(2)
            .all(|w| w[0].observed_at <= w[1].observed_at));
    }
}

// ---------------------------------------------------------------- pricing

fn route(origin: &str, destination: &str, cabin: &str) -> RouteCabin {
    RouteCabin {
        origin: origin.into(),
        destination: destination.into(),
        cabin: cabin.into(),
    }
}

fn departure(day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, day).unwrap()
}

fn flight_price(flight: &str, fare: i64, seats: i32, observed_minute: i64) -> FlightPrice {
    let (carrier, number) = flight.split_at(2);
    FlightPrice {
        route: route("LHR", "JFK", "economy"),
        departure_date: departure(20),
        carrier: carrier.into(),
        flight_number: number.parse().unwrap(),
        fare_minor: fare,
        seats_left: seats,
        observed_at: t(observed_minute),
    }
}

/// The route's lowest fare with seats, folded into the day of its newest observation; a late
/// or repeated observation changes nothing; other dates and cabins are apart.
pub async fn prices_roll_up_by_day_and_repeat_harmlessly(store: &dyn PriceStore) {
    let lhr_jfk = route("LHR", "JFK", "economy");
    let d = departure(20);
    let day1 = t(0).date_naive();
    let day2 = t(1440).date_naive();
    let steps = vec![
        vec![
            flight_price("BA117", 50_000, 9, 0),
            flight_price("AA100", 40_000, 9, 1),
        ],
        vec![flight_price("AA100", 60_000, 9, 60)],
        // Late: older than what is held for AA100.
        vec![flight_price("AA100", 45_000, 9, 30)],
        // The next day BA117 sells out: its fare is no longer on sale.
        vec![flight_price("BA117", 50_000, 0, 1440 + 10)],
    ];
    let mut answers = vec![];
    for step in &steps {
        answers.push(store.record_prices(step).await.unwrap());
    }
    let lowest: Vec<Option<i64>> = answers.iter().map(|a| a[0].1.lowest_minor).collect();
    assert_eq!(
        lowest,
        [Some(40_000), Some(50_000), Some(50_000), Some(60_000)]
    );
    assert_eq!(answers[3][0].0, lhr_jfk);
    assert_eq!(answers[3][0].1.observed_at, t(1440 + 10));
    let expected = vec![
        DailyPrice {
            departure_date: d,
            day: day1,
            low_minor: 40_000,
            high_minor: 50_000,
            close_minor: 50_000,
            close_at: t(60),
        },
        DailyPrice {
            departure_date: d,
            day: day2,
            low_minor: 60_000,
            high_minor: 60_000,
            close_minor: 60_000,
            close_at: t(1450),
        },
    ];
    let whole = (departure(1), departure(31));
    let days = (day1, day2);
    assert_eq!(
        store.daily_prices(&lhr_jfk, whole, days).await.unwrap(),
        expected
    );
    // Everything again, in another order: nothing moves.
    for step in steps.iter().rev() {
        store.record_prices(step).await.unwrap();
    }
    store.record_prices(&steps.concat()).await.unwrap();
    assert_eq!(
        store.daily_prices(&lhr_jfk, whole, days).await.unwrap(),
        expected
    );
    assert_eq!(
        store
            .daily_prices(&lhr_jfk, whole, (day2, day2))
            .await
            .unwrap(),
        expected[1..]
    );
    assert_eq!(
        store.route_prices(&lhr_jfk, whole).await.unwrap(),
        [RoutePrice {
            departure_date: d,
            lowest_minor: Some(60_000),
            observed_at: t(1450),
        }]
    );
    // Sold out everywhere: no price on sale, the roll-up keeps what was.
    let gone = store
        .record_prices(&[flight_price("AA100", 60_000, 0, 1500)])
        .await
        .unwrap();
    assert_eq!(gone[0].1.lowest_minor, None);
    assert_eq!(
        store.daily_prices(&lhr_jfk, whole, days).await.unwrap(),
        expected
    );
    // Another date and another cabin of the route are apart.
    let mut other_date = flight_price("BA117", 30_000, 9, 2000);
    other_date.departure_date = departure(21);
    let mut business = flight_price("BA117", 200_000, 4, 2000);
    business.route.cabin = "business".into();
    store.record_prices(&[other_date, business]).await.unwrap();
    let now = store.route_prices(&lhr_jfk, whole).await.unwrap();
    assert_eq!(now.len(), 2);
    assert_eq!(
        (now[0].lowest_minor, now[1].lowest_minor),
        (None, Some(30_000))
    );
    let business = store
        .route_prices(&route("LHR", "JFK", "business"), whole)
        .await
        .unwrap();
    assert_eq!(business[0].lowest_minor, Some(200_000));
    assert!(store
        .route_prices(&route("JFK", "LHR", "economy"), whole)
        .await
        .unwrap()
        .is_empty());
    // Each flight's latest price and seats, cheapest first.
    let flights = store.flight_prices(&lhr_jfk, departure(21)).await.unwrap();
    let seen: Vec<_> = flights
        .iter()
        .map(|f| {
            (
                f.carrier.as_str(),
                f.flight_number,
                f.fare_minor,
                f.seats_left,
            )
        })
        .collect();
    assert_eq!(seen, [("BA", 117, 30_000, 9)]);
    let sold_out = store.flight_prices(&lhr_jfk, departure(20)).await.unwrap();
    assert!(!sold_out.is_empty() && sold_out.iter().all(|f| f.seats_left == 0));
    assert!(sold_out
        .windows(2)
        .all(|w| w[0].fare_minor <= w[1].fare_minor));
}

/// Sixteen pricers record overlapping observations of the same flights at one instant, in
/// shuffled orders, eight rounds: each route-date's lowest price is then exactly the lowest
/// of its flights' newest fares with seats (no writer read a state another was changing).
pub async fn concurrent_pricers_keep_the_lowest_exact(store: Arc<dyn PriceStore>) {
    let flights: Vec<String> = (0..12).map(|n| format!("BA{}", 100 + n)).collect();
    let dates = [departure(20), departure(21)];
    // Flight f's observation number k: fare and seats as a function of both.
    let observed = |f: usize, date: usize, k: i64| {
        let mut p = flight_price(&flights[f], 0, 0, k);
        p.departure_date = dates[date];
        p.fare_minor = 10_000 + ((f as i64 * 7919 + k * 104_729 + date as i64 * 31) % 50_000);
        p.seats_left = ((f as i64 + k) % 4) as i32; // sold out a quarter of the time
        p
    };
    for round in 0..8i64 {
        let results = burst(16, |i| {
            let store = store.clone();
            let batch: Vec<FlightPrice> = (0..flights.len())
                .flat_map(|f| (0..2).map(move |date| (f, date)))
                .filter(|(f, _)| (f + i) % 3 != 0)
                .map(|(f, date)| observed(f, date, round * 100 + (i as i64 * 37 + f as i64) % 16))
                .collect();
            async move { store.record_prices(&batch).await }
        })
        .await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }
    for (date, &d) in dates.iter().enumerate() {
        // The newest observation of each flight any pricer recorded.
        let expected = (0..flights.len())
            .filter_map(|f| {
                (0..16)
                    .filter(|i| (f + i) % 3 != 0)
                    .map(|i| observed(f, date, 700 + (i as i64 * 37 + f as i64) % 16))
                    .max_by_key(|p| p.observed_at)
            })
            .filter(|p| p.seats_left > 0)
            .map(|p| p.fare_minor)
            .min();
        let held = store
            .route_prices(&route("LHR", "JFK", "economy"), (d, d))
            .await
            .unwrap();
        assert_eq!(held[0].lowest_minor, expected, "{d}");
    }
}

/// Retention: raw observations older than the cut-off, roll-ups of long-gone departures and
/// flights that have left go; the rest stays.
pub async fn old_prices_are_pruned<S: InventoryStore + PriceStore>(store: &S) {
    let day = 1440;
    let raw = [-100 * day, -40 * day, 0];
    let batch: Vec<FareObservation> = raw
        .iter()
        .enumerate()
        .map(|(n, &m)| observation(&format!("r{n}"), 117, 40_000, m))
        .collect();
    store.apply_observations(&batch, t(0)).await.unwrap();
    for (n, d) in [1u32, 10, 20].into_iter().enumerate() {
        let mut p = flight_price("BA117", 40_000, 9, n as i64);
        p.departure_date = departure(d);
        store.record_prices(&[p]).await.unwrap();
    }
    let pruned = store
        .prune_prices(t(0), t(-60 * day), departure(5), departure(15))
        .await
        .unwrap();
    assert_eq!(store.observation_count().await.unwrap(), 2);
    assert_eq!((pruned.observations, pruned.daily), (1, 1));
    // Flights and routes of the 1st and the 10th.
    assert_eq!(pruned.departed, 4);
    let left = store
        .route_prices(
            &route("LHR", "JFK", "economy"),
            (departure(1), departure(31)),
        )
        .await
        .unwrap();
    assert_eq!(
        left.iter().map(|p| p.departure_date).collect::<Vec<_>>(),
        [departure(20)]
    );
    let daily = store
        .daily_prices(
            &route("LHR", "JFK", "economy"),
            (departure(1), departure(31)),
            (departure(1), departure(31)),
        )
        .await
        .unwrap();
    assert_eq!(daily.len(), 2);
    // Again: nothing more to do.
    let again = store
        .prune_prices(t(0), t(-60 * day), departure(5), departure(15))
        .await
        .unwrap();
    assert_eq!(again, Pruned::default());
}

/// Generate one `#[tokio::test]` per conformance case. `$make` is an async block or
/// expression giving `(store, guard)`: the store under test, and a value kept alive until the
/// case ends (to drop a temporary database).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@cases $make;
            users_are_created_found_and_unique,
            users_are_updated_and_searched,
            refresh_tokens_rotate_and_reuse_revokes_the_family,
            sessions_are_listed_and_revoked,
            sessions_are_capped_and_go_idle,
            one_time_tokens_work_once,
            preferences_and_consents_are_kept,
            deleted_accounts_are_anonymised,
            prune_deletes_what_can_no_longer_be_used,
            totp_codes_and_recovery_codes_work_once,
            observations_apply_once_and_the_latest_is_current,
            schedule_changes_apply_once_and_are_kept_in_order,
            prices_roll_up_by_day_and_repeat_harmlessly,
            old_prices_are_pruned,
            alerts_belong_to_their_user,
            alerts_settle_once_and_the_outbox_leases);
        $crate::conformance_tests!(@concurrent $make;
            concurrent_refreshes_of_distinct_sessions_all_rotate,
            concurrent_presentations_of_one_token_let_one_win,
            concurrent_writes_to_distinct_and_shared_rows,
            concurrent_ingesters_apply_each_event_once,
            concurrent_ingesters_apply_each_schedule_change_once,
            concurrent_pricers_keep_the_lowest_exact,
            concurrent_evaluators_notify_once,
            concurrent_workers_claim_each_notification_once,
            webhooks_belong_to_their_user,
            search_batches_count_once);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some((store, guard)) = $make.await else {
                    return;
                };
                $crate::conformance::$case(&store).await;
                drop(guard);
            }
        )*
    };
    // Write paths run from many tasks on a multi-threaded runtime, released together.
    (@concurrent $make:expr; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some((store, guard)) = $make.await else {
                    return;
                };
                $crate::conformance::$case(std::sync::Arc::new(store)).await;
                drop(guard);
            }
        )*
    };
}

fn watched(origin: &str, destination: Option<&str>, from: u32, to: u32) -> Watched {
    Watched {
        origin: origin.into(),
        destination: destination.map(str::to_string),
        cabin: "economy".into(),
        depart: (departure(from), departure(to)),
        returns: None,
    }
}

fn new_alert(user: UserId, w: Watched, minute: i64) -> Alert {
    Alert {
        id: AlertId::new(),
        user_id: user,
        spec: format!("{{\"origin\":\"{}\"}}", w.origin),
        watched: w,
        paused: false,
        version: 0,
        watch: Watch::default(),
        created_at: t(minute),
        updated_at: t(minute),
    }
}

fn notification(user: UserId, alert: Option<AlertId>, minute: i64) -> NewNotification {
    NewNotification {
        id: NotificationId::new(),
        user_id: user,
        alert_id: alert,
        channel: "email".into(),
        webhook_id: None,
        payload: "{}".into(),
        created_at: t(minute),
    }
}

fn new_webhook(user: UserId, minute: i64) -> Webhook {
    Webhook {
        id: WebhookId::new(),
        user_id: user,
        url: format!("https://hooks.example.com/{minute}"),
        secret: format!("whsec_{minute}"),
        created_at: t(minute),
    }
}

fn fired(price: i64) -> Watch {
    Watch {
        reference_minor: Some(price),
        disarmed: true,
        last_price_minor: Some(price),
        evaluated_at: Some(t(1)),
        notified_at: Some(t(1)),
    }
}

/// Alerts are their user's alone (another user's is not found, for every operation), listed
/// newest first, capped per user, found by the airports and cabin a price touches while live,
/// paged for the sweep, reset by a new definition, and gone with a deleted account.
pub async fn alerts_belong_to_their_user<S: UserStore + AlertStore>(store: &S) {
    let ada = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    let bob = store
        .create_user(&new_user("bob@example.com", "Bob"))
        .await
        .unwrap();
    let first = new_alert(ada.id, watched("LHR", Some("JFK"), 10, 12), 0);
    let mut anywhere = new_alert(ada.id, watched("LHR", None, 1, 30), 1);
    anywhere.watched.returns = Some((departure(3), departure(31)));
    store.create_alert(&first, 3).await.unwrap();
    store.create_alert(&anywhere, 3).await.unwrap();
    let listed = store.alerts_of(ada.id).await.unwrap();
    assert_eq!(
        listed,
        [anywhere.clone(), first.clone()],
        "newest first, as stored"
    );
    assert!(store.alerts_of(bob.id).await.unwrap().is_empty());
    // Bob cannot see, change or delete Ada's.
    let nf = |r: StoreResult<()>| assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    nf(store.alert(bob.id, first.id).await.map(|_| ()));
    let pause = AlertChange {
        definition: None,
        paused: Some(true),
    };
    nf(store
        .update_alert(bob.id, first.id, &pause, t(2))
        .await
        .map(|_| ()));
    nf(store.delete_alert(bob.id, first.id).await);
    assert!(!store.alert(ada.id, first.id).await.unwrap().paused);
    // At most three each.
    store
        .create_alert(&new_alert(ada.id, watched("LGW", Some("BCN"), 5, 5), 2), 3)
        .await
        .unwrap();
    let fourth = store
        .create_alert(&new_alert(ada.id, watched("LGW", Some("BCN"), 5, 5), 3), 3)
        .await;
    assert!(matches!(fourth, Err(StoreError::Conflict(_))), "{fourth:?}");
    store
        .create_alert(&new_alert(bob.id, watched("JFK", Some("LHR"), 5, 5), 3), 3)
        .await
        .unwrap();

    // A price of JFK touches the route alert (destination) and Bob's (origin); LHR also the
    // anywhere alert; nothing in business; nothing once every date has passed.
    let touching = |airports: &[&str], cabin: &str, today: u32| {
        let airports: Vec<String> = airports.iter().map(|s| s.to_string()).collect();
        let cabin = cabin.to_string();
        async move {
            let mut ids: Vec<AlertId> = store
                .alerts_touching(&cabin, &airports, departure(today))
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.id)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(touching(&["JFK"], "economy", 1).await.len(), 2);
    assert_eq!(touching(&["LHR"], "economy", 1).await.len(), 3);
    assert!(touching(&["LHR"], "business", 1).await.is_empty());
    // After the 12th only the anywhere alert (returns until the 31st) and Bob's (5th: gone).
    assert_eq!(touching(&["LHR"], "economy", 13).await, vec![anywhere.id]);
    // Paused alerts are not evaluated.
    let paused = store
        .update_alert(ada.id, anywhere.id, &pause, t(5))
        .await
        .unwrap();
    assert!(paused.paused && paused.version == 1 && paused.updated_at == t(5));
    assert!(touching(&["LHR"], "economy", 13).await.is_empty());

    // The sweep pages through every live alert in id order.
    let mut seen = vec![];
    let mut after = None;
    loop {
        let page = store.live_alerts(after, departure(1), 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        seen.extend(page.into_iter().map(|a| a.id));
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 3, "four alerts, one paused");

    // A new definition resets what the evaluator learnt.
    assert_eq!(
        store
            .settle(first.id, 0, &fired(9_000), None, 10, departure(1))
            .await
            .unwrap(),
        Settled::Saved
    );
    let change = AlertChange {
        definition: Some(("{\"v\":2}".into(), watched("LHR", Some("EWR"), 11, 11))),
        paused: None,
    };
    let changed = store
        .update_alert(ada.id, first.id, &change, t(6))
        .await
        .unwrap();
    assert_eq!(changed.watched.destination.as_deref(), Some("EWR"));
    assert_eq!((changed.spec.as_str(), changed.version), ("{\"v\":2}", 2));
    // (When it last told the user stays: that happened.)
    let reset = Watch {
        notified_at: Some(t(1)),
        ..Watch::default()
    };
    assert_eq!(changed.watch, reset);

    // Deleting keeps its notifications, unlinked.
    store
        .enqueue(&notification(ada.id, Some(first.id), 7))
        .await
        .unwrap();
    store.delete_alert(ada.id, first.id).await.unwrap();
    nf(store.delete_alert(ada.id, first.id).await);
    let kept = store.notifications_of(ada.id, 10).await.unwrap();
    assert_eq!((kept.len(), kept[0].alert_id), (1, None));

    // An account deleted takes its alerts and notifications with it.
    store.anonymise_user(ada.id, t(8)).await.unwrap();
    assert!(store.alerts_of(ada.id).await.unwrap().is_empty());
    assert!(store.notifications_of(ada.id, 10).await.unwrap().is_empty());
    assert_eq!(store.alerts_of(bob.id).await.unwrap().len(), 1);
}

/// A verdict is saved once per version (a second evaluator that read the same version finds
/// it stale, and a paused alert takes none); a firing writes its notifications with it unless
/// the user's day is used up; the outbox leases what it hands out, retries when told, and
/// never hands out a sent or dead notification again.
pub async fn alerts_settle_once_and_the_outbox_leases<S: UserStore + AlertStore>(store: &S) {
    let ada = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    let alerts: Vec<Alert> = (0..3)
        .map(|n| {
            new_alert(
                ada.id,
                watched("LHR", Some("JFK"), 10 + n, 10 + n),
                n as i64,
            )
        })
        .collect();
    for a in &alerts {
        store.create_alert(a, 10).await.unwrap();
    }
    // Ada's webhook takes a copy of each firing: a second channel, counted once against the cap.
    let hook = new_webhook(ada.id, 0);
    store.create_webhook(&hook, 5).await.unwrap();
    let day = departure(1);
    let fire = |a: &Alert, minute: i64| Some(notification(ada.id, Some(a.id), minute));
    let settle = |a: &Alert, version: i64, notify: Option<NewNotification>, cap: u32| {
        let id = a.id;
        async move {
            store
                .settle(id, version, &fired(9_000), notify.as_ref(), cap, day)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        settle(&alerts[0], 0, fire(&alerts[0], 1), 2).await,
        Settled::Saved
    );
    assert_eq!(
        settle(&alerts[0], 0, fire(&alerts[0], 1), 2).await,
        Settled::Stale
    );
    let held = store.alert(ada.id, alerts[0].id).await.unwrap();
    assert_eq!((held.version, held.watch.clone()), (1, fired(9_000)));
    assert_eq!(
        settle(&alerts[1], 0, fire(&alerts[1], 2), 2).await,
        Settled::Saved
    );
    // The day's cap of two firings is used: the third saves nothing.
    assert_eq!(
        settle(&alerts[2], 0, fire(&alerts[2], 3), 2).await,
        Settled::Capped
    );
    assert_eq!(store.alert(ada.id, alerts[2].id).await.unwrap().version, 0);
    // Without a notification the cap does not apply; the next day has its own.
    assert_eq!(settle(&alerts[2], 0, None, 2).await, Settled::Saved);
    let next_day = store
        .settle(
            alerts[2].id,
            1,
            &fired(8_000),
            fire(&alerts[2], 4).as_ref(),
            2,
            departure(2),
        )
        .await
        .unwrap();
    assert_eq!(next_day, Settled::Saved);
    // A paused alert takes no verdict.
    let pause = AlertChange {
        definition: None,
        paused: Some(true),
    };
    store
        .update_alert(ada.id, alerts[1].id, &pause, t(5))
        .await
        .unwrap();
    assert_eq!(
        settle(&alerts[1], 2, fire(&alerts[1], 5), 9).await,
        Settled::Stale
    );
    let all = store.notifications_of(ada.id, 100).await.unwrap();
    assert_eq!(all.len(), 6, "three firings, two channels each");
    assert!(all
        .iter()
        .all(|n| n.status == Delivery::Pending && n.attempts == 0));
    let copies: Vec<&Notification> = all.iter().filter(|n| n.channel == "webhook").collect();
    assert_eq!(copies.len(), 3);
    for copy in copies {
        assert_eq!(copy.webhook_id, Some(hook.id));
        let mail = all
            .iter()
            .find(|n| n.channel == "email" && n.created_at == copy.created_at)
            .expect("the mail of the same firing");
        assert_ne!(mail.id, copy.id);
        assert_eq!(
            (mail.alert_id, &mail.payload, mail.webhook_id),
            (copy.alert_id, &copy.payload, None)
        );
    }
    assert_eq!(
        store.deliveries(ada.id, hook.id, 10).await.unwrap().len(),
        3
    );

    // The outbox: a claim leases; a second claimer gets what is left.
    let lease = t(100);
    let first = store.claim(t(10), lease, 4).await.unwrap();
    let second = store.claim(t(10), lease, 4).await.unwrap();
    assert_eq!((first.len(), second.len()), (4, 2));
    assert!(first.iter().chain(&second).all(|n| n.attempts == 1));
    assert!(store.claim(t(10), lease, 4).await.unwrap().is_empty());
    // Sent, retried in an hour, dead, and one left leased.
    store
        .finish(first[0].id, &Outcome::Sent, t(11))
        .await
        .unwrap();
    let retry = Outcome::Retry {
        at: t(60),
        error: "421 try later".into(),
    };
    store.finish(first[1].id, &retry, t(11)).await.unwrap();
    let dead = Outcome::Dead {
        error: "550 no such user".into(),
    };
    store.finish(first[2].id, &dead, t(11)).await.unwrap();
    // A finished notification is not finished again.
    let again = store.finish(first[0].id, &dead, t(12)).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    // Before the retry is due and the leases run out: nothing.
    assert!(store.claim(t(59), t(159), 10).await.unwrap().is_empty());
    // The retry is due (its lease was cleared); the leased ones wait for their lease.
    let due = store.claim(t(60), t(160), 10).await.unwrap();
    assert_eq!(due.iter().map(|n| n.id).collect::<Vec<_>>(), [first[1].id]);
    assert_eq!(
        (due[0].attempts, due[0].last_error.as_deref()),
        (2, Some("421 try later"))
    );
    // After the first lease: the three never finished come back, with another attempt.
    let back = store.claim(t(100), t(200), 10).await.unwrap();
    assert_eq!(back.len(), 3);
    assert!(back.iter().all(|n| n.attempts == 2));
    let by_id: std::collections::HashMap<_, _> = store
        .notifications_of(ada.id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    let sent = &by_id[&first[0].id];
    assert_eq!((sent.status, sent.sent_at), (Delivery::Sent, Some(t(11))));
    let gone = &by_id[&first[2].id];
    assert_eq!(
        (gone.status, gone.last_error.as_deref()),
        (Delivery::Dead, Some("550 no such user"))
    );
}

/// Search counts add up by route over days; a batch is applied once, however often and however
/// concurrently it is delivered; the ranking is by searches, then by code, and can keep one
/// origin's; explore searches have no destination.
pub async fn search_batches_count_once<S: PriceStore>(store: Arc<S>) {
    let count = |o: &str, d: Option<&str>, n: i64| SearchCount {
        origin: o.into(),
        destination: d.map(str::to_string),
        searches: n,
    };
    let batch = |id: &str, day: u32, counts: Vec<SearchCount>| SearchBatch {
        id: id.into(),
        day: departure(day),
        at: t(day as i64),
        counts,
    };
    let first = batch(
        "b1",
        1,
        vec![
            count("LON", Some("NYC"), 5),
            count("LHR", Some("JFK"), 2),
            count("LON", None, 4),
        ],
    );
    // Eight deliveries of the same batch at once: applied once.
    let shared = Arc::new(first.clone());
    let applied = burst(8, |_| {
        let (store, b) = (store.clone(), shared.clone());
        async move { store.record_searches(&b).await.unwrap() }
    })
    .await;
    assert_eq!(applied.iter().filter(|a| **a).count(), 1, "{applied:?}");
    assert!(store
        .record_searches(&batch(
            "b2",
            2,
            vec![count("LHR", Some("JFK"), 4), count("PAR", Some("NYC"), 1)]
        ))
        .await
        .unwrap());
    assert!(
        !store.record_searches(&first).await.unwrap(),
        "again: nothing"
    );
    let all = store.popular_routes(departure(1), None, 10).await.unwrap();
    assert_eq!(
        all,
        [
            count("LHR", Some("JFK"), 6),
            count("LON", Some("NYC"), 5),
            count("LON", None, 4),
            count("PAR", Some("NYC"), 1),
        ]
    );
    assert_eq!(
        store.popular_routes(departure(2), None, 10).await.unwrap(),
        [count("LHR", Some("JFK"), 4), count("PAR", Some("NYC"), 1)]
    );
    assert_eq!(
        store
            .popular_routes(departure(1), Some("LON"), 1)
            .await
            .unwrap(),
        [count("LON", Some("NYC"), 5)]
    );
    assert!(store
        .popular_routes(departure(3), None, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Webhooks are their user's alone (another user's is not found, nor are its deliveries),
/// capped per user even when registered all at once, listed oldest first; deleting one takes
/// its deliveries with it; a deleted account takes them all.
pub async fn webhooks_belong_to_their_user<S: UserStore + AlertStore>(store: Arc<S>) {
    let ada = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    let bob = store
        .create_user(&new_user("bob@example.com", "Bob"))
        .await
        .unwrap();
    // Twelve registrations at once against a cap of three: three stored.
    let user = ada.id;
    let results = burst(12, |n| {
        let store = store.clone();
        async move { store.create_webhook(&new_webhook(user, n as i64), 3).await }
    })
    .await;
    let stored = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(stored, 3, "{results:?}");
    assert!(results
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict(_)))));
    let hooks = store.webhooks_of(ada.id).await.unwrap();
    assert_eq!(hooks.len(), 3);
    assert!(hooks.windows(2).all(|w| w[0].created_at <= w[1].created_at));
    let first = hooks[0].clone();
    assert_eq!(store.webhook(ada.id, first.id).await.unwrap(), first);
    assert!(store.webhooks_of(bob.id).await.unwrap().is_empty());
    let nf = |r: StoreResult<()>| assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    nf(store.webhook(bob.id, first.id).await.map(|_| ()));
    nf(store.delete_webhook(bob.id, first.id).await);
    assert!(
        !format!("{first:?}").contains(&first.secret),
        "the key is not printed"
    );

    // A delivery (a test): listed for Ada's webhook, not for Bob.
    let delivery = NewNotification {
        channel: "webhook".into(),
        webhook_id: Some(first.id),
        ..notification(ada.id, None, 5)
    };
    store.enqueue(&delivery).await.unwrap();
    let listed = store.deliveries(ada.id, first.id, 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|n| n.id).collect::<Vec<_>>(),
        [delivery.id]
    );
    assert_eq!(listed[0].webhook_id, Some(first.id));
    assert!(store
        .deliveries(bob.id, first.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .deliveries(ada.id, hooks[1].id, 10)
        .await
        .unwrap()
        .is_empty());

    store.delete_webhook(ada.id, first.id).await.unwrap();
    nf(store.webhook(ada.id, first.id).await.map(|_| ()));
    assert!(store.notifications_of(ada.id, 10).await.unwrap().is_empty());
    assert_eq!(store.webhooks_of(ada.id).await.unwrap().len(), 2);
    // Room for one more now.
    store
        .create_webhook(&new_webhook(ada.id, 20), 3)
        .await
        .unwrap();

    store.anonymise_user(ada.id, t(30)).await.unwrap();
    assert!(store.webhooks_of(ada.id).await.unwrap().is_empty());
}

/// Eight evaluators settle the same twelve alerts at one instant, all having read version 0
/// and all deciding to notify: each alert is notified exactly once. Then one user's twelve
/// alerts fire at once under a cap of five: exactly five get through.
pub async fn concurrent_evaluators_notify_once<S: UserStore + AlertStore>(store: Arc<S>) {
    let users: Vec<User> = {
        let mut v = vec![];
        for n in 0..3 {
            let u = new_user(&format!("u{n}@example.com"), &format!("U{n}"));
            v.push(store.create_user(&u).await.unwrap());
        }
        v
    };
    let alerts: Vec<Alert> = (0..12)
        .map(|n| {
            new_alert(
                users[n % 3].id,
                watched("LHR", Some("JFK"), 10, 10),
                n as i64,
            )
        })
        .collect();
    for a in &alerts {
        store.create_alert(a, 100).await.unwrap();
    }
    let alerts = Arc::new(alerts);
    let results = burst(8 * alerts.len(), |i| {
        let store = store.clone();
        let alerts = alerts.clone();
        async move {
            let a = &alerts[i % alerts.len()];
            let n = notification(a.user_id, Some(a.id), 1);
            store
                .settle(a.id, 0, &fired(9_000), Some(&n), 100, departure(1))
                .await
                .map(|s| (a.id, s))
        }
    })
    .await;
    let mut saved = std::collections::HashMap::new();
    for r in results {
        let (id, s) = r.unwrap();
        assert!(matches!(s, Settled::Saved | Settled::Stale), "{s:?}");
        *saved.entry(id).or_insert(0) += usize::from(s == Settled::Saved);
    }
    assert!(saved.values().all(|&n| n == 1), "{saved:?}");
    let mut told = 0;
    for u in &users {
        told += store.notifications_of(u.id, 100).await.unwrap().len();
    }
    assert_eq!(told, 12);

    let busy = store
        .create_user(&new_user("busy@example.com", "Busy"))
        .await
        .unwrap();
    let many: Vec<Alert> = (0..12)
        .map(|n| new_alert(busy.id, watched("LHR", Some("JFK"), 10, 10), n))
        .collect();
    for a in &many {
        store.create_alert(a, 100).await.unwrap();
    }
    let many = Arc::new(many);
    let results = burst(many.len(), |i| {
        let store = store.clone();
        let many = many.clone();
        async move {
            let a = &many[i];
            let n = notification(a.user_id, Some(a.id), 1);
            store
                .settle(a.id, 0, &fired(9_000), Some(&n), 5, departure(1))
                .await
        }
    })
    .await;
    let saved = results
        .iter()
        .filter(|r| matches!(r, Ok(Settled::Saved)))
        .count();
    let capped = results
        .iter()
        .filter(|r| matches!(r, Ok(Settled::Capped)))
        .count();
    assert_eq!((saved, capped), (5, 7), "{results:?}");
    assert_eq!(store.notifications_of(busy.id, 100).await.unwrap().len(), 5);
}

/// Eight workers claim from a 120-notification outbox at once, round after round: every
/// notification is handed out exactly once.
pub async fn concurrent_workers_claim_each_notification_once<S: UserStore + AlertStore>(
    store: Arc<S>,
) {
    let ada = store
        .create_user(&new_user("ada@example.com", "Ada"))
        .await
        .unwrap();
    for n in 0..120 {
        store
            .enqueue(&notification(ada.id, None, n % 7))
            .await
            .unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    for _round in 0..4 {
        let results = burst(8, |_| {
            let store = store.clone();
            async move { store.claim(t(10), t(100), 5).await }
        })
        .await;
        for r in results {
            for n in r.unwrap() {
                assert!(seen.insert(n.id), "{} handed out twice", n.id);
            }
        }
    }
    assert_eq!(seen.len(), 120);
}
