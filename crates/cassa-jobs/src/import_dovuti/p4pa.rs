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
use cassa_store::{Ente, ImportRowError, Job};
use jiff::Timestamp;

use super::{
    CHUNK, Counts, Creditors, Good, ImportResult, Outcome, Refusal, Report, Upload,
    check_existence, finish, open_rows, record_cells, refusals, refused_result,
};
use crate::worker::{JobContext, JobFailure};

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
    let mut open: HashMap<String, Vec<(u64, Row)>> = HashMap::new();
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
        rows.push((line, row));
        if last != Some(line) {
            open.insert(iupd, rows);
            continue;
        }
        let lines: Vec<u64> = rows.iter().map(|(l, _)| *l).collect();
        let rows: Vec<Row> = rows.into_iter().map(|(_, r)| r).collect();
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
        if !give(Built { lines, position }) {
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
    let refused_lines = scan.refused.iter().map(|r| r.line).collect::<HashSet<_>>();
    ctx.progress(scan.rows - refused_lines.len() as u64, scan.rows.max(1))
        .await?;
    let column = scan.header.name_in_file("IUPD");
    check_existence(ctx, ente.id, &good, column, &mut scan.refused).await?;
    if !scan.refused.is_empty() {
        let refused = std::mem::take(&mut scan.refused);
        return refused_result(ctx, job.id, file, version, scan.rows, refused);
    }
    drop(good);
    apply(ctx, job, ente, creditors, file, scan, new_iuvs).await
}

/// The apply pass: every position again, in one transaction.
async fn apply(
    ctx: &JobContext,
    job: &Job,
    ente: &Ente,
    creditors: Creditors,
    file: &Upload,
    scan: Scan,
    new_iuvs: usize,
) -> Result<Outcome, JobFailure> {
    let header = scan.header.clone();
    let rows = scan.rows;
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(Position, i64)>(CHUNK);
    let reader = {
        let path = file.path.clone();
        tokio::task::spawn_blocking(move || -> Result<(), String> {
            let mut changed = false;
            for_each_position(&path, &scan, &creditors, |built| match built.position {
                Ok(position) => sender.blocking_send(position).is_ok(),
                Err(_) => {
                    changed = true;
                    false
                }
            })?;
            if changed {
                return Err("il file è cambiato durante l'importazione".into());
            }
            Ok(())
        })
    };
    let actor = format!("import:{}", job.id);
    let mut session = ctx
        .store()
        .begin_import(ente, new_iuvs, &actor, Timestamp::now())
        .await?;
    let mut counts = Counts::default();
    let iuv_name = format!("{}_IUV.csv", file.base);
    let mut iuv_file = Report::create(ctx, job.id, &iuv_name)?;
    iuv_file.line(&[
        header.name_in_file("IUPD"),
        header.name_in_file("iud"),
        header.name_in_file("codIUV"),
        "numeroAvviso",
    ])?;
    let fail = |iupd: &str, e: ImportRowError| {
        JobFailure::Failed(format!("IUPD {iupd}: {e}; nothing was applied"))
    };
    // Inserts wait in two batches: published, and drafts.
    let mut batches: [Vec<(cassa_core::debt::DebtPositionDraft, Option<i64>)>; 2] =
        [Vec::new(), Vec::new()];
    let mut iuds: [Vec<Vec<String>>; 2] = [Vec::new(), Vec::new()];
    let mut printable = Vec::new();
    // Drafts have no notice to print yet.
    let mut written = |applied: Vec<cassa_store::Applied>,
                       iuds: Vec<Vec<String>>,
                       published: bool|
     -> Result<(), JobFailure> {
        for (a, iuds) in applied.iter().zip(iuds) {
            if file.with_notices && published {
                printable.push(a.iupd.clone());
            }
            for (o, iud) in a.options.iter().zip(iuds) {
                iuv_file.line(&[&a.iupd, &iud, &o.iuv, &o.notice_number])?;
            }
        }
        Ok(())
    };
    loop {
        let next = receiver.recv().await;
        for (k, publish) in [(0usize, true), (1, false)] {
            if !batches[k].is_empty() && (next.is_none() || batches[k].len() >= CHUNK) {
                let applied = session
                    .insert(&batches[k], publish)
                    .await
                    .map_err(|e| fail(&batches[k][0].0.iupd, e))?;
                counts.inserted += batches[k].len() as u64;
                batches[k].clear();
                written(applied, std::mem::take(&mut iuds[k]), publish)?;
            }
        }
        let Some((position, tipo)) = next else { break };
        let publish = !position.draft_only;
        match position.action {
            Action::Insert => {
                let k = usize::from(!publish);
                batches[k].push((position.draft, Some(tipo)));
                iuds[k].push(position.iuds);
            }
            Action::Modify => {
                let a = session
                    .modify(&position.draft, Some(tipo), publish)
                    .await
                    .map_err(|e| fail(&position.draft.iupd, e))?;
                written(vec![a], vec![position.iuds], publish)?;
                counts.modified += 1;
            }
            Action::Annul => {
                session
                    .annul(&position.draft.iupd)
                    .await
                    .map_err(|e| fail(&position.draft.iupd, e))?;
                counts.annulled += 1;
            }
        }
    }
    finish(job.id, session, reader, iuv_file, &counts).await?;
    let result = ImportResult::applied(header.language.code(), rows, &counts, iuv_name);
    Ok(Outcome { result, printable })
}
