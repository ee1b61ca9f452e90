//! The bulk file formats enti already use ("tracciati"): read and written
//! unchanged (see docs/TRACCIATI.md in the shared docs). Pure: the caller
//! reads the CSV and the ZIP.

mod cells;
mod creditor;
pub mod mypay;
pub mod p4pa;

pub use cells::{Action, FieldError, Payer, Secondary};
pub use creditor::Creditor;
