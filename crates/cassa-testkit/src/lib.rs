//! Test support shared by the crates' integration tests.
//!
//! Every storage test runs twice, on SQLite and on PostgreSQL, each time on
//! a database of its own: a temp file for SQLite, a database cloned from a
//! migrated template for PostgreSQL. The PostgreSQL server is a throwaway
//! cluster that `scripts/test.sh` starts and names in
//! `CASSA_TEST_POSTGRES_URL`.

pub mod documents;
pub mod positions;
pub mod smtp;
pub mod tls;

use std::sync::OnceLock;

use sqlx::any::install_default_drivers;
use sqlx::{AnyConnection, Connection, Executor};
use tokio::sync::Mutex;

pub const POSTGRES_URL_VAR: &str = "CASSA_TEST_POSTGRES_URL";

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that lives as long as this value (SQLite) or the throwaway
/// cluster (PostgreSQL).
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("../cassa-store/migrations/postgres");

/// The template's name changes whenever the migrations do.
fn template_name() -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for m in POSTGRES_MIGRATIONS.iter() {
        for b in m.checksum.iter() {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("cassa_template_{hash:016x}")
}

fn postgres_admin_url() -> String {
    std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "PostgreSQL tests need {POSTGRES_URL_VAR} (a server they may create databases on). \
             Run ./scripts/test.sh, which starts a throwaway cluster and sets it."
        )
    })
}

async fn ensure_template(admin: &mut AnyConnection, admin_url: &str) -> String {
    static READY: OnceLock<String> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::const_new(());
    if let Some(name) = READY.get() {
        return name.clone();
    }
    let _guard = LOCK.lock().await;
    if let Some(name) = READY.get() {
        return name.clone();
    }
    let name = template_name();
    // Other test processes may be doing the same: serialise on the server.
    admin
        .execute("SELECT pg_advisory_lock(7270001)")
        .await
        .unwrap();
    let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut *admin)
        .await
        .unwrap()
        .is_some();
    if !exists {
        let building = format!("{name}_building");
        admin
            .execute(format!("DROP DATABASE IF EXISTS {building}").as_str())
            .await
            .unwrap();
        admin
            .execute(format!("CREATE DATABASE {building}").as_str())
            .await
            .unwrap();
        let mut conn = AnyConnection::connect(&cassa_store::with_database(admin_url, &building))
            .await
            .unwrap();
        POSTGRES_MIGRATIONS.run(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        admin
            .execute(format!("ALTER DATABASE {building} RENAME TO {name}").as_str())
            .await
            .unwrap();
    }
    admin
        .execute("SELECT pg_advisory_unlock(7270001)")
        .await
        .unwrap();
    READY.get_or_init(|| name).clone()
}

impl TestDatabase {
    /// Runs one statement.
    pub async fn execute(&self, statement: &str) {
        let mut conn = AnyConnection::connect(&self.url).await.unwrap();
        conn.execute(statement).await.unwrap();
        conn.close().await.unwrap();
    }

    /// How many rows `table` holds: what a test reads to prove that a
    /// request wrote nothing.
    pub async fn rows(&self, table: &str) -> i64 {
        let mut conn = AnyConnection::connect(&self.url).await.unwrap();
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        count
    }
}

/// A fresh, empty database for one test. SQLite's is not migrated yet;
/// PostgreSQL's already is (cloned from the template), and migrating it
/// again is a no-op.
pub async fn fresh_database(backend: Backend) -> TestDatabase {
    install_default_drivers();
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}/cassa.db?mode=rwc", dir.path().display());
            TestDatabase {
                url,
                _dir: Some(dir),
            }
        }
        Backend::Postgres => {
            let admin_url = postgres_admin_url();
            let mut admin = AnyConnection::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin_url}: {e}"));
            let template = ensure_template(&mut admin, &admin_url).await;
            let name = format!("cassa_test_{:016x}", rand::random::<u64>());
            admin
                .execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
                .await
                .unwrap();
            admin.close().await.unwrap();
            TestDatabase {
                url: cassa_store::with_database(&admin_url, &name),
                _dir: None,
            }
        }
    }
}

/// Generates, for each named `async fn(Backend)`, a module with one test
/// per backend: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )*
    };
}

/// pagoPA's schemas as shipped in the project (crates/cassa-pagopa/pagopa-api).
pub fn pagopa_api_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cassa-pagopa/pagopa-api")
}

/// Asserts that `xml` validates against the XSD at `schema`, with xmllint
/// (Debian's libxml2-utils; scripts/test.sh installs it).
pub fn assert_valid_xml(xml: &str, schema: &std::path::Path) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("message.xml");
    std::fs::write(&file, xml).unwrap();
    let output = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(schema)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run xmllint ({e}): run ./scripts/test.sh, which installs it")
        });
    assert!(
        output.status.success(),
        "not valid against {}:\n{}\n{xml}",
        schema.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An ente with only what the tests need: codice fiscale, name, segregation code.
pub fn new_ente(fiscal_code: &str, name: &str, segregation: u8) -> cassa_store::NewEnte {
    cassa_store::NewEnte {
        fiscal_code: fiscal_code.parse().unwrap(),
        name: name.into(),
        ipa_code: None,
        segregation_code: cassa_core::SegregationCode::new(segregation).unwrap(),
        cbill: None,
        iban: None,
        postal_iban: None,
        office_name: None,
        email: None,
        pec: None,
        phone: None,
        website: None,
        address: None,
        membership_mode: cassa_core::ente::MembershipMode::IniziatoPressoEnte,
        station_ids: Vec::new(),
    }
}
