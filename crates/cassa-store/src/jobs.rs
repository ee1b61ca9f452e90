//! The job queue: background work (bulk notice printing, imports, exports)
//! that any `cassa serve` or `cassa worker` process may run.
//!
//! Claiming is one portable statement, `UPDATE … WHERE id = (SELECT …)
//! RETURNING`, with `FOR UPDATE SKIP LOCKED` on PostgreSQL so concurrent
//! workers pass each other by; SQLite has one writer at a time anyway. A
//! claimed job carries a lease that its worker renews as it reports
//! progress and with a heartbeat; writes that must not outlive the lease
//! check it in their own transaction (`renew_lease_in`, `finish_job_in`). A job whose lease ran out (the worker died) is claimed again,
//! up to `MAX_ATTEMPTS` times, then it fails with a message saying so.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::sql::{micros, opt_timestamp, timestamp};
use crate::{Backend, Store, StoreError};

/// A job whose worker died this many times is not tried again.
pub const MAX_ATTEMPTS: i32 = 3;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn code(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    fn parse(code: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub id: i64,
    pub ente_id: i64,
    /// What to do, e.g. `bulk_notices`.
    pub kind: String,
    /// The request, as JSON text (the kind's own shape).
    pub params: String,
    pub state: JobState,
    pub progress_done: i64,
    pub progress_total: i64,
    pub attempts: i32,
    pub error: Option<String>,
    /// What it produced, as JSON text (the kind's own shape).
    pub result: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// Which worker holds it while running.
    pub worker: Option<String>,
    /// When its files were deleted for age, if they were.
    pub files_expired_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, ente_id, kind, params, state, progress_done, progress_total, \
    attempts, error, result, created_by, created_at, started_at, finished_at, worker, files_expired_at";

fn job_from_row(row: &AnyRow) -> Result<Job, StoreError> {
    let state: String = row.try_get("state")?;
    Ok(Job {
        id: row.try_get("id")?,
        ente_id: row.try_get("ente_id")?,
        kind: row.try_get("kind")?,
        params: row.try_get("params")?,
        state: JobState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("job state {state:?}")))?,
        progress_done: row.try_get("progress_done")?,
        progress_total: row.try_get("progress_total")?,
        attempts: row.try_get("attempts")?,
        error: row.try_get("error")?,
        result: row.try_get("result")?,
        created_by: row.try_get("created_by")?,
        created_at: timestamp(row.try_get("created_at")?)?,
        started_at: opt_timestamp(row.try_get("started_at")?)?,
        finished_at: opt_timestamp(row.try_get("finished_at")?)?,
        worker: row.try_get("worker")?,
        files_expired_at: opt_timestamp(row.try_get("files_expired_at")?)?,
    })
}

#[derive(Clone, Debug)]
pub struct NewJob<'a> {
    pub ente_id: i64,
    pub kind: &'a str,
    pub params: &'a str,
    /// `apikey:<id>`, `cli`, later `user:<id>`.
    pub created_by: &'a str,
}

/// The worker's hold on a running job. The worker's name and the attempt
/// number together are the fencing token: a worker whose lease ran out and
/// whose job was claimed again (attempt + 1) can no longer write as the
/// job, even if it comes back.
#[derive(Clone, Debug)]
pub struct Lease {
    pub job_id: i64,
    pub worker: String,
    pub attempt: i32,
    pub length: SignedDuration,
}

/// Renews `lease` inside the caller's transaction and, when given, records
/// progress; `false` (nothing written) when the lease was lost. Writes
/// that must not outlive the lease are made in the same transaction.
pub(crate) async fn renew_lease_in(
    conn: &mut sqlx::AnyConnection,
    lease: &Lease,
    progress: Option<(i64, i64)>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let (done, total) = progress.unwrap_or((-1, -1));
    let updated = sqlx::query(
        "UPDATE job SET lease_until = $1, \
         progress_done = CASE WHEN $2 < 0 THEN progress_done ELSE $2 END, \
         progress_total = CASE WHEN $3 < 0 THEN progress_total ELSE $3 END \
         WHERE id = $4 AND worker = $5 AND attempts = $6 AND state = 'running'",
    )
    .bind(micros(now + lease.length))
    .bind(done)
    .bind(total)
    .bind(lease.job_id)
    .bind(&lease.worker)
    .bind(lease.attempt)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Ends a job inside the caller's transaction (its outcome then commits
/// with whatever else the transaction wrote); `false` when the lease was
/// lost, and then nothing must be committed.
pub(crate) async fn finish_job_in(
    conn: &mut sqlx::AnyConnection,
    lease: &Lease,
    outcome: Result<&str, &str>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let (state, result, error) = match outcome {
        Ok(result) => ("done", Some(result), None),
        Err(error) => ("failed", None, Some(error)),
    };
    let updated = sqlx::query(
        "UPDATE job SET state = $1, result = $2, error = $3, finished_at = $4, \
         lease_until = NULL, progress_done = CASE WHEN $1 = 'done' THEN progress_total \
         ELSE progress_done END WHERE id = $5 AND worker = $6 AND attempts = $7 AND state = 'running'",
    )
    .bind(state)
    .bind(result)
    .bind(error)
    .bind(micros(now))
    .bind(lease.job_id)
    .bind(&lease.worker)
    .bind(lease.attempt)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

impl Store {
    /// Queues a job to run as soon as a worker is free.
    pub async fn enqueue_job(&self, new: NewJob<'_>, now: Timestamp) -> Result<Job, StoreError> {
        let mut tx = self.begin_write().await?;
        let job = insert_job(&mut tx, &new, now).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Up to `limit` finished jobs of `kind` that ended before `before` and
    /// still have their files, oldest first.
    pub async fn jobs_with_files_to_expire(
        &self,
        kind: &str,
        before: Timestamp,
        limit: i64,
    ) -> Result<Vec<Job>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM job WHERE kind = $1 AND state IN ('done', 'failed') \
             AND finished_at < $2 AND files_expired_at IS NULL ORDER BY finished_at LIMIT $3"
        ))
        .bind(kind)
        .bind(micros(before))
        .bind(limit)
        .fetch_all(self.read())
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// The jobs of `kind` still queued or running (an import's upload is
    /// needed until its job ends).
    pub async fn unfinished_jobs(&self, kind: &str) -> Result<Vec<Job>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM job WHERE kind = $1 AND state IN ('queued', 'running') ORDER BY id"
        ))
        .bind(kind)
        .fetch_all(self.read())
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Records that job `id`'s files were deleted at `now`.
    pub async fn mark_job_files_expired(&self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE job SET files_expired_at = $1 WHERE id = $2")
            .bind(micros(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A job of `ente_id` (another ente's job is not found).
    pub async fn job(&self, ente_id: i64, id: i64) -> Result<Option<Job>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM job WHERE id = $1 AND ente_id = $2"
        ))
        .bind(id)
        .bind(ente_id)
        .fetch_optional(self.read())
        .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// The ente's jobs, newest first.
    pub async fn jobs_of_ente(&self, ente_id: i64, limit: i64) -> Result<Vec<Job>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM job WHERE ente_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(ente_id)
        .bind(limit)
        .fetch_all(self.read())
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Takes the oldest job that is due, or one whose worker's lease ran
    /// out. Jobs abandoned `MAX_ATTEMPTS` times are failed instead.
    pub async fn claim_job(
        &self,
        worker: &str,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<Option<(Job, Lease)>, StoreError> {
        let claimable =
            "(state = 'queued' AND run_at <= $1) OR (state = 'running' AND lease_until < $1)";
        // Idle workers poll often: a read first, so that polling an empty
        // queue never takes SQLite's write lock.
        let waiting = sqlx::query(&format!("SELECT 1 FROM job WHERE {claimable} LIMIT 1"))
            .bind(micros(now))
            .fetch_optional(self.read())
            .await?;
        if waiting.is_none() {
            return Ok(None);
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE job SET state = 'failed', finished_at = $1, lease_until = NULL, \
             error = 'the worker running it stopped ' || CAST(attempts AS TEXT) || ' times' \
             WHERE state = 'running' AND lease_until < $1 AND attempts >= $2",
        )
        .bind(micros(now))
        .bind(MAX_ATTEMPTS)
        .execute(&mut *tx)
        .await?;
        let skip_locked = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let row = sqlx::query(&format!(
            "UPDATE job SET state = 'running', worker = $2, lease_until = $3, \
             attempts = attempts + 1, started_at = $1, error = NULL \
             WHERE id = (SELECT id FROM job WHERE {claimable} ORDER BY run_at, id LIMIT 1{skip_locked}) \
             AND ({claimable}) RETURNING {COLUMNS}"
        ))
        .bind(micros(now))
        .bind(worker)
        .bind(micros(now + lease))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let Some(row) = row else { return Ok(None) };
        let job = job_from_row(&row)?;
        let lease = Lease {
            job_id: job.id,
            worker: worker.to_owned(),
            attempt: job.attempts,
            length: lease,
        };
        Ok(Some((job, lease)))
    }

    /// Records progress and renews the lease. `false`: the lease was lost
    /// (another worker took the job over), so stop working on it.
    pub async fn job_progress(
        &self,
        lease: &Lease,
        done: i64,
        total: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.renew(lease, Some((done, total)), now).await
    }

    /// Renews the lease only (the worker's heartbeat). `false`: lost.
    pub async fn renew_lease(&self, lease: &Lease, now: Timestamp) -> Result<bool, StoreError> {
        self.renew(lease, None, now).await
    }

    async fn renew(
        &self,
        lease: &Lease,
        progress: Option<(i64, i64)>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let kept = renew_lease_in(&mut tx, lease, progress, now).await?;
        tx.commit().await?;
        Ok(kept)
    }

    /// Ends a job: `Ok(result)` as done, `Err(message)` as failed. `false`:
    /// the lease was lost and the job was left as it was.
    pub async fn finish_job(
        &self,
        lease: &Lease,
        outcome: Result<&str, &str>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let ended = finish_job_in(&mut tx, lease, outcome, now).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Ends a job (`Ok(result)` done, `Err(message)` failed) and, in the same
    /// transaction, replaces another job's result with `other_result` (a
    /// follow-up job telling the job it follows how it went, the file it
    /// made, say). `false`: the lease was lost, nothing changed.
    pub async fn finish_job_updating(
        &self,
        lease: &Lease,
        outcome: Result<&str, &str>,
        other_job: i64,
        other_result: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if !finish_job_in(&mut tx, lease, outcome, now).await? {
            return Ok(false);
        }
        sqlx::query("UPDATE job SET result = $1 WHERE id = $2")
            .bind(other_result)
            .bind(other_job)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Queues a job inside the caller's transaction, audited.
pub(crate) async fn insert_job(
    conn: &mut sqlx::AnyConnection,
    new: &NewJob<'_>,
    now: Timestamp,
) -> Result<Job, StoreError> {
    let row = sqlx::query(&format!(
        "INSERT INTO job (ente_id, kind, params, state, run_at, created_by, created_at) \
             VALUES ($1, $2, $3, 'queued', $4, $5, $4) RETURNING {COLUMNS}"
    ))
    .bind(new.ente_id)
    .bind(new.kind)
    .bind(new.params)
    .bind(micros(now))
    .bind(new.created_by)
    .fetch_one(&mut *conn)
    .await?;
    let job = job_from_row(&row)?;
    audit::record(
        conn,
        NewAuditEvent {
            at: now,
            actor: new.created_by,
            ente_id: Some(new.ente_id),
            action: "create",
            entity: "job",
            entity_key: &job.id.to_string(),
            before: None,
            after: Some(serde_json::json!({ "kind": job.kind, "params": job.params })),
            request_id: None,
        },
    )
    .await?;
    Ok(job)
}
