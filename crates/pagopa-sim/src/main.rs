//! `pagopa-sim`: the node and the PSPs, from the command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pagopa_sim::api::{SimState, router};
use pagopa_sim::oidc::{self, OidcClient, OidcProvider};
use pagopa_sim::{NodeClient, Psp, RetryPolicy, Station, pay_notice};

#[derive(Parser)]
#[command(
    name = "pagopa-sim",
    version,
    about = "Plays the pagoPA node and PSPs against cassa"
)]
struct Cli {
    /// The EC's paForNode endpoint.
    #[arg(
        long,
        env = "PAGOPA_SIM_EC_URL",
        default_value = "http://127.0.0.1:8080/pagopa/paForNode",
        global = true
    )]
    ec_url: String,
    /// The EC's broker (idBrokerPA).
    #[arg(long, default_value = "80050050154", global = true)]
    broker_id: String,
    /// The EC's station (idStation).
    #[arg(long, default_value = "80050050154_01", global = true)]
    station_id: String,
    /// The secret sent to the EC on every call (cassa's node_auth_secret);
    /// the default is `cassa serve --demo`'s.
    #[arg(
        long,
        env = "PAGOPA_SIM_NODE_SECRET",
        default_value = "cassa-demo-node-secret",
        global = true
    )]
    node_secret: String,
    /// The header carrying it (cassa's node_auth_header).
    #[arg(long, default_value = "Ocp-Apim-Subscription-Key", global = true)]
    node_auth_header: String,
    /// Certificate authorities (PEM) trusted besides the system's, for an
    /// EC served over HTTPS with a private certificate.
    #[arg(long, global = true)]
    ca_file: Option<std::path::PathBuf>,
    /// A client certificate and key (PEM) presented to the EC, for a
    /// station that checks them (cassa's node_client_ca).
    #[arg(long, global = true, requires = "client_key")]
    client_cert: Option<std::path::PathBuf>,
    #[arg(long, global = true, requires = "client_cert")]
    client_key: Option<std::path::PathBuf>,
    /// Skip validating answers against the XSDs with xmllint (`load` never does:
    /// a process per message would measure xmllint).
    #[arg(long, global = true)]
    no_xsd: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pay a notice at a PSP: verify, activate, receipt. Prints key=value lines.
    PayNotice {
        /// The notice number (18 digits).
        notice: String,
        /// The ente's codice fiscale (idPA).
        #[arg(long)]
        ente: String,
    },
    /// Run many full cycles at once against a running cassa and print figures.
    Load(pagopa_sim::load::LoadArgs),
    /// Serve the HTTP API (POST /pay-notice), Checkout (POST
    /// /checkout/ec/v2/carts) and an OpenID Connect provider playing the
    /// SPID/CIE/CNS/eIDAS gateways (issuer <public-url>/oidc, discovery at
    /// /oidc/.well-known/openid-configuration) for tests and the demo.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
        /// How browsers reach this simulator; default `http://<listen>`.
        #[arg(long)]
        public_url: Option<String>,
        /// Milliseconds before the receipts of a payment "left pending" go out.
        #[arg(long, default_value_t = 10_000)]
        pending_delay_ms: u64,
        /// The client_id of the relying party (cassa) at the OIDC provider.
        #[arg(long, default_value = "cassa-demo")]
        oidc_client_id: String,
        /// Its client_secret.
        #[arg(long, default_value = "cassa-demo-secret")]
        oidc_client_secret: String,
        /// A redirect URI registered for it, compared exactly; repeatable.
        #[arg(long, default_value = "http://127.0.0.1:8080/accedi/oidc/ritorno")]
        oidc_redirect_uri: Vec<String>,
        /// Serve HTTPS with this certificate chain and key (PEM).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let tls = match node_tls(&cli) {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("pagopa-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let client = NodeClient::with_tls(
        Station {
            endpoint: cli.ec_url,
            broker_id: cli.broker_id,
            station_id: cli.station_id,
            auth: (!cli.node_secret.is_empty()).then_some(pagopa_sim::NodeAuth {
                header: cli.node_auth_header,
                secret: cli.node_secret,
            }),
        },
        tls,
    );
    match cli.command {
        Command::PayNotice { notice, ente } => {
            match runtime.block_on(pay_notice(
                &client,
                &Psp::default(),
                &ente,
                &notice,
                &RetryPolicy::default(),
            )) {
                Ok(paid) => {
                    say(&format!(
                        "outcome=OK\nnotice={}\nreceipt_id={}\namount={}\ndescription={}\ncompany_name={}\nreceipt_attempts={}\n",
                        paid.notice_number,
                        paid.receipt_id,
                        paid.amount,
                        paid.description,
                        paid.company_name,
                        paid.receipt_attempts
                    ));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    say("outcome=KO\n");
                    eprintln!("pagopa-sim: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Load(args) => match runtime.block_on(async {
            match &args.import_file {
                Some(file) => pagopa_sim::load_import::run(&client, &args, file).await,
                None => pagopa_sim::load::run(&client, &args).await,
            }
        }) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pagopa-sim: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Serve {
            listen,
            public_url,
            pending_delay_ms,
            oidc_client_id,
            oidc_client_secret,
            oidc_redirect_uri,
            tls_cert,
            tls_key,
        } => runtime.block_on(async {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => {
                    let files = cassa_net::ServerTlsFiles {
                        cert,
                        key,
                        client_ca: None,
                    };
                    match cassa_net::ServerTls::new(files) {
                        Ok(tls) => Some(tls),
                        Err(e) => {
                            eprintln!("pagopa-sim: {e}");
                            return ExitCode::FAILURE;
                        }
                    }
                }
                _ => None,
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            let public_url = public_url
                .unwrap_or_else(|| format!("{scheme}://{listen}"))
                .trim_end_matches('/')
                .to_owned();
            let provider = match OidcProvider::new(
                format!("{public_url}/oidc"),
                vec![OidcClient {
                    id: oidc_client_id,
                    secret: oidc_client_secret,
                    redirect_uris: oidc_redirect_uri,
                }],
            ) {
                Ok(provider) => std::sync::Arc::new(provider),
                Err(e) => {
                    eprintln!("pagopa-sim: {e:#}");
                    return ExitCode::FAILURE;
                }
            };
            let listener = match tokio::net::TcpListener::bind(listen).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("pagopa-sim: cannot listen on {listen}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let state = SimState {
                client,
                psp: Psp::default(),
                retry: RetryPolicy::default(),
                checkouts: std::sync::Arc::new(pagopa_sim::checkout::Checkouts::new(
                    public_url,
                    std::time::Duration::from_millis(pending_delay_ms),
                )),
            };
            println!(
                "pagopa-sim is serving on {scheme}://{listen}/ (POST /pay-notice, POST /checkout/ec/v2/carts, OIDC issuer {})",
                provider.issuer()
            );
            let app = router(state).merge(oidc::routes(provider));
            let limits = cassa_net::ServeLimits::default();
            let stop = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            match cassa_net::serve(listener, app, tls, limits, stop).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("pagopa-sim: {e}");
                    ExitCode::FAILURE
                }
            }
        }),
    }
}

/// What the node client trusts and presents when it calls the EC.
fn node_tls(cli: &Cli) -> Result<rustls::ClientConfig, cassa_net::TlsError> {
    let roots = cassa_net::TrustedRoots::load(cli.ca_file.as_deref())?;
    match (&cli.client_cert, &cli.client_key) {
        (Some(cert), Some(key)) => roots.client_config_presenting(cert, key),
        _ => Ok(roots.client_config()),
    }
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
fn say(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(text.as_bytes());
}
