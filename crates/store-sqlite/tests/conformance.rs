#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic
//! The store conformance suite on SQLite, each case in its own fresh database file.

use spontra_store_sqlite::SqliteStore;
use std::path::PathBuf;

struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

async fn fresh() -> Option<(SqliteStore, TempDb)> {
    let path = std::env::temp_dir().join(format!("spontra-test-{}.db", uuid::Uuid::new_v4()));
    let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("open sqlite");
    Some((store, TempDb(path)))
}

spontra_store::conformance_tests!(fresh());
