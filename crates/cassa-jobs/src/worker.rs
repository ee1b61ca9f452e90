//! The worker: claims queued jobs one at a time and runs them. Any number
//! of workers (inside `cassa serve` or as `cassa worker`) share the queue.
//! A job that fails is recorded with its reason; a job whose worker dies
//! is taken over when its lease runs out (see cassa-store's jobs).

use std::time::Duration;

use cassa_store::{Job, Lease, Store, StoreError};
use jiff::{SignedDuration, Timestamp};

use crate::bulk_notices;
use crate::files::FileStore;

/// How a job's run ended well.
#[derive(Debug)]
pub enum JobOutcome {
    /// Done with this result, for the worker to record.
    Done(String),
    /// The job recorded its own outcome in its final transaction (an
    /// import: the job is done in the same commit as the data).
    Recorded,
}

/// What a job's run hands back when it does not finish.
#[derive(Debug)]
pub enum JobFailure {
    /// The job cannot be done; the message says why, for the user.
    Failed(String),
    /// Another worker took the job over: stop without touching it.
    LeaseLost,
}

/// The job's error is shown to operators and API clients: the database's
/// own message (table names, constraint names, SQL) goes to the log only,
/// under a reference the shown text gives.
impl From<StoreError> for JobFailure {
    fn from(e: StoreError) -> Self {
        let reference = format!("{:08x}", rand::random::<u32>());
        tracing::error!(%reference, error = %e, "a job failed on the database");
        JobFailure::Failed(format!(
            "internal error (database); the server's log has the details under reference {reference}"
        ))
    }
}

/// How a running job's lease is renewed whatever the job is doing (a long
/// check of a large file writes nothing for a while): four times a lease.
fn heartbeat_every(lease: SignedDuration) -> Duration {
    Duration::try_from(lease / 4).unwrap_or(Duration::from_secs(1))
}

/// What a running job can reach.
pub struct JobContext {
    store: Store,
    files: FileStore,
    lease: Lease,
}

impl JobContext {
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn files(&self) -> &FileStore {
        &self.files
    }

    /// The worker's hold on the job: writes that must not outlive it check
    /// it in their own transaction.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Records progress and renews the lease.
    pub async fn progress(&self, done: u64, total: u64) -> Result<(), JobFailure> {
        let kept = self
            .store
            .job_progress(&self.lease, done as i64, total as i64, Timestamp::now())
            .await?;
        if kept {
            Ok(())
        } else {
            Err(JobFailure::LeaseLost)
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    store: Store,
    files: FileStore,
    name: String,
    lease: SignedDuration,
    idle: Duration,
}

impl Worker {
    pub fn new(store: Store, files: FileStore) -> Worker {
        let started = Timestamp::now().as_nanosecond() % 1_000_000_000;
        Worker {
            store,
            files,
            name: format!("worker-{}-{started:09}", std::process::id()),
            // Renewed by a heartbeat (a quarter of it) and by every page of work.
            lease: SignedDuration::from_secs(120),
            idle: Duration::from_secs(1),
        }
    }

    /// How long to wait before looking again when the queue is empty.
    pub fn with_idle(mut self, idle: Duration) -> Worker {
        self.idle = idle;
        self
    }

    /// How long a claimed job is held without renewal (tests shorten it).
    pub fn with_lease(mut self, lease: SignedDuration) -> Worker {
        self.lease = lease;
        self
    }

    /// Runs jobs forever; the caller stops it by dropping (aborting) the task.
    pub async fn run(self) {
        tracing::info!(worker = %self.name, "job worker started");
        loop {
            match self.run_next().await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "job queue unreachable; retrying"),
            }
            tokio::time::sleep(self.idle).await;
        }
    }

    /// Claims one job and runs it to its end; `None` when none is due.
    pub async fn run_next(&self) -> Result<Option<i64>, StoreError> {
        let Some((job, lease)) = self
            .store
            .claim_job(&self.name, self.lease, Timestamp::now())
            .await?
        else {
            return Ok(None);
        };
        let id = job.id;
        tracing::info!(job = id, kind = %job.kind, attempt = job.attempts, "job started");
        let ctx = JobContext {
            store: self.store.clone(),
            files: self.files.clone(),
            lease: lease.clone(),
        };
        let heartbeat = tokio::spawn(heartbeat(self.store.clone(), lease.clone()));
        // Its own task, so that a panic fails the job instead of the worker.
        let outcome = tokio::spawn(async move { run_job(&ctx, &job).await })
            .await
            .unwrap_or_else(|e| Err(JobFailure::Failed(format!("the job crashed: {e}"))));
        heartbeat.abort();
        let recorded = match &outcome {
            Ok(JobOutcome::Done(result)) => {
                self.store
                    .finish_job(&lease, Ok(result), Timestamp::now())
                    .await?
            }
            Ok(JobOutcome::Recorded) => true,
            Err(JobFailure::Failed(why)) => {
                tracing::warn!(job = id, reason = %why, "job failed");
                self.store
                    .finish_job(&lease, Err(why), Timestamp::now())
                    .await?
            }
            Err(JobFailure::LeaseLost) => false,
        };
        if recorded {
            tracing::info!(job = id, ok = outcome.is_ok(), "job ended");
        } else {
            tracing::warn!(
                job = id,
                "job taken over by another worker; its outcome here is dropped"
            );
        }
        Ok(Some(id))
    }
}

/// Renews the lease until aborted; stops when it was lost.
async fn heartbeat(store: Store, lease: Lease) {
    let every = heartbeat_every(lease.length);
    loop {
        tokio::time::sleep(every).await;
        match store.renew_lease(&lease, Timestamp::now()).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    job = lease.job_id,
                    "lease lost: another worker took the job"
                );
                return;
            }
            Err(e) => {
                tracing::warn!(job = lease.job_id, error = %e, "lease renewal failed; retrying")
            }
        }
    }
}

async fn run_job(ctx: &JobContext, job: &Job) -> Result<JobOutcome, JobFailure> {
    match job.kind.as_str() {
        bulk_notices::KIND => bulk_notices::run(ctx, job).await.map(JobOutcome::Done),
        crate::import_dovuti::KIND => crate::import_dovuti::run(ctx, job).await,
        crate::import_dovuti::NOTICES_KIND => crate::import_dovuti::print_notices(ctx, job).await,
        crate::export_pagati::KIND => crate::export_pagati::run(ctx, job)
            .await
            .map(JobOutcome::Done),
        other => Err(JobFailure::Failed(format!("unknown job kind {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::{JobFailure, StoreError};

    #[test]
    fn a_database_error_is_not_shown_to_whoever_reads_the_job() {
        let raw = StoreError::Corrupt(
            "duplicate key value violates unique constraint \"debt_position_pkey\"".into(),
        );
        let JobFailure::Failed(shown) = JobFailure::from(raw) else {
            panic!("a failure");
        };
        assert!(!shown.contains("debt_position"), "{shown}");
        assert!(shown.contains("reference"), "{shown}");
    }
}
