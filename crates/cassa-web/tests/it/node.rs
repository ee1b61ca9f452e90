//! The paForNode endpoint over real SOAP on a loopback port, both backends.
//! Every answer is validated against the official XSDs.

use cassa_pagopa::node::model::*;
use cassa_pagopa::node::soap::{read_message, write_message};
use cassa_pagopa::node::{FaultCode, Operation};
use cassa_testkit::{Backend, assert_valid_xml, backend_tests, pagopa_api_dir};
use pagopa_sim::flow::receipt_for;
use pagopa_sim::{Psp, Station};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::{MILANO, TestApp, position_body};

backend_tests!(
    modello_3_end_to_end,
    notice_and_receipt_pdfs_over_the_api,
    faults_follow_the_table,
    the_rest_of_the_fault_table,
    broken_requests_get_soap_faults,
    paying_one_way_cancels_the_other_at_the_node,
    only_pagopa_passes_the_fence,
    unreadable_receipt_fields_are_refused,
    the_ente_waits_for_a_payment_in_progress,
    a_suspended_ente_takes_no_payment_but_keeps_its_receipts,
);

const BROKER: &str = "80050050154";
const STATION: &str = "80050050154_01";

struct Answer {
    status: StatusCode,
    text: String,
}

async fn soap(app: &TestApp, action: &str, body: String) -> Answer {
    soap_with(
        app,
        action,
        body,
        &[("Ocp-Apim-Subscription-Key", crate::NODE_SECRET)],
    )
    .await
}

/// A SOAP call with these extra headers only.
async fn soap_with(app: &TestApp, action: &str, body: String, headers: &[(&str, &str)]) -> Answer {
    let mut request = app
        .client
        .post(format!("{}/pagopa/paForNode", app.base))
        .header("content-type", "text/xml; charset=utf-8")
        .header("SOAPAction", format!("\"{action}\""));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body).send().await.unwrap();
    Answer {
        status: response.status(),
        text: response.text().await.unwrap(),
    }
}

/// Validates the answer (envelope and body) and reads it.
fn valid<T: DeserializeOwned>(answer: &Answer, operation: Operation) -> T {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let api = pagopa_api_dir();
    assert_valid_xml(&answer.text, &api.join("xsd-common/envelope.xsd"));
    let body = answer
        .text
        .split("<soapenv:Body>")
        .nth(1)
        .unwrap()
        .split("</soapenv:Body>")
        .next()
        .unwrap();
    assert_valid_xml(body, &api.join("wsdl/xsd/paForNode.xsd"));
    read_message(answer.text.as_bytes(), operation.response_element()).unwrap()
}

async fn call<T: DeserializeOwned>(
    app: &TestApp,
    operation: Operation,
    request: &impl Serialize,
) -> T {
    let answer = soap(
        app,
        operation.soap_action(),
        write_message(operation.request_element(), request),
    )
    .await;
    valid(&answer, operation)
}

fn verify_request(notice: &str) -> VerifyRequest {
    VerifyRequest {
        id_pa: MILANO.into(),
        id_broker_pa: BROKER.into(),
        id_station: STATION.into(),
        qr_code: QrCode {
            fiscal_code: MILANO.into(),
            notice_number: notice.into(),
        },
    }
}

fn get_request(notice: &str) -> GetPaymentRequest {
    GetPaymentRequest {
        id_pa: MILANO.into(),
        id_broker_pa: BROKER.into(),
        id_station: STATION.into(),
        qr_code: QrCode {
            fiscal_code: MILANO.into(),
            notice_number: notice.into(),
        },
        amount: None,
        payment_note: None,
        transfer_type: None,
        due_date: None,
    }
}

/// The receipt the node would send, as pagopa-sim writes it.
fn send_request(notice: &str, receipt_id: &str, data: &PaymentPa) -> SendRtRequest {
    let station = Station {
        endpoint: String::new(),
        broker_id: BROKER.into(),
        station_id: STATION.into(),
        auth: None,
    };
    receipt_for(&station, &Psp::default(), MILANO, notice, data, receipt_id)
}

/// Creates a published position and returns its notice numbers.
async fn published(app: &TestApp, iupd: &str, options: &[&[i64]]) -> Vec<String> {
    let reply = app
        .call(
            Method::POST,
            &format!("{}?toPublish=true", app.positions()),
            Some(&position_body(iupd, options)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["paymentOption"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["nav"].as_str().unwrap().to_owned())
        .collect()
}

fn fault_of(fault: &Option<FaultBean>) -> &str {
    fault.as_ref().map_or("none", |f| f.fault_code.as_str())
}

async fn modello_3_end_to_end(backend: Backend) {
    let app = TestApp::start(backend).await;
    let notices = published(&app, "TARI-1", &[&[10_000, 2_050]]).await;
    let notice = &notices[0];

    let verified: VerifyResponse = call(
        &app,
        Operation::VerifyPaymentNotice,
        &verify_request(notice),
    )
    .await;
    assert_eq!(verified.outcome, "OK", "{:?}", verified.fault);
    let option = verified.payment_list.unwrap().option;
    assert_eq!(option.amount, "120.50");
    assert_eq!(
        option.due_date.as_deref(),
        Some("2030-01-29"),
        "Italian calendar day of 2030-01-28T23:59:59Z"
    );
    assert_eq!(verified.company_name.as_deref(), Some("Comune di Milano"));

    let got: GetPaymentResponse = call(&app, Operation::GetPaymentV2, &get_request(notice)).await;
    assert_eq!(got.outcome, "OK", "{:?}", got.fault);
    let data = got.data.unwrap();
    assert_eq!(data.payment_amount, "120.50");
    assert_eq!(data.creditor_reference_id, notice[1..]);
    let amounts: Vec<&str> = data
        .transfer_list
        .transfer
        .iter()
        .map(|t| t.transfer_amount.as_str())
        .collect();
    assert_eq!(amounts, ["100.00", "20.50"]);
    assert_eq!(
        data.transfer_list.transfer[0].transfer_category,
        "9/0101101IM/"
    );
    assert_eq!(data.debtor.unique_identifier.value, "RSSMRA85T10A562S");

    // A second PSP at the same time: in progress.
    let second: GetPaymentResponse =
        call(&app, Operation::GetPaymentV2, &get_request(notice)).await;
    assert_eq!(fault_of(&second.fault), "PAA_PAGAMENTO_IN_CORSO");

    let sent: SendRtResponse = call(
        &app,
        Operation::SendRtV2,
        &send_request(notice, "R-1", &data),
    )
    .await;
    assert_eq!(sent.outcome, "OK", "{:?}", sent.fault);
    let position = app
        .call(Method::GET, &format!("{}/TARI-1", app.positions()), None)
        .await;
    assert_eq!(position.body["status"], "PAID");
    assert_eq!(position.body["paymentOption"][0]["status"], "PO_PAID");
    assert_eq!(
        position.body["paymentOption"][0]["pspCompany"],
        Psp::default().company_name
    );

    // The node retries: the same answer, counted once.
    let again: SendRtResponse = call(
        &app,
        Operation::SendRtV2,
        &send_request(notice, "R-1", &data),
    )
    .await;
    assert_eq!(again.outcome, "OK");
    let other: SendRtResponse = call(
        &app,
        Operation::SendRtV2,
        &send_request(notice, "R-2", &data),
    )
    .await;
    assert_eq!(fault_of(&other.fault), "PAA_RECEIPT_DUPLICATA");
    let ente = app.ente.id;
    let receipts = app.store.receipts_of_notice(ente, notice).await.unwrap();
    assert_eq!(receipts.len(), 2, "the conflicting receipt is kept");
    assert!(receipts[0].raw_xml.contains("<receiptId>R-1</receiptId>"));

    let after: VerifyResponse = call(
        &app,
        Operation::VerifyPaymentNotice,
        &verify_request(notice),
    )
    .await;
    assert_eq!(fault_of(&after.fault), "PAA_PAGAMENTO_DUPLICATO");

    // Version 1 of getPayment and sendRT work the same way.
    let notices = published(&app, "TARI-2", &[&[5_000]]).await;
    let got: GetPaymentResponse =
        call(&app, Operation::GetPayment, &get_request(&notices[0])).await;
    let data = got.data.unwrap();
    let sent: SendRtResponse = call(
        &app,
        Operation::SendRt,
        &send_request(&notices[0], "R-3", &data),
    )
    .await;
    assert_eq!(sent.outcome, "OK", "{:?}", sent.fault);
}

async fn a_suspended_ente_takes_no_payment_but_keeps_its_receipts(backend: Backend) {
    let app = TestApp::start(backend).await;
    let notices = published(&app, "SOSP-1", &[&[3_000]]).await;
    let got: GetPaymentResponse =
        call(&app, Operation::GetPaymentV2, &get_request(&notices[0])).await;
    let data = got.data.expect("activated while the ente was active");
    let mut changes =
        cassa_testkit::new_ente(MILANO, &app.ente.name, app.ente.segregation_code.get());
    changes.iban = app
        .ente
        .iban
        .as_deref()
        .map(|i| cassa_core::Iban::parse(i).unwrap());
    app.store
        .update_ente(MILANO, &changes, false, "test", jiff::Timestamp::now())
        .await
        .unwrap();
    // No new payment starts...
    let verified: VerifyResponse = call(
        &app,
        Operation::VerifyPaymentNotice,
        &verify_request(&notices[0]),
    )
    .await;
    assert_eq!(fault_of(&verified.fault), "PAA_ID_DOMINIO_ERRATO");
    // ...but the citizen already paid: the receipt is taken and counts.
    let sent: SendRtResponse = call(
        &app,
        Operation::SendRtV2,
        &send_request(&notices[0], "R-SOSP", &data),
    )
    .await;
    assert_eq!(sent.outcome, "OK", "{:?}", sent.fault);
    let position = app
        .call(Method::GET, &format!("{}/SOSP-1", app.positions()), None)
        .await;
    assert_eq!(position.body["status"], "PAID", "{}", position.body);
}

async fn faults_follow_the_table(backend: Backend) {
    let app = TestApp::start(backend).await;
    let notices = published(&app, "RATE", &[&[100], &[200]]).await;
    let unknown = "302000000099999999";
    let mut cases: Vec<(VerifyRequest, FaultCode)> = Vec::new();
    cases.push((verify_request(unknown), FaultCode::PagamentoSconosciuto));
    let mut r = verify_request(&notices[0]);
    r.id_broker_pa = "99999999999".into();
    cases.push((r, FaultCode::IdIntermediarioErrato));
    let mut r = verify_request(&notices[0]);
    r.id_station = "80050050154_99".into();
    cases.push((r, FaultCode::StazioneIntErrata));
    let mut r = verify_request(&notices[0]);
    r.id_pa = "00000000000".into();
    r.qr_code.fiscal_code = "00000000000".into();
    cases.push((r, FaultCode::IdDominioErrato));
    let mut r = verify_request(&notices[0]);
    r.qr_code.notice_number = "3020".into();
    cases.push((r, FaultCode::SintassiExtraxsd));
    for (request, expected) in cases {
        let answer: VerifyResponse = call(&app, Operation::VerifyPaymentNotice, &request).await;
        assert_eq!(answer.outcome, "KO");
        let fault = answer.fault.unwrap();
        assert_eq!(fault.fault_code, expected.code(), "{fault:?}");
        assert_eq!(fault.fault_string, expected.fault_string());
        assert!(fault.description.is_some_and(|d| !d.is_empty()));
    }

    // A station the node knew the ente by before is accepted for that ente.
    let mut changes =
        cassa_testkit::new_ente(MILANO, &app.ente.name, app.ente.segregation_code.get());
    changes.iban = app
        .ente
        .iban
        .as_deref()
        .map(|i| cassa_core::Iban::parse(i).unwrap());
    changes.station_ids = vec!["80050050154_99".into()];
    app.store
        .update_ente(MILANO, &changes, true, "test", jiff::Timestamp::now())
        .await
        .unwrap();
    let mut r = verify_request(&notices[0]);
    r.id_station = "80050050154_99".into();
    let answer: VerifyResponse = call(&app, Operation::VerifyPaymentNotice, &r).await;
    assert_eq!(answer.outcome, "OK", "{:?}", answer.fault);

    // A draft is unknown to the node; an invalidated position is cancelled.
    let draft = app
        .call(
            Method::POST,
            &app.positions(),
            Some(&position_body("DRAFT", &[&[100]])),
        )
        .await;
    let draft_notice = draft.body["paymentOption"][0]["nav"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer: VerifyResponse = call(
        &app,
        Operation::VerifyPaymentNotice,
        &verify_request(&draft_notice),
    )
    .await;
    assert_eq!(fault_of(&answer.fault), "PAA_PAGAMENTO_SCONOSCIUTO");
    app.call(
        Method::POST,
        &format!("{}/RATE/invalidate", app.positions()),
        None,
    )
    .await;
    let answer: GetPaymentResponse =
        call(&app, Operation::GetPaymentV2, &get_request(&notices[1])).await;
    assert_eq!(fault_of(&answer.fault), "PAA_PAGAMENTO_ANNULLATO");

    // A receipt for a notice nobody issued is kept and answered SCONOSCIUTO.
    let notices = published(&app, "OTHER", &[&[700]]).await;
    let got: GetPaymentResponse =
        call(&app, Operation::GetPaymentV2, &get_request(&notices[0])).await;
    let data = got.data.unwrap();
    let stray: SendRtResponse = call(
        &app,
        Operation::SendRtV2,
        &send_request(unknown, "R-X", &data),
    )
    .await;
    assert_eq!(fault_of(&stray.fault), "PAA_PAGAMENTO_SCONOSCIUTO");
    assert_eq!(
        app.store
            .receipts_of_notice(app.ente.id, unknown)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn broken_requests_get_soap_faults(backend: Backend) {
    let app = TestApp::start(backend).await;
    let notices = published(&app, "P", &[&[100]]).await;
    let good = write_message(
        Operation::VerifyPaymentNotice.request_element(),
        &verify_request(&notices[0]),
    );
    let xxe = good
        .replacen(
            "<soapenv:Envelope",
            "<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><soapenv:Envelope",
            1,
        )
        .replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "");
    let bodies = vec![
        ("paVerifyPaymentNotice", "<not xml".to_owned()),
        ("paVerifyPaymentNotice", xxe),
        (
            "paVerifyPaymentNotice",
            good.replace(
                "pagopa-api.pagopa.gov.it/pa/paForNode.xsd",
                "example.org/other",
            ),
        ),
        (
            "paDemandPaymentNotice",
            good.replace("paVerifyPaymentNoticeReq", "paDemandPaymentNoticeRequest"),
        ),
        ("paGetPayment", good.clone()),
        (
            "paVerifyPaymentNotice",
            format!("{}{}", good, " ".repeat(1 << 20)),
        ),
        ("paVerifyPaymentNotice", String::new()),
    ];
    for (action, body) in bodies {
        let answer = soap(&app, action, body).await;
        assert_eq!(
            answer.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{}",
            answer.text
        );
        assert!(
            answer.text.contains("<soapenv:Fault>") && answer.text.contains("soapenv:Client"),
            "{}",
            answer.text
        );
        assert_valid_xml(
            &answer.text,
            &pagopa_api_dir().join("xsd-common/envelope.xsd"),
        );
        assert!(!answer.text.contains("root:"), "no file was read");
    }
    // Nothing was activated by any of them.
    let got: GetPaymentResponse =
        call(&app, Operation::GetPaymentV2, &get_request(&notices[0])).await;
    assert_eq!(got.outcome, "OK");
    let health = app.call_raw(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok", "the server survived them all");
}

async fn the_rest_of_the_fault_table(backend: Backend) {
    let app = TestApp::start(backend).await;

    // A revenue stamp cannot travel in version 1: PAA_SEMANTICA, and the
    // notice is not blocked for version 2.
    let mut body = position_body("BOLLO", &[&[10_000, 1_600]]);
    let stamp = &mut body["paymentOption"][0]["transfer"][1];
    stamp.as_object_mut().unwrap().remove("iban");
    stamp["stamp"] = json!({
        "hashDocument": "wHpFSLCGZjIvNSXxqtGbxg7275t446DRTk5ZrsdUQ6E=", "stampType": "01", "provincialResidence": "MI"
    });
    let created = app
        .call(
            Method::POST,
            &format!("{}?toPublish=true", app.positions()),
            Some(&body),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let notice = created.body["paymentOption"][0]["nav"]
        .as_str()
        .unwrap()
        .to_owned();
    let v1: GetPaymentResponse = call(&app, Operation::GetPayment, &get_request(&notice)).await;
    assert_eq!(fault_of(&v1.fault), "PAA_SEMANTICA");
    let v2: GetPaymentResponse = call(&app, Operation::GetPaymentV2, &get_request(&notice)).await;
    assert_eq!(v2.outcome, "OK", "{:?}", v2.fault);
    let stamped = v2.data.unwrap();
    let transfers = &stamped.transfer_list.transfer;
    assert!(transfers[1].stamp.is_some() && transfers[1].iban.is_none());

    // Past its due date, for an ente that refuses late payments: SCADUTO.
    // Stored directly, as it would have been created weeks ago.
    let weeks_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 21);
    let mut late = position_body("LATE", &[&[500]]);
    late["switchToExpired"] = json!(true);
    late["paymentOption"][0]["dueDate"] =
        json!((weeks_ago + jiff::SignedDuration::from_hours(24 * 7)).to_string());
    let request = cassa_pagopa::gpd::parse_body(late.to_string().as_bytes()).unwrap();
    let context = cassa_pagopa::gpd::EnteContext {
        fiscal_code: &app.ente.fiscal_code,
        segregation_code: app.ente.segregation_code,
    };
    let draft = cassa_pagopa::gpd::to_draft(request, context).unwrap();
    let stored = app
        .store
        .create_position(cassa_store::PositionWrite {
            ente: &app.ente,
            tipo_dovuto_id: None,
            draft: &draft,
            to_publish: true,
            origin: cassa_store::Origin::Api,
            actor: cassa_store::Actor {
                name: "test",
                request_id: None,
            },
            now: weeks_ago,
        })
        .await
        .unwrap();
    let expired: VerifyResponse = call(
        &app,
        Operation::VerifyPaymentNotice,
        &verify_request(&stored.options[0].notice_number),
    )
    .await;
    assert_eq!(fault_of(&expired.fault), "PAA_PAGAMENTO_SCADUTO");

    // The database gone: PAA_SYSTEM_ERROR, still a valid answer.
    app.store.close().await;
    let down: VerifyResponse = call(
        &app,
        Operation::VerifyPaymentNotice,
        &verify_request(&notice),
    )
    .await;
    assert_eq!(fault_of(&down.fault), "PAA_SYSTEM_ERROR");
    let down: SendRtResponse = call(
        &app,
        Operation::SendRtV2,
        &send_request(&notice, "R-9", &stamped),
    )
    .await;
    assert_eq!(fault_of(&down.fault), "PAA_SYSTEM_ERROR");
}

async fn get_pdf(app: &TestApp, path: &str) -> (StatusCode, Vec<u8>) {
    let response = app
        .client
        .get(format!("{}{}{path}", app.base, app.positions()))
        .header("Ocp-Apim-Subscription-Key", &app.key)
        .send()
        .await
        .unwrap();
    let status = response.status();
    if status == StatusCode::OK {
        assert_eq!(response.headers()["content-type"], "application/pdf");
    }
    (status, response.bytes().await.unwrap().to_vec())
}

/// The notice's QR code, read from its pixels, pays the right notice; once
/// paid, the receipt PDF carries the receipt's data and the notice is gone.
async fn notice_and_receipt_pdfs_over_the_api(backend: Backend) {
    use cassa_testkit::documents::{BarcodeFormat, decode, pdf_text, rasterise};
    let app = TestApp::start(backend).await;
    let notices = published(&app, "TARI-PDF", &[&[10_000, 2_050]]).await;
    let notice = &notices[0];

    let (status, pdf) = get_pdf(&app, "/TARI-PDF/notice").await;
    assert_eq!(status, StatusCode::OK);
    let dir = tempfile::tempdir().unwrap();
    let pages = rasterise(&pdf, dir.path(), "notice");
    assert_eq!(
        decode(&pages[0]),
        vec![(
            BarcodeFormat::QR_CODE,
            format!("PAGOPA|002|{notice}|{MILANO}|12050")
        )]
    );
    assert!(pdf_text(&pdf).contains("120,50"));

    let (status, _) = get_pdf(&app, "/TARI-PDF/receipt").await;
    assert_eq!(status, StatusCode::CONFLICT, "no receipt before payment");
    let (status, _) = get_pdf(&app, "/NO-SUCH/notice").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let got: GetPaymentResponse = call(&app, Operation::GetPaymentV2, &get_request(notice)).await;
    let data = got.data.unwrap();
    let sent: SendRtResponse = call(
        &app,
        Operation::SendRtV2,
        &send_request(notice, "R-PDF-1", &data),
    )
    .await;
    assert_eq!(sent.outcome, "OK", "{:?}", sent.fault);

    let (status, pdf) = get_pdf(&app, "/TARI-PDF/receipt").await;
    assert_eq!(status, StatusCode::OK);
    let text = pdf_text(&pdf);
    for expected in [
        "R-PDF-1",
        "120,50",
        "Mario Rossi",
        &Psp::default().company_name,
    ] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    let (status, _) = get_pdf(&app, "/TARI-PDF/notice").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a paid debt has nothing left to pay"
    );
}

/// A single payment of 300 € or three installments of 100 €; the last
/// installment's window opens the day before it is due.
async fn installable(app: &TestApp, iupd: &str) -> Vec<String> {
    let mut body = position_body(iupd, &[&[10_000], &[10_000], &[10_000]]);
    let whole = position_body(iupd, &[&[30_000]])["paymentOption"][0].clone();
    body["paymentOption"]
        .as_array_mut()
        .unwrap()
        .insert(0, whole);
    body["paymentOption"][3]["validFrom"] = json!("2030-03-27T00:00:00");
    let reply = app
        .call(
            Method::POST,
            &format!("{}?toPublish=true", app.positions()),
            Some(&body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    (0..4)
        .map(|i| {
            reply.body["paymentOption"][i]["nav"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn verify_fault(app: &TestApp, notice: &str) -> String {
    let answer: VerifyResponse =
        call(app, Operation::VerifyPaymentNotice, &verify_request(notice)).await;
    fault_of(&answer.fault).to_owned()
}

async fn paying_one_way_cancels_the_other_at_the_node(backend: Backend) {
    let app = TestApp::start(backend).await;
    // Both ways are open until one is paid; a window not yet open is refused.
    let plan = installable(&app, "ONE-WAY-1").await;
    assert_eq!(verify_fault(&app, &plan[0]).await, "none");
    assert_eq!(verify_fault(&app, &plan[1]).await, "none");
    assert_eq!(
        verify_fault(&app, &plan[3]).await,
        "PAA_PAGAMENTO_SCONOSCIUTO"
    );

    // The first installment paid: the single payment is cancelled.
    app.pay_at_psp(MILANO, &plan[1]).await;
    assert_eq!(
        verify_fault(&app, &plan[0]).await,
        "PAA_PAGAMENTO_ANNULLATO"
    );
    assert_eq!(
        verify_fault(&app, &plan[1]).await,
        "PAA_PAGAMENTO_DUPLICATO"
    );
    assert_eq!(verify_fault(&app, &plan[2]).await, "none");

    // Paid at once: every installment is cancelled.
    let other = installable(&app, "ONE-WAY-2").await;
    app.pay_at_psp(MILANO, &other[0]).await;
    for installment in &other[1..] {
        assert_eq!(
            verify_fault(&app, installment).await,
            "PAA_PAGAMENTO_ANNULLATO"
        );
    }
}

/// A receipt for a real notice and amount, sent without the secret, with
/// a wrong one or from outside the allowed networks, is refused with 403
/// and a SOAP Fault, changes nothing and is counted; pagoPA's call passes.
async fn only_pagopa_passes_the_fence(backend: Backend) {
    let app = TestApp::start(backend).await;
    let notice = published(&app, "FENCE-1", &[&[10000]]).await.remove(0);
    let activated: GetPaymentResponse =
        call(&app, Operation::GetPaymentV2, &get_request(&notice)).await;
    let data = activated.data.expect("activated");
    let forged = write_message(
        Operation::SendRtV2.request_element(),
        &send_request(&notice, "forged-receipt-1", &data),
    );
    let action = Operation::SendRtV2.soap_action();
    for headers in [
        &[][..],
        &[("Ocp-Apim-Subscription-Key", "not-the-node-secret-0000")][..],
        &[("X-Other-Header", crate::NODE_SECRET)][..],
    ] {
        let answer = soap_with(&app, action, forged.clone(), headers).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(
            answer.text.contains("<faultcode>") && answer.text.contains("not authorised"),
            "{}",
            answer.text
        );
        assert_valid_xml(
            &answer.text,
            &pagopa_api_dir().join("xsd-common/envelope.xsd"),
        );
    }
    assert!(
        app.store
            .receipts_of_notice(app.ente.id, &notice)
            .await
            .unwrap()
            .is_empty()
    );
    let position = app
        .store
        .position(app.ente.id, "FENCE-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(position.status.code(), "VALID", "nothing was paid");
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .bearer_auth(crate::METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("cassa_node_refused_total{reason=\"secret\"}"),
        "{metrics}"
    );
    // The same receipt from pagoPA, with the secret, pays it.
    let answer = soap(&app, action, forged).await;
    let sent: SendRtResponse = valid(&answer, Operation::SendRtV2);
    assert_eq!(sent.outcome, "OK");
    let position = app
        .store
        .position(app.ente.id, "FENCE-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(position.status.code(), "PAID");

    // Fenced by network: loopback is not in 10.0.0.0/8, whatever it sends;
    // a trusted proxy's X-Forwarded-For is believed, anyone else's is not.
    let fence = || cassa_web::node::NodeFence {
        allowed_networks: "10.0.0.0/8".parse().unwrap(),
        ..Default::default()
    };
    let verify = write_message(
        Operation::VerifyPaymentNotice.request_element(),
        &verify_request("302000000000000000"),
    );
    let verify_action = Operation::VerifyPaymentNotice.soap_action();
    let direct = TestApp::start_fenced(backend, fence(), "").await;
    for headers in [&[][..], &[("X-Forwarded-For", "10.1.2.3")][..]] {
        let answer = soap_with(&direct, verify_action, verify.clone(), headers).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    let proxied = TestApp::start_fenced(backend, fence(), "127.0.0.1").await;
    let answer = soap_with(
        &proxied,
        verify_action,
        verify.clone(),
        &[("X-Forwarded-For", "10.1.2.3")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let answer = soap_with(
        &proxied,
        verify_action,
        verify.clone(),
        &[("X-Forwarded-For", "192.0.2.1")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    // A client's own Forwarded header, passed on by the proxy beside the
    // X-Forwarded-For it appends, names nobody.
    let answer = soap_with(
        &proxied,
        verify_action,
        verify.clone(),
        &[
            ("Forwarded", "for=10.1.2.3"),
            ("X-Forwarded-For", "192.0.2.1"),
        ],
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    // Nothing configured: every call is refused.
    let closed = TestApp::start_fenced(backend, cassa_web::node::NodeFence::default(), "").await;
    let answer = soap_with(
        &closed,
        verify_action,
        verify,
        &[("Ocp-Apim-Subscription-Key", crate::NODE_SECRET)],
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.text.contains("not configured"), "{}", answer.text);
}

/// A fee or a payment time we cannot read is refused with the field's
/// name, not dropped: the receipt is stored only when the node sends it
/// readable.
async fn unreadable_receipt_fields_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let notice = published(&app, "FIELDS-1", &[&[10000]]).await.remove(0);
    let activated: GetPaymentResponse =
        call(&app, Operation::GetPaymentV2, &get_request(&notice)).await;
    let data = activated.data.unwrap();
    type Break = fn(&mut SendRtRequest);
    let breaks: [(&str, Break); 2] = [
        ("receipt.fee", |r: &mut SendRtRequest| {
            r.receipt.fee = Some("1,00".into())
        }),
        ("receipt.paymentDateTime", |r: &mut SendRtRequest| {
            r.receipt.payment_date_time = Some("yesterday".into())
        }),
    ];
    for (field, broken) in breaks {
        let mut request = send_request(&notice, "R-FIELDS", &data);
        broken(&mut request);
        let answer: SendRtResponse = call(&app, Operation::SendRtV2, &request).await;
        assert_eq!(fault_of(&answer.fault), "PAA_SINTASSI_EXTRAXSD", "{field}");
        let description = answer.fault.unwrap().description.unwrap_or_default();
        assert!(description.contains(field), "{description}");
    }
    assert!(
        app.store
            .receipts_of_notice(app.ente.id, &notice)
            .await
            .unwrap()
            .is_empty()
    );
    let ok: SendRtResponse = call(
        &app,
        Operation::SendRtV2,
        &send_request(&notice, "R-FIELDS", &data),
    )
    .await;
    assert_eq!(ok.outcome, "OK");
}

/// While a PSP holds an activation, the ente's software cannot update,
/// delete or cancel the debt: 409 naming the notice being paid; the
/// payment then ends normally.
async fn the_ente_waits_for_a_payment_in_progress(backend: Backend) {
    let app = TestApp::start(backend).await;
    let notice = published(&app, "WAIT-1", &[&[10000]]).await.remove(0);
    let activated: GetPaymentResponse =
        call(&app, Operation::GetPaymentV2, &get_request(&notice)).await;
    let data = activated.data.expect("activated");
    let path = format!("{}/WAIT-1", app.positions());
    let changed = position_body("WAIT-1", &[&[12000]]);
    for reply in [
        app.call(Method::PUT, &path, Some(&changed)).await,
        app.call(Method::DELETE, &path, None).await,
        app.call(Method::POST, &format!("{path}/invalidate"), None)
            .await,
    ] {
        assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
        assert_eq!(
            reply.body["title"],
            "A payment of the debt position is in progress"
        );
        assert!(
            reply.body["detail"].as_str().unwrap().contains(&notice),
            "{}",
            reply.body
        );
    }
    let sent: SendRtResponse = call(
        &app,
        Operation::SendRtV2,
        &send_request(&notice, "R-WAIT", &data),
    )
    .await;
    assert_eq!(sent.outcome, "OK");
    let position = app
        .store
        .position(app.ente.id, "WAIT-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(position.status.code(), "PAID");
    assert_eq!(position.options[0].amount.get(), 10000, "the amount paid");
}
