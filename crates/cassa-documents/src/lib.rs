//! The PDFs cassa prints, as pure functions from data to bytes: the
//! payment notice (avviso di pagamento, pagoPA's printing guidelines, with
//! its QR codes and Poste's Data Matrix) and the payment receipt.
//!
//! krilla writes the PDF: it embeds and subsets fonts, draws vectors and
//! checks PDF/A-2b as it goes, and it is fast and small to build. See
//! docs/ARCHITECTURE.md for why not typst or printpdf.

mod canvas;
pub mod codes;
mod fonts;
pub mod notice;
mod pdf;
pub mod receipt;
pub mod text;

pub use notice::{Debtor, Ente, Notice, NoticeBook, Payment, PostalAccount, render_notice};
pub use receipt::{Receipt, render_receipt, render_receipts};

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The data cannot be printed as given (the message says which field).
    #[error("cannot print: {0}")]
    Invalid(String),
    #[error("PDF writer: {0}")]
    Pdf(String),
}
