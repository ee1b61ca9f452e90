//! cassa's HTTP application (axum), assembled: each front door (the API,
//! the node endpoint, the portal, the back office) is a crate with its own
//! router and state; here they are given their part of the configuration,
//! merged behind one set of layers (client address, request id, security
//! headers, metrics, deadline, panics), with `/healthz`, `/metrics` and the
//! answer to unknown paths.

mod ops;

pub use cassa_api::{self as api, api_key};
pub use cassa_backoffice as backoffice;
pub use cassa_node as node;
pub use cassa_portal as portal;

pub use cassa_http::{
    REDACTED, RequestId, client_addr, hardening, local_path, pdf_response, request_id, seal, token,
    uploads,
};

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use cassa_jobs::FileStore;
use cassa_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;

pub use ops::{OpsSettings, metrics_handle};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub metrics: PrometheusHandle,
    /// The OpenAPI document we serve, built once.
    pub openapi: Arc<serde_json::Value>,
    /// Our broker and station towards the pagoPA node.
    pub node: Arc<node::NodeSettings>,
    /// Where jobs leave their files (for downloads).
    pub files: FileStore,
    /// Reverse proxies believed about the client behind them.
    pub proxies: Arc<client_addr::TrustedProxies>,
    /// Where the portal is reached and where pagoPA Checkout is.
    pub portal: Arc<portal::PortalSettings>,
    /// How citizens log in (OIDC, a SAML proxy's headers), if at all.
    pub citizen_login: Arc<portal::login::CitizenLogin>,
    /// Who may read `/metrics`.
    pub ops: Arc<OpsSettings>,
    /// Signs what browsers carry for us (challenges, the OIDC state).
    pub sealer: Arc<seal::Sealer>,
    /// How operators log in.
    pub backoffice: Arc<backoffice::BackofficeSettings>,
}

impl AppState {
    pub fn new(store: Store, files: FileStore) -> Self {
        AppState {
            store,
            files,
            proxies: Arc::new(client_addr::TrustedProxies::default()),
            metrics: metrics_handle(),
            openapi: Arc::new(api::openapi_document()),
            node: Arc::new(node::NodeSettings::default()),
            portal: Arc::new(portal::PortalSettings::default()),
            citizen_login: Arc::new(portal::login::CitizenLogin::default()),
            ops: Arc::new(OpsSettings::default()),
            sealer: Arc::new(seal::Sealer::random()),
            backoffice: Arc::new(backoffice::BackofficeSettings::default()),
        }
    }

    pub fn with_backoffice(mut self, settings: backoffice::BackofficeSettings) -> Self {
        self.backoffice = Arc::new(settings);
        self
    }

    /// The key every process shares ([`Store::server_key`]): what one
    /// process sealed, another opens.
    pub fn with_sealer(mut self, sealer: seal::Sealer) -> Self {
        self.sealer = Arc::new(sealer);
        self
    }

    pub fn with_portal(mut self, settings: portal::PortalSettings) -> Self {
        self.portal = Arc::new(settings);
        self
    }

    pub fn with_citizen_login(mut self, login: portal::login::CitizenLogin) -> Self {
        self.citizen_login = Arc::new(login);
        self
    }

    pub fn with_trusted_proxies(mut self, proxies: client_addr::TrustedProxies) -> Self {
        self.proxies = Arc::new(proxies);
        self
    }

    pub fn with_ops(mut self, settings: OpsSettings) -> Self {
        self.ops = Arc::new(settings);
        self
    }

    pub fn with_node(mut self, settings: node::NodeSettings) -> Self {
        self.node = Arc::new(settings);
        self
    }

    fn api_state(&self) -> api::ApiState {
        api::ApiState {
            store: self.store.clone(),
            files: self.files.clone(),
            openapi: self.openapi.clone(),
        }
    }

    fn portal_state(&self) -> portal::PortalState {
        let office = self.backoffice_state();
        portal::PortalState {
            store: self.store.clone(),
            sealer: self.sealer.clone(),
            portal: self.portal.clone(),
            citizen_login: self.citizen_login.clone(),
            operator_login: Arc::new(move |headers, identity, email| {
                let office = office.clone();
                Box::pin(async move {
                    backoffice::gateway_login(&office, &headers, &identity, email.as_deref()).await
                })
            }),
        }
    }

    fn backoffice_state(&self) -> backoffice::BackofficeState {
        let login = &self.citizen_login;
        backoffice::BackofficeState {
            store: self.store.clone(),
            files: self.files.clone(),
            backoffice: self.backoffice.clone(),
            site: cassa_http::Site::new(&self.portal.public_url),
            gateway: backoffice::GatewayLogins {
                oidc: login.oidc.is_some(),
                sso: login.headers.is_some(),
                min_assurance: login.min_assurance,
            },
        }
    }

    fn node_state(&self) -> node::NodeState {
        node::NodeState {
            store: self.store.clone(),
            node: self.node.clone(),
        }
    }
}

/// The whole application, the node endpoint included.
pub fn router(state: AppState) -> Router {
    let node = node::routes(state.node_state());
    layered(application(&state).merge(node), &state)
}

/// Everything but the node endpoint, for when it has a listener of its own
/// (`--node-listen`): the portal's port then never answers `/pagopa/*`.
pub fn router_without_node(state: AppState) -> Router {
    layered(application(&state), &state)
}

/// The node endpoint alone (and `/healthz`), for its own listener.
pub fn node_router(state: AppState) -> Router {
    let health = ops::health_routes().with_state(state.clone());
    let routes = not_found_fallback(&state)
        .merge(health)
        .merge(node::routes(state.node_state()));
    layered(routes, &state)
}

/// `/metrics` and `/healthz` alone, for a listener only monitoring reaches.
pub fn metrics_router(state: AppState) -> Router {
    let metrics = ops::metrics_routes().with_state(state.clone());
    layered(not_found_fallback(&state).merge(metrics), &state)
}

fn application(state: &AppState) -> Router {
    Router::new()
        .merge(ops::routes())
        .with_state(state.clone())
        .merge(backoffice::routes(state.backoffice_state()))
        .merge(not_found_fallback(state))
        .merge(portal::routes(state.portal_state()))
        .merge(api::routes(state.api_state()))
}

/// Unknown paths: the portal's page for browsers, GPD's JSON for the rest.
fn not_found_fallback(state: &AppState) -> Router {
    async fn not_found(page: portal::PageContext, headers: axum::http::HeaderMap) -> Response {
        if portal::wants_html(&headers) {
            portal::not_found_page(page)
        } else {
            api::not_found().await
        }
    }
    Router::new()
        .fallback(not_found)
        .with_state(state.portal_state())
}

/// Longest wait for the next chunk of a request body.
const BODY_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn layered(routes: Router, state: &AppState) -> Router {
    routes
        .layer(axum::middleware::from_fn(hardening::deadline))
        .layer(axum::middleware::from_fn(ops::record_metrics))
        .layer(axum::middleware::from_fn_with_state(
            cassa_http::Site::new(&state.portal.public_url),
            hardening::security_headers,
        ))
        .layer(axum::middleware::from_fn(request_id::propagate))
        .layer(axum::middleware::from_fn_with_state(
            state.proxies.clone(),
            client_addr::identify,
        ))
        // A body that stops arriving (a slow upload, slowloris) is cut.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            BODY_IDLE_TIMEOUT,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            api::panic_response,
        ))
}
