//! Gestione Dovuti's search: an ente's positions by notice number or IUV,
//! IUPD, debtor, tipo dovuto, status, due and payment dates; paged and
//! sorted. The operator's tipo-dovuto scope is a required argument, so no
//! caller can forget it.

use cassa_core::access::TipoScope;
use cassa_core::debt::PositionStatus;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

use crate::sql::{micros, opt_timestamp, timestamp};
use crate::{Store, StoreError};

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum DovutiSort {
    #[default]
    Inserted,
    DueDate,
    Amount,
    Debtor,
    Status,
}

impl DovutiSort {
    pub fn parse(code: &str) -> Option<DovutiSort> {
        Some(match code {
            "inserito" => DovutiSort::Inserted,
            "scadenza" => DovutiSort::DueDate,
            "importo" => DovutiSort::Amount,
            "debitore" => DovutiSort::Debtor,
            "stato" => DovutiSort::Status,
            _ => return None,
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            DovutiSort::Inserted => "inserito",
            DovutiSort::DueDate => "scadenza",
            DovutiSort::Amount => "importo",
            DovutiSort::Debtor => "debitore",
            DovutiSort::Status => "stato",
        }
    }

    fn column(self) -> &'static str {
        match self {
            DovutiSort::Inserted => "p.inserted_at",
            DovutiSort::DueDate => "p.min_due_date",
            DovutiSort::Amount => "amount",
            DovutiSort::Debtor => "p.debtor_name",
            DovutiSort::Status => "p.status",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct DovutiFilter {
    /// A notice number (18 digits) or an IUV.
    pub notice: Option<String>,
    pub iupd: Option<String>,
    pub debtor_fiscal_code: Option<String>,
    /// Part of the debtor's name, any case.
    pub debtor_name: Option<String>,
    pub tipo_dovuto_id: Option<i64>,
    pub status: Option<PositionStatus>,
    /// Positions with an option due in the range (inclusive).
    pub due: Option<(Timestamp, Timestamp)>,
    pub paid: Option<(Timestamp, Timestamp)>,
    pub sort: DovutiSort,
    pub descending: bool,
    /// From 0.
    pub page: u32,
    pub per_page: u32,
}

/// One line of the result.
#[derive(Clone, Debug, Serialize)]
pub struct DovutoRow {
    pub iupd: String,
    pub debtor_name: String,
    pub debtor_fiscal_code: String,
    pub tipo_dovuto_code: Option<String>,
    pub tipo_dovuto_name: Option<String>,
    pub status: String,
    /// The single payment's amount, or the installments' total.
    pub amount: i64,
    pub first_due: Timestamp,
    pub first_notice: Option<String>,
    pub payment_date: Option<Timestamp>,
    pub inserted_at: Timestamp,
}

enum Param {
    Int(i64),
    Text(String),
}

impl Store {
    pub async fn search_dovuti(
        &self,
        ente_id: i64,
        tipi: &TipoScope,
        filter: &DovutiFilter,
    ) -> Result<(Vec<DovutoRow>, u64), StoreError> {
        let mut params = vec![Param::Int(ente_id)];
        let mut conditions = vec!["p.ente_id = $1".to_owned(), super::visible("p.")];
        let next = |p: Param, params: &mut Vec<Param>| {
            params.push(p);
            format!("${}", params.len())
        };
        match tipi {
            TipoScope::All => {}
            TipoScope::Only(ids) if ids.is_empty() => conditions.push("1 = 0".into()),
            TipoScope::Only(ids) => {
                let list: Vec<String> = ids
                    .iter()
                    .map(|id| next(Param::Int(*id), &mut params))
                    .collect();
                conditions.push(format!("p.tipo_dovuto_id IN ({})", list.join(", ")));
            }
        }
        if let Some(notice) = filter
            .notice
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let digits: String = notice.chars().filter(|c| !c.is_whitespace()).collect();
            let a = next(Param::Text(digits.clone()), &mut params);
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM payment_option o WHERE o.position_id = p.id \
                 AND (o.notice_number = {a} OR o.iuv = {a}))"
            ));
        }
        if let Some(iupd) = filter
            .iupd
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let a = next(Param::Text(iupd.to_owned()), &mut params);
            conditions.push(format!("p.iupd = {a}"));
        }
        if let Some(code) = filter
            .debtor_fiscal_code
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let a = next(Param::Text(code.to_uppercase()), &mut params);
            conditions.push(format!("p.debtor_fiscal_code = {a}"));
        }
        if let Some(name) = filter
            .debtor_name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let pattern = format!("%{}%", name.to_lowercase().replace(['%', '_'], ""));
            let a = next(Param::Text(pattern), &mut params);
            conditions.push(format!("LOWER(p.debtor_name) LIKE {a}"));
        }
        if let Some(tipo) = filter.tipo_dovuto_id {
            let a = next(Param::Int(tipo), &mut params);
            conditions.push(format!("p.tipo_dovuto_id = {a}"));
        }
        if let Some(status) = filter.status {
            let a = next(Param::Text(status.code().to_owned()), &mut params);
            conditions.push(format!("p.status = {a}"));
        }
        if let Some((from, to)) = filter.due {
            let a = next(Param::Int(micros(from)), &mut params);
            let b = next(Param::Int(micros(to)), &mut params);
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM payment_option o WHERE o.position_id = p.id \
                 AND o.due_date BETWEEN {a} AND {b})"
            ));
        }
        if let Some((from, to)) = filter.paid {
            let a = next(Param::Int(micros(from)), &mut params);
            let b = next(Param::Int(micros(to)), &mut params);
            conditions.push(format!("p.payment_date BETWEEN {a} AND {b}"));
        }
        let where_clause = conditions.join(" AND ");
        fn bind<'q>(
            sql: &'q str,
            params: &'q [Param],
        ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
            let mut q = sqlx::query(sql);
            for p in params {
                q = match p {
                    Param::Int(i) => q.bind(*i),
                    Param::Text(t) => q.bind(t.as_str()),
                };
            }
            q
        }
        let mut conn = self.read().acquire().await?;
        let count_sql = format!("SELECT COUNT(*) FROM debt_position p WHERE {where_clause}");
        let total: i64 = bind(&count_sql, &params)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let per_page = filter.per_page.clamp(1, 200);
        let direction = if filter.descending { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT p.iupd, p.debtor_name, p.debtor_fiscal_code, t.code AS tipo_code, t.name AS tipo_name, \
             p.status, p.min_due_date, p.payment_date, p.inserted_at, \
             COALESCE((SELECT MIN(o.amount) FROM payment_option o WHERE o.position_id = p.id \
                       AND o.is_partial_payment = 0), \
                      (SELECT CAST(SUM(o.amount) AS BIGINT) FROM payment_option o WHERE o.position_id = p.id), 0) AS amount, \
             (SELECT MIN(o.notice_number) FROM payment_option o WHERE o.position_id = p.id) AS first_notice \
             FROM debt_position p LEFT JOIN tipo_dovuto t ON t.id = p.tipo_dovuto_id \
             WHERE {where_clause} ORDER BY {} {direction}, p.id {direction} LIMIT {per_page} OFFSET {}",
            filter.sort.column(),
            u64::from(filter.page) * u64::from(per_page)
        );
        let rows = bind(&sql, &params)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| {
                Ok(DovutoRow {
                    iupd: row.try_get("iupd")?,
                    debtor_name: row.try_get("debtor_name")?,
                    debtor_fiscal_code: row.try_get("debtor_fiscal_code")?,
                    tipo_dovuto_code: row.try_get("tipo_code")?,
                    tipo_dovuto_name: row.try_get("tipo_name")?,
                    status: row.try_get("status")?,
                    amount: row.try_get("amount")?,
                    first_due: timestamp(row.try_get("min_due_date")?)?,
                    first_notice: row.try_get("first_notice")?,
                    payment_date: opt_timestamp(row.try_get("payment_date")?)?,
                    inserted_at: timestamp(row.try_get("inserted_at")?)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((rows, total as u64))
    }
}
