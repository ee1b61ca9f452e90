//! Tipi dovuto: the kinds of payment each ente collects.

use cassa_core::tipo_dovuto::AmountRule;
use cassa_core::{Cents, Iban, TaxonomyCode};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::sql::{flag, is_unique_violation, micros, timestamp};
use crate::{Store, StoreError};
use cassa_core::debt::InstallmentMode;

#[derive(Clone, Debug)]
pub struct NewTipoDovuto {
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub taxonomy_code: TaxonomyCode,
    pub iban: Option<Iban>,
    pub postal_iban: Option<Iban>,
    pub amount_rule: AmountRule,
    pub spontaneous: bool,
    /// The spontaneous-payment form, as configured in the back office.
    pub form_fields: serde_json::Value,
    pub tags: Vec<String>,
    pub external_url: Option<String>,
    pub capitolo: Option<String>,
    pub accertamento: Option<String>,
    pub ufficio: Option<String>,
    /// How its installment plans may be paid.
    pub installment_mode: InstallmentMode,
}

#[derive(Clone, Debug, Serialize)]
pub struct TipoDovuto {
    pub id: i64,
    pub ente_id: i64,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub taxonomy_code: String,
    pub iban: Option<String>,
    pub postal_iban: Option<String>,
    #[serde(skip)]
    pub amount_rule: AmountRule,
    pub spontaneous: bool,
    pub form_fields: serde_json::Value,
    pub tags: Vec<String>,
    pub external_url: Option<String>,
    pub capitolo: Option<String>,
    pub accertamento: Option<String>,
    pub ufficio: Option<String>,
    #[serde(serialize_with = "mode_code")]
    pub installment_mode: InstallmentMode,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl TipoDovuto {
    /// Whom a single payment of this tipo dovuto goes to: its account (or
    /// the ente's), under its taxonomy code.
    pub fn beneficiary<'a>(
        &'a self,
        ente: &'a crate::Ente,
    ) -> cassa_core::debt::single_payment::Beneficiary<'a> {
        cassa_core::debt::single_payment::Beneficiary {
            fiscal_code: &ente.fiscal_code,
            company_name: &ente.name,
            office_name: ente.office_name.as_deref(),
            iban: self.iban.as_deref().or(ente.iban.as_deref()),
            taxonomy_code: &self.taxonomy_code,
            default_description: &self.name,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TipoDovutoError {
    #[error("the ente already has a tipo dovuto with code {0}")]
    Duplicate(String),
    #[error("the ente has no tipo dovuto {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TipoDovutoError {
    fn from(e: sqlx::Error) -> Self {
        TipoDovutoError::Store(e.into())
    }
}

fn mode_code<S: serde::Serializer>(m: &InstallmentMode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.code())
}

const COLUMNS: &str = "id, ente_id, code, name, description, taxonomy_code, iban, postal_iban, amount_rule, \
    fixed_amount, min_amount, max_amount, spontaneous, form_fields, tags, external_url, capitolo, \
    accertamento, ufficio, installment_mode, active, created_at, updated_at";

fn json<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn tipo_from_row(row: &AnyRow) -> Result<TipoDovuto, StoreError> {
    let cents = |c: &str| -> Result<Option<Cents>, StoreError> {
        Ok(row.try_get::<Option<i64>, _>(c)?.map(Cents::new))
    };
    let rule: String = row.try_get("amount_rule")?;
    Ok(TipoDovuto {
        id: row.try_get("id")?,
        ente_id: row.try_get("ente_id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        taxonomy_code: row.try_get("taxonomy_code")?,
        iban: row.try_get("iban")?,
        postal_iban: row.try_get("postal_iban")?,
        amount_rule: AmountRule::from_parts(
            &rule,
            cents("fixed_amount")?,
            cents("min_amount")?,
            cents("max_amount")?,
        )
        .ok_or_else(|| StoreError::Corrupt(format!("amount rule {rule}")))?,
        spontaneous: row.try_get::<i64, _>("spontaneous")? != 0,
        form_fields: json(row, "form_fields")?,
        tags: json(row, "tags")?,
        external_url: row.try_get("external_url")?,
        capitolo: row.try_get("capitolo")?,
        accertamento: row.try_get("accertamento")?,
        ufficio: row.try_get("ufficio")?,
        installment_mode: {
            let code: String = row.try_get("installment_mode")?;
            InstallmentMode::parse(&code)
                .ok_or_else(|| StoreError::Corrupt(format!("installment mode {code}")))?
        },
        active: row.try_get::<i64, _>("active")? != 0,
        created_at: timestamp(row.try_get("created_at")?)?,
        updated_at: timestamp(row.try_get("updated_at")?)?,
    })
}

/// The `fixed_amount`, `min_amount` and `max_amount` columns of a rule.
fn rule_columns(rule: AmountRule) -> (Option<i64>, Option<i64>, Option<i64>) {
    match rule {
        AmountRule::Free => (None, None, None),
        AmountRule::Fixed(a) => (Some(a.get()), None, None),
        AmountRule::Range { min, max } => (None, Some(min.get()), Some(max.get())),
    }
}

impl Store {
    pub async fn create_tipo_dovuto(
        &self,
        ente_id: i64,
        new: &NewTipoDovuto,
        actor: &str,
        now: Timestamp,
    ) -> Result<TipoDovuto, TipoDovutoError> {
        let (fixed, min, max) = rule_columns(new.amount_rule);
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO tipo_dovuto (ente_id, code, name, description, taxonomy_code, iban, postal_iban, \
             amount_rule, fixed_amount, min_amount, max_amount, spontaneous, form_fields, tags, external_url, \
             capitolo, accertamento, ufficio, installment_mode, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
             $21, $21) \
             RETURNING {COLUMNS}"
        ))
        .bind(ente_id)
        .bind(&new.code)
        .bind(&new.name)
        .bind(new.description.as_deref())
        .bind(new.taxonomy_code.to_string())
        .bind(new.iban.as_ref().map(Iban::as_str))
        .bind(new.postal_iban.as_ref().map(Iban::as_str))
        .bind(new.amount_rule.code())
        .bind(fixed)
        .bind(min)
        .bind(max)
        .bind(flag(new.spontaneous))
        .bind(new.form_fields.to_string())
        .bind(serde_json::to_string(&new.tags).unwrap_or_else(|_| "[]".into()))
        .bind(new.external_url.as_deref())
        .bind(new.capitolo.as_deref())
        .bind(new.accertamento.as_deref())
        .bind(new.ufficio.as_deref())
        .bind(new.installment_mode.code())
        .bind(flag(true))
        .bind(micros(now))
        .fetch_one(&mut *tx)
        .await;
        let row = match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(TipoDovutoError::Duplicate(new.code.clone()));
            }
            other => other?,
        };
        let tipo = tipo_from_row(&row)?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: Some(ente_id),
                action: "create",
                entity: "tipo_dovuto",
                entity_key: &tipo.code,
                before: None,
                after: serde_json::to_value(&tipo).ok(),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(tipo)
    }

    /// Replaces everything but the code of the tipo dovuto `code`, and
    /// turns it on or off; audited with before and after. The portal reads
    /// tipi dovuto afresh, so the change shows at once.
    pub async fn update_tipo_dovuto(
        &self,
        ente_id: i64,
        code: &str,
        changes: &NewTipoDovuto,
        active: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<TipoDovuto, TipoDovutoError> {
        let (fixed, min, max) = rule_columns(changes.amount_rule);
        let mut tx = self.begin_write().await?;
        let before = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tipo_dovuto WHERE ente_id = $1 AND code = $2{}",
            self.for_update()
        ))
        .bind(ente_id)
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(tipo_from_row)
        .transpose()?
        .ok_or_else(|| TipoDovutoError::NotFound(code.to_owned()))?;
        let row = sqlx::query(&format!(
            "UPDATE tipo_dovuto SET name = $1, description = $2, taxonomy_code = $3, iban = $4, \
             postal_iban = $5, amount_rule = $6, fixed_amount = $7, min_amount = $8, max_amount = $9, \
             spontaneous = $10, form_fields = $11, tags = $12, external_url = $13, capitolo = $14, \
             accertamento = $15, ufficio = $16, installment_mode = $17, active = $18, updated_at = $19 \
             WHERE id = $20 RETURNING {COLUMNS}"
        ))
        .bind(&changes.name)
        .bind(changes.description.as_deref())
        .bind(changes.taxonomy_code.to_string())
        .bind(changes.iban.as_ref().map(Iban::as_str))
        .bind(changes.postal_iban.as_ref().map(Iban::as_str))
        .bind(changes.amount_rule.code())
        .bind(fixed)
        .bind(min)
        .bind(max)
        .bind(flag(changes.spontaneous))
        .bind(changes.form_fields.to_string())
        .bind(serde_json::to_string(&changes.tags).unwrap_or_else(|_| "[]".into()))
        .bind(changes.external_url.as_deref())
        .bind(changes.capitolo.as_deref())
        .bind(changes.accertamento.as_deref())
        .bind(changes.ufficio.as_deref())
        .bind(changes.installment_mode.code())
        .bind(flag(active))
        .bind(micros(now))
        .bind(before.id)
        .fetch_one(&mut *tx)
        .await?;
        let after = tipo_from_row(&row)?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: Some(ente_id),
                action: "update",
                entity: "tipo_dovuto",
                entity_key: code,
                before: serde_json::to_value(&before).ok(),
                after: serde_json::to_value(&after).ok(),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The ente's tipi dovuto, by name.
    pub async fn tipi_dovuto(&self, ente_id: i64) -> Result<Vec<TipoDovuto>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tipo_dovuto WHERE ente_id = $1 ORDER BY name, id"
        ))
        .bind(ente_id)
        .fetch_all(self.read())
        .await?
        .iter()
        .map(tipo_from_row)
        .collect()
    }

    pub async fn tipo_dovuto_by_code(
        &self,
        ente_id: i64,
        code: &str,
    ) -> Result<Option<TipoDovuto>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tipo_dovuto WHERE ente_id = $1 AND code = $2"
        ))
        .bind(ente_id)
        .bind(code)
        .fetch_optional(self.read())
        .await?
        .as_ref()
        .map(tipo_from_row)
        .transpose()
    }
}
