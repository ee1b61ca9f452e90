//! Bad input: a GPD error body naming the field and the reason, never a
//! 500, and nothing written.

use cassa_testkit::{Backend, backend_tests};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::contract::assert_conforms;
use crate::{TestApp, position_body};

const LIST: &str = "/organizations/{organizationfiscalcode}/debtpositions";

backend_tests!(malformed_bodies_are_400, each_bad_field_is_named);

async fn malformed_bodies_are_400(backend: Backend) {
    let app = TestApp::start(backend).await;
    let bodies: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"not json at all".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        b"[]".to_vec(),
        b"null".to_vec(),
        Vec::new(),
        br#"{"iupd": 12}"#.to_vec(),
        br#"{"iupd":"A","paymentOption":[{"amount":"ten"}]}"#.to_vec(),
        br#"{"iupd":"A","paymentOption":[{"amount":100.5}]}"#.to_vec(),
        br#"{"iupd":"A","paymentOption":[{"amount":1e30}]}"#.to_vec(),
        "{\"iupd\":\"\u{0}\"}".as_bytes().to_vec(),
    ];
    for body in bodies {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let reply = app
            .call_raw(Method::POST, &app.positions(), Some(&app.key), Some(body))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "body {shown:?} answered {}",
            reply.body
        );
        assert_conforms("POST", LIST, 400, &reply.body);
        assert!(!reply.body["detail"].as_str().unwrap().is_empty());
    }
    let typed = app
        .call_raw(
            Method::POST,
            &app.positions(),
            Some(&app.key),
            Some(br#"{"iupd": 12}"#.to_vec()),
        )
        .await;
    assert!(
        typed.body["detail"].as_str().unwrap().contains("iupd"),
        "{}",
        typed.body
    );
    let nested = app
        .call_raw(
            Method::POST,
            &app.positions(),
            Some(&app.key),
            Some(br#"{"iupd":"A","paymentOption":[{"amount":"ten"}]}"#.to_vec()),
        )
        .await;
    assert!(
        nested.body["detail"]
            .as_str()
            .unwrap()
            .contains("paymentOption[0].amount"),
        "{}",
        nested.body
    );
    // A PUT with garbage, and a query string with garbage, are 400s too.
    let put = app
        .call_raw(
            Method::PUT,
            &format!("{}/X", app.positions()),
            Some(&app.key),
            Some(b"{".to_vec()),
        )
        .await;
    assert_eq!(put.status, StatusCode::BAD_REQUEST);
    let query = app
        .call(
            Method::GET,
            &format!("{}?limit=abc&page=-1", app.positions()),
            None,
        )
        .await;
    assert_eq!(query.status, StatusCode::BAD_REQUEST);
    assert_conforms("GET", LIST, 400, &query.body);
    assert_nothing_written(&app).await;
}

/// Applies `change` to a valid body and expects a 400 whose detail names
/// `field` and contains `reason`.
async fn expect_refused(app: &TestApp, change: impl FnOnce(&mut Value), field: &str, reason: &str) {
    let mut body = position_body("BAD", &[&[10_000, 2_050]]);
    change(&mut body);
    let reply = app.call(Method::POST, &app.positions(), Some(&body)).await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{field}: {}",
        reply.body
    );
    assert_conforms("POST", LIST, 400, &reply.body);
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(
        detail.contains(field) && detail.contains(reason),
        "expected {field} / {reason} in {detail:?}"
    );
}

async fn each_bad_field_is_named(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t0 = "paymentOption[0].transfer[0]";
    expect_refused(
        &app,
        |b| b["fiscalCode"] = json!("RSSMRA85T10A562X"),
        "fiscalCode",
        "not a valid codice fiscale",
    )
    .await;
    expect_refused(
        &app,
        |b| b["paymentOption"][0]["transfer"][0]["iban"] = json!("IT60X0542811101000000123457"),
        &format!("{t0}.iban"),
        "not a valid IBAN",
    )
    .await;
    expect_refused(
        &app,
        |b| {
            b["paymentOption"][0]["transfer"][0]["postalIban"] =
                json!("IT60X0542811101000000123456")
        },
        &format!("{t0}.postalIban"),
        "postal",
    )
    .await;
    expect_refused(
        &app,
        |b| b["paymentOption"][0]["transfer"][0]["category"] = json!("9/0101100XX/"),
        &format!("{t0}.category"),
        "taxonomy",
    )
    .await;
    expect_refused(
        &app,
        |b| b["paymentOption"][0]["transfer"][0]["category"] = json!("9/9999999IM/"),
        &format!("{t0}.category"),
        "catalogue",
    )
    .await;
    expect_refused(
        &app,
        |b| {
            b["paymentOption"][0]["amount"] = json!(0);
            b["paymentOption"][0]["transfer"] =
                json!([b["paymentOption"][0]["transfer"][0].clone()]);
            b["paymentOption"][0]["transfer"][0]["amount"] = json!(0);
        },
        "paymentOption[0].amount",
        "minimum amount is 1 eurocent",
    )
    .await;
    expect_refused(
        &app,
        |b| {
            b["paymentOption"][0]["amount"] = json!(100_000_000_000_i64);
            b["paymentOption"][0]["transfer"][0]["amount"] = json!(100_000_000_000_i64 - 2_050);
        },
        "paymentOption[0].amount",
        "999",
    )
    .await;
    expect_refused(
        &app,
        |b| b["paymentOption"][0]["amount"] = json!(12_000),
        "paymentOption[0]",
        "12050",
    )
    .await;
    expect_refused(
        &app,
        |b| {
            let t = b["paymentOption"][0]["transfer"][0].clone();
            let transfers: Vec<Value> = (1..=6)
                .map(|i| {
                    let mut t = t.clone();
                    t["idTransfer"] = json!(i.to_string());
                    t["amount"] = json!(100);
                    t
                })
                .collect();
            b["paymentOption"][0]["amount"] = json!(600);
            b["paymentOption"][0]["transfer"] = json!(transfers);
        },
        "paymentOption[0].transfer",
        "5",
    )
    .await;
    expect_refused(
        &app,
        |b| b["paymentOption"][0]["iuv"] = json!("01000000000000184"),
        "paymentOption[0].iuv",
        "segregation",
    )
    .await;
    expect_refused(
        &app,
        |b| b["paymentOption"][0]["iuv"] = json!("02000000000000185"),
        "paymentOption[0].iuv",
        "check digits",
    )
    .await;
    expect_refused(
        &app,
        |b| b["paymentOption"][0]["dueDate"] = json!("2001-01-01T00:00:00Z"),
        "paymentOption[0].dueDate",
        "due_date",
    )
    .await;
    expect_refused(
        &app,
        |b| b["iupd"] = json!("bad/iupd"),
        "iupd",
        "may contain only letters",
    )
    .await;
    assert_nothing_written(&app).await;
}

async fn assert_nothing_written(app: &TestApp) {
    let list = app
        .call(Method::GET, &format!("{}?limit=50", app.positions()), None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body["payment_position_list"],
        json!([]),
        "a refused request wrote something"
    );
}
