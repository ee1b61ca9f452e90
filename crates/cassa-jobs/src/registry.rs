//! Every kind of job, by the code stored with it: the one place a new kind
//! is added.

use cassa_store::Job;

use crate::job::{JobContext, JobFailure, JobOutcome};
use crate::{bulk_notices, export_pagati, import_dovuti};

pub(crate) async fn run_job(ctx: &JobContext, job: &Job) -> Result<JobOutcome, JobFailure> {
    match job.kind.as_str() {
        bulk_notices::KIND => bulk_notices::run(ctx, job).await.map(JobOutcome::Done),
        import_dovuti::KIND => import_dovuti::run(ctx, job).await,
        import_dovuti::NOTICES_KIND => import_dovuti::print_notices(ctx, job).await,
        export_pagati::KIND => export_pagati::run(ctx, job).await.map(JobOutcome::Done),
        other => Err(JobFailure::Failed(format!("unknown job kind {other:?}"))),
    }
}
