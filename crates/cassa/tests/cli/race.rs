//! Two `cassa serve` processes on one PostgreSQL, PSPs racing to activate
//! the single payment and the first installment of one debt through both
//! at once: exactly one activation wins, every other is told a payment is
//! in progress.

use std::process::Stdio;

use cassa_pagopa::node::Operation;
use cassa_pagopa::node::model::{GetPaymentRequest, GetPaymentResponse, QrCode};
use cassa_pagopa::node::soap::{read_message, write_message};
use cassa_testkit::Backend;

use super::{Env, Server, announced, demo_key, key_values};

const SECRET: &str = "a-node-secret-for-the-race";
const MILANO: &str = "01199250158";

fn plan(iupd: &str) -> serde_json::Value {
    let option = |amount: i64, partial: bool, due: &str| {
        serde_json::json!({
            "amount": amount, "description": "TARI 2030", "isPartialPayment": partial,
            "dueDate": due, "fee": 0,
            "transfer": [{ "idTransfer": "1", "amount": amount, "remittanceInformation": "TARI",
                "category": "9/0101101IM/", "iban": "IT60X0542811101000000123456" }]
        })
    };
    serde_json::json!({
        "iupd": iupd, "type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi",
        "switchToExpired": false, "companyName": "Comune di Milano",
        "paymentOption": [
            option(30_000, false, "2030-06-30T21:59:59Z"),
            option(15_000, true, "2030-06-30T21:59:59Z"),
            option(15_000, true, "2030-12-31T22:59:59Z")
        ]
    })
}

async fn activate(client: &reqwest::Client, endpoint: &str, notice: &str) -> Option<String> {
    let request = GetPaymentRequest {
        id_pa: MILANO.into(),
        id_broker_pa: "80050050154".into(),
        id_station: "80050050154_01".into(),
        qr_code: QrCode {
            fiscal_code: MILANO.into(),
            notice_number: notice.into(),
        },
        amount: None,
        payment_note: None,
        transfer_type: None,
        due_date: None,
    };
    let answer = client
        .post(endpoint)
        .header("content-type", "text/xml; charset=utf-8")
        .header("SOAPAction", "\"paGetPaymentV2\"")
        .header("Ocp-Apim-Subscription-Key", SECRET)
        .body(write_message(
            Operation::GetPaymentV2.request_element(),
            &request,
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let answer: GetPaymentResponse = read_message(
        answer.as_bytes(),
        Operation::GetPaymentV2.response_element(),
    )
    .unwrap();
    answer.fault.map(|f| f.fault_code)
}

pub(super) async fn two_processes_race_exclusive_options() {
    let env = Env::new(Backend::Postgres).await;
    let (ok, out, err) = env.run(&["demo"]);
    assert!(ok, "{err}");
    let key = demo_key(&key_values(&out), MILANO).to_owned();
    let mut bases = Vec::new();
    let mut servers = Vec::new();
    for _ in 0..2 {
        let mut child = env
            .command(&["serve", "--listen", "127.0.0.1:0"])
            .env("CASSA_NODE_AUTH_SECRET", SECRET)
            .env("CASSA_SERVE_RUNS_JOBS", "false")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        bases.push(announced(&mut child).0);
        servers.push(Server(child));
    }
    let client = cassa_net::http_client().build().unwrap();
    for round in 0..5 {
        let iupd = format!("RACE-{round}");
        let created: serde_json::Value = client
            .post(format!(
                "{}/organizations/{MILANO}/debtpositions?toPublish=true",
                bases[0]
            ))
            .header("Ocp-Apim-Subscription-Key", &key)
            .json(&plan(&iupd))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let notices: Vec<String> = (0..2)
            .map(|i| {
                created["paymentOption"][i]["nav"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{created}"))
                    .to_owned()
            })
            .collect();
        let mut tasks = Vec::new();
        for n in 0..16 {
            let endpoint = format!("{}/pagopa/paForNode", bases[n % 2]);
            let notice = notices[(n / 2) % 2].clone();
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                activate(&client, &endpoint, &notice).await
            }));
        }
        let mut won = 0;
        for task in tasks {
            match task.await.unwrap() {
                None => won += 1,
                Some(fault) => assert_eq!(fault, "PAA_PAGAMENTO_IN_CORSO", "round {round}"),
            }
        }
        assert_eq!(
            won, 1,
            "round {round}: one payment in progress for the debt"
        );
    }
}
