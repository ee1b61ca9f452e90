//! Positions as rows: built in memory from a draft, then inserted many at a
//! time (multi-row `INSERT ... RETURNING`), so a batch of positions costs a
//! handful of round trips instead of a handful per position.

use std::collections::HashMap;

use cassa_core::debt::{Destination, OptionStatus, PaymentOption, PositionStatus, TransferStatus};
use cassa_core::{Cents, Iuv};
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use super::write::PositionWrite;
use super::{StoredOption, StoredPosition, StoredTransfer};
use crate::sql::{flag, micros, opt_micros, values_clause};

/// Rows per multi-row INSERT. SQLite looks a numbered parameter up by
/// walking the statement's parameter list, so binding P parameters costs
/// P² steps: past a thousand or so parameters a statement spends most of
/// its time there (`sqlite3_bind_parameter_name` was 70% of an import's
/// profile at 500 rows). 64 rows keeps statements near a thousand
/// parameters and costs PostgreSQL only a few more round trips.
const ROWS_PER_STATEMENT: usize = 64;

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

const POSITION_INSERT_COLUMNS: &str = "ente_id, tipo_dovuto_id, iupd, debtor_type, debtor_fiscal_code, \
    debtor_name, street_name, civic_number, postal_code, city, province, region, country, email, phone, \
    company_name, office_name, validity_date, switch_to_expired, pay_stand_in, status, origin, min_due_date, \
    max_due_date, inserted_at, updated_at, published_at, payment_date, version";

/// Inserts new positions with their options and transfers, filling in ids.
pub(super) async fn insert_positions(
    conn: &mut AnyConnection,
    positions: &mut [StoredPosition],
) -> Result<(), sqlx::Error> {
    for chunk in positions.chunks_mut(ROWS_PER_STATEMENT / 2) {
        let sql = format!(
            "INSERT INTO debt_position ({POSITION_INSERT_COLUMNS}) VALUES {} RETURNING id, ente_id, iupd",
            values_clause(chunk.len(), 29, 1)
        );
        let mut query = sqlx::query(&sql);
        for p in chunk.iter() {
            let (min_due, max_due) = due_bounds(&p.options);
            query = query
                .bind(p.ente_id)
                .bind(p.tipo_dovuto_id)
                .bind(p.iupd.clone())
                .bind(p.debtor_type.code())
                .bind(p.debtor_fiscal_code.clone())
                .bind(p.debtor_name.clone())
                .bind(p.street_name.clone())
                .bind(p.civic_number.clone())
                .bind(p.postal_code.clone())
                .bind(p.city.clone())
                .bind(p.province.clone())
                .bind(p.region.clone())
                .bind(p.country.clone())
                .bind(p.email.clone())
                .bind(p.phone.clone())
                .bind(p.company_name.clone())
                .bind(p.office_name.clone())
                .bind(opt_micros(p.validity_date))
                .bind(flag(p.switch_to_expired))
                .bind(flag(p.pay_stand_in))
                .bind(p.status.code())
                .bind(p.origin.code())
                .bind(min_due)
                .bind(max_due)
                .bind(micros(p.inserted_at))
                .bind(micros(p.updated_at))
                .bind(opt_micros(p.published_at))
                .bind(opt_micros(p.payment_date))
                .bind(p.version);
        }
        let ids: HashMap<(i64, String), i64> = query
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| Ok(((row.try_get(1)?, row.try_get(2)?), row.try_get(0)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        for p in chunk.iter_mut() {
            p.id = *ids.get(&(p.ente_id, p.iupd.clone())).ok_or_else(|| {
                sqlx::Error::Protocol(format!("no id returned for IUPD {}", p.iupd))
            })?;
        }
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
    for chunk in options.chunks_mut(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO payment_option (position_id, ente_id, seq, iuv, notice_number, amount, description, \
             is_partial_payment, due_date, retention_date, fee, notification_fee, status, metadata, inserted_at, \
             updated_at) VALUES {} RETURNING id, ente_id, iuv",
            values_clause(chunk.len(), 16, 1)
        );
        let mut query = sqlx::query(&sql);
        for (position_id, ente_id, o) in chunk.iter() {
            query = query
                .bind(*position_id)
                .bind(*ente_id)
                .bind(o.seq)
                .bind(o.iuv.clone())
                .bind(o.notice_number.clone())
                .bind(o.amount.get())
                .bind(o.description.clone())
                .bind(flag(o.is_partial_payment))
                .bind(micros(o.due_date))
                .bind(opt_micros(o.retention_date))
                .bind(o.fee.get())
                .bind(o.notification_fee.get())
                .bind(o.status.code())
                .bind(metadata_json(&o.metadata))
                .bind(micros(o.inserted_at))
                .bind(micros(o.updated_at));
        }
        let ids: HashMap<(i64, String), i64> = query
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| Ok(((row.try_get(1)?, row.try_get(2)?), row.try_get(0)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        for (_, ente_id, o) in chunk.iter_mut() {
            o.id = *ids.get(&(*ente_id, o.iuv.clone())).ok_or_else(|| {
                sqlx::Error::Protocol(format!("no id returned for IUV {}", o.iuv))
            })?;
        }
    }
    let transfers: Vec<(i64, &StoredTransfer)> = options
        .iter()
        .flat_map(|(_, _, o)| o.transfers.iter().map(|t| (o.id, t)))
        .collect();
    for chunk in transfers.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO transfer (option_id, id_transfer, amount, organization_fiscal_code, company_name, \
             remittance_information, category, iban, postal_iban, stamp_hash_document, stamp_type, \
             stamp_provincial_residence, status, metadata, inserted_at, updated_at) VALUES {}",
            values_clause(chunk.len(), 16, 1)
        );
        let mut query = sqlx::query(&sql);
        for (option_id, t) in chunk {
            let stamp = t.stamp.as_ref();
            query = query
                .bind(*option_id)
                .bind(i32::from(t.id_transfer))
                .bind(t.amount.get())
                .bind(t.organization_fiscal_code.clone())
                .bind(t.company_name.clone())
                .bind(t.remittance_information.clone())
                .bind(t.category.clone())
                .bind(t.iban.clone())
                .bind(t.postal_iban.clone())
                .bind(stamp.map(|s| s.hash_document.clone()))
                .bind(stamp.map(|s| s.stamp_type.clone()))
                .bind(stamp.map(|s| s.provincial_residence.clone()))
                .bind(t.status.code())
                .bind(metadata_json(&t.metadata))
                .bind(micros(t.inserted_at))
                .bind(micros(t.updated_at));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
