//! The append-only audit log: who changed what, when, before and after.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::bulk::insert_rows;
use crate::sql::{micros, timestamp};
use crate::{Store, StoreError};

/// An event to record, inside the transaction that makes the change.
#[derive(Clone, Debug)]
pub struct NewAuditEvent<'a> {
    pub at: Timestamp,
    /// `apikey:<id>`, `cli`, later `user:<id>`.
    pub actor: &'a str,
    pub ente_id: Option<i64>,
    /// e.g. `create`, `update`, `publish`, `invalidate`, `delete`.
    pub action: &'a str,
    /// e.g. `debt_position`, `ente`, `api_key`.
    pub entity: &'a str,
    pub entity_key: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<&'a str>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub ente_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_key: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub ente_id: Option<i64>,
    pub entity: Option<String>,
    pub entity_key: Option<String>,
    pub actor: Option<String>,
    pub limit: Option<i64>,
}

pub(crate) async fn record(
    conn: &mut AnyConnection,
    event: NewAuditEvent<'_>,
) -> Result<(), StoreError> {
    record_many(conn, vec![event])
        .await
        .map_err(StoreError::from)
}

/// Records many events with multi-row inserts.
pub(crate) async fn record_many(
    conn: &mut AnyConnection,
    events: Vec<NewAuditEvent<'_>>,
) -> Result<(), sqlx::Error> {
    let rows = events
        .into_iter()
        .map(|event| {
            vec![
                micros(event.at).into(),
                event.actor.into(),
                event.ente_id.into(),
                event.action.into(),
                event.entity.into(),
                event.entity_key.into(),
                event.before.as_ref().map(|v| v.to_string()).into(),
                event.after.as_ref().map(|v| v.to_string()).into(),
                event.request_id.into(),
            ]
        })
        .collect();
    insert_rows(conn, "audit_event", &AUDIT_COLUMNS, rows, None).await?;
    Ok(())
}

const AUDIT_COLUMNS: [&str; 9] = [
    "at",
    "actor",
    "ente_id",
    "action",
    "entity",
    "entity_key",
    "before_json",
    "after_json",
    "request_id",
];

fn json_column(row: &AnyRow, column: &str) -> Result<Option<serde_json::Value>, StoreError> {
    row.try_get::<Option<String>, _>(column)?
        .map(|text| {
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
        })
        .transpose()
}

impl Store {
    /// The most recent events first.
    pub async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, ente_id, action, entity, entity_key, before_json, after_json, request_id \
             FROM audit_event \
             WHERE ($1 IS NULL OR ente_id = $1) AND ($2 IS NULL OR entity = $2) AND ($3 IS NULL OR entity_key = $3) \
             AND ($5 IS NULL OR actor = $5) ORDER BY id DESC LIMIT $4",
        )
        .bind(filter.ente_id)
        .bind(filter.entity.as_deref())
        .bind(filter.entity_key.as_deref())
        .bind(filter.limit.unwrap_or(100))
        .bind(filter.actor.as_deref())
        .fetch_all(self.read())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    id: row.try_get("id")?,
                    at: timestamp(row.try_get("at")?)?,
                    actor: row.try_get("actor")?,
                    ente_id: row.try_get("ente_id")?,
                    action: row.try_get("action")?,
                    entity: row.try_get("entity")?,
                    entity_key: row.try_get("entity_key")?,
                    before: json_column(row, "before_json")?,
                    after: json_column(row, "after_json")?,
                    request_id: row.try_get("request_id")?,
                })
            })
            .collect()
    }
}
