//! The domain core of cassa: pure types and rules, no I/O, no async.
//!
//! Everything that decides whether a payment is right lives here, so that the
//! storage, the web layer and the wire formats only move data around.

pub mod access;
pub mod citizen;
pub mod debt;
pub mod ente;
pub mod fiscal_code;
pub mod iban;
pub mod italy;
pub mod money;
pub mod notice;
pub mod search;
pub mod spontaneous;
pub mod taxonomy;
pub mod text;
pub mod tipo_dovuto;
pub mod tracciati;

pub use fiscal_code::{CodiceFiscale, DebtorId, PartitaIva};
pub use iban::Iban;
pub use money::Cents;
pub use notice::{Iuv, NoticeNumber, SegregationCode};
pub use taxonomy::TaxonomyCode;
