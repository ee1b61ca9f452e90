//! API keys of the integration API, one or more per ente. Only a hash of
//! the secret is stored; the secret is shown once, when the key is made.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Ente;
use crate::audit::{self, NewAuditEvent};
use crate::enti::{COLUMNS as ENTE_COLUMNS, ente_from_row};
use crate::sql::{micros, opt_timestamp, timestamp};
use crate::{Store, StoreError};

#[derive(Clone, Debug, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub ente_id: i64,
    /// The first characters of the secret, to tell keys apart.
    pub prefix: String,
    pub label: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Whom a presented key belongs to.
#[derive(Clone, Debug)]
pub struct ApiKeyOwner {
    pub key_id: i64,
    pub ente: Ente,
}

fn key_from_row(row: &AnyRow) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: row.try_get("id")?,
        ente_id: row.try_get("ente_id")?,
        prefix: row.try_get("prefix")?,
        label: row.try_get("label")?,
        created_at: timestamp(row.try_get("created_at")?)?,
        revoked_at: opt_timestamp(row.try_get("revoked_at")?)?,
    })
}

impl Store {
    pub async fn create_api_key(
        &self,
        ente_id: i64,
        prefix: &str,
        secret_hash: &str,
        label: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<ApiKey, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO api_key (ente_id, prefix, secret_hash, label, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, ente_id, prefix, label, created_at, revoked_at",
        )
        .bind(ente_id)
        .bind(prefix)
        .bind(secret_hash)
        .bind(label)
        .bind(micros(now))
        .fetch_one(&mut *tx)
        .await?;
        let key = key_from_row(&row)?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: Some(ente_id),
                action: "create",
                entity: "api_key",
                entity_key: &key.id.to_string(),
                before: None,
                after: serde_json::to_value(&key).ok(),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(key)
    }

    /// The owner of an unrevoked key with this secret hash. Answers from a
    /// cache of a few seconds (see `ttl_cache`).
    pub async fn api_key_owner(
        &self,
        secret_hash: &str,
    ) -> Result<Option<ApiKeyOwner>, StoreError> {
        if let Some(owner) = self.key_cache().get(secret_hash) {
            return Ok(Some(owner));
        }
        let owner = self.api_key_owner_uncached(secret_hash).await?;
        if let Some(owner) = &owner {
            self.key_cache().put(secret_hash, owner);
        }
        Ok(owner)
    }

    async fn api_key_owner_uncached(
        &self,
        secret_hash: &str,
    ) -> Result<Option<ApiKeyOwner>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT k.id AS key_id, {} FROM api_key k JOIN ente e ON e.id = k.ente_id \
             WHERE k.secret_hash = $1 AND k.revoked_at IS NULL",
            ENTE_COLUMNS
                .split(", ")
                .map(|c| format!("e.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(secret_hash)
        .fetch_optional(self.read())
        .await?;
        row.map(|row| {
            Ok(ApiKeyOwner {
                key_id: row.try_get("key_id")?,
                ente: ente_from_row(&row)?,
            })
        })
        .transpose()
    }

    pub async fn api_keys(&self, ente_id: i64) -> Result<Vec<ApiKey>, StoreError> {
        sqlx::query(
            "SELECT id, ente_id, prefix, label, created_at, revoked_at FROM api_key WHERE ente_id = $1 ORDER BY id",
        )
        .bind(ente_id)
        .fetch_all(self.read())
        .await?
        .iter()
        .map(key_from_row)
        .collect()
    }

    /// Revokes a key; `false` when it does not exist or was already revoked.
    pub async fn revoke_api_key(
        &self,
        ente_id: i64,
        key_id: i64,
        actor: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_key SET revoked_at = $3 WHERE id = $1 AND ente_id = $2 AND revoked_at IS NULL",
        )
        .bind(key_id)
        .bind(ente_id)
        .bind(micros(now))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            audit::record(
                &mut tx,
                NewAuditEvent {
                    at: now,
                    actor,
                    ente_id: Some(ente_id),
                    action: "revoke",
                    entity: "api_key",
                    entity_key: &key_id.to_string(),
                    before: None,
                    after: None,
                    request_id: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.key_cache().clear();
        Ok(done)
    }
}
