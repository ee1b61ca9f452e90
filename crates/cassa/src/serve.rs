//! `cassa serve`: the web application, plus the periodic sweep (position
//! statuses, export retention).

use std::time::Duration;

use anyhow::Context;
use cassa_store::Store;
use cassa_web::{AppState, metrics_router, node_router, router, router_without_node};
use jiff::Timestamp;

use crate::config::{Config, redact};
use crate::console::announce;
use crate::database::open_store;
use crate::demo;

pub async fn run(config: &Config, with_demo: bool) -> anyhow::Result<()> {
    let pagopa = config.pagopa(with_demo)?;
    let store = open_store(config).await?;
    if with_demo {
        if store.list_enti().await?.is_empty() {
            let loaded = demo::load(&store).await?;
            demo::print(&loaded, config, &pagopa);
        } else {
            eprintln!("The store already holds data: demo data not loaded again.");
        }
    }
    let roots = config.trusted_roots()?;
    // One sealing key for every process sharing this database.
    let sealer = store
        .server_key(&cassa_web::seal::Sealer::random().key_hex())
        .await
        .ok()
        .and_then(|hex| cassa_web::seal::Sealer::from_hex(&hex))
        .context("the server key could not be read from the database")?;
    let portal_tls = config.server_tls(false)?;
    let node_tls = config.server_tls(true)?;
    let scheme = if portal_tls.is_some() {
        "https"
    } else {
        "http"
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, database = store.backend().name(), "cassa is serving");
    let mail = match &config.smtp_url {
        Some(url) => format!("sent through {}", redact(url)),
        None => format!(
            "written as .eml files into {}",
            config
                .mail_dir
                .clone()
                .unwrap_or_else(|| config.data_dir.join("mail"))
                .display()
        ),
    };
    let node_settings = config.node_settings(&pagopa, with_demo);
    let node_listener = match config.node_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (node_listen)"))?,
        ),
        None => None,
    };
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (metrics_listen)"))?,
        ),
        None => None,
    };
    let metrics_line = match (&metrics_listener, &config.metrics_token) {
        (Some(listener), _) => format!("http://{}/metrics", listener.local_addr()?),
        (None, Some(_)) => format!("{scheme}://{address}/metrics with the metrics_token"),
        (None, None) => "not served: set metrics_listen or metrics_token".to_owned(),
    };
    let node_address = match &node_listener {
        Some(l) => l.local_addr()?,
        None => address,
    };
    let fence = &node_settings.fence;
    let fenced = if fence.is_closed() {
        tracing::warn!(
            "the pagoPA node endpoint refuses every call: set node_allowed_networks and/or node_auth_secret"
        );
        "REFUSES EVERY CALL: set node_allowed_networks and/or node_auth_secret".to_owned()
    } else {
        let mut checks = Vec::new();
        if !fence.allowed_networks.is_empty() {
            checks.push("callers from node_allowed_networks".to_owned());
        }
        if fence.secret.is_some() {
            checks.push(format!("the secret in {}", fence.header));
        }
        format!("accepts {}", checks.join(" with "))
    };
    let client_certificates = match &node_tls {
        Some(tls) if tls.requires_client_certificate() => {
            "; only clients with a certificate signed by node_client_ca"
        }
        _ => "",
    };
    announce(&format!(
        "cassa is serving on {scheme}://{address}/ (API reference: {scheme}://{address}/api/docs)\n\
         pagoPA node endpoint: {scheme}://{node_address}/pagopa/paForNode (idBrokerPA {}, idStation {}); {fenced}{client_certificates}\n\
         pagoPA Checkout: {}\n\
         citizens' e-mails: {mail}\n\
         metrics: {metrics_line}\n",
        pagopa.broker_id, pagopa.station_id, pagopa.checkout_url
    ));

    let sweeper = tokio::spawn(sweep(
        store.clone(),
        config.files(),
        Duration::from_secs(config.status_sweep_seconds),
    ));
    let mailer = config.mailer(store.clone())?;
    let worker = config.serve_runs_jobs.then(|| {
        (
            tokio::spawn(config.worker(store.clone()).run()),
            tokio::spawn(mailer.run()),
        )
    });
    let state = AppState::new(store.clone(), config.files())
        .with_node(node_settings)
        .with_portal(config.portal_settings(&pagopa, &roots))
        .with_citizen_login(config.citizen_login(with_demo, &roots))
        .with_ops(config.ops_settings())
        .with_trusted_proxies(config.trusted_proxies())
        .with_sealer(sealer)
        .with_backoffice(config.backoffice_settings());
    let reloader = tokio::spawn(reload_certificates_on_hangup(
        [portal_tls.clone(), node_tls.clone()]
            .into_iter()
            .flatten()
            .collect(),
    ));
    let limits = cassa_net::ServeLimits::default();
    let (stop, stopping) = tokio::sync::watch::channel(());
    let node_server = node_listener.map(|listener| {
        let app = node_router(state.clone());
        let mut stopping = stopping.clone();
        tokio::spawn(cassa_net::serve(
            listener,
            app,
            node_tls,
            limits,
            async move {
                let _ = stopping.changed().await;
            },
        ))
    });
    let metrics_server = metrics_listener.map(|listener| {
        let app = metrics_router(state.clone());
        let mut stopping = stopping.clone();
        tokio::spawn(cassa_net::serve(listener, app, None, limits, async move {
            let _ = stopping.changed().await;
        }))
    });
    let app = if node_server.is_some() {
        router_without_node(state)
    } else {
        router(state)
    };
    let served = cassa_net::serve(listener, app, portal_tls, limits, async move {
        shutdown_signal().await;
        let _ = stop.send(());
    })
    .await;
    reloader.abort();
    if let Some(node_server) = node_server {
        node_server
            .await
            .context("the node listener stopped")?
            .context("the node listener stopped with an error")?;
    }
    if let Some(metrics_server) = metrics_server {
        metrics_server
            .await
            .context("the metrics listener stopped")?
            .context("the metrics listener stopped with an error")?;
    }
    served.context("the server stopped with an error")?;
    sweeper.abort();
    // A job cut short is taken over by a worker when its lease runs out.
    if let Some((worker, mailer)) = worker {
        worker.abort();
        mailer.abort();
    }
    store.close().await;
    tracing::info!("cassa stopped");
    Ok(())
}

/// Moves PUBLISHED positions whose validity date has come to VALID and
/// VALID ones past their due date to EXPIRED (when they ask to), discards
/// what ended imports staged and never published, and deletes export files
/// past their 30 days and uploads no unfinished import needs.
async fn sweep(store: Store, files: cassa_jobs::FileStore, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        match store.sweep_statuses(Timestamp::now()).await {
            Ok((0, 0)) => {}
            Ok((valid, expired)) => tracing::info!(valid, expired, "position statuses updated"),
            Err(e) => tracing::error!(error = %e, "status sweep failed; retrying at the next tick"),
        }
        match store.discard_abandoned_imports().await {
            Ok(0) => {}
            Ok(imports) => tracing::info!(imports, "positions staged by ended imports discarded"),
            Err(e) => tracing::error!(error = %e, "discarding abandoned imports failed; retrying"),
        }
        match cassa_jobs::retention::expire_exports(&store, &files, Timestamp::now()).await {
            Ok(0) => {}
            Ok(jobs) => tracing::info!(jobs, "old export files deleted"),
            Err(e) => {
                tracing::error!(error = %e, "export retention failed; retrying at the next tick")
            }
        }
        let past = Timestamp::now() - cassa_http::rate_limit::KEEP_COUNTS;
        if let Err(e) = store.forget_hits_before(past).await {
            tracing::error!(error = %e, "old rate-limit counts could not be deleted; retrying");
        }
        if let Err(e) = store.forget_spent_tokens(Timestamp::now()).await {
            tracing::error!(error = %e, "expired spent tokens could not be deleted; retrying");
        }
        match cassa_jobs::retention::remove_stale_uploads(&store, &files).await {
            Ok(0) => {}
            Ok(uploads) => tracing::info!(uploads, "uploads no import needs deleted"),
            Err(e) => {
                tracing::error!(error = %e, "upload cleanup failed; retrying at the next tick")
            }
        }
    }
}

/// Re-reads the certificates on SIGHUP (a renewal); a bad file keeps the
/// ones in use and says why.
async fn reload_certificates_on_hangup(certificates: Vec<std::sync::Arc<cassa_net::ServerTls>>) {
    #[cfg(unix)]
    {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("no SIGHUP handler: certificates are read again only at restart");
            return;
        };
        while hangups.recv().await.is_some() {
            for tls in &certificates {
                let cert = tls.files().cert.display().to_string();
                match tls.reload() {
                    Ok(()) => tracing::info!(%cert, "TLS certificate reloaded"),
                    Err(error) => {
                        tracing::error!(%cert, %error, "TLS certificate not reloaded: the previous one stays")
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = certificates;
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down: finishing requests in flight");
}

/// `cassa worker`: runs queued jobs and sends e-mails until stopped,
/// without serving HTTP.
pub async fn work(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let worker = tokio::spawn(config.worker(store.clone()).run());
    let mailer = tokio::spawn(config.mailer(store.clone())?.run());
    shutdown_signal().await;
    worker.abort();
    mailer.abort();
    store.close().await;
    Ok(())
}
