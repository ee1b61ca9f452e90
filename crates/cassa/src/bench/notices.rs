//! `cassa bench-notices`: a bulk print end to end. Positions are inserted
//! and published directly, then one bulk-notices job runs through the
//! worker exactly as `cassa serve` runs it (read pages, render on every
//! core, write the ZIP to disk). Prints time, rate and the peak memory of
//! the job as `key=value` lines.

use std::time::Instant;

use cassa_jobs::bulk_notices::{BulkFormat, BulkNotices, BulkNoticesResult, KIND};
use cassa_jobs::{FileStore, Worker};
use cassa_store::{JobState, NewJob};
use jiff::Timestamp;
use sqlx::Connection;

use super::{Scratch, direct, http};
use crate::config::Config;

#[derive(clap::Args)]
pub struct BenchNoticesArgs {
    /// Debt positions to print (one single-page notice each).
    #[arg(long, default_value_t = 10_000)]
    notices: usize,
    /// Merged PDFs of 1,000 notices instead of one PDF per position.
    #[arg(long)]
    merged: bool,
    /// Give the ente a postal account: every notice gets Poste's slip.
    #[arg(long)]
    postal: bool,
    /// Measure on this PostgreSQL server (a scratch database is created
    /// and dropped) instead of SQLite.
    #[arg(long, env = "CASSA_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
}

/// The process's resident memory: (now, peak since the last reset), in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Starts the peak-memory count again (Linux), so that setup does not count.
fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A job run through a worker as `cassa serve` runs it, measured.
pub(super) struct Measured {
    /// The job's result, parsed.
    pub result: serde_json::Value,
    pub elapsed: std::time::Duration,
    /// Peak resident memory, KiB.
    pub peak_kib: u64,
    /// Whether the peak is the job's alone (Linux can reset it).
    pub peak_is_the_jobs: bool,
}

/// Queues a job of `kind`, runs it with `worker` and measures time and
/// peak memory; fails unless it ends DONE.
pub(super) async fn run_job(
    store: &cassa_store::Store,
    worker: &Worker,
    ente_id: i64,
    kind: &str,
    params: &str,
) -> anyhow::Result<Measured> {
    let job = store
        .enqueue_job(
            NewJob {
                ente_id,
                kind,
                params,
                created_by: "bench",
            },
            Timestamp::now(),
        )
        .await?;
    let peak_is_the_jobs = reset_peak_memory();
    let started = Instant::now();
    worker.run_next().await?;
    let elapsed = started.elapsed();
    let (_, peak_kib) = memory_kib();
    let job = store
        .job(ente_id, job.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the job vanished"))?;
    anyhow::ensure!(
        job.state == JobState::Done,
        "the job did not finish: {:?}",
        job.error
    );
    Ok(Measured {
        result: serde_json::from_str(job.result.as_deref().unwrap_or("{}"))?,
        elapsed,
        peak_kib,
        peak_is_the_jobs,
    })
}

pub async fn run(config: &Config, args: BenchNoticesArgs) -> anyhow::Result<()> {
    let (backend, scratch, store) = Scratch::open(config, args.postgres_url.as_deref()).await?;
    let postal = args
        .postal
        .then(|| cassa_core::Iban::italian("07601", "01600", "000012345678"))
        .transpose()?;
    let ente = http::bench_ente_with(&store, postal).await?;
    eprintln!(
        "{}: inserting {} positions...",
        backend.name(),
        args.notices
    );
    direct::measure(&scratch.url, ente.id, args.notices, 2).await?;
    let mut conn = sqlx::AnyConnection::connect(&scratch.url).await?;
    sqlx::query("UPDATE debt_position SET status = 'PUBLISHED', published_at = inserted_at")
        .execute(&mut conn)
        .await?;
    conn.close().await?;

    let files_dir = tempfile::Builder::new()
        .prefix("cassa-bench-files-")
        .tempdir_in(".")?;
    let request = BulkNotices {
        format: if args.merged {
            BulkFormat::Merged
        } else {
            BulkFormat::PdfPerPosition
        },
        ..BulkNotices::default()
    };
    let params = serde_json::to_string(&request)?;
    let worker = Worker::new(store.clone(), FileStore::new(files_dir.path()));
    let (before, _) = memory_kib();
    eprintln!("{}: printing...", backend.name());
    let measured = run_job(&store, &worker, ente.id, KIND, &params).await?;
    let (elapsed, peak, peak_is_the_jobs) = (
        measured.elapsed,
        measured.peak_kib,
        measured.peak_is_the_jobs,
    );
    let result: BulkNoticesResult = serde_json::from_value(measured.result)?;
    anyhow::ensure!(
        result.printed as usize == args.notices,
        "printed {} of {}",
        result.printed,
        args.notices
    );
    store.close().await;
    scratch.drop_database().await?;

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rate = result.printed as f64 / elapsed.as_secs_f64();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!("backend={}", backend.name());
    println!("format={:?}", request.format);
    println!("postal_slip={}", args.postal);
    println!("notices={}", result.printed);
    println!("cores={cores}");
    println!("seconds={:.2}", elapsed.as_secs_f64());
    println!("notices_per_second={rate:.0}");
    println!("notices_per_second_per_core={:.0}", rate / cores as f64);
    println!("zip_mib={:.1}", result.bytes as f64 / 1_048_576.0);
    println!("pdf_files={}", result.pdf_files);
    println!("rss_before_job_mib={:.1}", mib(before));
    println!(
        "peak_rss_mib={:.1}{}",
        mib(peak),
        if peak_is_the_jobs {
            ""
        } else {
            " (includes setup: peak reset unavailable)"
        }
    );
    Ok(())
}
