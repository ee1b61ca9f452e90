//! `cassa bench-import`: a MyPay 1_4 file of N new debts (IUVs generated
//! by cassa) imported end to end through the worker, as `cassa serve` runs
//! it (both passes, the checks, one transaction, the `_IUV.csv` report);
//! then the rows it stores (position, option, transfer) loaded into a
//! fresh database with the database's own bulk path: on SQLite one
//! prepared statement per table in one transaction, on PostgreSQL `COPY`.
//! Prints time, rows per second, peak memory and the ratio as `key=value`
//! lines.

use std::io::{BufWriter, Write};

use cassa_core::tipo_dovuto::AmountRule;
use cassa_core::tracciati::mypay::Version;
use cassa_core::{Iban, TaxonomyCode};
use cassa_jobs::import_dovuti::{ImportRequest, ImportResult, KIND};
use cassa_jobs::{FileStore, Worker};
use cassa_store::{Backend, NewTipoDovuto, StoreOptions};
use jiff::Timestamp;

use super::notices::run_job;
use super::{Scratch, copy, direct, http};
use crate::config::Config;

#[derive(clap::Args)]
pub struct BenchImportArgs {
    /// Rows in the file (one new debt each).
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Measure on this PostgreSQL server (scratch databases are created
    /// and dropped) instead of SQLite.
    #[arg(long, env = "CASSA_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// Only the import, without the baseline load (for profiling).
    #[arg(long)]
    no_baseline: bool,
    /// Only write the file (new TARI debts of the demo's Comune di Milano)
    /// to this path and stop: the node benchmark imports it into a running
    /// `cassa serve` while paying notices.
    #[arg(long)]
    write_file: Option<std::path::PathBuf>,
}

const DEBTORS: [(&str, &str); 4] = [
    ("RSSMRA85T10A562S", "Mario Rossi"),
    ("BNCGLI90C45F205Y", "Giulia Bianchi"),
    ("VRDLCU72M12F205G", "Luca Verdi"),
    ("01199250158", "Condominio Sole"),
];

fn write_file(path: &std::path::Path, rows: usize) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "{}", Version::V1_4.columns().join(";"))?;
    let empty = ";".repeat(12);
    for n in 0..rows {
        let (code, name) = DEBTORS[n % DEBTORS.len()];
        let kind = if code.len() == 11 { "G" } else { "F" };
        writeln!(
            out,
            "IMP-{n:08};;{kind};{code};{name};Via Roma {};;20121;Milano;MI;IT;;2030-12-31;{}.{:02};;TARI;;TARI 2030 utenza {n};9/0101101IM/;;true;false{empty};I",
            n % 200 + 1,
            50 + n % 400,
            n % 100,
        )?;
    }
    out.flush()
}

pub async fn run(config: &Config, args: BenchImportArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.write_file {
        write_file(path, args.rows)?;
        eprintln!("{} rows written to {}", args.rows, path.display());
        return Ok(());
    }
    let (backend, scratch, store) = Scratch::open(config, args.postgres_url.as_deref()).await?;
    let ente = http::bench_ente_with(&store, None).await?;
    store
        .create_tipo_dovuto(
            ente.id,
            &NewTipoDovuto {
                code: "TARI".into(),
                name: "TARI".into(),
                description: None,
                taxonomy_code: TaxonomyCode::parse("9/0101101IM/")?,
                iban: Some(Iban::parse("IT60X0542811101000000123456")?),
                postal_iban: None,
                amount_rule: AmountRule::Free,
                spontaneous: false,
                form_fields: serde_json::json!([]),
                tags: Vec::new(),
                external_url: None,
                capitolo: None,
                accertamento: None,
                ufficio: None,
                installment_mode: cassa_core::debt::InstallmentMode::Together,
            },
            "bench",
            Timestamp::now(),
        )
        .await?;
    let files_dir = tempfile::Builder::new()
        .prefix("cassa-bench-files-")
        .tempdir_in(".")?;
    let files = FileStore::new(files_dir.path());
    let name = "c_f205-BENCH0001-1_4.csv";
    let (token, part) = files.create_upload(name)?;
    drop(part);
    let path = files
        .upload_file(&token, name)
        .ok_or_else(|| anyhow::anyhow!("upload path"))?;
    eprintln!(
        "{}: writing a file of {} rows...",
        backend.name(),
        args.rows
    );
    write_file(&path, args.rows)?;
    let file_mib = std::fs::metadata(&path)?.len() as f64 / 1_048_576.0;
    let params = serde_json::to_string(&ImportRequest {
        file_name: name.into(),
        upload: token,
        notices: false,
    })?;
    let worker = Worker::new(store.clone(), files.clone());
    eprintln!("{}: importing...", backend.name());
    let measured = run_job(&store, &worker, ente.id, KIND, &params).await?;
    let (elapsed, peak, peak_is_the_jobs) = (
        measured.elapsed,
        measured.peak_kib,
        measured.peak_is_the_jobs,
    );
    let result: ImportResult = serde_json::from_value(measured.result)?;
    anyhow::ensure!(
        result.applied && result.inserted as usize == args.rows,
        "imported {result:?}"
    );
    store.close().await;
    scratch.drop_database().await?;

    let mib = |kib: u64| kib as f64 / 1024.0;
    println!("backend={}", backend.name());
    println!("rows={}", args.rows);
    println!("file_mib={file_mib:.1}");
    println!("import_seconds={:.2}", elapsed.as_secs_f64());
    println!(
        "import_rows_per_second={:.0}",
        args.rows as f64 / elapsed.as_secs_f64()
    );
    println!(
        "peak_rss_mib={:.1}{}",
        mib(peak),
        if peak_is_the_jobs {
            ""
        } else {
            " (includes setup)"
        }
    );
    if args.no_baseline {
        return Ok(());
    }

    // The baseline, into a fresh database.
    let baseline_db = Scratch::new(backend, args.postgres_url.as_deref()).await?;
    let baseline_store = baseline_db.store(StoreOptions::default()).await?;
    let baseline_ente = http::bench_ente_with(&baseline_store, None).await?;
    baseline_store.close().await;
    eprintln!("{}: baseline load...", backend.name());
    let baseline = match backend {
        Backend::Sqlite => {
            direct::measure(&baseline_db.url, baseline_ente.id, args.rows, 1).await?
        }
        Backend::Postgres => copy::measure(&baseline_db.url, baseline_ente.id, args.rows).await?,
    };
    baseline_db.drop_database().await?;

    println!("baseline_seconds={:.2}", baseline.as_secs_f64());
    println!(
        "import_to_baseline_ratio={:.2}",
        elapsed.as_secs_f64() / baseline.as_secs_f64()
    );
    Ok(())
}
