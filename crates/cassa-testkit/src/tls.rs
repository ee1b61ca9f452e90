//! A throwaway certificate authority, for tests that talk to real TLS
//! servers (pagopa-sim over HTTPS, the SMTP sink's STARTTLS, PostgreSQL
//! with `ssl=on`) and trust them the way production trusts a private CA:
//! through `extra_ca_file`.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Files of one issued certificate and its key (PEM).
#[derive(Clone, Debug)]
pub struct IssuedFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub struct TestCa {
    dir: tempfile::TempDir,
    issuer: CertifiedIssuer<'static, KeyPair>,
    ca_file: PathBuf,
}

impl TestCa {
    /// A new CA, its certificate written to `ca.pem` in a temp directory.
    pub fn new(name: &str) -> TestCa {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut params = CertificateParams::new(Vec::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("a CA certificate");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, issuer.pem()).expect("write ca.pem");
        TestCa {
            dir,
            issuer,
            ca_file,
        }
    }

    /// The CA's certificate, for `extra_ca_file` or `node_client_ca`.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// A server certificate for `localhost` and 127.0.0.1.
    pub fn server(&self, file_stem: &str) -> IssuedFiles {
        self.issue(
            file_stem,
            vec!["localhost".into(), "127.0.0.1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client certificate (mutual TLS), named `common_name`.
    pub fn client(&self, common_name: &str) -> IssuedFiles {
        self.issue(common_name, Vec::new(), ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn issue(
        &self,
        name: &str,
        alt_names: Vec<String>,
        usage: ExtendedKeyUsagePurpose,
    ) -> IssuedFiles {
        let mut params = CertificateParams::new(alt_names).expect("certificate parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("a key");
        let cert = params.signed_by(&key, &self.issuer).expect("a certificate");
        let files = IssuedFiles {
            cert: self.dir.path().join(format!("{name}.crt")),
            key: self.dir.path().join(format!("{name}.key")),
        };
        std::fs::write(&files.cert, cert.pem()).expect("write the certificate");
        std::fs::write(&files.key, key.serialize_pem()).expect("write the key");
        files
    }
}
