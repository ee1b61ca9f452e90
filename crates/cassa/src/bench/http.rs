//! The HTTP side: the real router on a loopback port, clients posting GPD
//! bodies with one option of two transfers and a generated IUV.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cassa_core::SegregationCode;
use cassa_core::ente::MembershipMode;
use cassa_store::{NewEnte, Store};
use cassa_web::{AppState, router};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::admin::create_key;

pub struct HttpFigures {
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

pub const BENCH_ENTE: &str = "01199250158";

pub async fn bench_ente(store: &Store) -> anyhow::Result<cassa_store::Ente> {
    bench_ente_with(store, None).await
}

/// The bench ente, with a postal account (for notices with Poste's slip) or not.
pub async fn bench_ente_with(
    store: &Store,
    postal_iban: Option<cassa_core::Iban>,
) -> anyhow::Result<cassa_store::Ente> {
    Ok(store
        .create_ente(
            &NewEnte {
                fiscal_code: BENCH_ENTE.parse()?,
                name: "Comune di Milano".into(),
                ipa_code: None,
                segregation_code: SegregationCode::new(2)?,
                cbill: Some("A0EDT".into()),
                iban: None,
                postal_iban,
                office_name: Some("Ufficio Tributi".into()),
                email: None,
                pec: None,
                phone: None,
                website: None,
                address: None,
                membership_mode: MembershipMode::IniziatoPressoEnte,
                station_ids: Vec::new(),
            },
            "bench",
            Timestamp::now(),
        )
        .await?)
}

/// The body of position `n`: what a typical TARI notice looks like.
pub fn body(n: usize) -> Value {
    json!({
        "iupd": format!("BENCH-{n:08}"),
        "type": "F",
        "fiscalCode": "RSSMRA85T10A562S",
        "fullName": "Mario Rossi",
        "streetName": "Via Roma 1",
        "postalCode": "20121",
        "city": "Milano",
        "province": "MI",
        "country": "IT",
        "switchToExpired": false,
        "companyName": "Comune di Milano",
        "paymentOption": [{
            "amount": 12_050,
            "description": "TARI 2026 rata unica",
            "isPartialPayment": false,
            "dueDate": "2030-12-31T22:59:59Z",
            "fee": 0,
            "transfer": [
                { "idTransfer": "1", "amount": 11_450, "remittanceInformation": "TARI 2026",
                  "category": "9/0101101IM/", "iban": "IT60X0542811101000000123456" },
                { "idTransfer": "2", "amount": 600, "remittanceInformation": "TEFA 2026",
                  "organizationFiscalCode": "08911820960", "category": "9/0201102IM/",
                  "iban": "IT60X0542811101000000123456" }
            ]
        }]
    })
}

pub async fn measure(
    store: &Store,
    positions: usize,
    clients: usize,
) -> anyhow::Result<HttpFigures> {
    let ente = bench_ente(store).await?;
    let key = create_key(store, &ente, "bench").await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!(
        "http://{}/organizations/{BENCH_ENTE}/debtpositions",
        listener.local_addr()?
    );
    let served = store.clone();
    // Positions only: no job runs, the file store stays empty.
    let files_dir = tempfile::tempdir()?;
    let files = cassa_jobs::FileStore::new(files_dir.path());
    // The server loop `cassa serve` runs.
    let server = tokio::spawn(cassa_net::serve(
        listener,
        router(AppState::new(served, files)),
        None,
        cassa_net::ServeLimits::default(),
        std::future::pending(),
    ));
    let next = Arc::new(AtomicUsize::new(0));
    let client = cassa_net::http_client()
        .pool_max_idle_per_host(clients)
        .build()?;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (next, client, url, key) = (next.clone(), client.clone(), url.clone(), key.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= positions {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let body = serde_json::to_vec(&body(n))?;
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("Ocp-Apim-Subscription-Key", &key)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .context("request failed")?;
                let status = response.status();
                let answer = response.bytes().await?;
                latencies.push(sent.elapsed());
                if status != reqwest::StatusCode::CREATED {
                    bail!(
                        "position {n}: HTTP {status}: {}",
                        String::from_utf8_lossy(&answer)
                    );
                }
            }
        }));
    }
    let mut latencies = Vec::with_capacity(positions);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = started.elapsed();
    server.abort();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Ok(HttpFigures {
        elapsed,
        p50: at(0.50),
        p99: at(0.99),
    })
}
