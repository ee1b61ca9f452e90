//! The notices of an import, printed after it was applied: a follow-up
//! job the import's switch queues in the same transaction that publishes
//! the file. It writes `<name>_AVVISI_PDF.zip` among the import's files
//! and, when done, adds it to the import's result; a printing that fails
//! leaves the import applied, and says so.

use cassa_store::Job;
use serde::{Deserialize, Serialize};

use super::ImportResult;
use crate::bulk_notices::{self, BulkNotices};
use crate::job::{JobContext, JobFailure, JobOutcome};

pub const NOTICES_KIND: &str = "import_notices";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NoticesRequest {
    /// The import whose positions to print, and where the ZIP goes.
    pub import_job: i64,
    pub file_name: String,
}

pub async fn print_notices(ctx: &JobContext, job: &Job) -> Result<JobOutcome, JobFailure> {
    let request: NoticesRequest = serde_json::from_str(&job.params)
        .map_err(|e| JobFailure::Failed(format!("invalid request: {e}")))?;
    let store = ctx.store();
    let ente = store
        .ente_by_id(job.ente_id)
        .await?
        .ok_or_else(|| JobFailure::Failed("the ente is gone".into()))?;
    let import = store
        .job(ente.id, request.import_job)
        .await?
        .ok_or_else(|| JobFailure::Failed("the import is gone".into()))?;
    let mut result: ImportResult = import
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .ok_or_else(|| JobFailure::Failed("the import has no result".into()))?;
    let printed = match bulk_notices::render(
        ctx,
        import.id,
        &ente,
        &BulkNotices::default(),
        None,
        Some(import.id),
        request.file_name.clone(),
    )
    .await
    {
        Ok(printed) => printed,
        Err(JobFailure::Failed(why)) => {
            // The import stays applied; its result says the notices failed,
            // in the transaction that fails this job, under its lease.
            result.notices_pending = false;
            result.notices_error = Some(why.clone());
            let recorded = store
                .finish_job_updating(
                    ctx.lease(),
                    Err(&why),
                    import.id,
                    &super::serialized(&result),
                    jiff::Timestamp::now(),
                )
                .await?;
            return if recorded {
                Ok(JobOutcome::Recorded)
            } else {
                Err(JobFailure::LeaseLost)
            };
        }
        Err(lost) => return Err(lost),
    };
    result.notices = printed.printed;
    result.notices_pending = false;
    if !result.files.contains(&request.file_name) {
        result.files.push(request.file_name);
    }
    let own = serde_json::to_string(&printed).expect("a result serializes");
    let updated = super::serialized(&result);
    let recorded = store
        .finish_job_updating(
            ctx.lease(),
            Ok(&own),
            import.id,
            &updated,
            jiff::Timestamp::now(),
        )
        .await?;
    if recorded {
        Ok(JobOutcome::Recorded)
    } else {
        Err(JobFailure::LeaseLost)
    }
}
