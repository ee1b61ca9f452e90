//! Configuration: defaults, then a TOML file, then `CASSA_*` environment
//! variables (and `DATABASE_URL`), then command-line flags. A bad value is
//! reported with its key and where it came from, and the process stops.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cassa_web::client_addr::{Networks, ProxyHeader, TrustedProxies};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything `cassa` reads at start.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where cassa keeps its files (the SQLite database by default).
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; default: SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Where jobs leave the files they produce (bulk print ZIPs); default
    /// `files` in `data_dir`. Several cassa processes must share it.
    pub files_dir: Option<PathBuf>,
    /// Run queued jobs inside `cassa serve` too (besides `cassa worker`).
    pub serve_runs_jobs: bool,
    /// How long a worker holds a job without renewing it (it renews four
    /// times as often); a job whose worker died is taken over after this.
    pub job_lease_seconds: u64,
    /// Connections in the database pool. Default: 2 per core on SQLite
    /// (readers beside the one writer; more only adds thread switching),
    /// 3 per core on PostgreSQL (more backends than cores just contend).
    pub database_max_connections: Option<u32>,
    /// Address `cassa serve` listens on.
    pub listen: SocketAddr,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// A tracing filter, e.g. `info` or `info,cassa_store=debug`.
    pub log_filter: String,
    /// Seconds between sweeps that move positions to VALID or EXPIRED.
    pub status_sweep_seconds: u64,
    /// Our intermediary's id towards the pagoPA node (idBrokerPA); no
    /// default outside `--demo`.
    pub pagopa_broker_id: Option<String>,
    /// Our station's id at the pagoPA node (idStation); no default
    /// outside `--demo`.
    pub pagopa_station_id: Option<String>,
    /// Minutes an activation (paGetPayment) blocks other activations of
    /// the same notice; the node's payment token lasts 30.
    pub pagopa_activation_minutes: u32,
    /// Serve a do-nothing SOAP route at /pagopa/echo, for benchmarks only.
    pub pagopa_echo_route: bool,
    /// Where the node's calls may come from (CIDRs, a list or one
    /// comma-separated string); empty: not checked.
    pub node_allowed_networks: Networks,
    /// The secret the node sends in `node_auth_header` (at least 16
    /// characters); none: not checked. With neither this nor the networks
    /// the node endpoint refuses every call (`--demo` has its own secret).
    pub node_auth_secret: Option<String>,
    pub node_auth_header: String,
    /// Serve `/pagopa/*` on this address only, apart from the portal.
    pub node_listen: Option<SocketAddr>,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the real
    /// client (for rate limits, logs and the node fence) and whose
    /// `proto=` / `X-Forwarded-Proto` say it came over HTTPS.
    pub trusted_proxies: Networks,
    /// The header the trusted proxies name the client in:
    /// `x-forwarded-for` (with `X-Forwarded-Proto`) or `forwarded`
    /// (RFC 7239). Only that one is read.
    pub proxy_header: ProxyHeader,
    /// `/metrics` on the portal's listener answers only with
    /// `Authorization: Bearer <metrics_token>` (at least 16 characters);
    /// none: not served there.
    pub metrics_token: Option<String>,
    /// Serve `/metrics` and `/healthz` without a token on this address,
    /// for a monitoring network.
    pub metrics_listen: Option<SocketAddr>,
    /// Certificate authorities (PEM) trusted besides the system's, for
    /// servers signed by a private CA: Checkout, the identity provider,
    /// PostgreSQL (as its `sslrootcert` unless the URL names one), SMTP.
    pub extra_ca_file: Option<PathBuf>,
    /// Serve HTTPS directly with this certificate chain and key (PEM);
    /// re-read on SIGHUP. Without them cassa serves plain HTTP, for a
    /// reverse proxy in front to terminate TLS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// On the node listener (`node_listen`, served with `tls_cert`):
    /// accept only clients whose certificate this CA (PEM) signed.
    pub node_client_ca: Option<PathBuf>,
    /// How citizens reach the portal (return URLs from Checkout, links in
    /// e-mails); default `http://<listen>`.
    pub public_url: Option<String>,
    /// pagoPA Checkout's carts API (`POST .../checkout/ec/v2/carts`); no
    /// default outside `--demo` (which uses pagopa-sim's on this machine).
    pub checkout_url: Option<String>,
    /// Checkout's subscription key (`Ocp-Apim-Subscription-Key`), if any.
    pub checkout_key: Option<String>,
    /// `smtp://[user:password@]host[:port]` of the mail relay; without it
    /// e-mails are written as `.eml` files into `mail_dir`.
    pub smtp_url: Option<String>,
    /// Where e-mails go when there is no `smtp_url`; default `mail` in
    /// `data_dir`.
    pub mail_dir: Option<PathBuf>,
    /// The sender of citizens' e-mails.
    pub mail_from: String,
    /// Citizens' login through OpenID Connect: the provider's issuer URL
    /// (discovery at `<issuer>/.well-known/openid-configuration`). With
    /// `--demo` and none set, pagopa-sim's demo provider on this machine.
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: String,
    pub oidc_client_secret: Option<String>,
    /// Space-separated scopes; `openid` is always asked.
    pub oidc_scopes: String,
    /// The ID-token claim with the codice fiscale (`TINIT-` prefix allowed).
    pub oidc_fiscal_code_claim: String,
    /// The claim with an eIDAS citizen's person identifier.
    pub oidc_eidas_id_claim: String,
    /// The claim naming the method used (spid, cie, cns, eidas).
    pub oidc_method_claim: String,
    /// The authorize parameter taking the citizen straight to the chosen
    /// method (`kc_idp_hint` on Keycloak); empty for none.
    pub oidc_hint_parameter: String,
    /// Citizens' login through a SAML proxy's headers at `/accedi/sso`:
    /// the proxies' addresses (empty: off) and their shared secret.
    pub sso_proxies: Vec<std::net::IpAddr>,
    pub sso_secret: Option<String>,
    pub sso_secret_header: String,
    pub sso_fiscal_code_header: String,
    pub sso_given_name_header: String,
    pub sso_family_name_header: String,
    pub sso_eidas_id_header: String,
    pub sso_method_header: String,
    pub sso_level_header: String,
    /// A citizen's session ends after this many minutes without requests…
    pub citizen_session_idle_minutes: u32,
    /// …and this many hours after the login, whatever happens.
    pub citizen_session_hours: u32,
    /// The lowest level of assurance a citizen's login may have (1..3,
    /// SPID's levels); 0: any, recorded only.
    pub citizen_min_assurance: u8,
    /// Operators may log in with a username and password kept here; with
    /// `false`, only through the identity gateway (`oidc_issuer` or
    /// `sso_proxies`), matched to an account by codice fiscale.
    pub operator_passwords: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Keys holding secrets: `Debug` shows them redacted.
const SECRET_KEYS: &[&str] = &[
    "node_auth_secret",
    "metrics_token",
    "checkout_key",
    "oidc_client_secret",
    "sso_secret",
];
/// Keys holding URLs that may carry a password: `Debug` hides it.
const URL_KEYS: &[&str] = &["database_url", "smtp_url"];

/// Every key, the secrets redacted: a configuration is logged or printed
/// in a panic, never its secrets.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Ok(serde_json::Value::Object(mut fields)) = serde_json::to_value(self) else {
            return f.write_str("Config");
        };
        for key in SECRET_KEYS {
            if let Some(value) = fields.get_mut(*key).filter(|v| !v.is_null()) {
                *value = cassa_web::REDACTED.into();
            }
        }
        for key in URL_KEYS {
            if let Some(serde_json::Value::String(url)) = fields.get_mut(*key) {
                *url = redact(url);
            }
        }
        let mut debug = f.debug_struct("Config");
        for (key, value) in &fields {
            debug.field(key, value);
        }
        debug.finish()
    }
}

/// The configuration keys: the fields of `Config`, so they cannot drift.
fn keys() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
        _ => unreachable!("Config serializes as a map"),
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            database_url: None,
            files_dir: None,
            serve_runs_jobs: true,
            job_lease_seconds: 120,
            database_max_connections: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Text,
            log_filter: "info,sqlx=warn".into(),
            status_sweep_seconds: 60,
            pagopa_broker_id: None,
            pagopa_station_id: None,
            pagopa_activation_minutes: 30,
            pagopa_echo_route: false,
            node_allowed_networks: Networks::default(),
            node_auth_secret: None,
            node_auth_header: "Ocp-Apim-Subscription-Key".into(),
            node_listen: None,
            trusted_proxies: Networks::default(),
            proxy_header: ProxyHeader::default(),
            metrics_token: None,
            metrics_listen: None,
            extra_ca_file: None,
            tls_cert: None,
            tls_key: None,
            node_client_ca: None,
            public_url: None,
            checkout_url: None,
            checkout_key: None,
            smtp_url: None,
            mail_dir: None,
            mail_from: "Portale Pagamenti <noreply@cassa.localhost>".into(),
            oidc_issuer: None,
            oidc_client_id: "cassa-demo".into(),
            oidc_client_secret: None,
            oidc_scopes: "openid profile".into(),
            oidc_fiscal_code_claim: "fiscal_number".into(),
            oidc_eidas_id_claim: "person_identifier".into(),
            oidc_method_claim: "auth_method".into(),
            oidc_hint_parameter: "idp_hint".into(),
            sso_proxies: Vec::new(),
            sso_secret: None,
            sso_secret_header: "X-Proxy-Secret".into(),
            sso_fiscal_code_header: "X-Fiscal-Number".into(),
            sso_given_name_header: "X-Given-Name".into(),
            sso_family_name_header: "X-Family-Name".into(),
            sso_eidas_id_header: "X-Eidas-Person-Identifier".into(),
            sso_method_header: "X-Auth-Method".into(),
            sso_level_header: "X-Auth-Level".into(),
            citizen_session_idle_minutes: 30,
            citizen_session_hours: 12,
            citizen_min_assurance: 2,
            operator_passwords: true,
        }
    }
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_listen: Option<SocketAddr>,
}

impl Config {
    /// Reads the configuration. The file is `config_file` if given, else
    /// `cassa.toml` in the data directory when it exists.
    pub fn load(config_file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        // Only known keys: other CASSA_* variables (the test suite's, say)
        // are not configuration.
        let keys = keys();
        let env = Env::prefixed("CASSA_").filter(move |key| keys.iter().any(|k| key == k.as_str()));
        let base = Figment::from(Serialized::defaults(Config::default()));
        // The data directory decides where the default file is, so find it first.
        let early: Config = base
            .clone()
            .merge(TextEnv(env.clone().only(&["DATA_DIR"])))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(explain)?;
        let file = match config_file {
            Some(path) if !path.exists() => {
                bail!("configuration file {} does not exist", path.display())
            }
            Some(path) => Some(path.to_owned()),
            None => Some(early.data_dir.join("cassa.toml")).filter(|p| p.exists()),
        };
        let mut figment = base;
        if let Some(file) = &file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let config: Config = figment
            .merge(env.clone().only(PARSED_KEYS))
            .merge(TextEnv(env.ignore(PARSED_KEYS)))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(explain)?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.database_url {
            cassa_store::Backend::from_url(url).context("database_url (DATABASE_URL)")?;
            check_postgres_tls(url).context("database_url (DATABASE_URL)")?;
        }
        self.trusted_roots()?;
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), Some(_)) => {
                self.server_tls(false)?;
            }
            (None, None) => {}
            _ => bail!("tls_cert and tls_key go together"),
        }
        if self.node_client_ca.is_some() {
            if self.node_listen.is_none() || self.tls_cert.is_none() {
                bail!(
                    "node_client_ca checks client certificates on the node listener: set node_listen, tls_cert and tls_key too"
                );
            }
            self.server_tls(true)?;
        }
        if self.database_max_connections == Some(0) {
            bail!("database_max_connections must be at least 1");
        }
        if self.job_lease_seconds < 4 {
            bail!("job_lease_seconds must be at least 4");
        }
        if self.status_sweep_seconds == 0 {
            bail!("status_sweep_seconds must be at least 1");
        }
        for (key, value) in [
            ("pagopa_broker_id", &self.pagopa_broker_id),
            ("pagopa_station_id", &self.pagopa_station_id),
        ] {
            if let Some(value) = value
                && (value.is_empty() || value.chars().count() > 35)
            {
                bail!("{key} must be 1 to 35 characters, found {value:?}");
            }
        }
        if self.pagopa_activation_minutes == 0 {
            bail!("pagopa_activation_minutes must be at least 1");
        }
        if let Some(secret) = &self.node_auth_secret
            && secret.chars().count() < 16
        {
            bail!("node_auth_secret must be at least 16 characters");
        }
        axum::http::HeaderName::from_bytes(self.node_auth_header.as_bytes()).map_err(|_| {
            anyhow::anyhow!(
                "node_auth_header {:?} is not a valid header name",
                self.node_auth_header
            )
        })?;
        if self.node_listen == Some(self.listen) && self.listen.port() != 0 {
            bail!("node_listen must differ from listen");
        }
        if let Some(metrics) = self.metrics_listen
            && metrics.port() != 0
            && (metrics == self.listen || Some(metrics) == self.node_listen)
        {
            bail!("metrics_listen must differ from listen and node_listen");
        }
        if let Some(token) = &self.metrics_token
            && token.chars().count() < 16
        {
            bail!("metrics_token must be at least 16 characters");
        }
        for (key, url) in [
            ("checkout_url", self.checkout_url.as_ref()),
            ("public_url", self.public_url.as_ref()),
        ] {
            if let Some(url) = url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                bail!("{key} must be an http:// or https:// URL, found {url:?}");
            }
        }
        for (key, url) in [
            ("checkout_url", self.checkout_url.as_ref()),
            ("oidc_issuer", self.oidc_issuer.as_ref()),
        ] {
            if let Some(url) = url
                && !url.starts_with("https://")
                && !is_loopback_http(url)
            {
                bail!(
                    "{key} must be an https:// URL (plain http only to this machine, for the simulator), found {url:?}"
                );
            }
        }
        if self.oidc_issuer.is_some() && self.oidc_client_secret.is_none() {
            bail!("oidc_issuer is set: oidc_client_secret is needed too");
        }
        if !self.sso_proxies.is_empty() && self.sso_secret.as_deref().unwrap_or("").len() < 16 {
            bail!("sso_proxies is set: sso_secret must be at least 16 characters");
        }
        if !self.operator_passwords && self.oidc_issuer.is_none() && self.sso_proxies.is_empty() {
            bail!(
                "operator_passwords is false: set oidc_issuer or sso_proxies, or no operator could log in"
            );
        }
        if self.citizen_min_assurance > 3 {
            bail!("citizen_min_assurance must be 0 (any) to 3");
        }
        if self.citizen_session_idle_minutes == 0 || self.citizen_session_hours == 0 {
            bail!("citizen_session_idle_minutes and citizen_session_hours must be at least 1");
        }
        self.mail_transport()?;
        self.mail_from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| anyhow::anyhow!("mail_from {:?}: {e}", self.mail_from))?;
        tracing_subscriber::EnvFilter::try_new(&self.log_filter).map_err(|e| {
            anyhow::anyhow!(
                "log_filter {:?} is not a valid filter: {e}",
                self.log_filter
            )
        })?;
        Ok(())
    }

    /// Who we are at pagoPA and where its Checkout is. Outside `--demo`
    /// each must be set: a made-up station or the simulator's Checkout in
    /// production would fail late and confusingly, so `serve` refuses at
    /// once, naming every missing key.
    pub fn pagopa(&self, demo: bool) -> anyhow::Result<PagopaIdentity> {
        let demo_or = |value: &Option<String>, fallback: &str| {
            value.clone().or_else(|| demo.then(|| fallback.to_owned()))
        };
        let broker_id = demo_or(&self.pagopa_broker_id, DEMO_BROKER_ID);
        let station_id = demo_or(&self.pagopa_station_id, DEMO_STATION_ID);
        let checkout_url = demo_or(&self.checkout_url, DEMO_CHECKOUT_URL);
        match (broker_id, station_id, checkout_url) {
            (Some(broker_id), Some(station_id), Some(checkout_url)) => Ok(PagopaIdentity {
                broker_id,
                station_id,
                checkout_url,
            }),
            (broker, station, checkout) => {
                let missing: Vec<&str> = [
                    ("pagopa_broker_id", broker.is_none()),
                    ("pagopa_station_id", station.is_none()),
                    ("checkout_url", checkout.is_none()),
                ]
                .into_iter()
                .filter_map(|(key, missing)| missing.then_some(key))
                .collect();
                bail!(
                    "set {} (there are no defaults outside --demo: see the README's configuration)",
                    missing.join(", ")
                )
            }
        }
    }

    /// Our identity towards the pagoPA node, and who may call us. `demo`:
    /// with nothing configured, pagopa-sim's demo secret lets it in.
    pub fn node_settings(
        &self,
        pagopa: &PagopaIdentity,
        demo: bool,
    ) -> cassa_web::node::NodeSettings {
        let mut fence = cassa_web::node::NodeFence {
            allowed_networks: self.node_allowed_networks.clone(),
            secret: self.node_auth_secret.clone(),
            header: axum::http::HeaderName::from_bytes(self.node_auth_header.as_bytes())
                .expect("checked when the configuration was read"),
        };
        if demo && fence.is_closed() {
            fence.secret = Some(DEMO_NODE_SECRET.to_owned());
        }
        cassa_web::node::NodeSettings {
            broker_id: pagopa.broker_id.clone(),
            station_id: pagopa.station_id.clone(),
            activation_validity: jiff::SignedDuration::from_mins(i64::from(
                self.pagopa_activation_minutes,
            )),
            echo_route: self.pagopa_echo_route,
            fence,
        }
    }

    /// The portal's address and pagoPA Checkout.
    pub fn portal_settings(
        &self,
        pagopa: &PagopaIdentity,
        roots: &cassa_net::TrustedRoots,
    ) -> cassa_web::portal::PortalSettings {
        cassa_web::portal::PortalSettings::new(
            &self.public_url(),
            &pagopa.checkout_url,
            self.checkout_key.clone(),
            roots,
        )
    }

    /// How citizens log in. `demo`: pagopa-sim's provider when none is set.
    pub fn citizen_login(
        &self,
        demo: bool,
        roots: &cassa_net::TrustedRoots,
    ) -> cassa_web::portal::login::CitizenLogin {
        use cassa_web::portal::login::headers::HeaderLoginSettings;
        use cassa_web::portal::login::oidc::{OidcClient, OidcSettings};
        let demo_provider = demo.then(|| {
            (
                "http://127.0.0.1:8081/oidc".to_owned(),
                "cassa-demo-secret".to_owned(),
            )
        });
        let oidc = match (&self.oidc_issuer, &self.oidc_client_secret) {
            (Some(issuer), Some(secret)) => Some((issuer.clone(), secret.clone())),
            _ => demo_provider,
        }
        .map(|(issuer, secret)| {
            let mut settings = OidcSettings::new(&issuer, &self.oidc_client_id, &secret);
            settings.scopes = self.oidc_scopes.clone();
            settings.fiscal_code_claim = self.oidc_fiscal_code_claim.clone();
            settings.eidas_id_claim = self.oidc_eidas_id_claim.clone();
            settings.method_claim = self.oidc_method_claim.clone();
            settings.hint_parameter = self.oidc_hint_parameter.clone();
            OidcClient::new(settings, roots)
        });
        let headers = (!self.sso_proxies.is_empty()).then(|| HeaderLoginSettings {
            proxies: self.sso_proxies.clone(),
            secret: self.sso_secret.clone().unwrap_or_default(),
            secret_header: self.sso_secret_header.clone(),
            fiscal_code_header: self.sso_fiscal_code_header.clone(),
            given_name_header: self.sso_given_name_header.clone(),
            family_name_header: self.sso_family_name_header.clone(),
            eidas_id_header: self.sso_eidas_id_header.clone(),
            method_header: self.sso_method_header.clone(),
            assurance_header: self.sso_level_header.clone(),
        });
        cassa_web::portal::login::CitizenLogin {
            oidc,
            headers,
            idle: jiff::SignedDuration::from_mins(i64::from(self.citizen_session_idle_minutes)),
            absolute: jiff::SignedDuration::from_hours(i64::from(self.citizen_session_hours)),
            min_assurance: cassa_core::citizen::Assurance::from_level(i64::from(
                self.citizen_min_assurance,
            )),
        }
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// How operators log in.
    pub fn backoffice_settings(&self) -> cassa_web::backoffice::BackofficeSettings {
        cassa_web::backoffice::BackofficeSettings {
            local_passwords: self.operator_passwords,
        }
    }

    /// The reverse proxies believed about the client, and their header.
    pub fn trusted_proxies(&self) -> TrustedProxies {
        TrustedProxies {
            networks: self.trusted_proxies.clone(),
            header: self.proxy_header,
        }
    }

    /// Who may read `/metrics` on the portal's listener.
    pub fn ops_settings(&self) -> cassa_web::OpsSettings {
        cassa_web::OpsSettings {
            metrics_token: self.metrics_token.clone(),
        }
    }

    /// Whom outbound TLS trusts: the system's roots and `extra_ca_file`.
    pub fn trusted_roots(&self) -> anyhow::Result<cassa_net::TrustedRoots> {
        cassa_net::TrustedRoots::load(self.extra_ca_file.as_deref()).context("extra_ca_file")
    }

    /// The HTTPS configuration of the portal's listener (`node: false`) or
    /// of the node's, which also checks client certificates when
    /// `node_client_ca` is set. `None`: plain HTTP.
    pub fn server_tls(
        &self,
        node: bool,
    ) -> anyhow::Result<Option<std::sync::Arc<cassa_net::ServerTls>>> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let files = cassa_net::ServerTlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: if node {
                self.node_client_ca.clone()
            } else {
                None
            },
        };
        let what = if node && files.client_ca.is_some() {
            "tls_cert, tls_key, node_client_ca"
        } else {
            "tls_cert, tls_key"
        };
        Ok(Some(cassa_net::ServerTls::new(files).context(what)?))
    }

    pub fn mail_transport(&self) -> anyhow::Result<cassa_jobs::MailTransport> {
        match &self.smtp_url {
            Some(url) => cassa_jobs::MailTransport::smtp(url, self.trusted_roots()?.extra_ca_pem())
                .map_err(anyhow::Error::msg),
            None => Ok(cassa_jobs::MailTransport::Directory(
                self.mail_dir
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("mail")),
            )),
        }
    }

    /// The mailer that empties the e-mail outbox.
    pub fn mailer(&self, store: cassa_store::Store) -> anyhow::Result<cassa_jobs::Mailer> {
        cassa_jobs::Mailer::new(
            store,
            self.mail_transport()?,
            &self.mail_from,
            &self.public_url(),
        )
        .map_err(anyhow::Error::msg)
    }

    /// The pool size for `url`'s backend.
    pub fn max_connections(&self, url: &str) -> u32 {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
        self.database_max_connections
            .unwrap_or(match cassa_store::Backend::from_url(url) {
                Ok(cassa_store::Backend::Sqlite) => 2 * cores,
                _ => 3 * cores,
            })
    }

    /// A job worker as configured.
    pub fn worker(&self, store: cassa_store::Store) -> cassa_jobs::Worker {
        cassa_jobs::Worker::new(store, self.files()).with_lease(jiff::SignedDuration::from_secs(
            self.job_lease_seconds as i64,
        ))
    }

    /// The job file store: the configured directory, or `files` in the
    /// data directory.
    pub fn files(&self) -> cassa_jobs::FileStore {
        cassa_jobs::FileStore::new(
            self.files_dir
                .clone()
                .unwrap_or_else(|| self.data_dir.join("files")),
        )
    }

    /// The database URL: the configured one, or SQLite inside the data
    /// directory (created if missing).
    pub fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(with_root_certificate(url, self.extra_ca_file.as_deref()));
        }
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                self.data_dir.display()
            )
        })?;
        let path = self.data_dir.join("cassa.db");
        Ok(format!("sqlite://{}?mode=rwc", path.display()))
    }
}

/// `url` with `extra_ca_file` as PostgreSQL's `sslrootcert`, unless the
/// URL names its own.
fn with_root_certificate(url: &str, extra_ca_file: Option<&Path>) -> String {
    let Some(ca) = extra_ca_file else {
        return url.to_owned();
    };
    if !matches!(
        cassa_store::Backend::from_url(url),
        Ok(cassa_store::Backend::Postgres)
    ) || url_parameter(url, "sslrootcert").is_some()
    {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslrootcert={}", ca.display())
}

fn url_parameter<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// The host of `scheme://[userinfo@]host[:port]/...`.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or_default();
    }
    host_port.split(':').next().unwrap_or_default()
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn is_loopback_http(url: &str) -> bool {
    url.starts_with("http://") && is_loopback_host(url_host(url))
}

/// PostgreSQL's default `sslmode=prefer` falls back to clear text without a
/// word: away from this machine the URL must say what it wants.
fn check_postgres_tls(url: &str) -> anyhow::Result<()> {
    if !matches!(
        cassa_store::Backend::from_url(url),
        Ok(cassa_store::Backend::Postgres)
    ) {
        return Ok(());
    }
    match url_parameter(url, "sslmode") {
        Some("disable" | "require" | "verify-ca" | "verify-full") => Ok(()),
        Some(other) => bail!(
            "sslmode={other} may fall back to clear text: use verify-full (or require, or disable on a trusted network)"
        ),
        None => {
            let host = url_host(url);
            // A Unix socket (`host=/run/...`) or this machine: nothing crosses a network.
            if host.is_empty() || is_loopback_host(host) {
                Ok(())
            } else {
                bail!(
                    "PostgreSQL at {host} without sslmode: add ?sslmode=verify-full (or sslmode=disable on a trusted network)"
                )
            }
        }
    }
}

/// Who we are at pagoPA and where its Checkout is ([`Config::pagopa`]).
#[derive(Clone, Debug)]
pub struct PagopaIdentity {
    pub broker_id: String,
    pub station_id: String,
    pub checkout_url: String,
}

/// `--demo`'s intermediary and station, as pagopa-sim's demo knows them.
pub const DEMO_BROKER_ID: &str = "80050050154";
pub const DEMO_STATION_ID: &str = "80050050154_01";
/// `--demo`'s Checkout: pagopa-sim's on this machine.
pub const DEMO_CHECKOUT_URL: &str = "http://127.0.0.1:8081/checkout/ec/v2/carts";

/// The node secret `--demo` uses when none is configured; pagopa-sim sends
/// it by default. Never for production: it is in the source.
pub const DEMO_NODE_SECRET: &str = "cassa-demo-node-secret";

/// Figment's errors name the key and the source; say it in one sentence
/// per error.
/// The keys whose environment values are parsed as numbers, booleans or
/// lists; every other key's value is text exactly as written, so that an
/// id or a secret made of digits (a codice fiscale, `01199250158`) is not
/// read as a number and does not lose its leading zero.
const PARSED_KEYS: &[&str] = &[
    "serve_runs_jobs",
    "job_lease_seconds",
    "database_max_connections",
    "status_sweep_seconds",
    "pagopa_activation_minutes",
    "pagopa_echo_route",
    "sso_proxies",
    "citizen_session_idle_minutes",
    "citizen_session_hours",
    "citizen_min_assurance",
    "operator_passwords",
];

/// Environment variables taken as text, unparsed.
struct TextEnv(Env);

impl figment::Provider for TextEnv {
    fn metadata(&self) -> figment::Metadata {
        self.0.metadata()
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        let dict = self
            .0
            .iter()
            .map(|(key, value)| (key.as_str().to_owned(), figment::value::Value::from(value)))
            .collect();
        Ok(figment::Profile::Default.collect(dict))
    }
}

fn explain(error: figment::Error) -> anyhow::Error {
    let lines: Vec<String> = error
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                "configuration".to_owned()
            } else {
                e.path.join(".")
            };
            let source = e.metadata.as_ref().map_or_else(String::new, |m| {
                if m.name.contains("CASSA_") {
                    format!(" (from environment variable CASSA_{})", key.to_uppercase())
                } else if m.name.contains("environment") {
                    format!(" (from environment variable {})", key.to_uppercase())
                } else {
                    let place = m
                        .source
                        .as_ref()
                        .map_or_else(String::new, |s| format!(" {s}"));
                    format!(" (from {}{place})", m.name)
                }
            });
            format!("bad configuration value for {key}{source}: {}", e.kind)
        })
        .collect();
    anyhow::anyhow!(lines.join("\n"))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    let mut url = match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    };
    // A password may come as a query parameter too (libpq's `password=`).
    if let Some(query_at) = url.find('?') {
        let query: Vec<String> = url[query_at + 1..]
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        url = format!("{}?{}", &url[..query_at], query.join("&"));
    }
    url
}

#[cfg(test)]
// figment::Jail's closures return figment::Error, which is large.
#[allow(clippy::result_large_err)]
mod tests {
    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            super::redact("postgres://cassa:secret@db:5432/x"),
            "postgres://cassa:***@db:5432/x"
        );
        assert_eq!(
            super::redact("sqlite://data/cassa.db"),
            "sqlite://data/cassa.db"
        );
        assert_eq!(
            super::redact("postgres://db/x?sslmode=verify-full&Password=secret&user=cassa"),
            "postgres://db/x?sslmode=verify-full&Password=***&user=cassa"
        );
    }

    use figment::Jail;

    use super::*;

    fn load(jail: &Jail, file: Option<&str>, overrides: &Overrides) -> Result<Config, String> {
        let path = file.map(|f| jail.directory().join(f));
        Config::load(path.as_deref(), overrides).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_then_file_then_env_then_flags() {
        Jail::expect_with(|jail| {
            let config = load(jail, None, &Overrides::default())?;
            assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
            assert!(
                config
                    .database_url()
                    .unwrap()
                    .starts_with("sqlite://data/cassa.db")
            );

            std::fs::create_dir_all("data").unwrap();
            jail.create_file(
                "data/cassa.toml",
                "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\nstatus_sweep_seconds = 5",
            )?;
            let config = load(jail, None, &Overrides::default())?;
            assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
            assert_eq!(config.log_format, LogFormat::Json);

            jail.set_env("CASSA_STATUS_SWEEP_SECONDS", "7");
            // Other CASSA_* variables (the test suite's, say) are not configuration.
            jail.set_env("CASSA_TEST_POSTGRES_URL", "postgres://elsewhere/x");
            jail.set_env(
                "DATABASE_URL",
                "postgres://db.example/cassa?sslmode=verify-full",
            );
            let config = load(jail, None, &Overrides::default())?;
            assert_eq!(config.status_sweep_seconds, 7);
            assert_eq!(
                config.database_url().unwrap(),
                "postgres://db.example/cassa?sslmode=verify-full"
            );

            let flags = Overrides {
                listen: Some("127.0.0.1:1".parse().unwrap()),
                ..Overrides::default()
            };
            assert_eq!(load(jail, None, &flags)?.listen.to_string(), "127.0.0.1:1");
            Ok(())
        });
    }

    #[test]
    fn postgres_away_from_this_machine_must_say_its_sslmode() {
        assert!(check_postgres_tls("postgres://cassa@127.0.0.1:5432/x").is_ok());
        assert!(check_postgres_tls("postgres://cassa@localhost/x").is_ok());
        assert!(check_postgres_tls("postgres://cassa@[::1]:5432/x").is_ok());
        assert!(check_postgres_tls("postgres://u:p@db.example/x?sslmode=verify-full").is_ok());
        assert!(check_postgres_tls("postgres://db.example/x?sslmode=disable").is_ok());
        let implicit = check_postgres_tls("postgres://u:p@db.example:5432/x")
            .unwrap_err()
            .to_string();
        assert!(
            implicit.contains("db.example without sslmode"),
            "{implicit}"
        );
        assert!(check_postgres_tls("postgres://db.example/x?sslmode=prefer").is_err());
        assert!(check_postgres_tls("postgres://127.0.0.1/x?sslmode=allow").is_err());
        assert!(check_postgres_tls("sqlite://data/cassa.db").is_ok());
    }

    #[test]
    fn the_extra_ca_becomes_postgres_root_certificate() {
        let ca = Path::new("/etc/cassa/ca.pem");
        assert_eq!(
            with_root_certificate("postgres://db/x?sslmode=verify-full", Some(ca)),
            "postgres://db/x?sslmode=verify-full&sslrootcert=/etc/cassa/ca.pem"
        );
        assert_eq!(
            with_root_certificate("postgres://db/x", Some(ca)),
            "postgres://db/x?sslrootcert=/etc/cassa/ca.pem"
        );
        let own = "postgres://db/x?sslmode=verify-full&sslrootcert=/own.pem";
        assert_eq!(with_root_certificate(own, Some(ca)), own);
        assert_eq!(
            with_root_certificate("sqlite://x.db", Some(ca)),
            "sqlite://x.db"
        );
    }

    #[test]
    fn checkout_and_oidc_go_over_https_unless_on_this_machine() {
        Jail::expect_with(|jail| {
            jail.set_env("CASSA_CHECKOUT_URL", "http://checkout.example/carts");
            let refused = load(jail, None, &Overrides::default()).unwrap_err();
            assert!(
                refused.contains("checkout_url must be an https://"),
                "{refused}"
            );
            jail.set_env("CASSA_CHECKOUT_URL", "https://checkout.example/carts");
            jail.set_env("CASSA_OIDC_ISSUER", "http://[::1]:8081/oidc");
            jail.set_env("CASSA_OIDC_CLIENT_SECRET", "s");
            load(jail, None, &Overrides::default())?;
            jail.set_env("CASSA_OIDC_ISSUER", "http://idp.example/oidc");
            let refused = load(jail, None, &Overrides::default()).unwrap_err();
            assert!(
                refused.contains("oidc_issuer must be an https://"),
                "{refused}"
            );
            jail.set_env("CASSA_OIDC_ISSUER", "https://idp.example/oidc");
            jail.set_env("CASSA_EXTRA_CA_FILE", "missing.pem");
            let refused = load(jail, None, &Overrides::default()).unwrap_err();
            assert!(refused.contains("extra_ca_file"), "{refused}");
            Ok(())
        });
    }

    #[test]
    fn the_node_fence_comes_from_env_or_file() {
        Jail::expect_with(|jail| {
            jail.set_env("CASSA_NODE_ALLOWED_NETWORKS", "10.0.0.0/8, 192.0.2.7");
            jail.set_env("CASSA_NODE_AUTH_SECRET", "0123456789abcdef");
            let config = load(jail, None, &Overrides::default())?;
            assert!(
                config
                    .node_allowed_networks
                    .contains("10.1.2.3".parse().unwrap())
            );
            assert!(
                config
                    .node_allowed_networks
                    .contains("192.0.2.7".parse().unwrap())
            );
            assert!(
                !config
                    .node_allowed_networks
                    .contains("192.0.2.8".parse().unwrap())
            );
            let fence = config.node_settings(&demo_identity(), false).fence;
            assert!(!fence.is_closed());
            jail.set_env("CASSA_NODE_ALLOWED_NETWORKS", "10.0.0.0/99");
            let error = load(jail, None, &Overrides::default()).unwrap_err();
            assert!(error.contains("node_allowed_networks"), "{error}");
            jail.set_env("CASSA_NODE_ALLOWED_NETWORKS", "");
            jail.set_env("CASSA_NODE_AUTH_SECRET", "short");
            let error = load(jail, None, &Overrides::default()).unwrap_err();
            assert!(error.contains("node_auth_secret"), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "node_allowed_networks = [\"10.0.0.0/8\"]\ntrusted_proxies = \"127.0.0.1\"",
            )?;
            let config = load(jail, Some("c.toml"), &Overrides::default())?;
            assert!(
                config
                    .node_allowed_networks
                    .contains("10.9.9.9".parse().unwrap())
            );
            assert!(
                config
                    .trusted_proxies
                    .contains("127.0.0.1".parse().unwrap())
            );
            // Nothing configured: closed, except for the demo's own secret.
            let plain = load(jail, None, &Overrides::default())?;
            assert!(
                plain
                    .node_settings(&demo_identity(), false)
                    .fence
                    .is_closed()
            );
            assert_eq!(
                plain
                    .node_settings(&demo_identity(), true)
                    .fence
                    .secret
                    .as_deref(),
                Some(DEMO_NODE_SECRET)
            );
            Ok(())
        });
    }

    #[test]
    fn every_environment_value_reads_as_its_key_s_type() {
        // Digits are text for text keys (with their leading zero) and
        // numbers for number keys: no key refuses every one of these for
        // its type.
        for key in keys() {
            let variable = format!("CASSA_{}", key.to_uppercase());
            let fits = ["0123", "true", "[]"].iter().any(|value| {
                let mut fits = true;
                Jail::expect_with(|jail| {
                    jail.set_env(&variable, value);
                    if let Err(e) = load(jail, None, &Overrides::default()) {
                        fits = !e.contains("invalid type");
                    }
                    Ok(())
                });
                fits
            });
            assert!(
                fits,
                "{variable} takes no value of its type from the environment"
            );
        }
        Jail::expect_with(|jail| {
            jail.set_env("CASSA_PAGOPA_BROKER_ID", "01199250158");
            jail.set_env("CASSA_NODE_AUTH_SECRET", "0123456789012345");
            let config = load(jail, None, &Overrides::default())?;
            assert_eq!(config.pagopa_broker_id.as_deref(), Some("01199250158"));
            assert_eq!(config.node_auth_secret.as_deref(), Some("0123456789012345"));
            Ok(())
        });
    }

    #[test]
    fn debug_shows_no_secret() {
        Jail::expect_with(|jail| {
            let secrets = [
                ("CASSA_NODE_AUTH_SECRET", "node-secret-0123456789"),
                ("CASSA_METRICS_TOKEN", "metrics-token-0123456789"),
                ("CASSA_CHECKOUT_KEY", "checkout-key-0123456789"),
                ("CASSA_OIDC_CLIENT_SECRET", "oidc-secret-0123456789"),
                ("CASSA_SSO_SECRET", "sso-secret-0123456789"),
            ];
            for (variable, value) in secrets {
                jail.set_env(variable, value);
            }
            jail.set_env("CASSA_OIDC_ISSUER", "https://idp.example/oidc");
            jail.set_env("CASSA_SSO_PROXIES", "[\"10.0.0.5\"]");
            jail.set_env(
                "CASSA_SMTP_URL",
                "smtp://cassa:mail-password@smtp.example:587",
            );
            jail.set_env(
                "DATABASE_URL",
                "postgres://cassa:db-password@127.0.0.1/cassa",
            );
            let config = load(jail, None, &Overrides::default())?;
            let shown = format!("{config:?}");
            for secret in secrets
                .iter()
                .map(|(_, v)| *v)
                .chain(["mail-password", "db-password"])
            {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
            assert!(
                shown.contains("checkout_key: String(\"[redacted]\")"),
                "{shown}"
            );
            assert!(
                shown.contains("smtp://cassa:***@smtp.example:587"),
                "{shown}"
            );
            // The settings built from it hide them too.
            let roots = cassa_net::TrustedRoots::system();
            let login = format!("{:?}", config.citizen_login(false, &roots).headers);
            let oidc = format!(
                "{:?}",
                cassa_web::portal::login::oidc::OidcSettings::new(
                    "https://idp",
                    "c",
                    "oidc-secret-0123456789"
                )
            );
            let node = format!("{:?}", config.node_settings(&demo_identity(), false));
            let portal = format!("{:?}", config.portal_settings(&demo_identity(), &roots));
            for shown in [login, oidc, node, portal] {
                for secret in secrets.iter().map(|(_, v)| *v) {
                    assert!(!shown.contains(secret), "{secret} in {shown}");
                }
            }
            Ok(())
        });
    }

    #[test]
    fn operators_without_passwords_need_a_gateway() {
        Jail::expect_with(|jail| {
            jail.set_env("CASSA_OPERATOR_PASSWORDS", "false");
            let refused = load(jail, None, &Overrides::default()).unwrap_err();
            assert!(
                refused.contains("set oidc_issuer or sso_proxies"),
                "{refused}"
            );
            jail.set_env("CASSA_SSO_PROXIES", "[\"10.0.0.5\"]");
            jail.set_env("CASSA_SSO_SECRET", "a-proxy-secret-0123456789");
            let config = load(jail, None, &Overrides::default())?;
            assert!(!config.backoffice_settings().local_passwords);
            Ok(())
        });
    }

    fn demo_identity() -> PagopaIdentity {
        Config::default().pagopa(true).unwrap()
    }

    #[test]
    fn serving_outside_the_demo_needs_pagopa_s_settings_and_asks_l2() {
        Jail::expect_with(|jail| {
            let plain = load(jail, None, &Overrides::default())?;
            let refused = plain.pagopa(false).unwrap_err().to_string();
            assert!(
                refused.contains("set pagopa_broker_id, pagopa_station_id, checkout_url"),
                "{refused}"
            );
            assert_eq!(plain.pagopa(true).unwrap().checkout_url, DEMO_CHECKOUT_URL);
            // SPID level 1 does not open anyone's debts by default.
            let login = plain.citizen_login(false, &cassa_net::TrustedRoots::system());
            assert_eq!(
                login.min_assurance,
                Some(cassa_core::citizen::Assurance::Substantial)
            );
            jail.set_env("CASSA_PAGOPA_BROKER_ID", "15376371009");
            jail.set_env("CASSA_PAGOPA_STATION_ID", "15376371009_01");
            let partly = load(jail, None, &Overrides::default())?;
            let refused = partly.pagopa(false).unwrap_err().to_string();
            assert!(refused.starts_with("set checkout_url ("), "{refused}");
            jail.set_env("CASSA_CHECKOUT_URL", "https://checkout.example/carts");
            let set = load(jail, None, &Overrides::default())?
                .pagopa(false)
                .unwrap();
            assert_eq!(set.broker_id, "15376371009");
            assert_eq!(set.station_id, "15376371009_01");
            Ok(())
        });
    }

    #[test]
    fn the_data_dir_from_env_locates_the_file() {
        Jail::expect_with(|jail| {
            std::fs::create_dir_all("elsewhere").unwrap();
            jail.create_file("elsewhere/cassa.toml", "listen = \"127.0.0.1:7000\"")?;
            jail.set_env("CASSA_DATA_DIR", "elsewhere");
            assert_eq!(
                load(jail, None, &Overrides::default())?.listen.to_string(),
                "127.0.0.1:7000"
            );
            Ok(())
        });
    }

    #[test]
    fn bad_values_name_the_key_and_the_source() {
        Jail::expect_with(|jail| {
            jail.set_env("CASSA_LISTEN", "not-an-address");
            let error = load(jail, None, &Overrides::default()).unwrap_err();
            assert!(
                error.contains("listen") && error.contains("CASSA_LISTEN"),
                "{error}"
            );
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.create_file("c.toml", "status_sweep_seconds = \"often\"")?;
            let error = load(jail, Some("c.toml"), &Overrides::default()).unwrap_err();
            assert!(
                error.contains("status_sweep_seconds") && error.contains("c.toml"),
                "{error}"
            );
            jail.create_file("d.toml", "lisen = \"127.0.0.1:1\"")?;
            let error = load(jail, Some("d.toml"), &Overrides::default()).unwrap_err();
            assert!(error.contains("lisen"), "{error}");
            let error = load(jail, Some("missing.toml"), &Overrides::default()).unwrap_err();
            assert!(error.contains("does not exist"), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("DATABASE_URL", "mysql://x");
            let error = load(jail, None, &Overrides::default()).unwrap_err();
            assert!(error.contains("DATABASE_URL"), "{error}");
            jail.set_env("DATABASE_URL", "sqlite://x.db");
            jail.set_env("CASSA_LOG_FILTER", "info,[");
            let error = load(jail, None, &Overrides::default()).unwrap_err();
            assert!(error.contains("log_filter"), "{error}");
            Ok(())
        });
    }
}
