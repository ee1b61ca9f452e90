//! Changing positions. Each operation is one transaction that checks the
//! domain rules (cassa-core) on the current row, writes, and records an
//! audit event; nothing is half-done.

use std::collections::{HashMap, HashSet};

use cassa_core::debt::{
    DebtPositionDraft, Mode, PositionStatus, check_no_payment_in_progress, check_position,
    status_on_save,
};
use cassa_core::{Iuv, NoticeNumber};
use jiff::Timestamp;
use sqlx::Row;
use tokio::sync::oneshot;

use super::group_commit::CreateJob;
use super::read::{POSITION_COLUMNS, load_position, position_from_row};
use super::rows::{due_bounds, insert_options, new_option, new_position, stored_time};
use super::{CreateError, Origin, PositionChangeError, StoredPosition};
use crate::audit::{self, NewAuditEvent};
use crate::sql::{flag, is_unique_violation, micros, opt_micros, placeholders};
use crate::{Ente, Store, StoreError};

/// Who asks for a change, for the audit log.
#[derive(Copy, Clone, Debug)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub request_id: Option<&'a str>,
}

/// A position to create or to replace.
#[derive(Copy, Clone, Debug)]
pub struct PositionWrite<'a> {
    pub ente: &'a Ente,
    pub tipo_dovuto_id: Option<i64>,
    pub draft: &'a DebtPositionDraft,
    /// Publish at once (GPD's `toPublish`).
    pub to_publish: bool,
    pub origin: Origin,
    pub actor: Actor<'a>,
    pub now: Timestamp,
}

const MAX_ATTEMPTS: usize = 3;

/// The IUVs the caller chose.
fn supplied_iuvs(draft: &DebtPositionDraft) -> Vec<&str> {
    draft
        .options
        .iter()
        .filter_map(|o| o.iuv.as_ref().map(Iuv::as_str))
        .collect()
}

/// How many fresh IUVs `assign_iuvs` takes for `draft` given `reuse`.
fn fresh_iuvs_needed(draft: &DebtPositionDraft, reuse: &[Option<String>]) -> usize {
    let supplied: HashSet<&str> = supplied_iuvs(draft).into_iter().collect();
    draft
        .options
        .iter()
        .enumerate()
        .filter(|(i, option)| {
            option.iuv.is_none()
                && reuse
                    .get(*i)
                    .and_then(Option::as_deref)
                    .is_none_or(|old| supplied.contains(old))
        })
        .count()
}

/// The IUVs of the draft's options: the supplied ones, else `reuse[i]`,
/// else freshly generated from `bases`.
fn assign_iuvs(
    ente: &Ente,
    draft: &DebtPositionDraft,
    reuse: &[Option<String>],
    bases: &[u64],
) -> Vec<Iuv> {
    let supplied: HashSet<&str> = draft
        .options
        .iter()
        .filter_map(|o| o.iuv.as_ref().map(Iuv::as_str))
        .collect();
    let mut fresh = bases.iter();
    draft
        .options
        .iter()
        .enumerate()
        .map(
            |(i, option)| match (&option.iuv, reuse.get(i).cloned().flatten()) {
                (Some(iuv), _) => iuv.clone(),
                (None, Some(old)) if !supplied.contains(old.as_str()) => Iuv::from_trusted(old),
                (None, _) => {
                    let base = *fresh.next().expect("one base per option without an IUV");
                    NoticeNumber::generate(ente.segregation_code, base)
                        .expect("allocated bases fit in 13 digits")
                        .iuv()
                }
            },
        )
        .collect()
}

fn audit_json(position: &StoredPosition) -> Option<serde_json::Value> {
    serde_json::to_value(position).ok()
}

impl Store {
    /// Which of `iuvs` the ente already uses, and whether `iupd` is taken:
    /// explains a unique violation after the failed transaction is gone.
    async fn conflicts(
        &self,
        ente_id: i64,
        iupd: Option<&str>,
        iuvs: &[&str],
    ) -> Result<(bool, Option<String>), StoreError> {
        let iupd_taken = match iupd {
            Some(iupd) => {
                sqlx::query("SELECT 1 FROM debt_position WHERE ente_id = $1 AND iupd = $2")
                    .bind(ente_id)
                    .bind(iupd)
                    .fetch_optional(self.read())
                    .await?
                    .is_some()
            }
            None => false,
        };
        let mut iuv_taken = None;
        if !iuvs.is_empty() {
            let sql = format!(
                "SELECT iuv FROM payment_option WHERE ente_id = $1 AND iuv IN ({}) ORDER BY iuv LIMIT 1",
                placeholders(iuvs.len(), 2)
            );
            let mut query = sqlx::query(&sql).bind(ente_id);
            for iuv in iuvs {
                query = query.bind(*iuv);
            }
            iuv_taken = query
                .fetch_optional(self.read())
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        }
        Ok((iupd_taken, iuv_taken))
    }

    /// Creates a position, generating the IUVs the draft leaves out.
    pub async fn create_position(
        &self,
        w: PositionWrite<'_>,
    ) -> Result<StoredPosition, CreateError> {
        let violations = check_position(w.draft, Mode::Create, w.now);
        if !violations.is_empty() {
            return Err(CreateError::Invalid(violations));
        }
        let supplied = supplied_iuvs(w.draft);
        let missing = w.draft.options.len() - supplied.len();
        let status = status_on_save(w.to_publish, w.draft.validity_date, w.now);
        for _ in 0..MAX_ATTEMPTS {
            let bases = self.allocate_iuv_bases(w.ente.id, missing).await?;
            let iuvs = assign_iuvs(w.ente, w.draft, &[], &bases);
            let (reply, answer) = oneshot::channel();
            self.create_queue().send(CreateJob {
                position: new_position(&w, status, &iuvs),
                actor: w.actor.name.to_owned(),
                request_id: w.actor.request_id.map(str::to_owned),
                reply,
            })?;
            let stored = answer.await.map_err(|_| {
                StoreError::Unavailable("the write was abandoned and not committed; retry".into())
            })?;
            match stored {
                Ok(position) => return Ok(position),
                Err(e) if is_unique_violation(&e) => {
                    let (iupd_taken, iuv_taken) = self
                        .conflicts(w.ente.id, Some(&w.draft.iupd), &supplied)
                        .await?;
                    if iupd_taken {
                        return Err(CreateError::DuplicateIupd(w.draft.iupd.clone()));
                    }
                    if let Some(iuv) = iuv_taken {
                        return Err(CreateError::DuplicateIuv(iuv));
                    }
                    // A generated IUV met one an ente supplied earlier: draw again.
                    tracing::warn!(ente = w.ente.id, "generated IUV already in use; retrying");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(CreateError::Store(StoreError::Corrupt(
            "could not find free IUVs after several attempts".into(),
        )))
    }

    /// Replaces a position's content (GPD's PUT); it goes back to DRAFT
    /// unless published at once. Options without an IUV keep the IUV of the
    /// option in the same place, so printed notices stay valid.
    pub async fn update_position(
        &self,
        w: PositionWrite<'_>,
    ) -> Result<StoredPosition, PositionChangeError> {
        let violations = check_position(w.draft, Mode::Update, w.now);
        if !violations.is_empty() {
            return Err(PositionChangeError::Invalid(violations));
        }
        let supplied = supplied_iuvs(w.draft);
        // Reserved before the transaction: on SQLite it holds the only writer.
        let bases = self
            .allocate_iuv_bases(w.ente.id, w.draft.options.len() - supplied.len())
            .await?;
        let mut tx = self.begin_write().await?;
        let (after, _) = match update_in(&mut tx, &w, &bases, self.for_update()).await {
            Err(PositionChangeError::Store(StoreError::Db(e))) if is_unique_violation(&e) => {
                drop(tx);
                let (_, taken) = self.conflicts(w.ente.id, None, &supplied).await?;
                return Err(PositionChangeError::DuplicateIuv(taken.unwrap_or_default()));
            }
            other => other?,
        };
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a position on which nothing was paid.
    pub async fn delete_position(
        &self,
        ente_id: i64,
        iupd: &str,
        actor: Actor<'_>,
        now: Timestamp,
    ) -> Result<(), PositionChangeError> {
        let mut tx = self.begin_write().await?;
        let before = load_position(&mut tx, ente_id, iupd, self.for_update())
            .await?
            .ok_or_else(|| PositionChangeError::NotFound(iupd.to_owned()))?;
        before
            .lifecycle()
            .check_delete()
            .map_err(PositionChangeError::Refused)?;
        refuse_while_paid(&mut tx, &before, now).await?;
        sqlx::query("DELETE FROM debt_position WHERE id = $1")
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor: actor.name,
                ente_id: Some(ente_id),
                action: "delete",
                entity: "debt_position",
                entity_key: iupd,
                before: audit_json(&before),
                after: None,
                request_id: actor.request_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn publish_position(
        &self,
        ente_id: i64,
        iupd: &str,
        actor: Actor<'_>,
        now: Timestamp,
    ) -> Result<StoredPosition, PositionChangeError> {
        self.change_status(ente_id, iupd, actor, now, "publish", None)
            .await
    }

    /// Cancels a published position (annullamento).
    pub async fn invalidate_position(
        &self,
        ente_id: i64,
        iupd: &str,
        actor: Actor<'_>,
        now: Timestamp,
    ) -> Result<StoredPosition, PositionChangeError> {
        self.change_status(ente_id, iupd, actor, now, "invalidate", None)
            .await
    }

    /// Cancels a position from the back office (annullamento), with the
    /// operator's reason kept in the audit log.
    pub async fn cancel_position(
        &self,
        ente_id: i64,
        iupd: &str,
        actor: Actor<'_>,
        reason: &str,
        now: Timestamp,
    ) -> Result<StoredPosition, PositionChangeError> {
        self.change_status(ente_id, iupd, actor, now, "invalidate", Some(reason))
            .await
    }

    async fn change_status(
        &self,
        ente_id: i64,
        iupd: &str,
        actor: Actor<'_>,
        now: Timestamp,
        action: &'static str,
        reason: Option<&str>,
    ) -> Result<StoredPosition, PositionChangeError> {
        let mut tx = self.begin_write().await?;
        let position = change_status_in(
            &mut tx,
            ente_id,
            iupd,
            actor,
            now,
            action,
            reason,
            self.for_update(),
        )
        .await?;
        tx.commit().await?;
        Ok(position)
    }

    /// Applies the clock to stored statuses: PUBLISHED positions whose
    /// validity date came become VALID; VALID ones that may expire and are
    /// unpaid past every due date become EXPIRED. The same rules as
    /// `Lifecycle::effective_status`, for the whole table at once.
    pub async fn sweep_statuses(&self, now: Timestamp) -> Result<(u64, u64), StoreError> {
        let mut tx = self.begin_write().await?;
        let promoted = sqlx::query(
            "UPDATE debt_position SET status = 'VALID', updated_at = $1, version = version + 1 \
             WHERE status = 'PUBLISHED' AND (validity_date IS NULL OR validity_date <= $1)",
        )
        .bind(micros(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let expired = sqlx::query(
            "UPDATE debt_position SET status = 'EXPIRED', updated_at = $1, version = version + 1 \
             WHERE status = 'VALID' AND switch_to_expired = 1 AND max_due_date < $1 \
             AND NOT EXISTS (SELECT 1 FROM payment_option o WHERE o.position_id = debt_position.id \
             AND o.status <> 'PO_UNPAID')",
        )
        .bind(micros(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok((promoted, expired))
    }

    /// GPD's bulk IBAN replacement: moves up to `limit` transfers of unpaid
    /// options of open positions from `old_iban` to `new_iban`. An option
    /// being paid right now keeps its account (the PSP was told it); so do
    /// positions an import has not published yet.
    pub async fn replace_transfer_iban(
        &self,
        ente_id: i64,
        old_iban: &str,
        new_iban: &str,
        limit: u32,
        actor: Actor<'_>,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let open: Vec<String> = PositionStatus::ALL
            .into_iter()
            .filter(|s| s.accepts_account_changes())
            .map(|s| format!("'{}'", s.code()))
            .collect();
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(&format!(
            "UPDATE transfer SET iban = $3, updated_at = $4 WHERE id IN ( \
             SELECT t.id FROM transfer t JOIN payment_option o ON o.id = t.option_id \
             JOIN debt_position p ON p.id = o.position_id \
             WHERE p.ente_id = $1 AND t.iban = $2 AND o.status = 'PO_UNPAID' AND p.status IN ({}) \
             AND {} AND NOT EXISTS (SELECT 1 FROM payment_activation a WHERE a.option_id = o.id \
             AND {}) ORDER BY t.id LIMIT $5)",
            open.join(", "),
            super::visible("p."),
            super::activations::activation_open("a.", 4)
        ))
        .bind(ente_id)
        .bind(old_iban)
        .bind(new_iban)
        .bind(micros(now))
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor: actor.name,
                ente_id: Some(ente_id),
                action: "replace_iban",
                entity: "transfer",
                entity_key: old_iban,
                before: Some(serde_json::json!({ "iban": old_iban })),
                after: Some(serde_json::json!({ "iban": new_iban, "updatedTransfers": updated })),
                request_id: actor.request_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }
}

/// The work of `update_position` inside the caller's transaction: reads the
/// position locked, checks the lifecycle, replaces it, audits it. `bases`:
/// fresh IUV bases for options that need one, taken from the front; answers
/// the position and how many bases it took.
pub(crate) async fn update_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    w: &PositionWrite<'_>,
    bases: &[u64],
    lock: &str,
) -> Result<(StoredPosition, usize), PositionChangeError> {
    let before = load_position(tx, w.ente.id, &w.draft.iupd, lock)
        .await?
        .ok_or_else(|| PositionChangeError::NotFound(w.draft.iupd.clone()))?;
    before
        .lifecycle()
        .check_update(w.now)
        .map_err(PositionChangeError::Refused)?;
    refuse_while_paid(tx, &before, w.now).await?;

    let reuse: Vec<Option<String>> = before.options.iter().map(|o| Some(o.iuv.clone())).collect();
    let fresh = fresh_iuvs_needed(w.draft, &reuse);
    if bases.len() < fresh {
        return Err(PositionChangeError::OutOfIuvs(fresh));
    }
    let iuvs = assign_iuvs(w.ente, w.draft, &reuse, bases);
    let kept: HashMap<String, Timestamp> = before
        .options
        .iter()
        .map(|o| (o.iuv.clone(), o.inserted_at))
        .collect();
    let status = status_on_save(w.to_publish, w.draft.validity_date, w.now);
    let d = w.draft;
    let debtor = &d.debtor;
    let now = stored_time(w.now);
    let mut options: Vec<_> = d
        .options
        .iter()
        .zip(&iuvs)
        .enumerate()
        .map(|(seq, (o, iuv))| {
            let inserted_at = kept.get(iuv.as_str()).copied().unwrap_or(now);
            new_option(seq as i32, o, iuv, inserted_at, now)
        })
        .collect();
    let (min_due, max_due) = due_bounds(&options);

    let result = async {
            sqlx::query("DELETE FROM payment_option WHERE position_id = $1")
                .bind(before.id)
                .execute(&mut **tx)
                .await?;
            let row = sqlx::query(&format!(
                "UPDATE debt_position SET debtor_type = $2, debtor_fiscal_code = $3, debtor_name = $4, \
                 street_name = $5, civic_number = $6, postal_code = $7, city = $8, province = $9, region = $10, \
                 country = $11, email = $12, phone = $13, company_name = $14, office_name = $15, \
                 validity_date = $16, switch_to_expired = $17, pay_stand_in = $18, status = $19, \
                 min_due_date = $20, max_due_date = $21, updated_at = $22, published_at = $23, \
                 version = version + 1 WHERE id = $1 RETURNING {POSITION_COLUMNS}"
            ))
            .bind(before.id)
            .bind(debtor.kind.code())
            .bind(debtor.id.as_str())
            .bind(&debtor.full_name)
            .bind(debtor.street_name.as_deref())
            .bind(debtor.civic_number.as_deref())
            .bind(debtor.postal_code.as_deref())
            .bind(debtor.city.as_deref())
            .bind(debtor.province.as_deref())
            .bind(debtor.region.as_deref())
            .bind(debtor.country.as_deref())
            .bind(debtor.email.as_deref())
            .bind(debtor.phone.as_deref())
            .bind(&d.company_name)
            .bind(d.office_name.as_deref())
            .bind(opt_micros(d.validity_date))
            .bind(flag(d.switch_to_expired))
            .bind(flag(d.pay_stand_in))
            .bind(status.code())
            .bind(min_due)
            .bind(max_due)
            .bind(micros(w.now))
            .bind((status != PositionStatus::Draft).then_some(micros(w.now)))
            .fetch_one(&mut **tx)
            .await?;
            let mut after = position_from_row(&row).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            after.options = std::mem::take(&mut options);
            insert_options(tx, &mut [&mut after]).await?;
            Ok::<_, sqlx::Error>(after)
        }
        .await;
    let after = result?;
    audit::record(
        tx,
        NewAuditEvent {
            at: w.now,
            actor: w.actor.name,
            ente_id: Some(w.ente.id),
            action: "update",
            entity: "debt_position",
            entity_key: &after.iupd,
            before: audit_json(&before),
            after: audit_json(&after),
            request_id: w.actor.request_id,
        },
    )
    .await?;
    Ok((after, fresh))
}

/// Publishes or cancels (`action`: `publish` or `invalidate`) a position
/// inside the caller's transaction, audited, with an optional reason.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn change_status_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ente_id: i64,
    iupd: &str,
    actor: Actor<'_>,
    now: Timestamp,
    action: &'static str,
    reason: Option<&str>,
    lock: &str,
) -> Result<StoredPosition, PositionChangeError> {
    let mut position = load_position(tx, ente_id, iupd, lock)
        .await?
        .ok_or_else(|| PositionChangeError::NotFound(iupd.to_owned()))?;
    let lifecycle = position.lifecycle();
    let before = position.status;
    let status = if action == "publish" {
        lifecycle.publish(now)
    } else {
        lifecycle.invalidate(now)
    }
    .map_err(PositionChangeError::Refused)?;
    refuse_while_paid(tx, &position, now).await?;
    if action == "publish" {
        position.published_at = Some(now);
    }
    sqlx::query(
            "UPDATE debt_position SET status = $2, published_at = $3, updated_at = $4, version = version + 1 WHERE id = $1",
        )
        .bind(position.id)
        .bind(status.code())
        .bind(opt_micros(position.published_at))
        .bind(micros(now))
        .execute(&mut **tx)
        .await?;
    position.status = status;
    position.updated_at = now;
    position.version += 1;
    audit::record(
        tx,
        NewAuditEvent {
            at: now,
            actor: actor.name,
            ente_id: Some(ente_id),
            action,
            entity: "debt_position",
            entity_key: iupd,
            before: Some(serde_json::json!({ "status": before })),
            after: Some(match reason {
                Some(reason) => serde_json::json!({ "status": status, "reason": reason }),
                None => serde_json::json!({ "status": status }),
            }),
            request_id: actor.request_id,
        },
    )
    .await?;
    Ok(position)
}

/// Refuses to change `position` while one of its notices is being paid (an
/// open activation): the receipt on its way would meet another debt.
async fn refuse_while_paid(
    conn: &mut sqlx::AnyConnection,
    position: &StoredPosition,
    now: Timestamp,
) -> Result<(), PositionChangeError> {
    let open = super::activations::open_activations(conn, position, now).await?;
    check_no_payment_in_progress(&open).map_err(|_| {
        let notice = position
            .options
            .iter()
            .zip(&open)
            .find(|(_, open)| **open)
            .map(|(o, _)| o.notice_number.clone())
            .unwrap_or_default();
        PositionChangeError::PaymentInProgress(notice)
    })
}
