//! Reading positions back: by IUPD, and paged lists with GPD's filters.

use std::collections::HashMap;

use cassa_core::Cents;
use cassa_core::debt::{
    DebtorKind, Metadata, OptionStatus, PositionStatus, RevenueStamp, TransferStatus,
};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Origin, StoredOption, StoredPosition, StoredTransfer};
use crate::sql::{micros, opt_timestamp, placeholders, timestamp};
use crate::{Store, StoreError};

pub(crate) const POSITION_COLUMNS: &str = "id, ente_id, tipo_dovuto_id, iupd, debtor_type, \
    debtor_fiscal_code, debtor_name, street_name, civic_number, postal_code, city, province, region, \
    country, email, phone, company_name, office_name, validity_date, switch_to_expired, pay_stand_in, \
    status, origin, inserted_at, updated_at, published_at, payment_date, version, import_job";

const OPTION_COLUMNS: &str = "id, position_id, seq, iuv, notice_number, amount, description, \
    is_partial_payment, due_date, retention_date, valid_from, fee, notification_fee, status, payment_date, \
    reporting_date, payment_method, psp_company, id_receipt, id_flow_reporting, metadata, \
    inserted_at, updated_at";

const TRANSFER_COLUMNS: &str = "option_id, id_transfer, amount, organization_fiscal_code, \
    company_name, remittance_information, category, iban, postal_iban, stamp_hash_document, \
    stamp_type, stamp_provincial_residence, status, metadata, inserted_at, updated_at";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

pub(crate) fn metadata_from_json(text: &str) -> Result<Vec<Metadata>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("metadata: {e}")))
}

pub(crate) fn position_from_row(row: &AnyRow) -> Result<StoredPosition, StoreError> {
    let debtor_type: String = row.try_get("debtor_type")?;
    let status: String = row.try_get("status")?;
    let origin: String = row.try_get("origin")?;
    Ok(StoredPosition {
        id: row.try_get("id")?,
        ente_id: row.try_get("ente_id")?,
        tipo_dovuto_id: row.try_get("tipo_dovuto_id")?,
        iupd: row.try_get("iupd")?,
        debtor_type: DebtorKind::parse(&debtor_type)
            .ok_or_else(|| corrupt("debtor type", &debtor_type))?,
        debtor_fiscal_code: row.try_get("debtor_fiscal_code")?,
        debtor_name: row.try_get("debtor_name")?,
        street_name: row.try_get("street_name")?,
        civic_number: row.try_get("civic_number")?,
        postal_code: row.try_get("postal_code")?,
        city: row.try_get("city")?,
        province: row.try_get("province")?,
        region: row.try_get("region")?,
        country: row.try_get("country")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        company_name: row.try_get("company_name")?,
        office_name: row.try_get("office_name")?,
        validity_date: opt_timestamp(row.try_get("validity_date")?)?,
        switch_to_expired: row.try_get::<i64, _>("switch_to_expired")? != 0,
        pay_stand_in: row.try_get::<i64, _>("pay_stand_in")? != 0,
        status: PositionStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        origin: Origin::parse(&origin).ok_or_else(|| corrupt("origin", &origin))?,
        inserted_at: timestamp(row.try_get("inserted_at")?)?,
        updated_at: timestamp(row.try_get("updated_at")?)?,
        published_at: opt_timestamp(row.try_get("published_at")?)?,
        payment_date: opt_timestamp(row.try_get("payment_date")?)?,
        version: row.try_get("version")?,
        import_job: row.try_get("import_job")?,
        options: Vec::new(),
    })
}

fn option_from_row(row: &AnyRow) -> Result<(i64, StoredOption), StoreError> {
    let status: String = row.try_get("status")?;
    let metadata: String = row.try_get("metadata")?;
    Ok((
        row.try_get("position_id")?,
        StoredOption {
            id: row.try_get("id")?,
            seq: row.try_get("seq")?,
            iuv: row.try_get("iuv")?,
            notice_number: row.try_get("notice_number")?,
            amount: Cents::new(row.try_get("amount")?),
            description: row.try_get("description")?,
            is_partial_payment: row.try_get::<i64, _>("is_partial_payment")? != 0,
            due_date: timestamp(row.try_get("due_date")?)?,
            retention_date: opt_timestamp(row.try_get("retention_date")?)?,
            valid_from: opt_timestamp(row.try_get("valid_from")?)?,
            fee: Cents::new(row.try_get("fee")?),
            notification_fee: Cents::new(row.try_get("notification_fee")?),
            status: OptionStatus::parse(&status)
                .ok_or_else(|| corrupt("option status", &status))?,
            payment_date: opt_timestamp(row.try_get("payment_date")?)?,
            reporting_date: opt_timestamp(row.try_get("reporting_date")?)?,
            payment_method: row.try_get("payment_method")?,
            psp_company: row.try_get("psp_company")?,
            id_receipt: row.try_get("id_receipt")?,
            id_flow_reporting: row.try_get("id_flow_reporting")?,
            metadata: metadata_from_json(&metadata)?,
            inserted_at: timestamp(row.try_get("inserted_at")?)?,
            updated_at: timestamp(row.try_get("updated_at")?)?,
            transfers: Vec::new(),
        },
    ))
}

fn transfer_from_row(row: &AnyRow) -> Result<(i64, StoredTransfer), StoreError> {
    let status: String = row.try_get("status")?;
    let metadata: String = row.try_get("metadata")?;
    let id_transfer: i64 = row.try_get("id_transfer")?;
    let stamp = match (
        row.try_get::<Option<String>, _>("stamp_hash_document")?,
        row.try_get::<Option<String>, _>("stamp_type")?,
        row.try_get::<Option<String>, _>("stamp_provincial_residence")?,
    ) {
        (Some(hash_document), Some(stamp_type), Some(provincial_residence)) => Some(RevenueStamp {
            hash_document,
            stamp_type,
            provincial_residence,
        }),
        _ => None,
    };
    Ok((
        row.try_get("option_id")?,
        StoredTransfer {
            id_transfer: u8::try_from(id_transfer)
                .map_err(|_| corrupt("transfer id", &id_transfer.to_string()))?,
            amount: Cents::new(row.try_get("amount")?),
            organization_fiscal_code: row.try_get("organization_fiscal_code")?,
            company_name: row.try_get("company_name")?,
            remittance_information: row.try_get("remittance_information")?,
            category: row.try_get("category")?,
            iban: row.try_get("iban")?,
            postal_iban: row.try_get("postal_iban")?,
            stamp,
            status: TransferStatus::parse(&status)
                .ok_or_else(|| corrupt("transfer status", &status))?,
            metadata: metadata_from_json(&metadata)?,
            inserted_at: timestamp(row.try_get("inserted_at")?)?,
            updated_at: timestamp(row.try_get("updated_at")?)?,
        },
    ))
}

/// Whether to load the transfers of the options too.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Transfers {
    Load,
    Skip,
}

/// Fills in the options (only those due in `due_range`, when given) and
/// their transfers of the given positions.
pub(crate) async fn load_options(
    conn: &mut AnyConnection,
    positions: &mut [StoredPosition],
    due_range: Option<(Timestamp, Timestamp)>,
    transfers: Transfers,
) -> Result<(), StoreError> {
    if positions.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = positions.iter().map(|p| p.id).collect();
    let mut sql = format!(
        "SELECT {OPTION_COLUMNS} FROM payment_option WHERE position_id IN ({})",
        placeholders(ids.len(), 1)
    );
    if due_range.is_some() {
        let n = ids.len();
        sql.push_str(&format!(" AND due_date BETWEEN ${} AND ${}", n + 1, n + 2));
    }
    sql.push_str(" ORDER BY position_id, seq");
    let mut query = sqlx::query(&sql);
    for id in &ids {
        query = query.bind(*id);
    }
    if let Some((from, to)) = due_range {
        query = query.bind(micros(from)).bind(micros(to));
    }
    let mut options: Vec<(i64, StoredOption)> = query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(option_from_row)
        .collect::<Result<_, _>>()?;

    if transfers == Transfers::Load && !options.is_empty() {
        let option_ids: Vec<i64> = options.iter().map(|(_, o)| o.id).collect();
        let sql = format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfer WHERE option_id IN ({}) ORDER BY option_id, id_transfer",
            placeholders(option_ids.len(), 1)
        );
        let mut query = sqlx::query(&sql);
        for id in &option_ids {
            query = query.bind(*id);
        }
        let mut by_option: HashMap<i64, Vec<StoredTransfer>> = HashMap::new();
        for row in query.fetch_all(&mut *conn).await? {
            let (option_id, transfer) = transfer_from_row(&row)?;
            by_option.entry(option_id).or_default().push(transfer);
        }
        for (_, option) in &mut options {
            option.transfers = by_option.remove(&option.id).unwrap_or_default();
        }
    }

    let mut by_position: HashMap<i64, Vec<StoredOption>> = HashMap::new();
    for (position_id, option) in options {
        by_position.entry(position_id).or_default().push(option);
    }
    for position in positions {
        position.options = by_position.remove(&position.id).unwrap_or_default();
    }
    Ok(())
}

/// Loads one position with everything under it; `lock` adds `FOR UPDATE`
/// where the backend supports it.
pub(crate) async fn load_position(
    conn: &mut AnyConnection,
    ente_id: i64,
    iupd: &str,
    lock: &str,
) -> Result<Option<StoredPosition>, StoreError> {
    load_where(
        conn,
        "ente_id = $1 AND iupd = $2",
        ente_id,
        iupd,
        lock,
        Transfers::Load,
    )
    .await
}

/// The position holding the option with this notice number.
pub(crate) async fn load_position_by_notice(
    conn: &mut AnyConnection,
    ente_id: i64,
    notice_number: &str,
    lock: &str,
    transfers: Transfers,
) -> Result<Option<StoredPosition>, StoreError> {
    let condition =
        "id = (SELECT position_id FROM payment_option WHERE ente_id = $1 AND notice_number = $2)";
    load_where(conn, condition, ente_id, notice_number, lock, transfers).await
}

/// The position matching `condition` on `$1` (an integer) and `$2` (text).
pub(crate) async fn load_where(
    conn: &mut AnyConnection,
    condition: &str,
    ente_id: i64,
    key: &str,
    lock: &str,
    transfers: Transfers,
) -> Result<Option<StoredPosition>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {POSITION_COLUMNS} FROM debt_position WHERE {condition} AND {}{lock}",
        super::visible("")
    ))
    .bind(ente_id)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut positions = [position_from_row(&row)?];
    load_options(conn, &mut positions, None, transfers).await?;
    let [position] = positions;
    Ok(Some(position))
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    InsertedDate,
    Iupd,
    Status,
    CompanyName,
}

impl SortKey {
    fn column(self) -> &'static str {
        match self {
            SortKey::InsertedDate => "inserted_at",
            SortKey::Iupd => "iupd",
            SortKey::Status => "status",
            SortKey::CompanyName => "company_name",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ListOrder {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for ListOrder {
    fn default() -> Self {
        ListOrder {
            key: SortKey::InsertedDate,
            descending: true,
        }
    }
}

/// GPD's list filters. Date ranges are inclusive at both ends.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub status: Option<PositionStatus>,
    /// Positions with an option due in the range; only those options are returned.
    pub due_date: Option<(Timestamp, Timestamp)>,
    pub payment_date: Option<(Timestamp, Timestamp)>,
    pub order: ListOrder,
    /// From 0.
    pub page: u32,
    pub limit: u32,
}

#[derive(Clone, Debug)]
pub struct PositionPage {
    pub positions: Vec<StoredPosition>,
    /// Positions matching the filter over all pages.
    pub total: u64,
}

/// Binds the list filter's parameters in their numbered order: the ente,
/// the status if any, then the date bounds.
fn bind_filter<'q>(
    sql: &'q str,
    ints: &'q [i64],
    status: Option<&'static str>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql).bind(ints[0]);
    if let Some(status) = status {
        q = q.bind(status);
    }
    for v in &ints[1..] {
        q = q.bind(*v);
    }
    q
}

impl Store {
    pub async fn position(
        &self,
        ente_id: i64,
        iupd: &str,
    ) -> Result<Option<StoredPosition>, StoreError> {
        let mut conn = self.read().acquire().await?;
        load_position(&mut conn, ente_id, iupd, "").await
    }

    /// The position holding this notice number of the ente.
    pub async fn position_by_notice(
        &self,
        ente_id: i64,
        notice_number: &str,
    ) -> Result<Option<StoredPosition>, StoreError> {
        let mut conn = self.read().acquire().await?;
        load_position_by_notice(&mut conn, ente_id, notice_number, "", Transfers::Skip).await
    }

    /// The positions, of any ente, with an option numbered `notice_number`
    /// and `debtor_fiscal_code` as debtor: what a citizen finds with the
    /// two codes printed on a notice. Options without their transfers.
    pub async fn positions_by_notice_and_debtor(
        &self,
        notice_number: &str,
        debtor_fiscal_code: &str,
    ) -> Result<Vec<StoredPosition>, StoreError> {
        let mut conn = self.read().acquire().await?;
        let mut positions: Vec<StoredPosition> = sqlx::query(&format!(
            "SELECT {POSITION_COLUMNS} FROM debt_position WHERE debtor_fiscal_code = $2 \
             AND id IN (SELECT position_id FROM payment_option WHERE notice_number = $1) AND {} AND {} ORDER BY id",
            super::visible(""),
            super::OF_ACTIVE_ENTE
        ))
        .bind(notice_number)
        .bind(debtor_fiscal_code)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(position_from_row)
        .collect::<Result<_, _>>()?;
        load_options(&mut conn, &mut positions, None, Transfers::Skip).await?;
        Ok(positions)
    }

    pub async fn list_positions(
        &self,
        ente_id: i64,
        filter: &ListFilter,
    ) -> Result<PositionPage, StoreError> {
        let mut conditions = vec!["ente_id = $1".to_owned(), super::visible("")];
        let mut ints: Vec<i64> = vec![ente_id];
        let mut status_param = None;
        if let Some(status) = filter.status {
            conditions.push(format!("status = ${}", ints.len() + 1));
            status_param = Some(status.code());
        }
        // Integer parameters follow the status, if any.
        let offset = usize::from(status_param.is_some());
        if let Some((from, to)) = filter.due_date {
            let n = ints.len() + offset;
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM payment_option o WHERE o.position_id = debt_position.id \
                 AND o.due_date BETWEEN ${} AND ${})",
                n + 1,
                n + 2
            ));
            ints.extend([micros(from), micros(to)]);
        }
        if let Some((from, to)) = filter.payment_date {
            let n = ints.len() + offset;
            conditions.push(format!("payment_date BETWEEN ${} AND ${}", n + 1, n + 2));
            ints.extend([micros(from), micros(to)]);
        }
        let where_clause = conditions.join(" AND ");
        let bind_all = |sql| bind_filter(sql, &ints, status_param);

        let mut conn = self.read().acquire().await?;
        let count_sql = format!("SELECT COUNT(*) FROM debt_position WHERE {where_clause}");
        let total: i64 = bind_all(&count_sql)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;

        let direction = if filter.order.descending {
            "DESC"
        } else {
            "ASC"
        };
        let limit = filter.limit.max(1);
        let page_sql = format!(
            "SELECT {POSITION_COLUMNS} FROM debt_position WHERE {where_clause} \
             ORDER BY {} {direction}, id {direction} LIMIT {limit} OFFSET {}",
            filter.order.key.column(),
            u64::from(filter.page) * u64::from(limit)
        );
        let mut positions: Vec<StoredPosition> = bind_all(&page_sql)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(position_from_row)
            .collect::<Result<_, _>>()?;
        load_options(&mut conn, &mut positions, filter.due_date, Transfers::Load).await?;
        Ok(PositionPage {
            positions,
            total: total as u64,
        })
    }
}
