//! The mailer: sends what the outbox holds (cassa-store's `outbox`), one
//! message at a time, over SMTP (lettre) or into a directory of `.eml`
//! files when no SMTP server is configured (the demo). A message that
//! cannot go now is retried later; a permanent refusal (a 5xx, a bad
//! address) is given up at once. Each message carries a Message-ID made
//! from its dedupe key, so that in the rare case of a resend (the process
//! died between the server's OK and our record of it) mail systems can
//! tell it is the same message.

use std::path::PathBuf;
use std::time::Duration;

use cassa_core::NoticeNumber;
use cassa_store::{MailKind, OutboxMail, Store};
use jiff::{SignedDuration, Timestamp};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::printouts::receipt_pdf_of_notice;

/// Where messages go.
#[derive(Clone)]
pub enum MailTransport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `.eml` file per message, for the demo and for looking at them.
    Directory(PathBuf),
}

impl MailTransport {
    /// An SMTP server from a URL:
    /// - `smtp://[user:password@]host[:port]`: STARTTLS, required (port 587
    ///   by default); a server that does not offer it is refused;
    /// - `smtps://[user:password@]host[:port]`: TLS from the first byte
    ///   (port 465 by default);
    /// - `smtp://host[:port]?tls=none`: plain SMTP, for a relay on a trusted
    ///   network; never with credentials, which would travel in clear.
    ///
    /// Servers are verified against the system's roots plus `extra_ca_pem`.
    pub fn smtp(url: &str, extra_ca_pem: Option<&[u8]>) -> Result<MailTransport, String> {
        let endpoint = SmtpEndpoint::parse(url)?;
        let bad = |why: String| format!("smtp_url {}: {why}", endpoint.redacted());
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(endpoint.host.as_str())
                .port(endpoint.port)
                .timeout(Some(Duration::from_secs(30)));
        if endpoint.security != SmtpSecurity::None {
            let mut parameters = TlsParameters::builder(endpoint.host.clone());
            if let Some(pem) = extra_ca_pem {
                let certificate =
                    Certificate::from_pem(pem).map_err(|e| bad(format!("extra_ca_file: {e}")))?;
                parameters = parameters.add_root_certificate(certificate);
            }
            let parameters = parameters
                .build_rustls()
                .map_err(|e| bad(format!("TLS: {e}")))?;
            builder = builder.tls(match endpoint.security {
                SmtpSecurity::StartTls => Tls::Required(parameters),
                _ => Tls::Wrapper(parameters),
            });
        }
        if let Some((user, password)) = endpoint.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(MailTransport::Smtp(builder.build()))
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum SmtpSecurity {
    StartTls,
    Implicit,
    None,
}

/// `smtp_url`, parsed.
#[derive(Debug, PartialEq, Eq)]
struct SmtpEndpoint {
    security: SmtpSecurity,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl SmtpEndpoint {
    fn parse(url: &str) -> Result<SmtpEndpoint, String> {
        let shown = redact_userinfo(url);
        let bad = |why: &str| format!("smtp_url {shown}: {why}");
        let (mut security, rest) = if let Some(rest) = url.strip_prefix("smtps://") {
            (SmtpSecurity::Implicit, rest)
        } else if let Some(rest) = url.strip_prefix("smtp://") {
            (SmtpSecurity::StartTls, rest)
        } else {
            return Err(bad("must start with smtp:// or smtps://"));
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        for parameter in query.split('&').filter(|p| !p.is_empty()) {
            match parameter {
                "tls=none" if security == SmtpSecurity::StartTls => security = SmtpSecurity::None,
                "tls=required" if security == SmtpSecurity::StartTls => {}
                _ => return Err(bad(&format!("unknown parameter {parameter:?}"))),
            }
        }
        let rest = rest.trim_end_matches('/');
        let (credentials, address) = match rest.rsplit_once('@') {
            Some((userinfo, address)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                (Some((user.to_owned(), password.to_owned())), address)
            }
            None => (None, rest),
        };
        let default_port = match security {
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Implicit => 465,
            SmtpSecurity::None => 25,
        };
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| bad("bad port"))?),
            None => (address, default_port),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if security == SmtpSecurity::None && credentials.is_some() {
            return Err(bad(
                "credentials with tls=none would travel in clear: use STARTTLS or smtps://",
            ));
        }
        Ok(SmtpEndpoint {
            security,
            host: host.to_owned(),
            port,
            credentials,
        })
    }

    fn redacted(&self) -> String {
        let scheme = if self.security == SmtpSecurity::Implicit {
            "smtps"
        } else {
            "smtp"
        };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

/// The URL without its password, for messages.
fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[derive(Clone)]
pub struct Mailer {
    store: Store,
    transport: MailTransport,
    from: Mailbox,
    /// The portal's address, for links.
    public_url: String,
    idle: Duration,
}

/// Why a message did not go.
struct SendError {
    message: String,
    permanent: bool,
}

impl Mailer {
    pub fn new(
        store: Store,
        transport: MailTransport,
        from: &str,
        public_url: &str,
    ) -> Result<Mailer, String> {
        Ok(Mailer {
            store,
            transport,
            from: from.parse().map_err(|e| format!("mail_from {from}: {e}"))?,
            public_url: public_url.trim_end_matches('/').to_owned(),
            idle: Duration::from_secs(2),
        })
    }

    pub fn with_idle(mut self, idle: Duration) -> Mailer {
        self.idle = idle;
        self
    }

    /// Sends messages as they come, forever.
    pub async fn run(self) {
        loop {
            match self.send_next().await {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(self.idle).await,
                Err(e) => {
                    tracing::error!(error = %e, "mailer: the outbox could not be read");
                    tokio::time::sleep(self.idle * 5).await;
                }
            }
        }
    }

    /// Sends the next message due, if any; `true` when there was one.
    pub async fn send_next(&self) -> Result<bool, cassa_store::StoreError> {
        self.send_next_due_at(Timestamp::now()).await
    }

    /// [`Mailer::send_next`] as if it were `now`: what is due by then.
    pub async fn send_next_due_at(&self, now: Timestamp) -> Result<bool, cassa_store::StoreError> {
        let lease = SignedDuration::from_secs(120);
        let Some(mail) = self.store.claim_mail(lease, now).await? else {
            return Ok(false);
        };
        match self.send(&mail).await {
            Ok(()) => {
                if !self.store.mail_sent(&mail, Timestamp::now()).await? {
                    tracing::warn!(mail = mail.id, "mailer: sent after its lease ran out");
                }
            }
            Err(e) => {
                tracing::warn!(mail = mail.id, permanent = e.permanent, error = %e.message, "mailer: not sent");
                self.store
                    .mail_failed(&mail, &e.message, e.permanent, Timestamp::now())
                    .await?;
            }
        }
        Ok(true)
    }

    async fn send(&self, mail: &OutboxMail) -> Result<(), SendError> {
        let message = self.build(mail).await?;
        match &self.transport {
            MailTransport::Smtp(smtp) => {
                smtp.send(message).await.map(|_| ()).map_err(|e| SendError {
                    permanent: e.is_permanent(),
                    message: e.to_string(),
                })
            }
            MailTransport::Directory(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| SendError {
                        message: format!("{}: {e}", dir.display()),
                        permanent: false,
                    })?;
                AsyncFileTransport::<Tokio1Executor>::new(dir)
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError {
                        message: e.to_string(),
                        permanent: false,
                    })
            }
        }
    }

    async fn build(&self, mail: &OutboxMail) -> Result<Message, SendError> {
        let permanent = |message: String| SendError {
            message,
            permanent: true,
        };
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|e| permanent(format!("recipient {}: {e}", mail.recipient)))?;
        let en = mail.lang == "en";
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .message_id(Some(format!(
                "<{}@{}>",
                mail.dedupe_key
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "."),
                self.from.email.domain()
            )));
        let built = match mail.kind {
            MailKind::CartResume => {
                let link = format!("{}/carrello/riprendi/{}", self.public_url, mail.payload);
                let (subject, body) = if en {
                    (
                        "Your cart on the Payments Portal",
                        format!(
                            "Hello,\n\nyou put payment notices in a cart on the Payments Portal. \
                             To pick up where you left off, open:\n\n{link}\n\n\
                             Anyone with this link can see the cart: do not pass it on.\n"
                        ),
                    )
                } else {
                    (
                        "Il tuo carrello sul Portale Pagamenti",
                        format!(
                            "Gentile utente,\n\nhai inserito degli avvisi nel carrello del Portale Pagamenti. \
                             Per riprendere il pagamento da dove eri rimasto apri:\n\n{link}\n\n\
                             Chi ha questo link può vedere il carrello: non inoltrarlo.\n"
                        ),
                    )
                };
                builder
                    .subject(subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(body)
            }
            MailKind::Receipt => {
                let (pdf, notice, body) = self.receipt(mail, en).await?;
                let subject = if en {
                    format!("Payment receipt, notice {}", notice.printed())
                } else {
                    format!("Ricevuta di pagamento, avviso {}", notice.printed())
                };
                builder.subject(subject).multipart(
                    MultiPart::mixed()
                        .singlepart(SinglePart::plain(body))
                        .singlepart(Attachment::new(format!("ricevuta-{notice}.pdf")).body(
                            pdf,
                            ContentType::parse("application/pdf").expect("a MIME type"),
                        )),
                )
            }
        };
        built.map_err(|e| permanent(e.to_string()))
    }

    /// The receipt's PDF, its notice and the text around it.
    async fn receipt(
        &self,
        mail: &OutboxMail,
        en: bool,
    ) -> Result<(Vec<u8>, NoticeNumber, String), SendError> {
        let retry = |message: String| SendError {
            message,
            permanent: false,
        };
        let gone = |what: &str| SendError {
            message: format!("{what} of mail {} no longer exists", mail.id),
            permanent: true,
        };
        let id: i64 = mail.payload.parse().map_err(|_| gone("the receipt id"))?;
        let receipt = self
            .store
            .receipt_by_id(id)
            .await
            .map_err(|e| retry(e.to_string()))?
            .ok_or_else(|| gone("the receipt"))?;
        let ente = self
            .store
            .ente_by_id(receipt.ente_id)
            .await
            .map_err(|e| retry(e.to_string()))?
            .ok_or_else(|| gone("the ente"))?;
        let pdf = receipt_pdf_of_notice(&self.store, receipt.ente_id, &receipt.notice_number)
            .await
            .map_err(|e| retry(e.to_string()))?
            .ok_or_else(|| gone("the paid notice"))?;
        let notice = NoticeNumber::parse(&receipt.notice_number)
            .map_err(|_| gone("the notice number"))?
            .notice;
        let amount = receipt.amount.to_italian();
        let body = if en {
            format!(
                "Hello,\n\nyour payment of {amount} to {} (notice {}) has been received through pagoPA. \
                 The receipt is attached.\n\nReceipt id: {}\n",
                ente.name,
                notice.printed(),
                receipt.receipt_id
            )
        } else {
            format!(
                "Gentile utente,\n\nil pagamento di {amount} a favore di {} (avviso {}) è stato ricevuto tramite pagoPA. \
                 In allegato la ricevuta.\n\nIdentificativo ricevuta: {}\n",
                ente.name,
                notice.printed(),
                receipt.receipt_id
            )
        };
        Ok((pdf, notice, body))
    }
}

#[cfg(test)]
mod tests {
    use super::{SmtpEndpoint, SmtpSecurity};

    #[test]
    fn smtp_urls_choose_tls_and_refuse_clear_credentials() {
        let starttls = SmtpEndpoint::parse("smtp://u:p@mail.example").unwrap();
        assert_eq!(starttls.security, SmtpSecurity::StartTls);
        assert_eq!(starttls.port, 587);
        assert_eq!(starttls.credentials, Some(("u".into(), "p".into())));
        let implicit = SmtpEndpoint::parse("smtps://mail.example").unwrap();
        assert_eq!(
            (implicit.security, implicit.port),
            (SmtpSecurity::Implicit, 465)
        );
        let plain = SmtpEndpoint::parse("smtp://relay:2525?tls=none").unwrap();
        assert_eq!((plain.security, plain.port), (SmtpSecurity::None, 2525));
        let refused = SmtpEndpoint::parse("smtp://u:secret@relay?tls=none").unwrap_err();
        assert!(refused.contains("in clear"), "{refused}");
        assert!(
            !refused.contains("secret"),
            "the password is not shown: {refused}"
        );
        assert!(SmtpEndpoint::parse("smtps://relay?tls=none").is_err());
        assert!(SmtpEndpoint::parse("smtp://relay?tls=maybe").is_err());
        assert!(SmtpEndpoint::parse("http://relay").is_err());
    }
}
