//! How cassa meets the network. Every TLS connection, in or out, is made
//! with rustls and its `ring` provider (ARCHITECTURE.md says why); this
//! crate builds those configurations in one place and serves HTTP with the
//! limits a public server needs.
//!
//! - [`TrustedRoots`]: whom we trust when we connect out (the system's
//!   roots plus an optional private CA);
//! - [`ServerTls`]: our certificate when we serve HTTPS ourselves, with
//!   optional client-certificate checks, reloadable on SIGHUP;
//! - [`serve`]: the HTTP/1.1 accept loop with header timeouts, a
//!   connection limit and a graceful stop.

mod client;
mod http;
mod server_tls;

pub use client::TrustedRoots;
pub use http::{ServeLimits, Transport, serve};
pub use server_tls::{ServerTls, ServerTlsFiles};

/// An HTTP client builder that trusts the system's roots: for clients
/// with nothing to configure (load generators, tests). reqwest is built
/// without a default provider, so every client comes from here or from
/// [`TrustedRoots::http_client`].
pub fn http_client() -> reqwest::ClientBuilder {
    static SYSTEM: std::sync::OnceLock<TrustedRoots> = std::sync::OnceLock::new();
    SYSTEM.get_or_init(TrustedRoots::system).http_client()
}

/// The one cryptographic provider every TLS configuration uses. rustls
/// 0.23.48 deprecates ring's for lacking post-quantum key exchange; we keep
/// it for now (ARCHITECTURE.md, "TLS").
#[allow(deprecated)]
pub fn crypto_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    #[error("client certificate verifier: {0}")]
    Verifier(String),
}

impl TlsError {
    fn file(path: &std::path::Path, reason: impl std::fmt::Display) -> TlsError {
        TlsError::File {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}
