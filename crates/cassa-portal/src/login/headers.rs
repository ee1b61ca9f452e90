//! Login through a SAML service-provider proxy (Shibboleth in front of
//! SPID/CIE/eIDAS, as regional gateways run it): the proxy authenticates
//! the citizen and passes who they are in request headers. Those headers
//! are believed only from the configured proxy addresses and with the
//! shared secret; from anywhere else they are ignored.

use std::net::IpAddr;

use axum::http::HeaderMap;
use cassa_core::citizen::{Claims, Identity, IdentityError, identity_from_claims};

#[derive(Clone)]
pub struct HeaderLoginSettings {
    /// The proxies' addresses, as seen on the connection.
    pub proxies: Vec<IpAddr>,
    /// The value the proxy sends in `secret_header`.
    pub secret: String,
    pub secret_header: String,
    pub fiscal_code_header: String,
    pub given_name_header: String,
    pub family_name_header: String,
    pub eidas_id_header: String,
    pub method_header: String,
    pub assurance_header: String,
}

/// Without the proxy's secret.
impl std::fmt::Debug for HeaderLoginSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeaderLoginSettings")
            .field("proxies", &self.proxies)
            .field("secret", &cassa_http::REDACTED)
            .field("secret_header", &self.secret_header)
            .finish_non_exhaustive()
    }
}

impl HeaderLoginSettings {
    /// The header names cassa expects unless configured otherwise.
    pub fn new(proxies: Vec<IpAddr>, secret: &str) -> HeaderLoginSettings {
        HeaderLoginSettings {
            proxies,
            secret: secret.to_owned(),
            secret_header: "X-Proxy-Secret".into(),
            fiscal_code_header: "X-Fiscal-Number".into(),
            given_name_header: "X-Given-Name".into(),
            family_name_header: "X-Family-Name".into(),
            eidas_id_header: "X-Eidas-Person-Identifier".into(),
            method_header: "X-Auth-Method".into(),
            assurance_header: "X-Auth-Level".into(),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum HeaderLoginError {
    /// Not from a listed proxy, or without the right secret: the headers
    /// say nothing.
    Untrusted,
    Identity(IdentityError),
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The citizen the proxy vouches for, if the request really comes from it.
pub fn identity_from_headers(
    settings: &HeaderLoginSettings,
    peer: IpAddr,
    headers: &HeaderMap,
) -> Result<Identity, HeaderLoginError> {
    let peer = match peer {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(peer),
        v4 => v4,
    };
    let secret_ok = header(headers, &settings.secret_header)
        .is_some_and(|posted| cassa_http::token::same(posted, &settings.secret));
    if settings.secret.is_empty() || !settings.proxies.contains(&peer) || !secret_ok {
        return Err(HeaderLoginError::Untrusted);
    }
    identity_from_claims(&Claims {
        fiscal_code: header(headers, &settings.fiscal_code_header),
        eidas_id: header(headers, &settings.eidas_id_header),
        given_name: header(headers, &settings.given_name_header),
        family_name: header(headers, &settings.family_name_header),
        method: header(headers, &settings.method_header),
        acr: header(headers, &settings.assurance_header),
    })
    .map_err(HeaderLoginError::Identity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn settings() -> HeaderLoginSettings {
        HeaderLoginSettings::new(vec!["10.0.0.5".parse().unwrap()], "s3cret")
    }

    fn headers(secret: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("X-Proxy-Secret", secret),
            ("X-Fiscal-Number", "TINIT-RSSMRA80A01F205X"),
            ("X-Given-Name", "Mario"),
            ("X-Family-Name", "Rossi"),
            ("X-Auth-Method", "spid"),
            ("X-Auth-Level", "https://www.spid.gov.it/SpidL2"),
        ] {
            headers.insert(name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn the_proxy_with_its_secret_is_believed() {
        let identity =
            identity_from_headers(&settings(), "10.0.0.5".parse().unwrap(), &headers("s3cret"))
                .unwrap();
        assert_eq!(identity.id.fiscal_code(), Some("RSSMRA80A01F205X"));
        // The same address seen as IPv4-mapped IPv6.
        assert!(
            identity_from_headers(
                &settings(),
                "::ffff:10.0.0.5".parse().unwrap(),
                &headers("s3cret")
            )
            .is_ok()
        );
    }

    #[test]
    fn other_addresses_or_secrets_are_ignored() {
        let stranger = "10.0.0.6".parse().unwrap();
        assert_eq!(
            identity_from_headers(&settings(), stranger, &headers("s3cret")),
            Err(HeaderLoginError::Untrusted)
        );
        assert_eq!(
            identity_from_headers(&settings(), "10.0.0.5".parse().unwrap(), &headers("guess")),
            Err(HeaderLoginError::Untrusted)
        );
        let mut open = settings();
        open.secret.clear();
        assert_eq!(
            identity_from_headers(&open, "10.0.0.5".parse().unwrap(), &headers("")),
            Err(HeaderLoginError::Untrusted)
        );
    }
}
