//! Bulk printing over the API: start a job, follow it to DONE, download
//! the ZIP and read a notice's QR code back from it.

use std::io::Read;
use std::time::Duration;

use cassa_testkit::documents::{BarcodeFormat, decode, rasterise};
use cassa_testkit::{Backend, backend_tests};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{MILANO, REGIONE, TestApp, create_ente, position_body};

backend_tests!(
    a_bulk_print_runs_in_the_background_and_its_zip_downloads,
    bad_bulk_requests_are_refused_and_jobs_stay_with_their_ente,
);

fn jobs(app: &TestApp) -> String {
    format!("/organizations/{}/jobs", app.ente.fiscal_code)
}

async fn publish(app: &TestApp, iupd: &str, cents: i64) {
    let reply = app
        .call(
            Method::POST,
            &format!("{}?toPublish=true", app.positions()),
            Some(&position_body(iupd, &[&[cents]])),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

/// Polls the job until it ends.
async fn wait_for(app: &TestApp, location: &str) -> Value {
    for _ in 0..500 {
        let reply = app.call(Method::GET, location, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        if matches!(reply.body["state"].as_str(), Some("DONE" | "FAILED")) {
            return reply.body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the job did not end");
}

async fn a_bulk_print_runs_in_the_background_and_its_zip_downloads(backend: Backend) {
    let app = TestApp::start(backend).await;
    for (i, cents) in [1_500, 2_500, 3_500].iter().enumerate() {
        publish(&app, &format!("BULK-{i}"), *cents).await;
    }
    // A draft is not printed.
    let reply = app
        .call(
            Method::POST,
            &app.positions(),
            Some(&position_body("DRAFT", &[&[100]])),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);

    let reply = app
        .call(
            Method::POST,
            &format!("{}/bulk-notices", jobs(&app)),
            Some(&json!({})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let location = reply.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("{}/{}", jobs(&app), reply.body["id"]));
    assert_eq!(reply.body["kind"], "bulk_notices");
    assert_eq!(reply.body["request"]["format"], "PDF_PER_POSITION");

    let job = wait_for(&app, &location).await;
    assert_eq!(job["state"], "DONE", "{job}");
    assert_eq!(
        job["progress"],
        json!({ "done": 3, "total": 3, "percent": 100 })
    );
    assert_eq!(job["result"]["printed"], 3);
    let download = job["download"].as_str().unwrap();
    assert_eq!(download, format!("{location}/file"));

    let response = app
        .client
        .get(format!("{}{download}", app.base))
        .header("Ocp-Apim-Subscription-Key", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let file_name = job["result"]["fileName"].as_str().unwrap();
    assert_eq!(
        response.headers()["content-disposition"].to_str().unwrap(),
        format!("attachment; filename=\"{file_name}\"")
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, job["result"]["bytes"].as_u64().unwrap());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let name = archive
        .file_names()
        .filter_map(Result::ok)
        .find(|n| n.starts_with("BULK-1_"))
        .expect("BULK-1's notice is in the ZIP")
        .into_owned();
    let mut pdf = Vec::new();
    archive
        .by_name(&name)
        .unwrap()
        .read_to_end(&mut pdf)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pages = rasterise(&pdf, dir.path(), "bulk");
    let notice = name.trim_start_matches("BULK-1_").trim_end_matches(".pdf");
    assert_eq!(
        decode(&pages[0]),
        vec![(
            BarcodeFormat::QR_CODE,
            format!("PAGOPA|002|{notice}|{MILANO}|2500")
        )]
    );

    // A resumed download gets the rest of the file.
    let response = app
        .client
        .get(format!("{}{download}", app.base))
        .header("Ocp-Apim-Subscription-Key", &app.key)
        .header("Range", "bytes=10-")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(response.bytes().await.unwrap().len(), bytes.len() - 10);

    let list = app.call(Method::GET, &jobs(&app), None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
}

async fn bad_bulk_requests_are_refused_and_jobs_stay_with_their_ente(backend: Backend) {
    let app = TestApp::start(backend).await;
    let start = format!("{}/bulk-notices", jobs(&app));
    for (body, expected) in [
        (
            json!({ "tipoDovuto": "NOPE" }),
            "tipoDovuto: \"NOPE\" is not a tipo dovuto",
        ),
        (
            json!({ "dueDateFrom": "2026-05-01", "dueDateTo": "2026-04-01" }),
            "dueDateFrom 2026-05-01 is after dueDateTo 2026-04-01",
        ),
        (json!({ "format": "TIFF" }), "unknown variant `TIFF`"),
        (json!({ "colour": "red" }), "unknown field `colour`"),
        (
            json!({ "noticesPerFile": 5 }),
            "noticesPerFile: only for the MERGED format",
        ),
    ] {
        let reply = app.call(Method::POST, &start, Some(&body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        let detail = reply.body["detail"].as_str().unwrap();
        assert!(
            detail.contains(expected),
            "{detail:?} should say {expected:?}"
        );
    }
    assert!(
        app.store
            .jobs_of_ente(app.ente.id, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing queued"
    );

    let reply = app.call(Method::POST, &start, Some(&json!({}))).await;
    let location = reply.headers["location"].to_str().unwrap().to_owned();
    let job = wait_for(&app, &location).await;
    assert_eq!(
        job["result"]["printed"], 0,
        "an ente with no debts gets an empty ZIP"
    );

    // Another ente's key sees neither the job nor its file.
    let (_, other_key) = create_ente(&app.store, REGIONE, "Regione Lombardia", 1).await;
    let id = job["id"].as_i64().unwrap();
    let theirs = format!("/organizations/{REGIONE}/jobs/{id}");
    for path in [theirs.clone(), format!("{theirs}/file")] {
        let reply = app
            .call_raw(Method::GET, &path, Some(&other_key), None)
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let reply = app
        .call_raw(Method::GET, &location, Some(&other_key), None)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = app
        .call(Method::GET, &format!("{}/999999/file", jobs(&app)), None)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
