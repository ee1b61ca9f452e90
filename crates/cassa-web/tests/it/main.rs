//! The web layer over real HTTP on a loopback port, on SQLite and PostgreSQL.

mod anomalies;
mod auth;
mod backoffice;
mod checkout;
mod citizen;
mod contract;
mod debt_positions;
mod errors;
mod hardening;
mod imports;
mod iuv_concurrency;
mod jobs;
mod node;
mod ops;
mod portal;
mod tls;

use std::sync::LazyLock;
use std::time::Duration;

use cassa_jobs::{FileStore, Worker};
use cassa_store::{Ente, Store, StoreOptions};
use cassa_testkit::{Backend, TestDatabase, fresh_database};
use cassa_web::{AppState, api_key, router};
use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const MILANO: &str = "01199250158";
/// What the test node (pagopa-sim) sends to pass the node endpoint's fence.
pub const NODE_SECRET: &str = "test-node-secret-0123456789";

/// The node settings of every test app: the defaults, fenced by a secret.
pub fn node_settings() -> cassa_web::node::NodeSettings {
    cassa_web::node::NodeSettings {
        fence: cassa_web::node::NodeFence {
            secret: Some(NODE_SECRET.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The station pagopa-sim calls as the node, with the secret.
pub fn station(base: &str) -> pagopa_sim::Station {
    let settings = cassa_web::node::NodeSettings::default();
    pagopa_sim::Station {
        endpoint: format!("{base}/pagopa/paForNode"),
        broker_id: settings.broker_id,
        station_id: settings.station_id,
        auth: Some(pagopa_sim::NodeAuth::subscription_key(NODE_SECRET)),
    }
}
pub const REGIONE: &str = "80050050154";
/// What a test's scraper sends to read `/metrics`.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

/// The private CA that signs pagopa-sim's certificate: every Checkout and
/// OIDC call in these tests goes over HTTPS, trusted the way production
/// trusts a private CA (`extra_ca_file`).
pub static TEST_CA: LazyLock<cassa_testkit::tls::TestCa> =
    LazyLock::new(|| cassa_testkit::tls::TestCa::new("cassa-web tests CA"));
static SIM_CERTIFICATE: LazyLock<cassa_testkit::tls::IssuedFiles> =
    LazyLock::new(|| TEST_CA.server("pagopa-sim"));

/// The system's roots plus [`TEST_CA`].
pub fn test_roots() -> cassa_net::TrustedRoots {
    cassa_net::TrustedRoots::load(Some(TEST_CA.ca_file())).unwrap()
}

/// Serves `app` on `listener` as `cassa serve` does.
pub fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<std::sync::Arc<cassa_net::ServerTls>>,
) {
    let limits = cassa_net::ServeLimits::default();
    tokio::spawn(cassa_net::serve(
        listener,
        app,
        tls,
        limits,
        std::future::pending(),
    ));
}

/// Proxies at `networks` (CIDRs, or none) whose `X-Forwarded-For` is believed.
pub fn trusting(networks: &str) -> cassa_web::client_addr::TrustedProxies {
    cassa_web::client_addr::TrustedProxies {
        networks: networks.parse().unwrap(),
        header: Default::default(),
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub ente: Ente,
    pub key: String,
    db_url: String,
    _files: tempfile::TempDir,
    _db: TestDatabase,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

pub async fn create_ente(
    store: &Store,
    fiscal_code: &str,
    name: &str,
    segregation: u8,
) -> (Ente, String) {
    let ente = store
        .create_ente(
            &cassa_testkit::new_ente(fiscal_code, name, segregation),
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
    let secret = api_key::generate();
    store
        .create_api_key(
            ente.id,
            &secret.prefix,
            &secret.hash,
            "test",
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
    (ente, secret.secret)
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        TestApp::start_with(backend, None).await.0
    }

    /// Runs `statement` on the app's database (a fixture the product has
    /// no call for).
    pub async fn sql(&self, statement: &str) {
        self._db.execute(statement).await;
    }

    /// How many rows `table` of the app's database holds.
    pub async fn rows(&self, table: &str) -> i64 {
        self._db.rows(table).await
    }

    /// Where the app keeps uploads and job files.
    pub fn files_root(&self) -> &std::path::Path {
        self._files.path()
    }

    /// Another `cassa serve` process over this app's database (its own
    /// pool, files and state), believing `proxies`; answers its base URL.
    pub async fn another_instance(&self, proxies: &str) -> String {
        let store = Store::connect(&self.db_url, StoreOptions::default())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let files = FileStore::new(self.files_root());
        let state = AppState::new(store, files)
            .with_node(node_settings())
            .with_trusted_proxies(trusting(proxies));
        serve(listener, router(state), None);
        base
    }

    /// Gives the ente the test kit's tipo dovuto `code`.
    pub async fn add_tipo_dovuto(&self, code: &str) -> cassa_store::TipoDovuto {
        self.store
            .create_tipo_dovuto(
                self.ente.id,
                &cassa_testkit::positions::tipo_dovuto(code),
                "test",
                jiff::Timestamp::now(),
            )
            .await
            .unwrap()
    }

    /// The app with pagopa-sim beside it as pagoPA Checkout and the node;
    /// answers the simulator's base URL too. Payments left pending get
    /// their receipts after `pending_delay`.
    pub async fn start_with_checkout(
        backend: Backend,
        pending_delay: Duration,
    ) -> (TestApp, String) {
        let (app, sim) = TestApp::start_with(backend, Some(pending_delay)).await;
        (app, sim.expect("a simulator"))
    }

    async fn start_with(backend: Backend, checkout: Option<Duration>) -> (TestApp, Option<String>) {
        TestApp::start_with_login(backend, checkout, LoginOptions::default()).await
    }

    /// The app with pagopa-sim beside it (Checkout, the node and the demo
    /// identity provider, which cassa logs citizens in with), and the SAML
    /// proxy's headers believed from `login.sso_proxies`.
    pub async fn start_with_login(
        backend: Backend,
        checkout: Option<Duration>,
        login: LoginOptions,
    ) -> (TestApp, Option<String>) {
        TestApp::start_full(backend, checkout, login, node_settings(), "").await
    }

    /// The app with the node endpoint behind `fence`, believing the
    /// `X-Forwarded-For` of `proxies`.
    pub async fn start_fenced(
        backend: Backend,
        fence: cassa_web::node::NodeFence,
        proxies: &str,
    ) -> TestApp {
        let node = cassa_web::node::NodeSettings {
            fence,
            ..Default::default()
        };
        TestApp::start_full(backend, None, LoginOptions::default(), node, proxies)
            .await
            .0
    }

    async fn start_full(
        backend: Backend,
        checkout: Option<Duration>,
        login: LoginOptions,
        node: cassa_web::node::NodeSettings,
        proxies: &str,
    ) -> (TestApp, Option<String>) {
        let ops = cassa_web::OpsSettings {
            metrics_token: Some(METRICS_TOKEN.into()),
        };
        let roots = test_roots();
        TestApp::start_trusting(backend, checkout, login, node, roots, ops, proxies).await
    }

    /// An app whose `/metrics` is guarded as `ops` says.
    pub async fn start_with_ops(backend: Backend, ops: cassa_web::OpsSettings) -> TestApp {
        let login = LoginOptions::default();
        TestApp::start_trusting(backend, None, login, node_settings(), test_roots(), ops, "")
            .await
            .0
    }

    /// An app whose outbound HTTPS (Checkout, OIDC) trusts `roots`.
    pub async fn start_trusting(
        backend: Backend,
        checkout: Option<Duration>,
        login: LoginOptions,
        node: cassa_web::node::NodeSettings,
        roots: cassa_net::TrustedRoots,
        ops: cassa_web::OpsSettings,
        proxies: &str,
    ) -> (TestApp, Option<String>) {
        let db = fresh_database(backend).await;
        let store = Store::connect(&db.url, StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let (ente, key) = create_ente(&store, MILANO, "Comune di Milano", 2).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        // Jobs run in the background as in `cassa serve`, polling often.
        let files_dir = tempfile::tempdir().unwrap();
        let files = FileStore::new(files_dir.path());
        let worker = Worker::new(store.clone(), files.clone()).with_idle(Duration::from_millis(20));
        tokio::spawn(worker.run());
        let mut state = AppState::new(store.clone(), files)
            .with_node(node)
            .with_ops(ops)
            .with_trusted_proxies(trusting(proxies))
            .with_backoffice(cassa_web::backoffice::BackofficeSettings {
                local_passwords: login.operator_passwords,
            });
        let sim = match checkout {
            Some(pending_delay) => {
                let sim = start_simulator(&base, pending_delay).await;
                state = state.with_portal(cassa_web::portal::PortalSettings::new(
                    &base,
                    &format!("{sim}/checkout/ec/v2/carts"),
                    Some("sim-key".into()),
                    &roots,
                ));
                state = state.with_citizen_login(citizen_login(&sim, login, &roots));
                Some(sim)
            }
            None => None,
        };
        serve(listener, router(state), None);
        let app = TestApp {
            base,
            client: cassa_net::http_client().build().unwrap(),
            store,
            ente,
            key,
            db_url: db.url.clone(),
            _files: files_dir,
            _db: db,
        };
        (app, sim)
    }

    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.header("Ocp-Apim-Subscription-Key", key);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    /// A call with this ente's key.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.call_raw(
            method,
            path,
            Some(&self.key),
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
    }

    /// Pays a notice as a citizen at a PSP would: pagopa-sim calls our
    /// node endpoint (verify, activate, receipt).
    pub async fn pay_at_psp(&self, ente: &str, notice: &str) {
        let node = pagopa_sim::NodeClient::new(station(&self.base));
        pagopa_sim::pay_notice(
            &node,
            &pagopa_sim::Psp::default(),
            ente,
            notice,
            &pagopa_sim::RetryPolicy::default(),
        )
        .await
        .unwrap();
    }

    pub fn positions(&self) -> String {
        format!("/organizations/{}/debtpositions", self.ente.fiscal_code)
    }
}

pub const OIDC_SECRET: &str = "test-client-secret";
pub const PROXY_SECRET: &str = "test-proxy-secret-0123456789";

/// How the test app logs citizens in.
pub struct LoginOptions {
    pub sso_proxies: Vec<std::net::IpAddr>,
    pub min_assurance: Option<cassa_core::citizen::Assurance>,
    /// Operators may log in with a password kept here.
    pub operator_passwords: bool,
}

impl Default for LoginOptions {
    fn default() -> Self {
        LoginOptions {
            sso_proxies: vec!["127.0.0.1".parse().unwrap()],
            min_assurance: None,
            operator_passwords: true,
        }
    }
}

fn citizen_login(
    sim: &str,
    options: LoginOptions,
    roots: &cassa_net::TrustedRoots,
) -> cassa_web::portal::login::CitizenLogin {
    use cassa_web::portal::login::{CitizenLogin, headers, oidc};
    CitizenLogin {
        oidc: Some(oidc::OidcClient::new(
            oidc::OidcSettings::new(&format!("{sim}/oidc"), "cassa-test", OIDC_SECRET),
            roots,
        )),
        headers: Some(headers::HeaderLoginSettings::new(
            options.sso_proxies,
            PROXY_SECRET,
        )),
        min_assurance: options.min_assurance,
        ..CitizenLogin::default()
    }
}

/// pagopa-sim over HTTPS on a loopback port (its certificate signed by
/// [`TEST_CA`]), calling cassa at `cassa` as the node.
async fn start_simulator(cassa: &str, pending_delay: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let state = pagopa_sim::api::SimState {
        client: pagopa_sim::NodeClient::new(station(cassa)),
        psp: pagopa_sim::Psp::default(),
        retry: pagopa_sim::RetryPolicy {
            attempts: 3,
            pause: Duration::from_millis(50),
        },
        checkouts: std::sync::Arc::new(pagopa_sim::checkout::Checkouts::new(&sim, pending_delay)),
    };
    let provider = pagopa_sim::oidc::OidcProvider::new(
        format!("{sim}/oidc"),
        vec![pagopa_sim::oidc::OidcClient {
            id: "cassa-test".into(),
            secret: OIDC_SECRET.into(),
            redirect_uris: vec![format!("{cassa}/accedi/oidc/ritorno")],
        }],
    )
    .unwrap();
    let app = pagopa_sim::api::router(state)
        .merge(pagopa_sim::oidc::routes(std::sync::Arc::new(provider)));
    let certificate = cassa_net::ServerTls::new(cassa_net::ServerTlsFiles {
        cert: SIM_CERTIFICATE.cert.clone(),
        key: SIM_CERTIFICATE.key.clone(),
        client_ca: None,
    })
    .unwrap();
    serve(listener, app, Some(certificate));
    sim
}

/// A valid GPD body with one option per slice of transfer amounts.
pub fn position_body(iupd: &str, options: &[&[i64]]) -> Value {
    let options: Vec<Value> = options
        .iter()
        .enumerate()
        .map(|(i, parts)| {
            let transfers: Vec<Value> = parts
                .iter()
                .enumerate()
                .map(|(j, amount)| {
                    json!({
                        "idTransfer": (j + 1).to_string(),
                        "amount": amount,
                        "remittanceInformation": format!("Quota {}", j + 1),
                        "category": "9/0101101IM/",
                        "iban": "IT60X0542811101000000123456",
                        "transferMetadata": [{ "key": "capitolo", "value": "1234" }]
                    })
                })
                .collect();
            json!({
                "amount": parts.iter().sum::<i64>(),
                "description": format!("TARI 2026 rata {}", i + 1),
                "isPartialPayment": options.len() > 1,
                "dueDate": format!("2030-0{}-28T23:59:59", i + 1),
                "fee": 0,
                "transfer": transfers,
                "paymentOptionMetadata": [{ "key": "anno", "value": "2026" }]
            })
        })
        .collect();
    json!({
        "iupd": iupd,
        "type": "F",
        "fiscalCode": "RSSMRA85T10A562S",
        "fullName": "Mario Rossi",
        "streetName": "Via Roma",
        "civicNumber": "1",
        "postalCode": "20121",
        "city": "Milano",
        "province": "MI",
        "country": "IT",
        "email": "mario.rossi@example.org",
        "switchToExpired": false,
        "companyName": "Comune di Milano",
        "officeName": "Tributi",
        "paymentOption": options
    })
}
