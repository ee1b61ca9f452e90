//! Export files are kept 30 days after their job ended, then deleted; the
//! job stays listed, marked as expired. Imports keep their reports: they
//! are small and say what happened to an ente's debts.

use cassa_store::Store;
use jiff::{SignedDuration, Timestamp};

use crate::FileStore;
use crate::export_pagati;

/// How long an export's files are kept.
pub const EXPORT_RETENTION: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Deletes the files of exports that ended more than 30 days before
/// `now`; answers how many jobs lost their files.
pub async fn expire_exports(
    store: &Store,
    files: &FileStore,
    now: Timestamp,
) -> Result<usize, cassa_store::StoreError> {
    let mut expired = 0;
    loop {
        let jobs = store
            .jobs_with_files_to_expire(export_pagati::KIND, now - EXPORT_RETENTION, 100)
            .await?;
        if jobs.is_empty() {
            return Ok(expired);
        }
        for job in jobs {
            // Deleted, then marked: after a crash in between, the next sweep
            // finds the job again and only marks it.
            if let Err(e) = files.remove_job_files(job.id) {
                tracing::error!(job = job.id, error = %e, "export files could not be deleted");
                return Ok(expired);
            }
            store.mark_job_files_expired(job.id, now).await?;
            expired += 1;
        }
    }
}
