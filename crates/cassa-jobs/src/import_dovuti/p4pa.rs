//! P4PA 2.0 / 2.0-eng files: rows sharing an IUPD make one position, its
//! options and installments (cassa-core's `p4pa::position_of`).
//!
//! Pass 1 reads every row on its own and notes the line of each IUPD's
//! last row. Pass 2 reads the file again and builds each position as its
//! last row goes by, so only the positions whose rows are still to come
//! are held (none, in a file that keeps a position's rows together). The
//! apply pass builds them the same way.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use cassa_core::debt::{Mode, check_position};
use cassa_core::taxonomy::Catalogue;
use cassa_core::tracciati::p4pa::{self, Header, Position, Row};
use cassa_core::tracciati::{Action, FieldError};
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

/// What pass 1 learnt.
struct Scan {
    header: Header,
    /// Each IUPD's last line, for the rows that passed.
    last_line: HashMap<String, u64>,
    /// The IUPDs with a refused row: not built, already reported.
    tainted: HashSet<String>,
    refused: Vec<Refusal>,
    rows: u64,
}

/// A row's own checks: its cells, then its tipo dovuto (one of the ente's,
/// with an account) and its taxonomy code (in the official catalogue).
fn check_row(
    header: &Header,
    creditors: &Creditors,
    values: &[&str],
) -> Result<Row, Vec<FieldError>> {
    let row = p4pa::read_row(header, values)?;
    let fail = |column: &'static str, code: &'static str, reason: String| {
        vec![FieldError {
            column: header.name_in_file(column),
            code,
            reason,
        }]
    };
    let Some(tipo) = creditors.get(&row.tipo_dovuto) else {
        return Err(fail(
            "tipoDovuto",
            "SCONOSCIUTO",
            format!("l'ente non ha il tipo dovuto {}", row.tipo_dovuto),
        ));
    };
    if tipo.creditor.is_none() {
        return Err(fail(
            "tipoDovuto",
            "CONTO",
            "né il tipo dovuto né l'ente hanno un IBAN".into(),
        ));
    }
    let codes = row
        .taxonomy
        .iter()
        .map(|t| ("datiSpecificiRiscossione", *t));
    const OTHERS: [&str; 4] = [
        "codiceTassonomiaEnte_2",
        "codiceTassonomiaEnte_3",
        "codiceTassonomiaEnte_4",
        "codiceTassonomiaEnte_5",
    ];
    let others = row
        .others
        .iter()
        .zip(OTHERS)
        .filter_map(|(o, column)| o.taxonomy.map(|t| (column, t)));
    for (column, code) in codes.chain(others) {
        if Catalogue::official().get(&code).is_none() {
            return Err(fail(
                column,
                "TASSONOMIA",
                format!("{code} non è nel catalogo ufficiale"),
            ));
        }
    }
    if row.taxonomy.is_none() && tipo.taxonomy.is_none() {
        return Err(fail(
            "datiSpecificiRiscossione",
            "OBBLIGATORIO",
            "il tipo dovuto non ha un codice tassonomico: indicarlo nella riga".into(),
        ));
    }
    Ok(row)
}

/// Pass 1: the header and every row on its own; IUDs unique in the file.
fn scan(file: &Upload, creditors: &Creditors) -> Result<Scan, String> {
    let names: Vec<&str> = file.header.iter().map(String::as_str).collect();
    let header = p4pa::check_header(&names, p4pa::Language::from_file_name(&file.name))
        .map_err(|e| e.to_string())?;
    let (iupd_at, iud_at) = (header.position("IUPD"), header.position("iud"));
    let mut scan = Scan {
        header,
        last_line: HashMap::new(),
        tainted: HashSet::new(),
        refused: Vec::new(),
        rows: 0,
    };
    let mut seen: HashSet<String> = HashSet::new();
    for (i, record) in open_rows(&file.path)?.byte_records().enumerate().skip(1) {
        let line = i as u64 + 1;
        scan.rows += 1;
        let values = match record_cells(record, line, &file.header) {
            Ok(values) => values,
            Err(refusal) => {
                scan.refused.push(refusal);
                continue;
            }
        };
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let checked = check_row(&scan.header, creditors, &refs).and_then(|row| {
            if seen.insert(row.iud.clone()) {
                Ok(row)
            } else {
                Err(vec![FieldError {
                    column: scan.header.name_in_file("iud"),
                    code: "DUPLICATO",
                    reason: "IUD ripetuto nel file".into(),
                }])
            }
        });
        match checked {
            Ok(row) => {
                scan.last_line.insert(row.iupd, line);
            }
            Err(errors) => {
                let cell =
                    |at: Option<usize>| at.and_then(|i| refs.get(i)).map_or("", |c| c.trim());
                let iud = cell(iud_at);
                let iupd = Some(cell(iupd_at)).filter(|k| !k.is_empty()).unwrap_or(iud);
                scan.tainted.insert(iupd.to_owned());
                scan.refused.extend(refusals(line, iud, errors));
            }
        }
    }
    Ok(scan)
}

/// Why a position was not built: the line and IUD of the row at fault.
struct Failed {
    line: u64,
    iud: String,
    errors: Vec<FieldError>,
}

/// A position built from its rows, with the lines they came from.
struct Built {
    lines: Vec<u64>,
    /// Its rows' cells, as they were in the file.
    raw: Vec<Vec<String>>,
    /// What building it gave: the position and its tipo dovuto's id.
    position: Result<(Position, i64), Failed>,
}

/// Reads the file again and hands each position over as its last row goes
/// by; rows refused in pass 1 and their positions are skipped. `give`
/// answers false to stop.
fn for_each_position(
    path: &Path,
    scan: &Scan,
    creditors: &Creditors,
    mut give: impl FnMut(Built) -> bool,
) -> Result<(), String> {
    let mut open: HashMap<String, Vec<(u64, Row, Vec<String>)>> = HashMap::new();
    for (i, record) in open_rows(path)?.byte_records().enumerate().skip(1) {
        let line = i as u64 + 1;
        let Ok(record) = record else { continue };
        let Ok(values) = super::cells(&record) else {
            continue;
        };
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let Ok(row) = check_row(&scan.header, creditors, &refs) else {
            continue;
        };
        if scan.tainted.contains(&row.iupd) {
            continue;
        }
        let last = scan.last_line.get(&row.iupd).copied();
        let iupd = row.iupd.clone();
        let mut rows = open.remove(&iupd).unwrap_or_default();
        rows.push((line, row, values.clone()));
        if last != Some(line) {
            open.insert(iupd, rows);
            continue;
        }
        let lines: Vec<u64> = rows.iter().map(|(l, _, _)| *l).collect();
        let (rows, raw): (Vec<Row>, Vec<Vec<String>>) =
            rows.into_iter().map(|(_, r, v)| (r, v)).unzip();
        let tipo = &creditors[&rows[0].tipo_dovuto];
        let creditor = tipo.creditor.as_ref().expect("checked in check_row");
        let default_taxonomy = rows[0]
            .taxonomy
            .or(tipo.taxonomy)
            .expect("checked in check_row");
        let position = p4pa::position_of(&scan.header, &rows, creditor, default_taxonomy)
            .map(|p| (p, tipo.id))
            .map_err(|e| Failed {
                line: lines[e.row],
                iud: rows[e.row].iud.clone(),
                errors: vec![e.error],
            });
        if !give(Built {
            lines,
            raw,
            position,
        }) {
            break;
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err("il file è cambiato durante l'importazione".into())
    }
}

/// Pass 2: every position built and checked by the GPD rules. Answers the
/// good positions and how many IUVs their inserts need.
fn check_positions(
    path: &Path,
    scan: &mut Scan,
    creditors: &Creditors,
) -> Result<(Vec<Good>, usize), String> {
    let (mut good, mut new_iuvs, mut refused) = (Vec::new(), 0usize, Vec::new());
    let now = Timestamp::now();
    for_each_position(path, scan, creditors, |built| {
        let first = built.lines[0];
        let position = built.position.and_then(|(p, _)| {
            let mode = match p.action {
                Action::Insert => Mode::Create,
                Action::Modify => Mode::Update,
                Action::Annul => return Ok(p),
            };
            match check_position(&p.draft, mode, now).first() {
                None => Ok(p),
                Some(v) => Err(Failed {
                    line: first,
                    iud: p.iuds.first().cloned().unwrap_or_default(),
                    errors: vec![FieldError {
                        column: "riga",
                        code: "REGOLA",
                        reason: format!("{}: {}", v.field, v.message),
                    }],
                }),
            }
        });
        match position {
            Ok(p) => {
                // A change may add options: reserve as if all were new.
                if p.action != Action::Annul {
                    new_iuvs += p.draft.options.iter().filter(|o| o.iuv.is_none()).count();
                }
                good.push(Good {
                    line: first,
                    key: p.draft.iupd,
                    action: p.action,
                });
            }
            Err(f) => refused.extend(refusals(f.line, &f.iud, f.errors)),
        }
        true
    })?;
    scan.refused.append(&mut refused);
    Ok((good, new_iuvs))
}

pub(super) async fn run(
    ctx: &JobContext,
    job: &Job,
    ente: &Ente,
    creditors: Creditors,
    file: &Upload,
) -> Result<Outcome, JobFailure> {
    let started = std::time::Instant::now();
    let checked = {
        let (file, creditors) = (file.clone(), creditors.clone());
        tokio::task::spawn_blocking(move || -> Result<_, String> {
            let mut scan = scan(&file, &creditors)?;
            let (good, new_iuvs) = check_positions(&file.path, &mut scan, &creditors)?;
            Ok((scan, good, new_iuvs))
        })
        .await
        .map_err(|e| JobFailure::Failed(format!("the check stopped: {e}")))?
    };
    let (mut scan, good, new_iuvs) = match checked {
        Ok(checked) => checked,
        Err(file_error) => return Ok(super::file_refused(file_error)),
    };
    let version = scan.header.language.code();
    tracing::info!(
        job = job.id,
        rows = scan.rows,
        positions = good.len(),
        seconds = started.elapsed().as_secs_f64(),
        "import: file checked"
    );
    // Checked; the apply pass counts what it has applied.
    ctx.progress(0, scan.rows.max(1)).await?;
    let column = scan.header.name_in_file("IUPD");
    check_existence(ctx, ente.id, &good, column, &mut scan.refused).await?;
    if !scan.refused.is_empty() {
        let refused = std::mem::take(&mut scan.refused);
        return refused_result(ctx, job.id, file, version, scan.rows, refused);
    }
    drop(good);
    discarding_on_failure(
        ctx,
        job.id,
        apply(ctx, job, ente, creditors, file, scan, new_iuvs),
    )
    .await
}

/// Reads the positions of `file` (the upload, or the spill of its
/// changes) in a blocking task and hands over what `spill` does not take:
/// with a spill, the new positions go over the channel and the rows of
/// changes and cancellations go to it as they were; without, everything
/// goes over the channel.
fn read_positions(
    file: Upload,
    scan: Scan,
    creditors: Creditors,
    sender: tokio::sync::mpsc::Sender<(Position, i64)>,
    mut spill: Option<Spill>,
) -> tokio::task::JoinHandle<Result<Option<Spill>, String>> {
    tokio::task::spawn_blocking(move || {
        let mut changed = false;
        let mut failed = None;
        for_each_position(&file.path, &scan, &creditors, |built| {
            let Ok(position) = built.position else {
                changed = true;
                return false;
            };
            match &mut spill {
                Some(spill) if position.0.action != Action::Insert => {
                    for row in &built.raw {
                        if let Err(e) = spill.row(row) {
                            failed = Some(e);
                            return false;
                        }
                    }
                    true
                }
                _ => sender.blocking_send(position).is_ok(),
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        if changed {
            return Err("il file è cambiato durante l'importazione".into());
        }
        Ok(spill)
    })
}

/// The apply pass: every position again. New ones are staged a slice at a
/// time; changes and cancellations are set aside, then applied in the
/// switch, which makes the file visible and records the job done.
async fn apply(
    ctx: &JobContext,
    job: &Job,
    ente: &Ente,
    creditors: Creditors,
    file: &Upload,
    checked: Scan,
    new_iuvs: usize,
) -> Result<Outcome, JobFailure> {
    let header = checked.header.clone();
    let rows = checked.rows;
    let actor = format!("import:{}", job.id);
    let mut stage = held(
        ctx.store()
            .begin_import(ente, new_iuvs, &actor, ctx.lease(), Timestamp::now())
            .await?,
    )?;
    let mut counts = Counts::default();
    let slice = cassa_store::import_slice(ctx.store().backend());
    let iuv_name = format!("{}_IUV.csv", file.base);
    let mut iuv_file = Report::create(ctx, job.id, &iuv_name)?;
    iuv_file.line(&[
        header.name_in_file("IUPD"),
        header.name_in_file("iud"),
        header.name_in_file("codIUV"),
        "numeroAvviso",
    ])?;
    let mut written =
        |applied: Vec<cassa_store::Applied>, iuds: Vec<Vec<String>>| -> Result<(), JobFailure> {
            for (a, iuds) in applied.iter().zip(iuds) {
                for (o, iud) in a.options.iter().zip(iuds) {
                    iuv_file.line(&[&a.iupd, &iud, &o.iuv, &o.notice_number])?;
                }
            }
            Ok(())
        };

    // Staging: new positions in two batches (published, drafts), a slice
    // at a time; changes and cancellations set aside.
    let spill = Spill::create(&file.path, &file.header).map_err(JobFailure::Failed)?;
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(Position, i64)>(CHUNK);
    let reader = read_positions(
        file.clone(),
        checked,
        creditors.clone(),
        sender,
        Some(spill),
    );
    let mut batches: [Vec<(cassa_core::debt::DebtPositionDraft, Option<i64>)>; 2] =
        [Vec::new(), Vec::new()];
    let mut iuds: [Vec<Vec<String>>; 2] = [Vec::new(), Vec::new()];
    loop {
        let next = receiver.recv().await;
        for (k, publish) in [(0usize, true), (1, false)] {
            if !batches[k].is_empty() && (next.is_none() || batches[k].len() >= slice) {
                stage.progress(counts.inserted, rows);
                let applied = stage
                    .insert(&batches[k], publish)
                    .await
                    .map_err(|e| row_failure("IUPD", &batches[k][0].0.iupd, e))?;
                counts.inserted += batches[k].len() as u64;
                batches[k].clear();
                written(applied, std::mem::take(&mut iuds[k]))?;
            }
        }
        let Some((position, tipo)) = next else { break };
        let k = usize::from(position.draft_only);
        batches[k].push((position.draft, Some(tipo)));
        iuds[k].push(position.iuds);
    }
    let (spilled, changes) = read_through(reader)
        .await?
        .expect("the staging pass spills")
        .finish()
        .map_err(JobFailure::Failed)?;

    // The spill is checked before the switch: the switch holds the writer.
    let changes_file = super::apply::spilled(file, spilled);
    let changes_scan = if changes > 0 {
        let (changes_file, creditors) = (changes_file.clone(), creditors.clone());
        Some(
            tokio::task::spawn_blocking(move || scan(&changes_file, &creditors))
                .await
                .map_err(|e| JobFailure::Failed(format!("the check stopped: {e}")))?
                .map_err(JobFailure::Failed)?,
        )
    } else {
        None
    };

    // The switch: changes and cancellations, then everything visible.
    let mut switch = held(stage.switch().await?)?;
    if let Some(changes_scan) = changes_scan {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<(Position, i64)>(CHUNK);
        let reader = read_positions(changes_file, changes_scan, creditors, sender, None);
        while let Some((position, tipo)) = receiver.recv().await {
            let publish = !position.draft_only;
            match position.action {
                Action::Modify => {
                    let a = switch
                        .modify(&position.draft, Some(tipo), publish)
                        .await
                        .map_err(|e| row_failure("IUPD", &position.draft.iupd, e))?;
                    written(vec![a], vec![position.iuds])?;
                    counts.modified += 1;
                }
                _ => {
                    switch
                        .annul(&position.draft.iupd)
                        .await
                        .map_err(|e| row_failure("IUPD", &position.draft.iupd, e))?;
                    counts.annulled += 1;
                }
            }
        }
        read_through(reader).await?;
    }
    let result = ImportResult::applied(
        header.language.code(),
        rows,
        &counts,
        iuv_name,
        file.with_notices,
    );
    commit_switch(job, file, switch, iuv_file, &result).await?;
    Ok(Outcome::Applied)
}
