//! Debt files over HTTP: through the API and the back office's Gestione
//! Flussi, the same file twice, the reports downloaded.

use cassa_core::access::{Grant, Role};
use cassa_core::tracciati::mypay::Version;
use cassa_testkit::{Backend, backend_tests};
use jiff::Timestamp;
use reqwest::{Method, StatusCode};

use crate::portal::{browser, page, token};
use crate::{MILANO, TestApp};

backend_tests!(
    a_file_is_imported_once_through_the_api_and_the_back_office,
    a_zip_bomb_is_refused_and_leaves_no_file
);

fn file(rows: &[(&str, &str)]) -> String {
    let mut lines = vec![Version::V1_4.columns().join(";")];
    for (iud, amount) in rows {
        let mut cells: Vec<String> = [
            *iud,
            "",
            "F",
            "RSSMRA85T10A562S",
            "Mario Rossi",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "2030-12-31",
            amount,
            "",
            "MENSA",
            "",
            "Mensa 2030",
            "9/0101108TS/",
            "",
            "true",
            "false",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        cells.extend(std::iter::repeat_n(String::new(), 12));
        cells.push("I".into());
        lines.push(cells.join(";"));
    }
    lines.join("\n")
}

async fn send(app: &TestApp, imports: &str, name: &str, body: String) -> crate::Reply {
    app.call_raw(
        Method::POST,
        &format!("{imports}?fileName={name}"),
        Some(&app.key),
        Some(body.into_bytes()),
    )
    .await
}

async fn wait_done(app: &TestApp, location: &str) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..400 {
        let reply = app.call(Method::GET, location, None).await;
        if reply.body["state"] == "DONE" || reply.body["state"] == "FAILED" {
            return reply.body;
        }
        last = reply.body;
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the import did not end: {last}");
}

async fn a_file_is_imported_once_through_the_api_and_the_back_office(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.add_tipo_dovuto("MENSA").await;
    let imports = format!("/organizations/{MILANO}/jobs/imports");
    let body = file(&[("M-1", "12.00"), ("M-2", "13.00")]);
    // With its notices printed, as MyPay's _AVVISI_PDF.zip.
    let reply = send(
        &app,
        &imports,
        "c_f205-MENSA1-1_4.csv&notices=true",
        body.clone(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let location = reply.headers["location"].to_str().unwrap().to_owned();
    let job = wait_done(&app, &location).await;
    assert_eq!(job["result"]["applied"], true, "{job}");
    assert_eq!(job["result"]["inserted"], 2);
    // Applied at once; the notices follow, printed by a job of their own.
    let mut job = job;
    for _ in 0..200 {
        if job["result"]["noticesPending"] != true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        job = app.call(Method::GET, &location, None).await.body;
    }
    let report = app
        .call(
            Method::GET,
            &format!("{location}/files/c_f205-MENSA1-1_4_IUV.csv"),
            None,
        )
        .await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(report.body.as_str().unwrap().contains("M-2;"));
    assert_eq!(job["result"]["notices"], 2, "{job}");
    let notices = app
        .call_raw(
            Method::GET,
            &format!("{location}/files/c_f205-MENSA1-1_4_AVVISI_PDF.zip"),
            Some(&app.key),
            None,
        )
        .await;
    assert_eq!(notices.status, StatusCode::OK);
    let unlisted = app
        .call(Method::GET, &format!("{location}/files/other.csv"), None)
        .await;
    assert_eq!(unlisted.status, StatusCode::NOT_FOUND);

    // The same bytes again, under any name: nothing changes, and it says so.
    let again = send(&app, &imports, "c_f205-MENSA1bis-1_4.csv", body).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.body["detail"]
            .as_str()
            .unwrap()
            .contains("already sent"),
        "{}",
        again.body
    );
    let bad_name = send(&app, &imports, "dovuti.xlsx", file(&[("M-3", "1.00")])).await;
    assert_eq!(bad_name.status, StatusCode::BAD_REQUEST);

    // The back office: upload with the form, see the outcome, download the report.
    let hash = cassa_web::backoffice::hash_password("Tre-Cime-di-Lavaredo");
    let op = app
        .store
        .create_operator(
            &cassa_store::NewOperator {
                username: "flussi",
                display_name: "Op",
                email: None,
                password_hash: &hash,
                platform_admin: false,
                must_change_password: false,
            },
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
    app.store
        .grant_role(
            op.id,
            &Grant {
                ente_id: app.ente.id,
                role: Role::Operator,
                tipo_dovuto_id: None,
            },
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
    let client = browser();
    let csrf = token(&client, &format!("{}/backoffice/login", app.base)).await;
    client
        .post(format!("{}/backoffice/login", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "flussi"),
            ("password", "Tre-Cime-di-Lavaredo"),
        ])
        .send()
        .await
        .unwrap();
    let flussi = format!("{}/backoffice/enti/{MILANO}/flussi", app.base);
    let csrf = token(&client, &flussi).await;
    let bad = file(&[("M-9", "dieci")]);
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bad.into_bytes()).file_name("c_f205-MENSA2-1_4.csv"),
        );
    let sent = client.post(&flussi).multipart(form).send().await.unwrap();
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let mut html = String::new();
    for _ in 0..200 {
        html = page(&client, &flussi).await;
        if html.contains("Non applicato") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(
        html.contains("Non applicato: 1 / 1 righe scartate"),
        "{html}"
    );
    let end = html
        .find("_SCARTI.csv\"")
        .expect("a link to the refused rows")
        + "_SCARTI.csv".len();
    let start = html[..end].rfind('"').unwrap() + 1;
    let scarti = client
        .get(format!("{}{}", app.base, &html[start..end]))
        .send()
        .await
        .unwrap();
    assert_eq!(scarti.status(), StatusCode::OK);
    assert!(scarti.text().await.unwrap().contains("M-9;"));
    // Scarica flussi: what was paid (nothing yet), from the form and the API.
    let today = cassa_core::italy::date_of(Timestamp::now()).to_string();
    let csrf_now = token(&client, &flussi).await;
    let queued = client
        .post(format!("{flussi}/esporta"))
        .form(&[
            ("csrf", csrf_now.as_str()),
            ("from", &today),
            ("to", &today),
            ("format", "csv"),
            ("version", "1_3"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), StatusCode::SEE_OTHER);
    let export = app
        .call(
            Method::POST,
            &format!("/organizations/{MILANO}/jobs/exports"),
            Some(&serde_json::json!({ "from": today, "to": today, "withReceipts": true })),
        )
        .await;
    assert_eq!(export.status, StatusCode::ACCEPTED, "{}", export.body);
    let location = export.headers["location"].to_str().unwrap().to_owned();
    let done = wait_done(&app, &location).await;
    let name = done["result"]["fileName"].as_str().unwrap().to_owned();
    assert!(name.ends_with("-1_3.zip"), "{done}");
    let zip = app
        .call_raw(
            Method::GET,
            &format!("{location}/files/{name}"),
            Some(&app.key),
            None,
        )
        .await;
    assert_eq!(zip.status, StatusCode::OK);
    let backwards = app
        .call(
            Method::POST,
            &format!("/organizations/{MILANO}/jobs/exports"),
            Some(&serde_json::json!({ "from": "2026-02-01", "to": "2026-01-01" })),
        )
        .await;
    assert_eq!(backwards.status, StatusCode::BAD_REQUEST);

    // Without the form token, no file is even stored.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("a.csv"),
    );
    assert_eq!(
        client
            .post(&flussi)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
}

/// What is left under the file store's uploads, by file name.
fn uploads_left(app: &TestApp) -> Vec<String> {
    let mut left = Vec::new();
    if let Ok(tokens) = std::fs::read_dir(app.files_root().join("uploads")) {
        for token in tokens.flatten() {
            for file in std::fs::read_dir(token.path()).unwrap().flatten() {
                left.push(file.file_name().to_string_lossy().into_owned());
            }
        }
    }
    left
}

async fn a_zip_bomb_is_refused_and_leaves_no_file(backend: Backend) {
    use std::io::Write;
    let app = TestApp::start(backend).await;
    app.add_tipo_dovuto("MENSA").await;
    let imports = format!("/organizations/{MILANO}/jobs/imports");
    // A real header and row, then 40 MB of one repeated row: more than
    // 250 times smaller zipped, past the 200 a debt file never reaches.
    let mut csv = file(&[("B-1", "1.00")]).into_bytes();
    csv.push(b'\n');
    let row = csv[csv.iter().position(|&b| b == b'\n').unwrap() + 1..].to_vec();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    zip.start_file("bomba.csv", options).unwrap();
    // In one write: the writer compresses each write apart.
    csv.extend(row.repeat(40 * 1024 * 1024 / row.len()));
    zip.write_all(&csv).unwrap();
    let bomb = zip.finish().unwrap().into_inner();
    assert!(bomb.len() < csv.len() / 250, "{} bytes", bomb.len());

    let reply = app
        .call_raw(
            Method::POST,
            &format!("{imports}?fileName=c_f205-BOMBA-1_4.zip"),
            Some(&app.key),
            Some(bomb),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let location = reply.headers["location"].to_str().unwrap().to_owned();
    let job = wait_done(&app, &location).await;
    assert_eq!(job["state"], "DONE", "{job}");
    assert_eq!(job["result"]["applied"], false, "{job}");
    let why = job["result"]["fileError"].as_str().unwrap_or_default();
    assert!(why.contains("200 volte"), "{job}");
    // Nothing applied; neither the upload nor any extraction stays.
    let positions = app.call(Method::GET, &app.positions(), None).await;
    assert_eq!(
        positions.body["payment_position_list"],
        serde_json::json!([])
    );
    assert_eq!(uploads_left(&app), Vec::<String>::new());

    // An upload past the limit is refused from its announced length,
    // before a byte is stored.
    let declared = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = app.base.trim_start_matches("http://");
        let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
        let head = format!(
            "POST {imports}?fileName=grande.csv HTTP/1.1\r\nHost: {address}\r\n\
             Ocp-Apim-Subscription-Key: {}\r\nContent-Length: {}\r\n\r\nIUD;",
            app.key,
            600u64 * 1024 * 1024
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 12];
        socket.read_exact(&mut answer).await.unwrap();
        String::from_utf8(answer).unwrap()
    };
    assert_eq!(declared, "HTTP/1.1 413", "{declared}");
    assert_eq!(uploads_left(&app), Vec::<String>::new());
}
