//! MyPay files (1_0 to 1_4): one row is one position, IUPD = IUD. The
//! version comes from the file name (`<codIPA>-<IUF>-1_4.zip`) or from the
//! column count.

use std::collections::HashSet;
use std::path::Path;

use cassa_core::debt::DebtPositionDraft;
use cassa_core::taxonomy::Catalogue;
use cassa_core::tracciati::mypay::{self, Action, Version};
use cassa_store::{Ente, Job};
use jiff::Timestamp;

use super::apply::{
    Counts, Spill, commit_switch, discarding_on_failure, held, read_through, row_failure,
};
use super::{
    CHUNK, Creditors, Good, ImportResult, Outcome, Refusal, Report, Upload, check_existence,
    open_rows, record_cells, refusals, refused_result,
};
use crate::job::{JobContext, JobFailure};

/// A row that passed the checks: what it asks and, unless it cancels,
/// the position it describes.
struct Checked {
    iud: String,
    action: Action,
    tipo_dovuto_id: i64,
    draft: Option<DebtPositionDraft>,
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
        let Some(tipo) = self.creditors.get(&row.tipo_dovuto) else {
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
        let Some(creditor) = &tipo.creditor else {
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
            tipo_dovuto_id: tipo.id,
            draft,
        })
    }
}

/// Pass 1, off the async threads: the header and every row's own checks.
/// Answers the version, the good rows, the refusals, and how many IUVs
/// the good inserts need.
#[allow(clippy::type_complexity)]
fn first_pass(
    path: &Path,
    file_name: &str,
    header: &[String],
    creditors: &Creditors,
) -> Result<(Version, Vec<Good>, Vec<Refusal>, usize), String> {
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let version = mypay::check_header(&header_refs, Version::from_file_name(file_name))
        .map_err(|e| e.to_string())?;
    let mut checker = Checker {
        version,
        creditors,
        seen: Some(HashSet::new()),
        rules: true,
    };
    let (mut good, mut refused, mut new_iuvs) = (Vec::new(), Vec::new(), 0usize);
    for (i, record) in open_rows(path)?.byte_records().enumerate().skip(1) {
        let line = i as u64 + 1;
        let values = match record_cells(record, line, header) {
            Ok(values) => values,
            Err(refusal) => {
                refused.push(refusal);
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
                    key: checked.iud,
                    action: checked.action,
                });
            }
            Err(errors) => {
                let iud = refs.first().copied().unwrap_or_default();
                refused.extend(refusals(line, iud, errors));
            }
        }
    }
    Ok((version, good, refused, new_iuvs))
}

pub(super) async fn run(
    ctx: &JobContext,
    job: &Job,
    ente: &Ente,
    creditors: Creditors,
    file: &Upload,
) -> Result<Outcome, JobFailure> {
    let started = std::time::Instant::now();
    let pass = {
        let (path, name, header, creditors) = (
            file.path.clone(),
            file.name.clone(),
            file.header.clone(),
            creditors.clone(),
        );
        tokio::task::spawn_blocking(move || first_pass(&path, &name, &header, &creditors))
            .await
            .map_err(|e| JobFailure::Failed(format!("the check stopped: {e}")))?
    };
    let (version, good, mut refused, new_iuvs) = match pass {
        Ok(pass) => pass,
        Err(file_error) => return Ok(super::file_refused(file_error)),
    };
    let rows = (good.len() + refused.iter().map(|r| r.line).collect::<HashSet<_>>().len()) as u64;
    tracing::info!(
        job = job.id,
        rows,
        seconds = started.elapsed().as_secs_f64(),
        "import: file checked"
    );
    // Checked; the apply pass counts what it has applied.
    ctx.progress(0, rows.max(1)).await?;
    check_existence(ctx, ente.id, &good, "IUD", &mut refused).await?;
    tracing::info!(
        job = job.id,
        seconds = started.elapsed().as_secs_f64(),
        "import: IUDs looked up"
    );
    if !refused.is_empty() {
        return refused_result(ctx, job.id, file, version.code(), rows, refused);
    }
    drop(good);
    discarding_on_failure(
        ctx,
        job.id,
        apply(ctx, job, ente, creditors, file, version, new_iuvs, rows),
    )
    .await
}

/// Reads `path` (the upload, or the spill of its changes) in a blocking
/// task, checks each row again and hands over what `pick` wants; rows it
/// does not want go to `spill` as they were. Answers the spill.
fn read_rows(
    path: std::path::PathBuf,
    version: Version,
    creditors: Creditors,
    sender: tokio::sync::mpsc::Sender<Checked>,
    mut spill: Option<Spill>,
) -> tokio::task::JoinHandle<Result<Option<Spill>, String>> {
    tokio::task::spawn_blocking(move || {
        let mut records = open_rows(&path)?.into_byte_records().skip(1);
        let mut checker = Checker {
            version,
            creditors: &creditors,
            seen: None,
            rules: false,
        };
        for record in records.by_ref() {
            let record = record.map_err(|e| e.to_string())?;
            let values = super::cells(&record).map_err(|_| "codifica".to_owned())?;
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            let checked = checker
                .check(&refs)
                .map_err(|_| "il file è cambiato durante l'importazione".to_owned())?;
            match &mut spill {
                Some(spill) if checked.action != Action::Insert => spill.row(record.iter())?,
                _ => {
                    if sender.blocking_send(checked).is_err() {
                        break;
                    }
                }
            }
        }
        Ok(spill)
    })
}

/// Pass 2: the file again. New positions are staged a slice at a time;
/// changes and cancellations are set aside, then applied in the switch,
/// which makes the file visible and records the job done.
#[allow(clippy::too_many_arguments)]
async fn apply(
    ctx: &JobContext,
    job: &Job,
    ente: &Ente,
    creditors: Creditors,
    file: &Upload,
    version: Version,
    new_iuvs: usize,
    rows: u64,
) -> Result<Outcome, JobFailure> {
    let actor = format!("import:{}", job.id);
    let mut stage = held(
        ctx.store()
            .begin_import(ente, new_iuvs, &actor, ctx.lease(), Timestamp::now())
            .await?,
    )?;
    let iuv_name = format!("{}_IUV.csv", file.base);
    let mut iuv_file = Report::create(ctx, job.id, &iuv_name)?;
    iuv_file.line(&["IUD", "codIuv", "numeroAvviso"])?;
    let mut write_applied = |a: &cassa_store::Applied| -> Result<(), JobFailure> {
        let first = a.options.first();
        iuv_file.line(&[
            &a.iupd,
            first.map_or("", |o| o.iuv.as_str()),
            first.map_or("", |o| o.notice_number.as_str()),
        ])
    };
    let mut counts = Counts::default();
    let slice = cassa_store::import_slice(ctx.store().backend());

    // Staging: the inserts, a slice at a time; the rest set aside.
    let spill = Spill::create(&file.path, &file.header).map_err(JobFailure::Failed)?;
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Checked>(CHUNK * 2);
    let reader = read_rows(
        file.path.clone(),
        version,
        creditors.clone(),
        sender,
        Some(spill),
    );
    let mut batch: Vec<(DebtPositionDraft, Option<i64>)> = Vec::new();
    loop {
        let next = receiver.recv().await;
        if !batch.is_empty() && (next.is_none() || batch.len() >= slice) {
            stage.progress(counts.inserted, rows);
            for a in stage
                .insert(&batch, true)
                .await
                .map_err(|e| row_failure("IUD", &batch[0].0.iupd, e))?
            {
                write_applied(&a)?;
            }
            counts.inserted += batch.len() as u64;
            batch.clear();
        }
        let Some(checked) = next else { break };
        if let Some(draft) = checked.draft {
            batch.push((draft, Some(checked.tipo_dovuto_id)));
        }
    }
    let (spilled, changes) = read_through(reader)
        .await?
        .expect("the staging pass spills")
        .finish()
        .map_err(JobFailure::Failed)?;

    // The switch: changes and cancellations, then everything visible.
    let mut switch = held(stage.switch().await?)?;
    if changes > 0 {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Checked>(CHUNK);
        let reader = read_rows(spilled, version, creditors, sender, None);
        while let Some(checked) = receiver.recv().await {
            let tipo = Some(checked.tipo_dovuto_id);
            match (checked.action, checked.draft) {
                (Action::Modify, Some(draft)) => {
                    let a = switch
                        .modify(&draft, tipo, true)
                        .await
                        .map_err(|e| row_failure("IUD", &checked.iud, e))?;
                    write_applied(&a)?;
                    counts.modified += 1;
                }
                _ => {
                    switch
                        .annul(&checked.iud)
                        .await
                        .map_err(|e| row_failure("IUD", &checked.iud, e))?;
                    counts.annulled += 1;
                }
            }
        }
        read_through(reader).await?;
    }
    let result = ImportResult::applied(version.code(), rows, &counts, iuv_name, file.with_notices);
    commit_switch(job, file, switch, iuv_file, &result).await?;
    Ok(Outcome::Applied)
}
