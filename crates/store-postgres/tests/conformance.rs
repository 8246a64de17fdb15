#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The store conformance suite on PostgreSQL, each case in a freshly created database that is
//! dropped afterwards. Runs when `SPONTRA_TEST_DATABASE_URL` names a server (`.ci/run` sets it
//! to the local one); without it the cases say so and pass, as SQLite's suite still runs.

use spontra_store_postgres::scratch::ScratchDatabase;
use spontra_store_postgres::PostgresStore;

async fn fresh() -> Option<(PostgresStore, ScratchDatabase)> {
    let Some(db) = ScratchDatabase::from_env()
        .await
        .expect("create a database on SPONTRA_TEST_DATABASE_URL")
    else {
        eprintln!("SPONTRA_TEST_DATABASE_URL is not set: PostgreSQL conformance not run here");
        return None;
    };
    let store = PostgresStore::open(db.url())
        .await
        .expect("open postgres store");
    Some((store, db))
}

spontra_store::conformance_tests!(fresh());
