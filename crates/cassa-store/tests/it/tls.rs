//! PostgreSQL over TLS: the test cluster (scripts/test.sh) accepts only
//! TLS connections, and every PostgreSQL test reaches it with
//! `sslmode=verify-full`. Here: that the session really is encrypted, that
//! clear text is refused, and that an unknown CA is not trusted.

use cassa_store::{Store, StoreOptions};
use cassa_testkit::{Backend, fresh_database};
use sqlx::{AnyConnection, Connection, Row};

/// `url` with `name=value` instead of what it had (or added).
fn with_parameter(url: &str, name: &str, value: Option<&str>) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with(&format!("{name}=")))
        .map(str::to_owned)
        .collect();
    if let Some(value) = value {
        pairs.push(format!("{name}={value}"));
    }
    format!("{base}?{}", pairs.join("&"))
}

#[tokio::test]
async fn postgres_is_reached_over_verified_tls_only() {
    sqlx::any::install_default_drivers();
    std::env::var("CASSA_TEST_POSTGRES_CA").expect(
        "CASSA_TEST_POSTGRES_CA: the test cluster's CA; ./scripts/test.sh starts a TLS-only cluster",
    );
    let db = fresh_database(Backend::Postgres).await;
    assert!(db.url.contains("sslmode=verify-full"), "{}", db.url);

    let store = Store::connect(&db.url, StoreOptions::default())
        .await
        .unwrap();
    let mut conn = AnyConnection::connect(&db.url).await.unwrap();
    let ssl: bool = sqlx::query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert!(ssl, "the session is encrypted");
    store.close().await;

    let clear = with_parameter(&db.url, "sslmode", Some("disable"));
    let refused = AnyConnection::connect(&clear)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("no encryption"), "{refused}");

    let unknown_ca = with_parameter(&db.url, "sslrootcert", None);
    let refused = AnyConnection::connect(&unknown_ca)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");
}
