//! The PostgreSQL backend: the scaled profile's database. Migrations are applied on open.

pub mod scratch;

use spontra_store::{StoreError, StoreResult};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::time::Duration;

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connect to `url` (`postgres://user@host:port/database`) and apply migrations.
    pub async fn open(url: &str) -> StoreResult<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(spontra_store_sql::translate)?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrations: {e}")))
    }

    /// Close every connection (before a test drops its database).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

spontra_store_sql::impl_user_store!(PostgresStore, sqlx::Postgres);
