//! The operator contract of the `cassa` binary, run as a real process on
//! both backends: demo output, `apikey create` printing only the key,
//! `serve --listen` answering with the demo data (a demo notice's QR code
//! read back from its PDF; a bulk print run by the server's worker), clear
//! configuration errors.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cassa_testkit::{Backend, TestDatabase, backend_tests, fresh_database};

#[path = "cli/lease.rs"]
mod lease;
#[path = "cli/race.rs"]
mod race;
#[path = "cli/tls.rs"]
mod tls;

backend_tests!(
    demo_then_keys_then_serve,
    a_killed_worker_s_import_is_applied_once,
    serves_https_and_checks_the_node_s_certificate
);

use tls::serves_https_and_checks_the_node_s_certificate;

use lease::a_killed_worker_s_import_is_applied_once;

/// Two processes share one database only on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_race_exclusive_options() {
    race::two_processes_race_exclusive_options().await
}

const POSTE_AUTHORIZATION: &str = "Aut. n. 1234/DEMO del 01/01/2026";

struct Env {
    data_dir: tempfile::TempDir,
    db: TestDatabase,
    backend: Backend,
}

impl Env {
    async fn new(backend: Backend) -> Env {
        Env {
            data_dir: tempfile::tempdir().unwrap(),
            db: fresh_database(backend).await,
            backend,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cassa"));
        command
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir.path());
        command
            .env_remove("DATABASE_URL")
            .env_remove("CASSA_LISTEN")
            // No defaults outside --demo: the tests' station and Checkout.
            .env("CASSA_PAGOPA_BROKER_ID", "80050050154")
            .env("CASSA_PAGOPA_STATION_ID", "80050050154_01")
            .env(
                "CASSA_CHECKOUT_URL",
                "http://127.0.0.1:9/checkout/ec/v2/carts",
            );
        if self.backend == Backend::Postgres {
            command.env("DATABASE_URL", &self.db.url);
        }
        command
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let output = self.command(args).output().unwrap();
        (
            output.status.success(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }
}

fn key_values(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(|line| {
            let (k, v) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("not key=value: {line:?}"));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn demo_then_keys_then_serve(backend: Backend) {
    let env = Env::new(backend).await;
    let (ok, out, err) = env.run(&["demo"]);
    assert!(ok, "{err}");
    let demo = key_values(&out);
    assert_eq!(demo["ente.1.fiscal_code"], "80050050154");
    assert_eq!(demo["ente.2.name"], "Comune di Milano");
    assert_eq!(demo["station.broker_id"], "80050050154");
    assert_eq!(demo["station.id"], "80050050154_01");
    assert!(demo["notice.1.number"].len() == 18 && demo["notice.1.number"].starts_with('3'));
    assert!(demo.contains_key("notice.5.amount"));
    if backend == Backend::Sqlite {
        assert!(
            env.data_dir.path().join("cassa.db").exists(),
            "SQLite lives in the data directory"
        );
    }

    // A second demo into a store with data refuses and changes nothing.
    let (ok, _, err) = env.run(&["demo"]);
    assert!(!ok && err.contains("empty store"), "{err}");

    let (ok, key, err) = env.run(&["apikey", "create", "--ente", "01199250158"]);
    assert!(ok, "{err}");
    let key = key.strip_suffix('\n').unwrap();
    assert!(
        key.starts_with("cassa_") && !key.contains(char::is_whitespace),
        "only the key: {key:?}"
    );
    let (ok, _, err) = env.run(&["apikey", "create", "--ente", "99999999999"]);
    assert!(!ok && err.contains("99999999999"), "{err}");

    // The small comune's notices get its logo and Poste's authorisation.
    let logo = env.data_dir.path().join("logo.png");
    std::fs::write(&logo, cassa_testkit::documents::sample_logo()).unwrap();
    let (ok, out, err) = env.run(&[
        "ente",
        "printing",
        "--ente",
        "83000120150",
        "--logo",
        logo.to_str().unwrap(),
        "--postal-authorization",
        POSTE_AUTHORIZATION,
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("postal_authorization={POSTE_AUTHORIZATION}")),
        "{out}"
    );
    let (ok, _, err) = env.run(&[
        "ente",
        "printing",
        "--ente",
        "83000120150",
        "--logo",
        env!("CARGO_MANIFEST_DIR"),
    ]);
    assert!(
        !ok && err.contains("--logo"),
        "a directory is no logo: {err}"
    );

    let mut child = env
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let _server = Server(child);
    let base = first_line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first_line:?}"))
        .trim_end_matches('/')
        .to_owned();
    let client = cassa_net::http_client()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let health: serde_json::Value = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["database"], backend_name(backend));
    let list: serde_json::Value = get_with_key(
        &client,
        &format!("{base}/organizations/01199250158/debtpositions?limit=50"),
        key,
    )
    .await
    .json()
    .await
    .unwrap();
    let navs: Vec<&str> = list["payment_position_list"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["paymentOption"].as_array().unwrap())
        .map(|o| o["nav"].as_str().unwrap())
        .collect();
    let milano_notices: Vec<&String> = (1..=20)
        .filter_map(|n| {
            demo.get(&format!("notice.{n}.number"))
                .filter(|_| demo[&format!("notice.{n}.ente")] == "01199250158")
        })
        .collect();
    assert!(!milano_notices.is_empty());
    for notice in milano_notices {
        assert!(
            navs.contains(&notice.as_str()),
            "demo notice {notice} is served"
        );
    }

    // Done when: a person downloads a demo notice and scans its QR code.
    let valbrona = (1..=30)
        .find(|n| {
            demo.get(&format!("notice.{n}.ente"))
                .is_some_and(|e| e == "83000120150")
        })
        .expect("a notice of the comune with a postal account");
    for n in [1, valbrona] {
        scan_demo_notice(&client, &base, &demo, n).await;
    }
    bulk_print_through_the_server(&client, &base, &demo).await;
}

/// The demo API key of the ente with this codice fiscale.
fn demo_key<'a>(demo: &'a BTreeMap<String, String>, fiscal_code: &str) -> &'a str {
    (1..=10)
        .find(|n| {
            demo.get(&format!("ente.{n}.fiscal_code"))
                .map(String::as_str)
                == Some(fiscal_code)
        })
        .map(|n| demo[&format!("ente.{n}.api_key")].as_str())
        .expect("the ente is in the demo output")
}

async fn scan_demo_notice(
    client: &reqwest::Client,
    base: &str,
    demo: &BTreeMap<String, String>,
    n: usize,
) {
    use cassa_testkit::documents::{BarcodeFormat, decode, rasterise};
    let get = |key: &str| demo[&format!("notice.{n}.{key}")].clone();
    let ente = get("ente");
    let response = get_with_key(
        client,
        &format!("{base}{}", get("pdf_path")),
        demo_key(demo, &ente),
    )
    .await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let pdf = response.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let codes: Vec<(BarcodeFormat, String)> = rasterise(&pdf, dir.path(), "demo")
        .iter()
        .flat_map(|page| decode(page))
        .collect();
    let cents = cassa_core::Cents::parse_decimal(&get("amount"))
        .unwrap()
        .get();
    let expected = format!("PAGOPA|002|{}|{ente}|{cents}", get("number"));
    assert!(
        codes.contains(&(BarcodeFormat::QR_CODE, expected.clone())),
        "{expected} not among {codes:?}"
    );
    if ente == "83000120150" {
        let text = cassa_testkit::documents::pdf_text(&pdf);
        assert!(text.contains(POSTE_AUTHORIZATION), "{text}");
        assert!(
            codes
                .iter()
                .any(|(f, text)| *f == BarcodeFormat::DATA_MATRIX
                    && text.starts_with("codfase=NBPA;18")
                    && text.contains(&get("number"))),
            "the postal slip's Data Matrix names the notice: {codes:?}"
        );
    }
}

/// `cassa serve` runs queued jobs: a bulk print finishes and downloads.
async fn bulk_print_through_the_server(
    client: &reqwest::Client,
    base: &str,
    demo: &BTreeMap<String, String>,
) {
    let key = demo_key(demo, "01199250158");
    let jobs = format!("{base}/organizations/01199250158/jobs");
    let started: serde_json::Value = client
        .post(format!("{jobs}/bulk-notices"))
        .header("Ocp-Apim-Subscription-Key", key)
        .json(&serde_json::json!({ "tipoDovuto": "TARI", "format": "MERGED" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let location = format!("{jobs}/{}", started["id"]);
    let mut job = serde_json::Value::Null;
    for _ in 0..100 {
        job = get_with_key(client, &location, key)
            .await
            .json()
            .await
            .unwrap();
        if job["state"] == "DONE" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(job["state"], "DONE", "{job}");
    assert!(job["result"]["printed"].as_u64().unwrap() >= 1, "{job}");
    let zip = get_with_key(client, &format!("{location}/file"), key)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(zip.len() as u64, job["result"]["bytes"].as_u64().unwrap());
    assert!(zip.starts_with(b"PK"), "a ZIP");
}

/// A GET with an ente's API key.
async fn get_with_key(client: &reqwest::Client, url: &str, key: &str) -> reqwest::Response {
    client
        .get(url)
        .header("Ocp-Apim-Subscription-Key", key)
        .send()
        .await
        .unwrap()
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

#[test]
fn bad_configuration_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_cassa"))
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .env("CASSA_STATUS_SWEEP_SECONDS", "soon")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.contains("status_sweep_seconds") && err.contains("CASSA_STATUS_SWEEP_SECONDS"),
        "{err}"
    );

    // Outside --demo, serve will not guess who we are at pagoPA.
    let output = Command::new(env!("CARGO_BIN_EXE_cassa"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("CASSA_PAGOPA_BROKER_ID")
        .env("CASSA_PAGOPA_STATION_ID", "80050050154_01")
        .env_remove("CASSA_CHECKOUT_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.contains("set pagopa_broker_id, checkout_url (there are no defaults outside --demo"),
        "{err}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_cassa"))
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .env("DATABASE_URL", "mysql://localhost/cassa")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("sqlite:// or postgres://")
    );
}

/// Reads the lines `serve` announces until the node endpoint's; answers
/// the portal's base URL and the node endpoint's line.
fn announced(child: &mut Child) -> (String, String) {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut node) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut node).unwrap();
    let base = url_in(&first).trim_end_matches('/').to_owned();
    (base, node)
}

/// The first http:// or https:// URL in a line.
fn url_in(line: &str) -> &str {
    line.split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
}

async fn post_soap(url: &str, secret: Option<&str>) -> (u16, String) {
    let mut request = cassa_net::http_client()
        .build()
        .unwrap()
        .post(url)
        .header("content-type", "text/xml; charset=utf-8")
        .header("SOAPAction", "\"paVerifyPaymentNotice\"")
        .body("<x/>");
    if let Some(secret) = secret {
        request = request.header("Ocp-Apim-Subscription-Key", secret);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

/// Without configuration the node endpoint refuses every call and `serve`
/// says so; with `--node-listen` it answers only on its own port, behind
/// the secret and the allowed networks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_endpoint_is_fenced_and_can_listen_apart() {
    let env = Env::new(Backend::Sqlite).await;
    let mut child = env
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .env_remove("CASSA_NODE_AUTH_SECRET")
        .env_remove("CASSA_NODE_ALLOWED_NETWORKS")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (base, node_line) = announced(&mut child);
    let _server = Server(child);
    assert!(node_line.contains("REFUSES EVERY CALL"), "{node_line}");
    let (status, body) = post_soap(&format!("{base}/pagopa/paForNode"), None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not configured"), "{body}");

    let secret = "a-node-secret-for-this-test";
    let mut child = env
        .command(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--node-listen",
            "127.0.0.1:0",
        ])
        .env("CASSA_NODE_AUTH_SECRET", secret)
        .env("CASSA_NODE_ALLOWED_NETWORKS", "192.0.2.0/24, 127.0.0.0/8")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (base, node_line) = announced(&mut child);
    let _server = Server(child);
    let node = url_in(&node_line);
    assert!(!node.starts_with(&base), "{node} apart from {base}");
    assert!(
        node_line.contains("node_allowed_networks") && node_line.contains("secret"),
        "{node_line}"
    );
    let (status, _) = post_soap(&format!("{base}/pagopa/paForNode"), Some(secret)).await;
    assert_eq!(status, 404, "the portal's port has no node endpoint");
    let (status, _) = post_soap(node, None).await;
    assert_eq!(status, 403);
    let (status, body) = post_soap(node, Some(secret)).await;
    assert_eq!(status, 500, "past the fence, a broken request: {body}");
    assert!(body.contains("faultstring"), "{body}");
}
