//! The PostgreSQL backend: the scaled profile's database. Migrations are applied on open.

pub mod scratch;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
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
        store
            .prepare_partitions(chrono::Utc::now())
            .await
            .map_err(spontra_store_sql::translate)?;
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

    /// Make the monthly partitions of `price_observations` ready for the month of `now` and
    /// the next two. A month that has rows in the default partition (observed before its
    /// partition was made) gets them moved into it in the same transaction.
    pub async fn prepare_partitions(&self, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        let mut month = month_start(now.date_naive());
        for _ in 0..3 {
            let next = next_month(month);
            self.prepare_partition(month, next).await?;
            month = next;
        }
        Ok(())
    }

    async fn prepare_partition(&self, from: NaiveDate, to: NaiveDate) -> Result<(), sqlx::Error> {
        let name = partition_name(from);
        let mut tx = self.writer.begin().await?;
        // One preparer at a time across processes.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PARTITION_LOCK)
            .execute(&mut *tx)
            .await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(&name)
            .fetch_one(&mut *tx)
            .await?;
        if exists.is_none() {
            let (lo, hi) = (bound(from), bound(to));
            sqlx::query(&format!(
                "CREATE TABLE {name} (LIKE price_observations INCLUDING DEFAULTS)"
            ))
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "WITH moved AS (DELETE FROM price_observations_default \
                 WHERE observed_at >= '{lo}' AND observed_at < '{hi}' RETURNING *) \
                 INSERT INTO {name} SELECT * FROM moved"
            ))
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "ALTER TABLE price_observations ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')"
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Retention of raw price observations: drop the monthly partitions that end by
    /// `before` and delete the default partition's rows older than it; prepare the coming
    /// months. Rows dropped with a partition are counted from the planner's estimate.
    async fn prune_observations(
        &self,
        now: DateTime<Utc>,
        before: DateTime<Utc>,
    ) -> Result<u64, sqlx::Error> {
        self.prepare_partitions(now).await?;
        let partitions: Vec<(String, f32)> = sqlx::query_as(
            "SELECT c.relname::text, c.reltuples FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'price_observations'::regclass",
        )
        .fetch_all(&self.reader)
        .await?;
        let mut gone = 0u64;
        for (name, rows) in partitions {
            let Some(month) = partition_month(&name) else {
                continue;
            };
            if bound_time(next_month(month)) <= before {
                let mut tx = self.writer.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(PARTITION_LOCK)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&format!("DROP TABLE IF EXISTS {name}"))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                gone += rows.max(0.0) as u64;
            }
        }
        gone += sqlx::query("DELETE FROM price_observations_default WHERE observed_at < $1")
            .bind(before)
            .execute(&self.writer)
            .await?
            .rows_affected();
        Ok(gone)
    }

    /// Close every connection (before a test drops its database).
    pub async fn close(&self) {
        self.writer.close().await;
    }
}

spontra_store_sql::impl_user_store!(PostgresStore, sqlx::Postgres);
spontra_store_sql::impl_inventory_store!(PostgresStore, sqlx::Postgres);
spontra_store_sql::impl_price_store!(PostgresStore, sqlx::Postgres);
spontra_store_sql::impl_alert_store!(PostgresStore, sqlx::Postgres, "FOR UPDATE SKIP LOCKED");

/// The advisory lock that keeps partition changes one at a time.
const PARTITION_LOCK: i64 = 0x5350_5052_4943_4500; // "SPPRICE\0"

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn next_month(first: NaiveDate) -> NaiveDate {
    first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first)
}

fn partition_name(month: NaiveDate) -> String {
    format!("price_observations_{}", month.format("%Y%m"))
}

/// The month a partition name stands for.
fn partition_month(name: &str) -> Option<NaiveDate> {
    let digits = name.strip_prefix("price_observations_")?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(&format!("{digits}01"), "%Y%m%d").ok()
}

fn bound_time(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// A partition bound as a literal (DDL takes no parameters; it is made from a date).
fn bound(d: NaiveDate) -> String {
    format!("{} 00:00:00+00", d.format("%Y-%m-%d"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_named_by_month_and_read_back() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 17).unwrap();
        assert_eq!(
            month_start(d),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
        assert_eq!(
            next_month(month_start(d)),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
        assert_eq!(partition_name(month_start(d)), "price_observations_202612");
        assert_eq!(
            partition_month("price_observations_202612"),
            Some(month_start(d))
        );
        assert_eq!(partition_month("price_observations_default"), None);
        assert_eq!(partition_month("price_observations_2026123"), None);
        assert_eq!(bound(month_start(d)), "2026-12-01 00:00:00+00");
    }
}
