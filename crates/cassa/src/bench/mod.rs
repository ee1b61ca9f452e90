//! `cassa bench`: debt positions created through the HTTP API by concurrent
//! clients, against the same rows inserted directly in one transaction.
//! Server and clients share the machine, as they would in a load test on
//! one box; the figures are printed as `key=value` lines.

mod copy;
mod direct;
pub mod export;
mod http;
pub mod import;
pub mod notices;

use std::time::Duration;

use anyhow::Context;
use cassa_store::{Backend, Store, StoreOptions};
use sqlx::{AnyConnection, Connection, Executor};

use crate::config::Config;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Debt positions to create on each backend.
    #[arg(long, default_value_t = 100_000)]
    positions: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// A PostgreSQL server to measure too (a scratch database is created
    /// on it and dropped after). Without it only SQLite is measured.
    #[arg(long, env = "CASSA_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// Skip SQLite.
    #[arg(long)]
    no_sqlite: bool,
}

/// A scratch database that disappears afterwards.
struct Scratch {
    url: String,
    cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Scratch {
    async fn new(backend: Backend, postgres_url: Option<&str>) -> anyhow::Result<Scratch> {
        sqlx::any::install_default_drivers();
        match backend {
            Backend::Sqlite => {
                // In the data directory's file system, not a RAM disk: the
                // point is to pay for real fsyncs.
                let dir = tempfile::Builder::new()
                    .prefix("cassa-bench-")
                    .tempdir_in(".")?;
                let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
                Ok(Scratch {
                    url,
                    cleanup: None,
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let admin_url = postgres_url.context("no PostgreSQL URL")?;
                let name = format!("cassa_bench_{:08x}", rand_suffix());
                let mut admin = AnyConnection::connect(admin_url)
                    .await
                    .context("cannot reach PostgreSQL")?;
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await?;
                admin.close().await?;
                Ok(Scratch {
                    url: cassa_store::with_database(admin_url, &name),
                    cleanup: Some((admin_url.to_owned(), name)),
                    _dir: None,
                })
            }
        }
    }

    /// A scratch database on the PostgreSQL server at `postgres_url` when
    /// given, else on SQLite, with a store opened as `cassa serve` opens it.
    async fn open(
        config: &Config,
        postgres_url: Option<&str>,
    ) -> anyhow::Result<(Backend, Scratch, Store)> {
        let backend = if postgres_url.is_some() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let scratch = Scratch::new(backend, postgres_url).await?;
        let store = scratch
            .store(StoreOptions {
                max_connections: config.max_connections(&scratch.url),
                ..StoreOptions::default()
            })
            .await?;
        Ok((backend, scratch, store))
    }

    async fn store(&self, options: StoreOptions) -> anyhow::Result<Store> {
        let store = Store::connect(&self.url, options).await?;
        store.migrate().await?;
        Ok(store)
    }

    async fn drop_database(self) -> anyhow::Result<()> {
        if let Some((admin_url, name)) = self.cleanup {
            let mut admin = AnyConnection::connect(&admin_url).await?;
            admin
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
        ^ std::process::id()
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

pub async fn run(config: &Config, args: BenchArgs) -> anyhow::Result<()> {
    let mut backends = Vec::new();
    if !args.no_sqlite {
        backends.push(Backend::Sqlite);
    }
    if args.postgres_url.is_some() {
        backends.push(Backend::Postgres);
    } else {
        eprintln!(
            "no --postgres-url (or CASSA_BENCH_POSTGRES_URL): PostgreSQL not measured; scripts/bench.sh starts a throwaway server"
        );
    }
    let options = |url: &str| StoreOptions {
        max_connections: config.max_connections(url),
        ..StoreOptions::default()
    };
    println!("positions={}", args.positions);
    println!("clients={}", args.clients);
    for backend in backends {
        let name = backend.name();
        eprintln!(
            "{name}: creating {} positions over HTTP with {} clients...",
            args.positions, args.clients
        );
        let scratch = Scratch::new(backend, args.postgres_url.as_deref()).await?;
        let store = scratch.store(options(&scratch.url)).await?;
        let http = http::measure(&store, args.positions, args.clients).await?;
        store.close().await;
        scratch.drop_database().await?;

        eprintln!("{name}: inserting the same rows directly...");
        let scratch = Scratch::new(backend, args.postgres_url.as_deref()).await?;
        let store = scratch.store(options(&scratch.url)).await?;
        let ente = http::bench_ente(&store).await?;
        store.close().await;
        let direct = direct::measure(&scratch.url, ente.id, args.positions, 2).await?;
        scratch.drop_database().await?;

        let http_rate = per_second(args.positions, http.elapsed);
        let direct_rate = per_second(args.positions, direct);
        println!("{name}.http_seconds={:.2}", http.elapsed.as_secs_f64());
        println!("{name}.http_positions_per_second={http_rate:.0}");
        println!(
            "{name}.http_latency_p50_ms={:.2}",
            http.p50.as_secs_f64() * 1000.0
        );
        println!(
            "{name}.http_latency_p99_ms={:.2}",
            http.p99.as_secs_f64() * 1000.0
        );
        println!("{name}.direct_seconds={:.2}", direct.as_secs_f64());
        println!("{name}.direct_positions_per_second={direct_rate:.0}");
        println!("{name}.http_to_direct_ratio={:.3}", http_rate / direct_rate);
    }
    Ok(())
}
