//! The printable documents of a debt position, from what is stored: its
//! payment notice while it can be paid, and its receipts once paid, with
//! the ente's logo and Poste's authorisation. Used by the API, the portal,
//! the back office and bulk printing.

use cassa_core::NoticeNumber;
use cassa_core::debt::{OptionStatus, PositionStatus};
use cassa_documents::{Debtor, Ente as NoticeEnte, Notice, Payment, PostalAccount, Receipt};
use cassa_store::{Ente, EntePrinting, ReceiptStatus, StoredOption, StoredPosition, StoredReceipt};
use jiff::Timestamp;
use jiff::civil::Date;

/// Why a position has no notice to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoNotice {
    NotPublished,
    Closed(PositionStatus),
    NothingToPay,
}

impl NoNotice {
    pub fn reason(&self) -> String {
        match self {
            NoNotice::NotPublished => "the debt position is not published yet".into(),
            NoNotice::Closed(status) => {
                format!("the debt position is {}: nothing to pay", status.code())
            }
            NoNotice::NothingToPay => "every payment option is already paid".into(),
        }
    }
}

/// The due date as printed: the Italian day, or none, since MyPay and many
/// enti write 31/12/2099 (or later) for "no due date".
pub fn printed_due_date(due: Timestamp) -> Option<Date> {
    let date = cassa_core::italy::date_of(due);
    (date.year() < 2099).then_some(date)
}

fn payment(option: &StoredOption) -> Option<Payment> {
    Some(Payment {
        notice: NoticeNumber::parse(&option.notice_number).ok()?.notice,
        amount: option.amount,
        due_date: printed_due_date(option.due_date),
    })
}

/// The last 12 digits of an Italian postal IBAN are the account number.
fn postal_account(ente: &Ente, printing: &EntePrinting) -> Option<PostalAccount> {
    let iban = ente.postal_iban.as_deref()?;
    let account = iban.get(iban.len().checked_sub(12)?..)?;
    account
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| PostalAccount {
            account: account.to_owned(),
            holder: ente.name.clone(),
            authorization: printing.postal_authorization.clone(),
        })
}

fn debtor_address(p: &StoredPosition) -> Vec<String> {
    let street = [p.street_name.as_deref(), p.civic_number.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let province = p.province.as_deref().map(|pr| format!("({pr})"));
    let town = [
        p.postal_code.as_deref(),
        p.city.as_deref(),
        province.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    [street, town]
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect()
}

/// The notice of `position`: its unpaid options, the full one first.
pub fn notice_of(
    position: &StoredPosition,
    ente: &Ente,
    printing: &EntePrinting,
    now: Timestamp,
) -> Result<Notice, NoNotice> {
    match position.status {
        PositionStatus::Draft => return Err(NoNotice::NotPublished),
        PositionStatus::Published | PositionStatus::Valid | PositionStatus::PartiallyPaid => {}
        other => return Err(NoNotice::Closed(other)),
    }
    let unpaid: Vec<&StoredOption> = position
        .options
        .iter()
        .filter(|o| o.status == OptionStatus::Unpaid)
        .collect();
    // Once an installment is paid, the single payment is superseded: the
    // notice shows what is left of the plan.
    let plan_started = position
        .options
        .iter()
        .any(|o| o.is_partial_payment && o.status != OptionStatus::Unpaid);
    let full_option = unpaid
        .iter()
        .copied()
        .find(|o| !o.is_partial_payment)
        .filter(|_| !plan_started);
    let full = full_option.and_then(payment);
    let mut installments: Vec<&StoredOption> = unpaid
        .iter()
        .copied()
        .filter(|o| o.is_partial_payment)
        .collect();
    installments.sort_by_key(|o| (o.due_date, o.seq));
    let installments: Vec<Payment> = installments.into_iter().filter_map(payment).collect();
    if full.is_none() && installments.is_empty() {
        return Err(NoNotice::NothingToPay);
    }
    let subject = full_option
        .or(unpaid.first().copied())
        .map(|o| o.description.clone())
        .unwrap_or_default();
    let contacts = [&ente.website, &ente.email, &ente.pec, &ente.phone]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    Ok(Notice {
        subject,
        ente: NoticeEnte {
            fiscal_code: ente.fiscal_code.clone(),
            name: ente.name.clone(),
            office: position
                .office_name
                .clone()
                .or_else(|| ente.office_name.clone()),
            contacts,
            cbill: ente.cbill.clone(),
            logo_png: printing.logo_png.clone(),
            postal: postal_account(ente, printing),
        },
        debtor: Debtor {
            name: position.debtor_name.clone(),
            fiscal_code: position.debtor_fiscal_code.clone(),
            address: debtor_address(position),
        },
        full,
        installments,
        printed_at: now,
    })
}

/// The receipts that paid options of `position`, one per paid option.
pub fn receipts_of(
    position: &StoredPosition,
    ente: &Ente,
    printing: &EntePrinting,
    stored: &[StoredReceipt],
) -> Vec<Receipt> {
    position
        .options
        .iter()
        .filter_map(|option| {
            let r = stored
                .iter()
                .find(|r| r.option_id == Some(option.id) && r.status == ReceiptStatus::Applied)?;
            Some(Receipt {
                ente_name: ente.name.clone(),
                ente_fiscal_code: ente.fiscal_code.clone(),
                ente_logo_png: printing.logo_png.clone(),
                debtor_name: position.debtor_name.clone(),
                debtor_fiscal_code: position.debtor_fiscal_code.clone(),
                payer_name: r.payer_name.clone(),
                payer_fiscal_code: r.payer_fiscal_code.clone(),
                description: option.description.clone(),
                amount: r.amount,
                fee: r.fee,
                psp_name: r.psp_company_name.clone(),
                payment_method: r.payment_method.clone(),
                paid_at: r.payment_date_time.unwrap_or(r.received_at),
                receipt_id: r.receipt_id.clone(),
                notice: NoticeNumber::parse(&option.notice_number).ok()?.notice,
                iuv: option.iuv.clone(),
            })
        })
        .collect()
}

/// The notice PDF of a stored position of `ente` (with the ente's logo
/// and postal authorisation), or `None` when it has nothing to print.
pub async fn notice_pdf(
    store: &cassa_store::Store,
    ente: &Ente,
    position: &StoredPosition,
) -> anyhow::Result<Option<Vec<u8>>> {
    let printing = store.ente_printing(ente.id).await?;
    let Ok(document) = notice_of(position, ente, &printing, Timestamp::now()) else {
        return Ok(None);
    };
    let bytes =
        tokio::task::spawn_blocking(move || cassa_documents::render_notice(&document)).await??;
    Ok(Some(bytes))
}

/// The receipt PDF of one paid notice (number `notice_number` of ente
/// `ente_id`), or `None` when no receipt paid it.
pub async fn receipt_pdf_of_notice(
    store: &cassa_store::Store,
    ente_id: i64,
    notice_number: &str,
) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(position) = store.position_by_notice(ente_id, notice_number).await? else {
        return Ok(None);
    };
    let Some(ente) = store.ente_by_id(ente_id).await? else {
        return Ok(None);
    };
    let printing = store.ente_printing(ente_id).await?;
    let stored = store.receipts_of_notice(ente_id, notice_number).await?;
    let mut receipts = receipts_of(&position, &ente, &printing, &stored);
    receipts.retain(|r| r.notice.to_string() == notice_number);
    if receipts.is_empty() {
        return Ok(None);
    }
    let bytes =
        tokio::task::spawn_blocking(move || cassa_documents::render_receipts(&receipts)).await??;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_2099_means_no_due_date() {
        assert_eq!(
            printed_due_date("2099-12-31T12:00:00Z".parse().unwrap()),
            None
        );
        assert_eq!(
            printed_due_date("2026-12-31T22:59:59Z".parse().unwrap()),
            Some(Date::constant(2026, 12, 31))
        );
    }
}
