//! Anomalies: receipts that were kept but not applied (money arrived that
//! pays no debt: a second payment, an unknown notice, another amount, a
//! debt paid another way, a cancelled debt). Operators see them per ente,
//! platform admins across enti, and mark each handled with a note (a
//! refund ordered, say); the marking is audited and happens once.

use cassa_core::debt::ReceiptStatus;
use jiff::Timestamp;

use crate::audit::{self, NewAuditEvent};
use crate::payments::{RECEIPT_COLUMNS, StoredReceipt, receipt_from_row};
use crate::sql::micros;
use crate::{Store, StoreError};

/// Which anomalies to list.
#[derive(Clone, Debug, Default)]
pub struct AnomalyFilter {
    /// These enti only; `None`: every ente (platform admins).
    pub ente_ids: Option<Vec<i64>>,
    /// Handled or not; `None`: both.
    pub handled: Option<bool>,
    pub limit: u32,
}

/// The SQL list of anomaly statuses, from the one definition in the core.
fn anomaly_codes() -> String {
    ReceiptStatus::ANOMALIES
        .iter()
        .map(|s| format!("'{}'", s.code()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Anomalies, newest first.
    pub async fn anomalies(
        &self,
        filter: &AnomalyFilter,
    ) -> Result<Vec<StoredReceipt>, StoreError> {
        let mut sql = format!(
            "SELECT {RECEIPT_COLUMNS} FROM receipt WHERE status IN ({})",
            anomaly_codes()
        );
        if let Some(ids) = &filter.ente_ids {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            // Integers only: nothing from outside reaches the SQL text.
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            sql.push_str(&format!(" AND ente_id IN ({})", list.join(", ")));
        }
        match filter.handled {
            Some(true) => sql.push_str(" AND handled_at IS NOT NULL"),
            Some(false) => sql.push_str(" AND handled_at IS NULL"),
            None => {}
        }
        sql.push_str(&format!(
            " ORDER BY received_at DESC, id DESC LIMIT {}",
            filter.limit.clamp(1, 1000)
        ));
        sqlx::query(&sql)
            .fetch_all(self.read())
            .await?
            .iter()
            .map(receipt_from_row)
            .collect()
    }

    /// One anomaly of the ente.
    pub async fn anomaly(
        &self,
        ente_id: i64,
        id: i64,
    ) -> Result<Option<StoredReceipt>, StoreError> {
        let sql = format!(
            "SELECT {RECEIPT_COLUMNS} FROM receipt WHERE id = $1 AND ente_id = $2 AND status IN ({})",
            anomaly_codes()
        );
        sqlx::query(&sql)
            .bind(id)
            .bind(ente_id)
            .fetch_optional(self.read())
            .await?
            .as_ref()
            .map(receipt_from_row)
            .transpose()
    }

    /// Anomalies nobody has handled yet, across enti (for the metrics).
    pub async fn open_anomalies(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM receipt WHERE status IN ({}) AND handled_at IS NULL",
            anomaly_codes()
        ))
        .fetch_one(self.read())
        .await?)
    }

    /// Marks an anomaly of the ente handled, with what was done; audited.
    /// `false`: no such unhandled anomaly (already handled, say).
    pub async fn handle_anomaly(
        &self,
        ente_id: i64,
        id: i64,
        actor: &str,
        note: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(&format!(
            "UPDATE receipt SET handled_at = $1, handled_by = $2, handled_note = $3 \
             WHERE id = $4 AND ente_id = $5 AND handled_at IS NULL AND status IN ({})",
            anomaly_codes()
        ))
        .bind(micros(now))
        .bind(actor)
        .bind(note)
        .bind(id)
        .bind(ente_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Ok(false);
        }
        let receipt_id: String = sqlx::query_scalar("SELECT receipt_id FROM receipt WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: Some(ente_id),
                action: "handle",
                entity: "receipt",
                entity_key: &receipt_id,
                before: None,
                after: Some(serde_json::json!({ "note": note })),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
