//! The authorization endpoint: `GET /oidc/authorize` checks the request and
//! shows the identities to pick from; `POST /oidc/authorize` (the page's
//! forms) checks it again and sends the browser back with a code.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::identities::{METHODS, method_label};
use super::{
    CODE_LIFETIME, OidcProvider, PendingCode, identities, is_pkce_value, parse_params,
    random_token, with_query,
};
use crate::checkout::escape;

/// An authorization request that passed every check.
struct Request {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    nonce: String,
    code_challenge: String,
    idp_hint: Option<&'static str>,
}

enum Refusal {
    /// The client or its redirect URI cannot be trusted: say so, go nowhere.
    Page(String),
    /// Back to the client with an error, as RFC 6749 4.1.2.1 says.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Page(detail) => error_page(&detail),
            Refusal::Redirect {
                redirect_uri,
                error,
                description,
                state,
            } => {
                let mut pairs = vec![("error", error), ("error_description", &description)];
                if let Some(state) = &state {
                    pairs.push(("state", state));
                }
                found(&with_query(&redirect_uri, &pairs))
            }
        }
    }
}

fn validate(
    provider: &OidcProvider,
    params: &HashMap<String, String>,
    repeated: &[String],
) -> Result<Request, Refusal> {
    let get = |name: &str| params.get(name).cloned();
    if repeated
        .iter()
        .any(|r| r == "client_id" || r == "redirect_uri")
    {
        return Err(Refusal::Page(
            "client_id o redirect_uri ripetuto nella richiesta.".into(),
        ));
    }
    let Some(client) = get("client_id").and_then(|id| provider.client(&id)) else {
        return Err(Refusal::Page(format!(
            "Il servizio {:?} non è registrato presso questo fornitore di identità.",
            get("client_id").unwrap_or_default()
        )));
    };
    let Some(redirect_uri) = get("redirect_uri").filter(|u| client.redirect_uris.contains(u))
    else {
        return Err(Refusal::Page(format!(
            "L'indirizzo di ritorno {:?} non è registrato per il servizio {:?}.",
            get("redirect_uri").unwrap_or_default(),
            client.id
        )));
    };
    let state = get("state");
    let refuse = |error: &'static str, description: String| Refusal::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description,
        state: state.clone(),
    };
    if !repeated.is_empty() {
        return Err(refuse(
            "invalid_request",
            format!("parameters given more than once: {}", repeated.join(", ")),
        ));
    }
    match get("response_type").as_deref() {
        Some("code") => {}
        None => {
            return Err(refuse("invalid_request", "response_type is missing".into()));
        }
        Some(other) => {
            return Err(refuse(
                "unsupported_response_type",
                format!("response_type {other:?}: only \"code\" is supported"),
            ));
        }
    }
    let scope = get("scope").unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return Err(refuse(
            "invalid_scope",
            "scope must include \"openid\"".into(),
        ));
    }
    let Some(state) = state.clone() else {
        return Err(refuse("invalid_request", "state is missing".into()));
    };
    let Some(nonce) = get("nonce") else {
        return Err(refuse("invalid_request", "nonce is missing".into()));
    };
    let Some(code_challenge) = get("code_challenge") else {
        return Err(refuse(
            "invalid_request",
            "code_challenge is missing (PKCE is required)".into(),
        ));
    };
    if get("code_challenge_method").as_deref() != Some("S256") {
        return Err(refuse(
            "invalid_request",
            "code_challenge_method must be S256".into(),
        ));
    }
    // BASE64URL(SHA256(verifier)) is 43 characters.
    if code_challenge.len() != 43 || !is_pkce_value(&code_challenge) {
        return Err(refuse(
            "invalid_request",
            "code_challenge is not a base64url SHA-256 (43 characters)".into(),
        ));
    }
    let idp_hint = match get("idp_hint") {
        None => None,
        Some(hint) => match METHODS.iter().find(|m| **m == hint) {
            Some(method) => Some(*method),
            None => {
                return Err(refuse(
                    "invalid_request",
                    format!("idp_hint {hint:?}: not one of spid, cie, cns, eidas"),
                ));
            }
        },
    };
    Ok(Request {
        client_id: client.id.clone(),
        redirect_uri,
        scope,
        state,
        nonce,
        code_challenge,
        idp_hint,
    })
}

/// `GET /oidc/authorize`: the page to pick an identity from.
pub(super) async fn show(
    State(provider): State<Arc<OidcProvider>>,
    RawQuery(query): RawQuery,
) -> Response {
    let (params, repeated) = parse_params(query.unwrap_or_default().as_bytes());
    match validate(&provider, &params, &repeated) {
        Ok(request) => login_page(&request),
        Err(refusal) => refusal.into_response(),
    }
}

/// `POST /oidc/authorize`: the identity picked (`login`), or `cancel`.
pub(super) async fn choose(State(provider): State<Arc<OidcProvider>>, body: Bytes) -> Response {
    let (params, repeated) = parse_params(&body);
    let request = match validate(&provider, &params, &repeated) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    if params.contains_key("cancel") {
        return Refusal::Redirect {
            redirect_uri: request.redirect_uri,
            error: "access_denied",
            description: "the citizen cancelled the login".into(),
            state: Some(request.state),
        }
        .into_response();
    }
    let login = params.get("login").map(String::as_str).unwrap_or_default();
    let Some(identity) = identities().iter().find(|i| i.login == login) else {
        return error_page(&format!("Nessuna identità di prova si chiama {login:?}."));
    };
    if request.idp_hint.is_some_and(|hint| hint != identity.method) {
        return error_page(&format!(
            "{} non accede con {}.",
            identity.login,
            method_label(request.idp_hint.unwrap_or_default())
        ));
    }
    let code = random_token();
    provider.store_code(
        code.clone(),
        PendingCode {
            client_id: request.client_id,
            redirect_uri: request.redirect_uri.clone(),
            nonce: request.nonce,
            code_challenge: request.code_challenge,
            identity,
            auth_time: jiff::Timestamp::now().as_second(),
            expires: Instant::now() + CODE_LIFETIME,
        },
    );
    found(&with_query(
        &request.redirect_uri,
        &[("code", &code), ("state", &request.state)],
    ))
}

/// A 302 to `location`.
fn found(location: &str) -> Response {
    match HeaderValue::try_from(location) {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn error_page(detail: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        html_page(
            "Richiesta di accesso non valida",
            &format!(
                "<p>{}</p><p>Non si torna al servizio: la richiesta non arriva da un servizio \
                 registrato o è incompleta.</p>",
                escape(detail)
            ),
        ),
    )
        .into_response()
}

fn login_page(request: &Request) -> Response {
    let mut hidden = vec![
        ("client_id", request.client_id.as_str()),
        ("redirect_uri", &request.redirect_uri),
        ("response_type", "code"),
        ("scope", &request.scope),
        ("state", &request.state),
        ("nonce", &request.nonce),
        ("code_challenge", &request.code_challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(hint) = request.idp_hint {
        hidden.push(("idp_hint", hint));
    }
    let hidden: String = hidden
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(value)
            )
        })
        .collect();
    let choices: String = identities()
        .iter()
        .filter(|i| request.idp_hint.is_none_or(|hint| hint == i.method))
        .map(|i| {
            let id = i.button_id();
            let detail = match (i.fiscal_code, i.eidas_id) {
                (Some(cf), _) => format!("Codice fiscale {cf}"),
                (None, Some(eidas)) => format!("Identificativo eIDAS {eidas}"),
                (None, None) => String::new(),
            };
            let level = i.acr.rsplit('/').next().unwrap_or(i.acr);
            format!(
                "<li><form method=\"post\" action=\"/oidc/authorize\">{hidden}\
                 <input type=\"hidden\" name=\"login\" value=\"{login}\">\
                 <button type=\"submit\" id=\"{id}\" aria-describedby=\"{id}-detail\">\
                 Entra come {given} {family} ({method})</button></form>\
                 <p id=\"{id}-detail\">{detail} · livello {level} · {email}</p></li>",
                login = escape(i.login),
                given = escape(i.given_name),
                family = escape(i.family_name),
                method = i.method_label(),
                detail = escape(&detail),
                level = escape(level),
                email = escape(i.email),
            )
        })
        .collect();
    let body = format!(
        "<p>Il servizio <strong>{client}</strong> chiede di sapere chi sei. \
         Questo è un simulatore: scegli un'identità di prova, senza password.</p>\
         <ul>{choices}</ul>\
         <form method=\"post\" action=\"/oidc/authorize\">{hidden}\
         <input type=\"hidden\" name=\"cancel\" value=\"1\">\
         <button type=\"submit\" id=\"annulla\" class=\"secondary\">Annulla e torna al servizio</button>\
         </form>",
        client = escape(&request.client_id),
    );
    html_page("Accesso (simulatore)", &body).into_response()
}

fn html_page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"it\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · identità digitale</title><style>\
         body{{font-family:sans-serif;margin:0;color:#1a1a1a;background:#f5f5f5}}\
         header{{background:#0066cc;color:#fff;padding:1rem 2rem}}\
         main{{max-width:44rem;margin:2rem auto;background:#fff;padding:2rem}}\
         ul{{list-style:none;padding:0}}li{{margin:0 0 1.5rem}}li p{{margin:.3rem 0 0;color:#444}}\
         button{{background:#0066cc;color:#fff;border:0;padding:.8rem 1.5rem;font-size:1rem;cursor:pointer}}\
         button.secondary{{background:#fff;color:#0066cc;border:2px solid #0066cc}}\
         button:focus-visible{{outline:3px solid #ff9900;outline-offset:2px}}</style></head><body>\
         <header><p><strong>SPID · CIE · CNS · eIDAS</strong> · fornitore di identità simulato</p></header>\
         <main><h1>{title}</h1>{body}</main></body></html>"
    ))
}
