//! The operator contract of the `cassa` binary, run as a real process on
//! both backends: demo output, `apikey create` printing only the key,
//! `serve --listen` answering with the demo data, clear configuration errors.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cassa_testkit::{Backend, TestDatabase, backend_tests, fresh_database};

backend_tests!(demo_then_keys_then_serve);

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
            .env_remove("CASSA_LISTEN");
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
    let client = reqwest::Client::builder()
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
    let list: serde_json::Value = client
        .get(format!(
            "{base}/organizations/01199250158/debtpositions?limit=50"
        ))
        .header("Ocp-Apim-Subscription-Key", key)
        .send()
        .await
        .unwrap()
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
