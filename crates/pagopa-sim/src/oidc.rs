//! A demo OpenID Connect provider, standing in for the SPID, CIE, CNS and
//! eIDAS gateways through which citizens log into PA portals. It speaks the
//! real protocol on loopback: discovery, JWKS, the authorization code flow
//! with PKCE (S256 only) and RS256 ID tokens, so that a relying party (cassa)
//! is tested and demonstrated against what it will meet in production.
//!
//! Nobody types a password: the login page lists demo identities
//! ([`identities`]) and the citizen picks one. ID tokens carry the claims the
//! Italian gateways use: `fiscal_number` ("TINIT-" + codice fiscale) for
//! SPID, CIE and CNS, `person_identifier` for eIDAS, the level in `acr`.
//!
//! Every route lives under `/oidc`, so [`routes`] merges into the
//! simulator's main router.

mod authorize;
mod identities;
mod token;

pub use identities::{DemoIdentity, identities};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A relying party registered with the provider.
#[derive(Clone, Debug)]
pub struct OidcClient {
    pub id: String,
    pub secret: String,
    /// Compared exactly (no prefix or pattern matching), as OIDC requires.
    pub redirect_uris: Vec<String>,
}

/// The provider: its issuer, its clients, its signing key and the
/// authorization codes not yet redeemed.
pub struct OidcProvider {
    issuer: String,
    clients: Vec<OidcClient>,
    key: EncodingKey,
    /// The key's RFC 7638 thumbprint.
    kid: String,
    /// Modulus and exponent, base64url without padding, for the JWKS.
    n: String,
    e: String,
    codes: Mutex<HashMap<String, PendingCode>>,
}

/// What an authorization code stands for until it is redeemed.
struct PendingCode {
    client_id: String,
    redirect_uri: String,
    nonce: String,
    code_challenge: String,
    identity: &'static DemoIdentity,
    auth_time: i64,
    expires: Instant,
}

/// How long an authorization code can be redeemed.
const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long ID and access tokens last, in seconds.
const TOKEN_LIFETIME: i64 = 300;

/// The claims an ID token may carry.
const CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "given_name",
    "family_name",
    "name",
    "email",
    "auth_method",
    "fiscal_number",
    "person_identifier",
];

impl OidcProvider {
    /// `issuer` e.g. "http://127.0.0.1:8081/oidc" (a trailing slash is
    /// dropped). Makes a fresh 2048-bit RSA signing key. Fails on an issuer
    /// or redirect URI that is not an absolute http(s) URL, on a redirect
    /// URI with a fragment, and on a client id given twice.
    pub fn new(issuer: impl Into<String>, clients: Vec<OidcClient>) -> anyhow::Result<Self> {
        let issuer = issuer.into().trim_end_matches('/').to_owned();
        if !is_absolute_url(&issuer) || issuer.contains(['?', '#']) {
            bail!("issuer {issuer:?}: not an absolute http(s) URL without query or fragment");
        }
        for (i, client) in clients.iter().enumerate() {
            if client.id.is_empty() || client.secret.is_empty() {
                bail!("OIDC client {i}: empty id or secret");
            }
            if clients[..i].iter().any(|c| c.id == client.id) {
                bail!("OIDC client {:?} registered twice", client.id);
            }
            if client.redirect_uris.is_empty() {
                bail!("OIDC client {:?}: no redirect URI", client.id);
            }
            for uri in &client.redirect_uris {
                if !is_absolute_url(uri) || uri.contains('#') {
                    bail!(
                        "OIDC client {:?}: redirect URI {uri:?} is not an absolute http(s) URL without fragment",
                        client.id
                    );
                }
            }
        }
        let private = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048)
            .context("making the OIDC signing key")?;
        let der = private
            .to_pkcs1_der()
            .context("encoding the OIDC signing key")?;
        let n = URL_SAFE_NO_PAD.encode(private.n().to_be_bytes_trimmed_vartime());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_be_bytes_trimmed_vartime());
        // RFC 7638: the hash of the required members, in lexical order.
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(format!(
            r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#
        )));
        Ok(OidcProvider {
            issuer,
            clients,
            key: EncodingKey::from_rsa_der(der.as_bytes()),
            kid,
            n,
            e,
            codes: Mutex::default(),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    fn client(&self, id: &str) -> Option<&OidcClient> {
        self.clients.iter().find(|c| c.id == id)
    }

    fn store_code(&self, code: String, pending: PendingCode) {
        let mut codes = self.codes.lock().expect("codes lock");
        let now = Instant::now();
        codes.retain(|_, c| c.expires > now);
        codes.insert(code, pending);
    }

    /// Takes the code out, valid or not: a code is good for one try.
    fn take_code(&self, code: &str) -> Option<PendingCode> {
        let pending = self.codes.lock().expect("codes lock").remove(code)?;
        (pending.expires > Instant::now()).then_some(pending)
    }

    fn discovery(&self) -> Value {
        let issuer = &self.issuer;
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": CLAIMS,
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
        })
    }

    fn jwks(&self) -> Value {
        json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256",
            "kid": self.kid, "n": self.n, "e": self.e,
        }]})
    }
}

/// All routes live under /oidc (so they merge into the sim's main router).
pub fn routes(provider: Arc<OidcProvider>) -> Router {
    Router::new()
        .route(
            "/oidc/.well-known/openid-configuration",
            get(|State(p): State<Arc<OidcProvider>>| async move { Json(p.discovery()) }),
        )
        .route(
            "/oidc/jwks",
            get(|State(p): State<Arc<OidcProvider>>| async move { Json(p.jwks()) }),
        )
        .route(
            "/oidc/authorize",
            get(authorize::show).post(authorize::choose),
        )
        .route("/oidc/token", post(token::token))
        .with_state(provider)
}

fn is_absolute_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    // Printable ASCII only: it goes into Location headers as it is.
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && text.bytes().all(|b| b.is_ascii_graphic())
}

/// 32 random bytes, base64url: codes and access tokens.
fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The parameters of a query or form body. Empty values count as absent
/// (RFC 6749 3.1); the names given more than once come back apart.
fn parse_params(raw: &[u8]) -> (HashMap<String, String>, Vec<String>) {
    let mut params = HashMap::new();
    let mut repeated = Vec::new();
    for (name, value) in form_urlencoded::parse(raw) {
        if value.is_empty() {
            continue;
        }
        if params.contains_key(name.as_ref()) {
            if !repeated.iter().any(|r| r == &name) {
                repeated.push(name.into_owned());
            }
        } else {
            params.insert(name.into_owned(), value.into_owned());
        }
    }
    (params, repeated)
}

/// `uri` with `pairs` added to its query, form-encoded.
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let joint = match uri.find('?') {
        None => "?",
        Some(_) if uri.ends_with(['?', '&']) => "",
        Some(_) => "&",
    };
    format!("{uri}{joint}{query}")
}

/// RFC 7636's code_verifier syntax: 43 to 128 unreserved characters.
fn is_pkce_value(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The S256 check: BASE64URL-NOPAD(SHA256(verifier)) == challenge.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    is_pkce_value(verifier)
        && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

/// Compares secrets in time that depends on their lengths only.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_as_in_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
            challenge
        ));
        // "plain" is not accepted: the challenge itself is no verifier.
        assert!(!pkce_matches(challenge, challenge));
        assert!(!pkce_matches("short", challenge));
    }

    #[test]
    fn redirects_keep_the_query_the_client_registered() {
        assert_eq!(
            with_query(
                "https://rp.example/cb",
                &[("code", "a b"), ("state", "x&y")]
            ),
            "https://rp.example/cb?code=a+b&state=x%26y"
        );
        assert_eq!(
            with_query("https://rp.example/cb?t=1", &[("code", "c")]),
            "https://rp.example/cb?t=1&code=c"
        );
    }

    #[test]
    fn params_drop_empty_values_and_tell_repeated_names() {
        let (params, repeated) = parse_params(b"a=1&b=&a=2&c=%2B+");
        assert_eq!(params.get("a").map(String::as_str), Some("1"));
        assert!(!params.contains_key("b"));
        assert_eq!(params.get("c").map(String::as_str), Some("+ "));
        assert_eq!(repeated, ["a"]);
    }

    #[test]
    fn bad_registrations_are_refused() {
        let client = |uri: &str| OidcClient {
            id: "rp".into(),
            secret: "s".into(),
            redirect_uris: vec![uri.into()],
        };
        for uri in [
            "/relative",
            "ftp://x/cb",
            "https://rp.example/cb#frag",
            "http://",
        ] {
            assert!(
                OidcProvider::new("http://127.0.0.1:1/oidc", vec![client(uri)]).is_err(),
                "{uri}"
            );
        }
        assert!(OidcProvider::new("127.0.0.1/oidc", vec![]).is_err());
        let twice = vec![client("https://a/cb"), client("https://b/cb")];
        assert!(OidcProvider::new("http://127.0.0.1:1/oidc", twice).is_err());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
