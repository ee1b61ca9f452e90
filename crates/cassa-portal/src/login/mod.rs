//! Citizens' login: OpenID Connect (SPID, CIE, CNS, eIDAS behind an OIDC
//! provider or gateway) or the trusted headers of a SAML proxy. Sessions
//! live in the database (any node serves them): the cookie holds a random
//! token and the database its SHA-256; a login always makes a new token,
//! a session ends after `idle` without requests or `absolute` after login,
//! and logout deletes it.

pub mod headers;
pub mod oidc;

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cassa_core::citizen::{Assurance, AuthMethod, Claims, Identity, identity_from_claims};
use cassa_store::CitizenSession;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::area::texts::{AreaTexts, area_texts};
use super::{PageContext, cookie, render_with_status};
use crate::PortalState;
use headers::{HeaderLoginError, HeaderLoginSettings, identity_from_headers};
use oidc::{OidcClient, claim};

pub const SESSION_COOKIE: &str = "cassa_citizen";
const STATE_COOKIE: &str = "cassa_oidc";

/// An OIDC login started here, sealed in the browser's cookie until the
/// provider sends the browser back.
#[derive(serde::Serialize, Deserialize)]
struct PendingOidcLogin {
    state: String,
    nonce: String,
    pkce_verifier: String,
    method: String,
    /// Unix seconds.
    expires: i64,
    /// An operator's login to the back office.
    #[serde(default)]
    backoffice: bool,
}
/// How long a citizen has at the identity provider.
const LOGIN_WINDOW: SignedDuration = SignedDuration::from_mins(10);
/// A session in use is written back at most this often.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_mins(1);

/// The ways citizens can log in here, and how long sessions last.
pub struct CitizenLogin {
    pub oidc: Option<OidcClient>,
    pub headers: Option<HeaderLoginSettings>,
    pub idle: SignedDuration,
    pub absolute: SignedDuration,
    /// Logins below this level of assurance (or not saying theirs) are refused.
    pub min_assurance: Option<Assurance>,
}

impl Default for CitizenLogin {
    fn default() -> Self {
        CitizenLogin {
            oidc: None,
            headers: None,
            idle: SignedDuration::from_mins(30),
            absolute: SignedDuration::from_hours(12),
            min_assurance: None,
        }
    }
}

impl CitizenLogin {
    /// The session behind a browser's cookie, kept alive while in use.
    pub async fn session_of(
        &self,
        state: &PortalState,
        request_headers: &HeaderMap,
    ) -> Option<CitizenSession> {
        let token = cookie(request_headers, SESSION_COOKIE)?;
        let hash = cassa_http::token::hash(token);
        let now = Timestamp::now();
        let session = match state.store.citizen_session(&hash, now).await {
            Ok(session) => session?,
            Err(e) => {
                tracing::error!(error = %e, "citizen session lookup failed");
                return None;
            }
        };
        if now.duration_since(session.seen_at) > TOUCH_EVERY {
            let until = (now + self.idle).min(session.created_at + self.absolute);
            if let Err(e) = state.store.touch_citizen_session(&hash, until, now).await {
                tracing::warn!(error = %e, "citizen session not extended");
            }
        }
        Some(session)
    }
}

#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage {
    page: PageContext,
    a: &'static AreaTexts,
    oidc: bool,
    sso: bool,
    methods: Vec<(&'static str, &'static str, &'static str)>,
    error: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    esito: String,
}

/// `GET /accedi`: the ways in (SPID, CIE, CNS, eIDAS), as the seeds show.
pub async fn page(
    State(state): State<PortalState>,
    page: PageContext,
    Query(query): Query<LoginQuery>,
) -> Response {
    if page.citizen.is_some() {
        return Redirect::to("/area-personale").into_response();
    }
    let a = area_texts(page.lang);
    let error = match query.esito.as_str() {
        "errore" => Some(a.login_failed),
        "scaduto" => Some(a.login_expired),
        "non-attendibile" => Some(a.login_untrusted),
        "livello" => Some(a.login_level),
        _ => None,
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let view = LoginPage {
        a,
        oidc: state.citizen_login.oidc.is_some(),
        sso: state.citizen_login.headers.is_some(),
        methods: vec![
            ("spid", "SPID", a.login_spid),
            ("cie", "CIE", a.login_cie),
            ("cns", "CNS", a.login_cns),
            ("eidas", "eIDAS", a.login_eidas),
        ],
        error,
        page,
    };
    render_with_status(status, &view.page, &view)
}

fn redirect_uri(state: &PortalState) -> String {
    format!("{}/accedi/oidc/ritorno", state.portal.public_url)
}

fn to_login(outcome: &str) -> Response {
    Redirect::to(&format!("/accedi?esito={outcome}")).into_response()
}

#[derive(Deserialize, Default)]
pub struct StartQuery {
    #[serde(default)]
    metodo: String,
    /// `backoffice`: an operator logs in, not a citizen.
    #[serde(default)]
    per: String,
}

/// `GET /accedi/oidc?metodo=spid`: off to the identity provider.
pub async fn start_oidc(
    State(state): State<PortalState>,
    page: PageContext,
    Query(query): Query<StartQuery>,
) -> Response {
    let Some(client) = &state.citizen_login.oidc else {
        return super::pages::not_found(page);
    };
    let method = AuthMethod::parse(&query.metodo).unwrap_or(AuthMethod::Spid);
    let now = Timestamp::now();
    let authorization = match client
        .authorization(
            &redirect_uri(&state),
            Some(method.as_str()),
            page.lang.code(),
        )
        .await
    {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "OIDC login could not start");
            return to_login("errore");
        }
    };
    // Nothing is stored: the login's secrets go, sealed, in a cookie of
    // this browser, so the answer must come back to the browser that asked
    // (no login forced on someone else's browser) and anonymous visits
    // write nothing.
    let pending = PendingOidcLogin {
        state: authorization.state,
        nonce: authorization.nonce,
        pkce_verifier: authorization.pkce_verifier,
        method: method.as_str().to_owned(),
        expires: (now + LOGIN_WINDOW).as_second(),
        backoffice: query.per == "backoffice",
    };
    let sealed = match serde_json::to_vec(&pending) {
        Ok(json) => state.sealer.seal(&json),
        Err(e) => return super::internal_error(&page, e),
    };
    let mut response = Redirect::to(&authorization.url).into_response();
    let cookie = format!(
        "{STATE_COOKIE}={sealed}; Path=/accedi; HttpOnly; SameSite=Lax; Max-Age={}{}",
        LOGIN_WINDOW.as_secs(),
        state.portal.secure_cookie()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize, Default)]
pub struct ReturnQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
}

/// `GET /accedi/oidc/ritorno`: the provider sends the browser back.
pub async fn oidc_return(
    State(state): State<PortalState>,
    page: PageContext,
    request_headers: HeaderMap,
    Query(query): Query<ReturnQuery>,
) -> Response {
    let Some(client) = &state.citizen_login.oidc else {
        return super::pages::not_found(page);
    };
    if !query.error.is_empty() {
        tracing::info!(error = %query.error, "the identity provider refused the login");
        return to_login("errore");
    }
    let now = Timestamp::now();
    let pending = cookie(&request_headers, STATE_COOKIE)
        .and_then(|sealed| state.sealer.open(sealed))
        .and_then(|json| serde_json::from_slice::<PendingOidcLogin>(&json).ok())
        .filter(|p| p.expires > now.as_second());
    let Some(pending) = pending
        .filter(|p| !query.state.is_empty() && cassa_http::token::same(&query.state, &p.state))
    else {
        return to_login("scaduto");
    };
    let method = AuthMethod::parse(&pending.method).unwrap_or(AuthMethod::Spid);
    let claims = match client
        .finish(
            &query.code,
            &redirect_uri(&state),
            &pending.pkce_verifier,
            &pending.nonce,
        )
        .await
    {
        Ok(claims) => claims,
        Err(e) => {
            tracing::warn!(error = %e, "OIDC login failed");
            return to_login("errore");
        }
    };
    // Spent once, and only now that the provider vouched for the login:
    // an anonymous request cannot make us write.
    let expires = Timestamp::from_second(pending.expires).unwrap_or(now);
    match state
        .store
        .spend_token(&cassa_http::token::hash(&pending.state), expires)
        .await
    {
        Ok(true) => {}
        Ok(false) => return to_login("scaduto"),
        Err(e) => return super::internal_error(&page, e),
    }
    let settings = &client.settings;
    let identity = identity_from_claims(&Claims {
        fiscal_code: claim(&claims, &settings.fiscal_code_claim),
        eidas_id: claim(&claims, &settings.eidas_id_claim),
        given_name: claim(&claims, "given_name"),
        family_name: claim(&claims, "family_name"),
        method: claim(&claims, &settings.method_claim).or(Some(method.as_str())),
        acr: claim(&claims, "acr"),
    });
    match identity {
        Ok(identity) if pending.backoffice => {
            // An e-mail the provider says it verified may name the account.
            let verified = claims.get("email_verified").and_then(|v| v.as_bool()) == Some(true);
            let email = claim(&claims, "email").filter(|_| verified);
            (state.operator_login)(request_headers, identity, email.map(str::to_owned)).await
        }
        Ok(identity) => logged_in(&state, &page, &request_headers, &identity, "oidc").await,
        Err(e) => {
            tracing::warn!(error = %e, "OIDC login without a usable identity");
            to_login("errore")
        }
    }
}

/// `GET /accedi/sso`: the SAML proxy in front of this path vouches for the
/// citizen in its headers.
pub async fn sso(
    State(state): State<PortalState>,
    page: PageContext,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<StartQuery>,
    request_headers: HeaderMap,
) -> Response {
    let Some(settings) = &state.citizen_login.headers else {
        return super::pages::not_found(page);
    };
    match identity_from_headers(settings, peer.ip(), &request_headers) {
        Ok(identity) if query.per == "backoffice" => {
            (state.operator_login)(request_headers, identity, None).await
        }
        Ok(identity) => logged_in(&state, &page, &request_headers, &identity, "headers").await,
        Err(HeaderLoginError::Untrusted) => {
            tracing::warn!(peer = %peer.ip(), "identity headers from an untrusted client ignored");
            to_login("non-attendibile")
        }
        Err(HeaderLoginError::Identity(e)) => {
            tracing::warn!(error = %e, "the proxy's headers name no usable identity");
            to_login("errore")
        }
    }
}

/// A new session (the browser's previous one ends) and the personal area.
async fn logged_in(
    state: &PortalState,
    page: &PageContext,
    request_headers: &HeaderMap,
    identity: &Identity,
    provider: &str,
) -> Response {
    if !Assurance::meets(identity.assurance, state.citizen_login.min_assurance) {
        tracing::info!(
            assurance = identity.assurance.map(|a| a.level()),
            "citizen login below the required level of assurance"
        );
        return to_login("livello");
    }
    let token = cassa_http::token::random_hex(32);
    let previous = cookie(request_headers, SESSION_COOKIE).map(cassa_http::token::hash);
    let now = Timestamp::now();
    let login = &state.citizen_login;
    let expires_at = now + login.idle.min(login.absolute);
    if let Err(e) = state
        .store
        .start_citizen_session(
            &cassa_http::token::hash(&token),
            identity,
            provider,
            previous.as_deref(),
            expires_at,
            now,
        )
        .await
    {
        return super::internal_error(page, e);
    }
    tracing::info!(
        method = identity.method.as_str(),
        assurance = identity.assurance.map(|a| a.level()),
        provider,
        "citizen login"
    );
    let mut response = Redirect::to("/area-personale").into_response();
    let headers = response.headers_mut();
    let secure = state.portal.secure_cookie();
    let session = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}");
    let state_gone = format!("{STATE_COOKIE}=; Path=/accedi; HttpOnly; SameSite=Lax; Max-Age=0");
    for cookie in [session, state_gone] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

#[derive(Deserialize, Default)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /esci`: the session ends, in the database too.
pub async fn logout(
    State(state): State<PortalState>,
    page: PageContext,
    request_headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    if !page.csrf.accepts(&form.csrf) {
        return super::notice::expired(&page);
    }
    if let Some(token) = cookie(&request_headers, SESSION_COOKIE)
        && let Err(e) = state
            .store
            .end_citizen_session(&cassa_http::token::hash(token))
            .await
    {
        return super::internal_error(&page, e);
    }
    let mut response = Redirect::to("/").into_response();
    let cookie = format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        state.portal.secure_cookie()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
