//! Payments while an import runs: uploads a debt file to cassa's import
//! API, then pays notices as PSPs would for as long as the import job runs,
//! and prints the latency of each node call made meanwhile and every
//! failure (a PAA_SYSTEM_ERROR, say). Payments must not wait behind bulk
//! work: this measures it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::load::{LoadArgs, create_notices, print_calls};
use crate::{NodeClient, PayError, Psp, RetryPolicy, pay_notice};

/// One cycle made during the import: its calls' times, or why it failed.
enum Cycle {
    Paid {
        verify: f64,
        activate: f64,
        receipt: f64,
    },
    Failed(String),
}

pub async fn run(client: &NodeClient, args: &LoadArgs, file: &str) -> anyhow::Result<()> {
    eprintln!(
        "creating {} notices to pay during the import...",
        args.cycles
    );
    let notices = Arc::new(create_notices(args, "DURING", args.cycles).await?);
    let name = args
        .import_name
        .clone()
        .unwrap_or_else(|| "c_f205-LOAD0001-1_4.csv".to_owned());
    // Read before any load starts: blocking here delays nothing measured.
    let bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
    let http = cassa_net::http_client().build()?;
    let started = Instant::now();
    eprintln!("uploading {} MB as {name}...", bytes.len() / 1_000_000);
    let response = http
        .post(format!(
            "{}/organizations/{}/jobs/imports?fileName={name}",
            args.cassa_url, args.ente
        ))
        .header("Ocp-Apim-Subscription-Key", &args.api_key)
        .body(bytes)
        .send()
        .await?;
    if response.status() != 202 {
        bail!(
            "the import was not queued: HTTP {}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    let job_url = format!(
        "{}{}",
        args.cassa_url,
        response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .context("no Location for the job")?
    );

    // Paying while the job is not done.
    let done = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let mut payers = Vec::new();
    eprintln!(
        "paying with {} concurrent PSPs while it runs...",
        args.concurrency
    );
    for _ in 0..args.concurrency.max(1) {
        let (client, notices, done, next) =
            (client.clone(), notices.clone(), done.clone(), next.clone());
        let ente = args.ente.clone();
        payers.push(tokio::spawn(async move {
            let retry = RetryPolicy {
                attempts: 5,
                pause: Duration::from_millis(100),
            };
            let mut cycles = Vec::new();
            while !done.load(Ordering::Acquire) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(notice) = notices.get(n) else { break };
                cycles.push(
                    match pay_notice(&client, &Psp::default(), &ente, notice, &retry).await {
                        Ok(paid) => Cycle::Paid {
                            verify: paid.verify_ms,
                            activate: paid.activate_ms,
                            receipt: paid.receipt_ms,
                        },
                        Err(PayError::Refused { operation, fault }) => {
                            Cycle::Failed(format!("{operation}:{}", fault.fault_code))
                        }
                        Err(e) => Cycle::Failed(e.to_string()),
                    },
                );
            }
            cycles
        }));
    }
    let (state, result) = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let job: serde_json::Value = http
            .get(&job_url)
            .header("Ocp-Apim-Subscription-Key", &args.api_key)
            .send()
            .await?
            .json()
            .await?;
        let state = job["state"].as_str().unwrap_or("").to_owned();
        if state == "DONE" || state == "FAILED" {
            break (state, job);
        }
        if next.load(Ordering::Relaxed) >= notices.len() {
            eprintln!(
                "warning: all {} notices paid before the import ended",
                notices.len()
            );
        }
    };
    let import_seconds = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Release);
    let mut cycles = Vec::new();
    for payer in payers {
        cycles.extend(payer.await?);
    }

    println!("import_state={state}");
    println!("import_seconds={import_seconds:.1}");
    println!(
        "import_inserted={}",
        result["result"]["inserted"].as_u64().unwrap_or(0)
    );
    let paid: Vec<(f64, f64, f64)> = cycles
        .iter()
        .filter_map(|c| match c {
            Cycle::Paid {
                verify,
                activate,
                receipt,
            } => Some((*verify, *activate, *receipt)),
            Cycle::Failed(_) => None,
        })
        .collect();
    let failed: Vec<&str> = cycles
        .iter()
        .filter_map(|c| match c {
            Cycle::Failed(why) => Some(why.as_str()),
            Cycle::Paid { .. } => None,
        })
        .collect();
    println!("cycles_during_import={}", paid.len());
    println!(
        "cycles_per_second_during_import={:.0}",
        paid.len() as f64 / import_seconds
    );
    println!("failed_cycles={}", failed.len());
    let system_errors = failed.iter().filter(|f| f.contains("SYSTEM_ERROR")).count();
    println!("system_errors={system_errors}");
    if let Some(first) = failed.first() {
        println!("first_failure={first}");
    }
    print_calls("during_import.", &paid);
    Ok(())
}
