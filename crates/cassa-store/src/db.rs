//! Connecting, migrating, and the two pools.
//!
//! SQLite allows one writer at a time: a second connection that tries to
//! write sleeps in SQLite's busy handler, which wrecks throughput. So on
//! SQLite writes go through a pool of exactly one connection and queue in
//! sqlx instead, while reads use a separate pool (WAL mode lets readers run
//! beside the writer). On PostgreSQL both are the same pool.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::backend::Backend;
use crate::error::StoreError;

/// The same server URL naming another database (PostgreSQL), keeping the
/// query string.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority..].find('/') {
        Some(i) => &base[..authority + i],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{database}?{q}"),
        None => format!("{server}/{database}"),
    }
}

#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Connections in the (read) pool.
    pub max_connections: u32,
    /// IUV bases reserved from the database at a time, per ente and process.
    pub iuv_block: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 16,
            iuv_block: 100,
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// SQLite's page cache on the one write connection, in KiB. Writes touch
/// index pages all over the file: with the 2 MiB default a large import
/// spends its time re-reading pages it has just evicted.
const SQLITE_WRITER_CACHE_KIB: u32 = 64 * 1024;

fn pool_options(backend: Backend, max: u32, cache_kib: Option<u32>) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // Durable commits (a receipt acknowledged is a receipt kept),
                    // foreign keys enforced, and patience with other processes.
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    // A multi-row statement's undo journal stays in memory.
                    conn.execute("PRAGMA temp_store = MEMORY").await?;
                    if let Some(kib) = cache_kib {
                        conn.execute(format!("PRAGMA cache_size = -{kib}").as_str())
                            .await?;
                    }
                }
                Ok(())
            })
        })
}

/// Opens the pools for `url` (`sqlite://path?mode=rwc` or `postgres://...`):
/// the backend, the read pool and the write pool.
pub(crate) async fn connect(
    url: &str,
    options: &StoreOptions,
) -> Result<(Backend, AnyPool, AnyPool), StoreError> {
    install_default_drivers();
    let backend = Backend::from_url(url)?;
    let (read, write) = match backend {
        Backend::Sqlite => {
            let write = pool_options(backend, 1, Some(SQLITE_WRITER_CACHE_KIB))
                .connect(url)
                .await?;
            // WAL is a property of the file: set once, before readers open.
            sqlx::query("PRAGMA journal_mode = WAL")
                .fetch_optional(&write)
                .await?;
            let read = pool_options(backend, options.max_connections.max(1), None)
                .connect(url)
                .await?;
            (read, write)
        }
        Backend::Postgres => {
            let pool = pool_options(backend, options.max_connections.max(2), None)
                .connect(url)
                .await?;
            (pool.clone(), pool)
        }
    };
    Ok((backend, read, write))
}

/// Brings the schema on `write` up to date.
pub(crate) async fn migrate(backend: Backend, write: &AnyPool) -> Result<(), StoreError> {
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator.run(write).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn swaps_the_database_in_a_url() {
        assert_eq!(
            super::with_database("postgres://u@127.0.0.1:5433/postgres?sslmode=disable", "x"),
            "postgres://u@127.0.0.1:5433/x?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://u@127.0.0.1:5433", "x"),
            "postgres://u@127.0.0.1:5433/x"
        );
    }
}
