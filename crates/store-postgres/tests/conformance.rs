#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The store conformance suite on PostgreSQL, each case in a freshly created database that is
//! dropped afterwards. Runs when `SPONTRA_TEST_DATABASE_URL` names a server (`.ci/run` sets it
//! to the local one); without it the cases say so and pass, as SQLite's suite still runs.

use spontra_store_postgres::PostgresStore;

struct TempDatabase {
    admin_url: String,
    name: String,
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async: use a short-lived runtime on another thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&pool)
                            .await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

fn database_url(admin_url: &str, name: &str) -> String {
    match admin_url.rsplit_once('/') {
        Some((base, _))
            if base.contains("://")
                && base
                    .split("://")
                    .nth(1)
                    .is_some_and(|rest| !rest.is_empty()) =>
        {
            format!("{base}/{name}")
        }
        _ => format!("{}/{name}", admin_url.trim_end_matches('/')),
    }
}

async fn fresh() -> Option<(PostgresStore, TempDatabase)> {
    let Ok(admin_url) = std::env::var("SPONTRA_TEST_DATABASE_URL") else {
        eprintln!("SPONTRA_TEST_DATABASE_URL is not set: PostgreSQL conformance not run here");
        return None;
    };
    let name = format!("spontra_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("connect to SPONTRA_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&admin)
        .await
        .expect("create test database");
    admin.close().await;
    let guard = TempDatabase {
        admin_url: admin_url.clone(),
        name: name.clone(),
    };
    let store = PostgresStore::open(&database_url(&admin_url, &name))
        .await
        .expect("open postgres store");
    Some((store, guard))
}

spontra_store::conformance_tests!(fresh());
