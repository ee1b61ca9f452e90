//! Applying an import file: every row of it in one transaction, so a file
//! is applied whole or not at all (a crash rolls it back; the job then
//! runs again from the start). Inserts go in multi-row statements; changes
//! and cancellations reuse the single-position code inside the same
//! transaction. IUV bases for the rows that need one are reserved before
//! the transaction starts, since on SQLite it holds the only writer.

use std::collections::{HashSet, VecDeque};

use cassa_core::debt::{DebtPositionDraft, Mode, check_position, status_on_save};
use cassa_core::{Iuv, NoticeNumber};
use jiff::Timestamp;
use sqlx::{Any, Row, Transaction};

use super::rows::{insert_positions, new_position};
use super::write::{PositionWrite, change_status_in, update_in};
use super::{Actor, Origin, PositionChangeError, StoredPosition};
use crate::audit::{self, NewAuditEvent};
use crate::sql::{many_parameters, placeholders};
use crate::{Ente, Store, StoreError};

/// What one applied position gave: its IUPD and each option's notice, in
/// the draft's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub iupd: String,
    pub options: Vec<AppliedOption>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedOption {
    pub iuv: String,
    pub notice_number: String,
}

fn applied(position: &StoredPosition) -> Applied {
    Applied {
        iupd: position.iupd.clone(),
        options: position
            .options
            .iter()
            .map(|o| AppliedOption {
                iuv: o.iuv.clone(),
                notice_number: o.notice_number.clone(),
            })
            .collect(),
    }
}

/// An import under way: its transaction and the IUV bases reserved for it.
pub struct ImportSession {
    tx: Transaction<'static, Any>,
    ente: Ente,
    actor: String,
    now: Timestamp,
    lock: &'static str,
    bases: VecDeque<u64>,
}

impl Store {
    /// Which of `iupds` the ente already has.
    pub async fn existing_iupds(
        &self,
        ente_id: i64,
        iupds: &[&str],
    ) -> Result<HashSet<String>, StoreError> {
        let mut found = HashSet::new();
        for chunk in iupds.chunks(500) {
            let sql = many_parameters(
                self.backend(),
                format!(
                    "SELECT iupd FROM debt_position WHERE ente_id = $1 AND iupd IN ({})",
                    placeholders(chunk.len(), 2)
                ),
            );
            let mut query = sqlx::query(&sql).bind(ente_id);
            for iupd in chunk {
                query = query.bind(*iupd);
            }
            for row in query.fetch_all(self.read()).await? {
                found.insert(row.try_get::<String, _>(0)?);
            }
        }
        Ok(found)
    }

    /// Which of `iupds` have a notice being paid right now (an open
    /// activation), with that notice: a change or cancellation of them
    /// must wait.
    pub async fn iupds_being_paid(
        &self,
        ente_id: i64,
        iupds: &[&str],
        now: Timestamp,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let mut found = std::collections::HashMap::new();
        for chunk in iupds.chunks(500) {
            let sql = many_parameters(
                self.backend(),
                format!(
                    "SELECT p.iupd, a.notice_number FROM debt_position p \
                     JOIN payment_option o ON o.position_id = p.id \
                     JOIN payment_activation a ON a.option_id = o.id \
                     WHERE p.ente_id = $1 AND a.closed_at IS NULL AND a.expires_at > $2 \
                     AND p.iupd IN ({})",
                    placeholders(chunk.len(), 3)
                ),
            );
            let mut query = sqlx::query(&sql)
                .bind(ente_id)
                .bind(crate::sql::micros(now));
            for iupd in chunk {
                query = query.bind(*iupd);
            }
            for row in query.fetch_all(self.read()).await? {
                found.insert(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
            }
        }
        Ok(found)
    }

    /// Starts applying a file for `ente`, with `new_iuvs` IUV bases reserved
    /// for the options that come without one.
    pub async fn begin_import(
        &self,
        ente: &Ente,
        new_iuvs: usize,
        actor: &str,
        now: Timestamp,
    ) -> Result<ImportSession, StoreError> {
        let bases = self.allocate_iuv_bases(ente.id, new_iuvs).await?;
        Ok(ImportSession {
            tx: self.begin_write().await?,
            ente: ente.clone(),
            actor: actor.to_owned(),
            now,
            lock: self.for_update(),
            bases: bases.into(),
        })
    }
}

/// Why a row could not be applied; the whole import is then dropped.
#[derive(Debug, thiserror::Error)]
pub enum ImportRowError {
    #[error(transparent)]
    Change(#[from] PositionChangeError),
    #[error("the IUPD or an IUV is already in use")]
    Conflict,
    #[error("{0} IUV bases were reserved, more were needed")]
    OutOfIuvs(usize),
}

impl From<StoreError> for ImportRowError {
    fn from(e: StoreError) -> Self {
        ImportRowError::Change(PositionChangeError::Store(e))
    }
}

impl ImportSession {
    fn actor(&self) -> Actor<'_> {
        Actor {
            name: &self.actor,
            request_id: None,
        }
    }

    fn take_bases(&mut self, n: usize) -> Result<Vec<u64>, ImportRowError> {
        if self.bases.len() < n {
            return Err(ImportRowError::OutOfIuvs(n));
        }
        Ok(self.bases.drain(..n).collect())
    }

    /// Inserts new positions (checked by the caller, and again here), in
    /// multi-row statements: published, or kept as drafts.
    pub async fn insert(
        &mut self,
        drafts: &[(DebtPositionDraft, Option<i64>)],
        publish: bool,
    ) -> Result<Vec<Applied>, ImportRowError> {
        let mut positions = Vec::with_capacity(drafts.len());
        for (draft, tipo_dovuto_id) in drafts {
            let violations = check_position(draft, Mode::Create, self.now);
            if !violations.is_empty() {
                return Err(PositionChangeError::Invalid(violations).into());
            }
            let missing = draft.options.iter().filter(|o| o.iuv.is_none()).count();
            let mut fresh = self.take_bases(missing)?.into_iter();
            let iuvs: Vec<Iuv> = draft
                .options
                .iter()
                .map(|o| match &o.iuv {
                    Some(iuv) => iuv.clone(),
                    None => NoticeNumber::generate(
                        self.ente.segregation_code,
                        fresh.next().expect("one base per option without an IUV"),
                    )
                    .expect("allocated bases fit in 13 digits")
                    .iuv(),
                })
                .collect();
            let w = PositionWrite {
                ente: &self.ente,
                tipo_dovuto_id: *tipo_dovuto_id,
                draft,
                to_publish: publish,
                origin: Origin::Import,
                actor: self.actor(),
                now: self.now,
            };
            let status = status_on_save(publish, draft.validity_date, self.now);
            positions.push(new_position(&w, status, &iuvs));
        }
        if let Err(e) = insert_positions(&mut self.tx, &mut positions).await {
            return Err(if crate::sql::is_unique_violation(&e) {
                ImportRowError::Conflict
            } else {
                StoreError::from(e).into()
            });
        }
        let events: Vec<NewAuditEvent<'_>> = positions
            .iter()
            .map(|p| NewAuditEvent {
                at: self.now,
                actor: &self.actor,
                ente_id: Some(self.ente.id),
                action: "create",
                entity: "debt_position",
                entity_key: &p.iupd,
                before: None,
                after: Some(serde_json::json!({ "origin": "import", "status": p.status })),
                request_id: None,
            })
            .collect();
        audit::record_many(&mut self.tx, events)
            .await
            .map_err(StoreError::from)?;
        Ok(positions.iter().map(applied).collect())
    }

    /// Replaces a position (action M), published or as a draft.
    pub async fn modify(
        &mut self,
        draft: &DebtPositionDraft,
        tipo_dovuto_id: Option<i64>,
        publish: bool,
    ) -> Result<Applied, ImportRowError> {
        let violations = check_position(draft, Mode::Update, self.now);
        if !violations.is_empty() {
            return Err(PositionChangeError::Invalid(violations).into());
        }
        let ente = self.ente.clone();
        let actor = self.actor.clone();
        let w = PositionWrite {
            ente: &ente,
            tipo_dovuto_id,
            draft,
            to_publish: publish,
            origin: Origin::Import,
            actor: Actor {
                name: &actor,
                request_id: None,
            },
            now: self.now,
        };
        // A changed option keeps its IUV (the one in its place before); an
        // added one without an IUV takes the next fresh one of the reserve.
        match update_in(&mut self.tx, &w, self.bases.make_contiguous(), self.lock).await {
            Ok((after, used)) => {
                self.bases.drain(..used);
                Ok(applied(&after))
            }
            Err(PositionChangeError::OutOfIuvs(n)) => Err(ImportRowError::OutOfIuvs(n)),
            Err(PositionChangeError::Store(StoreError::Db(e)))
                if crate::sql::is_unique_violation(&e) =>
            {
                Err(ImportRowError::Conflict)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Cancels a position (action A).
    pub async fn annul(&mut self, iupd: &str) -> Result<Applied, ImportRowError> {
        let actor = self.actor.clone();
        let position = change_status_in(
            &mut self.tx,
            self.ente.id,
            iupd,
            Actor {
                name: &actor,
                request_id: None,
            },
            self.now,
            "invalidate",
            Some("annullamento da flusso"),
            self.lock,
        )
        .await?;
        Ok(applied(&position))
    }

    /// The whole file takes effect.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}
