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
mod batch;
mod bulk;
mod carts;
mod checkout;
mod citizens;
mod db;
mod ente_printing;
mod enti;
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
pub use carts::{Cart, CartError, CartItem, MAX_CART_ITEMS, Resumed};
pub use checkout::{Checkout, CheckoutItem, CheckoutRefusal, CheckoutState, ItemProblem};
pub use citizens::{CitizenPayment, CitizenSession};
pub use db::{Backend, Store, StoreError, StoreOptions, with_database};
pub use ente_printing::{EntePrinting, MAX_LOGO_BYTES, PrintingError};
pub use enti::{Ente, EnteError, NewEnte};
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
