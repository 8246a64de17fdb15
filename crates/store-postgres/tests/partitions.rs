#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! Raw price observations on PostgreSQL are partitioned by month: a month's rows that arrived
//! before its partition was made move into it when it is; retention drops whole months.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use spontra_store::{FareObservation, InventoryStore, PriceStore};
use spontra_store_postgres::scratch::ScratchDatabase;
use spontra_store_postgres::PostgresStore;

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).single().unwrap()
}

fn observed(id: &str, when: DateTime<Utc>) -> FareObservation {
    FareObservation {
        source: "/providers/test".into(),
        event_id: id.into(),
        carrier: "BA".into(),
        flight_number: 117,
        departure_date: NaiveDate::from_ymd_opt(2031, 12, 20).unwrap(),
        origin: "LHR".into(),
        destination: "JFK".into(),
        cabin: "economy".into(),
        fare_minor: 40_000,
        currency: "EUR".into(),
        seats_left: 9,
        departure_at: at(2031, 12, 20),
        observed_at: when,
    }
}

async fn rows_in(store_url: &str, table: &str) -> Option<i64> {
    let pool = sqlx::PgPool::connect(store_url).await.unwrap();
    let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
        .bind(table)
        .fetch_one(&pool)
        .await
        .unwrap();
    let n = match exists {
        Some(_) => Some(
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&pool)
                .await
                .unwrap(),
        ),
        None => None,
    };
    pool.close().await;
    n
}

#[tokio::test]
async fn months_get_partitions_and_retention_drops_them() {
    let Some(db) = ScratchDatabase::from_env().await.unwrap() else {
        eprintln!("SPONTRA_TEST_DATABASE_URL is not set: PostgreSQL partitions not tested here");
        return;
    };
    let store = PostgresStore::open(db.url()).await.unwrap();
    // Years ahead, so no partition exists for them yet: the rows wait in the default one.
    let batch = vec![
        observed("a", at(2031, 3, 5)),
        observed("b", at(2031, 3, 28)),
        observed("c", at(2031, 4, 2)),
        observed("d", at(2031, 5, 9)),
    ];
    store
        .apply_observations(&batch, at(2031, 5, 9))
        .await
        .unwrap();
    assert_eq!(
        rows_in(db.url(), "price_observations_default").await,
        Some(4)
    );
    assert_eq!(rows_in(db.url(), "price_observations_203103").await, None);

    // March to May made: the rows move into their months.
    store.prepare_partitions(at(2031, 3, 15)).await.unwrap();
    assert_eq!(
        rows_in(db.url(), "price_observations_default").await,
        Some(0)
    );
    assert_eq!(
        rows_in(db.url(), "price_observations_203103").await,
        Some(2)
    );
    assert_eq!(
        rows_in(db.url(), "price_observations_203104").await,
        Some(1)
    );
    assert_eq!(
        rows_in(db.url(), "price_observations_203105").await,
        Some(1)
    );
    assert_eq!(store.observation_count().await.unwrap(), 4);
    // Preparing again changes nothing; new rows go straight to their month.
    store.prepare_partitions(at(2031, 3, 15)).await.unwrap();
    store
        .apply_observations(&[observed("e", at(2031, 3, 30))], at(2031, 5, 9))
        .await
        .unwrap();
    assert_eq!(
        rows_in(db.url(), "price_observations_203103").await,
        Some(3)
    );

    // Keep from April 1st: March goes as a whole partition, the rest stays.
    let cut = Utc.with_ymd_and_hms(2031, 4, 1, 0, 0, 0).single().unwrap();
    store
        .prune_prices(
            at(2031, 5, 9),
            cut,
            NaiveDate::from_ymd_opt(2031, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2031, 1, 1).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(rows_in(db.url(), "price_observations_203103").await, None);
    assert_eq!(store.observation_count().await.unwrap(), 2);
    // The months ahead of "now" were made ready.
    assert_eq!(
        rows_in(db.url(), "price_observations_203107").await,
        Some(0)
    );
    store.close().await;
    drop(db);
}
