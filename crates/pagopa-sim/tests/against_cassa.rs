//! pagopa-sim paying notices against a real cassa on a loopback port, on
//! both storage backends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cassa_store::{Store, StoreOptions};
use cassa_testkit::{Backend, TestDatabase, backend_tests, fresh_database};
use cassa_web::{AppState, router};
use jiff::Timestamp;
use pagopa_sim::{NodeClient, PayError, Psp, RetryPolicy, Station, pay_notice};
use serde_json::json;

backend_tests!(
    pays_a_notice_once,
    two_psps_at_once_one_payment,
    lost_answers_are_retried_and_counted_once,
    the_http_api_pays_too,
);

const MILANO: &str = "01199250158";
const NODE_SECRET: &str = "test-node-secret-0123456789";

struct Cassa {
    base: String,
    store: Store,
    key: String,
    _db: TestDatabase,
}

async fn start(backend: Backend) -> Cassa {
    let db = fresh_database(backend).await;
    let store = Store::connect(&db.url, StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let ente = store
        .create_ente(
            &cassa_testkit::new_ente(MILANO, "Comune di Milano", 2),
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
    let secret = cassa_web::api_key::generate();
    store
        .create_api_key(
            ente.id,
            &secret.prefix,
            &secret.hash,
            "test",
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // No jobs run here: an empty file store.
    let files = cassa_jobs::FileStore::new(std::env::temp_dir().join("cassa-sim-tests-files"));
    let node = cassa_web::node::NodeSettings {
        fence: cassa_web::node::NodeFence {
            secret: Some(NODE_SECRET.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let app = router(AppState::new(store.clone(), files).with_node(node));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Cassa {
        base,
        store,
        key: secret.secret,
        _db: db,
    }
}

impl Cassa {
    /// Publishes a position with one option of two transfers; its notice.
    async fn notice(&self, iupd: &str) -> String {
        let body = json!({
            "iupd": iupd, "type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi",
            "switchToExpired": false, "companyName": "Comune di Milano",
            "paymentOption": [{
                "amount": 12050, "description": "TARI 2026", "isPartialPayment": false,
                "dueDate": "2030-12-31T22:59:59Z", "fee": 0,
                "transfer": [
                    { "idTransfer": "1", "amount": 11450, "remittanceInformation": "TARI", "category": "9/0101101IM/",
                      "iban": "IT60X0542811101000000123456" },
                    { "idTransfer": "2", "amount": 600, "remittanceInformation": "TEFA", "category": "9/0201102IM/",
                      "organizationFiscalCode": "08911820960", "iban": "IT60X0542811101000000123456" }
                ]
            }]
        });
        let response = cassa_net::http_client()
            .build()
            .unwrap()
            .post(format!(
                "{}/organizations/{MILANO}/debtpositions?toPublish=true",
                self.base
            ))
            .header("Ocp-Apim-Subscription-Key", &self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let created: serde_json::Value = response.json().await.unwrap();
        created["paymentOption"][0]["nav"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn client(&self, endpoint: &str) -> NodeClient {
        station_client(endpoint)
    }

    async fn milano(&self) -> i64 {
        let ente = self.store.ente_by_fiscal_code(MILANO).await.unwrap();
        ente.unwrap().id
    }

    async fn status(&self, iupd: &str) -> String {
        let position = self.store.position(self.milano().await, iupd).await;
        position.unwrap().unwrap().status.code().to_owned()
    }

    /// How many receipts cassa recorded for `notice`.
    async fn receipts(&self, notice: &str) -> usize {
        let receipts = self
            .store
            .receipts_of_notice(self.milano().await, notice)
            .await;
        receipts.unwrap().len()
    }
}

/// A node client that also validates every answer against the XSDs.
fn station_client(endpoint: &str) -> NodeClient {
    NodeClient::new(Station {
        endpoint: endpoint.to_owned(),
        broker_id: "80050050154".into(),
        station_id: "80050050154_01".into(),
        auth: Some(pagopa_sim::NodeAuth::subscription_key(NODE_SECRET)),
    })
    .with_xsd_check()
    .unwrap()
}

fn fault_code(error: &PayError) -> &str {
    match error {
        PayError::Refused { fault, .. } => &fault.fault_code,
        other => panic!("expected a refusal, got {other}"),
    }
}

async fn pays_a_notice_once(backend: Backend) {
    let cassa = start(backend).await;
    let notice = cassa.notice("TARI-1").await;
    let client = cassa.client(&format!("{}/pagopa/paForNode", cassa.base));
    let paid = pay_notice(
        &client,
        &Psp::default(),
        MILANO,
        &notice,
        &RetryPolicy::default(),
    )
    .await
    .unwrap();
    assert_eq!(paid.amount, "120.50");
    assert_eq!(paid.receipt_attempts, 1);
    assert_eq!(cassa.status("TARI-1").await, "PAID");
    let again = pay_notice(
        &client,
        &Psp::default(),
        MILANO,
        &notice,
        &RetryPolicy::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(fault_code(&again), "PAA_PAGAMENTO_DUPLICATO");
    let unknown = pay_notice(
        &client,
        &Psp::default(),
        MILANO,
        "302000000099999999",
        &RetryPolicy::default(),
    )
    .await;
    assert_eq!(
        fault_code(&unknown.unwrap_err()),
        "PAA_PAGAMENTO_SCONOSCIUTO"
    );
}

async fn two_psps_at_once_one_payment(backend: Backend) {
    let cassa = start(backend).await;
    let notice = cassa.notice("TARI-1").await;
    let client = cassa.client(&format!("{}/pagopa/paForNode", cassa.base));
    let mut tasks = Vec::new();
    for n in 0..2 {
        let (client, notice) = (client.clone(), notice.clone());
        tasks.push(tokio::spawn(async move {
            let psp = Psp {
                id: format!("PSP{n}"),
                ..Psp::default()
            };
            pay_notice(&client, &psp, MILANO, &notice, &RetryPolicy::default()).await
        }));
    }
    let mut paid = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => paid += 1,
            Err(e) => assert!(
                ["PAA_PAGAMENTO_IN_CORSO", "PAA_PAGAMENTO_DUPLICATO"].contains(&fault_code(&e)),
                "{e}"
            ),
        }
    }
    assert_eq!(paid, 1);
    assert_eq!(
        cassa.receipts(&notice).await,
        1,
        "exactly one payment recorded"
    );
}

/// A proxy in front of cassa that loses cassa's first answer to paSendRT,
/// as a network failure would: the node retries, cassa counts once.
async fn lost_answers_are_retried_and_counted_once(backend: Backend) {
    let cassa = start(backend).await;
    let notice = cassa.notice("TARI-1").await;
    let target = format!("{}/pagopa/paForNode", cassa.base);
    let receipts_seen = Arc::new(AtomicUsize::new(0));
    let seen = receipts_seen.clone();
    let proxy = axum::Router::new().route(
        "/",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (target, seen) = (target.clone(), seen.clone());
            async move {
                let action = headers
                    .get("soapaction")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let secret = headers
                    .get("ocp-apim-subscription-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let answer = cassa_net::http_client()
                    .build()
                    .unwrap()
                    .post(&target)
                    .header("content-type", "text/xml; charset=utf-8")
                    .header("SOAPAction", &action)
                    .header("Ocp-Apim-Subscription-Key", secret)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = answer.status().as_u16();
                let text = answer.text().await.unwrap();
                if action.contains("paSendRT") && seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    return (
                        axum::http::StatusCode::BAD_GATEWAY,
                        "answer lost".to_owned(),
                    );
                }
                (axum::http::StatusCode::from_u16(status).unwrap(), text)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, proxy).await.unwrap() });

    let client = cassa.client(&proxy_url);
    let retry = RetryPolicy {
        attempts: 5,
        pause: std::time::Duration::from_millis(10),
    };
    let paid = pay_notice(&client, &Psp::default(), MILANO, &notice, &retry)
        .await
        .unwrap();
    assert_eq!(paid.receipt_attempts, 2);
    assert_eq!(
        receipts_seen.load(Ordering::SeqCst),
        2,
        "cassa received the receipt twice"
    );
    assert_eq!(cassa.receipts(&notice).await, 1, "and recorded it once");
    assert_eq!(cassa.status("TARI-1").await, "PAID");
}

async fn the_http_api_pays_too(backend: Backend) {
    let cassa = start(backend).await;
    let notice = cassa.notice("TARI-1").await;
    let state = pagopa_sim::api::SimState {
        client: cassa.client(&format!("{}/pagopa/paForNode", cassa.base)),
        psp: Psp::default(),
        retry: RetryPolicy::default(),
        checkouts: std::sync::Arc::new(pagopa_sim::checkout::Checkouts::new(
            "http://127.0.0.1:1",
            std::time::Duration::ZERO,
        )),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, pagopa_sim::api::router(state))
            .await
            .unwrap()
    });
    let http = cassa_net::http_client().build().unwrap();
    let pay = || {
        http.post(format!("{sim}/pay-notice"))
            .json(&json!({ "ente": MILANO, "notice": notice }))
            .send()
    };
    let first = pay().await.unwrap();
    assert_eq!(first.status(), 200);
    let body: serde_json::Value = first.json().await.unwrap();
    assert_eq!(body["payment"]["amount"], "120.50");
    let second = pay().await.unwrap();
    assert_eq!(second.status(), 422);
    let body: serde_json::Value = second.json().await.unwrap();
    assert_eq!(body["faultCode"], "PAA_PAGAMENTO_DUPLICATO");
}

/// An EC whose verify answer has its elements out of the schema's order:
/// serde would read it, the XSD check refuses it, loudly.
#[tokio::test]
async fn answers_out_of_schema_order_are_caught() {
    let wrong = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><paf:paVerifyPaymentNoticeRes xmlns:paf="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"><paymentList><paymentOptionDescription><amount>1.00</amount><options>EQ</options><allCCP>false</allCCP></paymentOptionDescription></paymentList><outcome>OK</outcome><paymentDescription>x</paymentDescription><fiscalCodePA>01199250158</fiscalCodePA><companyName>x</companyName></paf:paVerifyPaymentNoticeRes></soapenv:Body></soapenv:Envelope>"#;
    let ec = axum::Router::new().route("/", axum::routing::post(move || async move { wrong }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, ec).await.unwrap() });
    let error = station_client(&url)
        .verify(MILANO, "302000000000000184")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("XSD"), "{error}");
    // Without the XSD check the rules alone would have let it through.
    let lenient = NodeClient::new(Station {
        endpoint: url,
        broker_id: "b".into(),
        station_id: "s".into(),
        auth: Some(pagopa_sim::NodeAuth::subscription_key(NODE_SECRET)),
    });
    assert!(lenient.verify(MILANO, "302000000000000184").await.is_ok());
}
