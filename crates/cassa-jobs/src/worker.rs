//! The worker: claims queued jobs one at a time and runs them. Any number
//! of workers (inside `cassa serve` or as `cassa worker`) share the queue.
//! A job that fails is recorded with its reason; a job whose worker dies
//! is taken over when its lease runs out (see cassa-store's jobs).

use std::time::Duration;

use cassa_store::{Lease, Store, StoreError};
use jiff::{SignedDuration, Timestamp};

use crate::files::FileStore;
use crate::job::{JobContext, JobFailure, JobOutcome};
use crate::registry::run_job;

/// How a running job's lease is renewed whatever the job is doing (a long
/// check of a large file writes nothing for a while): four times a lease.
fn heartbeat_every(lease: SignedDuration) -> Duration {
    Duration::try_from(lease / 4).unwrap_or(Duration::from_secs(1))
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
        let ctx = JobContext::new(self.store.clone(), self.files.clone(), lease.clone());
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
