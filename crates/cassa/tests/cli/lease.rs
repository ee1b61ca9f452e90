//! A worker killed with SIGKILL in the middle of applying an import: the
//! job is taken over when its lease runs out, and the file is applied
//! exactly once, its report matching what was written.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cassa_testkit::Backend;

use super::{Env, Server, announced, demo_key, key_values};

const ROWS: usize = 30_000;
const FILE: &str = "c_f205-KILL0001-1_4.csv";

/// How many rows the import has staged so far, read from the database.
async fn staged(conn: &mut sqlx::AnyConnection) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM debt_position WHERE import_job IS NOT NULL")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

pub(super) async fn a_killed_worker_s_import_is_applied_once(backend: Backend) {
    let env = Env::new(backend).await;
    let (ok, out, err) = env.run(&["demo"]);
    assert!(ok, "{err}");
    let key = demo_key(&key_values(&out), "01199250158").to_owned();
    let file = env.data_dir.path().join("file.csv");
    let rows = ROWS.to_string();
    let (ok, _, err) = env.run(&[
        "bench-import",
        "--rows",
        &rows,
        "--write-file",
        file.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");

    // The API only; the jobs run in `cassa worker` processes.
    let mut child = env
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .env("CASSA_SERVE_RUNS_JOBS", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (base, _) = announced(&mut child);
    let _server = Server(child);
    let client = cassa_net::http_client().build().unwrap();
    let queued = client
        .post(format!(
            "{base}/organizations/01199250158/jobs/imports?fileName={FILE}"
        ))
        .header("Ocp-Apim-Subscription-Key", &key)
        .body(std::fs::read(&file).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 202);
    let location = format!("{base}{}", queued.headers()["location"].to_str().unwrap());

    let worker = || {
        env.command(&["worker"])
            .env("CASSA_JOB_LEASE_SECONDS", "4")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let url = match backend {
        Backend::Sqlite => format!(
            "sqlite://{}?mode=rw",
            env.data_dir.path().join("cassa.db").display()
        ),
        Backend::Postgres => env.db.url.clone(),
    };
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let mut first = worker();
    let started = Instant::now();
    while staged(&mut conn).await < (ROWS / 4) as i64 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the import did not start staging"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill().unwrap(); // SIGKILL: no chance to clean up
    first.wait().unwrap();
    let at_kill = staged(&mut conn).await;
    assert!(at_kill < ROWS as i64, "killed mid-apply ({at_kill} staged)");
    // Nothing of it is visible meanwhile.
    let listed: serde_json::Value = client
        .get(format!(
            "{base}/organizations/01199250158/debtpositions?limit=1"
        ))
        .header("Ocp-Apim-Subscription-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // One per page: the pages are the positions, the demo's only.
    let visible = listed["page_info"]["total_pages"].as_u64().unwrap();
    assert!(visible < 100, "{visible} positions visible");

    let second = Server(worker());
    let mut job = serde_json::Value::Null;
    while job["state"] != "DONE" && job["state"] != "FAILED" {
        assert!(started.elapsed() < Duration::from_secs(600), "{job}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        job = client
            .get(&location)
            .header("Ocp-Apim-Subscription-Key", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    }
    drop(second);
    assert_eq!(job["state"], "DONE", "{job}");
    assert_eq!(job["result"]["inserted"], ROWS, "{job}");

    // Exactly once: every row once, nothing left staged.
    let imported: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.iupd, o.iuv FROM debt_position p JOIN payment_option o ON o.position_id = p.id \
         WHERE p.iupd LIKE 'IMP-%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(imported.len(), ROWS);
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM import_staging")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(pending, 0);
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM job WHERE kind = 'import_dovuti'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(attempts, 2, "taken over once");

    // The report names exactly what was written.
    let report = client
        .get(format!("{location}/files/c_f205-KILL0001-1_4_IUV.csv"))
        .header("Ocp-Apim-Subscription-Key", &key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stored: HashMap<String, String> = imported.into_iter().collect();
    let lines: Vec<&str> = report.lines().skip(1).collect();
    assert_eq!(lines.len(), ROWS);
    for line in lines {
        let cells: Vec<&str> = line.split(';').collect();
        assert_eq!(
            stored.get(cells[0]).map(String::as_str),
            Some(cells[1]),
            "{line}"
        );
    }
}
