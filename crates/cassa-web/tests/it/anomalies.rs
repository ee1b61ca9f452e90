//! Anomalies over the API and in the back office: a second payment of a
//! paid notice is listed with its reason, payer and XML, handled once with
//! a note by someone who may, and seen handled everywhere.

use cassa_core::access::Role;
use cassa_pagopa::node::Operation;
use cassa_pagopa::node::model::{GetPaymentRequest, GetPaymentResponse, QrCode, SendRtRequest};
use cassa_pagopa::node::soap::{read_message, write_message};
use cassa_testkit::{Backend, backend_tests};
use reqwest::{Method, StatusCode};

use crate::backoffice::{logged_in, on, operator, session_token};
use crate::portal::{page, post};
use crate::{MILANO, NODE_SECRET, REGIONE, TestApp, create_ente, position_body};

backend_tests!(a_second_payment_is_listed_and_handled_once);

/// A SOAP call to the node endpoint with pagoPA's secret; the answer text.
async fn node(app: &TestApp, operation: Operation, body: String) -> String {
    app.client
        .post(format!("{}/pagopa/paForNode", app.base))
        .header("content-type", "text/xml; charset=utf-8")
        .header("SOAPAction", operation.soap_action())
        .header("Ocp-Apim-Subscription-Key", NODE_SECRET)
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn a_second_payment_is_listed_and_handled_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let created = app
        .call(
            Method::POST,
            &format!("{}?toPublish=true", app.positions()),
            Some(&position_body("ANOM-1", &[&[10_000]])),
        )
        .await;
    let notice = created.body["paymentOption"][0]["nav"]
        .as_str()
        .unwrap()
        .to_owned();
    // A PSP activates and pays it; then a receipt for it comes again, as
    // a new payment.
    let activation = GetPaymentRequest {
        id_pa: MILANO.into(),
        id_broker_pa: "80050050154".into(),
        id_station: "80050050154_01".into(),
        qr_code: QrCode {
            fiscal_code: MILANO.into(),
            notice_number: notice.clone(),
        },
        amount: None,
        payment_note: None,
        transfer_type: None,
        due_date: None,
    };
    let answer = node(
        &app,
        Operation::GetPaymentV2,
        write_message(Operation::GetPaymentV2.request_element(), &activation),
    )
    .await;
    let activated: GetPaymentResponse = read_message(
        answer.as_bytes(),
        Operation::GetPaymentV2.response_element(),
    )
    .unwrap();
    let data = activated.data.expect("activated");
    let receipt = |id: &str| -> SendRtRequest {
        let mut r = pagopa_sim::flow::receipt_for(
            &crate::station(&app.base),
            &pagopa_sim::Psp::default(),
            MILANO,
            &notice,
            &data,
            id,
        );
        if let Some(payer) = r.receipt.payer.as_mut() {
            payer.email = Some("pagatore@example.org".into());
        }
        r
    };
    let first = node(
        &app,
        Operation::SendRtV2,
        write_message(
            Operation::SendRtV2.request_element(),
            &receipt("RT-FIRST-1"),
        ),
    )
    .await;
    assert!(first.contains("<outcome>OK</outcome>"), "{first}");
    let second = receipt("RT-SECOND-1");
    let answer = node(
        &app,
        Operation::SendRtV2,
        write_message(Operation::SendRtV2.request_element(), &second),
    )
    .await;
    assert!(answer.contains("PAA_RECEIPT_DUPLICATA"), "{answer}");

    // Over the API, for this ente only.
    let listed = app
        .call(
            Method::GET,
            &format!("/organizations/{MILANO}/anomalies?handled=false"),
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let items = listed.body.as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", listed.body);
    assert_eq!(items[0]["status"], "double_payment");
    assert_eq!(items[0]["receiptId"], "RT-SECOND-1");
    assert!(items[0].get("rawXml").is_none());
    let id = items[0]["id"].as_i64().unwrap();
    let one = app
        .call(
            Method::GET,
            &format!("/organizations/{MILANO}/anomalies/{id}"),
            None,
        )
        .await;
    assert!(one.body["rawXml"].as_str().unwrap().contains("RT-SECOND-1"));
    let (regione, regione_key) = create_ente(&app.store, REGIONE, "Regione Lombardia", 1).await;
    let theirs = app
        .call_raw(
            Method::GET,
            &format!("/organizations/{REGIONE}/anomalies/{id}"),
            Some(&regione_key),
            None,
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "another ente's");

    // In the back office: a read-only operator sees it, cannot handle it.
    operator(&app.store, "lettore", on(app.ente.id, Role::ReadOnly)).await;
    operator(&app.store, "operatore", on(app.ente.id, Role::Operator)).await;
    operator(&app.store, "altrove", on(regione.id, Role::EnteAdmin)).await;
    let reader = logged_in(&app, "lettore").await;
    let list = page(&reader, &format!("{}/backoffice/anomalie", app.base)).await;
    assert!(list.contains("Pagamento doppio"), "{list}");
    assert!(list.contains(&notice));
    let detail_url = format!("{}/backoffice/enti/{MILANO}/anomalie/{id}", app.base);
    let detail = page(&reader, &detail_url).await;
    assert!(
        detail.contains("pagatore@example.org"),
        "the payer's e-mail"
    );
    assert!(
        detail.contains("RT-SECOND-1")
            && detail.contains("paSendRTV2Req")
            && !detail.contains("<soapenv"),
        "the XML, escaped: {detail}"
    );
    assert!(
        !detail.contains("name=\"note\""),
        "no form for a read-only operator"
    );
    let csrf = session_token(&reader, &app.base).await;
    let refused = post(
        &reader,
        &detail_url,
        &[("csrf", csrf.as_str()), ("note", "x")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let elsewhere = logged_in(&app, "altrove").await;
    let hidden = elsewhere.get(&detail_url).send().await.unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let theirs = page(&elsewhere, &format!("{}/backoffice/anomalie", app.base)).await;
    assert!(
        !theirs.contains(&notice),
        "another ente's operator does not see it"
    );

    // The operator handles it: a note is required, then it is done once.
    let op = logged_in(&app, "operatore").await;
    let csrf = session_token(&op, &app.base).await;
    let empty = post(&op, &detail_url, &[("csrf", csrf.as_str()), ("note", " ")]).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty
            .text()
            .await
            .unwrap()
            .contains("Scrivi cosa è stato fatto")
    );
    let done = post(
        &op,
        &detail_url,
        &[
            ("csrf", csrf.as_str()),
            ("note", "Rimborso disposto, mandato 42"),
        ],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let again = post(
        &op,
        &detail_url,
        &[("csrf", csrf.as_str()), ("note", "di nuovo")],
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let handled = app
        .call(
            Method::GET,
            &format!("/organizations/{MILANO}/anomalies?handled=true"),
            None,
        )
        .await;
    assert_eq!(
        handled.body[0]["handledNote"],
        "Rimborso disposto, mandato 42"
    );
    assert_eq!(handled.body[0]["handledBy"], "operator:operatore");
    let open = page(&op, &format!("{}/backoffice/anomalie", app.base)).await;
    assert!(open.contains("Nessuna anomalia"), "none left to handle");
}
