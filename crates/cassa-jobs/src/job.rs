//! What a job's run may reach and what it hands back, for every kind of
//! job and the worker alike.

use cassa_store::{Lease, Store, StoreError};
use jiff::Timestamp;

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

/// What a running job can reach.
pub struct JobContext {
    store: Store,
    files: FileStore,
    lease: Lease,
}

impl JobContext {
    pub(crate) fn new(store: Store, files: FileStore, lease: Lease) -> JobContext {
        JobContext {
            store,
            files,
            lease,
        }
    }

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
