//! Choosing the store backend from the database URL: `sqlite://…` (embedded default) or
//! `postgres://…` (scaled).

use crate::config::redact_url;
use anyhow::{bail, Context};
use spontra_store::UserStore;
use std::sync::Arc;

pub async fn open(url: &str) -> anyhow::Result<Arc<dyn UserStore>> {
    if url.starts_with("sqlite:") {
        let store = spontra_store_sqlite::SqliteStore::open(url)
            .await
            .with_context(|| format!("opening {}", redact_url(url)))?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = spontra_store_postgres::PostgresStore::open(url)
            .await
            .context("opening the PostgreSQL database")?;
        Ok(Arc::new(store))
    } else {
        bail!(
            "database URL must start with sqlite: or postgres:// (got {:?})",
            redact_url(url)
        )
    }
}
