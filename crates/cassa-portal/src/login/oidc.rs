//! OpenID Connect relying party: authorization code with PKCE (S256), the
//! provider found through its discovery document, the ID token checked
//! against the provider's JWKS (signature, issuer, audience, expiry, nonce).
//! Works with SPID/CIE OIDC providers and with gateways (Keycloak, SATOSA)
//! in front of SPID, CIE, CNS and eIDAS.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

/// How cassa is registered at the provider, and where the provider puts
/// what we need in its claims.
#[derive(Clone)]
pub struct OidcSettings {
    /// e.g. `https://login.example.it/realms/cittadini`; the discovery
    /// document is at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Space-separated; `openid` is always sent.
    pub scopes: String,
    /// The claim with the codice fiscale (`TINIT-` prefix allowed).
    pub fiscal_code_claim: String,
    /// The claim with an eIDAS citizen's person identifier.
    pub eidas_id_claim: String,
    /// The claim naming the method used (spid, cie, cns, eidas), if any.
    pub method_claim: String,
    /// The authorize parameter that takes the citizen straight to the
    /// chosen method (`kc_idp_hint` on Keycloak); none when empty.
    pub hint_parameter: String,
}

/// Without the client secret: settings end up in logs and panics.
impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &cassa_http::REDACTED)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl OidcSettings {
    /// The claim names SPID/CIE OIDC and pagopa-sim use.
    pub fn new(issuer: &str, client_id: &str, client_secret: &str) -> OidcSettings {
        OidcSettings {
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            scopes: "openid profile".into(),
            fiscal_code_claim: "fiscal_number".into(),
            eidas_id_claim: "person_identifier".into(),
            method_claim: "auth_method".into(),
            hint_parameter: "idp_hint".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider cannot be reached: {0}")]
    Unreachable(String),
    #[error("the identity provider answered {0}")]
    Refused(String),
    #[error("the ID token is not acceptable: {0}")]
    BadToken(String),
}

#[derive(Deserialize, Clone)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

struct Provider {
    discovery: Discovery,
    keys: JwkSet,
    fetched: Instant,
}

/// Discovery and keys are kept for an hour; a token signed by a key we do
/// not know yet makes us fetch the keys again (the provider rotated them).
const PROVIDER_TTL: Duration = Duration::from_secs(3600);

pub struct OidcClient {
    pub settings: OidcSettings,
    http: reqwest::Client,
    provider: RwLock<Option<Provider>>,
}

/// What to send the browser to the provider with, and what to keep.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

fn random_url_safe(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// RFC 7636: BASE64URL(SHA256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl OidcClient {
    pub fn new(settings: OidcSettings, roots: &cassa_net::TrustedRoots) -> OidcClient {
        OidcClient {
            settings,
            http: roots
                .http_client()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(15))
                .build()
                .expect("an HTTP client with a built TLS configuration"),
            provider: RwLock::new(None),
        }
    }

    async fn fetch_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(OidcError::Refused(format!(
                "{} for {url}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| OidcError::Refused(format!("an unreadable document at {url}: {e}")))
    }

    async fn load(&self) -> Result<Provider, OidcError> {
        let url = format!("{}/.well-known/openid-configuration", self.settings.issuer);
        let discovery: Discovery = self.fetch_json(&url).await?;
        if discovery.issuer.trim_end_matches('/') != self.settings.issuer {
            return Err(OidcError::Refused(format!(
                "issuer {} in its discovery document, {} configured",
                discovery.issuer, self.settings.issuer
            )));
        }
        let keys: JwkSet = self.fetch_json(&discovery.jwks_uri).await?;
        Ok(Provider {
            discovery,
            keys,
            fetched: Instant::now(),
        })
    }

    async fn discovery(&self) -> Result<Discovery, OidcError> {
        if let Some(p) = self.provider.read().await.as_ref()
            && p.fetched.elapsed() < PROVIDER_TTL
        {
            return Ok(p.discovery.clone());
        }
        let provider = self.load().await?;
        let discovery = provider.discovery.clone();
        *self.provider.write().await = Some(provider);
        Ok(discovery)
    }

    /// The provider's key `kid`, fetching the keys again once if unknown.
    async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, OidcError> {
        for attempt in 0..2 {
            if attempt == 1 || self.provider.read().await.is_none() {
                let provider = self.load().await?;
                *self.provider.write().await = Some(provider);
            }
            let guard = self.provider.read().await;
            let keys = &guard.as_ref().expect("loaded above").keys;
            let jwk = match kid {
                Some(kid) => keys.find(kid),
                None if keys.keys.len() == 1 => keys.keys.first(),
                None => None,
            };
            if let Some(jwk) = jwk {
                return DecodingKey::from_jwk(jwk)
                    .map_err(|e| OidcError::BadToken(format!("key {kid:?}: {e}")));
            }
        }
        Err(OidcError::BadToken(format!(
            "no key {kid:?} at the provider"
        )))
    }

    /// Where to send the browser: the provider's authorize endpoint with a
    /// fresh state, nonce and PKCE challenge.
    pub async fn authorization(
        &self,
        redirect_uri: &str,
        hint: Option<&str>,
        lang: &str,
    ) -> Result<Authorization, OidcError> {
        let discovery = self.discovery().await?;
        let state = random_url_safe(32);
        let nonce = random_url_safe(32);
        let pkce_verifier = random_url_safe(32);
        let mut scopes = self.settings.scopes.clone();
        if !scopes.split_whitespace().any(|s| s == "openid") {
            scopes = format!("openid {scopes}");
        }
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", scopes.trim())
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &pkce_challenge(&pkce_verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("ui_locales", lang);
        if let Some(hint) = hint.filter(|_| !self.settings.hint_parameter.is_empty()) {
            query.append_pair(&self.settings.hint_parameter, hint);
        }
        let separator = if discovery.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        Ok(Authorization {
            url: format!(
                "{}{separator}{}",
                discovery.authorization_endpoint,
                query.finish()
            ),
            state,
            nonce,
            pkce_verifier,
        })
    }

    /// Trades the code for tokens and returns the checked ID token's claims.
    pub async fn finish(
        &self,
        code: &str,
        redirect_uri: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let discovery = self.discovery().await?;
        // Built before the request: the serializer may not cross an await.
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_verifier", pkce_verifier)
            .finish();
        let response = self
            .http
            .post(&discovery.token_endpoint)
            .basic_auth(
                form_encode(&self.settings.client_id),
                Some(form_encode(&self.settings.client_secret)),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| OidcError::Refused(format!("an unreadable token answer: {e}")))?;
        if !status.is_success() {
            return Err(OidcError::Refused(format!(
                "{status} to the token request: {body}"
            )));
        }
        let id_token = body
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(|| OidcError::Refused("a token answer without id_token".into()))?;
        let claims = self.verify(id_token, &discovery.issuer).await?;
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(OidcError::BadToken("the nonce is not ours".into()));
        }
        Ok(claims)
    }

    async fn verify(&self, token: &str, issuer: &str) -> Result<Map<String, Value>, OidcError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| OidcError::BadToken(format!("header: {e}")))?;
        // Asymmetric signatures only: `none` and shared-secret HMAC are out.
        let allowed = [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
            Algorithm::ES256,
            Algorithm::ES384,
        ];
        if !allowed.contains(&header.alg) {
            return Err(OidcError::BadToken(format!("signed with {:?}", header.alg)));
        }
        let key = self.key(header.kid.as_deref()).await?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = 60;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| OidcError::BadToken(e.to_string()))
    }
}

/// RFC 6749 2.3.1: client credentials are form-encoded before Basic.
fn form_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A claim given as text, trimmed; `None` when absent, empty or not text.
pub fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn pkce_challenge_follows_rfc_7636_appendix_b() {
        assert_eq!(
            super::pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
