//! Positions as rows: built in memory from a draft, then inserted many at a
//! time (multi-row `INSERT ... RETURNING`), so a batch of positions costs a
//! handful of round trips instead of a handful per position.

use std::collections::HashMap;

use cassa_core::debt::{Destination, OptionStatus, PaymentOption, PositionStatus, TransferStatus};
use cassa_core::{Cents, Iuv};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::write::PositionWrite;
use super::{StoredOption, StoredPosition, StoredTransfer};
use crate::bulk::{Cell, insert_rows};
use crate::sql::{flag, micros, opt_micros};

/// Storage keeps microseconds: so must what we hand back.
pub(super) fn stored_time(t: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
}

/// The position `w` describes, as it will be stored (ids still 0).
pub(super) fn new_position(
    w: &PositionWrite<'_>,
    status: PositionStatus,
    iuvs: &[Iuv],
) -> StoredPosition {
    let d = w.draft;
    let debtor = &d.debtor;
    let now = stored_time(w.now);
    StoredPosition {
        id: 0,
        ente_id: w.ente.id,
        tipo_dovuto_id: w.tipo_dovuto_id,
        iupd: d.iupd.clone(),
        debtor_type: debtor.kind,
        debtor_fiscal_code: debtor.id.as_str().to_owned(),
        debtor_name: debtor.full_name.clone(),
        street_name: debtor.street_name.clone(),
        civic_number: debtor.civic_number.clone(),
        postal_code: debtor.postal_code.clone(),
        city: debtor.city.clone(),
        province: debtor.province.clone(),
        region: debtor.region.clone(),
        country: debtor.country.clone(),
        email: debtor.email.clone(),
        phone: debtor.phone.clone(),
        company_name: d.company_name.clone(),
        office_name: d.office_name.clone(),
        validity_date: d.validity_date.map(stored_time),
        switch_to_expired: d.switch_to_expired,
        pay_stand_in: d.pay_stand_in,
        status,
        origin: w.origin,
        inserted_at: now,
        updated_at: now,
        published_at: (status != PositionStatus::Draft).then_some(now),
        payment_date: None,
        version: 0,
        import_job: None,
        options: d
            .options
            .iter()
            .zip(iuvs)
            .enumerate()
            .map(|(seq, (o, iuv))| new_option(seq as i32, o, iuv, now, now))
            .collect(),
    }
}

/// An option as it will be stored; `inserted_at` differs from `now` when
/// an update keeps an option's IUV.
pub(super) fn new_option(
    seq: i32,
    o: &PaymentOption,
    iuv: &Iuv,
    inserted_at: Timestamp,
    now: Timestamp,
) -> StoredOption {
    StoredOption {
        id: 0,
        seq,
        iuv: iuv.as_str().to_owned(),
        notice_number: iuv.notice_number().as_str().to_owned(),
        amount: o.amount,
        description: o.description.clone(),
        is_partial_payment: o.is_partial_payment,
        due_date: stored_time(o.due_date),
        retention_date: o.retention_date.map(stored_time),
        valid_from: o.valid_from.map(stored_time),
        fee: o.fee,
        notification_fee: Cents::ZERO,
        status: OptionStatus::Unpaid,
        payment_date: None,
        reporting_date: None,
        payment_method: None,
        psp_company: None,
        id_receipt: None,
        id_flow_reporting: None,
        metadata: o.metadata.clone(),
        inserted_at,
        updated_at: now,
        transfers: o
            .transfers
            .iter()
            .map(|t| {
                let (iban, postal_iban, stamp) = match &t.destination {
                    Destination::Account { iban, postal_iban } => (
                        Some(iban.as_str().to_owned()),
                        postal_iban.as_ref().map(|p| p.as_str().to_owned()),
                        None,
                    ),
                    Destination::Stamp(stamp) => (None, None, Some(stamp.clone())),
                };
                StoredTransfer {
                    id_transfer: t.id,
                    amount: t.amount,
                    organization_fiscal_code: t.organization_fiscal_code.as_str().to_owned(),
                    company_name: t.company_name.clone(),
                    remittance_information: t.remittance_information.clone(),
                    category: t.category.to_string(),
                    iban,
                    postal_iban,
                    stamp,
                    status: TransferStatus::Unreported,
                    metadata: t.metadata.clone(),
                    inserted_at,
                    updated_at: now,
                }
            })
            .collect(),
    }
}

/// Earliest and latest due date, for listing by due date without a join.
pub(super) fn due_bounds(options: &[StoredOption]) -> (i64, i64) {
    let dues = options.iter().map(|o| micros(o.due_date));
    (dues.clone().min().unwrap_or(0), dues.max().unwrap_or(0))
}

fn metadata_json(metadata: &[cassa_core::debt::Metadata]) -> String {
    serde_json::to_string(metadata).unwrap_or_else(|_| "[]".to_owned())
}

const POSITION_COLUMNS: [&str; 30] = [
    "ente_id",
    "tipo_dovuto_id",
    "iupd",
    "debtor_type",
    "debtor_fiscal_code",
    "debtor_name",
    "street_name",
    "civic_number",
    "postal_code",
    "city",
    "province",
    "region",
    "country",
    "email",
    "phone",
    "company_name",
    "office_name",
    "validity_date",
    "switch_to_expired",
    "pay_stand_in",
    "status",
    "origin",
    "min_due_date",
    "max_due_date",
    "inserted_at",
    "updated_at",
    "published_at",
    "payment_date",
    "version",
    "import_job",
];

fn position_cells(p: &StoredPosition) -> Vec<Cell> {
    let (min_due, max_due) = due_bounds(&p.options);
    vec![
        p.ente_id.into(),
        p.tipo_dovuto_id.into(),
        p.iupd.as_str().into(),
        p.debtor_type.code().into(),
        p.debtor_fiscal_code.as_str().into(),
        p.debtor_name.as_str().into(),
        p.street_name.clone().into(),
        p.civic_number.clone().into(),
        p.postal_code.clone().into(),
        p.city.clone().into(),
        p.province.clone().into(),
        p.region.clone().into(),
        p.country.clone().into(),
        p.email.clone().into(),
        p.phone.clone().into(),
        p.company_name.as_str().into(),
        p.office_name.clone().into(),
        opt_micros(p.validity_date).into(),
        flag(p.switch_to_expired).into(),
        flag(p.pay_stand_in).into(),
        p.status.code().into(),
        p.origin.code().into(),
        min_due.into(),
        max_due.into(),
        micros(p.inserted_at).into(),
        micros(p.updated_at).into(),
        opt_micros(p.published_at).into(),
        opt_micros(p.payment_date).into(),
        p.version.into(),
        p.import_job.into(),
    ]
}

const OPTION_COLUMNS: [&str; 17] = [
    "position_id",
    "ente_id",
    "seq",
    "iuv",
    "notice_number",
    "amount",
    "description",
    "is_partial_payment",
    "due_date",
    "retention_date",
    "valid_from",
    "fee",
    "notification_fee",
    "status",
    "metadata",
    "inserted_at",
    "updated_at",
];

fn option_cells(position_id: i64, ente_id: i64, o: &StoredOption) -> Vec<Cell> {
    vec![
        position_id.into(),
        ente_id.into(),
        o.seq.into(),
        o.iuv.as_str().into(),
        o.notice_number.as_str().into(),
        o.amount.get().into(),
        o.description.as_str().into(),
        flag(o.is_partial_payment).into(),
        micros(o.due_date).into(),
        opt_micros(o.retention_date).into(),
        opt_micros(o.valid_from).into(),
        o.fee.get().into(),
        o.notification_fee.get().into(),
        o.status.code().into(),
        metadata_json(&o.metadata).into(),
        micros(o.inserted_at).into(),
        micros(o.updated_at).into(),
    ]
}

const TRANSFER_COLUMNS: [&str; 16] = [
    "option_id",
    "id_transfer",
    "amount",
    "organization_fiscal_code",
    "company_name",
    "remittance_information",
    "category",
    "iban",
    "postal_iban",
    "stamp_hash_document",
    "stamp_type",
    "stamp_provincial_residence",
    "status",
    "metadata",
    "inserted_at",
    "updated_at",
];

fn transfer_cells(option_id: i64, t: &StoredTransfer) -> Vec<Cell> {
    let stamp = t.stamp.as_ref();
    vec![
        option_id.into(),
        i32::from(t.id_transfer).into(),
        t.amount.get().into(),
        t.organization_fiscal_code.as_str().into(),
        t.company_name.clone().into(),
        t.remittance_information.as_str().into(),
        t.category.as_str().into(),
        t.iban.clone().into(),
        t.postal_iban.clone().into(),
        stamp.map(|s| s.hash_document.clone()).into(),
        stamp.map(|s| s.stamp_type.clone()).into(),
        stamp.map(|s| s.provincial_residence.clone()).into(),
        t.status.code().into(),
        metadata_json(&t.metadata).into(),
        micros(t.inserted_at).into(),
        micros(t.updated_at).into(),
    ]
}

/// `(ente_id, key) → id` from rows returned as `id, ente_id, key`.
fn ids_by_key(rows: &[AnyRow]) -> Result<HashMap<(i64, String), i64>, sqlx::Error> {
    rows.iter()
        .map(|row| Ok(((row.try_get(1)?, row.try_get(2)?), row.try_get(0)?)))
        .collect()
}

/// Inserts new positions with their options and transfers, filling in ids.
pub(super) async fn insert_positions(
    conn: &mut AnyConnection,
    positions: &mut [StoredPosition],
) -> Result<(), sqlx::Error> {
    let rows = positions.iter().map(position_cells).collect();
    let returned = insert_rows(
        conn,
        "debt_position",
        &POSITION_COLUMNS,
        rows,
        Some("id, ente_id, iupd"),
    )
    .await?;
    let ids = ids_by_key(&returned)?;
    for p in positions.iter_mut() {
        p.id = *ids
            .get(&(p.ente_id, p.iupd.clone()))
            .ok_or_else(|| sqlx::Error::Protocol(format!("no id returned for IUPD {}", p.iupd)))?;
    }
    let mut all: Vec<&mut StoredPosition> = positions.iter_mut().collect();
    insert_options(conn, &mut all).await
}

/// Inserts the options (and transfers) of positions that have their ids.
pub(super) async fn insert_options(
    conn: &mut AnyConnection,
    positions: &mut [&mut StoredPosition],
) -> Result<(), sqlx::Error> {
    let mut options: Vec<(i64, i64, &mut StoredOption)> = positions
        .iter_mut()
        .flat_map(|p| {
            let (position_id, ente_id) = (p.id, p.ente_id);
            p.options.iter_mut().map(move |o| (position_id, ente_id, o))
        })
        .collect();
    let rows = options
        .iter()
        .map(|(position_id, ente_id, o)| option_cells(*position_id, *ente_id, o))
        .collect();
    let returned = insert_rows(
        conn,
        "payment_option",
        &OPTION_COLUMNS,
        rows,
        Some("id, ente_id, iuv"),
    )
    .await?;
    let ids = ids_by_key(&returned)?;
    for (_, ente_id, o) in options.iter_mut() {
        o.id = *ids
            .get(&(*ente_id, o.iuv.clone()))
            .ok_or_else(|| sqlx::Error::Protocol(format!("no id returned for IUV {}", o.iuv)))?;
    }
    let rows = options
        .iter()
        .flat_map(|(_, _, o)| o.transfers.iter().map(|t| transfer_cells(o.id, t)))
        .collect();
    insert_rows(conn, "transfer", &TRANSFER_COLUMNS, rows, None).await?;
    Ok(())
}
