//! The back office for enti's staff and platform admins, server-rendered
//! in the portal's look. Every page but the login needs a session
//! (`auth::require_session`); every page under `/backoffice/enti/{cf}`
//! also needs a role on that ente (`scope::ente_access`): both are route
//! layers, so no handler there runs without them, and what a handler may
//! read is narrowed again in the store by the operator's tipo-dovuto scope.

mod account;
mod anomalies;
mod audit;
mod auth;
mod dovuti;
mod ente_logo;
mod enti_admin;
mod flussi;
pub mod i18n;
mod operator_accounts;
mod operators;
mod scope;
mod statistics;
mod tipi;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use cassa_core::access::{Access, Role};
use cassa_store::Operator;

pub use auth::{gateway_login, generate_password, hash_password, verify_password};

/// How operators log in on this installation.
#[derive(Clone, Debug)]
pub struct BackofficeSettings {
    /// Usernames and passwords kept here; off, operators log in only
    /// through the identity gateway (OIDC or the SAML proxy's headers).
    pub local_passwords: bool,
}

/// What the back office reaches.
#[derive(Clone)]
pub struct BackofficeState {
    pub store: cassa_store::Store,
    /// Where uploads wait and jobs leave their files.
    pub files: cassa_jobs::FileStore,
    pub backoffice: std::sync::Arc<BackofficeSettings>,
    pub site: cassa_http::Site,
    pub gateway: GatewayLogins,
}

/// How the identity gateway can log operators in here.
#[derive(Clone, Debug, Default)]
pub struct GatewayLogins {
    /// Through the OIDC provider.
    pub oidc: bool,
    /// Through the SAML proxy's headers.
    pub sso: bool,
    /// The portal's minimum level of assurance, if any.
    pub min_assurance: Option<cassa_core::citizen::Assurance>,
}

impl Default for BackofficeSettings {
    fn default() -> Self {
        BackofficeSettings {
            local_passwords: true,
        }
    }
}
use i18n::BoTexts;

use cassa_http::i18n::Lang;

/// `/backoffice/*`.
pub fn routes(state: BackofficeState) -> Router {
    let ente = Router::new()
        .route("/dovuti", get(dovuti::search))
        .route("/dovuti/nuovo", get(dovuti::new_form).post(dovuti::create))
        .route("/dovuti/{iupd}", get(dovuti::detail))
        .route("/dovuti/{iupd}/annulla", post(dovuti::cancel))
        .route("/dovuti/{iupd}/avviso", get(dovuti::notice))
        .route(
            "/anomalie/{id}",
            get(anomalies::show).post(anomalies::handle),
        )
        .route(
            "/flussi",
            get(flussi::list)
                .post(flussi::upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    cassa_http::uploads::MAX_UPLOAD_BODY,
                )),
        )
        .route("/flussi/esporta", post(flussi::export))
        .route("/flussi/{id}/{name}", get(flussi::download))
        .route("/operatori", get(operators::list).post(operators::grant))
        .route("/operatori/{role}/revoca", post(operators::revoke))
        .route(
            "/operatori/utenze/{operator}/password",
            post(operator_accounts::reset_password),
        )
        .route(
            "/operatori/utenze/{operator}/stato",
            post(operator_accounts::set_active),
        )
        .route("/tipi", get(tipi::list))
        .route("/tipi/nuovo", get(tipi::new_form).post(tipi::create))
        .route("/tipi/{code}", get(tipi::edit_form).post(tipi::update))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            scope::ente_access,
        ));
    let admin = Router::new()
        .route("/enti", get(enti_admin::list))
        .route(
            "/enti/nuovo",
            get(enti_admin::new_form).post(enti_admin::create),
        )
        .route(
            "/enti/{cf}",
            get(enti_admin::edit_form).post(enti_admin::update),
        )
        .route("/enti/{cf}/stampa", post(ente_logo::save))
        .route("/enti/{cf}/logo.png", get(ente_logo::logo))
        .route_layer(middleware::from_fn(enti_admin::require_platform_admin));
    let signed_in = Router::new()
        .route("/backoffice", get(home))
        .route("/backoffice/attivita", get(audit::search))
        .route("/backoffice/anomalie", get(anomalies::list))
        .route("/backoffice/statistiche", get(statistics::show))
        .route("/backoffice/account", get(account::show))
        .route("/backoffice/account/totp", post(account::totp))
        .route("/backoffice/account/password", post(account::password))
        .route("/backoffice/logout", post(auth::logout))
        .nest("/backoffice/enti/{cf}", ente)
        .nest("/backoffice/admin", admin)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_session,
        ));
    Router::new()
        .route("/backoffice/login", get(auth::form).post(auth::login))
        .merge(signed_in)
        .with_state(state)
}

/// What every signed-in page has: the operator, what they may do, the
/// session's form token, and the language.
#[derive(Clone)]
pub struct Office {
    pub lang: Lang,
    pub t: &'static BoTexts,
    pub path: String,
    pub operator: Operator,
    pub access: Access,
    pub csrf: String,
    token_hash: String,
}

impl Office {
    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    /// This session's token hash (to keep it when the others end).
    pub fn session(&self) -> &str {
        &self.token_hash
    }

    /// Whether the posted form token is this session's.
    pub fn accepts(&self, posted: &str) -> bool {
        cassa_http::token::same(posted, &self.csrf)
    }

    pub fn role_name(&self, role: Role) -> &'static str {
        match role {
            Role::EnteAdmin => self.t.role_ente_admin,
            Role::Operator => self.t.role_operator,
            Role::ReadOnly => self.t.role_read_only,
        }
    }

    /// Whether the operator may see the whole platform's activity log.
    pub fn sees_all_activity(&self) -> bool {
        self.access.platform_admin
    }
}

fn render_with_status(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "back-office template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn render(page: &impl Template) -> Response {
    render_with_status(StatusCode::OK, page)
}

#[derive(Template)]
#[template(path = "backoffice/message.html")]
struct Message<'a> {
    office: &'a Office,
    heading: &'static str,
    text: &'static str,
}

/// "Not found": also what another ente's data looks like.
fn not_found(office: &Office) -> Response {
    let page = Message {
        office,
        heading: office.t.not_found_title,
        text: office.t.not_found_text,
    };
    render_with_status(StatusCode::NOT_FOUND, &page)
}

fn forbidden(office: &Office) -> Response {
    let page = Message {
        office,
        heading: office.t.forbidden,
        text: office.t.not_found_text,
    };
    render_with_status(StatusCode::FORBIDDEN, &page)
}

fn internal_error(office: &Office, error: impl std::fmt::Display) -> Response {
    tracing::error!(error = %error, "back-office page failed");
    let page = Message {
        office,
        heading: office.t.error_title,
        text: office.t.error_text,
    };
    render_with_status(StatusCode::INTERNAL_SERVER_ERROR, &page)
}

/// One ente the operator works on, with the role shown.
struct EnteLine {
    fiscal_code: String,
    name: String,
    roles: Vec<String>,
    /// May manage its tipi dovuto.
    configure: bool,
}

#[derive(Template)]
#[template(path = "backoffice/home.html")]
struct Home {
    office: Office,
    enti: Vec<EnteLine>,
}

/// `GET /backoffice`: the enti the operator works on.
async fn home(
    axum::extract::State(state): axum::extract::State<BackofficeState>,
    axum::Extension(office): axum::Extension<Office>,
) -> Response {
    let enti = if office.access.platform_admin {
        match state.store.list_enti().await {
            Ok(enti) => enti
                .into_iter()
                .map(|e| EnteLine {
                    fiscal_code: e.fiscal_code,
                    name: e.name,
                    roles: vec![office.t.platform_admin.to_owned()],
                    configure: true,
                })
                .collect(),
            Err(e) => return internal_error(&office, e),
        }
    } else {
        let roles = match state.store.roles_of(office.operator.id).await {
            Ok(roles) => roles,
            Err(e) => return internal_error(&office, e),
        };
        let mut lines: Vec<EnteLine> = Vec::new();
        for binding in roles {
            let role = match &binding.tipo_dovuto_code {
                Some(code) => format!(
                    "{} ({} {code})",
                    office.role_name(binding.grant.role),
                    office.t.only_tipo
                ),
                None => office.role_name(binding.grant.role).to_owned(),
            };
            match lines
                .iter_mut()
                .find(|l| l.fiscal_code == binding.ente_fiscal_code)
            {
                Some(line) => line.roles.push(role),
                None => lines.push(EnteLine {
                    fiscal_code: binding.ente_fiscal_code,
                    name: binding.ente_name,
                    roles: vec![role],
                    configure: office.access.can(
                        binding.grant.ente_id,
                        None,
                        cassa_core::access::Action::ConfigureEnte,
                    ),
                }),
            }
        }
        lines
    };
    render(&Home { office, enti })
}
