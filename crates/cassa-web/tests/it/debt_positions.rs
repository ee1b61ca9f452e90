use cassa_testkit::{Backend, backend_tests};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::contract::assert_conforms;
use crate::{TestApp, position_body};

const LIST: &str = "/organizations/{organizationfiscalcode}/debtpositions";
const ONE: &str = "/organizations/{organizationfiscalcode}/debtpositions/{iupd}";
const PUBLISH: &str = "/organizations/{organizationfiscalcode}/debtpositions/{iupd}/publish";
const INVALIDATE: &str = "/organizations/{organizationfiscalcode}/debtpositions/{iupd}/invalidate";
const TRANSFERS: &str = "/organizations/{organizationfiscalcode}/debtpositions/transfers";

backend_tests!(
    every_operation_answers_as_the_contract_says,
    generated_and_supplied_iuvs,
    list_filters_and_pages,
    refusals_follow_the_status_machine,
);

/// Walks every implemented operation, success and failure, validating each
/// answer against the official gpd.json.
async fn every_operation_answers_as_the_contract_says(backend: Backend) {
    let app = TestApp::start(backend).await;
    let base = app.positions();

    let created = app
        .call(
            Method::POST,
            &base,
            Some(&position_body("TARI-1", &[&[10_000, 2_050]])),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_conforms("POST", LIST, 201, &created.body);
    assert_eq!(created.body["status"], "DRAFT");
    assert!(created.headers.contains_key("x-request-id"));

    let duplicate = app
        .call(
            Method::POST,
            &base,
            Some(&position_body("TARI-1", &[&[100]])),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_conforms("POST", LIST, 409, &duplicate.body);

    let bad = app
        .call(Method::POST, &base, Some(&json!({"iupd": "X"})))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_conforms("POST", LIST, 400, &bad.body);

    let one = app.call(Method::GET, &format!("{base}/TARI-1"), None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_conforms("GET", ONE, 200, &one.body);
    assert_eq!(one.body["organizationFiscalCode"], app.ente.fiscal_code);
    assert_eq!(one.body["paymentOption"][0]["transfer"][1]["amount"], 2050);

    let missing = app.call(Method::GET, &format!("{base}/NOPE"), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_conforms("GET", ONE, 404, &missing.body);

    let list = app
        .call(
            Method::GET,
            &format!("{base}?limit=5&page=0&orderby=IUPD&ordering=ASC"),
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_conforms("GET", LIST, 200, &list.body);
    let bad_list = app
        .call(Method::GET, &format!("{base}?limit=500"), None)
        .await;
    assert_conforms("GET", LIST, 400, &bad_list.body);

    let mut changed = position_body("TARI-1", &[&[12_050]]);
    changed["fullName"] = json!("Maria Bianchi");
    let updated = app
        .call(
            Method::PUT,
            &format!("{base}/TARI-1?toPublish=false"),
            Some(&changed),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_conforms("PUT", ONE, 200, &updated.body);
    assert_eq!(updated.body["fullName"], "Maria Bianchi");
    assert_eq!(
        updated.body["paymentOption"][0]["iuv"],
        created.body["paymentOption"][0]["iuv"]
    );
    let mismatch = app
        .call(Method::PUT, &format!("{base}/OTHER"), Some(&changed))
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert_conforms("PUT", ONE, 400, &mismatch.body);
    let absent = app
        .call(
            Method::PUT,
            &format!("{base}/ABSENT"),
            Some(&position_body("ABSENT", &[&[1]])),
        )
        .await;
    assert_eq!(absent.status, StatusCode::NOT_FOUND);
    assert_conforms("PUT", ONE, 404, &absent.body);

    let published = app
        .call(Method::POST, &format!("{base}/TARI-1/publish"), None)
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    assert_conforms("POST", PUBLISH, 200, &published.body);
    assert_eq!(published.body["status"], "VALID");
    let again = app
        .call(Method::POST, &format!("{base}/TARI-1/publish"), None)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_conforms("POST", PUBLISH, 409, &again.body);
    let absent = app
        .call(Method::POST, &format!("{base}/ABSENT/publish"), None)
        .await;
    assert_conforms("POST", PUBLISH, 404, &absent.body);

    let transfers = app
        .call(
            Method::PATCH,
            &format!("{base}/transfers?oldIban=IT60X0542811101000000123456"),
            Some(&json!({ "newIban": "IT28H0306909606100000063197" })),
        )
        .await;
    assert_eq!(transfers.status, StatusCode::OK, "{}", transfers.body);
    assert_conforms("PATCH", TRANSFERS, 200, &transfers.body);
    assert_eq!(
        transfers.body,
        json!({ "description": "Updated IBAN on 1 Transfers", "updatedTransfers": 1 })
    );
    let no_old = app
        .call(
            Method::PATCH,
            &format!("{base}/transfers"),
            Some(&json!({ "newIban": "x" })),
        )
        .await;
    assert_eq!(no_old.status, StatusCode::BAD_REQUEST);
    assert_conforms("PATCH", TRANSFERS, 400, &no_old.body);

    let invalidated = app
        .call(Method::POST, &format!("{base}/TARI-1/invalidate"), None)
        .await;
    assert_eq!(invalidated.status, StatusCode::OK);
    assert_conforms("POST", INVALIDATE, 200, &invalidated.body);
    assert_eq!(invalidated.body["status"], "INVALID");
    let again = app
        .call(Method::POST, &format!("{base}/TARI-1/invalidate"), None)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_conforms("POST", INVALIDATE, 409, &again.body);
    let absent = app
        .call(Method::POST, &format!("{base}/ABSENT/invalidate"), None)
        .await;
    assert_conforms("POST", INVALIDATE, 404, &absent.body);

    let deleted = app
        .call(Method::DELETE, &format!("{base}/TARI-1"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_conforms("DELETE", ONE, 200, &deleted.body);
    assert_eq!(deleted.body, "The debt position was successfully deleted");
    let gone = app
        .call(Method::DELETE, &format!("{base}/TARI-1"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_conforms("DELETE", ONE, 404, &gone.body);
}

async fn generated_and_supplied_iuvs(backend: Backend) {
    let app = TestApp::start(backend).await;
    let base = app.positions();
    let created = app
        .call(
            Method::POST,
            &format!("{base}?toPublish=true"),
            Some(&position_body("RATE", &[&[100], &[100], &[100]])),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["status"], "VALID");
    for option in created.body["paymentOption"].as_array().unwrap() {
        let iuv = option["iuv"].as_str().unwrap();
        assert!(iuv.starts_with("02") && iuv.len() == 17, "{iuv}");
        assert_eq!(option["nav"].as_str().unwrap(), format!("3{iuv}"));
    }
    let mut supplied = position_body("OWN", &[&[100]]);
    supplied["paymentOption"][0]["iuv"] = json!("02000000050000022");
    let created = app.call(Method::POST, &base, Some(&supplied)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["paymentOption"][0]["nav"],
        "302000000050000022"
    );
    // The same IUV again, in another position: refused, nothing written.
    supplied["iupd"] = json!("OWN-2");
    let dup = app.call(Method::POST, &base, Some(&supplied)).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert!(
        dup.body["detail"]
            .as_str()
            .unwrap()
            .contains("the IUV 02000000050000022 is already used")
    );
    let missing = app.call(Method::GET, &format!("{base}/OWN-2"), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // A supplied IUV equal to one cassa generated is refused the same way.
    let generated = &app
        .call(Method::GET, &format!("{base}/RATE"), None)
        .await
        .body["paymentOption"][0]["iuv"];
    supplied["iupd"] = json!("OWN-3");
    supplied["paymentOption"][0]["iuv"] = generated.clone();
    let clash = app.call(Method::POST, &base, Some(&supplied)).await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.body);
}

async fn list_filters_and_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let base = app.positions();
    for i in 0..12 {
        let mut body = position_body(&format!("L{i:02}"), &[&[100 + i]]);
        body["paymentOption"][0]["dueDate"] = json!(format!("2030-01-{:02}T12:00:00Z", i + 1));
        let publish = if i % 3 == 0 { "?toPublish=true" } else { "" };
        let r = app
            .call(Method::POST, &format!("{base}{publish}"), Some(&body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let page = app
        .call(
            Method::GET,
            &format!("{base}?limit=5&page=2&orderby=IUPD&ordering=ASC"),
            None,
        )
        .await;
    assert_eq!(
        page.body["page_info"],
        json!({ "page": 2, "limit": 5, "items_found": 2, "total_pages": 3 })
    );
    let iupds: Vec<&str> = page.body["payment_position_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["iupd"].as_str().unwrap())
        .collect();
    assert_eq!(iupds, ["L10", "L11"]);

    let valid = app
        .call(Method::GET, &format!("{base}?status=VALID&limit=50"), None)
        .await;
    assert_eq!(
        valid.body["payment_position_list"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let due = app
        .call(
            Method::GET,
            &format!(
                "{base}?due_date_from=2030-01-03&due_date_to=2030-01-05&orderby=IUPD&ordering=ASC"
            ),
            None,
        )
        .await;
    let iupds: Vec<&str> = due.body["payment_position_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["iupd"].as_str().unwrap())
        .collect();
    assert_eq!(iupds, ["L02", "L03", "L04"]);

    let exclusive = app
        .call(
            Method::GET,
            &format!("{base}?due_date_from=2030-01-03&payment_date_from=2030-01-05"),
            None,
        )
        .await;
    assert_eq!(exclusive.status, StatusCode::BAD_REQUEST);
    assert_eq!(exclusive.body["title"], "Exclusive Parameters");
    let too_long = app
        .call(
            Method::GET,
            &format!("{base}?due_date_from=2030-01-01&due_date_to=2030-03-01"),
            None,
        )
        .await;
    assert_eq!(
        too_long.body["title"],
        "The debt positions cannot be recovered"
    );
}

async fn refusals_follow_the_status_machine(backend: Backend) {
    let app = TestApp::start(backend).await;
    let base = app.positions();
    let mut body = position_body("FUTURE", &[&[100]]);
    body["validityDate"] = json!("2029-01-01T00:00:00Z");
    let created = app
        .call(Method::POST, &format!("{base}?toPublish=true"), Some(&body))
        .await;
    assert_eq!(created.body["status"], "PUBLISHED");
    let draft = app
        .call(
            Method::POST,
            &base,
            Some(&position_body("DRAFT", &[&[100]])),
        )
        .await;
    assert_eq!(draft.body["status"], "DRAFT");
    let invalidate_draft = app
        .call(Method::POST, &format!("{base}/DRAFT/invalidate"), None)
        .await;
    assert_eq!(invalidate_draft.status, StatusCode::CONFLICT);
    assert_eq!(
        invalidate_draft.body["title"],
        "Existing related payment found or not in invalidable state"
    );
    let invalid = app
        .call(Method::POST, &format!("{base}/FUTURE/invalidate"), None)
        .await;
    assert_eq!(invalid.body["status"], "INVALID");
    let update = app
        .call(Method::PUT, &format!("{base}/FUTURE"), Some(&body))
        .await;
    assert_eq!(update.status, StatusCode::CONFLICT);
    assert_eq!(
        update.body["title"],
        "Existing related payment found or not in updatable state"
    );
    let stored: Value = app
        .call(Method::GET, &format!("{base}/FUTURE"), None)
        .await
        .body;
    assert_eq!(stored["status"], "INVALID");
}
