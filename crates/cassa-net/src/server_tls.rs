//! Our certificate when cassa serves HTTPS itself, and the optional check
//! of the client's certificate (mutual TLS, as pagoPA connects to
//! stations). Reloadable: a renewed certificate is picked up on SIGHUP
//! without dropping connections.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use rustls::server::WebPkiClientVerifier;

use crate::client::certificates_in;
use crate::{TlsError, crypto_provider};

/// Where the certificate chain, its key and (for mutual TLS) the CAs that
/// sign acceptable client certificates are.
#[derive(Clone, Debug)]
pub struct ServerTlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

impl ServerTlsFiles {
    /// Reads the files into a server configuration. With `client_ca`, a
    /// client without a certificate signed by it fails the handshake.
    pub fn load(&self) -> Result<ServerConfig, TlsError> {
        let pem = std::fs::read(&self.cert).map_err(|e| TlsError::file(&self.cert, e))?;
        let chain = certificates_in(&self.cert, &pem)?;
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| TlsError::file(&self.key, format!("no private key: {e}")))?;
        let builder = ServerConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| TlsError::file(path, e))?;
                let mut roots = rustls::RootCertStore::empty();
                for cert in certificates_in(path, &pem)? {
                    roots
                        .add(cert)
                        .map_err(|e| TlsError::file(path, format!("not a CA certificate: {e}")))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), crypto_provider())
                        .build()
                        .map_err(|e| TlsError::Verifier(e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// A server configuration that can be swapped while serving.
#[derive(Debug)]
pub struct ServerTls {
    files: ServerTlsFiles,
    current: RwLock<Arc<ServerConfig>>,
}

impl ServerTls {
    pub fn new(files: ServerTlsFiles) -> Result<Arc<ServerTls>, TlsError> {
        let config = Arc::new(files.load()?);
        Ok(Arc::new(ServerTls {
            files,
            current: RwLock::new(config),
        }))
    }

    /// Reads the files again. On an error the configuration in use stays:
    /// a half-written renewal must not take the site down.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = Arc::new(self.files.load()?);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = config;
        Ok(())
    }

    pub fn files(&self) -> &ServerTlsFiles {
        &self.files
    }

    pub fn requires_client_certificate(&self) -> bool {
        self.files.client_ca.is_some()
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let config = self
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        tokio_rustls::TlsAcceptor::from(config)
    }
}
