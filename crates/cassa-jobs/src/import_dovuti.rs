//! Importing a MyPay debt file (1_0 to 1_4, a `.csv` or a `.zip` holding
//! one): checked whole first, then applied whole, or not at all.
//!
//! 1. The header is checked column by column (the version comes from the
//!    file name, `<codIPA>-<IUF>-1_4.zip`, or from the column count).
//! 2. Every row is read (cassa-core's rules), its tipo dovuto must be one
//!    of the ente's, its taxonomy code in the official catalogue, its IUD
//!    unique in the file; then, against the database, an insert's IUD must
//!    be new and a change's or cancellation's must exist.
//! 3. With any refused row nothing is applied: `<name>_SCARTI.csv` holds
//!    the refused rows as they were plus `cod_rifiuto;de_rifiuto`, and
//!    `esito.csv` says for each refused row which column and why.
//! 4. Otherwise the file is read again and applied in one transaction
//!    (cassa-store's import session); `<name>_IUV.csv` gives each IUD its
//!    IUV and notice number.
//!
//! The file is read twice rather than held: memory stays bounded by what
//! one row and the list of IUDs need.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use cassa_core::debt::DebtPositionDraft;
use cassa_core::taxonomy::Catalogue;
use cassa_core::tracciati::mypay::{self, Action, Creditor, Version};
use cassa_core::{Iban, PartitaIva};
use cassa_store::{Ente, ImportRowError, Job, TipoDovuto};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::csv_cell;
use crate::files::PartFile;
use crate::worker::{JobContext, JobFailure};

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
    /// Why the whole file was refused (a bad header, say), if it was.
    pub file_error: Option<String>,
    /// The files the job left, for download.
    pub files: Vec<String>,
}

/// One refused row.
struct Refusal {
    line: u64,
    iud: String,
    column: String,
    code: String,
    reason: String,
}

/// A row that passed the checks that need no database.
struct Good {
    line: u64,
    iud: String,
    action: Action,
}

/// The CSV rows of the upload: the file itself or, for a ZIP, its one
/// `.csv`, extracted beside it once (reading a ZIP entry is not seekable,
/// and the file is read twice).
fn open_rows(path: &Path) -> Result<csv::Reader<BufReader<File>>, String> {
    let mut file = File::open(path).map_err(|e| format!("il file non si può leggere: {e}"))?;
    let mut magic = [0u8; 4];
    let zipped = file.read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04";
    drop(file);
    let csv_path = if zipped {
        let extracted = path.with_extension("extracted.csv");
        if !extracted.exists() {
            let mut archive = zip::ZipArchive::new(File::open(path).map_err(|e| e.to_string())?)
                .map_err(|e| format!("archivio ZIP non valido: {e}"))?;
            let index = (0..archive.len())
                .find(|&i| {
                    archive
                        .name_for_index(i)
                        .is_some_and(|n| n.is_ok_and(|n| n.to_ascii_lowercase().ends_with(".csv")))
                })
                .ok_or("l'archivio ZIP non contiene un file .csv")?;
            let mut entry = archive
                .by_index(index)
                .map_err(|e| format!("archivio ZIP non valido: {e}"))?;
            let part = path.with_extension("extracted.part");
            let mut out = File::create(&part).map_err(|e| e.to_string())?;
            std::io::copy(&mut entry, &mut out)
                .map_err(|e| format!("archivio ZIP non valido: {e}"))?;
            std::fs::rename(&part, &extracted).map_err(|e| e.to_string())?;
        }
        extracted
    } else {
        path.to_owned()
    };
    let reader = BufReader::new(File::open(&csv_path).map_err(|e| e.to_string())?);
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

/// The checks of pass 1: everything that needs no database.
/// A row that passed the checks: what it asks and, unless it cancels,
/// the position it describes.
struct Checked {
    iud: String,
    action: Action,
    tipo_dovuto_id: i64,
    draft: Option<DebtPositionDraft>,
}

/// The ente's active tipi dovuto by code, each with its account resolved
/// once (`None`: neither it nor the ente has a usable IBAN).
type Creditors = HashMap<String, (i64, Option<Creditor>)>;

fn creditors(ente: &Ente, tipi: Vec<TipoDovuto>) -> Creditors {
    tipi.into_iter()
        .filter(|t| t.active)
        .map(|t| (t.code.clone(), (t.id, creditor_of(ente, &t))))
        .collect()
}

/// The checks of a row that need no database. The GPD rules run in pass 1
/// only: in pass 2 the import session checks them again as it writes.
struct Checker<'a> {
    version: Version,
    creditors: &'a Creditors,
    /// The IUDs met so far; pass 2 goes without, pass 1 having refused
    /// any repeated IUD.
    seen: Option<HashSet<String>>,
    rules: bool,
}

impl Checker<'_> {
    fn check(&mut self, values: &[&str]) -> Result<Checked, Vec<mypay::FieldError>> {
        let row = mypay::read_row(self.version, values)?;
        let fail = |column: &'static str, code: &'static str, reason: String| {
            vec![mypay::FieldError {
                column,
                code,
                reason,
            }]
        };
        if let Some(seen) = &mut self.seen
            && !seen.insert(row.iud.clone())
        {
            return Err(fail("IUD", "DUPLICATO", "IUD ripetuto nel file".into()));
        }
        let Some((tipo_dovuto_id, creditor)) = self.creditors.get(&row.tipo_dovuto) else {
            return Err(fail(
                "tipoDovuto",
                "SCONOSCIUTO",
                format!("l'ente non ha il tipo dovuto {}", row.tipo_dovuto),
            ));
        };
        if Catalogue::official().get(&row.taxonomy).is_none() {
            return Err(fail(
                "datiSpecificiRiscossione",
                "TASSONOMIA",
                format!("{} non è nel catalogo ufficiale", row.taxonomy),
            ));
        }
        let Some(creditor) = creditor else {
            return Err(fail(
                "tipoDovuto",
                "CONTO",
                "né il tipo dovuto né l'ente hanno un IBAN".into(),
            ));
        };
        let draft = if row.action == Action::Annul {
            None
        } else {
            let draft = mypay::draft_of(&row, creditor).map_err(|e| vec![e])?;
            if self.rules {
                let problems = cassa_core::debt::check_position(
                    &draft,
                    cassa_core::debt::Mode::Create,
                    Timestamp::now(),
                );
                if let Some(p) = problems.first() {
                    return Err(fail(
                        "riga",
                        "REGOLA",
                        format!("{}: {}", p.field, p.message),
                    ));
                }
            }
            Some(draft)
        };
        Ok(Checked {
            iud: row.iud,
            action: row.action,
            tipo_dovuto_id: *tipo_dovuto_id,
            draft,
        })
    }
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

/// Pass 1, off the async threads: the header and every row's own checks.
/// Answers the version, the good rows, the refusals, and how many IUVs
/// the good inserts need.
#[allow(clippy::type_complexity)]
fn first_pass(
    path: &Path,
    file_name: &str,
    creditors: &Creditors,
) -> Result<(Version, Vec<String>, Vec<Good>, Vec<Refusal>, usize), String> {
    let mut rows = open_rows(path)?;
    let mut records = rows.byte_records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(format!("intestazione illeggibile: {e}")),
        None => return Err("il file è vuoto".into()),
    };
    let header = cells(&header).map_err(|_| "l'intestazione non è in UTF-8".to_owned())?;
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    if header_refs.len() == 1 && header_refs[0].contains([',', '\t']) {
        return Err("il separatore delle colonne deve essere il punto e virgola (;)".into());
    }
    let version = mypay::check_header(&header_refs, Version::from_file_name(file_name))
        .map_err(|e| e.to_string())?;
    let mut checker = Checker {
        version,
        creditors,
        seen: Some(HashSet::new()),
        rules: true,
    };
    let (mut good, mut refused, mut new_iuvs) = (Vec::new(), Vec::new(), 0usize);
    for (i, record) in records.enumerate() {
        let line = i as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                refused.push(Refusal {
                    line,
                    iud: String::new(),
                    column: "riga".into(),
                    code: "CSV".into(),
                    reason: format!("riga illeggibile: {e}"),
                });
                continue;
            }
        };
        let values = match cells(&record) {
            Ok(v) => v,
            Err(col) => {
                refused.push(Refusal {
                    line,
                    iud: String::new(),
                    column: header.get(col).cloned().unwrap_or_default(),
                    code: "CODIFICA".into(),
                    reason: "il testo non è in UTF-8".into(),
                });
                continue;
            }
        };
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        match checker.check(&refs) {
            Ok(checked) => {
                new_iuvs += checked
                    .draft
                    .iter()
                    .filter(|_| checked.action == Action::Insert)
                    .flat_map(|d| &d.options)
                    .filter(|o| o.iuv.is_none())
                    .count();
                good.push(Good {
                    line,
                    iud: checked.iud,
                    action: checked.action,
                });
            }
            Err(errors) => {
                let iud = refs.first().copied().unwrap_or_default().to_owned();
                for e in errors {
                    refused.push(Refusal {
                        line,
                        iud: iud.clone(),
                        column: e.column.to_owned(),
                        code: e.code.to_owned(),
                        reason: e.reason,
                    });
                }
            }
        }
    }
    Ok((version, header, good, refused, new_iuvs))
}

/// The report files of a refused import: the refused rows as they were
/// (`_SCARTI.csv`) and the reasons (`esito.csv`).
fn write_refusals(
    ctx: &JobContext,
    job_id: i64,
    path: &Path,
    base: &str,
    header: &[String],
    refused: &[Refusal],
) -> Result<Vec<String>, JobFailure> {
    let scarti_name = format!("{base}_SCARTI.csv");
    let mut scarti = Report::create(ctx, job_id, &scarti_name)?;
    let mut head: Vec<&str> = header.iter().map(String::as_str).collect();
    head.extend(["cod_rifiuto", "de_rifiuto"]);
    scarti.line(&head)?;
    let by_line: HashMap<u64, &Refusal> = refused.iter().map(|r| (r.line, r)).collect();
    if let Ok(mut rows) = open_rows(path) {
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

pub async fn run(ctx: &JobContext, job: &Job) -> Result<String, JobFailure> {
    let request: ImportRequest = serde_json::from_str(&job.params)
        .map_err(|e| JobFailure::Failed(format!("invalid request: {e}")))?;
    let path: PathBuf = ctx
        .files()
        .upload_file(&request.upload, &request.file_name)
        .ok_or_else(|| JobFailure::Failed("invalid upload".into()))?;
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
    let started = std::time::Instant::now();
    let pass = {
        let (path, name, creditors) = (path.clone(), request.file_name.clone(), creditors.clone());
        tokio::task::spawn_blocking(move || first_pass(&path, &name, &creditors))
            .await
            .map_err(|e| JobFailure::Failed(format!("the check stopped: {e}")))?
    };
    let (version, header, good, mut refused, new_iuvs) = match pass {
        Ok(pass) => pass,
        Err(file_error) => {
            let result = ImportResult {
                file_error: Some(file_error),
                ..ImportResult::default()
            };
            return Ok(serde_json::to_string(&result).expect("a result serializes"));
        }
    };
    let rows = (good.len() + refused.iter().map(|r| r.line).collect::<HashSet<_>>().len()) as u64;
    tracing::info!(
        job = job.id,
        rows,
        seconds = started.elapsed().as_secs_f64(),
        "import: file checked"
    );
    ctx.progress(good.len() as u64, rows.max(1)).await?;

    // Against the database: inserts must be new, changes must exist.
    let iuds: Vec<&str> = good.iter().map(|g| g.iud.as_str()).collect();
    let existing = ctx.store().existing_iupds(ente.id, &iuds).await?;
    drop(iuds);
    for g in &good {
        let exists = existing.contains(&g.iud);
        let why = match (g.action, exists) {
            (Action::Insert, true) => Some((
                "ESISTENTE",
                "l'IUD è già presente: usare l'azione M per modificarlo",
            )),
            (Action::Modify | Action::Annul, false) => {
                Some(("INESISTENTE", "nessun dovuto con questo IUD"))
            }
            _ => None,
        };
        if let Some((code, reason)) = why {
            refused.push(Refusal {
                line: g.line,
                iud: g.iud.clone(),
                column: "IUD".into(),
                code: code.into(),
                reason: reason.into(),
            });
        }
    }
    if !refused.is_empty() {
        refused.sort_by_key(|r| r.line);
        let files = write_refusals(ctx, job.id, &path, &base, &header, &refused)?;
        let result = ImportResult {
            version: Some(version.code().into()),
            rows,
            refused: refused.iter().map(|r| r.line).collect::<HashSet<_>>().len() as u64,
            files,
            ..ImportResult::default()
        };
        return Ok(serde_json::to_string(&result).expect("a result serializes"));
    }
    drop(good);
    apply(
        ctx, job, &ente, creditors, &path, version, &base, new_iuvs, rows,
    )
    .await
}

/// Pass 2: the file again, applied in one transaction.
#[allow(clippy::too_many_arguments)]
async fn apply(
    ctx: &JobContext,
    job: &Job,
    ente: &Ente,
    creditors: Creditors,
    path: &Path,
    version: Version,
    base: &str,
    new_iuvs: usize,
    rows: u64,
) -> Result<String, JobFailure> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Checked>(CHUNK * 2);
    let reader = {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || -> Result<(), String> {
            let mut records = open_rows(&path)?.into_byte_records().skip(1);
            let mut checker = Checker {
                version,
                creditors: &creditors,
                seen: None,
                rules: false,
            };
            for record in records.by_ref() {
                let record = record.map_err(|e| e.to_string())?;
                let values = cells(&record).map_err(|_| "codifica".to_owned())?;
                let refs: Vec<&str> = values.iter().map(String::as_str).collect();
                let checked = checker
                    .check(&refs)
                    .map_err(|_| "il file è cambiato durante l'importazione".to_owned())?;
                if sender.blocking_send(checked).is_err() {
                    break;
                }
            }
            Ok(())
        })
    };
    let actor = format!("import:{}", job.id);
    let mut session = ctx
        .store()
        .begin_import(ente, new_iuvs, &actor, Timestamp::now())
        .await?;
    let (mut inserted, mut modified, mut annulled) = (0u64, 0u64, 0u64);
    // Written as rows are applied, kept only if the transaction commits.
    let iuv_name = format!("{base}_IUV.csv");
    let mut iuv_file = Report::create(ctx, job.id, &iuv_name)?;
    iuv_file.line(&["IUD", "codIuv", "numeroAvviso"])?;
    let mut batch: Vec<(DebtPositionDraft, Option<i64>)> = Vec::new();
    let fail = |iud: &str, e: ImportRowError| {
        JobFailure::Failed(format!("IUD {iud}: {e}; nothing was applied"))
    };
    while let Some(checked) = receiver.recv().await {
        let tipo = Some(checked.tipo_dovuto_id);
        match (checked.action, checked.draft) {
            (Action::Insert, Some(draft)) => {
                batch.push((draft, tipo));
                if batch.len() >= CHUNK {
                    for a in session
                        .insert(&batch)
                        .await
                        .map_err(|e| fail(&batch[0].0.iupd, e))?
                    {
                        iuv_file.line(&[&a.iupd, &a.iuv, &a.notice_number])?;
                    }
                    inserted += batch.len() as u64;
                    batch.clear();
                }
            }
            (Action::Modify, Some(draft)) => {
                let a = session
                    .modify(&draft, tipo)
                    .await
                    .map_err(|e| fail(&checked.iud, e))?;
                iuv_file.line(&[&a.iupd, &a.iuv, &a.notice_number])?;
                modified += 1;
            }
            _ => {
                session
                    .annul(&checked.iud)
                    .await
                    .map_err(|e| fail(&checked.iud, e))?;
                annulled += 1;
            }
        }
    }
    if !batch.is_empty() {
        for a in session
            .insert(&batch)
            .await
            .map_err(|e| fail(&batch[0].0.iupd, e))?
        {
            iuv_file.line(&[&a.iupd, &a.iuv, &a.notice_number])?;
        }
        inserted += batch.len() as u64;
    }
    reader
        .await
        .map_err(|e| JobFailure::Failed(format!("the reader stopped: {e}")))?
        .map_err(|e| JobFailure::Failed(format!("{e}; nothing was applied")))?;
    session.commit().await?;
    iuv_file.commit()?;
    tracing::info!(
        job = job.id,
        inserted,
        modified,
        annulled,
        "import: applied"
    );
    let result = ImportResult {
        applied: true,
        version: Some(version.code().into()),
        rows,
        inserted,
        modified,
        annulled,
        files: vec![iuv_name],
        ..ImportResult::default()
    };
    Ok(serde_json::to_string(&result).expect("a result serializes"))
}
