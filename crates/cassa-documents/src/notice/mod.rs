//! The payment notice (avviso di pagamento) as pagoPA's printing guidelines
//! lay it out: page one with the subject, the ente and the recipient, how
//! much and when, where to pay, and the single payment (rata unica) with
//! its QR code and, when the ente has a postal account, the Bollettino
//! Postale PA with Poste's Data Matrix. Installments follow on their own
//! pages, two or three to a page (one layout per notice, never mixed);
//! with nine or more a summary page lists them all first.

mod layout;

use cassa_core::{Cents, NoticeNumber};
use jiff::Timestamp;
use jiff::civil::Date;

use crate::DocumentError;
use crate::pdf::Pdf;

/// Longest subject the guidelines allow; longer ones are cut.
pub const MAX_SUBJECT: usize = 90;
/// From this many installments on, a summary page lists them.
pub const MANY_INSTALLMENTS: usize = 9;

#[derive(Clone, Debug)]
pub struct Notice {
    /// Oggetto del pagamento.
    pub subject: String,
    pub ente: Ente,
    pub debtor: Debtor,
    /// The whole amount in one payment, if that is allowed.
    pub full: Option<Payment>,
    /// The installments, in order (none, or two or more as a rule).
    pub installments: Vec<Payment>,
    /// When the notice is printed (the PDF's date).
    pub printed_at: Timestamp,
}

#[derive(Clone, Debug)]
pub struct Ente {
    pub fiscal_code: String,
    pub name: String,
    /// Settore / ufficio.
    pub office: Option<String>,
    /// Website, e-mail, PEC, phone: one per line.
    pub contacts: Vec<String>,
    pub cbill: Option<String>,
    pub logo_png: Option<Vec<u8>>,
    pub postal: Option<PostalAccount>,
}

#[derive(Clone, Debug)]
pub struct PostalAccount {
    /// The conto corrente number (up to 12 digits).
    pub account: String,
    /// Who the account is in the name of.
    pub holder: String,
    /// Poste's authorisation to print the slip, as Poste worded it.
    pub authorization: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Debtor {
    pub name: String,
    pub fiscal_code: String,
    /// Street and number, then postcode, city and province.
    pub address: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub notice: NoticeNumber,
    pub amount: Cents,
    /// `None` for a notice without a due date.
    pub due_date: Option<Date>,
}

impl Notice {
    /// The payment that names the notice: the full one, else the first
    /// installment (its number titles the PDF and files the notice).
    pub fn first_payment(&self) -> Option<&Payment> {
        self.full.as_ref().or(self.installments.first())
    }

    /// What page one offers as the single payment: the full option, or the
    /// only installment of a plan of one.
    fn single(&self) -> Option<&Payment> {
        self.full.as_ref().or(match self.installments.as_slice() {
            [only] => Some(only),
            _ => None,
        })
    }

    /// The installments that get their own slots.
    fn plan(&self) -> &[Payment] {
        match (&self.full, self.installments.as_slice()) {
            (None, [_]) => &[],
            (_, all) => all,
        }
    }

    fn check(&self) -> Result<(), DocumentError> {
        if self.full.is_none() && self.installments.is_empty() {
            return Err(DocumentError::Invalid("the notice has no payment".into()));
        }
        for (i, p) in self.full.iter().chain(&self.installments).enumerate() {
            if p.amount.get() <= 0 {
                return Err(DocumentError::Invalid(format!(
                    "payment {} (notice {}): amount must be positive",
                    i + 1,
                    p.notice
                )));
            }
        }
        if self.ente.fiscal_code.len() != 11
            || !self.ente.fiscal_code.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(DocumentError::Invalid(format!(
                "ente fiscal code {:?}: 11 digits expected",
                self.ente.fiscal_code
            )));
        }
        if let Some(postal) = &self.ente.postal {
            let digits = postal.account.trim();
            if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(DocumentError::Invalid(format!(
                    "postal account {:?}: up to 12 digits expected",
                    postal.account
                )));
            }
        }
        Ok(())
    }
}

/// How many installment slots share a page: three when the count is a
/// multiple of three and there is no postal slip, otherwise two.
pub fn installments_per_page(count: usize, postal: bool) -> usize {
    if !postal && count.is_multiple_of(3) {
        3
    } else {
        2
    }
}

/// The notice as a PDF.
pub fn render_notice(notice: &Notice) -> Result<Vec<u8>, DocumentError> {
    notice.check()?;
    let title = match notice.first_payment() {
        Some(p) => format!("Avviso di pagamento {}", p.notice),
        None => "Avviso di pagamento".to_owned(),
    };
    let codes = layout::Codes::for_notice(notice)?;
    let mut pdf = Pdf::new(&title, notice.printed_at);
    draw_pages(&mut pdf, notice, &codes);
    pdf.finish()
}

/// Many notices in one PDF, one after the other, for printing in bulk.
/// Fonts are embedded once for the whole book.
pub struct NoticeBook {
    pdf: Pdf,
    notices: usize,
}

impl NoticeBook {
    pub fn new(title: &str, created: Timestamp) -> NoticeBook {
        NoticeBook {
            pdf: Pdf::new(title, created),
            notices: 0,
        }
    }

    /// Adds the pages of `notice`; one that cannot be printed adds nothing.
    pub fn add(&mut self, notice: &Notice) -> Result<(), DocumentError> {
        notice.check()?;
        // Codes first: a notice whose codes fail must not leave half its pages.
        let codes = layout::Codes::for_notice(notice)?;
        draw_pages(&mut self.pdf, notice, &codes);
        self.notices += 1;
        Ok(())
    }

    pub fn notices(&self) -> usize {
        self.notices
    }

    pub fn finish(self) -> Result<Vec<u8>, DocumentError> {
        self.pdf.finish()
    }
}

fn draw_pages(pdf: &mut Pdf, notice: &Notice, codes: &layout::Codes) {
    pdf.page(|c| layout::first_page(c, notice, codes));
    let plan = notice.plan();
    if plan.len() >= MANY_INSTALLMENTS {
        for rows in plan.chunks(layout::SUMMARY_ROWS_PER_PAGE).enumerate() {
            pdf.page(|c| {
                layout::summary_page(c, notice, rows.0 * layout::SUMMARY_ROWS_PER_PAGE, rows.1)
            });
        }
    }
    let per_page = installments_per_page(plan.len(), notice.ente.postal.is_some());
    for (page, slots) in plan.chunks(per_page).enumerate() {
        let first = page * per_page;
        pdf.page(|c| layout::installments_page(c, notice, codes, first, slots, per_page));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installments_share_pages_by_twos_or_threes() {
        assert_eq!(installments_per_page(3, false), 3);
        assert_eq!(installments_per_page(12, false), 3);
        assert_eq!(installments_per_page(4, false), 2);
        assert_eq!(installments_per_page(5, false), 2);
        assert_eq!(installments_per_page(6, true), 2);
    }
}
