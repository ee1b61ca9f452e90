//! Enti creditori: our tenants.

use cassa_core::ente::MembershipMode;
use cassa_core::{Iban, PartitaIva, SegregationCode};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::sql::{flag, is_unique_violation, micros, timestamp};
use crate::{Store, StoreError};

#[derive(Clone, Debug)]
pub struct NewEnte {
    pub fiscal_code: PartitaIva,
    pub name: String,
    pub ipa_code: Option<String>,
    pub segregation_code: SegregationCode,
    pub cbill: Option<String>,
    pub iban: Option<Iban>,
    pub postal_iban: Option<Iban>,
    pub office_name: Option<String>,
    pub email: Option<String>,
    pub pec: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub membership_mode: MembershipMode,
    /// pagoPA stations besides the platform's own (`80050050154_02`).
    pub station_ids: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Ente {
    pub id: i64,
    pub fiscal_code: String,
    pub name: String,
    pub ipa_code: Option<String>,
    pub segregation_code: SegregationCode,
    pub cbill: Option<String>,
    pub iban: Option<String>,
    pub postal_iban: Option<String>,
    pub office_name: Option<String>,
    pub email: Option<String>,
    pub pec: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    #[serde(serialize_with = "membership_code")]
    pub membership_mode: MembershipMode,
    /// pagoPA stations besides the platform's own.
    pub station_ids: Vec<String>,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn membership_code<S: serde::Serializer>(m: &MembershipMode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.code())
}

#[derive(Debug, thiserror::Error)]
pub enum EnteError {
    #[error("an ente with codice fiscale {0} already exists")]
    Duplicate(String),
    #[error("no ente with codice fiscale {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for EnteError {
    fn from(e: sqlx::Error) -> Self {
        EnteError::Store(e.into())
    }
}

pub(crate) const COLUMNS: &str = "id, fiscal_code, name, ipa_code, segregation_code, cbill, iban, postal_iban, \
    office_name, email, pec, phone, website, address, membership_mode, station_ids, active, created_at, updated_at";

pub(crate) fn ente_from_row(row: &AnyRow) -> Result<Ente, StoreError> {
    let seg: i64 = row.try_get("segregation_code")?;
    let mode: String = row.try_get("membership_mode")?;
    Ok(Ente {
        id: row.try_get("id")?,
        fiscal_code: row.try_get("fiscal_code")?,
        name: row.try_get("name")?,
        ipa_code: row.try_get("ipa_code")?,
        segregation_code: u8::try_from(seg)
            .ok()
            .and_then(|s| SegregationCode::new(s).ok())
            .ok_or_else(|| StoreError::Corrupt(format!("segregation code {seg}")))?,
        cbill: row.try_get("cbill")?,
        iban: row.try_get("iban")?,
        postal_iban: row.try_get("postal_iban")?,
        office_name: row.try_get("office_name")?,
        email: row.try_get("email")?,
        pec: row.try_get("pec")?,
        phone: row.try_get("phone")?,
        website: row.try_get("website")?,
        address: row.try_get("address")?,
        membership_mode: MembershipMode::parse(&mode)
            .ok_or_else(|| StoreError::Corrupt(format!("membership mode {mode}")))?,
        station_ids: row
            .try_get::<String, _>("station_ids")?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        active: row.try_get::<i64, _>("active")? != 0,
        created_at: timestamp(row.try_get("created_at")?)?,
        updated_at: timestamp(row.try_get("updated_at")?)?,
    })
}

impl Store {
    /// Onboards an ente, with its IUV counter starting at base 1.
    pub async fn create_ente(
        &self,
        new: &NewEnte,
        actor: &str,
        now: Timestamp,
    ) -> Result<Ente, EnteError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO ente (fiscal_code, name, ipa_code, segregation_code, cbill, iban, postal_iban, \
             office_name, email, pec, phone, website, address, membership_mode, station_ids, active, created_at, \
             updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING {COLUMNS}"
        ))
        .bind(new.fiscal_code.as_str())
        .bind(&new.name)
        .bind(new.ipa_code.as_deref())
        .bind(i32::from(new.segregation_code.get()))
        .bind(new.cbill.as_deref())
        .bind(new.iban.as_ref().map(Iban::as_str))
        .bind(new.postal_iban.as_ref().map(Iban::as_str))
        .bind(new.office_name.as_deref())
        .bind(new.email.as_deref())
        .bind(new.pec.as_deref())
        .bind(new.phone.as_deref())
        .bind(new.website.as_deref())
        .bind(new.address.as_deref())
        .bind(new.membership_mode.code())
        .bind(new.station_ids.join(" "))
        .bind(flag(true))
        .bind(micros(now))
        .fetch_one(&mut *tx)
        .await;
        let row = match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(EnteError::Duplicate(new.fiscal_code.to_string()));
            }
            other => other?,
        };
        let ente = ente_from_row(&row)?;
        sqlx::query("INSERT INTO iuv_counter (ente_id, next_base) VALUES ($1, 1)")
            .bind(ente.id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: Some(ente.id),
                action: "create",
                entity: "ente",
                entity_key: &ente.fiscal_code,
                before: None,
                after: serde_json::to_value(&ente).ok(),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ente)
    }

    /// The ente with this codice fiscale. Every node call names one, so
    /// found enti are cached for a few seconds (see `ttl_cache`).
    pub async fn ente_by_fiscal_code(&self, fiscal_code: &str) -> Result<Option<Ente>, StoreError> {
        if let Some(ente) = self.ente_cache().get(fiscal_code) {
            return Ok(Some(ente));
        }
        let ente = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM ente WHERE fiscal_code = $1"
        ))
        .bind(fiscal_code)
        .fetch_optional(self.read())
        .await?
        .as_ref()
        .map(ente_from_row)
        .transpose()?;
        if let Some(ente) = &ente {
            self.ente_cache().put(fiscal_code, ente);
        }
        Ok(ente)
    }

    pub async fn ente_by_id(&self, id: i64) -> Result<Option<Ente>, StoreError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM ente WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.read())
            .await?
            .as_ref()
            .map(ente_from_row)
            .transpose()
    }

    /// Changes an ente's details and turns it on or off (a suspended ente
    /// is hidden from the portal and its notices cannot be paid). The
    /// codice fiscale and the segregation code stay: notices already
    /// printed carry them.
    pub async fn update_ente(
        &self,
        fiscal_code: &str,
        changes: &NewEnte,
        active: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<Ente, EnteError> {
        let mut tx = self.begin_write().await?;
        let before = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM ente WHERE fiscal_code = $1{}",
            self.for_update()
        ))
        .bind(fiscal_code)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(ente_from_row)
        .transpose()?
        .ok_or_else(|| EnteError::NotFound(fiscal_code.to_owned()))?;
        let row = sqlx::query(&format!(
            "UPDATE ente SET name = $1, ipa_code = $2, cbill = $3, iban = $4, postal_iban = $5, \
             office_name = $6, email = $7, pec = $8, phone = $9, website = $10, address = $11, \
             membership_mode = $12, station_ids = $13, active = $14, updated_at = $15 WHERE id = $16 \
             RETURNING {COLUMNS}"
        ))
        .bind(&changes.name)
        .bind(changes.ipa_code.as_deref())
        .bind(changes.cbill.as_deref())
        .bind(changes.iban.as_ref().map(Iban::as_str))
        .bind(changes.postal_iban.as_ref().map(Iban::as_str))
        .bind(changes.office_name.as_deref())
        .bind(changes.email.as_deref())
        .bind(changes.pec.as_deref())
        .bind(changes.phone.as_deref())
        .bind(changes.website.as_deref())
        .bind(changes.address.as_deref())
        .bind(changes.membership_mode.code())
        .bind(changes.station_ids.join(" "))
        .bind(flag(active))
        .bind(micros(now))
        .bind(before.id)
        .fetch_one(&mut *tx)
        .await?;
        let after = ente_from_row(&row)?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: Some(after.id),
                action: if before.active && !active {
                    "suspend"
                } else {
                    "update"
                },
                entity: "ente",
                entity_key: fiscal_code,
                before: serde_json::to_value(&before).ok(),
                after: serde_json::to_value(&after).ok(),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        self.ente_cache().clear();
        Ok(after)
    }

    /// All enti, by name.
    pub async fn list_enti(&self) -> Result<Vec<Ente>, StoreError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM ente ORDER BY name, id"))
            .fetch_all(self.read())
            .await?
            .iter()
            .map(ente_from_row)
            .collect()
    }
}
