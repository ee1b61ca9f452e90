//! An SMTP sink on loopback: a real listener speaking enough SMTP
//! (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a client
//! such as lettre to deliver to it, keeping every message it accepts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::tls::IssuedFiles;

/// One message as delivered.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub from: String,
    pub to: Vec<String>,
    /// The message (headers and body) with the dot-stuffing undone.
    pub data: Vec<u8>,
    /// Whether the message came over TLS.
    pub tls: bool,
    /// The user name of an `AUTH PLAIN`, if the client logged in.
    pub user: Option<String>,
}

/// How the sink meets its clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Security {
    Plain,
    /// Offers STARTTLS and refuses mail and logins before it.
    StartTls,
    /// TLS from the first byte (port 465 style).
    Implicit,
}

pub struct SmtpSink {
    /// `smtp://127.0.0.1:<port>` (`smtps://` for implicit TLS).
    pub url: String,
    delivered: Arc<Mutex<Vec<Delivered>>>,
}

impl SmtpSink {
    /// A sink speaking plain SMTP.
    pub async fn start() -> SmtpSink {
        SmtpSink::listen(Security::Plain, None).await
    }

    /// A sink that requires STARTTLS before mail or AUTH, with `cert`.
    pub async fn start_starttls(cert: &IssuedFiles) -> SmtpSink {
        SmtpSink::listen(Security::StartTls, Some(acceptor(cert))).await
    }

    /// A sink speaking TLS from the first byte.
    pub async fn start_implicit_tls(cert: &IssuedFiles) -> SmtpSink {
        SmtpSink::listen(Security::Implicit, Some(acceptor(cert))).await
    }

    async fn listen(security: Security, tls: Option<TlsAcceptor>) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let scheme = if security == Security::Implicit {
            "smtps"
        } else {
            "smtp"
        };
        let url = format!("{scheme}://{}", listener.local_addr().expect("an address"));
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let store = delivered.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let store = store.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match (security, tls) {
                        (Security::Implicit, Some(tls)) => {
                            if let Ok(socket) = tls.accept(socket).await {
                                session(Box::new(socket), store, Security::Implicit, None, true)
                                    .await;
                            }
                        }
                        (security, tls) => {
                            session(Box::new(socket), store, security, tls, true).await
                        }
                    }
                });
            }
        });
        SmtpSink { url, delivered }
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.delivered.lock().expect("sink lock").clone()
    }

    /// Waits until at least `count` messages arrived (at most 10 s).
    pub async fn wait_for(&self, count: usize) -> Vec<Delivered> {
        for _ in 0..500 {
            let now = self.delivered();
            if now.len() >= count {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("expected {count} messages, got {:?}", self.delivered());
    }
}

fn acceptor(cert: &IssuedFiles) -> TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(&cert.cert)
        .expect("the certificate file")
        .collect::<Result<Vec<_>, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(&cert.key).expect("the key file");
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a server configuration");
    TlsAcceptor::from(Arc::new(config))
}

/// A plain or TLS connection.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send> Stream for S {}

/// One SMTP session. `tls`: the acceptor STARTTLS upgrades with; after the
/// upgrade the session starts again over TLS without a greeting.
async fn session(
    socket: Box<dyn Stream>,
    store: Arc<Mutex<Vec<Delivered>>>,
    security: Security,
    tls: Option<TlsAcceptor>,
    greet: bool,
) {
    let secure = security == Security::Implicit || (security == Security::StartTls && !greet);
    let mut lines = BufReader::new(socket);
    if greet
        && write_line(&mut lines, "220 sink.localhost ESMTP cassa-testkit")
            .await
            .is_err()
    {
        return;
    }
    let (mut from, mut to, mut user) = (String::new(), Vec::new(), None);
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_uppercase();
        let must_start_tls = security == Security::StartTls && !secure;
        let answer = match verb.as_str() {
            "EHLO" if must_start_tls => "250-sink.localhost\r\n250 STARTTLS".to_owned(),
            "EHLO" if secure => "250-sink.localhost\r\n250-AUTH PLAIN\r\n250 8BITMIME".to_owned(),
            "EHLO" => "250-sink.localhost\r\n250 8BITMIME".to_owned(),
            "STARTTLS" if must_start_tls => {
                let Some(acceptor) = tls.clone() else { return };
                if write_line(&mut lines, "220 ready to start TLS")
                    .await
                    .is_err()
                {
                    return;
                }
                let Ok(upgraded) = acceptor.accept(lines.into_inner()).await else {
                    return;
                };
                Box::pin(session(Box::new(upgraded), store, security, None, false)).await;
                return;
            }
            "MAIL" | "RCPT" | "DATA" | "AUTH" if must_start_tls => {
                "530 5.7.0 must issue a STARTTLS command first".to_owned()
            }
            "AUTH" => match auth_plain_user(&command) {
                Some(name) => {
                    user = Some(name);
                    "235 2.7.0 authenticated".to_owned()
                }
                None => "535 5.7.8 bad credentials".to_owned(),
            },
            "HELO" | "NOOP" => "250 OK".to_owned(),
            "RSET" => {
                from.clear();
                to.clear();
                "250 OK".to_owned()
            }
            "MAIL" => {
                from = address(&command);
                "250 OK".to_owned()
            }
            "RCPT" => {
                to.push(address(&command));
                "250 OK".to_owned()
            }
            "DATA" => {
                if write_line(&mut lines, "354 end with <CRLF>.<CRLF>")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut data = Vec::new();
                loop {
                    let mut raw = Vec::new();
                    if lines.read_until(b'\n', &mut raw).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if raw == b".\r\n" || raw == b".\n" {
                        break;
                    }
                    let unstuffed = if raw.starts_with(b"..") {
                        &raw[1..]
                    } else {
                        &raw[..]
                    };
                    data.extend_from_slice(unstuffed);
                }
                store.lock().expect("sink lock").push(Delivered {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                    tls: secure,
                    user: user.clone(),
                });
                "250 OK queued".to_owned()
            }
            "QUIT" => {
                let _ = write_line(&mut lines, "221 bye").await;
                return;
            }
            _ => "502 command not implemented".to_owned(),
        };
        if write_line(&mut lines, &answer).await.is_err() {
            return;
        }
    }
}

async fn write_line<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    text: &str,
) -> std::io::Result<()> {
    let stream = stream.get_mut();
    stream.write_all(format!("{text}\r\n").as_bytes()).await?;
    stream.flush().await
}

/// The user of `AUTH PLAIN <base64(authzid NUL user NUL password)>`;
/// any non-empty password is accepted.
fn auth_plain_user(command: &str) -> Option<String> {
    let encoded = command.split_whitespace().nth(2)?;
    let decoded =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded).ok()?;
    let mut parts = decoded.split(|b| *b == 0).skip(1);
    let user = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let password = parts.next()?;
    (!user.is_empty() && !password.is_empty()).then_some(user)
}

/// The address in `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}
