//! The positions a bulk print selects: published and not yet closed, of one
//! ente, narrowed by tipo dovuto, due dates, creation dates or a list of
//! IUPDs. Read in pages by id, so a print of any size holds one page at a
//! time.

use cassa_core::debt::PositionStatus;
use jiff::Timestamp;
use sqlx::Row;

use super::StoredPosition;
use super::read::{POSITION_COLUMNS, Transfers, load_options, position_from_row};
use crate::sql::{micros, placeholders};
use crate::{Store, StoreError};

/// Which positions to print. Empty means every printable one of the ente.
#[derive(Clone, Debug, Default)]
pub struct PrintSelection {
    pub tipo_dovuto_id: Option<i64>,
    /// Positions with an option due in this range (inclusive).
    pub due_date: Option<(Timestamp, Timestamp)>,
    /// Positions created in this range (inclusive): one upload, say.
    pub inserted: Option<(Timestamp, Timestamp)>,
    /// Only these IUPDs (at most a few hundred per call).
    pub iupds: Vec<String>,
    /// Only the positions this import job inserted.
    pub import_job: Option<i64>,
}

/// The statuses whose positions have a notice to print.
const PRINTABLE: [PositionStatus; 3] = [
    PositionStatus::Published,
    PositionStatus::Valid,
    PositionStatus::PartiallyPaid,
];

enum Param<'a> {
    Int(i64),
    Text(&'a str),
}

/// The WHERE clause of `selection` for `ente_id` and its parameters, in order.
fn conditions(ente_id: i64, selection: &PrintSelection) -> (String, Vec<Param<'_>>) {
    let mut params = vec![Param::Int(ente_id)];
    let mut clauses = vec!["ente_id = $1".to_owned(), super::visible("")];
    let statuses: Vec<String> = PRINTABLE
        .iter()
        .map(|s| format!("'{}'", s.code()))
        .collect();
    clauses.push(format!("status IN ({})", statuses.join(", ")));
    if let Some(job) = selection.import_job {
        params.push(Param::Int(job));
        clauses.push(format!("import_job = ${}", params.len()));
    }
    if let Some(tipo) = selection.tipo_dovuto_id {
        params.push(Param::Int(tipo));
        clauses.push(format!("tipo_dovuto_id = ${}", params.len()));
    }
    if let Some((from, to)) = selection.due_date {
        params.extend([Param::Int(micros(from)), Param::Int(micros(to))]);
        clauses.push(format!(
            "EXISTS (SELECT 1 FROM payment_option o WHERE o.position_id = debt_position.id \
             AND o.status = 'PO_UNPAID' AND o.due_date BETWEEN ${} AND ${})",
            params.len() - 1,
            params.len()
        ));
    }
    if let Some((from, to)) = selection.inserted {
        params.extend([Param::Int(micros(from)), Param::Int(micros(to))]);
        clauses.push(format!(
            "inserted_at BETWEEN ${} AND ${}",
            params.len() - 1,
            params.len()
        ));
    }
    if !selection.iupds.is_empty() {
        let first = params.len() + 1;
        params.extend(selection.iupds.iter().map(|i| Param::Text(i)));
        clauses.push(format!(
            "iupd IN ({})",
            placeholders(selection.iupds.len(), first)
        ));
    }
    (clauses.join(" AND "), params)
}

fn bind<'q>(
    sql: &'q str,
    params: &'q [Param<'q>],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    params
        .iter()
        .fold(sqlx::query(sql), |q, param| match param {
            Param::Int(v) => q.bind(*v),
            Param::Text(v) => q.bind(*v),
        })
}

impl Store {
    /// How many positions `selection` prints.
    pub async fn count_printable(
        &self,
        ente_id: i64,
        selection: &PrintSelection,
    ) -> Result<u64, StoreError> {
        let (clause, params) = conditions(ente_id, selection);
        let sql = format!("SELECT COUNT(*) FROM debt_position WHERE {clause}");
        let count: i64 = bind(&sql, &params)
            .fetch_one(self.read())
            .await?
            .try_get(0)?;
        Ok(count as u64)
    }

    /// Up to `limit` printable positions with ids above `after_id`, in id
    /// order, with their options (not their transfers: a notice does not
    /// show them).
    pub async fn printable_positions(
        &self,
        ente_id: i64,
        selection: &PrintSelection,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<StoredPosition>, StoreError> {
        let (clause, mut params) = conditions(ente_id, selection);
        params.push(Param::Int(after_id));
        let sql = format!(
            "SELECT {POSITION_COLUMNS} FROM debt_position WHERE {clause} AND id > ${} \
             ORDER BY id LIMIT {}",
            params.len(),
            limit.max(1)
        );
        let mut conn = self.read().acquire().await?;
        let mut positions: Vec<StoredPosition> = bind(&sql, &params)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(position_from_row)
            .collect::<Result<_, _>>()?;
        load_options(&mut conn, &mut positions, None, Transfers::Skip).await?;
        Ok(positions)
    }
}
