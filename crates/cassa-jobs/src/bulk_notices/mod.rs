//! Bulk printing: the notices of every printable position an ente selects
//! (by tipo dovuto, due dates, creation dates, or a list of IUPDs) in one
//! ZIP: one PDF per position, or merged PDFs of up to
//! [`NOTICES_PER_BOOK`] notices each; plus `indice.csv`, which says for
//! every position which file holds its notice, or why it was skipped.
//!
//! Positions are read a page at a time and each page is rendered on every
//! core, then written straight to the ZIP on disk: memory stays flat
//! whatever the number of notices.

mod archive;

use cassa_store::{EntePrinting, Job, PrintSelection, StoredPosition};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::job::{JobContext, JobFailure};
use crate::printouts::notice_of;
use archive::{ArchiveWriter, Entry};

pub const KIND: &str = "bulk_notices";
/// Notices per merged PDF: a print shop's batch, and a bound on memory.
pub const NOTICES_PER_BOOK: usize = 1_000;
/// The longest IUPD list one request may name.
pub const MAX_IUPDS: usize = 10_000;
/// Positions read, rendered and written per step.
const PAGE: usize = 128;

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BulkFormat {
    /// One PDF per debt position.
    #[default]
    PdfPerPosition,
    /// Merged PDFs, up to [`NOTICES_PER_BOOK`] notices each.
    Merged,
}

/// What to print, as the API receives it and the job stores it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkNotices {
    #[serde(default)]
    pub format: BulkFormat,
    /// The code of a tipo dovuto of the ente.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tipo_dovuto: Option<String>,
    /// Positions with an unpaid option due in this range (Europe/Rome days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date_from: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date_to: Option<Date>,
    /// Positions created in this range (Europe/Rome days): one upload, say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_from: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_to: Option<Date>,
    /// Only these positions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iupds: Vec<String>,
    /// MERGED only: notices per PDF, 1 to [`NOTICES_PER_BOOK`] (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notices_per_file: Option<usize>,
}

/// What a finished job produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkNoticesResult {
    pub file_name: String,
    pub bytes: u64,
    /// Positions whose notice is in the ZIP.
    pub printed: u64,
    /// Positions left out, each with its reason in `indice.csv`.
    pub skipped: u64,
    /// PDF files in the ZIP.
    pub pdf_files: u64,
}

/// The instants from the start of `from` to the end of `to`, Italian time.
fn day_range(from: Option<Date>, to: Option<Date>) -> Option<(Timestamp, Timestamp)> {
    if from.is_none() && to.is_none() {
        return None;
    }
    let start = |d: Date| {
        d.to_zoned(cassa_core::italy::time_zone())
            .map(|z| z.timestamp())
            .ok()
    };
    let from = from.and_then(start).unwrap_or(Timestamp::MIN);
    let to = to
        .and_then(|d| d.checked_add(1.day()).ok())
        .and_then(start)
        .map_or(Timestamp::MAX, |t| t - 1.microsecond());
    Some((from, to))
}

impl BulkNotices {
    /// Every problem with the request, naming its field.
    pub fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        for (field, from, to) in [
            ("dueDate", self.due_date_from, self.due_date_to),
            ("created", self.created_from, self.created_to),
        ] {
            if let (Some(from), Some(to)) = (from, to)
                && from > to
            {
                problems.push(format!("{field}From {from} is after {field}To {to}"));
            }
        }
        if self.iupds.len() > MAX_IUPDS {
            problems.push(format!(
                "iupds: {} positions named, at most {MAX_IUPDS}",
                self.iupds.len()
            ));
        }
        if let Some(i) = self.iupds.iter().position(|i| i.trim().is_empty()) {
            problems.push(format!("iupds[{i}]: empty"));
        }
        match (self.format, self.notices_per_file) {
            (_, None) => {}
            (BulkFormat::PdfPerPosition, Some(_)) => {
                problems.push("noticesPerFile: only for the MERGED format".to_owned())
            }
            (BulkFormat::Merged, Some(n)) if n == 0 || n > NOTICES_PER_BOOK => problems.push(
                format!("noticesPerFile: {n}, expected 1 to {NOTICES_PER_BOOK}"),
            ),
            (BulkFormat::Merged, Some(_)) => {}
        }
        if matches!(&self.tipo_dovuto, Some(code) if code.trim().is_empty()) {
            problems.push("tipoDovuto: empty".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    fn selection(&self, tipo_dovuto_id: Option<i64>) -> PrintSelection {
        PrintSelection {
            tipo_dovuto_id,
            due_date: day_range(self.due_date_from, self.due_date_to),
            inserted: day_range(self.created_from, self.created_to),
            iupds: Vec::new(),
            import_job: None,
        }
    }
}

pub(crate) async fn run(ctx: &JobContext, job: &Job) -> Result<String, JobFailure> {
    let request: BulkNotices = serde_json::from_str(&job.params)
        .map_err(|e| JobFailure::Failed(format!("the request is not readable: {e}")))?;
    request.check().map_err(JobFailure::Failed)?;
    let store = ctx.store();
    let ente = store
        .ente_by_id(job.ente_id)
        .await?
        .ok_or_else(|| JobFailure::Failed("the ente no longer exists".into()))?;
    let tipo_dovuto_id = match &request.tipo_dovuto {
        None => None,
        Some(code) => Some(
            store
                .tipo_dovuto_by_code(ente.id, code)
                .await?
                .ok_or_else(|| {
                    JobFailure::Failed(format!("tipoDovuto {code:?}: no such tipo dovuto"))
                })?
                .id,
        ),
    };
    let file_name = format!("avvisi-{}-{}.zip", ente.fiscal_code, job.id);
    let result = render(
        ctx,
        job.id,
        &ente,
        &request,
        tipo_dovuto_id,
        None,
        file_name,
    )
    .await?;
    serde_json::to_string(&result).map_err(|e| JobFailure::Failed(e.to_string()))
}

/// Writes the ZIP of the notices `request` selects (and, with
/// `import_job`, only that import's positions) as `file_name`, a file of
/// job `job_id` (a bulk printing job, or an import that was asked for its
/// notices).
pub(crate) async fn render(
    ctx: &JobContext,
    job_id: i64,
    ente: &cassa_store::Ente,
    request: &BulkNotices,
    tipo_dovuto_id: Option<i64>,
    import_job: Option<i64>,
    file_name: String,
) -> Result<BulkNoticesResult, JobFailure> {
    let store = ctx.store();
    let printing = store.ente_printing(ente.id).await?;
    let mut selection = request.selection(tipo_dovuto_id);
    selection.import_job = import_job;
    let total = if request.iupds.is_empty() {
        store.count_printable(ente.id, &selection).await?
    } else {
        request.iupds.len() as u64
    };
    ctx.progress(0, total).await?;

    let now = Timestamp::now();
    let file = ctx
        .files()
        .create(job_id, &file_name)
        .map_err(|e| JobFailure::Failed(format!("cannot write {file_name}: {e}")))?;
    let per_book = request.notices_per_file.unwrap_or(NOTICES_PER_BOOK);
    let mut writer = ArchiveWriter::start(file, request.format, per_book, now, file_name);
    let mut read = 0u64;
    let mut after_id = 0;
    let mut named = request.iupds.chunks(PAGE);
    loop {
        let entries = if request.iupds.is_empty() {
            let page = store
                .printable_positions(ente.id, &selection, after_id, PAGE as u32)
                .await?;
            let Some(last) = page.last() else { break };
            after_id = last.id;
            page.iter()
                .map(|p| entry(p, ente, &printing, now))
                .collect()
        } else {
            let Some(iupds) = named.next() else { break };
            selection.iupds = iupds.to_vec();
            let found = store
                .printable_positions(ente.id, &selection, 0, iupds.len() as u32)
                .await?;
            iupds
                .iter()
                .map(|iupd| match found.iter().find(|p| &p.iupd == iupd) {
                    Some(p) => entry(p, ente, &printing, now),
                    None => Entry::missing(iupd),
                })
                .collect::<Vec<_>>()
        };
        read += entries.len() as u64;
        // Waits while the writer is busy: at most two pages are in memory.
        let written = writer.send(entries).await?;
        ctx.progress(written, total.max(read)).await?;
    }
    writer.finish().await
}

fn entry(
    position: &StoredPosition,
    ente: &cassa_store::Ente,
    printing: &EntePrinting,
    now: Timestamp,
) -> Entry {
    Entry {
        iupd: position.iupd.clone(),
        debtor_fiscal_code: position.debtor_fiscal_code.clone(),
        debtor_name: position.debtor_name.clone(),
        notice: notice_of(position, ente, printing, now).map_err(|why| why.reason()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_as_the_api_writes_them() {
        let request: BulkNotices = serde_json::from_str(
            r#"{"format":"MERGED","tipoDovuto":"TARI","dueDateFrom":"2026-01-01","iupds":["A"]}"#,
        )
        .unwrap();
        assert_eq!(request.format, BulkFormat::Merged);
        assert_eq!(request.tipo_dovuto.as_deref(), Some("TARI"));
        assert_eq!(request.due_date_from, Some(Date::constant(2026, 1, 1)));
        assert_eq!(BulkNotices::default().format, BulkFormat::PdfPerPosition);
        assert!(serde_json::from_str::<BulkNotices>(r#"{"colour":"red"}"#).is_err());
    }

    #[test]
    fn bad_requests_name_their_fields() {
        let request = BulkNotices {
            due_date_from: Some(Date::constant(2026, 2, 1)),
            due_date_to: Some(Date::constant(2026, 1, 1)),
            iupds: vec!["A".into(), " ".into()],
            ..BulkNotices::default()
        };
        let problems = request.check().unwrap_err();
        assert!(problems.contains("dueDateFrom 2026-02-01 is after dueDateTo 2026-01-01"));
        assert!(problems.contains("iupds[1]: empty"));
        assert!(BulkNotices::default().check().is_ok());
    }

    #[test]
    fn days_are_italian_days() {
        let (from, to) = day_range(
            Some(Date::constant(2026, 7, 1)),
            Some(Date::constant(2026, 7, 31)),
        )
        .unwrap();
        assert_eq!(from.to_string(), "2026-06-30T22:00:00Z");
        assert_eq!(to.to_string(), "2026-07-31T21:59:59.999999Z");
        let (from, to) = day_range(None, Some(Date::constant(2026, 1, 31))).unwrap();
        assert_eq!(from, Timestamp::MIN);
        assert_eq!(to.to_string(), "2026-01-31T22:59:59.999999Z");
        assert_eq!(day_range(None, None), None);
    }
}
