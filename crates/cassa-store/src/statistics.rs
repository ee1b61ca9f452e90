//! "I numeri del Portale Pagamenti": payments and amounts collected (this
//! year, in total, per month), enti aderenti and attivi, tipi dovuto
//! configured; for a set of enti (whole, or some of their tipi dovuto, as
//! an operator's roles allow) or for all. Counted from the receipts
//! that paid something (`applied`), in portable SQL: the months are
//! buckets whose bounds the caller computes (Italian months).

use cassa_core::Cents;
use cassa_core::access::TipoScope;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

use crate::sql::micros;
use crate::{Store, StoreError};

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Statistics {
    pub payments_total: i64,
    pub amount_total: Cents,
    pub payments_in_period: i64,
    pub amount_in_period: Cents,
    /// Payments and amounts per bucket (e.g. the months of the year).
    pub per_bucket: Vec<(i64, Cents)>,
    pub enti: i64,
    /// Enti with at least one payment.
    pub enti_active: i64,
    pub tipi_dovuto: i64,
}

impl Store {
    /// Statistics of the enti in `scope`, each seen whole or only for
    /// some tipi dovuto (every ente when `None`). `buckets` are
    /// consecutive `[start, end)` ranges; the period is from the first
    /// start to the last end.
    pub async fn statistics(
        &self,
        scope: Option<&[(i64, TipoScope)]>,
        buckets: &[(Timestamp, Timestamp)],
    ) -> Result<Statistics, StoreError> {
        // The filters as literal integers: ids, never text from outside.
        let list = |ids: &[i64]| {
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (receipts, enti, tipi) = match scope {
            None => ("1 = 1".to_owned(), "1 = 1".to_owned(), "1 = 1".to_owned()),
            Some(scope) => {
                let (mut receipts, mut enti, mut tipi) = (Vec::new(), Vec::new(), Vec::new());
                for (ente, tipo_scope) in scope {
                    match tipo_scope {
                        TipoScope::All => {
                            receipts.push(format!("ente_id = {ente}"));
                            tipi.push(format!("ente_id = {ente}"));
                        }
                        TipoScope::Only(ids) if ids.is_empty() => {}
                        TipoScope::Only(ids) => {
                            // A receipt counts for the tipo of the debt it paid.
                            receipts.push(format!(
                                "(ente_id = {ente} AND option_id IN (SELECT o.id FROM payment_option o \
                                 JOIN debt_position p ON p.id = o.position_id \
                                 WHERE p.tipo_dovuto_id IN ({})))",
                                list(ids)
                            ));
                            tipi.push(format!("(ente_id = {ente} AND id IN ({}))", list(ids)));
                        }
                    }
                    enti.push(*ente);
                }
                let any = |conditions: Vec<String>| match conditions.is_empty() {
                    true => "1 = 0".to_owned(),
                    false => format!("({})", conditions.join(" OR ")),
                };
                let enti = match enti.is_empty() {
                    true => "1 = 0".to_owned(),
                    false => format!("id IN ({})", list(&enti)),
                };
                (any(receipts), enti, any(tipi))
            }
        };
        // Payment time: the PSP's, else when the receipt came.
        let at = "COALESCE(payment_date_time, received_at)";
        let mut columns = vec![
            "COUNT(*) AS n".to_owned(),
            "CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total".to_owned(),
            "COUNT(DISTINCT ente_id) AS active".to_owned(),
        ];
        let mut binds = Vec::new();
        for (i, (start, end)) in buckets.iter().enumerate() {
            let a = binds.len() + 1;
            let b = binds.len() + 2;
            binds.extend([micros(*start), micros(*end)]);
            columns.push(format!(
                "CAST(COALESCE(SUM(CASE WHEN {at} >= ${a} AND {at} < ${b} THEN 1 ELSE 0 END), 0) AS BIGINT) AS n{i}"
            ));
            columns.push(format!(
                "CAST(COALESCE(SUM(CASE WHEN {at} >= ${a} AND {at} < ${b} THEN amount ELSE 0 END), 0) AS BIGINT) AS a{i}"
            ));
        }
        let sql = format!(
            "SELECT {} FROM receipt WHERE status = 'applied' AND {receipts}",
            columns.join(", "),
        );
        let mut query = sqlx::query(&sql);
        for bind in &binds {
            query = query.bind(*bind);
        }
        let mut conn = self.read().acquire().await?;
        let row = query.fetch_one(&mut *conn).await?;
        let mut per_bucket = Vec::with_capacity(buckets.len());
        for i in 0..buckets.len() {
            per_bucket.push((
                row.try_get::<i64, _>(format!("n{i}").as_str())?,
                Cents::new(row.try_get::<i64, _>(format!("a{i}").as_str())?),
            ));
        }
        let enti_count: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM ente WHERE {enti}"))
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let tipi: i64 = sqlx::query(&format!(
            "SELECT COUNT(*) FROM tipo_dovuto WHERE active = 1 AND {tipi}"
        ))
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        Ok(Statistics {
            payments_total: row.try_get("n")?,
            amount_total: Cents::new(row.try_get("total")?),
            payments_in_period: per_bucket.iter().map(|b| b.0).sum(),
            amount_in_period: per_bucket.iter().map(|b| b.1).sum(),
            per_bucket,
            enti: enti_count,
            enti_active: row.try_get("active")?,
            tipi_dovuto: tipi,
        })
    }
}
