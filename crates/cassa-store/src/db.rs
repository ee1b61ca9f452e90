//! Connecting, migrating, and the two pools.
//!
//! SQLite allows one writer at a time: a second connection that tries to
//! write sleeps in SQLite's busy handler, which wrecks throughput. So on
//! SQLite writes go through a pool of exactly one connection and queue in
//! sqlx instead, while reads use a separate pool (WAL mode lets readers run
//! beside the writer). On PostgreSQL both are the same pool.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};

use crate::ApiKeyOwner;
use crate::Ente;
use crate::batch::{self, BatchQueue};
use crate::iuv::IuvAllocator;
use crate::positions::group_commit::{self, CreateQueue};
use crate::ttl_cache::TtlCache;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(
                url.split(':').next().unwrap_or_default().to_owned(),
            ))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL scheme {0:?}: use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
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

/// The handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    read: AnyPool,
    write: AnyPool,
    iuv: IuvAllocator,
    creates: CreateQueue,
    batch: BatchQueue,
    keys: TtlCache<ApiKeyOwner>,
    enti: TtlCache<Ente>,
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

/// A write transaction on `pool`; see [`Store::begin_write`].
pub(crate) async fn begin_write_on(
    pool: &AnyPool,
    backend: Backend,
) -> Result<Transaction<'static, Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`).
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
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
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                read,
                iuv: IuvAllocator::new(options.iuv_block),
                creates: group_commit::start(write.clone(), backend),
                batch: batch::start(write.clone(), backend),
                keys: TtlCache::default(),
                enti: TtlCache::default(),
                write,
            }),
        })
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.inner.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.inner.write).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    pub(crate) fn read(&self) -> &AnyPool {
        &self.inner.read
    }

    pub(crate) fn iuv(&self) -> &IuvAllocator {
        &self.inner.iuv
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before writing never
    /// fails half-way because another process wrote in between.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(begin_write_on(&self.inner.write, self.inner.backend).await?)
    }

    /// One write statement in its own transaction; answers the rows it touched.
    pub(crate) async fn write_one<'q>(
        &self,
        query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let touched = query.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(touched)
    }

    pub(crate) fn ente_cache(&self) -> &TtlCache<Ente> {
        &self.inner.enti
    }

    pub(crate) fn key_cache(&self) -> &TtlCache<ApiKeyOwner> {
        &self.inner.keys
    }

    /// Where other writes queue for group commit (see `batch`).
    pub(crate) fn batch_queue(&self) -> &BatchQueue {
        &self.inner.batch
    }

    /// Where new positions queue for the group-commit writer.
    pub(crate) fn create_queue(&self) -> &CreateQueue {
        &self.inner.creates
    }

    /// `FOR UPDATE` where the backend has it (PostgreSQL); SQLite's write
    /// transaction already excludes other writers.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.inner.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Checks that the database answers (for /healthz).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").fetch_one(self.read()).await?;
        Ok(())
    }

    /// The writer tasks of this process and how each is doing.
    pub fn writers(&self) -> Vec<(&'static str, crate::writer::WriterState)> {
        let mut writers = vec![self.inner.creates.health()];
        writers.extend(self.inner.batch.health());
        writers.iter().map(|h| (h.name, h.state())).collect()
    }

    pub async fn close(&self) {
        self.inner.read.close().await;
        self.inner.write.close().await;
    }
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
