//! The token endpoint: `POST /oidc/token` redeems a code for an ID token.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{
    OidcClient, OidcProvider, PendingCode, TOKEN_LIFETIME, parse_params, pkce_matches,
    random_token, same_secret,
};

/// `POST /oidc/token`, grant_type=authorization_code. The code is gone
/// after its first presentation, whether the request succeeds or not.
pub(super) async fn token(
    State(provider): State<Arc<OidcProvider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        );
    }
    let (params, repeated) = parse_params(&body);
    if !repeated.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("parameters given more than once: {}", repeated.join(", ")),
        );
    }
    match params.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {}
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is missing",
            );
        }
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only authorization_code is supported",
            );
        }
    }
    let Some(code) = params.get("code") else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code is missing",
        );
    };
    let pending = provider.take_code(code);
    let client = match authenticate(&provider, &headers, &params) {
        Ok(client) => client,
        Err(failure) => return failure.into_response(),
    };
    let invalid_grant = |why: &str| error(StatusCode::BAD_REQUEST, "invalid_grant", why);
    let Some(pending) = pending else {
        return invalid_grant("the code is unknown, expired or already used");
    };
    if pending.client_id != client.id {
        return invalid_grant("the code was issued to another client");
    }
    if params.get("redirect_uri") != Some(&pending.redirect_uri) {
        return invalid_grant("redirect_uri differs from the authorization request's");
    }
    let Some(verifier) = params.get("code_verifier") else {
        return invalid_grant("code_verifier is missing (PKCE is required)");
    };
    if !pkce_matches(verifier, &pending.code_challenge) {
        return invalid_grant("code_verifier does not match the code_challenge");
    }
    let id_token = match provider.id_token(&client.id, &pending) {
        Ok(token) => token,
        Err(e) => {
            eprintln!("pagopa-sim oidc: signing an ID token: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    no_store(
        StatusCode::OK,
        json!({
            "access_token": random_token(),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "id_token": id_token,
        }),
    )
}

impl OidcProvider {
    fn id_token(
        &self,
        client_id: &str,
        pending: &PendingCode,
    ) -> jsonwebtoken::errors::Result<String> {
        let identity = pending.identity;
        let now = jiff::Timestamp::now().as_second();
        let mut claims = json!({
            "iss": self.issuer,
            "sub": self.subject(identity.login),
            "aud": client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "auth_time": pending.auth_time,
            "nonce": pending.nonce,
            "acr": identity.acr,
            "given_name": identity.given_name,
            "family_name": identity.family_name,
            "name": format!("{} {}", identity.given_name, identity.family_name),
            "email": identity.email,
            "email_verified": true,
            "auth_method": identity.method,
        });
        if let Some(cf) = identity.fiscal_code {
            claims["fiscal_number"] = json!(format!("TINIT-{cf}"));
        }
        if let Some(id) = identity.eidas_id {
            claims["person_identifier"] = json!(id);
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key)
    }

    /// Stable per issuer and identity, and says nothing about the person.
    fn subject(&self, login: &str) -> String {
        let digest = Sha256::digest(format!("{}\n{login}", self.issuer));
        hex::encode(&digest[..16])
    }
}

/// Why a client is not let in.
enum AuthFailure {
    /// Basic and client_secret both: 400 invalid_request.
    Twice,
    /// 401 invalid_client, with why.
    Invalid(&'static str),
}

impl IntoResponse for AuthFailure {
    fn into_response(self) -> Response {
        match self {
            AuthFailure::Twice => error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the client authenticated twice (Basic and client_secret)",
            ),
            AuthFailure::Invalid(why) => {
                let mut response = error(StatusCode::UNAUTHORIZED, "invalid_client", why);
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"oidc\""),
                );
                response
            }
        }
    }
}

/// client_secret_basic or client_secret_post, never both (RFC 6749 2.3.1).
fn authenticate<'p>(
    provider: &'p OidcProvider,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<&'p OidcClient, AuthFailure> {
    use AuthFailure::Invalid;
    let basic = headers.get(header::AUTHORIZATION);
    let (id, secret) = match (basic, params.get("client_secret")) {
        (Some(_), Some(_)) => return Err(AuthFailure::Twice),
        (Some(value), None) => {
            let (id, secret) =
                parse_basic(value).ok_or(Invalid("malformed Basic authorization"))?;
            if params
                .get("client_id")
                .is_some_and(|form_id| *form_id != id)
            {
                return Err(Invalid("client_id differs from the Basic user"));
            }
            (id, secret)
        }
        (None, Some(secret)) => match params.get("client_id") {
            Some(id) => (id.clone(), secret.clone()),
            None => return Err(Invalid("client_secret without client_id")),
        },
        (None, None) => return Err(Invalid("no client authentication")),
    };
    provider
        .client(&id)
        .filter(|c| same_secret(&c.secret, &secret))
        .ok_or(Invalid("unknown client or wrong secret"))
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn parse_basic(value: &HeaderValue) -> Option<(String, String)> {
    let value = value.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(credentials.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// application/x-www-form-urlencoded decoding of one value; None when a
/// `%` is not followed by two hex digits or the bytes are not UTF-8.
fn form_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = rest
                    .get(..2)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
                bytes.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                rest = &rest[2..];
            }
            _ => bytes.push(b),
        }
    }
    String::from_utf8(bytes).ok()
}

fn error(status: StatusCode, error: &str, description: &str) -> Response {
    no_store(
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn no_store(status: StatusCode, body: Value) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header =
            |raw: &str| HeaderValue::try_from(format!("Basic {}", STANDARD.encode(raw))).unwrap();
        assert_eq!(
            parse_basic(&header("my+client:s%3Acret%25")),
            Some(("my client".into(), "s:cret%".into()))
        );
        assert_eq!(parse_basic(&header("no-colon")), None);
        assert_eq!(parse_basic(&header("a:%zz")), None);
        assert_eq!(parse_basic(&header("a:%+1")), None);
        assert_eq!(parse_basic(&HeaderValue::from_static("Bearer abc")), None);
    }
}
