//! Uploaded debt files, known by their SHA-256: queuing the import of a
//! file the ente already sent (and whose import did not fail) changes
//! nothing and names the earlier import.

use jiff::Timestamp;
use sqlx::Row;

use crate::jobs::{NewJob, insert_job};
use crate::sql::micros;
use crate::{Job, Store, StoreError};

/// How queuing an import went.
#[derive(Debug)]
pub enum QueuedImport {
    Queued(Box<Job>),
    /// The same file was imported (or is being imported) by this job.
    AlreadySent {
        job_id: i64,
        file_name: String,
    },
    /// The ente already has [`MAX_UNFINISHED_IMPORTS`] imports waiting or
    /// running: one more waits until one ends.
    TooMany {
        unfinished: i64,
    },
}

/// Imports an ente may have queued or running at once: each holds its
/// upload (up to 512 MB, more extracted) on the shared disk.
pub const MAX_UNFINISHED_IMPORTS: i64 = 3;

const UNFINISHED_IMPORTS: &str =
    "SELECT COUNT(*) FROM job WHERE ente_id = $1 AND kind = $2 AND state IN ('queued', 'running')";

impl Store {
    /// Whether the ente may queue one more import now (checked before an
    /// upload is stored; [`Store::queue_import`] checks again).
    pub async fn may_queue_import(&self, ente_id: i64, kind: &str) -> Result<bool, StoreError> {
        let unfinished: i64 = sqlx::query_scalar(UNFINISHED_IMPORTS)
            .bind(ente_id)
            .bind(kind)
            .fetch_one(self.read())
            .await?;
        Ok(unfinished < MAX_UNFINISHED_IMPORTS)
    }

    pub async fn queue_import(
        &self,
        new: NewJob<'_>,
        sha256: &str,
        file_name: &str,
        now: Timestamp,
    ) -> Result<QueuedImport, StoreError> {
        let mut tx = self.begin_write().await?;
        let earlier = sqlx::query(
            "SELECT f.id, f.job_id, f.file_name, j.state FROM import_file f JOIN job j ON j.id = f.job_id \
             WHERE f.ente_id = $1 AND f.sha256 = $2",
        )
        .bind(new.ente_id)
        .bind(sha256)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = &earlier
            && row.try_get::<String, _>("state")? != "failed"
        {
            return Ok(QueuedImport::AlreadySent {
                job_id: row.try_get("job_id")?,
                file_name: row.try_get("file_name")?,
            });
        }
        if self.backend() == crate::Backend::Postgres {
            // One ente's imports queue one at a time, so the count holds.
            // NO KEY: foreign keys to the ente (an import's rows) take KEY
            // SHARE, which plain FOR UPDATE would wait for.
            sqlx::query("SELECT id FROM ente WHERE id = $1 FOR NO KEY UPDATE")
                .bind(new.ente_id)
                .fetch_optional(&mut *tx)
                .await?;
        }
        let unfinished: i64 = sqlx::query_scalar(UNFINISHED_IMPORTS)
            .bind(new.ente_id)
            .bind(new.kind)
            .fetch_one(&mut *tx)
            .await?;
        if unfinished >= MAX_UNFINISHED_IMPORTS {
            return Ok(QueuedImport::TooMany { unfinished });
        }
        let job = insert_job(&mut tx, &new, now).await?;
        match earlier {
            // The earlier import failed (not refused: failed): try again.
            Some(row) => {
                sqlx::query("UPDATE import_file SET job_id = $1, file_name = $2, created_at = $3 WHERE id = $4")
                    .bind(job.id)
                    .bind(file_name)
                    .bind(micros(now))
                    .bind(row.try_get::<i64, _>("id")?)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO import_file (ente_id, sha256, file_name, job_id, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(new.ente_id)
                .bind(sha256)
                .bind(file_name)
                .bind(job.id)
                .bind(micros(now))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(QueuedImport::Queued(Box::new(job)))
    }
}
