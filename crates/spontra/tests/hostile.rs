#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The accounts API and the HTTP edge under attack and under a crowd, against a running
//! instance: each scenario reproduces a failure observed on an earlier build (issue #8) and
//! checks it now holds. Scenarios that touch the store run on SQLite and on PostgreSQL (one
//! test per scenario and backend); the others on the embedded profile.

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use spontra::config::Settings;
use spontra_store::conformance::burst;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::{raw, tokens, totp_at, Backend, Instance, Tokens, PASSWORD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One test per scenario and backend, so one failure does not hide the others.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario(super::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario(super::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    concurrent_refreshes_never_fail,
    a_burst_of_guesses_gets_no_more_checks_than_the_free_failures,
    password_checks_behind_a_token_are_throttled,
    a_hashing_burst_is_shed_with_503_not_500,
    a_crowd_of_registrations_and_logins_all_succeed,
    control_characters_are_field_errors,
    mail_cannot_be_used_to_spam,
    two_factor_sign_in,
    refresh_cookie_with_csrf_protection,
    sessions_are_capped,
);

/// Lift the per-address limits, for scenarios that create many accounts from loopback.
fn roomy(s: &mut Settings) {
    s.accounts.registrations_per_hour_per_address = 10_000;
    s.accounts.mail_requests_per_hour_per_address = 10_000;
}

/// Each simulated client comes from its own address (behind a trusted proxy).
fn crowd(s: &mut Settings) {
    s.server.trust_forwarded_for = true;
}

fn client_address(i: usize) -> String {
    format!("198.51.{}.{}", i / 250, i % 250 + 1)
}

async fn register_many(app: &Instance, prefix: &str, n: usize) -> Vec<String> {
    let mut emails = vec![];
    for i in 0..n {
        let email = format!("{prefix}{i}@example.com");
        let r = app.register(&email, "Crowd").await;
        assert_eq!(r.status, 202, "{}", r.body);
        emails.push(email);
    }
    emails
}

/// Twenty sessions refreshing at the same instant, eight rounds: every refresh succeeds (on
/// SQLite most failed with `500 database is locked`, signing people out).
async fn concurrent_refreshes_never_fail(backend: Backend) {
    let Some(app) = Instance::start_with(backend, roomy).await else {
        return;
    };
    let emails = register_many(&app, "refresher", 20).await;
    let mut refresh = vec![];
    for e in &emails {
        refresh.push(app.sign_in(e, PASSWORD).await.refresh);
    }
    for round in 0..8 {
        let requests = refresh
            .iter()
            .map(|t| {
                raw::post_json(
                    "/api/v1/auth/refresh",
                    &json!({"refresh_token": t}).to_string(),
                    &[],
                )
            })
            .collect();
        let answers = raw::burst(app.addr, requests).await;
        for (i, (status, body)) in answers.iter().enumerate() {
            assert_eq!(*status, 200, "round {round}, session {i}: {body}");
            let v: Value = serde_json::from_str(body).unwrap();
            refresh[i] = v["refresh_token"].as_str().unwrap().to_string();
        }
    }
}

/// A hundred guesses for one account released at one instant: no more are checked than the
/// free failures; a second burst gets one more check, then the account is locked.
async fn a_burst_of_guesses_gets_no_more_checks_than_the_free_failures(backend: Backend) {
    let Some(app) = Instance::start(backend).await else {
        return;
    };
    assert_eq!(
        app.register("victim@example.com", "Victim").await.status,
        202
    );
    let guesses = |n: usize| {
        (0..n)
            .map(|i| {
                let body = json!({"email": "victim@example.com", "password": format!("guess number {i:04}")});
                raw::post_json("/api/v1/auth/login", &body.to_string(), &[])
            })
            .collect::<Vec<_>>()
    };
    let first = raw::burst(app.addr, guesses(100)).await;
    let checked = first.iter().filter(|(s, _)| *s == 401).count();
    let refused = first.iter().filter(|(s, _)| *s == 429).count();
    assert!(checked <= 5, "{checked} guesses were checked");
    assert_eq!(checked + refused, 100, "{first:?}");
    let second = raw::burst(app.addr, guesses(100)).await;
    let checked_again = second.iter().filter(|(s, _)| *s == 401).count();
    assert!(checked_again <= 1, "{checked_again} more were checked");
    // The right password right after the bursts waits too: the account is locked.
    let right = app.login("victim@example.com", PASSWORD).await;
    assert_eq!(right.problem(), (429, "too_many_attempts"));
    assert!(right.header("retry-after").parse::<u64>().unwrap() >= 1);
}

/// Wrong current passwords behind a stolen access token: after the free failures the session
/// ends, on `POST /me/password` and on `DELETE /me` (before, all 50 were checked).
async fn password_checks_behind_a_token_are_throttled(backend: Backend) {
    let Some(app) = Instance::start(backend).await else {
        return;
    };
    for (email, method, path, field) in [
        (
            "pw@example.com",
            Method::POST,
            "/me/password",
            "current_password",
        ),
        ("del@example.com", Method::DELETE, "/me", "password"),
    ] {
        app.register(email, "Target").await;
        let stolen = app.sign_in(email, PASSWORD).await;
        let other = app.sign_in(email, PASSWORD).await;
        let mut wrong = 0;
        for i in 0..50 {
            let body = json!({field: format!("not the password {i}"), "new_password": "a brand new secret"});
            let body = if field == "password" {
                json!({"password": format!("not the password {i}")})
            } else {
                body
            };
            let r = app
                .call(method.clone(), path, Some(body), Some(&stolen.access))
                .await;
            match r.problem() {
                (403, "wrong_password") => wrong += 1,
                (401, _) | (429, _) => {}
                other => panic!("{path}: unexpected {other:?}: {}", r.body),
            }
        }
        assert!(wrong <= 5, "{path}: {wrong} wrong passwords were checked");
        assert_eq!(
            app.get("/me", &stolen.access).await.status,
            401,
            "{path}: the guessing session has ended"
        );
        assert_eq!(
            app.get("/me", &other.access).await.status,
            200,
            "{path}: other sessions live on"
        );
    }
}

/// More password hashing than the pool holds: the excess is answered 503 with `Retry-After`,
/// never 500, and `/healthz` keeps answering meanwhile (before, hashing blocked the async
/// workers and PostgreSQL answered `500 pool timed out`).
async fn a_hashing_burst_is_shed_with_503_not_500(backend: Backend) {
    let Some(app) = Instance::start_with(backend, |s| {
        roomy(s);
        crowd(s);
        s.accounts.hash_workers = 1;
        s.accounts.hash_queue = 2;
        s.accounts.hash_queue_timeout_secs = 1;
    })
    .await
    else {
        return;
    };
    let emails = register_many(&app, "shed", 24).await;
    let app = Arc::new(app);
    let health = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut answered = 0;
            for _ in 0..20 {
                let r = app
                    .http
                    .get(format!("{}/healthz", app.base))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                answered += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            answered
        })
    };
    let answers = burst(emails.len(), |i| {
        let (app, email) = (app.clone(), emails[i].clone());
        async move {
            let req = app
                .request(Method::POST, "/auth/login")
                .header("x-forwarded-for", client_address(i))
                .json(&json!({"email": email, "password": PASSWORD}));
            app.send(req, "/auth/login").await.problem().0
        }
    })
    .await;
    assert!(
        answers.iter().all(|s| *s == 200 || *s == 503),
        "{answers:?}"
    );
    assert!(
        answers.contains(&503),
        "the burst overflowed the queue: {answers:?}"
    );
    assert!(answers.contains(&200), "{answers:?}");
    assert_eq!(health.await.unwrap(), 20);
}

/// Many people registering and signing in at once with the default pool: everyone gets in.
async fn a_crowd_of_registrations_and_logins_all_succeed(backend: Backend) {
    let Some(app) = Instance::start_with(backend, crowd).await else {
        return;
    };
    let app = Arc::new(app);
    let existing = burst(40, |i| {
        let app = app.clone();
        async move {
            let req = app
                .request(Method::POST, "/auth/register")
                .header("x-forwarded-for", client_address(1000 + i))
                .json(&json!({"email": format!("early{i}@example.com"), "password": PASSWORD, "display_name": "Early"}));
            app.send(req, "/auth/register").await.status.as_u16()
        }
    })
    .await;
    assert!(existing.iter().all(|s| *s == 202), "{existing:?}");
    let answers = burst(80, |i| {
        let app = app.clone();
        async move {
            let req = if i % 2 == 0 {
                app.request(Method::POST, "/auth/register").json(&json!({
                    "email": format!("late{i}@example.com"), "password": PASSWORD, "display_name": "Late"}))
            } else {
                app.request(Method::POST, "/auth/login")
                    .json(&json!({"email": format!("early{}@example.com", i / 2), "password": PASSWORD}))
            };
            let req = req.header("x-forwarded-for", client_address(i));
            app.send(req, "crowd").await.status.as_u16()
        }
    })
    .await;
    for (i, s) in answers.iter().enumerate() {
        assert_eq!(
            *s,
            if i % 2 == 0 { 202 } else { 200 },
            "client {i}: {answers:?}"
        );
    }
}

/// NUL and other control characters in free text are refused with a field error (a NUL in a
/// display name was a 500 on PostgreSQL).
async fn control_characters_are_field_errors(backend: Backend) {
    let Some(app) = Instance::start(backend).await else {
        return;
    };
    for name in [
        "Ada\u{0}",
        "Ada\nOpen https://evil.example to keep your account",
        "\u{202E}adA",
        "tab\tname",
    ] {
        let r = app
            .post(
                "/auth/register",
                json!({"email": "ctl@example.com", "password": PASSWORD, "display_name": name}),
            )
            .await;
        assert_eq!(
            (r.problem(), r.field()),
            ((422, "invalid_text"), "display_name"),
            "{name:?}"
        );
    }
    app.register("ctl@example.com", "Ctl").await;
    let t = app.sign_in("ctl@example.com", PASSWORD).await;
    let r = app
        .call(
            Method::PATCH,
            "/me",
            Some(json!({"display_name": "nul\u{0}"})),
            Some(&t.access),
        )
        .await;
    assert_eq!(
        (r.problem(), r.field()),
        ((422, "invalid_text"), "display_name")
    );
    // The admin search too.
    let (code, out) = app.create_user_cli("root@example.com", "operations 2026!", true);
    assert_eq!(code, 0, "{out}");
    let admin = app.sign_in("root@example.com", "operations 2026!").await;
    app.enrol_two_factor(&admin, "operations 2026!").await;
    let r = app.get("/admin/users?q=a%00b", &admin.access).await;
    assert_eq!((r.problem(), r.field()), ((422, "invalid_text"), "q"));
    assert_eq!(
        app.get("/admin/users?q=ctl", &admin.access).await.status,
        200
    );
}

/// Registration and mail-sending routes are limited per client address and per recipient:
/// a register → delete → register loop sent unlimited mail to one address, with whatever the
/// registrant typed as a name in it.
async fn mail_cannot_be_used_to_spam(backend: Backend) {
    let Some(app) = Instance::start_with(backend, |s| {
        s.accounts.registrations_per_hour_per_address = 8;
    })
    .await
    else {
        return;
    };
    for round in 0..5 {
        let r = app
            .register("spammed@example.com", "Eve the registrant")
            .await;
        assert_eq!(r.status, 202, "round {round}: {}", r.body);
        let t = app.sign_in("spammed@example.com", PASSWORD).await;
        let gone = app
            .call(
                Method::DELETE,
                "/me",
                Some(json!({"password": PASSWORD})),
                Some(&t.access),
            )
            .await;
        assert_eq!(gone.status, 204);
    }
    let mails = app
        .smtp()
        .wait_for("spammed@example.com", "Confirm your email", 3)
        .await;
    assert!(
        !mails.text.contains("Eve"),
        "no registrant text in mail: {}",
        mails.text
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.smtp()
            .count("spammed@example.com", "Confirm your email"),
        3,
        "at most 3 verification mails an hour to one address"
    );
    for i in 5..8 {
        assert_eq!(
            app.register(&format!("other{i}@example.com"), "Other")
                .await
                .status,
            202
        );
    }
    let ninth = app.register("ninth@example.com", "Ninth").await;
    assert_eq!(
        ninth.problem(),
        (429, "too_many_attempts"),
        "registrations per address"
    );
    assert!(!ninth.header("retry-after").is_empty());
}

/// Two-factor sign-in: the password step answers 202 with a challenge; the code is checked
/// once (a replayed code fails); a recovery code works once; turning it off needs both.
async fn two_factor_sign_in(backend: Backend) {
    let Some(app) = Instance::start(backend).await else {
        return;
    };
    app.register("mfa@example.com", "Mfa").await;
    let t = app.sign_in("mfa@example.com", PASSWORD).await;
    // A signed-in mistake is a field error, not a 401 (which clients take for an expired token).
    app.call(
        Method::POST,
        "/me/2fa/setup",
        Some(json!({"password": PASSWORD})),
        Some(&t.access),
    )
    .await;
    let wrong = app
        .call(
            Method::POST,
            "/me/2fa/enable",
            Some(json!({"code": "000000"})),
            Some(&t.access),
        )
        .await;
    assert_eq!(
        (wrong.problem(), wrong.field()),
        ((403, "wrong_code"), "code")
    );
    let enrolled = app.enrol_two_factor(&t, PASSWORD).await;
    let (secret, codes) = (enrolled.secret.clone(), enrolled.recovery_codes.clone());
    let step = |n: i64| totp_at(&secret, enrolled.enrolled_at + 30 * n);
    assert_eq!(codes.len(), 10);
    let status = app.get("/me/2fa", &t.access).await;
    assert_eq!(
        (
            status.body["enabled"].as_bool(),
            status.body["recovery_codes_left"].as_u64()
        ),
        (Some(true), Some(10))
    );

    let step_one = app.login("mfa@example.com", PASSWORD).await;
    assert_eq!(step_one.status, 202, "{}", step_one.body);
    assert!(step_one.body.get("access_token").is_none());
    let challenge = step_one.body["challenge"].as_str().unwrap().to_string();
    let second = |code: String| second_step(&app, challenge.clone(), code);
    assert_eq!(
        second("000000".into()).await.problem(),
        (401, "invalid_code")
    );
    // The enrolment's code is not accepted again.
    assert_eq!(second(step(0)).await.problem(), (401, "invalid_code"));
    let next = second(step(1)).await;
    assert_eq!(next.status, 200, "{}", next.body);
    let signed = tokens(&next);
    assert_eq!(app.get("/me", &signed.access).await.status, 200);
    // A challenge signs in once (issue #25: it could be used again with the next code), and
    // trying one that was used costs no recovery code.
    assert_eq!(
        second(codes[3].clone()).await.problem(),
        (401, "invalid_token"),
        "a used challenge"
    );
    let again = app.login("mfa@example.com", PASSWORD).await;
    let challenge = again.body["challenge"].as_str().unwrap().to_string();
    let second = |code: String| second_step(&app, challenge.clone(), code);
    // A code signs in once, even with a new challenge.
    assert_eq!(
        second(step(1)).await.problem(),
        (401, "invalid_code"),
        "replayed"
    );
    let recovered = second(codes[3].to_uppercase()).await;
    assert_eq!(recovered.status, 200, "{}", recovered.body);
    let again = app.login("mfa@example.com", PASSWORD).await;
    let challenge = again.body["challenge"].as_str().unwrap().to_string();
    assert_eq!(
        app.post(
            "/auth/login/2fa",
            json!({"challenge": challenge, "code": codes[3].clone()})
        )
        .await
        .problem(),
        (401, "invalid_code"),
        "spent"
    );
    // Signing out everywhere voids a sign-in waiting for its second step.
    let pending = app.login("mfa@example.com", PASSWORD).await;
    let pending = pending.body["challenge"].as_str().unwrap().to_string();
    let out = app
        .call(Method::POST, "/auth/logout-all", None, Some(&signed.access))
        .await;
    assert_eq!(out.status, 204, "{}", out.body);
    assert_eq!(
        app.post(
            "/auth/login/2fa",
            json!({"challenge": pending, "code": codes[5].clone()})
        )
        .await
        .problem(),
        (401, "invalid_token"),
        "void after signing out everywhere"
    );
    let fresh = app.login("mfa@example.com", PASSWORD).await;
    let fresh = fresh.body["challenge"].as_str().unwrap().to_string();
    let signed = tokens(
        &app.post(
            "/auth/login/2fa",
            json!({"challenge": fresh, "code": codes[6].clone()}),
        )
        .await,
    );
    // An access token is not a challenge, and a forged challenge is refused.
    let forged = app
        .post(
            "/auth/login/2fa",
            json!({"challenge": signed.access, "code": step(1)}),
        )
        .await;
    assert_eq!(forged.problem(), (401, "invalid_token"));

    // Deleting the account asks for the second factor too (issue #25).
    let delete = |body: Value| {
        let app = &app;
        let access = signed.access.clone();
        async move {
            app.call(Method::DELETE, "/me", Some(body), Some(&access))
                .await
        }
    };
    let no_code = delete(json!({"password": PASSWORD})).await;
    assert_eq!(
        (no_code.problem(), no_code.field()),
        ((400, "missing_field"), "code")
    );
    let wrong = delete(json!({"password": PASSWORD, "code": "000000"})).await;
    assert_eq!(wrong.field(), "code", "{}", wrong.body);
    assert_eq!(wrong.code(), "wrong_code");
    assert_eq!(
        app.get("/me", &signed.access).await.status,
        200,
        "still there"
    );
    let off = app
        .call(
            Method::POST,
            "/me/2fa/disable",
            Some(json!({"password": PASSWORD, "code": codes[4]})),
            Some(&signed.access),
        )
        .await;
    assert_eq!(off.status, 204, "{}", off.body);
    assert_eq!(app.login("mfa@example.com", PASSWORD).await.status, 200);
    // The owner hears of both changes.
    app.smtp()
        .wait_for("mfa@example.com", "was turned on", 1)
        .await;
    app.smtp()
        .wait_for("mfa@example.com", "was turned off", 1)
        .await;
}

/// The second step of a sign-in: `challenge` and `code`.
async fn second_step(app: &Instance, challenge: String, code: String) -> support::Reply {
    app.post(
        "/auth/login/2fa",
        json!({"challenge": challenge, "code": code}),
    )
    .await
}

fn set_cookies(r: &support::Reply) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn cookie_value(set: &[String], name: &str) -> String {
    set.iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string()
}

/// Browsers keep the refresh token in an HttpOnly cookie; a cookie refresh needs the CSRF
/// header and our origin, and a replayed cookie ends the session.
async fn refresh_cookie_with_csrf_protection(backend: Backend) {
    let Some(app) = Instance::start(backend).await else {
        return;
    };
    app.register("cookie@example.com", "Cookie").await;
    let login = app
        .post(
            "/auth/login",
            json!({"email": "cookie@example.com", "password": PASSWORD, "session_cookie": true}),
        )
        .await;
    assert_eq!(login.status, 200);
    assert!(
        login.body.get("refresh_token").is_none(),
        "not readable by script"
    );
    let set = set_cookies(&login);
    let refresh_cookie = set
        .iter()
        .find(|c| c.starts_with("spontra_refresh="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/api/v1/auth"] {
        assert!(refresh_cookie.contains(attr), "{attr}: {refresh_cookie}");
    }
    let (refresh, csrf) = (
        cookie_value(&set, "spontra_refresh"),
        cookie_value(&set, "spontra_csrf"),
    );
    let cookie_refresh = |refresh: String, header: Option<String>, origin: Option<&'static str>| {
        let mut req = app
            .request(Method::POST, "/auth/refresh")
            .header(
                "cookie",
                format!("spontra_refresh={refresh}; spontra_csrf={csrf}"),
            )
            .json(&json!({}));
        if let Some(h) = header {
            req = req.header("x-csrf-token", h);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        app.send(req, "/auth/refresh")
    };
    assert_eq!(
        cookie_refresh(refresh.clone(), None, None).await.problem(),
        (403, "csrf_failed")
    );
    assert_eq!(
        cookie_refresh(refresh.clone(), Some("forged".into()), None)
            .await
            .problem(),
        (403, "csrf_failed")
    );
    assert_eq!(
        cookie_refresh(
            refresh.clone(),
            Some(csrf.clone()),
            Some("https://evil.example")
        )
        .await
        .problem(),
        (403, "csrf_failed")
    );
    let ok = cookie_refresh(refresh.clone(), Some(csrf.clone()), None).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let rotated = cookie_value(&set_cookies(&ok), "spontra_refresh");
    assert_ne!(rotated, refresh);
    assert_eq!(
        cookie_refresh(refresh, Some(csrf.clone()), None)
            .await
            .problem(),
        (401, "token_reused"),
        "a replayed cookie ends the session"
    );
    assert_eq!(
        cookie_refresh(rotated, Some(csrf.clone()), None)
            .await
            .problem(),
        (401, "invalid_token")
    );
    // Logout clears the cookies.
    let t = tokens(&app.login("cookie@example.com", PASSWORD).await);
    let out = app
        .call(Method::POST, "/auth/logout", None, Some(&t.access))
        .await;
    assert!(
        set_cookies(&out).iter().all(|c| c.contains("Max-Age=0")),
        "{:?}",
        set_cookies(&out)
    );
}

/// At most `max_sessions` live sessions per account: signing in again ends the oldest.
async fn sessions_are_capped(backend: Backend) {
    let Some(app) = Instance::start_with(backend, |s| s.accounts.max_sessions = 3).await else {
        return;
    };
    app.register("many@example.com", "Many").await;
    let mut all: Vec<Tokens> = vec![];
    for _ in 0..5 {
        all.push(app.sign_in("many@example.com", PASSWORD).await);
    }
    let live = app.get("/me/sessions", &all[4].access).await;
    assert_eq!(live.body.as_array().unwrap().len(), 3);
    assert_eq!(
        app.get("/me", &all[0].access).await.status,
        401,
        "the oldest ended"
    );
    assert_eq!(app.get("/me", &all[2].access).await.status, 200);
}

/// Behind a proxy, the client is the right-most address over every `X-Forwarded-For` line
/// (a proxy that appends its own line no longer lets clients choose their address).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_reads_every_line() {
    let app = Instance::start_with(Backend::Sqlite, |s| {
        roomy(s);
        crowd(s);
    })
    .await
    .unwrap();
    app.register("proxied@example.com", "Proxied").await;
    let login = |lines: Vec<&'static str>, password: &'static str| {
        let mut req = app
            .request(Method::POST, "/auth/login")
            .json(&json!({"email": "proxied@example.com", "password": password}));
        for l in lines {
            req = req.header("x-forwarded-for", l);
        }
        app.send(req, "/auth/login")
    };
    let behind_proxy = tokens(&login(vec!["6.6.6.6", "203.0.113.9"], PASSWORD).await);
    assert_eq!(current_session_ip(&app, &behind_proxy).await, "203.0.113.9");
    let garbage = tokens(&login(vec!["1.2.3.4", "not-an-address"], PASSWORD).await);
    assert_eq!(
        current_session_ip(&app, &garbage).await,
        "127.0.0.1",
        "garbage falls back to the connection"
    );
    // An address guessing many accounts is slowed, whatever its clients put first.
    for i in 0..21 {
        let mut req = app.request(Method::POST, "/auth/login").json(
            &json!({"email": format!("nobody{i}@example.com"), "password": "wrong wrong wrong"}),
        );
        req = req
            .header("x-forwarded-for", format!("10.9.{i}.1"))
            .header("x-forwarded-for", "203.0.113.77");
        app.send(req, "/auth/login").await;
    }
    let req = app
        .request(Method::POST, "/auth/login")
        .json(&json!({"email": "fresh@example.com", "password": "wrong wrong wrong"}))
        .header("x-forwarded-for", "10.10.10.10")
        .header("x-forwarded-for", "203.0.113.77");
    assert_eq!(
        app.send(req, "/auth/login").await.problem(),
        (429, "too_many_attempts")
    );
}

/// The client address recorded for the session of `t`.
async fn current_session_ip(app: &Instance, t: &Tokens) -> String {
    let sessions = app.get("/me/sessions", &t.access).await.body;
    let current = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .cloned()
        .unwrap();
    current["ip"].as_str().unwrap().to_string()
}

async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// Slow headers, slow bodies and idle connections are cut off; beyond the connection cap new
/// clients wait and are then served (before, all stayed connected after 100 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    let app = Instance::start_with(Backend::Sqlite, |s| {
        s.server.header_read_timeout_secs = 1;
        s.server.body_timeout_secs = 1;
        s.server.request_timeout_secs = 5;
        s.server.max_connections = 16;
    })
    .await
    .unwrap();
    // A header line every 300 ms.
    let mut slow_headers = TcpStream::connect(app.addr).await.unwrap();
    slow_headers
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut cut = false;
    for i in 0..20 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if slow_headers
            .write_all(format!("X-Drip-{i}: x\r\n").as_bytes())
            .await
            .is_err()
        {
            cut = true;
            break;
        }
        if closed_within(&mut slow_headers, Duration::from_millis(1)).await {
            cut = true;
            break;
        }
    }
    assert!(
        cut && started.elapsed() < Duration::from_secs(4),
        "slow headers were not cut off"
    );

    // A body that stalls: 408 problem+json when the body deadline passes, connection closed.
    let mut stalled = TcpStream::connect(app.addr).await.unwrap();
    stalled
        .write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"email\":")
        .await
        .unwrap();
    let mut response = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(4), stalled.read_to_end(&mut response)).await;
    assert!(read.is_ok(), "a stalled body holds the connection");
    let (status, body) = raw::parse(&response);
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("request_timeout"), "{body}");

    // A body dribbled a byte every 300 ms: the deadline counts from the request's start, not
    // from the last byte, so it is cut off too.
    let (mut rd, mut wr) = TcpStream::connect(app.addr).await.unwrap().into_split();
    wr.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 600\r\n\r\n{")
        .await
        .unwrap();
    let drip = tokio::spawn(async move {
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if wr.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut sink = Vec::new();
    let cut = tokio::time::timeout(Duration::from_secs(4), rd.read_to_end(&mut sink)).await;
    assert!(cut.is_ok(), "a dribbled body holds the connection");
    if !sink.is_empty() {
        assert_eq!(raw::parse(&sink).0, 408);
    }
    drip.abort();

    // Forty idle connections, more than the cap: they are closed after the header timeout,
    // and a real client queued behind them is served.
    let mut idle = vec![];
    for _ in 0..40 {
        idle.push(TcpStream::connect(app.addr).await.unwrap());
    }
    let served = app
        .http
        .get(format!("{}/healthz", app.base))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    for (i, c) in idle.iter_mut().enumerate() {
        assert!(
            closed_within(c, Duration::from_secs(5)).await,
            "idle connection {i} still open"
        );
    }
}

/// The embedded profile keeps its data private: directories 0700, the database, its WAL and
/// the outbox's mails (live reset links) 0600.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_data_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = Instance::start_with(Backend::Sqlite, |s| s.mail.smtp_url = None)
        .await
        .unwrap();
    app.register("private@example.com", "Private").await;
    app.post(
        "/auth/forgot-password",
        json!({"email": "private@example.com"}),
    )
    .await;
    let outbox = app.data_dir.join("outbox");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut mails = vec![];
    while mails.len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        mails = std::fs::read_dir(&outbox)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
    }
    assert_eq!(mails.len(), 2, "verification and reset mails in the outbox");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&app.data_dir), 0o700);
    assert_eq!(mode(&outbox), 0o700);
    for m in &mails {
        assert_eq!(mode(m), 0o600, "{}", m.display());
    }
    for file in ["spontra.db", "spontra.db-wal", "spontra.db-shm", "jwt-keys"] {
        let path = app.data_dir.join(file);
        if file != "spontra.db-shm" || path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        }
    }
}

/// Bodies are JSON only when their media type says so; `text/plain; charset=+json` and
/// `application/jsonfoo` (which need no CORS preflight) are 415.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_json_media_types_are_accepted() {
    let app = Instance::start(Backend::Sqlite).await.unwrap();
    let body =
        json!({"email": "mt@example.com", "password": PASSWORD, "display_name": "Mt"}).to_string();
    for (path, media, expected) in [
        ("/auth/register", "text/plain; charset=+json", 415),
        ("/auth/register", "application/jsonfoo", 415),
        ("/auth/login", "text/plain;charset=+json", 415),
        (
            "/auth/forgot-password",
            "application/x-www-form-urlencoded; +json",
            415,
        ),
        ("/auth/register", "application/json; charset=utf-8", 202),
    ] {
        let req = app
            .request(Method::POST, path)
            .header("content-type", media)
            .body(body.clone());
        let r = app.send(req, path).await;
        assert_eq!(r.status.as_u16(), expected, "{path} as {media}: {}", r.body);
        if expected == 415 {
            assert_eq!(r.code(), "unsupported_media_type");
        }
    }
}

/// A body is one JSON object and nothing after it; numbers are finite (issue #25: `{…} garbage`
/// and `{…}{"x":1}` were accepted, `max_price=NaN` dropped the filter silently).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trailing_content_and_non_finite_numbers_are_refused() {
    let app = Instance::start(Backend::Sqlite).await.unwrap();
    let login = json!({"email": "trail@example.com", "password": PASSWORD}).to_string();
    let search = json!({"slices": [{"origin": "LHR", "destination": "CDG", "date": "2026-12-10"}]})
        .to_string();
    for (path, body) in [
        ("/auth/login", format!("{login} garbage")),
        ("/auth/login", format!("{login}{{\"x\":1}}")),
        ("/search", format!("{search} ]")),
        ("/search", format!("{search}{search}")),
    ] {
        let req = app
            .request(Method::POST, path)
            .header("content-type", "application/json")
            .body(body.clone());
        let r = app.send(req, path).await;
        assert_eq!(r.status.as_u16(), 400, "{path} {body}: {}", r.body);
        assert_eq!(r.code(), "malformed_json", "{path} {body}");
    }
    // A path segment that is not UTF-8 is problem+json too (axum's own answer was text/plain).
    for path in ["/airports/%ff", "/airlines/%c3%28", "/live-searches/%ff"] {
        let r = app.send(app.request(Method::GET, path), path).await;
        assert_eq!(r.status.as_u16(), 400, "{path}: {}", r.body);
        assert_eq!(r.code(), "malformed_path", "{path}");
    }
    // Whitespace after the object is fine.
    let req = app
        .request(Method::POST, "/search")
        .header("content-type", "application/json")
        .body(format!("{search} \n"));
    let r = app.send(req, "/search").await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    for value in ["NaN", "inf", "-inf", "infinity", "-Infinity"] {
        for path in [
            format!("/search?origin=LHR&destination=CDG&depart=2026-12-10&max_price={value}"),
            format!(
                "/explore?origin=LHR&depart_from=2026-12-10&depart_to=2026-12-10&max_price={value}"
            ),
            format!(
                "/search?origin=LHR&destination=CDG&depart=2026-12-10&max_duration_hours={value}"
            ),
        ] {
            let r = app.send(app.request(Method::GET, &path), &path).await;
            assert_eq!(r.status.as_u16(), 400, "{path}: {}", r.body);
            let field = path.rsplit('&').next().unwrap().split('=').next().unwrap();
            assert!(
                r.body["errors"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|x| x["field"] == field)),
                "{path}: names its field: {}",
                r.body
            );
        }
    }
}

/// Personal and authentication answers are never cached; an https deployment gets HSTS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_answers_are_not_cached_and_https_gets_hsts() {
    let app = Instance::start(Backend::Sqlite).await.unwrap();
    app.register("cache@example.com", "Cache").await;
    let t = app.sign_in("cache@example.com", PASSWORD).await;
    let login = app.login("cache@example.com", PASSWORD).await;
    let failed = app.login("cache@example.com", "wrong password!").await;
    let me = app.get("/me", &t.access).await;
    let admin = app.get("/admin/users", &t.access).await;
    for (what, r) in [
        ("login", &login),
        ("failed login", &failed),
        ("/me", &me),
        ("/admin", &admin),
    ] {
        assert_eq!(r.header("cache-control"), "no-store", "{what}");
    }
    let health = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        !health.headers().contains_key("strict-transport-security"),
        "plain http: no HSTS"
    );
    let https = Instance::start_with(Backend::Sqlite, |s| {
        s.server.public_url = Some("https://spontra.example".into())
    })
    .await
    .unwrap();
    let health = https
        .http
        .get(format!("{}/healthz", https.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}

/// Everything the tracing subscriber of this test binary writes.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter("spontra::audit=info")
            .with_writer(move || SharedWriter(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        buffer
    })
    .clone()
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Failed sign-ins, lock-outs, resets and password changes leave a structured trace (account
/// id when known, client address, outcome) and never a secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_events_are_logged() {
    let logs = captured_logs();
    let app = Instance::start(Backend::Sqlite).await.unwrap();
    app.given_account("audited@example.com", "Audited", PASSWORD)
        .await;
    let me = app
        .get(
            "/me",
            &app.sign_in("audited@example.com", PASSWORD).await.access,
        )
        .await;
    let id = me.body["id"].as_str().unwrap().to_string();
    for _ in 0..7 {
        app.login("audited@example.com", "secret guess 123").await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let t = app.sign_in("audited@example.com", PASSWORD).await;
    app.call(
        Method::POST,
        "/me/password",
        Some(json!({"current_password": PASSWORD, "new_password": "another good secret"})),
        Some(&t.access),
    )
    .await;
    app.post(
        "/auth/forgot-password",
        json!({"email": "audited@example.com"}),
    )
    .await;
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let account = spontra_users::tokens::digest("audited@example.com")[..12].to_string();
    let events: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        // This account's events: by id, or (before an account is known) by the digest of the
        // email typed, so other tests' events in the same log do not count.
        .filter(|e| e["user_id"] == id.as_str() || e["account"] == account.as_str())
        .collect();
    let has = |event: &str| {
        events
            .iter()
            .any(|e| e["event"] == event && e["client_ip"] == "127.0.0.1")
    };
    for event in [
        "register",
        "login.failed",
        "login.throttled",
        "login.succeeded",
        "password.changed",
        "password_reset.requested",
    ] {
        assert!(has(event), "{event} not logged: {events:?}");
    }
    for secret in [
        "secret guess 123",
        PASSWORD,
        "another good secret",
        &t.access,
        &t.refresh,
    ] {
        assert!(!text.contains(secret), "a secret was logged");
    }
}

/// An explore too big for one request is refused with a clear problem, a cheap one is not;
/// and when the heavy pool is full, heavy searches are shed with 503 while cheap ones go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expensive_searches_are_bounded() {
    let app = Instance::start_with(Backend::Sqlite, |s| s.search.max_steps = 2_000)
        .await
        .unwrap();
    let heavy = "/explore?origin=LHR&depart_from=2026-12-02&depart_to=2026-12-15&max_stops=2";
    let r = app.call(Method::GET, heavy, None, None).await;
    assert_eq!(r.problem(), (422, "query_too_expensive"), "{}", r.body);
    let cheap = "/explore?origin=LHR&depart_from=2026-12-02&max_stops=0";
    assert_eq!(app.call(Method::GET, cheap, None, None).await.status, 200);

    let app = Instance::start_with(Backend::Sqlite, |s| {
        s.search.heavy_workers = 1;
        s.search.heavy_queue = 0;
        s.search.queue_timeout_ms = 100;
    })
    .await
    .unwrap();
    let requests = (0..16)
        .map(|_| {
            format!("GET /api/v1{heavy} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                .into_bytes()
        })
        .collect();
    let answers = raw::burst(app.addr, requests).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&503) && statuses.contains(&200),
        "{statuses:?}"
    );
    assert!(answers
        .iter()
        .filter(|a| a.0 == 503)
        .all(|a| a.1.contains("overloaded")));
    // Ordinary searches have their own pool.
    let p2p = "/search?origin=LHR&destination=CDG&depart=2026-12-10";
    assert_eq!(app.call(Method::GET, p2p, None, None).await.status, 200);
}
