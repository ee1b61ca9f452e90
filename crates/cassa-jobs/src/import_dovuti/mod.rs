//! Importing a debt file, checked whole first, then applied whole, or not
//! at all. Two families are read, told apart by the header row: MyPay's
//! 1_0 to 1_4 (`mypay`: one row, one position) and P4PA's 2.0 / 2.0-eng
//! (`p4pa`: rows sharing an IUPD make one position with its options and
//! installments). Either comes as a `.csv` or a `.zip` holding one.
//!
//! 1. The header is checked column by column.
//! 2. Every row is read (cassa-core's rules), its tipo dovuto must be one
//!    of the ente's, its taxonomy code in the official catalogue, its IUD
//!    unique in the file; then, against the database, an insert's position
//!    must be new and a change's or cancellation's must exist.
//! 3. With any refused row nothing is applied: `<name>_SCARTI.csv` holds
//!    the refused rows as they were plus `cod_rifiuto;de_rifiuto`, and
//!    `esito.csv` says for each refused row which column and why.
//! 4. Otherwise the file is read again and applied without holding the
//!    database's writer (`apply`): new positions are staged, invisible, a
//!    slice at a time; changes and cancellations are set aside; then one
//!    transaction applies those, makes the file visible and records the
//!    job done. `<name>_IUV.csv` gives each IUD its IUV and notice number.
//!    Asked for, the notices are printed afterwards by a follow-up job
//!    (`notices`).
//!
//! The file is read again rather than held: memory stays bounded by what
//! one row (or one position's rows) and the list of keys need.

mod apply;
mod mypay;
mod notices;
mod p4pa;
pub mod unpack;

pub use notices::{NOTICES_KIND, print_notices};

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use cassa_core::tracciati::{Action, Creditor};
use cassa_core::{Iban, PartitaIva};
use cassa_store::{Ente, Job, TipoDovuto};
use serde::{Deserialize, Serialize};

use crate::csv_cell;
use crate::files::PartFile;
use crate::job::{JobContext, JobFailure, JobOutcome};

pub const KIND: &str = "import_dovuti";
/// Rows inserted per statement batch.
const CHUNK: usize = 500;

/// What the API (or the back office) queues.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRequest {
    pub file_name: String,
    /// Where the upload waits (see `FileStore::create_upload`).
    pub upload: String,
    /// Also print the notices of what was applied, in `<name>_AVVISI_PDF.zip`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notices: bool,
}

impl ImportRequest {
    /// Queues this import of an upload whose SHA-256 is `sha256` (from the
    /// API or the back office): refused as a duplicate or over the ente's
    /// quota by the store.
    pub async fn queue(
        &self,
        store: &cassa_store::Store,
        ente_id: i64,
        actor: &str,
        sha256: &str,
    ) -> Result<cassa_store::QueuedImport, cassa_store::StoreError> {
        let params = serde_json::to_string(self).expect("a request serializes");
        let job = cassa_store::NewJob {
            ente_id,
            kind: KIND,
            params: &params,
            created_by: actor,
        };
        let now = jiff::Timestamp::now();
        store.queue_import(job, sha256, &self.file_name, now).await
    }
}

/// What the job answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportResult {
    pub applied: bool,
    pub version: Option<String>,
    pub rows: u64,
    pub refused: u64,
    pub inserted: u64,
    pub modified: u64,
    pub annulled: u64,
    /// Notices printed into `<name>_AVVISI_PDF.zip`, when asked for.
    #[serde(default)]
    pub notices: u64,
    /// The notices are still being printed (by a follow-up job).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notices_pending: bool,
    /// Why the notices could not be printed (the file is applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notices_error: Option<String>,
    /// Why the whole file was refused (a bad header, say), if it was.
    pub file_error: Option<String>,
    /// The files the job left, for download.
    pub files: Vec<String>,
}

/// A row (MyPay) or position (P4PA) that passed the checks that need no
/// database: its first line, its key (IUD or IUPD) and what it asks.
struct Good {
    line: u64,
    key: String,
    action: Action,
}

/// One refused row.
struct Refusal {
    line: u64,
    iud: String,
    column: String,
    code: String,
    reason: String,
}

/// The rows of a CSV file (an upload made safe by [`unpack`], or a spill).
fn open_rows(csv_path: &Path) -> Result<csv::Reader<BufReader<File>>, String> {
    let reader = BufReader::new(File::open(csv_path).map_err(|e| e.to_string())?);
    Ok(csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(reader))
}

/// A record's cells as text; a cell that is not UTF-8 is an error.
fn cells(record: &csv::ByteRecord) -> Result<Vec<String>, usize> {
    record
        .iter()
        .enumerate()
        .map(|(i, c)| String::from_utf8(c.to_vec()).map_err(|_| i))
        .collect()
}

/// A row's broken rules as refusals of line `line`.
fn refusals(
    line: u64,
    iud: &str,
    errors: Vec<cassa_core::tracciati::FieldError>,
) -> impl Iterator<Item = Refusal> {
    errors.into_iter().map(move |e| Refusal {
        line,
        iud: iud.to_owned(),
        column: e.column.to_owned(),
        code: e.code.to_owned(),
        reason: e.reason,
    })
}

/// The header row, with the checks every format shares: it exists, it is
/// UTF-8 and it is split by `;`.
fn read_header(path: &Path) -> Result<Vec<String>, String> {
    let mut rows = open_rows(path)?;
    let header = match rows.byte_records().next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(format!("intestazione illeggibile: {e}")),
        None => return Err("il file è vuoto".into()),
    };
    let header = cells(&header).map_err(|_| "l'intestazione non è in UTF-8".to_owned())?;
    if header.len() == 1 && header[0].contains([',', '\t']) {
        return Err("il separatore delle colonne deve essere il punto e virgola (;)".into());
    }
    Ok(header)
}

/// A data record's cells, or why it is refused (unreadable, not UTF-8).
fn record_cells(
    record: Result<csv::ByteRecord, csv::Error>,
    line: u64,
    header: &[String],
) -> Result<Vec<String>, Refusal> {
    let record = record.map_err(|e| Refusal {
        line,
        iud: String::new(),
        column: "riga".into(),
        code: "CSV".into(),
        reason: format!("riga illeggibile: {e}"),
    })?;
    cells(&record).map_err(|col| Refusal {
        line,
        iud: String::new(),
        column: header.get(col).cloned().unwrap_or_default(),
        code: "CODIFICA".into(),
        reason: "il testo non è in UTF-8".into(),
    })
}

/// Against the database: an insert's key must be new, a change's or a
/// cancellation's must exist.
async fn check_existence(
    ctx: &JobContext,
    ente_id: i64,
    good: &[Good],
    column: &str,
    refused: &mut Vec<Refusal>,
) -> Result<(), JobFailure> {
    let keys: Vec<&str> = good.iter().map(|g| g.key.as_str()).collect();
    let existing = ctx.store().existing_iupds(ente_id, &keys).await?;
    let changed: Vec<&str> = good
        .iter()
        .filter(|g| g.action != Action::Insert)
        .map(|g| g.key.as_str())
        .collect();
    let being_paid = ctx
        .store()
        .iupds_being_paid(ente_id, &changed, jiff::Timestamp::now())
        .await?;
    drop(keys);
    for g in good {
        if let Some(notice) = being_paid.get(&g.key) {
            refused.push(Refusal {
                line: g.line,
                iud: g.key.clone(),
                column: column.into(),
                code: "PAGAMENTO_IN_CORSO".into(),
                reason: format!(
                    "l'avviso {notice} è in pagamento in questo momento: il dovuto si potrà \
                     modificare o annullare quando il pagamento sarà concluso"
                ),
            });
            continue;
        }
        let why = match (g.action, existing.contains(&g.key)) {
            (Action::Insert, true) => Some((
                "ESISTENTE",
                format!("{column} già presente: usare l'azione M per modificarlo"),
            )),
            (Action::Modify | Action::Annul, false) => {
                Some(("INESISTENTE", format!("nessun dovuto con questo {column}")))
            }
            _ => None,
        };
        if let Some((code, reason)) = why {
            refused.push(Refusal {
                line: g.line,
                iud: g.key.clone(),
                column: column.into(),
                code: code.into(),
                reason,
            });
        }
    }
    Ok(())
}

/// The answer for a file with refused rows: the report files, nothing applied.
fn refused_result(
    ctx: &JobContext,
    job_id: i64,
    file: &Upload,
    version: &str,
    rows: u64,
    mut refused: Vec<Refusal>,
) -> Result<Outcome, JobFailure> {
    refused.sort_by_key(|r| r.line);
    // Re-reads the whole upload: off the async workers.
    let files = tokio::task::block_in_place(|| write_refusals(ctx, job_id, file, &refused))?;
    let result = ImportResult {
        version: Some(version.into()),
        rows,
        refused: refused.iter().map(|r| r.line).collect::<HashSet<_>>().len() as u64,
        files,
        ..ImportResult::default()
    };
    Ok(Outcome::of(result))
}

fn file_refused(file_error: String) -> Outcome {
    Outcome::of(ImportResult {
        file_error: Some(file_error),
        ..ImportResult::default()
    })
}

/// What a format's import gave.
enum Outcome {
    /// Nothing applied: the result (refusals, a bad file) for the worker
    /// to record.
    NotApplied(ImportResult),
    /// Applied: the switch recorded the job done with its result.
    Applied,
}

impl Outcome {
    fn of(result: ImportResult) -> Outcome {
        Outcome::NotApplied(result)
    }
}

pub async fn run(ctx: &JobContext, job: &Job) -> Result<JobOutcome, JobFailure> {
    let request: ImportRequest = serde_json::from_str(&job.params)
        .map_err(|e| JobFailure::Failed(format!("invalid request: {e}")))?;
    // An earlier attempt whose worker died may have staged rows: they go
    // before anything is checked, or the file would meet itself.
    if ctx
        .store()
        .discard_import(job.id, Some(ctx.lease()))
        .await?
        .is_none()
    {
        return Err(JobFailure::LeaseLost);
    }
    let path: PathBuf = ctx
        .files()
        .upload_file(&request.upload, &request.file_name)
        .ok_or_else(|| JobFailure::Failed("invalid upload".into()))?;
    // Gone is not refused: the file was never read, so nothing may say
    // it was (a resend must not be taken for one already sent).
    if !path.exists() {
        return Err(JobFailure::Failed("the uploaded file is gone".into()));
    }
    let ente = ctx
        .store()
        .ente_by_id(job.ente_id)
        .await?
        .ok_or_else(|| JobFailure::Failed("the ente is gone".into()))?;
    let creditors = creditors(&ente, ctx.store().tipi_dovuto(ente.id).await?);
    let base = request
        .file_name
        .trim_end_matches(".zip")
        .trim_end_matches(".csv")
        .to_owned();
    // A ZIP's one CSV extracted, every line's length checked: a bomb or a
    // line with no end refuses the file before anything reads it.
    let header = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            let csv = unpack::csv_of_upload(&path, &unpack::LIMITS)?;
            Ok::<_, String>((read_header(&csv)?, csv))
        })
        .await
        .map_err(|e| JobFailure::Failed(format!("the check stopped: {e}")))?
    };
    let (header, path) = match header {
        Ok(read) => read,
        Err(file_error) => {
            let refused = ImportResult {
                file_error: Some(file_error),
                ..ImportResult::default()
            };
            return finish(ctx, job, &request.upload, Ok(Outcome::NotApplied(refused))).await;
        }
    };
    let file = Upload {
        path,
        name: request.file_name,
        base,
        header,
        with_notices: request.notices,
    };
    let names: Vec<&str> = file.header.iter().map(String::as_str).collect();
    let outcome = if cassa_core::tracciati::p4pa::is_p4pa_header(&names) {
        p4pa::run(ctx, job, &ente, creditors, &file).await
    } else {
        mypay::run(ctx, job, &ente, creditors, &file).await
    };
    let _ = std::fs::remove_file(apply::Spill::path_for(&file.path));
    finish(ctx, job, &request.upload, outcome).await
}

/// Ends the job and deletes its upload (with what was extracted from it)
/// once nothing can need it again: after the outcome is recorded, so that
/// a crash in between leaves a job that runs again on its file. A lost
/// lease leaves the file to the worker that took over.
async fn finish(
    ctx: &JobContext,
    job: &Job,
    upload: &str,
    outcome: Result<Outcome, JobFailure>,
) -> Result<JobOutcome, JobFailure> {
    let outcome = match outcome {
        Ok(Outcome::Applied) => JobOutcome::Recorded,
        Ok(Outcome::NotApplied(result)) => {
            let result = serialized(&result);
            let store = ctx.store();
            if !store
                .finish_job(ctx.lease(), Ok(&result), jiff::Timestamp::now())
                .await?
            {
                return Err(JobFailure::LeaseLost);
            }
            JobOutcome::Recorded
        }
        // Failed for good: recorded here, then the file goes; if it
        // cannot be recorded, the file stays for the attempt that will
        // follow when the lease runs out.
        Err(JobFailure::Failed(why)) => {
            tracing::warn!(job = job.id, reason = %why, "job failed");
            let store = ctx.store();
            if !store
                .finish_job(ctx.lease(), Err(&why), jiff::Timestamp::now())
                .await?
            {
                return Err(JobFailure::LeaseLost);
            }
            JobOutcome::Recorded
        }
        Err(lost) => return Err(lost),
    };
    remove_upload(ctx, job, upload).await;
    Ok(outcome)
}

async fn remove_upload(ctx: &JobContext, job: &Job, upload: &str) {
    let (files, token) = (ctx.files().clone(), upload.to_owned());
    let removed = tokio::task::spawn_blocking(move || files.remove_upload(&token)).await;
    if !matches!(removed, Ok(Ok(()))) {
        tracing::warn!(
            job = job.id,
            "the upload could not be deleted; the sweep will"
        );
    }
}

fn serialized(result: &ImportResult) -> String {
    serde_json::to_string(result).expect("a result serializes")
}

/// The uploaded file: where it is, its name, the name its reports take,
/// and its header row.
#[derive(Clone)]
struct Upload {
    path: PathBuf,
    name: String,
    base: String,
    header: Vec<String>,
    /// The notices of what is applied are to be printed.
    with_notices: bool,
}

/// The ente's active tipi dovuto by code, each with its account resolved
/// once.
type Creditors = HashMap<String, Tipo>;

/// A tipo dovuto as an import needs it.
#[derive(Clone)]
struct Tipo {
    id: i64,
    taxonomy: Option<cassa_core::taxonomy::TaxonomyCode>,
    /// `None`: neither it nor the ente has a usable IBAN.
    creditor: Option<Creditor>,
}

fn creditors(ente: &Ente, tipi: Vec<TipoDovuto>) -> Creditors {
    tipi.into_iter()
        .filter(|t| t.active)
        .map(|t| {
            let tipo = Tipo {
                id: t.id,
                taxonomy: cassa_core::taxonomy::TaxonomyCode::parse(&t.taxonomy_code).ok(),
                creditor: creditor_of(ente, &t),
            };
            (t.code.clone(), tipo)
        })
        .collect()
}

fn creditor_of(ente: &Ente, tipo: &TipoDovuto) -> Option<Creditor> {
    let iban = tipo.iban.as_deref().or(ente.iban.as_deref())?;
    Some(Creditor {
        fiscal_code: PartitaIva::parse(&ente.fiscal_code).ok()?,
        company_name: ente.name.clone(),
        office_name: ente.office_name.clone(),
        segregation: ente.segregation_code,
        iban: Iban::parse(iban).ok()?,
        postal_iban: tipo
            .postal_iban
            .as_deref()
            .or(ente.postal_iban.as_deref())
            .and_then(|i| Iban::parse(i).ok()),
    })
}

/// A report file: `;`-separated like the files enti send, quoted where
/// needed, and cells that look like formulas defused.
struct Report(csv::Writer<PartFile>);

impl Report {
    fn create(ctx: &JobContext, job_id: i64, name: &str) -> Result<Report, JobFailure> {
        let file = ctx.files().create(job_id, name).map_err(io_failure)?;
        // Flexible: a refused row keeps the cells it had, however many.
        Ok(Report(
            csv::WriterBuilder::new()
                .delimiter(b';')
                .flexible(true)
                .from_writer(file),
        ))
    }

    fn line(&mut self, cells: &[&str]) -> Result<(), JobFailure> {
        self.0
            .write_record(cells.iter().map(|c| csv_cell(c)))
            .map_err(io_failure)
    }

    fn commit(self) -> Result<(), JobFailure> {
        self.0
            .into_inner()
            .map_err(|e| io_failure(e.error()))?
            .commit()
            .map_err(io_failure)?;
        Ok(())
    }
}

fn io_failure(e: impl std::fmt::Display) -> JobFailure {
    JobFailure::Failed(format!("file: {e}"))
}

/// The report files of a refused import: the refused rows as they were
/// (`_SCARTI.csv`) and the reasons (`esito.csv`).
fn write_refusals(
    ctx: &JobContext,
    job_id: i64,
    file: &Upload,
    refused: &[Refusal],
) -> Result<Vec<String>, JobFailure> {
    let scarti_name = format!("{}_SCARTI.csv", file.base);
    let mut scarti = Report::create(ctx, job_id, &scarti_name)?;
    let mut head: Vec<&str> = file.header.iter().map(String::as_str).collect();
    head.extend(["cod_rifiuto", "de_rifiuto"]);
    scarti.line(&head)?;
    let by_line: HashMap<u64, &Refusal> = refused.iter().map(|r| (r.line, r)).collect();
    if let Ok(mut rows) = open_rows(&file.path) {
        for (i, record) in rows.byte_records().enumerate().skip(1) {
            let line = i as u64 + 1;
            let Some(refusal) = by_line.get(&line) else {
                continue;
            };
            let values: Vec<String> = match record {
                Ok(r) => r
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect(),
                Err(_) => Vec::new(),
            };
            let mut out: Vec<&str> = values.iter().map(String::as_str).collect();
            out.extend([refusal.code.as_str(), refusal.reason.as_str()]);
            scarti.line(&out)?;
        }
    }
    scarti.commit()?;
    let mut esito = Report::create(ctx, job_id, "esito.csv")?;
    esito.line(&["riga", "IUD", "colonna", "codice", "motivo"])?;
    for r in refused {
        esito.line(&[&r.line.to_string(), &r.iud, &r.column, &r.code, &r.reason])?;
    }
    esito.commit()?;
    Ok(vec![scarti_name, "esito.csv".into()])
}
