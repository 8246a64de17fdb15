//! The SQLite backend: the embedded default profile's database, one file beside the data.
//! Migrations are applied on open.
//!
//! SQLite allows one writer at a time. Writes go through a pool of exactly one connection and
//! every write transaction starts with `BEGIN IMMEDIATE`, so concurrent writers queue for that
//! connection (bounded by the pool's acquire timeout, which the service answers with 503)
//! instead of failing with "database is locked" when a deferred transaction tries to upgrade
//! its read lock. Reads use their own pool and, in WAL mode, never wait for the writer. The
//! busy timeout covers other processes writing the same file (`spontra admin create-user`).
//!
//! The file is created private (0600) on Unix; SQLite gives its `-wal` and `-shm` files the
//! database file's permissions.

use spontra_store::{StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// How long a request waits for the write connection before the store says "busy".
const WRITE_QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
}

impl SqliteStore {
    /// Open (creating if needed) the database at `url` (`sqlite://path/to/file.db`) and apply
    /// migrations.
    pub async fn open(url: &str) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(spontra_store_sql::translate)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL is durable against crashes of the process; a power cut may
            // lose the last commits, never the database.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", "10000")
            .busy_timeout(Duration::from_secs(5));
        create_private(options.get_filename())?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(WRITE_QUEUE_TIMEOUT)
            // Ingestion's inserts touch pages all over the indexes; readers keep the default.
            .connect_with(options.clone().pragma("cache_size", "-65536"))
            .await
            .map_err(spontra_store_sql::translate)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(WRITE_QUEUE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(spontra_store_sql::translate)?;
        let store = SqliteStore { reader, writer };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations")
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Backend(format!("migrations: {e}")))
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// Delete raw price observations observed before `before`, 20,000 rows per transaction
    /// so ingestion's writes wait at most one of them.
    async fn prune_observations(
        &self,
        _now: chrono::DateTime<chrono::Utc>,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, sqlx::Error> {
        let mut total = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let gone = sqlx::query(
                "DELETE FROM price_observations WHERE id IN \
                 (SELECT id FROM price_observations WHERE observed_at < $1 LIMIT 20000)",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            total += gone;
            if gone == 0 {
                return Ok(total);
            }
        }
    }
}

/// Create the database file readable by its owner only (or tighten an existing one).
fn create_private(path: &std::path::Path) -> StoreResult<()> {
    if path.as_os_str().is_empty() || path.to_string_lossy().starts_with(':') {
        return Ok(()); // in-memory
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let private = |e: std::io::Error| {
            StoreError::Backend(format!("making {} private: {e}", path.display()))
        };
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(private)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(private)?;
            }
        }
    }
    Ok(())
}

spontra_store_sql::impl_user_store!(SqliteStore, sqlx::Sqlite);
spontra_store_sql::impl_inventory_store!(SqliteStore, sqlx::Sqlite);
spontra_store_sql::impl_price_store!(SqliteStore, sqlx::Sqlite);
spontra_store_sql::impl_alert_store!(SqliteStore, sqlx::Sqlite, "");
