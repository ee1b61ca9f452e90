//! The citizen portal: server-rendered pages in the Bootstrap Italia look,
//! Italian first with an English switch. Every page shares the header
//! banner (Home, Ricerca Ente, Paga Avviso, Informazioni, Accedi, Carrello).

mod area;
mod cart;
pub mod challenge;
mod checkout;
mod enti;
pub mod i18n;
pub mod login;
mod notice;
mod pages;
mod receipt;
mod spontaneous;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub use cassa_http::i18n::LANG_COOKIE;
pub use cassa_http::{Csrf, RateLimit, cookie};
use i18n::{Lang, Texts};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use cassa_core::citizen::Identity;
use cassa_http::seal::Sealer;
use cassa_store::Store;

/// Where an operator the identity gateway vouched for goes (the back
/// office's login, given the request's headers, the identity and the
/// e-mail the provider verified): the portal runs the gateway, the back
/// office decides who gets in.
pub type OperatorLogin = Arc<
    dyn Fn(HeaderMap, Identity, Option<String>) -> Pin<Box<dyn Future<Output = Response> + Send>>
        + Send
        + Sync,
>;

/// What the portal reaches.
#[derive(Clone)]
pub struct PortalState {
    pub store: Store,
    /// Signs what browsers carry for us (challenges, the OIDC state).
    pub sealer: Arc<Sealer>,
    pub portal: Arc<PortalSettings>,
    /// How citizens (and, through it, operators) log in.
    pub citizen_login: Arc<login::CitizenLogin>,
    pub operator_login: OperatorLogin,
}

/// The portal's pages, `/static/*` and nothing else.
pub fn routes(state: PortalState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/informazioni", get(pages::information))
        .route("/accedi", get(login::page))
        .route("/accedi/oidc", get(login::start_oidc))
        .route("/accedi/oidc/ritorno", get(login::oidc_return))
        .route("/accedi/sso", get(login::sso))
        .route("/esci", axum::routing::post(login::logout))
        .route("/area-personale", get(area::open_debts))
        .route("/area-personale/posizioni/{id}", get(area::position))
        .route(
            "/area-personale/posizioni/{id}/avviso",
            get(area::notice_pdf),
        )
        .route(
            "/area-personale/carrello",
            axum::routing::post(area::add_to_cart),
        )
        .route("/area-personale/storico", get(area::history))
        .route("/area-personale/ricevute/{id}", get(area::receipt))
        .route("/carrello", get(cart::page))
        .route("/carrello/aggiungi", axum::routing::post(cart::add))
        .route("/carrello/rimuovi", axum::routing::post(cart::remove))
        .route("/carrello/svuota", axum::routing::post(cart::empty))
        .route(
            "/carrello/anagrafica",
            get(checkout::anagrafica).post(checkout::save_anagrafica),
        )
        .route("/carrello/riepilogo", get(checkout::summary))
        .route("/carrello/paga", axum::routing::post(checkout::pay))
        .route(
            "/carrello/riprendi/{cart}",
            get(cart::resume_page).post(cart::resume),
        )
        .route("/pagamento/{id}/esito/{outcome}", get(checkout::outcome))
        .route("/pagamento/{id}/ricevuta/{item}", get(checkout::receipt))
        .route("/ricevuta", get(receipt::form).post(receipt::download))
        .route("/lingua/{code}", get(pages::switch_language))
        .route("/enti", get(enti::search))
        .route("/enti/{fiscal_code}", get(enti::ente_page))
        .route(
            "/enti/{fiscal_code}/paga/{code}",
            get(spontaneous::form).post(spontaneous::submit),
        )
        .route("/paga-avviso", get(notice::form).post(notice::lookup))
        .route("/paga-avviso/pdf", axum::routing::post(notice::pdf))
        .merge(cassa_http::assets::routes())
        .with_state(state)
}

/// Where the portal is reached (for the return URLs given to Checkout and
/// the links in e-mails) and where pagoPA Checkout's carts API is.
#[derive(Clone)]
pub struct PortalSettings {
    /// e.g. `https://pagamenti.example.it`, without a trailing slash.
    pub public_url: String,
    /// Checkout's `POST /carts`, e.g. `https://api.platform.pagopa.it/checkout/ec/v2/carts`.
    pub checkout_carts_url: String,
    /// Sent as `Ocp-Apim-Subscription-Key` when set.
    pub checkout_key: Option<String>,
    http: reqwest::Client,
}

/// Without Checkout's key.
impl std::fmt::Debug for PortalSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalSettings")
            .field("public_url", &self.public_url)
            .field("checkout_carts_url", &self.checkout_carts_url)
            .field(
                "checkout_key",
                &self.checkout_key.as_ref().map(|_| cassa_http::REDACTED),
            )
            .finish_non_exhaustive()
    }
}

impl PortalSettings {
    pub fn new(
        public_url: &str,
        checkout_carts_url: &str,
        checkout_key: Option<String>,
        roots: &cassa_net::TrustedRoots,
    ) -> PortalSettings {
        PortalSettings {
            public_url: public_url.trim_end_matches('/').to_owned(),
            checkout_carts_url: checkout_carts_url.to_owned(),
            checkout_key,
            // Checkout answers 302 with the page to send the citizen to:
            // that is the answer, not a redirect to follow.
            http: roots
                .http_client()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(20))
                .build()
                .expect("an HTTP client with a built TLS configuration"),
        }
    }
}

impl PortalSettings {
    /// `; Secure` for cookies when the portal is served over TLS.
    pub fn secure_cookie(&self) -> &'static str {
        if self.public_url.starts_with("https://") {
            "; Secure"
        } else {
            ""
        }
    }
}

impl Default for PortalSettings {
    fn default() -> Self {
        PortalSettings::new(
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8081/checkout/ec/v2/carts",
            None,
            &cassa_net::TrustedRoots::system(),
        )
    }
}

/// What every page needs: the language and its texts, where we are, and
/// the form token.
#[derive(Clone)]
pub struct PageContext {
    pub lang: Lang,
    pub t: &'static Texts,
    /// The path of this page, for the language switch to come back to.
    pub path: String,
    pub cart_count: usize,
    /// The browser's cart, if it has one.
    pub cart: Option<String>,
    pub csrf: Csrf,
    /// The logged-in citizen, if any.
    pub citizen: Option<std::sync::Arc<cassa_store::CitizenSession>>,
}

impl PageContext {
    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    /// The personal area's words.
    pub fn area_t(&self) -> &'static area::texts::AreaTexts {
        area::texts::area_texts(self.lang)
    }

    /// `aria-current` for the menu entry of `section`.
    pub fn current(&self, section: &str) -> &'static str {
        let here = match self.path.as_str() {
            "/" => "home",
            p if p.starts_with("/enti") => "enti",
            p if p.starts_with("/paga-avviso") => "avviso",
            p if p.starts_with("/informazioni") => "info",
            p if p.starts_with("/accedi") => "accedi",
            p if p.starts_with("/area-personale") => "area",
            p if p.starts_with("/carrello") => "carrello",
            _ => "",
        };
        if here == section { "page" } else { "false" }
    }
}

impl FromRequestParts<PortalState> for PageContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalState,
    ) -> Result<Self, Self::Rejection> {
        let lang = cookie(&parts.headers, LANG_COOKIE)
            .and_then(Lang::parse)
            .unwrap_or(Lang::It);
        let cart = cookie(&parts.headers, cart::COOKIE)
            .filter(|id| cassa_http::token::is_public_id(id))
            .map(str::to_owned);
        let cart_count = match &cart {
            // A count that cannot be read is not worth failing the page for.
            Some(id) => state.store.cart_size(id).await.unwrap_or(0),
            None => 0,
        };
        let citizen = state
            .citizen_login
            .session_of(state, &parts.headers)
            .await
            .map(std::sync::Arc::new);
        Ok(PageContext {
            citizen,
            lang,
            t: i18n::texts(lang),
            path: parts.uri.path().to_owned(),
            cart_count,
            cart,
            csrf: Csrf::from_headers(&parts.headers),
        })
    }
}

/// Renders a page, setting the form-token cookie if the browser has none.
pub fn render(context: &PageContext, page: &impl Template) -> Response {
    render_with_status(StatusCode::OK, context, page)
}

pub fn render_with_status(
    status: StatusCode,
    context: &PageContext,
    page: &impl Template,
) -> Response {
    let html = match page.render() {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = context.csrf.set_cookie() {
        headers.append(header::SET_COOKIE, cookie);
    }
    response
}

/// A failure of ours: logged, and a plain page for the citizen.
pub fn internal_error(context: &PageContext, error: impl std::fmt::Display) -> Response {
    tracing::error!(error = %error, "portal page failed");
    let page = pages::Message {
        page: context.clone(),
        heading: context.t.error_title,
        text: context.t.error_text,
    };
    render_with_status(StatusCode::INTERNAL_SERVER_ERROR, context, &page)
}

/// The page for a path nobody serves.
pub fn not_found_page(page: PageContext) -> Response {
    pages::not_found(page)
}

/// Whether the client is a browser (it accepts HTML).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}
