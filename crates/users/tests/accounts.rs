#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The account API over HTTP (tower `oneshot` on the real router) on a fresh SQLite store.

use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use spontra_mail::{Mail, MailError, Mailer};
use spontra_store::{UserStore, UserUpdate};
use spontra_users::tokens::KeyRing;
use spontra_users::{router, Outgoing, UsersService, UsersState};
use std::sync::Arc;
use tower::ServiceExt;

struct App {
    router: axum::Router,
    store: Arc<dyn UserStore>,
    _db: TempDb,
}

/// Keeps mail in memory (the SMTP path is tested end to end in `crates/spontra/tests`).
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<Mail>>);

#[async_trait::async_trait]
impl Mailer for Recorder {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.0.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

struct TempDb(std::path::PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

async fn app() -> App {
    let path = std::env::temp_dir().join(format!("spontra-users-{}.db", uuid::Uuid::new_v4()));
    let store: Arc<dyn UserStore> = Arc::new(
        spontra_store_sqlite::SqliteStore::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap(),
    );
    let keys = KeyRing::parse(&KeyRing::generate_spec("k1"), "k1").unwrap();
    let refdata = Arc::new(spontra_refdata::RefData::load().unwrap());
    let outgoing = Outgoing {
        mailer: Arc::new(Recorder::default()),
        public_url: "http://spontra.test".into(),
    };
    let service = Arc::new(UsersService::new(
        store.clone(),
        keys,
        refdata,
        outgoing,
        spontra_users::AccountPolicy::default(),
        Arc::new(spontra_domain::SystemClock),
    ));
    let state = UsersState {
        service: service.clone(),
        auth: service,
        cookies: spontra_users::CookiePolicy::default(),
    };
    App {
        router: router(state),
        store,
        _db: TempDb(path),
    }
}

impl App {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn register(&self, email: &str) -> (u16, Value) {
        self.call(
            Method::POST,
            "/auth/register",
            Some(
                json!({"email": email, "password": "correct horse battery", "display_name": "Ada"}),
            ),
            None,
        )
        .await
    }

    async fn login(&self, email: &str, password: &str) -> (u16, Value) {
        self.call(
            Method::POST,
            "/auth/login",
            Some(json!({"email": email, "password": password})),
            None,
        )
        .await
    }
}

#[tokio::test]
async fn registration_validates_and_tells_nothing_of_duplicates() {
    let a = app().await;
    let (s, body) = a.register("Ada@Example.com").await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(body["email"], "ada@example.com");
    // A taken address gets the same answer: no one learns it has an account.
    let (s, again) = a.register("ada@example.com").await;
    assert_eq!((s, &again), (202, &body));
    for (email, password, code, field) in [
        (
            "not-an-email",
            "correct horse battery",
            "invalid_email",
            "email",
        ),
        ("b@example.com", "short", "weak_password", "password"),
        ("b@example.com", "password1", "weak_password", "password"),
        (
            "b@example.com",
            &"x".repeat(129),
            "weak_password",
            "password",
        ),
    ] {
        let (s, body) = a
            .call(
                Method::POST,
                "/auth/register",
                Some(json!({"email": email, "password": password, "display_name": "B"})),
                None,
            )
            .await;
        let status = spontra_http::status(spontra_http::ErrorCode::named(code).unwrap()).as_u16();
        assert_eq!((s, body["code"].as_str()), (status, Some(code)), "{body}");
        assert_eq!(body["errors"][0]["field"], field);
    }
    let (s, body) = a
        .call(
            Method::POST,
            "/auth/register",
            Some(json!({"email": "b@example.com"})),
            None,
        )
        .await;
    assert_eq!((s, body["code"].as_str()), (400, Some("malformed_json")));
}

#[tokio::test]
async fn login_does_not_reveal_whether_an_email_is_registered() {
    let a = app().await;
    a.register("ada@example.com").await;
    let (s1, wrong_password) = a.login("ada@example.com", "not the password").await;
    let (s2, unknown_email) = a.login("nobody@example.com", "not the password").await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(wrong_password, unknown_email);
    assert_eq!(wrong_password["code"], "invalid_credentials");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_ends_the_session() {
    let a = app().await;
    a.register("ada@example.com").await;
    let (s, t1) = a.login("ADA@example.com", "correct horse battery").await;
    assert_eq!(s, 200, "{t1}");
    assert_eq!(t1["token_type"], "Bearer");
    assert_eq!(t1["expires_in"], 900);
    let access1 = t1["access_token"].as_str().unwrap();
    let (s, me) = a.call(Method::GET, "/me", None, Some(access1)).await;
    assert_eq!((s, me["email"].as_str()), (200, Some("ada@example.com")));

    let (s, t2) = a
        .call(
            Method::POST,
            "/auth/refresh",
            Some(json!({"refresh_token": t1["refresh_token"]})),
            None,
        )
        .await;
    assert_eq!(s, 200, "{t2}");
    assert_ne!(t2["refresh_token"], t1["refresh_token"]);
    assert_eq!(t2["session_id"], t1["session_id"]);
    // The first refresh token again: theft is assumed, the whole session ends.
    let (s, body) = a
        .call(
            Method::POST,
            "/auth/refresh",
            Some(json!({"refresh_token": t1["refresh_token"]})),
            None,
        )
        .await;
    assert_eq!((s, body["code"].as_str()), (401, Some("token_reused")));
    let (s, body) = a
        .call(
            Method::POST,
            "/auth/refresh",
            Some(json!({"refresh_token": t2["refresh_token"]})),
            None,
        )
        .await;
    assert_eq!((s, body["code"].as_str()), (401, Some("invalid_token")));
    let (s, _) = a
        .call(
            Method::GET,
            "/me",
            None,
            Some(t2["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        s, 401,
        "access tokens of an ended session stop working at once"
    );
}

#[tokio::test]
async fn logout_sessions_and_ownership() {
    let a = app().await;
    a.register("ada@example.com").await;
    a.register("grace@example.com").await;
    let (_, ada1) = a.login("ada@example.com", "correct horse battery").await;
    let (_, ada2) = a.login("ada@example.com", "correct horse battery").await;
    let (_, grace) = a.login("grace@example.com", "correct horse battery").await;
    let tok = |v: &Value| v["access_token"].as_str().unwrap().to_string();
    let (s, list) = a
        .call(Method::GET, "/me/sessions", None, Some(&tok(&ada1)))
        .await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .filter(|x| x["current"] == true)
            .count(),
        1
    );
    // Grace cannot end Ada's session.
    let path = format!("/me/sessions/{}", ada2["session_id"].as_str().unwrap());
    let (s, body) = a
        .call(Method::DELETE, &path, None, Some(&tok(&grace)))
        .await;
    assert_eq!((s, body["code"].as_str()), (404, Some("not_found")));
    let (s, _) = a.call(Method::DELETE, &path, None, Some(&tok(&ada1))).await;
    assert_eq!(s, 204);
    assert_eq!(
        a.call(Method::GET, "/me", None, Some(&tok(&ada2))).await.0,
        401
    );
    assert_eq!(
        a.call(Method::POST, "/auth/logout", None, Some(&tok(&ada1)))
            .await
            .0,
        204
    );
    assert_eq!(
        a.call(Method::GET, "/me", None, Some(&tok(&ada1))).await.0,
        401
    );
    // Logout everywhere.
    let (_, g2) = a.login("grace@example.com", "correct horse battery").await;
    assert_eq!(
        a.call(Method::POST, "/auth/logout-all", None, Some(&tok(&g2)))
            .await
            .0,
        204
    );
    assert_eq!(
        a.call(Method::GET, "/me", None, Some(&tok(&grace))).await.0,
        401
    );
    // Missing or forged tokens.
    let (s, body) = a.call(Method::GET, "/me", None, None).await;
    assert_eq!((s, body["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(
        a.call(Method::GET, "/me", None, Some("not.a.jwt")).await.0,
        401
    );
}

#[tokio::test]
async fn disabled_accounts_cannot_sign_in_or_refresh() {
    let a = app().await;
    a.register("ada@example.com").await;
    let (_, t) = a.login("ada@example.com", "correct horse battery").await;
    let (_, user) = a
        .call(
            Method::GET,
            "/me",
            None,
            Some(t["access_token"].as_str().unwrap()),
        )
        .await;
    let id = spontra_store::UserId(uuid::Uuid::parse_str(user["id"].as_str().unwrap()).unwrap());
    a.store
        .update_user(
            id,
            &UserUpdate {
                disabled: Some(true),
                ..Default::default()
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let (s, body) = a.login("ada@example.com", "correct horse battery").await;
    assert_eq!((s, body["code"].as_str()), (403, Some("account_disabled")));
    let (s, _) = a
        .call(
            Method::POST,
            "/auth/refresh",
            Some(json!({"refresh_token": t["refresh_token"]})),
            None,
        )
        .await;
    assert_eq!(s, 403);
    assert_ne!(
        a.call(
            Method::GET,
            "/me",
            None,
            Some(t["access_token"].as_str().unwrap())
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn password_change_needs_the_current_one_and_ends_other_sessions() {
    let a = app().await;
    a.register("ada@example.com").await;
    let (_, here) = a.login("ada@example.com", "correct horse battery").await;
    let (_, elsewhere) = a.login("ada@example.com", "correct horse battery").await;
    let tok = |v: &Value| v["access_token"].as_str().unwrap().to_string();
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let (s, body) = a
        .call(
            Method::POST,
            "/me/password",
            Some(change("wrong one!", "a brand new secret")),
            Some(&tok(&here)),
        )
        .await;
    assert_eq!(
        (
            s,
            body["code"].as_str(),
            body["errors"][0]["field"].as_str()
        ),
        (403, Some("wrong_password"), Some("current_password"))
    );
    let (s, body) = a
        .call(
            Method::POST,
            "/me/password",
            Some(change("correct horse battery", "12345678")),
            Some(&tok(&here)),
        )
        .await;
    assert_eq!((s, body["code"].as_str()), (422, Some("weak_password")));
    let (s, _) = a
        .call(
            Method::POST,
            "/me/password",
            Some(change("correct horse battery", "a brand new secret")),
            Some(&tok(&here)),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        a.call(Method::GET, "/me", None, Some(&tok(&here))).await.0,
        200,
        "this session stays"
    );
    assert_eq!(
        a.call(Method::GET, "/me", None, Some(&tok(&elsewhere)))
            .await
            .0,
        401,
        "others end"
    );
    assert_eq!(
        a.login("ada@example.com", "correct horse battery").await.0,
        401
    );
    assert_eq!(
        a.login("ada@example.com", "a brand new secret").await.0,
        200
    );
    let (s, me) = a
        .call(
            Method::PATCH,
            "/me",
            Some(json!({"display_name": "  Countess Ada "})),
            Some(&tok(&here)),
        )
        .await;
    assert_eq!(
        (s, me["display_name"].as_str()),
        (200, Some("Countess Ada"))
    );
    let (s, body) = a
        .call(
            Method::PATCH,
            "/me",
            Some(json!({"display_name": ""})),
            Some(&tok(&here)),
        )
        .await;
    assert_eq!((s, body["code"].as_str()), (422, Some("invalid_text")));
}

#[tokio::test]
async fn preferences_default_validate_and_persist() {
    let a = app().await;
    a.register("ada@example.com").await;
    let (_, t) = a.login("ada@example.com", "correct horse battery").await;
    let tok = t["access_token"].as_str().unwrap().to_string();
    let (s, p) = a
        .call(Method::GET, "/me/preferences", None, Some(&tok))
        .await;
    assert_eq!(
        (s, p["currency"].as_str(), p["adults"].as_u64()),
        (200, Some("EUR"), Some(1))
    );
    let mut new = p.clone();
    new["home_airport"] = json!("lhr");
    new["currency"] = json!("GBP");
    new["trip_hours"] = json!({"min": 2, "max": 4});
    let (s, saved) = a
        .call(
            Method::PUT,
            "/me/preferences",
            Some(new.clone()),
            Some(&tok),
        )
        .await;
    assert_eq!(
        (
            s,
            saved["home_airport"].as_str(),
            saved["currency"].as_str()
        ),
        (200, Some("LHR"), Some("GBP")),
        "{saved}"
    );
    assert_eq!(
        a.call(Method::GET, "/me/preferences", None, Some(&tok))
            .await
            .1,
        saved
    );
    new["home_airport"] = json!("QQQ");
    new["currency"] = json!("ZZZ");
    let (s, body) = a
        .call(Method::PUT, "/me/preferences", Some(new), Some(&tok))
        .await;
    assert_eq!((s, body["code"].as_str()), (422, Some("unknown_airport")));
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
    assert_eq!(
        a.call(Method::GET, "/me/preferences", None, None).await.0,
        401
    );
}
