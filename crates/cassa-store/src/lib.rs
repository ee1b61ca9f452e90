//! Storage for cassa: one schema, two backends. SQLite is the embedded
//! default (a file in the data directory); PostgreSQL is chosen with a
//! `postgres://` URL. Both go through sqlx's `Any` driver, so every query is
//! written once, in the portable subset (see docs/ARCHITECTURE.md).
//!
//! Rows use only integers and text: money in cents, times in microseconds
//! since the epoch (UTC), flags as 0/1, lists as JSON text.

mod anomalies;
mod api_keys;
mod audit;
mod backend;
mod batch;
mod bulk;
mod carts;
mod checkout;
mod citizens;
mod db;
mod ente_printing;
mod enti;
mod error;
mod imports;
mod iuv;
mod jobs;
mod operator_accounts;
mod operators;
mod outbox;
mod paid;
mod payments;
mod positions;
mod rate_limits;
pub use rate_limits::WindowHits;
mod spent_tokens;
mod sql;
mod statistics;
mod tipi_dovuto;
mod ttl_cache;
mod writer;

pub use anomalies::AnomalyFilter;
pub use api_keys::{ApiKey, ApiKeyOwner};
pub use audit::{AuditEvent, AuditFilter, NewAuditEvent};
pub use backend::Backend;
pub use carts::{Cart, CartError, CartItem, CartStatus, MAX_CART_ITEMS, Resumed};
pub use checkout::{Checkout, CheckoutItem, CheckoutRefusal, CheckoutState, ItemProblem};
pub use citizens::{CitizenPayment, CitizenSession};
pub use db::{StoreOptions, with_database};
pub use ente_printing::{EntePrinting, MAX_LOGO_BYTES, PrintingError};
pub use enti::{Ente, EnteError, NewEnte};
pub use error::StoreError;
pub use imports::{MAX_UNFINISHED_IMPORTS, QueuedImport};
pub use jobs::{Job, JobState, Lease, MAX_ATTEMPTS, NewJob};
pub use operators::{Credentials, NewOperator, Operator, OperatorError, RoleBinding, Session};
pub use outbox::{MAX_MAIL_ATTEMPTS, MailKind, OutboxMail};
pub use paid::PaidLine;
pub use payments::{
    ActivationRequest, NewReceipt, NoticeMatch, PayRefusal, ReceiptOutcome, ReceiptStatus,
    StoredReceipt,
};
pub use positions::{
    Actor, Applied, AppliedOption, CreateError, DovutiFilter, DovutiSort, DovutoRow,
    ImportRowError, ImportStage, ImportSwitch, ListFilter, ListOrder, Origin, PositionChangeError,
    PositionPage, PositionWrite, PrintSelection, SortKey, StoredOption, StoredPosition,
    StoredTransfer, import_slice,
};
pub use statistics::Statistics;
pub use tipi_dovuto::{NewTipoDovuto, TipoDovuto, TipoDovutoError};
pub use writer::{STUCK_AFTER, WriterState};

use std::sync::Arc;

use sqlx::{Any, AnyPool, Transaction};

use backend::begin_write_on;
use batch::BatchQueue;
use iuv::IuvAllocator;
use positions::group_commit::{self, CreateQueue};
use ttl_cache::TtlCache;

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

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`).
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let (backend, read, write) = db::connect(url, &options).await?;
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
        db::migrate(self.inner.backend, &self.inner.write).await
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
