//! Export files are kept 30 days after their job ended, then deleted; the
//! job stays listed, marked as expired. Imports keep their reports: they
//! are small and say what happened to an ente's debts. Uploads go as soon
//! as no unfinished import needs them.

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
            let (files, id) = (files.clone(), job.id);
            let removed = tokio::task::spawn_blocking(move || files.remove_job_files(id))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
            if let Err(e) = removed {
                tracing::error!(job = job.id, error = %e, "export files could not be deleted");
                return Ok(expired);
            }
            store.mark_job_files_expired(job.id, now).await?;
            expired += 1;
        }
    }
}

/// How long an upload may wait without a job (it is still arriving, or
/// its job is being queued) before it counts as abandoned.
pub const UPLOAD_GRACE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Deletes uploads that no unfinished import needs: those of imports that
/// ended, of files refused as duplicates, of uploads that broke off. The
/// reports an import left are job files, kept apart.
pub async fn remove_stale_uploads(
    store: &Store,
    files: &FileStore,
) -> Result<usize, cassa_store::StoreError> {
    let before = std::time::SystemTime::now() - UPLOAD_GRACE;
    let files_owned = files.clone();
    let stale = tokio::task::spawn_blocking(move || files_owned.uploads_untouched_since(before))
        .await
        .map_err(|e| cassa_store::StoreError::Unavailable(e.to_string()))?;
    let stale = match stale {
        Ok(stale) if stale.is_empty() => return Ok(0),
        Ok(stale) => stale,
        Err(e) => {
            tracing::error!(error = %e, "the uploads directory could not be read");
            return Ok(0);
        }
    };
    // Read after the listing: a job queued meanwhile is seen.
    let needed: std::collections::HashSet<String> = store
        .unfinished_jobs(crate::import_dovuti::KIND)
        .await?
        .into_iter()
        .filter_map(|job| {
            serde_json::from_str::<crate::import_dovuti::ImportRequest>(&job.params)
                .ok()
                .map(|r| r.upload)
        })
        .collect();
    let mut removed = 0;
    for token in stale.into_iter().filter(|t| !needed.contains(t)) {
        let files = files.clone();
        match tokio::task::spawn_blocking(move || files.remove_upload(&token)).await {
            Ok(Ok(())) => removed += 1,
            Ok(Err(e)) => tracing::error!(error = %e, "an old upload could not be deleted"),
            Err(e) => tracing::error!(error = %e, "an old upload could not be deleted"),
        }
    }
    Ok(removed)
}
