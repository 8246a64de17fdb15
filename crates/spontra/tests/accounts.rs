#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The account API end to end: a running instance (port 0) on SQLite and on PostgreSQL,
//! sending its mail through a real SMTP server on loopback, the first administrator created by
//! the `spontra admin create-user` command. Every endpoint of the users service is driven over
//! HTTP, with the properties the issue names: refresh-token reuse revokes the family, a reset
//! token works once, user A cannot read or change user B, a user cannot reach admin routes,
//! emails arrive.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{spawn_app, Backend, Instance, PASSWORD};

/// One test per scenario and backend, each on its own instance, so one failure hides none
/// of the others.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let app = super::spawn_app(super::Backend::Sqlite).await.unwrap();
                    super::$scenario(&app).await;
                    assert!(app.data_dir.join("spontra.db").exists());
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(app) = super::spawn_app(super::Backend::Postgres).await else {
                        return;
                    };
                    super::$scenario(&app).await;
                }
            )*
        }
    };
}

on_both_backends!(
    registration_and_email_verification,
    refresh_rotation_and_reuse,
    isolation_between_users,
    forgot_and_reset_password,
    profile_password_preferences,
    privacy_export_consents_delete,
    administration,
    bad_requests,
    login_throttling,
);

async fn registration_and_email_verification(app: &Instance) {
    let r = app.register("Ada@Example.com", "Ada").await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["email"], "ada@example.com");
    // A taken address gets the same answer (issue #25: `409 email_taken` told anyone whether
    // an address had an account), in any case, width or spacing; its owner hears of it.
    for variant in ["ada@example.com", " ADA@example.com ", "ａｄａ@example.com"] {
        let dup = app.register(variant, "Someone").await;
        assert_eq!(dup.status, 202, "{variant}: {}", dup.body);
        assert_eq!(
            dup.body.as_object().unwrap().keys().collect::<Vec<_>>(),
            r.body.as_object().unwrap().keys().collect::<Vec<_>>()
        );
    }
    app.smtp()
        .wait_for("ada@example.com", "Someone tried to create", 1)
        .await;
    // A look-alike in another script is refused, not a second account.
    let lookalike = app.register("\u{0430}da@example.com", "Mallory").await;
    assert_eq!(
        (lookalike.problem(), lookalike.field()),
        ((422, "invalid_email"), "email")
    );

    let mail = app
        .smtp()
        .wait_for("ada@example.com", "Confirm your email", 1)
        .await;
    assert!(
        mail.text
            .contains(&format!("{}/verify-email?token=", app.base)),
        "the link opens the web app: {}",
        mail.text
    );
    let tokens = app.sign_in("ada@example.com", PASSWORD).await;
    // A resend sends a second, different link; both are valid until one is used.
    let resend = app
        .call(
            Method::POST,
            "/auth/verify-email/resend",
            None,
            Some(&tokens.access),
        )
        .await;
    assert_eq!(resend.status, 202);
    let second = app
        .smtp()
        .wait_for("ada@example.com", "Confirm your email", 2)
        .await;
    assert_ne!(second.token(), mail.token());

    let verify = |token: String| async move {
        app.post("/auth/verify-email", json!({ "token": token }))
            .await
    };
    assert_eq!(verify(mail.token()).await.status, 204);
    let again = verify(mail.token()).await;
    assert_eq!(
        (again.problem(), again.field()),
        ((403, "invalid_link_token"), "token"),
        "a verification link works once"
    );
    let tampered = verify(format!("{}x", second.token())).await;
    assert_eq!(tampered.problem(), (403, "invalid_link_token"));
    let me = app.get("/me", &tokens.access).await;
    assert_eq!(me.body["email_verified"], true);
    let resend = app
        .call(
            Method::POST,
            "/auth/verify-email/resend",
            None,
            Some(&tokens.access),
        )
        .await;
    assert_eq!(resend.problem(), (409, "already_verified"));
}

async fn refresh_rotation_and_reuse(app: &Instance) {
    app.given_account("ada@example.com", "Ada", PASSWORD).await;
    let first = app.sign_in("ada@example.com", PASSWORD).await;
    let other = app.sign_in("ada@example.com", PASSWORD).await;
    let r = app
        .post("/auth/refresh", json!({"refresh_token": first.refresh}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second_refresh = r.body["refresh_token"].as_str().unwrap().to_string();
    let second_access = r.body["access_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, first.refresh);
    assert_eq!(r.body["session_id"], first.session.as_str());
    assert_eq!(app.get("/me", &second_access).await.status, 200);

    // The spent token again: the whole family (this session) is revoked.
    let reuse = app
        .post("/auth/refresh", json!({"refresh_token": first.refresh}))
        .await;
    assert_eq!(reuse.problem(), (401, "token_reused"));
    let later = app
        .post("/auth/refresh", json!({"refresh_token": second_refresh}))
        .await;
    assert_eq!(
        later.problem(),
        (401, "invalid_token"),
        "the newest token of the family died too"
    );
    assert_eq!(app.get("/me", &second_access).await.status, 401);
    // Another session of the same account is unaffected.
    assert_eq!(app.get("/me", &other.access).await.status, 200);

    // Logout ends one session; logout-all ends the rest.
    let third = app.sign_in("ada@example.com", PASSWORD).await;
    let out = app
        .call(Method::POST, "/auth/logout", None, Some(&other.access))
        .await;
    assert_eq!(out.status, 204);
    assert_eq!(app.get("/me", &other.access).await.status, 401);
    let refresh_after_logout = app
        .post("/auth/refresh", json!({"refresh_token": other.refresh}))
        .await;
    assert_eq!(refresh_after_logout.problem(), (401, "invalid_token"));
    let all = app
        .call(Method::POST, "/auth/logout-all", None, Some(&third.access))
        .await;
    assert_eq!(all.status, 204);
    assert_eq!(app.get("/me", &third.access).await.status, 401);
}

async fn isolation_between_users(app: &Instance) {
    app.given_account("ada@example.com", "Ada", PASSWORD).await;
    assert_eq!(app.register("grace@example.com", "Grace").await.status, 202);
    let ada = app.sign_in("ada@example.com", PASSWORD).await;
    let grace = app.sign_in("grace@example.com", PASSWORD).await;
    // Each sees only their own profile, sessions and preferences.
    let me = app.get("/me", &grace.access).await;
    assert_eq!(me.body["email"], "grace@example.com");
    let sessions = app.get("/me/sessions", &grace.access).await;
    let list = sessions.body.as_array().unwrap();
    assert!(list.iter().all(|s| s["id"] != ada.session.as_str()));
    assert_eq!(
        list.iter().filter(|s| s["current"] == true).count(),
        1,
        "{list:?}"
    );
    assert_eq!(
        list.iter()
            .find(|s| s["current"] == true)
            .map(|s| s["ip"].clone()),
        Some(json!("127.0.0.1")),
        "the session records the client address"
    );
    // Grace cannot end Ada's session: it does not exist, as far as she can tell.
    let revoke = app
        .call(
            Method::DELETE,
            &format!("/me/sessions/{}", ada.session),
            None,
            Some(&grace.access),
        )
        .await;
    assert_eq!(revoke.problem(), (404, "not_found"));
    assert_eq!(app.get("/me", &ada.access).await.status, 200);
    // Grace's preferences change does not touch Ada's.
    let put = app
        .call(
            Method::PUT,
            "/me/preferences",
            Some(json!({"home_airport": "LHR", "currency": "GBP"})),
            Some(&grace.access),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let ada_prefs = app.get("/me/preferences", &ada.access).await;
    assert_ne!(ada_prefs.body["home_airport"], "LHR");
    // Users cannot reach admin routes.
    for (method, path, body) in [
        (Method::GET, "/admin/users".to_string(), None),
        (
            Method::GET,
            format!("/admin/users/{}", me.body["id"].as_str().unwrap()),
            None,
        ),
        (
            Method::PATCH,
            format!("/admin/users/{}", me.body["id"].as_str().unwrap()),
            Some(json!({"role": "admin"})),
        ),
    ] {
        let r = app.call(method, &path, body, Some(&grace.access)).await;
        assert_eq!(r.problem(), (403, "forbidden"), "{path}");
    }
    // Without a token nothing personal answers.
    for path in [
        "/me",
        "/me/sessions",
        "/me/preferences",
        "/me/export",
        "/me/consents",
        "/admin/users",
    ] {
        let r = app.call(Method::GET, path, None, None).await;
        assert_eq!(r.problem(), (401, "unauthorized"), "{path}");
    }
    let forged = app
        .get("/me", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl")
        .await;
    assert_eq!(forged.problem(), (401, "unauthorized"));
}

async fn forgot_and_reset_password(app: &Instance) {
    app.given_account("ada@example.com", "Ada", PASSWORD).await;
    let before = app.sign_in("ada@example.com", PASSWORD).await;
    let known = app
        .post("/auth/forgot-password", json!({"email": "ada@example.com"}))
        .await;
    let unknown = app
        .post(
            "/auth/forgot-password",
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(
        (known.status, unknown.status),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    assert_eq!(known.body, unknown.body, "the same answer either way");
    let mail = app
        .smtp()
        .wait_for("ada@example.com", "Reset your Spontra password", 1)
        .await;
    assert!(mail
        .text
        .contains(&format!("{}/reset-password?token=", app.base)));
    assert_eq!(app.smtp().count("nobody@example.com", ""), 0);

    let reset = |token: String, password: &'static str| async move {
        app.post(
            "/auth/reset-password",
            json!({"token": token, "new_password": password}),
        )
        .await
    };
    // A weak password is refused without spending the token.
    let weak = reset(mail.token(), "password").await;
    assert_eq!(
        (weak.problem(), weak.field()),
        ((422, "weak_password"), "new_password")
    );
    assert_eq!(reset(mail.token(), "a fresh start 42").await.status, 204);
    let twice = reset(mail.token(), "another one 4242").await;
    assert_eq!(
        twice.problem(),
        (403, "invalid_link_token"),
        "a reset token works once"
    );
    assert_eq!(
        reset("not-a-token".into(), "another one 4242")
            .await
            .problem(),
        (403, "invalid_link_token")
    );
    assert_eq!(
        app.get("/me", &before.access).await.status,
        401,
        "sessions end on reset"
    );
    assert_eq!(app.login("ada@example.com", PASSWORD).await.status, 401);
    app.sign_in("ada@example.com", "a fresh start 42").await;
    app.smtp()
        .wait_for("ada@example.com", "password was changed", 1)
        .await;
}

async fn profile_password_preferences(app: &Instance) {
    app.given_account("ada@example.com", "Ada", "a fresh start 42")
        .await;
    let t = app.sign_in("ada@example.com", "a fresh start 42").await;
    let other = app.sign_in("ada@example.com", "a fresh start 42").await;
    let patch = app
        .call(
            Method::PATCH,
            "/me",
            Some(json!({"display_name": " Ada Lovelace "})),
            Some(&t.access),
        )
        .await;
    assert_eq!(patch.body["display_name"], "Ada Lovelace");
    let empty = app
        .call(
            Method::PATCH,
            "/me",
            Some(json!({"display_name": ""})),
            Some(&t.access),
        )
        .await;
    assert_eq!(
        (empty.problem(), empty.field()),
        ((422, "invalid_text"), "display_name")
    );

    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let wrong = app
        .call(
            Method::POST,
            "/me/password",
            Some(change("not it at all", "a third secret 7")),
            Some(&t.access),
        )
        .await;
    assert_eq!(
        (wrong.problem(), wrong.field()),
        ((403, "wrong_password"), "current_password")
    );
    let long = "x".repeat(129);
    let too_long = app
        .call(
            Method::POST,
            "/me/password",
            Some(change("a fresh start 42", &long)),
            Some(&t.access),
        )
        .await;
    assert_eq!(too_long.problem(), (422, "weak_password"));
    let ok = app
        .call(
            Method::POST,
            "/me/password",
            Some(change("a fresh start 42", "a third secret 7")),
            Some(&t.access),
        )
        .await;
    assert_eq!(ok.status, 204);
    assert_eq!(
        app.get("/me", &t.access).await.status,
        200,
        "this session stays"
    );
    assert_eq!(
        app.get("/me", &other.access).await.status,
        401,
        "others end"
    );
    app.smtp()
        .wait_for("ada@example.com", "password was changed", 1)
        .await;

    // Price-alert mail is on by default (an alert is itself the ask); deals and newsletters
    // start off.
    let defaults = app.get("/me/preferences", &t.access).await;
    assert_eq!(
        defaults.body["notifications"],
        json!({"price_alerts": true, "deals": false, "newsletter": false})
    );
    let prefs = json!({
        "home_airport": "LON",
        "currency": "EUR",
        "cabin": "business",
        "adults": 2,
        "children": 1,
        "infants": 0,
        "trip_hours": {"min": 2, "max": 4},
        "budget": 150,
        "notifications": {"price_alerts": true, "deals": false, "newsletter": false}
    });
    let put = app
        .call(
            Method::PUT,
            "/me/preferences",
            Some(prefs.clone()),
            Some(&t.access),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let got = app.get("/me/preferences", &t.access).await;
    assert_eq!(got.body["home_airport"], "LON");
    assert_eq!(got.body["trip_hours"]["max"].as_f64(), Some(4.0));
    for (patch, code, field) in [
        (
            json!({"home_airport": "QQQ"}),
            "unknown_airport",
            "home_airport",
        ),
        (json!({"currency": "EUX"}), "unknown_currency", "currency"),
        (json!({"currency": "eur"}), "unknown_currency", "currency"),
        (json!({"cabin": "bunk"}), "unknown_cabin", "cabin"),
        (
            json!({"trip_hours": {"min": 5, "max": 2}}),
            "invalid_range",
            "trip_hours",
        ),
        (json!({"home": "LHR"}), "malformed_json", "home"),
    ] {
        let mut body = prefs.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app
            .call(Method::PUT, "/me/preferences", Some(body), Some(&t.access))
            .await;
        let status = spontra_http::status(spontra_http::ErrorCode::named(code).unwrap()).as_u16();
        assert_eq!(
            (r.problem(), r.field()),
            ((status, code), field),
            "{}",
            r.body
        );
    }
}

async fn privacy_export_consents_delete(app: &Instance) {
    app.given_account("ada@example.com", "Ada Lovelace", "a third secret 7")
        .await;
    let t = app.sign_in("ada@example.com", "a third secret 7").await;
    let home = app
        .call(
            Method::PUT,
            "/me/preferences",
            Some(json!({"home_airport": "LON"})),
            Some(&t.access),
        )
        .await;
    assert_eq!(home.status, 200, "{}", home.body);
    let none = app.get("/me/consents", &t.access).await;
    assert_eq!(none.body["marketing"], Value::Null);
    let set = app
        .call(
            Method::PUT,
            "/me/consents",
            Some(json!({"marketing": true, "analytics": false})),
            Some(&t.access),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let set = app
        .call(
            Method::PUT,
            "/me/consents",
            Some(json!({"marketing": false})),
            Some(&t.access),
        )
        .await;
    assert_eq!(set.body["marketing"]["granted"], false);
    assert_eq!(set.body["analytics"]["granted"], false);
    assert_eq!(set.body["history"].as_array().unwrap().len(), 3);
    assert!(set.body["history"][0]["recorded_at"]
        .as_str()
        .unwrap()
        .starts_with("20"));
    let bad = app
        .call(
            Method::PUT,
            "/me/consents",
            Some(json!({"ads": true})),
            Some(&t.access),
        )
        .await;
    assert_eq!(bad.problem(), (400, "malformed_json"));
    let empty = app
        .call(
            Method::PUT,
            "/me/consents",
            Some(json!({})),
            Some(&t.access),
        )
        .await;
    // No decision changes nothing: the consents as they are.
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(
        empty.body["history"],
        app.get("/me/consents", &t.access).await.body["history"]
    );

    let export = app.get("/me/export", &t.access).await;
    assert_eq!(export.status, 200);
    assert!(export.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    assert_eq!(export.body["profile"]["email"], "ada@example.com");
    assert_eq!(export.body["profile"]["display_name"], "Ada Lovelace");
    assert_eq!(export.body["preferences"]["home_airport"], "LON");
    assert_eq!(export.body["consents"].as_array().unwrap().len(), 3);
    assert!(!export.body["sessions"].as_array().unwrap().is_empty());
    let text = export.body.to_string();
    assert!(!text.contains("argon2"), "no password hash in the export");

    // Deletion needs the password, then erases the account.
    let wrong = app
        .call(
            Method::DELETE,
            "/me",
            Some(json!({"password": "guess"})),
            Some(&t.access),
        )
        .await;
    assert_eq!(
        (wrong.problem(), wrong.field()),
        ((403, "wrong_password"), "password")
    );
    let gone = app
        .call(
            Method::DELETE,
            "/me",
            Some(json!({"password": "a third secret 7"})),
            Some(&t.access),
        )
        .await;
    assert_eq!(gone.status, 204);
    assert_eq!(app.get("/me", &t.access).await.status, 401);
    assert_eq!(
        app.login("ada@example.com", "a third secret 7")
            .await
            .problem(),
        (401, "invalid_credentials")
    );
    // The address is free again: a new account signs in with it.
    assert_eq!(
        app.register("ada@example.com", "Ada again").await.status,
        202
    );
    app.sign_in("ada@example.com", PASSWORD).await;
}

async fn administration(app: &Instance) {
    app.given_account("ada@example.com", "Ada", PASSWORD).await;
    app.given_account("grace@example.com", "Grace", PASSWORD)
        .await;
    // An account its owner deleted stays listed, anonymised.
    app.given_account("gone@example.com", "Gone", PASSWORD)
        .await;
    let gone = app.sign_in("gone@example.com", PASSWORD).await;
    let deleted = app
        .call(
            Method::DELETE,
            "/me",
            Some(json!({"password": PASSWORD})),
            Some(&gone.access),
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let (code, out) = app.create_user_cli("ops@example.com", "operations 2026!", true);
    assert_eq!(code, 0, "{out}");
    let (code, out) = app.create_user_cli("ops@example.com", "operations 2026!", true);
    assert_eq!(code, 2, "a duplicate is refused: {out}");
    // The API's words: the code and the field at fault.
    assert!(
        out.contains("(email_taken)") && out.contains("email: "),
        "{out}"
    );
    let (code, out) = app.create_user_cli("second@example.com", "short", true);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("password: ") && out.contains("[weak_password]"),
        "{out}"
    );

    let admin = app.sign_in("ops@example.com", "operations 2026!").await;
    // Administrators need two-factor authentication: none of the admin routes answer until
    // it is on; turning it on counts for this session.
    let refused = app.get("/admin/users", &admin.access).await;
    assert_eq!(refused.problem(), (403, "two_factor_required"));
    app.enrol_two_factor(&admin, "operations 2026!").await;
    let me = app.get("/me", &admin.access).await;
    assert_eq!(
        (
            me.body["role"].as_str(),
            me.body["email_verified"].as_bool()
        ),
        (Some("admin"), Some(true))
    );

    let list = app.get("/admin/users?q=GRACE", &admin.access).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let users = list.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 1, "{users:?}");
    let grace_id = users[0]["id"].as_str().unwrap().to_string();
    let all = app.get("/admin/users?limit=2", &admin.access).await;
    assert_eq!(all.body["users"].as_array().unwrap().len(), 2);
    assert_eq!(all.body["next_offset"], 2);
    let rest = app
        .get("/admin/users?limit=2&offset=2", &admin.access)
        .await;
    assert!(!rest.body["users"].as_array().unwrap().is_empty());
    let deleted = app.get("/admin/users?limit=100", &admin.access).await;
    assert!(
        deleted.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["deleted"] == true && u["email"] == ""),
        "the deleted account remains, anonymised"
    );

    let grace = app.sign_in("grace@example.com", PASSWORD).await;
    let path = format!("/admin/users/{grace_id}");
    let disable = app
        .call(
            Method::PATCH,
            &path,
            Some(json!({"disabled": true})),
            Some(&admin.access),
        )
        .await;
    assert_eq!(
        (disable.status.as_u16(), disable.body["disabled"].as_bool()),
        (200, Some(true))
    );
    assert_ne!(
        app.get("/me", &grace.access).await.status,
        200,
        "disabling ends sessions at once"
    );
    assert_eq!(
        app.login("grace@example.com", PASSWORD).await.problem(),
        (403, "account_disabled")
    );
    let refresh = app
        .post("/auth/refresh", json!({"refresh_token": grace.refresh}))
        .await;
    assert!(
        refresh.status == 401 || refresh.status == 403,
        "{}",
        refresh.body
    );
    app.call(
        Method::PATCH,
        &path,
        Some(json!({"disabled": false})),
        Some(&admin.access),
    )
    .await;
    let grace = app.sign_in("grace@example.com", PASSWORD).await;
    let promote = app
        .call(
            Method::PATCH,
            &path,
            Some(json!({"role": "admin"})),
            Some(&admin.access),
        )
        .await;
    assert_eq!(promote.body["role"], "admin");
    assert_eq!(
        app.get("/admin/users", &grace.access).await.problem(),
        (403, "two_factor_required"),
        "the role applies to live tokens (and an admin needs the second factor)"
    );
    let one = app.get(&path, &admin.access).await;
    assert_eq!(one.body["email"], "grace@example.com");
    // A PATCH of no fields changes nothing and answers the account as it is.
    let same = app
        .call(Method::PATCH, &path, Some(json!({})), Some(&admin.access))
        .await;
    assert_eq!((same.status.as_u16(), &same.body), (200, &one.body));

    let own = format!("/admin/users/{}", me.body["id"].as_str().unwrap());
    for body in [json!({"disabled": true}), json!({"role": "user"})] {
        let r = app
            .call(Method::PATCH, &own, Some(body), Some(&admin.access))
            .await;
        assert_eq!(
            r.problem(),
            (403, "forbidden"),
            "an admin cannot lock themselves out"
        );
    }
    for (path, body, expected, field) in [
        (
            path.clone(),
            json!({"role": "root"}),
            (400, "invalid_field"),
            "role",
        ),
        (
            "/admin/users/not-a-uuid".to_string(),
            json!({"disabled": true}),
            (404, "not_found"),
            "id",
        ),
        (
            format!("/admin/users/{}", uuid::Uuid::new_v4()),
            json!({"disabled": true}),
            (404, "not_found"),
            "id",
        ),
    ] {
        let r = app
            .call(Method::PATCH, &path, Some(body), Some(&admin.access))
            .await;
        assert_eq!(
            (r.problem(), r.field()),
            (expected, field),
            "{path}: {}",
            r.body
        );
    }
    for (query, code, field) in [
        ("limit=0", "invalid_limit", "limit"),
        ("limit=many", "malformed_query", "limit"),
        ("sort=name", "malformed_query", "sort"),
    ] {
        let r = app
            .get(&format!("/admin/users?{query}"), &admin.access)
            .await;
        assert_eq!(
            (r.problem(), r.field()),
            ((400, code), field),
            "{query}: {}",
            r.body
        );
    }
}

async fn bad_requests(app: &Instance) {
    let huge =
        json!({"email": "big@example.com", "password": "x".repeat(100_000), "display_name": "Big"});
    let r = app.post("/auth/register", huge).await;
    assert_eq!(r.problem(), (413, "payload_too_large"));
    let res = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("content-type", "text/plain")
        .body("email=a&password=b")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    for (path, body, expected, field) in [
        (
            "/auth/register",
            json!({"email": "nope", "password": PASSWORD, "display_name": "N"}),
            (422, "invalid_email"),
            "email",
        ),
        (
            "/auth/register",
            json!({"email": "n@example.com", "password": "password1", "display_name": "N"}),
            (422, "weak_password"),
            "password",
        ),
        (
            "/auth/register",
            json!({"email": "n@example.com", "password": PASSWORD}),
            (400, "malformed_json"),
            "",
        ),
        (
            "/auth/forgot-password",
            json!({"email": "not an email"}),
            (422, "invalid_email"),
            "email",
        ),
        (
            "/auth/verify-email",
            json!({"token": ""}),
            (403, "invalid_link_token"),
            "token",
        ),
        (
            "/auth/refresh",
            json!({"refresh_token": "made-up"}),
            (401, "invalid_token"),
            "",
        ),
        (
            "/auth/login",
            json!({"email": "n@example.com", "password": PASSWORD, "extra": 1}),
            (400, "malformed_json"),
            "",
        ),
    ] {
        let r = app.post(path, body).await;
        assert_eq!(r.problem(), expected, "{path}: {}", r.body);
        if !field.is_empty() {
            assert_eq!(r.field(), field, "{path}: {}", r.body);
        }
    }
}

async fn login_throttling(app: &Instance) {
    app.register("tess@example.com", "Tess").await;
    for _ in 0..6 {
        assert_eq!(
            app.login("tess@example.com", "wrong guess!")
                .await
                .problem(),
            (401, "invalid_credentials")
        );
    }
    // Locked now: even the right password waits, and the reply says how long.
    let locked = app.login("TESS@example.com", PASSWORD).await;
    assert_eq!(locked.problem(), (429, "too_many_attempts"));
    let wait: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // An unknown email is throttled in the same way (nothing to learn from a 429).
    for _ in 0..6 {
        app.login("nobody-here@example.com", "wrong guess!").await;
    }
    assert_eq!(
        app.login("nobody-here@example.com", "x").await.problem(),
        (429, "too_many_attempts")
    );
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    assert_eq!(app.login("tess@example.com", PASSWORD).await.status, 200);
}

/// Sessions end by the service's clock: after 7 days without a refresh, and 30 days after
/// sign-in however often refreshed (the clock is stepped, not waited for).
async fn sessions_end_by_the_clock(backend: Backend) {
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let clock = std::sync::Arc::new(spontra_domain::FixedClock::new(start));
    let Some(app) = Instance::start_on_clock(backend, clock.clone(), |_| {}).await else {
        return;
    };
    app.given_account("ada@example.com", "Ada", PASSWORD).await;
    let refresh = |token: String| {
        let app = &app;
        async move {
            app.post("/auth/refresh", json!({"refresh_token": token}))
                .await
        }
    };
    // Idle: a week and a minute without a refresh ends the session.
    let idle = app.sign_in("ada@example.com", PASSWORD).await;
    clock.advance(chrono::Duration::days(7) + chrono::Duration::minutes(1));
    assert_eq!(
        refresh(idle.refresh).await.problem(),
        (401, "invalid_token")
    );

    // Absolute: refreshed every 6 days, the session still ends 30 days after sign-in.
    let mut token = app.sign_in("ada@example.com", PASSWORD).await.refresh;
    for _ in 0..4 {
        clock.advance(chrono::Duration::days(6));
        let r = refresh(token).await;
        assert_eq!(r.status, 200, "{}", r.body);
        token = r.body["refresh_token"].as_str().unwrap().to_string();
    }
    clock.advance(chrono::Duration::days(6) + chrono::Duration::minutes(1));
    assert_eq!(refresh(token).await.problem(), (401, "invalid_token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_by_the_clock_on_sqlite() {
    sessions_end_by_the_clock(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_by_the_clock_on_postgres() {
    sessions_end_by_the_clock(Backend::Postgres).await;
}
