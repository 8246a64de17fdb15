//! Throwaway databases for tests: each test creates its own uniquely named database on the
//! server in `SPONTRA_TEST_DATABASE_URL`, and the guard drops it (with `FORCE`, so leftover
//! connections do not keep it alive). Leftover state on the shared server never matters.

use spontra_store::StoreResult;

/// The environment variable naming the test server (`.ci/run` sets it to the local one).
pub const TEST_DATABASE_ENV: &str = "SPONTRA_TEST_DATABASE_URL";

/// A database that exists until this value is dropped.
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// `None` when `SPONTRA_TEST_DATABASE_URL` is not set.
    pub async fn from_env() -> StoreResult<Option<ScratchDatabase>> {
        match std::env::var(TEST_DATABASE_ENV) {
            Ok(url) => ScratchDatabase::create(&url).await.map(Some),
            Err(_) => Ok(None),
        }
    }

    pub async fn create(admin_url: &str) -> StoreResult<ScratchDatabase> {
        let name = format!("spontra_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(admin_url)
            .await
            .map_err(spontra_store_sql::translate)?;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&admin)
            .await
            .map_err(spontra_store_sql::translate)?;
        admin.close().await;
        Ok(ScratchDatabase {
            url: database_url(admin_url, &name),
            admin_url: admin_url.to_string(),
            name,
        })
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async: use a short-lived runtime on another thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
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

/// The server URL with its database replaced by `name`.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    let base = if after_scheme.contains('/') {
        base.rsplit_once('/').map_or(base, |(b, _)| b)
    } else {
        base.trim_end_matches('/')
    };
    format!("{base}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn replaces_or_adds_the_database() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            database_url("postgres://u@h/db?sslmode=disable", "t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
    }
}
