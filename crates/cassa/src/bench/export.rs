//! `cassa bench-export`: N paid debts (position, option, transfer and an
//! applied receipt with its XML, seeded straight in SQL) exported through
//! the worker as `cassa serve` runs it: the MyPay "flusso pagati" ZIP,
//! version 1_3, with the receipts or without. Prints time, rows per second,
//! file size and peak memory as `key=value` lines.

use std::time::Instant;

use cassa_jobs::export_pagati::{ExportFormat, ExportRequest, ExportResult, KIND};
use cassa_jobs::{FileStore, Worker};
use jiff::civil::date;
use sqlx::{AnyConnection, Connection, Executor};

use super::notices::run_job;
use super::{Scratch, http};
use crate::config::Config;

#[derive(clap::Args)]
pub struct BenchExportArgs {
    /// Paid debts to export.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Put each payment's receipt in the file.
    #[arg(long)]
    with_receipts: bool,
    /// Measure on this PostgreSQL server (a scratch database is created
    /// and dropped) instead of SQLite.
    #[arg(long, env = "CASSA_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
}

/// `1..=rows` as `n(i)`, then `insert`.
fn numbered(rows: usize, insert: &str) -> String {
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) {insert} FROM n"
    )
}

/// `i` zero-padded to 15 digits, in SQL both databases speak.
const PADDED: &str = "substr('000000000000000' || CAST(i AS TEXT), length(CAST(i AS TEXT)) + 1)";

/// Seeds `rows` paid debts of `ente_id`, paid a second apart from
/// 2030-06-15 (a million fit in June): IUPD `EXP-<15 digits>`, IUV
/// `02<15 digits>`.
async fn seed(url: &str, ente_id: i64, rows: usize) -> anyhow::Result<()> {
    let paid_at = date(2030, 6, 15)
        .at(10, 30, 0, 0)
        .in_tz("Europe/Rome")?
        .timestamp()
        .as_microsecond();
    let mut conn = AnyConnection::connect(url).await?;
    let mut tx = conn.begin().await?;
    tx.execute(sqlx::query(&numbered(
        rows,
        &format!(
            "INSERT INTO debt_position (ente_id, iupd, debtor_type, debtor_fiscal_code, debtor_name, \
             street_name, postal_code, city, province, country, company_name, switch_to_expired, pay_stand_in, \
             status, origin, min_due_date, max_due_date, inserted_at, updated_at, published_at, payment_date) \
             SELECT {ente_id}, 'EXP-' || {PADDED}, 'F', 'RSSMRA85T10A562S', 'Mario Rossi', 'Via Roma 1', \
             '20121', 'Milano', 'MI', 'IT', 'Comune di Milano', 0, 0, 'PAID', 'import', {paid_at}, {paid_at}, \
             {paid_at}, {paid_at}, {paid_at}, {paid_at}"
        ),
    )))
    .await?;
    tx.execute(sqlx::query(&format!(
        "INSERT INTO payment_option (position_id, ente_id, seq, iuv, notice_number, amount, description, \
         is_partial_payment, due_date, status, payment_date, inserted_at, updated_at) \
         SELECT id, ente_id, 0, '02' || substr(iupd, 5), '302' || substr(iupd, 5), 12050, \
         'TARI 2030 ' || iupd, 0, {paid_at}, 'PO_PAID', {paid_at}, {paid_at}, {paid_at} \
         FROM debt_position WHERE ente_id = {ente_id}"
    )))
    .await?;
    tx.execute(sqlx::query(&format!(
        "INSERT INTO transfer (option_id, id_transfer, amount, organization_fiscal_code, \
         remittance_information, category, iban, status, inserted_at, updated_at) \
         SELECT id, 1, amount, '01199250158', description, '9/0101101IM/', 'IT60X0542811101000000123456', \
         'T_UNREPORTED', {paid_at}, {paid_at} FROM payment_option WHERE ente_id = {ente_id}"
    )))
    .await?;
    tx.execute(sqlx::query(&format!(
        "INSERT INTO receipt (ente_id, receipt_id, notice_number, option_id, status, outcome, amount, fee, \
         psp_id, psp_company_name, channel_id, payment_method, payer_fiscal_code, payer_name, \
         payment_date_time, operation, raw_xml, received_at) \
         SELECT ente_id, 'RCP' || iuv, notice_number, id, 'applied', 'OK', amount, 100, 'BCITITMM', \
         'Intesa Sanpaolo', 'BCITITMM_01', 'CP', 'RSSMRA85T10A562S', 'Mario Rossi', {paid_at} + id * 1000000, 'paSendRTV2', \
         '<paSendRTV2Request><receipt><receiptId>RCP' || iuv || '</receiptId><noticeNumber>' || notice_number \
         || '</noticeNumber><fiscalCode>01199250158</fiscalCode><outcome>OK</outcome><creditorReferenceId>' \
         || iuv || '</creditorReferenceId><paymentAmount>120.50</paymentAmount><description>' || description \
         || '</description><companyName>Comune di Milano</companyName><debtor><uniqueIdentifierType>F\
         </uniqueIdentifierType><uniqueIdentifierValue>RSSMRA85T10A562S</uniqueIdentifierValue>\
         <fullName>Mario Rossi</fullName></debtor><transferList><transfer><idTransfer>1</idTransfer>\
         <transferAmount>120.50</transferAmount><fiscalCodePA>01199250158</fiscalCodePA>\
         <IBAN>IT60X0542811101000000123456</IBAN><remittanceInformation>' || description \
         || '</remittanceInformation><transferCategory>9/0101101IM/</transferCategory></transfer>\
         </transferList></receipt></paSendRTV2Request>', {paid_at} \
         FROM payment_option WHERE ente_id = {ente_id}"
    )))
    .await?;
    tx.commit().await?;
    conn.close().await?;
    Ok(())
}

pub async fn run(config: &Config, args: BenchExportArgs) -> anyhow::Result<()> {
    let (backend, scratch, store) = Scratch::open(config, args.postgres_url.as_deref()).await?;
    let ente = http::bench_ente_with(&store, None).await?;
    eprintln!("{}: seeding {} paid debts...", backend.name(), args.rows);
    let seeding = Instant::now();
    seed(&scratch.url, ente.id, args.rows).await?;
    eprintln!(
        "{}: seeded in {:.1} s; exporting...",
        backend.name(),
        seeding.elapsed().as_secs_f64()
    );
    let files_dir = tempfile::Builder::new()
        .prefix("cassa-bench-files-")
        .tempdir_in(".")?;
    let files = FileStore::new(files_dir.path());
    let params = serde_json::to_string(&ExportRequest {
        from: date(2030, 6, 1),
        to: date(2030, 6, 30),
        format: ExportFormat::Mypay,
        version: "1_3".into(),
        with_receipts: args.with_receipts,
    })?;
    let worker = Worker::new(store.clone(), files.clone());
    let measured = run_job(&store, &worker, ente.id, KIND, &params).await?;
    let result: ExportResult = serde_json::from_value(measured.result)?;
    anyhow::ensure!(result.rows as usize == args.rows, "exported {result:?}");
    store.close().await;
    scratch.drop_database().await?;
    let seconds = measured.elapsed.as_secs_f64();
    println!("backend={}", backend.name());
    println!("rows={}", args.rows);
    println!("with_receipts={}", args.with_receipts);
    println!("export_seconds={seconds:.2}");
    println!("export_rows_per_second={:.0}", args.rows as f64 / seconds);
    println!("file_mib={:.1}", result.bytes as f64 / 1_048_576.0);
    println!(
        "peak_rss_mib={:.1}{}",
        measured.peak_kib as f64 / 1024.0,
        if measured.peak_is_the_jobs {
            ""
        } else {
            " (includes setup)"
        }
    );
    Ok(())
}
