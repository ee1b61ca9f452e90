//! `cassa`: the one binary operators run.

mod admin;
mod bench;
mod config;
mod console;
mod database;
mod demo;
mod demo_anomaly;
mod operators;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use config::{Config, LogFormat, Overrides};

#[derive(Parser)]
#[command(
    name = "cassa",
    version,
    about = "pagoPA payments platform for Italian public bodies"
)]
struct Cli {
    /// Configuration file (TOML). Default: cassa.toml in the data directory, if present.
    #[arg(long, global = true, env = "CASSA_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (the SQLite database lives here unless DATABASE_URL says otherwise).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application and the APIs.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Load the demo data first if the store is empty.
        #[arg(long)]
        demo: bool,
        /// Serve the pagoPA node endpoint (/pagopa/*) on this address
        /// only, so the portal's port never exposes it.
        #[arg(long)]
        node_listen: Option<SocketAddr>,
    },
    /// Run queued background jobs (printing, imports, exports) and send e-mails, without serving HTTP.
    Worker,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Load the demo data into an empty store and print it as key=value lines.
    Demo,
    /// Manage enti.
    #[command(subcommand)]
    Ente(admin::EnteCommand),
    /// Manage API keys of the integration API.
    #[command(subcommand)]
    Apikey(admin::ApikeyCommand),
    /// Manage back-office operators and their roles.
    #[command(subcommand)]
    Operator(operators::OperatorCommand),
    /// Measure debt-position creation over HTTP against direct inserts.
    Bench(bench::BenchArgs),
    /// Measure a bulk print of notices, end to end (time and peak memory).
    BenchNotices(bench::notices::BenchNoticesArgs),
    /// Measure the import of a MyPay file, end to end, against a bulk load.
    BenchImport(bench::import::BenchImportArgs),
    /// Measure the export of paid debts (MyPay flusso pagati), end to end.
    BenchExport(bench::export::BenchExportArgs),
}

/// Imports, exports and page renders allocate many small strings: mimalloc
/// keeps that cheap (glibc's malloc was a fifth of a large import's time).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (listen, node_listen) = match &cli.command {
        Command::Serve {
            listen,
            node_listen,
            ..
        } => (*listen, *node_listen),
        _ => (None, None),
    };
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        listen,
        node_listen,
    };
    let config = match Config::load(cli.config.as_deref(), &overrides) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("cassa: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config, matches!(cli.command, Command::Serve { .. }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { demo, .. } => serve::run(&config, demo).await,
            Command::Worker => serve::work(&config).await,
            Command::Migrate => admin::migrate(&config).await,
            Command::Demo => demo::run(&config).await,
            Command::Ente(command) => admin::ente(&config, command).await,
            Command::Apikey(command) => admin::apikey(&config, command).await,
            Command::Operator(command) => operators::run(&config, command).await,
            Command::Bench(args) => bench::run(&config, args).await,
            Command::BenchNotices(args) => bench::notices::run(&config, args).await,
            Command::BenchImport(args) => bench::import::run(&config, args).await,
            Command::BenchExport(args) => bench::export::run(&config, args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cassa: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, so commands whose stdout is a contract (`apikey
/// create`, `demo`) stay clean. Only `serve` logs at info by default.
fn init_logging(config: &Config, serving: bool) {
    let filter = if serving || std::env::var_os("CASSA_LOG_FILTER").is_some() {
        config.log_filter.clone()
    } else {
        "warn".to_owned()
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
