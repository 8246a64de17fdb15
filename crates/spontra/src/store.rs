//! Choosing the store backend from the database URL: `sqlite://…` (embedded default) or
//! `postgres://…` (scaled).

use crate::config::redact_url;
use anyhow::{bail, Context};
use spontra_store::{AlertStore, InventoryStore, PriceStore, UserStore};
use std::sync::Arc;

/// One database's stores (one backend object behind each trait).
#[derive(Clone)]
pub struct Stores {
    pub users: Arc<dyn UserStore>,
    pub inventory: Arc<dyn InventoryStore>,
    pub prices: Arc<dyn PriceStore>,
    pub alerts: Arc<dyn AlertStore>,
}

fn both<S: UserStore + InventoryStore + PriceStore + AlertStore>(store: S) -> Stores {
    let store = Arc::new(store);
    Stores {
        users: store.clone(),
        inventory: store.clone(),
        prices: store.clone(),
        alerts: store,
    }
}

/// Open (and migrate) the database at `url`.
pub async fn open(url: &str) -> anyhow::Result<Stores> {
    if url.starts_with("sqlite:") {
        let store = spontra_store_sqlite::SqliteStore::open(url)
            .await
            .with_context(|| format!("opening {}", redact_url(url)))?;
        Ok(both(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = spontra_store_postgres::PostgresStore::open(url)
            .await
            .context("opening the PostgreSQL database")?;
        Ok(both(store))
    } else {
        bail!(
            "database URL must start with sqlite: or postgres:// (got {:?})",
            redact_url(url)
        )
    }
}
