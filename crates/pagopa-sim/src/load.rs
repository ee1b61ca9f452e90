//! The load generator: many full Modello 3 cycles at once against a running
//! cassa, with throughput and latency per operation, and the cost of our
//! paGetPaymentV2 measured against a trivial SOAP echo in the same server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cassa_pagopa::node::Operation;
use cassa_pagopa::node::model::{GetPaymentRequest, QrCode};
use cassa_pagopa::node::soap::write_message;
use serde_json::json;

use crate::{NodeClient, Psp, RetryPolicy, pay_notice};

#[derive(clap::Args, Clone)]
pub struct LoadArgs {
    /// cassa's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub cassa_url: String,
    /// An API key of the ente (to create the notices to pay).
    #[arg(long, env = "PAGOPA_SIM_API_KEY")]
    pub api_key: String,
    /// The ente's codice fiscale.
    #[arg(long)]
    pub ente: String,
    /// Full cycles (verify, activate, receipt) to run.
    #[arg(long, default_value_t = 5000)]
    pub cycles: usize,
    /// Concurrent PSPs.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Also compare paGetPaymentV2 with cassa's SOAP echo route
    /// (`pagopa_echo_route = true` in cassa's configuration).
    #[arg(long)]
    pub echo: bool,
    /// Instead: upload this debt file to cassa's import API and pay notices
    /// (up to --cycles of them) for as long as the import runs, printing
    /// each node call's latency during it.
    #[arg(long)]
    pub import_file: Option<String>,
    /// The name the file is uploaded under (MyPay's naming).
    #[arg(long)]
    pub import_name: Option<String>,
}

/// Prints p50, p99 and the longest time of each call of the cycles
/// (verify, activation, receipt), prefixed with `prefix`.
pub(crate) fn print_calls(prefix: &str, cycles: &[(f64, f64, f64)]) {
    type Pick = fn(&(f64, f64, f64)) -> f64;
    let picks: [(&str, Pick); 3] = [
        ("paVerifyPaymentNotice", |c| c.0),
        ("paGetPaymentV2", |c| c.1),
        ("paSendRTV2", |c| c.2),
    ];
    for (name, pick) in picks {
        let mut values: Vec<f64> = cycles.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        println!("{prefix}{name}.p50_ms={:.2}", percentile(&values, 0.50));
        println!("{prefix}{name}.p99_ms={:.2}", percentile(&values, 0.99));
        println!(
            "{prefix}{name}.max_ms={:.2}",
            values.last().copied().unwrap_or(0.0)
        );
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

/// Runs `count` jobs on `concurrency` workers; returns each job's output.
async fn run_all<T, F, Fut>(count: usize, concurrency: usize, job: F) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (next, job) = (next.clone(), job.clone());
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, anyhow::Error>(out);
                }
                out.push(job(n).await?);
            }
        }));
    }
    let mut all = Vec::with_capacity(count);
    for w in workers {
        all.extend(w.await??);
    }
    Ok(all)
}

/// Publishes `count` positions through cassa's GPD API; their notices.
pub(crate) async fn create_notices(
    args: &LoadArgs,
    prefix: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let http = cassa_net::http_client().build()?;
    let url = format!(
        "{}/organizations/{}/debtpositions?toPublish=true",
        args.cassa_url, args.ente
    );
    let (key, prefix) = (
        args.api_key.clone(),
        format!("{prefix}-{:08x}", rand::random::<u32>()),
    );
    run_all(count, args.concurrency, move |n| {
        let (http, url, key, iupd) = (http.clone(), url.clone(), key.clone(), format!("{prefix}-{n}"));
        async move {
            let body = json!({
                "iupd": iupd, "type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi",
                "switchToExpired": false, "companyName": "Ente",
                "paymentOption": [{
                    "amount": 12050, "description": "Load test", "isPartialPayment": false,
                    "dueDate": "2030-12-31T22:59:59Z", "fee": 0,
                    "transfer": [
                        { "idTransfer": "1", "amount": 11450, "remittanceInformation": "Quota 1",
                          "category": "9/0101101IM/", "iban": "IT60X0542811101000000123456" },
                        { "idTransfer": "2", "amount": 600, "remittanceInformation": "Quota 2",
                          "category": "9/0201102IM/", "iban": "IT60X0542811101000000123456" }
                    ]
                }]
            });
            let response = http.post(&url).header("Ocp-Apim-Subscription-Key", &key).json(&body).send().await?;
            let status = response.status();
            let created: serde_json::Value = response.json().await?;
            if status != 201 {
                bail!("creating {iupd}: HTTP {status}: {created}");
            }
            created["paymentOption"][0]["nav"].as_str().map(str::to_owned).context("no nav in the answer")
        }
    })
    .await
}

/// Calls per second of one SOAP body posted `count` times.
async fn soap_rate(
    url: &str,
    auth: Option<&crate::NodeAuth>,
    action: &str,
    bodies: Vec<String>,
    concurrency: usize,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(auth) = auth {
        headers.insert(
            reqwest::header::HeaderName::from_bytes(auth.header.as_bytes())?,
            reqwest::header::HeaderValue::from_str(&auth.secret)?,
        );
    }
    let http = cassa_net::http_client().default_headers(headers).build()?;
    let bodies = Arc::new(bodies);
    let (url, action) = (url.to_owned(), action.to_owned());
    let count = bodies.len();
    let started = Instant::now();
    let mut latencies = run_all(count, concurrency, move |n| {
        let (http, url, action, bodies) =
            (http.clone(), url.clone(), action.clone(), bodies.clone());
        async move {
            let sent = Instant::now();
            let response = http
                .post(&url)
                .header("content-type", "text/xml; charset=utf-8")
                .header("SOAPAction", format!("\"{action}\""))
                .body(bodies[n].clone())
                .send()
                .await?;
            let status = response.status();
            let text = response.text().await?;
            if status != 200 || !text.contains("<outcome>OK</outcome>") {
                bail!("{action}: HTTP {status}: {text}");
            }
            Ok(sent.elapsed().as_secs_f64() * 1000.0)
        }
    })
    .await?;
    let rate = count as f64 / started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok((rate, latencies))
}

/// Pays `args.cycles` new notices (`load_import::run` pays them while an
/// import runs, when `args.import_file` is set).
pub async fn run(client: &NodeClient, args: &LoadArgs) -> anyhow::Result<()> {
    eprintln!("creating {} notices...", args.cycles);
    let notices = Arc::new(create_notices(args, "LOAD", args.cycles).await?);
    eprintln!("paying them with {} concurrent PSPs...", args.concurrency);
    let (client_, ente) = (client.clone(), args.ente.clone());
    let retry = RetryPolicy {
        attempts: 5,
        pause: Duration::from_millis(100),
    };
    let notices_ = notices.clone();
    let started = Instant::now();
    let paid = run_all(notices.len(), args.concurrency, move |n| {
        let (client, ente, notices, retry) = (
            client_.clone(),
            ente.clone(),
            notices_.clone(),
            retry.clone(),
        );
        async move {
            let psp = Psp::default();
            Ok(pay_notice(&client, &psp, &ente, &notices[n], &retry).await?)
        }
    })
    .await?;
    let elapsed = started.elapsed();
    println!("cycles={}", paid.len());
    println!("concurrency={}", args.concurrency);
    println!(
        "cycles_per_second={:.0}",
        paid.len() as f64 / elapsed.as_secs_f64()
    );
    let calls: Vec<(f64, f64, f64)> = paid
        .iter()
        .map(|p| (p.verify_ms, p.activate_ms, p.receipt_ms))
        .collect();
    print_calls("", &calls);
    let retried = paid.iter().filter(|p| p.receipt_attempts > 1).count();
    println!("receipts_retried={retried}");

    if args.echo {
        eprintln!("comparing paGetPaymentV2 with the SOAP echo route...");
        let more = create_notices(args, "ECHO", args.cycles).await?;
        let bodies: Vec<String> = more
            .iter()
            .map(|notice| {
                let request = GetPaymentRequest {
                    id_pa: args.ente.clone(),
                    id_broker_pa: client.station.broker_id.clone(),
                    id_station: client.station.station_id.clone(),
                    qr_code: QrCode {
                        fiscal_code: args.ente.clone(),
                        notice_number: notice.clone(),
                    },
                    amount: None,
                    payment_note: None,
                    transfer_type: None,
                    due_date: None,
                };
                write_message(Operation::GetPaymentV2.request_element(), &request)
            })
            .collect();
        let auth = client.station.auth.as_ref();
        let (ours, _) = soap_rate(
            &client.station.endpoint,
            auth,
            "paGetPaymentV2",
            bodies.clone(),
            args.concurrency,
        )
        .await?;
        let echo_url = format!("{}/pagopa/echo", args.cassa_url);
        let (echo, _) = soap_rate(&echo_url, auth, "echo", bodies, args.concurrency).await?;
        println!("paGetPaymentV2_calls_per_second={ours:.0}");
        println!("echo_calls_per_second={echo:.0}");
        println!("paGetPaymentV2_to_echo_ratio={:.3}", ours / echo);
    }
    Ok(())
}
