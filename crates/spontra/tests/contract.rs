#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! Contract fuzzing: schemathesis (PyPI, installed by `scripts/test`) generates requests from
//! the served OpenAPI document — valid and invalid, every operation, then chains of operations
//! through the document's links (register → sign in → use) — and runs all its conformance
//! checks on every answer: no server errors, only documented status codes, content types,
//! headers and response schemas, invalid data refused, valid data accepted, secured operations
//! refusing missing credentials. Once signed in as a traveller and once as an administrator
//! (with the second factor proved), on SQLite and on PostgreSQL.

mod support;

use spontra::config::Settings;
use std::process::Command;
use support::{Backend, Instance, PASSWORD};

#[derive(Clone, Copy, Debug)]
enum Role {
    Traveller,
    Administrator,
}

fn roomy(s: &mut Settings) {
    // The fuzzer registers accounts and asks for mails from one address, many times a minute;
    // the sign-in hook comes from an address of its own (X-Forwarded-For).
    s.accounts.registrations_per_hour_per_address = 100_000;
    s.accounts.mail_requests_per_hour_per_address = 100_000;
    s.server.trust_forwarded_for = true;
    // Pricing (with alerts) and notifications too where pricing's event stream can run
    // in-process (the embedded log beside SQLite; on PostgreSQL it would need a Kafka broker).
    if s.database.url.starts_with("sqlite:") {
        s.server.services.extend([
            spontra::config::ServiceName::Pricing,
            spontra::config::ServiceName::Notifications,
        ]);
    }
}

async fn fuzz(backend: Backend, role: Role) {
    let Some(instance) = Instance::start_with(backend, roomy).await else {
        return;
    };
    let mut env = vec![
        ("SPONTRA_CONTRACT_BASE", instance.base.clone()),
        ("SPONTRA_CONTRACT_PASSWORD", PASSWORD.to_string()),
    ];
    match role {
        Role::Traveller => {
            let reply = instance
                .register("traveller@example.com", "Traveller")
                .await;
            assert_eq!(reply.status, 202, "{}", reply.body);
            env.push(("SPONTRA_CONTRACT_EMAIL", "traveller@example.com".into()));
            env.push(("SPONTRA_CONTRACT_REGISTER", "1".into()));
        }
        Role::Administrator => {
            let (code, said) = instance.create_user_cli("ops@example.com", PASSWORD, true);
            assert_eq!(code, 0, "{said}");
            let tokens = instance.sign_in("ops@example.com", PASSWORD).await;
            let second = instance.enrol_two_factor(&tokens, PASSWORD).await;
            env.push(("SPONTRA_CONTRACT_EMAIL", "ops@example.com".into()));
            env.push(("SPONTRA_CONTRACT_TOTP_SECRET", second.secret));
            env.push((
                "SPONTRA_CONTRACT_TOTP_LAST_STEP",
                (second.enrolled_at / 30).to_string(),
            ));
        }
    }
    let hooks = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contract");
    let report = instance.data_dir.join("schemathesis");
    let schema = format!("{}/api/v1/openapi.json", instance.base);
    // The administrator's run covers the administration routes (the traveller's covers the
    // rest); its wrong password guesses elsewhere would lock the one administrator out.
    let only: &[&str] = match role {
        Role::Traveller => &[],
        Role::Administrator => &["--include-path-regex", "^/api/v1/admin/"],
    };
    // schemathesis keeps a cache in its working directory: the instance's temporary one.
    std::fs::create_dir_all(&report).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("schemathesis")
            .current_dir(&report)
            .arg("--config-file")
            .arg(format!("{hooks}/schemathesis.toml"))
            .args(["run", &schema])
            .args(only)
            .arg("--report-dir")
            .arg(&report)
            .envs(env)
            .env("PYTHONPATH", hooks)
            .env("SCHEMATHESIS_HOOKS", "spontra_auth")
            .env("NO_COLOR", "1")
            .output()
    })
    .await
    .unwrap()
    .expect("schemathesis (scripts/test installs it)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{said}");
    assert!(
        out.status.success(),
        "schemathesis found failures ({backend:?}, {role:?}):\n{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_traveller() {
    fuzz(Backend::Sqlite, Role::Traveller).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_administrator() {
    fuzz(Backend::Sqlite, Role::Administrator).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_traveller() {
    fuzz(Backend::Postgres, Role::Traveller).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_administrator() {
    fuzz(Backend::Postgres, Role::Administrator).await;
}
