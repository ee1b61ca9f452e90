//! Background work. The worker claims queued jobs from the database (see
//! cassa-store's job queue) and runs them (`registry` knows every kind);
//! what they produce goes to the file store, where the API and the back
//! office serve it.
//!
//! Jobs: bulk printing of payment notices (`bulk_notices`), imports of debt
//! files (`import_dovuti`, and the notices of what they applied) and
//! exports of what was paid (`export_pagati`). `printouts` builds the
//! printable documents of a stored position, for every door; `mailer`
//! sends the e-mail outbox.

pub mod bulk_notices;
pub mod export_pagati;
pub mod files;
pub mod import_dovuti;
mod job;
pub mod mailer;
pub mod printouts;
mod registry;
pub mod retention;
mod worker;

pub use files::FileStore;
pub use job::{JobContext, JobFailure, JobOutcome};
pub use mailer::{MailTransport, Mailer};
pub use worker::Worker;

/// A CSV cell that a spreadsheet will not run as a formula: cells starting
/// with `=`, `+`, `-`, `@` (or a tab or carriage return) get a leading `'`.
pub fn csv_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_defused() {
        assert_eq!(super::csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(super::csv_cell("-1+1"), "'-1+1");
        assert_eq!(super::csv_cell("Rossi"), "Rossi");
        assert_eq!(super::csv_cell(""), "");
    }
}
