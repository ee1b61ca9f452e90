//! The HTTP/1.1 server loop: plain or TLS, with the limits axum's own
//! `serve` lacks: a deadline for a request's headers (slowloris), for the
//! TLS handshake, a cap on open connections, and a graceful stop that does
//! not wait forever.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::ServerTls;

/// How a request reached us; an extension on every request.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Transport {
    /// Over TLS terminated by cassa itself.
    pub https: bool,
    /// The client presented a certificate that the configured CA signed.
    pub client_certificate: bool,
}

#[derive(Copy, Clone, Debug)]
pub struct ServeLimits {
    /// A request's headers (and the TLS handshake) must arrive within this;
    /// it also closes idle keep-alive connections.
    pub header_timeout: Duration,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// How long a stop waits for requests in flight.
    pub drain: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_timeout: Duration::from_secs(15),
            max_connections: 2048,
            drain: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish (up to `limits.drain`). Handlers see the
/// peer as `ConnectInfo<SocketAddr>` and the [`Transport`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<ServerTls>>,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let http = Arc::new(http);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let http = http.clone();
        let tls = tls.as_ref().map(|tls| tls.acceptor());
        let watcher = graceful.watcher();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => {
                    let transport = Transport {
                        https: false,
                        client_certificate: false,
                    };
                    let service = service(app, peer, transport);
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(connection).await;
                }
                Some(acceptor) => {
                    let stream =
                        match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                            Ok(Ok(stream)) => stream,
                            Ok(Err(error)) => {
                                tracing::debug!(%peer, %error, "TLS handshake refused");
                                return;
                            }
                            Err(_) => return,
                        };
                    let transport = Transport {
                        https: true,
                        client_certificate: stream.get_ref().1.peer_certificates().is_some(),
                    };
                    let service = service(app, peer, transport);
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(connection).await;
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the drain time: closed");
    }
    Ok(())
}

fn service(
    app: Router,
    peer: SocketAddr,
    transport: Transport,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(transport);
        app.clone().oneshot(request.map(axum::body::Body::new))
    })
}
