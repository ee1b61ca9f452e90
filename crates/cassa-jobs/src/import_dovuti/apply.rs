//! What both formats' apply passes share (see cassa-store's
//! `positions::import` for the why): new positions are staged a slice at a
//! time, invisible; the file's changes and cancellations are set aside in
//! a spill file beside the upload; then one transaction, the switch,
//! applies those, makes the whole file visible and records the job done,
//! with the notices to print queued as a follow-up job.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use cassa_store::{ImportSwitch, Job, NewJob};

use super::notices::{NOTICES_KIND, NoticesRequest};
use super::{ImportResult, Report, Upload, serialized};
use crate::job::{JobContext, JobFailure};

/// What an apply pass did.
#[derive(Default)]
pub(super) struct Counts {
    pub inserted: u64,
    pub modified: u64,
    pub annulled: u64,
}

impl ImportResult {
    pub(super) fn applied(
        version: &str,
        rows: u64,
        counts: &Counts,
        iuv_file: String,
        notices: bool,
    ) -> ImportResult {
        ImportResult {
            applied: true,
            version: Some(version.into()),
            rows,
            inserted: counts.inserted,
            modified: counts.modified,
            annulled: counts.annulled,
            files: vec![iuv_file],
            notices_pending: notices,
            ..ImportResult::default()
        }
    }
}

/// The rows of changes and cancellations, set aside as the file is staged
/// to be applied in the switch: the header, then each row as it was.
pub(super) struct Spill {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    rows: u64,
}

impl Spill {
    /// Where the spill of `upload` lives.
    pub fn path_for(upload: &Path) -> PathBuf {
        upload.with_extension("changes.csv")
    }

    pub fn create(upload: &Path, header: &[String]) -> Result<Spill, String> {
        let path = Spill::path_for(upload);
        let file = File::create(&path).map_err(|e| format!("spill file: {e}"))?;
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .flexible(true)
            .from_writer(BufWriter::new(file));
        writer
            .write_record(header)
            .map_err(|e| format!("spill file: {e}"))?;
        Ok(Spill {
            path,
            writer,
            rows: 0,
        })
    }

    pub fn row<I, T>(&mut self, cells: I) -> Result<(), String>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.rows += 1;
        self.writer
            .write_record(cells)
            .map_err(|e| format!("spill file: {e}"))
    }

    /// The file, flushed, and how many rows it holds.
    pub fn finish(mut self) -> Result<(PathBuf, u64), String> {
        self.writer
            .flush()
            .map_err(|e| format!("spill file: {e}"))?;
        Ok((self.path, self.rows))
    }
}

/// Waits for a reader task: its answer, or why the file cannot be applied.
pub(super) async fn read_through<T>(
    reader: tokio::task::JoinHandle<Result<T, String>>,
) -> Result<T, JobFailure> {
    reader
        .await
        .map_err(|e| JobFailure::Failed(format!("the reader stopped: {e}")))?
        .map_err(|e| JobFailure::Failed(format!("{e}; nothing was applied")))
}

/// The spill file as an upload of its own, for the format's reader.
pub(super) fn spilled(file: &Upload, path: PathBuf) -> Upload {
    Upload {
        path,
        with_notices: false,
        ..file.clone()
    }
}

/// Runs an apply pass; if it fails once staging may have begun, what it
/// staged is discarded (under the job's lease) so that nothing of the file
/// remains.
pub(super) async fn discarding_on_failure<T>(
    ctx: &JobContext,
    job_id: i64,
    pass: impl std::future::Future<Output = Result<T, JobFailure>>,
) -> Result<T, JobFailure> {
    match pass.await {
        Err(JobFailure::Failed(why)) => {
            match ctx
                .store()
                .discard_import(job_id, Some(ctx.lease()))
                .await?
            {
                Some(_) => Err(JobFailure::Failed(why)),
                None => Err(JobFailure::LeaseLost),
            }
        }
        other => other,
    }
}

/// The end of an apply: the IUV file complete on disk, then the switch
/// commits the changes, the publication, the job's result and the
/// follow-up printing, in one transaction. The IUV file is written first:
/// if the commit fails, the next attempt writes it again.
pub(super) async fn commit_switch(
    job: &Job,
    file: &Upload,
    switch: ImportSwitch,
    iuv_file: Report,
    result: &ImportResult,
) -> Result<(), JobFailure> {
    iuv_file.commit()?;
    let request = file.with_notices.then(|| NoticesRequest {
        import_job: job.id,
        file_name: format!("{}_AVVISI_PDF.zip", file.base),
    });
    let params = request
        .as_ref()
        .map(|r| serde_json::to_string(r).expect("a request serializes"));
    let actor = format!("import:{}", job.id);
    let follow_up = params.as_deref().map(|params| NewJob {
        ente_id: job.ente_id,
        kind: NOTICES_KIND,
        params,
        created_by: &actor,
    });
    if !switch.commit(&serialized(result), follow_up).await? {
        return Err(JobFailure::LeaseLost);
    }
    tracing::info!(
        job = job.id,
        inserted = result.inserted,
        modified = result.modified,
        annulled = result.annulled,
        "import: applied"
    );
    Ok(())
}

/// Makes a stage or switch that answered `None` (lease lost) a failure
/// that touches nothing.
pub(super) fn held<T>(value: Option<T>) -> Result<T, JobFailure> {
    value.ok_or(JobFailure::LeaseLost)
}

/// A row's failure while applying, as the job reports it.
pub(super) fn row_failure(key_name: &str, key: &str, e: cassa_store::ImportRowError) -> JobFailure {
    match e {
        cassa_store::ImportRowError::LeaseLost => JobFailure::LeaseLost,
        e => JobFailure::Failed(format!("{key_name} {key}: {e}; nothing was applied")),
    }
}
