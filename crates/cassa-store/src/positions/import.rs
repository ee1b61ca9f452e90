//! Applying an import file without making payments wait. A file is
//! applied whole or not at all, as users see it, yet it never holds the
//! database's writer for long (on SQLite there is one writer, shared with
//! every payment):
//!
//! 1. **Staging**: new positions go in a slice at a time, each slice its
//!    own short transaction, marked with the import's job id. While the
//!    job is listed in `import_staging` those positions are invisible
//!    (`positions::visible`): the node does not know their notices, the
//!    portal, the API and the back office do not show them. Each slice
//!    renews the job's lease in its own transaction: a worker that lost its
//!    lease cannot stage another row.
//! 2. **The switch**: one transaction, fenced by the lease, applies the
//!    file's changes and cancellations (they touch visible positions, so
//!    they wait for this moment), takes the job out of `import_staging`
//!    (every staged position becomes visible at once) and records the job
//!    done with its result. Either all of that commits or none of it.
//! 3. **Discard**: a file that fails after staging began has its staged
//!    positions deleted (a slice at a time); so does the next attempt of a
//!    job whose worker died, and the janitor those of a job that ended.
//!
//! IUV bases for the rows that need one are reserved before staging.

use std::collections::{HashSet, VecDeque};

use cassa_core::debt::{DebtPositionDraft, Mode, check_position, status_on_save};
use cassa_core::{Iuv, NoticeNumber};
use jiff::Timestamp;
use sqlx::{Any, Row, Transaction};

use super::rows::{insert_positions, new_position};
use super::write::{PositionWrite, change_status_in, update_in};
use super::{Actor, Origin, PositionChangeError, StoredPosition};
use crate::audit::{self, NewAuditEvent};
use crate::jobs::{Lease, NewJob, finish_job_in, insert_job, renew_lease_in};
use crate::sql::{many_parameters, micros, placeholders};
use crate::{Ente, Store, StoreError};

/// Staged positions deleted per transaction when an import is discarded.
const DISCARD_SLICE: i64 = 2_000;

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
                     WHERE p.ente_id = $1 AND {} AND p.iupd IN ({})",
                    super::activations::activation_open("a.", 2),
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

    /// Starts staging a file for `ente` as the job `lease` holds, with
    /// `new_iuvs` IUV bases reserved for the options that come without one.
    /// What an earlier attempt of the job staged must have been discarded
    /// (`discard_import`, which the job does before it checks the file);
    /// otherwise this fails. `None`: the lease was lost.
    pub async fn begin_import(
        &self,
        ente: &Ente,
        new_iuvs: usize,
        actor: &str,
        lease: &Lease,
        now: Timestamp,
    ) -> Result<Option<ImportStage>, StoreError> {
        let bases = self.allocate_iuv_bases(ente.id, new_iuvs).await?;
        let mut tx = self.begin_write().await?;
        if !renew_lease_in(&mut tx, lease, None, Timestamp::now()).await? {
            return Ok(None);
        }
        let registered = sqlx::query(
            "INSERT INTO import_staging (job_id, ente_id, started_at) VALUES ($1, $2, $3) \
             ON CONFLICT (job_id) DO NOTHING",
        )
        .bind(lease.job_id)
        .bind(ente.id)
        .bind(micros(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if registered == 0 {
            return Err(StoreError::Corrupt(format!(
                "import job {} still has staged positions: discard them first",
                lease.job_id
            )));
        }
        tx.commit().await?;
        Ok(Some(ImportStage {
            store: self.clone(),
            ente: ente.clone(),
            actor: actor.to_owned(),
            lease: lease.clone(),
            now,
            bases: bases.into(),
            progress: None,
        }))
    }

    /// Deletes what the import job `job_id` staged and never published, a
    /// slice at a time, and takes it out of `import_staging`. With a lease
    /// every slice checks it (`None` answered when it was lost); without
    /// one, only a job no longer running is touched (the janitor). A
    /// published import has nothing staged: nothing is deleted. Answers
    /// how many positions went.
    pub async fn discard_import(
        &self,
        job_id: i64,
        lease: Option<&Lease>,
    ) -> Result<Option<u64>, StoreError> {
        let mut discarded = 0u64;
        loop {
            let mut tx = self.begin_write().await?;
            let allowed = match lease {
                Some(lease) => renew_lease_in(&mut tx, lease, None, Timestamp::now()).await?,
                None => {
                    sqlx::query_scalar::<_, i64>(
                        "SELECT COUNT(*) FROM job WHERE id = $1 AND state = 'running'",
                    )
                    .bind(job_id)
                    .fetch_one(&mut *tx)
                    .await?
                        == 0
                }
            };
            if !allowed {
                return Ok(None);
            }
            // The rows staged lie in the recorded id range (other writes
            // interleave there, hence the job id too). None recorded: none.
            let range: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
                "SELECT first_position, last_position FROM import_staging WHERE job_id = $1",
            )
            .bind(job_id)
            .fetch_optional(&mut *tx)
            .await?;
            let gone = match range {
                Some((Some(first), Some(last))) => {
                    sqlx::query(&format!(
                        "DELETE FROM debt_position WHERE id IN (SELECT id FROM debt_position \
                         WHERE id BETWEEN $2 AND $3 AND import_job = $1 ORDER BY id \
                         LIMIT {DISCARD_SLICE}) RETURNING id, ente_id, iupd"
                    ))
                    .bind(job_id)
                    .bind(first)
                    .bind(last)
                    .fetch_all(&mut *tx)
                    .await?
                }
                _ => Vec::new(),
            };
            if let Some(highest) = gone
                .iter()
                .filter_map(|r| r.try_get::<i64, _>(0).ok())
                .max()
            {
                // The next slice starts past what is gone.
                sqlx::query("UPDATE import_staging SET first_position = $2 WHERE job_id = $1")
                    .bind(job_id)
                    .bind(highest + 1)
                    .execute(&mut *tx)
                    .await?;
            }
            let actor = format!("import:{job_id}");
            let now = Timestamp::now();
            let keys: Vec<(i64, String)> = gone
                .iter()
                .map(|r| Ok((r.try_get(1)?, r.try_get(2)?)))
                .collect::<Result<_, sqlx::Error>>()?;
            let events: Vec<NewAuditEvent<'_>> = keys
                .iter()
                .map(|(ente, iupd)| NewAuditEvent {
                    at: now,
                    actor: &actor,
                    ente_id: Some(*ente),
                    action: "discard",
                    entity: "debt_position",
                    entity_key: iupd,
                    before: None,
                    after: Some(serde_json::json!({ "importJob": job_id })),
                    request_id: None,
                })
                .collect();
            audit::record_many(&mut tx, events).await?;
            if keys.is_empty() {
                sqlx::query("DELETE FROM import_staging WHERE job_id = $1")
                    .bind(job_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                if discarded > 0 {
                    tracing::info!(
                        job = job_id,
                        discarded,
                        "import: staged positions discarded"
                    );
                }
                return Ok(Some(discarded));
            }
            tx.commit().await?;
            discarded += keys.len() as u64;
        }
    }

    /// The janitor: discards what imports staged whose jobs ended without
    /// publishing it (a worker died for the last time, say). Answers how
    /// many imports it cleaned.
    pub async fn discard_abandoned_imports(&self) -> Result<u64, StoreError> {
        let abandoned: Vec<i64> = sqlx::query_scalar(
            "SELECT s.job_id FROM import_staging s JOIN job j ON j.id = s.job_id \
             WHERE j.state <> 'running'",
        )
        .fetch_all(self.read())
        .await?;
        let mut cleaned = 0;
        for job in abandoned {
            if self.discard_import(job, None).await?.is_some() {
                cleaned += 1;
            }
        }
        Ok(cleaned)
    }
}

/// Positions per staging slice. On SQLite a slice holds the one writer,
/// so it stays short (tens of milliseconds) for payments to slip in
/// between; PostgreSQL runs payments beside it, so larger slices only save
/// commits.
pub fn import_slice(backend: crate::Backend) -> usize {
    match backend {
        crate::Backend::Sqlite => 500,
        crate::Backend::Postgres => 5_000,
    }
}

/// An import being staged: new positions go in, invisible, a slice at a
/// time; [`ImportStage::switch`] then opens the transaction that makes it
/// all visible.
pub struct ImportStage {
    store: Store,
    ente: Ente,
    actor: String,
    lease: Lease,
    now: Timestamp,
    bases: VecDeque<u64>,
    /// Progress to record with the next slice (rows done, rows in all).
    progress: Option<(i64, i64)>,
}

/// The switch: the file's changes and cancellations, and the moment the
/// whole import becomes visible and its job done.
pub struct ImportSwitch {
    tx: Transaction<'static, Any>,
    ente: Ente,
    actor: String,
    lease: Lease,
    now: Timestamp,
    lock: &'static str,
    bases: VecDeque<u64>,
}

/// Why a row could not be applied; the whole import is then discarded.
#[derive(Debug, thiserror::Error)]
pub enum ImportRowError {
    #[error(transparent)]
    Change(#[from] PositionChangeError),
    #[error("the IUPD or an IUV is already in use")]
    Conflict,
    #[error("{0} IUV bases were reserved, more were needed")]
    OutOfIuvs(usize),
    /// Another worker took the job over: stop, touch nothing.
    #[error("the job's lease was lost")]
    LeaseLost,
}

impl From<StoreError> for ImportRowError {
    fn from(e: StoreError) -> Self {
        ImportRowError::Change(PositionChangeError::Store(e))
    }
}

impl ImportStage {
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

    /// Records `done` of `total` with the next slice.
    pub fn progress(&mut self, done: u64, total: u64) {
        self.progress = Some((done as i64, total as i64));
    }

    /// Stages new positions (checked by the caller, and again here) in one
    /// short transaction of multi-row statements, published or as drafts,
    /// invisible until the switch.
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
            let mut position = new_position(&w, status, &iuvs);
            position.import_job = Some(self.lease.job_id);
            positions.push(position);
        }
        let mut tx = self.store.begin_write().await?;
        if !renew_lease_in(&mut tx, &self.lease, self.progress, Timestamp::now()).await? {
            return Err(ImportRowError::LeaseLost);
        }
        if let Err(e) = insert_positions(&mut tx, &mut positions).await {
            return Err(if crate::sql::is_unique_violation(&e) {
                ImportRowError::Conflict
            } else {
                StoreError::from(e).into()
            });
        }
        // Where the staged rows lie, for a discard to find them.
        let ids = positions.iter().map(|p| p.id);
        if let (Some(first), Some(last)) = (ids.clone().min(), ids.max()) {
            sqlx::query(
                "UPDATE import_staging SET \
                 first_position = CASE WHEN first_position IS NULL OR first_position > $2 \
                 THEN $2 ELSE first_position END, \
                 last_position = CASE WHEN last_position IS NULL OR last_position < $3 \
                 THEN $3 ELSE last_position END WHERE job_id = $1",
            )
            .bind(self.lease.job_id)
            .bind(first)
            .bind(last)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
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
                after: Some(serde_json::json!({
                    "origin": "import", "status": p.status, "importJob": p.import_job
                })),
                request_id: None,
            })
            .collect();
        audit::record_many(&mut tx, events)
            .await
            .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(positions.iter().map(applied).collect())
    }

    /// Opens the switch: one transaction, holding the writer until it
    /// commits, so the caller has everything ready before calling this.
    /// `None`: the lease was lost (nothing was written).
    pub async fn switch(self) -> Result<Option<ImportSwitch>, StoreError> {
        let mut tx = self.store.begin_write().await?;
        if !renew_lease_in(&mut tx, &self.lease, self.progress, Timestamp::now()).await? {
            return Ok(None);
        }
        Ok(Some(ImportSwitch {
            tx,
            lock: self.store.for_update(),
            ente: self.ente,
            actor: self.actor,
            lease: self.lease,
            now: self.now,
            bases: self.bases,
        }))
    }
}

impl ImportSwitch {
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
                // Tagged with this import (for its notices); the tag commits
                // with the switch, when the import is no longer staging.
                sqlx::query("UPDATE debt_position SET import_job = $1 WHERE id = $2")
                    .bind(self.lease.job_id)
                    .bind(after.id)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(StoreError::from)?;
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

    /// The whole file takes effect: its staged positions become visible,
    /// and the job is done with `result`, with `follow_up` queued (the
    /// notices to print, say), all in this one transaction. `false`: the
    /// lease was lost and nothing was committed.
    pub async fn commit(
        mut self,
        result: &str,
        follow_up: Option<NewJob<'_>>,
    ) -> Result<bool, StoreError> {
        let now = Timestamp::now();
        sqlx::query("DELETE FROM import_staging WHERE job_id = $1")
            .bind(self.lease.job_id)
            .execute(&mut *self.tx)
            .await?;
        if !finish_job_in(&mut self.tx, &self.lease, Ok(result), now).await? {
            return Ok(false);
        }
        if let Some(job) = follow_up {
            insert_job(&mut self.tx, &job, now).await?;
        }
        self.tx.commit().await?;
        Ok(true)
    }
}
