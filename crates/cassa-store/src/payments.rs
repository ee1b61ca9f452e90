//! Payments through the pagoPA node: finding an option by notice number,
//! activations (paGetPayment) and receipts (paSendRT). Each receipt is kept
//! whole and applied in the same transaction that marks the option paid;
//! the same receipt sent again changes nothing; a receipt that cannot be
//! applied is kept as an anomaly for the operators, never dropped.

use cassa_core::Cents;
pub use cassa_core::debt::ReceiptStatus;
use cassa_core::debt::{
    InstallmentMode, Lifecycle, NotPayable, OptionStatus, check_payable, classify_receipt,
};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, NewAuditEvent};
use crate::batch;
use crate::outbox;
use crate::positions::StoredPosition;
use crate::positions::activations::open_activations;
use crate::positions::read::{Transfers, load_position_by_notice};
use crate::sql::{micros, opt_micros, opt_timestamp, timestamp};
use crate::{Store, StoreError};

/// A position and which of its options a notice number names.
#[derive(Clone, Debug)]
pub struct NoticeMatch {
    pub position: StoredPosition,
    pub index: usize,
}

impl NoticeMatch {
    pub fn option(&self) -> &crate::StoredOption {
        &self.position.options[self.index]
    }
}

/// What an activation asked for.
#[derive(Clone, Debug)]
pub struct ActivationRequest<'a> {
    pub ente_id: i64,
    pub notice_number: &'a str,
    /// `paGetPayment` or `paGetPaymentV2`.
    pub operation: &'a str,
    pub transfer_type: Option<&'a str>,
    /// The node's paymentNote (Checkout's idCart: our checkout's id).
    pub payment_note: Option<&'a str>,
    /// paGetPaymentV2 can ask for a revenue stamp; version 1 cannot.
    pub stamps_allowed: bool,
    /// How long the activation blocks others (the node's token validity).
    pub validity: SignedDuration,
    pub now: Timestamp,
}

/// A receipt as the node sent it, already parsed.
#[derive(Clone, Debug)]
pub struct NewReceipt<'a> {
    pub ente_id: i64,
    pub receipt_id: &'a str,
    pub notice_number: &'a str,
    pub ok: bool,
    pub amount: Cents,
    pub fee: Option<Cents>,
    pub psp_id: &'a str,
    pub psp_company_name: &'a str,
    pub channel_id: &'a str,
    pub payment_method: Option<&'a str>,
    pub payer_fiscal_code: Option<&'a str>,
    pub payer_name: Option<&'a str>,
    /// The payer's address in the RT: where the receipt is e-mailed.
    pub payer_email: Option<&'a str>,
    /// The debtor's address in the RT, the last resort.
    pub debtor_email: Option<&'a str>,
    /// The RT's paymentNote: what the activation carried (Checkout's
    /// idCart, our checkout's id), when the node repeats it.
    pub payment_note: Option<&'a str>,
    pub payment_date_time: Option<Timestamp>,
    pub application_date: Option<&'a str>,
    pub transfer_date: Option<&'a str>,
    /// `paSendRT` or `paSendRTV2`.
    pub operation: &'a str,
    pub raw_xml: &'a str,
    pub now: Timestamp,
}

/// The answer to a receipt.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReceiptOutcome {
    /// Stored now, with this status.
    Stored(ReceiptStatus),
    /// This receipt id was already stored, with this status: nothing changed.
    AlreadyStored(ReceiptStatus),
}

#[derive(Clone, Debug, Serialize)]
pub struct StoredReceipt {
    pub id: i64,
    pub ente_id: i64,
    pub receipt_id: String,
    pub notice_number: String,
    pub option_id: Option<i64>,
    pub status: ReceiptStatus,
    pub ok: bool,
    pub amount: Cents,
    pub fee: Option<Cents>,
    pub psp_id: String,
    pub psp_company_name: String,
    pub payment_method: Option<String>,
    pub payer_fiscal_code: Option<String>,
    pub payer_name: Option<String>,
    pub payment_date_time: Option<Timestamp>,
    pub operation: String,
    pub raw_xml: String,
    pub received_at: Timestamp,
    /// An anomaly's handling: when, by whom, and what was done.
    pub handled_at: Option<Timestamp>,
    pub handled_by: Option<String>,
    pub handled_note: Option<String>,
}

async fn find_notice(
    conn: &mut AnyConnection,
    ente_id: i64,
    notice_number: &str,
    lock: &str,
    transfers: Transfers,
) -> Result<Option<NoticeMatch>, StoreError> {
    let Some(position) =
        load_position_by_notice(conn, ente_id, notice_number, lock, transfers).await?
    else {
        return Ok(None);
    };
    let index = position
        .options
        .iter()
        .position(|o| o.notice_number == notice_number)
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "notice {notice_number} vanished from {}",
                position.iupd
            ))
        })?;
    Ok(Some(NoticeMatch { position, index }))
}

/// What the payment rules need of a position: with an installment plan,
/// also how its tipo dovuto lets the installments be paid.
async fn payable_lifecycle(
    conn: &mut AnyConnection,
    position: &StoredPosition,
) -> Result<Lifecycle, StoreError> {
    let mut lifecycle = position.lifecycle();
    let has_plan = position.options.iter().any(|o| o.is_partial_payment);
    if let (true, Some(tipo)) = (has_plan, position.tipo_dovuto_id) {
        let code: Option<String> =
            sqlx::query_scalar("SELECT installment_mode FROM tipo_dovuto WHERE id = $1")
                .bind(tipo)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(code) = code {
            lifecycle.installments = InstallmentMode::parse(&code)
                .ok_or_else(|| StoreError::Corrupt(format!("installment mode {code}")))?;
        }
    }
    Ok(lifecycle)
}

/// Why a notice cannot be paid, or the notice does not exist.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PayRefusal {
    UnknownNotice,
    NotPayable(NotPayable),
    /// A transfer is a revenue stamp, which only paGetPaymentV2 can describe.
    StampNeedsV2,
}

impl Store {
    /// The option a notice number names, and whether it may be paid now
    /// (paVerifyPaymentNotice, the cart, Checkout). A suspended ente's
    /// notices are unknown here.
    pub async fn verify_notice(
        &self,
        ente_id: i64,
        notice_number: &str,
        now: Timestamp,
    ) -> Result<Result<NoticeMatch, PayRefusal>, StoreError> {
        let mut conn = self.read().acquire().await?;
        let active: Option<i64> = sqlx::query_scalar("SELECT active FROM ente WHERE id = $1")
            .bind(ente_id)
            .fetch_optional(&mut *conn)
            .await?;
        if active != Some(1) {
            return Ok(Err(PayRefusal::UnknownNotice));
        }
        let Some(found) =
            find_notice(&mut conn, ente_id, notice_number, "", Transfers::Load).await?
        else {
            return Ok(Err(PayRefusal::UnknownNotice));
        };
        let in_progress = open_activations(&mut conn, &found.position, now).await?;
        Ok(check_payable(
            &payable_lifecycle(&mut conn, &found.position).await?,
            found.index,
            &in_progress,
            now,
        )
        .map(|()| found)
        .map_err(PayRefusal::NotPayable))
    }

    /// Whether each option of `position` may be paid now: the rule
    /// `verify_notice` applies to one notice, for all of them at once (the
    /// tipo's installment mode read once, open activations in one query).
    pub async fn payability(
        &self,
        position: &StoredPosition,
        now: Timestamp,
    ) -> Result<Vec<Result<(), NotPayable>>, StoreError> {
        let mut conn = self.read().acquire().await?;
        let lifecycle = payable_lifecycle(&mut conn, position).await?;
        let in_progress = open_activations(&mut conn, position, now).await?;
        Ok((0..position.options.len())
            .map(|i| check_payable(&lifecycle, i, &in_progress, now))
            .collect())
    }

    /// Opens an activation if the option may be paid (paGetPayment): in one
    /// transaction with the position locked, so two activations at the same
    /// moment cannot both succeed (group-committed with other writes).
    pub async fn activate_notice(
        &self,
        request: &ActivationRequest<'_>,
    ) -> Result<Result<NoticeMatch, PayRefusal>, StoreError> {
        let owned = OwnedActivation::from(request);
        let lock = self.for_update();
        batch::submit(self.batch_queue(), move |conn| {
            Box::pin(activate_in(conn, owned, lock))
        })
        .await
    }

    /// Stores a receipt and applies it, in one transaction.
    pub async fn record_receipt(&self, r: &NewReceipt<'_>) -> Result<ReceiptOutcome, StoreError> {
        // A second delivery of the same receipt, even one racing in another
        // process, meets `ON CONFLICT DO NOTHING` and reads the first one's status.
        let owned = OwnedReceipt::from(r);
        let lock = self.for_update();
        batch::submit(self.batch_queue(), move |conn| {
            Box::pin(record_in(conn, owned, lock))
        })
        .await
    }

    /// One stored receipt by its row id.
    pub async fn receipt_by_id(&self, id: i64) -> Result<Option<StoredReceipt>, StoreError> {
        sqlx::query(&format!(
            "SELECT {RECEIPT_COLUMNS} FROM receipt WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.read())
        .await?
        .as_ref()
        .map(receipt_from_row)
        .transpose()
    }

    /// The receipts of a notice, oldest first.
    pub async fn receipts_of_notice(
        &self,
        ente_id: i64,
        notice_number: &str,
    ) -> Result<Vec<StoredReceipt>, StoreError> {
        let sql = format!(
            "SELECT {RECEIPT_COLUMNS} FROM receipt WHERE ente_id = $1 AND notice_number = $2 ORDER BY id"
        );
        sqlx::query(&sql)
            .bind(ente_id)
            .bind(notice_number)
            .fetch_all(self.read())
            .await?
            .iter()
            .map(receipt_from_row)
            .collect()
    }

    /// The receipts that name an option of the position, oldest first.
    pub async fn receipts_of_position(
        &self,
        ente_id: i64,
        position_id: i64,
    ) -> Result<Vec<StoredReceipt>, StoreError> {
        let sql = format!(
            "SELECT {RECEIPT_COLUMNS} FROM receipt WHERE ente_id = $1 AND option_id IN \
             (SELECT id FROM payment_option WHERE position_id = $2) ORDER BY id"
        );
        sqlx::query(&sql)
            .bind(ente_id)
            .bind(position_id)
            .fetch_all(self.read())
            .await?
            .iter()
            .map(receipt_from_row)
            .collect()
    }
}

pub(crate) const RECEIPT_COLUMNS: &str = "id, ente_id, receipt_id, notice_number, option_id, status, outcome, \
    amount, fee, psp_id, psp_company_name, payment_method, payer_fiscal_code, payer_name, \
    payment_date_time, operation, raw_xml, received_at, handled_at, handled_by, handled_note";

pub(crate) fn receipt_from_row(row: &AnyRow) -> Result<StoredReceipt, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(StoredReceipt {
        id: row.try_get("id")?,
        ente_id: row.try_get("ente_id")?,
        receipt_id: row.try_get("receipt_id")?,
        notice_number: row.try_get("notice_number")?,
        option_id: row.try_get("option_id")?,
        status: ReceiptStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("receipt status {status}")))?,
        ok: row.try_get::<String, _>("outcome")? == "OK",
        amount: Cents::new(row.try_get("amount")?),
        fee: row.try_get::<Option<i64>, _>("fee")?.map(Cents::new),
        psp_id: row.try_get("psp_id")?,
        psp_company_name: row.try_get("psp_company_name")?,
        payment_method: row.try_get("payment_method")?,
        payer_fiscal_code: row.try_get("payer_fiscal_code")?,
        payer_name: row.try_get("payer_name")?,
        payment_date_time: opt_timestamp(row.try_get("payment_date_time")?)?,
        operation: row.try_get("operation")?,
        raw_xml: row.try_get("raw_xml")?,
        received_at: timestamp(row.try_get("received_at")?)?,
        handled_at: opt_timestamp(row.try_get("handled_at")?)?,
        handled_by: row.try_get("handled_by")?,
        handled_note: row.try_get("handled_note")?,
    })
}

/// An activation request that can travel to the writer task.
struct OwnedActivation {
    ente_id: i64,
    notice_number: String,
    operation: String,
    transfer_type: Option<String>,
    payment_note: Option<String>,
    stamps_allowed: bool,
    validity: SignedDuration,
    now: Timestamp,
}

impl From<&ActivationRequest<'_>> for OwnedActivation {
    fn from(r: &ActivationRequest<'_>) -> Self {
        OwnedActivation {
            ente_id: r.ente_id,
            notice_number: r.notice_number.to_owned(),
            operation: r.operation.to_owned(),
            transfer_type: r.transfer_type.map(str::to_owned),
            payment_note: r.payment_note.map(str::to_owned),
            stamps_allowed: r.stamps_allowed,
            validity: r.validity,
            now: r.now,
        }
    }
}

async fn activate_in(
    conn: &mut AnyConnection,
    r: OwnedActivation,
    lock: &'static str,
) -> Result<Result<NoticeMatch, PayRefusal>, StoreError> {
    let Some(found) = find_notice(conn, r.ente_id, &r.notice_number, lock, Transfers::Load).await?
    else {
        return Ok(Err(PayRefusal::UnknownNotice));
    };
    let in_progress = open_activations(conn, &found.position, r.now).await?;
    let lifecycle = payable_lifecycle(conn, &found.position).await?;
    if let Err(refusal) = check_payable(&lifecycle, found.index, &in_progress, r.now) {
        return Ok(Err(PayRefusal::NotPayable(refusal)));
    }
    if !r.stamps_allowed && found.option().transfers.iter().any(|t| t.stamp.is_some()) {
        return Ok(Err(PayRefusal::StampNeedsV2));
    }
    sqlx::query(
        "INSERT INTO payment_activation (ente_id, option_id, notice_number, operation, transfer_type, \
         payment_note, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(r.ente_id)
    .bind(found.option().id)
    .bind(&r.notice_number)
    .bind(&r.operation)
    .bind(r.transfer_type.as_deref())
    .bind(r.payment_note.as_deref())
    .bind(micros(r.now))
    .bind(micros(r.now + r.validity))
    .execute(&mut *conn)
    .await?;
    Ok(Ok(found))
}

/// A receipt that can travel to the writer task.
struct OwnedReceipt {
    ente_id: i64,
    receipt_id: String,
    notice_number: String,
    ok: bool,
    amount: Cents,
    fee: Option<Cents>,
    psp_id: String,
    psp_company_name: String,
    channel_id: String,
    payment_method: Option<String>,
    payer_fiscal_code: Option<String>,
    payer_name: Option<String>,
    payer_email: Option<String>,
    debtor_email: Option<String>,
    payment_note: Option<String>,
    payment_date_time: Option<Timestamp>,
    application_date: Option<String>,
    transfer_date: Option<String>,
    operation: String,
    raw_xml: String,
    now: Timestamp,
}

impl From<&NewReceipt<'_>> for OwnedReceipt {
    fn from(r: &NewReceipt<'_>) -> Self {
        let own = |s: Option<&str>| s.map(str::to_owned);
        OwnedReceipt {
            ente_id: r.ente_id,
            receipt_id: r.receipt_id.to_owned(),
            notice_number: r.notice_number.to_owned(),
            ok: r.ok,
            amount: r.amount,
            fee: r.fee,
            psp_id: r.psp_id.to_owned(),
            psp_company_name: r.psp_company_name.to_owned(),
            channel_id: r.channel_id.to_owned(),
            payment_method: own(r.payment_method),
            payer_fiscal_code: own(r.payer_fiscal_code),
            payer_name: own(r.payer_name),
            payer_email: own(r.payer_email),
            debtor_email: own(r.debtor_email),
            payment_note: own(r.payment_note),
            payment_date_time: r.payment_date_time,
            application_date: own(r.application_date),
            transfer_date: own(r.transfer_date),
            operation: r.operation.to_owned(),
            raw_xml: r.raw_xml.to_owned(),
            now: r.now,
        }
    }
}

async fn record_in(
    conn: &mut AnyConnection,
    r: OwnedReceipt,
    lock: &'static str,
) -> Result<ReceiptOutcome, StoreError> {
    // The receipt's own transfers are in its raw XML; the option's are not needed.
    let found = find_notice(conn, r.ente_id, &r.notice_number, lock, Transfers::Skip).await?;
    let status = match &found {
        None => ReceiptStatus::UnknownNotice,
        Some(f) => classify_receipt(
            &f.position.lifecycle(),
            f.index,
            r.ok,
            f.option().amount == r.amount,
        ),
    };
    let option_id = found.as_ref().map(|f| f.option().id);
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO receipt (ente_id, receipt_id, notice_number, option_id, status, outcome, amount, fee, \
         psp_id, psp_company_name, channel_id, payment_method, payer_fiscal_code, payer_name, \
         payment_date_time, application_date, transfer_date, operation, raw_xml, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
         ON CONFLICT (ente_id, receipt_id) DO NOTHING RETURNING id",
    )
    .bind(r.ente_id)
    .bind(&r.receipt_id)
    .bind(&r.notice_number)
    .bind(option_id)
    .bind(status.code())
    .bind(if r.ok { "OK" } else { "KO" })
    .bind(r.amount.get())
    .bind(r.fee.map(Cents::get))
    .bind(&r.psp_id)
    .bind(&r.psp_company_name)
    .bind(&r.channel_id)
    .bind(r.payment_method.as_deref())
    .bind(r.payer_fiscal_code.as_deref())
    .bind(r.payer_name.as_deref())
    .bind(opt_micros(r.payment_date_time))
    .bind(r.application_date.as_deref())
    .bind(r.transfer_date.as_deref())
    .bind(&r.operation)
    .bind(&r.raw_xml)
    .bind(micros(r.now))
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_none() {
        // This receipt id was stored before: answer as then, change nothing.
        let earlier: String =
            sqlx::query_scalar("SELECT status FROM receipt WHERE ente_id = $1 AND receipt_id = $2")
                .bind(r.ente_id)
                .bind(&r.receipt_id)
                .fetch_one(&mut *conn)
                .await?;
        let earlier = ReceiptStatus::parse(&earlier)
            .ok_or_else(|| StoreError::Corrupt(format!("receipt status {earlier}")))?;
        return Ok(ReceiptOutcome::AlreadyStored(earlier));
    }
    if let (ReceiptStatus::Applied, Some(found), Some(row_id)) = (status, found, inserted) {
        // Which attempt this payment was: the RT's own paymentNote, else
        // the activation made last before the payment (never a later one).
        let recorded: Option<String> = sqlx::query_scalar(
            "SELECT payment_note FROM payment_activation WHERE option_id = $1 \
             AND created_at <= $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(found.option().id)
        .bind(micros(r.payment_date_time.unwrap_or(r.now)))
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
        let note = r.payment_note.clone().or(recorded);
        apply_payment(conn, found, &r).await?;
        queue_receipt_mail(conn, &r, row_id, note.as_deref()).await?;
    }
    // A payment that ends the option closes every activation of it; one
    // that does not (KO, an anomaly) closes only the attempts made before
    // it was paid: a later attempt stays in progress, and keeps blocking
    // what it excludes.
    if let Some(option_id) = option_id {
        let before = match status {
            ReceiptStatus::Applied => i64::MAX,
            _ => micros(r.payment_date_time.unwrap_or(r.now)),
        };
        sqlx::query(
            "UPDATE payment_activation SET closed_at = $2 WHERE option_id = $1 \
             AND closed_at IS NULL AND created_at <= $3",
        )
        .bind(option_id)
        .bind(micros(r.now))
        .bind(before)
        .execute(&mut *conn)
        .await?;
    }
    audit::record(
        conn,
        NewAuditEvent {
            at: r.now,
            actor: "pagopa-node",
            ente_id: Some(r.ente_id),
            action: "receipt",
            entity: "payment_option",
            entity_key: &r.notice_number,
            before: None,
            after: Some(serde_json::json!({ "receiptId": r.receipt_id, "status": status })),
            request_id: None,
        },
    )
    .await?;
    Ok(ReceiptOutcome::Stored(status))
}

/// Queues the receipt's e-mail, in the receipt's transaction, to whoever
/// made this payment: the payer's address in the RT; else the address of
/// the checkout that paid (the activation's paymentNote names it, as
/// Checkout passes our idCart); else the debtor's address in the RT.
/// Never to another attempt's address. No address, no e-mail.
async fn queue_receipt_mail(
    conn: &mut AnyConnection,
    r: &OwnedReceipt,
    receipt_row: i64,
    payment_note: Option<&str>,
) -> Result<(), StoreError> {
    let plausible = |e: &String| cassa_core::spontaneous::plausible_email(e);
    let checkout = match payment_note {
        Some(note) => sqlx::query(
            "SELECT c.email, c.lang FROM checkout c JOIN checkout_item i ON i.checkout_id = c.id \
             WHERE c.public_id = $1 AND i.ente_id = $2 AND i.notice_number = $3",
        )
        .bind(note)
        .bind(r.ente_id)
        .bind(&r.notice_number)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| -> Result<(String, String), StoreError> {
            Ok((row.try_get("email")?, row.try_get("lang")?))
        })
        .transpose()?,
        None => None,
    };
    let lang = checkout.as_ref().map_or("it", |(_, lang)| lang.as_str());
    let recipient = r
        .payer_email
        .clone()
        .filter(plausible)
        .or_else(|| {
            checkout
                .as_ref()
                .map(|(email, _)| email.clone())
                .filter(plausible)
        })
        .or_else(|| r.debtor_email.clone().filter(plausible));
    let Some(recipient) = recipient else {
        return Ok(());
    };
    outbox::enqueue_mail(
        conn,
        &outbox::NewMail {
            dedupe_key: &format!("receipt:{}:{}", r.ente_id, r.receipt_id),
            kind: outbox::MailKind::Receipt,
            recipient: &recipient,
            lang,
            payload: &receipt_row.to_string(),
            now: r.now,
        },
    )
    .await?;
    Ok(())
}

/// Marks the option paid and moves the position on (PARTIALLY_PAID or PAID).
async fn apply_payment(
    conn: &mut AnyConnection,
    found: NoticeMatch,
    r: &OwnedReceipt,
) -> Result<(), StoreError> {
    let mut position = found.position;
    let paid_at = r.payment_date_time.unwrap_or(r.now);
    position.options[found.index].status = OptionStatus::Paid;
    let status = position.lifecycle().status_after_payment();
    let option_id = position.options[found.index].id;
    sqlx::query(
        "UPDATE payment_option SET status = $2, payment_date = $3, payment_method = $4, psp_company = $5, \
         id_receipt = $6, updated_at = $7 WHERE id = $1",
    )
    .bind(option_id)
    .bind(OptionStatus::Paid.code())
    .bind(micros(paid_at))
    .bind(r.payment_method.as_deref())
    .bind(&r.psp_company_name)
    .bind(&r.receipt_id)
    .bind(micros(r.now))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE debt_position SET status = $2, payment_date = $3, updated_at = $4, version = version + 1 WHERE id = $1",
    )
    .bind(position.id)
    .bind(status.code())
    .bind(micros(paid_at))
    .bind(micros(r.now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
