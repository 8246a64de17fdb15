//! The PostgreSQL backend: the scaled profile's database. Migrations are applied on open.

pub mod scratch;

use spontra_store::{StoreError, StoreResult};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Transaction};
use std::time::Duration;

/// One pool serves reads and writes (`reader` and `writer` are the same pool): PostgreSQL
/// orders concurrent writers with row locks. A request that cannot get a connection within
/// the acquire timeout gets `StoreError::Unavailable` (503 with `Retry-After`), never a 500.
pub struct PostgresStore {
    reader: PgPool,
    writer: PgPool,
}

impl PostgresStore {
    /// Connect to `url` (`postgres://user@host:port/database`) and apply migrations.
    pub async fn open(url: &str) -> StoreResult<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(spontra_store_sql::translate)?;
        let store = PostgresStore {
            reader: pool.clone(),
            writer: pool,
        };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations")
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Backend(format!("migrations: {e}")))
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.writer.begin().await
    }

    /// Close every connection (before a test drops its database).
    pub async fn close(&self) {
        self.writer.close().await;
    }
}

spontra_store_sql::impl_user_store!(PostgresStore, sqlx::Postgres);
spontra_store_sql::impl_inventory_store!(PostgresStore, sqlx::Postgres);
