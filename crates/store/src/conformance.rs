//! The conformance suite: every backend must pass these, each against a fresh, empty store.
//! Backends run them with [`crate::conformance_tests!`].
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: failures are assertions

use crate::*;
use chrono::{Duration, TimeZone, Utc};
use spontra_domain::Email;

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
        user_agent: "test-agent".into(),
        ip: "127.0.0.1".into(),
    }
}

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
        .create_session(&new_session(u.id, "h1", 60))
        .await
        .unwrap();
    let Rotation::Rotated(after) = store.rotate_refresh("h1", "h2", t(1)).await.unwrap() else {
        panic!("h1 should rotate");
    };
    assert_eq!(after.id, s.id);
    assert_eq!(after.last_used_at, t(1));
    assert!(matches!(
        store.rotate_refresh("h2", "h3", t(2)).await.unwrap(),
        Rotation::Rotated(_)
    ));
    // h1 again: somebody kept an old token. The whole session goes.
    assert_eq!(
        store.rotate_refresh("h1", "h4", t(3)).await.unwrap(),
        Rotation::ReuseDetected(u.id)
    );
    assert!(store.session(s.id).await.unwrap().revoked_at.is_some());
    assert_eq!(
        store.rotate_refresh("h3", "h5", t(4)).await.unwrap(),
        Rotation::Invalid
    );
    assert_eq!(
        store
            .rotate_refresh("never-issued", "h6", t(4))
            .await
            .unwrap(),
        Rotation::Invalid
    );
    // Expired sessions do not rotate.
    store
        .create_session(&new_session(u.id, "e1", 10))
        .await
        .unwrap();
    assert_eq!(
        store.rotate_refresh("e1", "e2", t(11)).await.unwrap(),
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
        .create_session(&new_session(u.id, "a", 60))
        .await
        .unwrap();
    let b = store
        .create_session(&new_session(u.id, "b", 60))
        .await
        .unwrap();
    let c = store
        .create_session(&new_session(u.id, "c", 60))
        .await
        .unwrap();
    store
        .create_session(&new_session(other.id, "o", 60))
        .await
        .unwrap();
    store
        .create_session(&new_session(u.id, "old", 5))
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
        .create_session(&new_session(u.id, "s1", 60))
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
            one_time_tokens_work_once,
            preferences_and_consents_are_kept,
            deleted_accounts_are_anonymised);
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
}
