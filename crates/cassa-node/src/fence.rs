//! Only pagoPA may call the node endpoint: a caller must come from one of
//! `node_allowed_networks` and/or carry the shared secret the station is
//! configured with, whichever of the two are set (both, when both are).
//! With neither set the endpoint refuses every call: a receipt is money,
//! and an open endpoint lets anyone mark a debt paid.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::xml;
use cassa_http::client_addr::Networks;

use crate::NodeState;

/// Who may call `/pagopa/*`.
#[derive(Clone)]
pub struct NodeFence {
    /// Callers must come from one of these (empty: not checked).
    pub allowed_networks: Networks,
    /// Callers must send this in `header` (none: not checked).
    pub secret: Option<String>,
    pub header: HeaderName,
}

/// Without the secret.
impl std::fmt::Debug for NodeFence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeFence")
            .field("allowed_networks", &self.allowed_networks)
            .field(
                "secret",
                &self.secret.as_ref().map(|_| cassa_http::REDACTED),
            )
            .field("header", &self.header)
            .finish()
    }
}

impl Default for NodeFence {
    /// Closed: nothing configured lets nobody in.
    fn default() -> Self {
        NodeFence {
            allowed_networks: Networks::default(),
            secret: None,
            header: HeaderName::from_static("ocp-apim-subscription-key"),
        }
    }
}

/// Why a call was turned away.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Neither networks nor a secret are configured.
    Closed,
    /// The caller's address is outside the allowed networks.
    Network,
    /// The secret is missing or wrong.
    Secret,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Closed => "not_configured",
            Refusal::Network => "network",
            Refusal::Secret => "secret",
        }
    }
}

impl NodeFence {
    /// Whether the fence lets anyone in at all.
    pub fn is_closed(&self) -> bool {
        self.allowed_networks.is_empty() && self.secret.is_none()
    }

    /// Decides on a call from `client` (unknown: `None`) carrying
    /// `presented` in our header.
    pub fn check(&self, client: Option<IpAddr>, presented: Option<&[u8]>) -> Result<(), Refusal> {
        if self.is_closed() {
            return Err(Refusal::Closed);
        }
        if !self.allowed_networks.is_empty()
            && !client.is_some_and(|c| self.allowed_networks.contains(c))
        {
            return Err(Refusal::Network);
        }
        if let Some(secret) = &self.secret {
            let given = presented
                .and_then(|v| std::str::from_utf8(v).ok())
                .unwrap_or("");
            if !cassa_http::token::same(given, secret) {
                return Err(Refusal::Secret);
            }
        }
        Ok(())
    }
}

/// The middleware in front of every `/pagopa/*` route: a refused call gets
/// 403 with a SOAP Fault, is counted and logged, and reaches nothing else.
pub async fn guard(State(state): State<NodeState>, request: Request, next: Next) -> Response {
    let fence = &state.node.fence;
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    // The caller as the identify layer found it (behind trusted_proxies).
    let client = cassa_http::client_addr::Client::of(&request).ip;
    let presented = request.headers().get(&fence.header).map(|v| v.as_bytes());
    match fence.check(client, presented) {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            metrics::counter!("cassa_node_refused_total", "reason" => refusal.code()).increment(1);
            tracing::warn!(
                peer = ?peer,
                client = ?client,
                reason = refusal.code(),
                path = request.uri().path(),
                "node endpoint: call refused"
            );
            let why = match refusal {
                Refusal::Closed => {
                    "the node endpoint is not configured to accept calls (node_allowed_networks, node_auth_secret)"
                }
                Refusal::Network | Refusal::Secret => "the caller is not authorised",
            };
            xml(
                StatusCode::FORBIDDEN,
                cassa_pagopa::node::soap::write_soap_fault("Client", why),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn nothing_configured_lets_nobody_in() {
        let fence = NodeFence::default();
        assert_eq!(
            fence.check(Some(ip("127.0.0.1")), Some(b"anything")),
            Err(Refusal::Closed)
        );
    }

    #[test]
    fn each_configured_check_must_pass() {
        let secret = "0123456789abcdef0123";
        let networks: Networks = "10.0.0.0/8".parse().unwrap();
        let by_secret = NodeFence {
            secret: Some(secret.into()),
            ..NodeFence::default()
        };
        assert_eq!(
            by_secret.check(Some(ip("192.0.2.1")), Some(secret.as_bytes())),
            Ok(())
        );
        assert_eq!(
            by_secret.check(Some(ip("192.0.2.1")), Some(b"0123456789abcdef0124")),
            Err(Refusal::Secret)
        );
        assert_eq!(
            by_secret.check(Some(ip("192.0.2.1")), None),
            Err(Refusal::Secret)
        );
        let by_network = NodeFence {
            allowed_networks: networks.clone(),
            ..NodeFence::default()
        };
        assert_eq!(by_network.check(Some(ip("10.2.3.4")), None), Ok(()));
        assert_eq!(
            by_network.check(Some(ip("11.2.3.4")), None),
            Err(Refusal::Network)
        );
        assert_eq!(by_network.check(None, None), Err(Refusal::Network));
        let both = NodeFence {
            allowed_networks: networks,
            secret: Some(secret.into()),
            ..NodeFence::default()
        };
        assert_eq!(
            both.check(Some(ip("10.2.3.4")), Some(secret.as_bytes())),
            Ok(())
        );
        assert_eq!(
            both.check(Some(ip("11.2.3.4")), Some(secret.as_bytes())),
            Err(Refusal::Network)
        );
        assert_eq!(both.check(Some(ip("10.2.3.4")), None), Err(Refusal::Secret));
    }
}
