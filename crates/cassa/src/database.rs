//! The configured database, opened and migrated.

use anyhow::Context;
use cassa_store::{Store, StoreOptions};

use crate::config::{Config, redact};

pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url()?;
    let options = StoreOptions {
        max_connections: config.max_connections(&url),
        ..StoreOptions::default()
    };
    let store = Store::connect(&url, options)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&url)))?;
    store
        .migrate()
        .await
        .context("cannot bring the database schema up to date")?;
    Ok(store)
}
