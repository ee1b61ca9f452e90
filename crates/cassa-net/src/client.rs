//! Whom we trust when we connect out: Checkout, the identity provider,
//! PostgreSQL, the mail relay.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::{TlsError, crypto_provider};

/// The system's certificate authorities plus, optionally, the ones in a PEM
/// file (`extra_ca_file`) for servers signed by a private CA.
#[derive(Clone, Debug)]
pub struct TrustedRoots {
    store: Arc<RootCertStore>,
    extra_ca_file: Option<PathBuf>,
    extra_ca_pem: Option<Arc<Vec<u8>>>,
}

impl TrustedRoots {
    /// Reads the system's roots (those the system's OpenSSL would use:
    /// `/etc/ssl/certs`, or `SSL_CERT_FILE` / `SSL_CERT_DIR`) and
    /// `extra_ca_file`. An extra file that cannot be read, or holds no
    /// certificate, is an error: silently trusting less than asked would
    /// only show later as refused connections.
    pub fn load(extra_ca_file: Option<&Path>) -> Result<TrustedRoots, TlsError> {
        let mut store = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::warn!(%error, "a system certificate could not be read");
        }
        store.add_parsable_certificates(native.certs);
        let mut extra_ca_pem = None;
        if let Some(path) = extra_ca_file {
            let pem = std::fs::read(path).map_err(|e| TlsError::file(path, e))?;
            let certs = certificates_in(path, &pem)?;
            for cert in certs {
                store
                    .add(cert)
                    .map_err(|e| TlsError::file(path, format!("not a CA certificate: {e}")))?;
            }
            extra_ca_pem = Some(Arc::new(pem));
        }
        Ok(TrustedRoots {
            store: Arc::new(store),
            extra_ca_file: extra_ca_file.map(Path::to_owned),
            extra_ca_pem,
        })
    }

    /// The system's roots alone; an unreadable system store trusts nothing
    /// (and every TLS connection is then refused, never let through).
    pub fn system() -> TrustedRoots {
        TrustedRoots::load(None).expect("without an extra file loading cannot fail")
    }

    /// A client configuration verifying servers against these roots (and
    /// their names), TLS 1.2 and 1.3 only.
    pub fn client_config(&self) -> rustls::ClientConfig {
        rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(self.store.clone())
            .with_no_client_auth()
    }

    /// Like [`TrustedRoots::client_config`], presenting a client
    /// certificate (mutual TLS) from PEM files.
    pub fn client_config_presenting(
        &self,
        cert: &Path,
        key: &Path,
    ) -> Result<rustls::ClientConfig, TlsError> {
        let pem = std::fs::read(cert).map_err(|e| TlsError::file(cert, e))?;
        let chain = certificates_in(cert, &pem)?;
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key)
            .map_err(|e| TlsError::file(key, format!("no private key: {e}")))?;
        Ok(
            rustls::ClientConfig::builder_with_provider(crypto_provider())
                .with_safe_default_protocol_versions()?
                .with_root_certificates(self.store.clone())
                .with_client_auth_cert(chain, key)?,
        )
    }

    /// An HTTP client builder that verifies servers against these roots;
    /// the one way cassa's HTTP clients are made.
    pub fn http_client(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder().tls_backend_preconfigured(self.client_config())
    }

    /// The private CA file, for clients that take a path (PostgreSQL's
    /// `sslrootcert`).
    pub fn extra_ca_file(&self) -> Option<&Path> {
        self.extra_ca_file.as_deref()
    }

    /// The private CA file's content, for clients that take PEM (lettre).
    pub fn extra_ca_pem(&self) -> Option<&[u8]> {
        self.extra_ca_pem.as_deref().map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }
}

/// Every certificate in a PEM file; none is an error.
pub(crate) fn certificates_in(
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::file(path, format!("not a PEM file: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::file(path, "holds no CERTIFICATE block"));
    }
    Ok(certs)
}
