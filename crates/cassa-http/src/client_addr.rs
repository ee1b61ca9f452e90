//! Who is really calling, and over what: the TCP peer, or the client a
//! trusted reverse proxy names in `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`, with the scheme it was reached by (`proto=` or
//! `X-Forwarded-Proto`). Anyone can write those headers, so they are
//! believed only from the addresses in `trusted_proxies`, and only as far
//! back as the chain of trusted proxies goes. One middleware works it out
//! once per request ([`identify`]); handlers read [`Client`].

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use axum::http::{HeaderMap, header};
use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A list of networks (CIDRs; a bare address is a network of one), read
/// from configuration as a list or as one comma-separated string (what an
/// environment variable can hold).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Networks(Vec<IpNet>);

impl Networks {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `addr` is in one of the networks (IPv4-mapped IPv6
    /// addresses count as their IPv4 address).
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|net| net.contains(&addr))
    }
}

/// `::ffff:a.b.c.d` as `a.b.c.d`: a dual-stack listener reports IPv4
/// clients that way.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct BadNetwork(String);

impl fmt::Display for BadNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a network (e.g. 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32)",
            self.0
        )
    }
}

impl std::error::Error for BadNetwork {}

fn network(text: &str) -> Result<IpNet, BadNetwork> {
    let text = text.trim();
    IpNet::from_str(text)
        .map(|net| net.trunc())
        .or_else(|_| IpAddr::from_str(text).map(|a| IpNet::from(canonical(a))))
        .map_err(|_| BadNetwork(text.to_owned()))
}

impl FromStr for Networks {
    type Err = BadNetwork;

    /// Comma-separated; empty means none.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(network)
            .collect::<Result<_, _>>()
            .map(Networks)
    }
}

impl Serialize for Networks {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

impl<'de> Deserialize<'de> for Networks {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Given {
            One(String),
            Many(Vec<String>),
        }
        let text = match Given::deserialize(deserializer)? {
            Given::One(text) => text,
            Given::Many(list) => list.join(","),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One hop a proxy recorded: the address it heard from (text as written)
/// and, with `Forwarded`, the scheme it was reached by.
struct Hop<'a> {
    from: &'a str,
    proto: Option<&'a str>,
}

/// Which header the trusted proxies write the client in. One, chosen by
/// configuration: a proxy passes on what the client sent in the other, so
/// choosing by presence would let a client name itself.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProxyHeader {
    /// `X-Forwarded-For` (and `X-Forwarded-Proto`), as nginx's
    /// `$proxy_add_x_forwarded_for` writes it.
    #[default]
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// RFC 7239's `Forwarded` (`for=`, `proto=`).
    #[serde(rename = "forwarded")]
    Forwarded,
}

/// The hops of the proxies' header, left (farthest) to right (nearest).
/// `None`: a header that is not text.
fn hops(headers: &HeaderMap, header: ProxyHeader) -> Option<Vec<Hop<'_>>> {
    let mut hops = Vec::new();
    if header == ProxyHeader::Forwarded {
        for value in headers.get_all(header::FORWARDED) {
            for element in value.to_str().ok()?.split(',') {
                let (mut from, mut proto) = ("", None);
                for pair in element.split(';') {
                    let Some((name, value)) = pair.split_once('=') else {
                        continue;
                    };
                    let value = value.trim().trim_matches('"');
                    match name.trim().to_ascii_lowercase().as_str() {
                        "for" => from = value,
                        "proto" => proto = Some(value),
                        _ => {}
                    }
                }
                hops.push(Hop { from, proto });
            }
        }
    } else {
        for value in headers.get_all("x-forwarded-for") {
            for from in value.to_str().ok()?.split(',') {
                hops.push(Hop { from, proto: None });
            }
        }
    }
    Some(hops)
}

/// One hop's address: bare, with a port (`192.0.2.1:443`), or in brackets
/// (`[2001:db8::1]`, `[2001:db8::1]:443`) as RFC 7239 writes IPv6.
fn hop_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(addr) = IpAddr::from_str(hop) {
        return Some(canonical(addr));
    }
    if let Some(inner) = hop.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return IpAddr::from_str(inner).ok().map(canonical);
    }
    std::net::SocketAddr::from_str(hop)
        .ok()
        .map(|s| canonical(s.ip()))
}

/// Who called, as far as can be told.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// `None` when a trusted proxy's headers name nobody believable: such
    /// callers share one rate limit, and are never taken for the proxy.
    pub ip: Option<IpAddr>,
    /// Whether the client's own connection was HTTPS (ours, or the
    /// proxy's as it says).
    pub https: bool,
}

impl Client {
    /// The client [`identify`] found for `request`.
    pub fn of<B>(request: &axum::http::Request<B>) -> Client {
        request
            .extensions()
            .get::<Client>()
            .copied()
            .unwrap_or(Client {
                ip: None,
                https: false,
            })
    }

    /// The key a per-client limit counts under: an IPv4 address, or an
    /// IPv6 /64 (one subscriber's network: a host picks freely inside it).
    pub fn limit_key(&self) -> String {
        match self.ip {
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => {
                let net = ipnet::Ipv6Net::new(v6, 64).expect("64 is a prefix length");
                net.trunc().to_string()
            }
            None => "unknown".to_owned(),
        }
    }
}

/// The client's address: `peer` itself, unless `peer` is a trusted proxy;
/// then the hops are walked from the right (the one the nearest proxy
/// added) past every trusted proxy, and the first other address is the
/// client. `None` when that cannot be told: a hop that is not an address
/// (`unknown`, an obfuscated name), or a chain of trusted proxies that
/// names nobody else.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &TrustedProxies) -> Option<IpAddr> {
    client(peer, false, headers, proxies).ip
}

/// The client behind `peer`, reached over HTTPS or not (`peer_https`).
pub fn client(
    peer: IpAddr,
    peer_https: bool,
    headers: &HeaderMap,
    proxies: &TrustedProxies,
) -> Client {
    let trusted = &proxies.networks;
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return Client {
            ip: Some(peer),
            https: peer_https,
        };
    }
    let unknown = Client {
        ip: None,
        https: peer_https,
    };
    let Some(hops) = hops(headers, proxies.header) else {
        return unknown;
    };
    for hop in hops.iter().rev() {
        let Some(addr) = hop_address(hop.from) else {
            return unknown;
        };
        if !trusted.contains(addr) {
            // The scheme of the proxy that heard the client: its
            // `proto=`, or the edge's `X-Forwarded-Proto` (the first).
            let proto = match proxies.header {
                ProxyHeader::Forwarded => hop.proto,
                ProxyHeader::XForwardedFor => headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next()),
            };
            let https = match proto.map(|p| p.trim().to_ascii_lowercase()) {
                Some(p) => p == "https",
                None => peer_https,
            };
            return Client {
                ip: Some(addr),
                https,
            };
        }
    }
    unknown
}

/// The reverse proxies believed about the client behind them, and the
/// header they write it in.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies {
    pub networks: Networks,
    pub header: ProxyHeader,
}

/// Works out the [`Client`] of every request once and puts it in the
/// request's extensions (a request without a peer, in a test, is an
/// unknown client over plain HTTP).
pub async fn identify(
    axum::extract::State(proxies): axum::extract::State<std::sync::Arc<TrustedProxies>>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let extensions = request.extensions();
    let peer_https = extensions
        .get::<cassa_net::Transport>()
        .is_some_and(|t| t.https);
    let found = match extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>() {
        Some(peer) => client(peer.0.ip(), peer_https, request.headers(), &proxies),
        None => Client {
            ip: None,
            https: peer_https,
        },
    };
    request.extensions_mut().insert(found);
    next.run(request).await
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Client>().copied().unwrap_or(Client {
            ip: None,
            https: false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn networks_read_lists_and_comma_separated_text() {
        let nets: Networks = "10.0.0.0/8, 192.0.2.7,2001:db8::/32".parse().unwrap();
        assert!(nets.contains(ip("10.1.2.3")));
        assert!(nets.contains(ip("192.0.2.7")));
        assert!(!nets.contains(ip("192.0.2.8")));
        assert!(nets.contains(ip("2001:db8::1")));
        assert!(nets.contains(ip("::ffff:10.9.9.9")));
        assert!("".parse::<Networks>().unwrap().is_empty());
        assert!("10.0.0.0/33".parse::<Networks>().is_err());
        assert!("example.org".parse::<Networks>().is_err());
        let from_list: Networks = serde_json::from_str(r#"["10.0.0.0/8", "::1"]"#).unwrap();
        assert!(from_list.contains(ip("::1")));
        let from_text: Networks = serde_json::from_str(r#""127.0.0.1/32""#).unwrap();
        assert_eq!(
            serde_json::to_string(&from_text).unwrap(),
            r#"["127.0.0.1/32"]"#
        );
    }

    fn proxies(networks: &str, header: ProxyHeader) -> TrustedProxies {
        TrustedProxies {
            networks: networks.parse().unwrap(),
            header,
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = proxies("10.0.0.0/24", ProxyHeader::XForwardedFor);
        let headers = forwarded(&["203.0.113.9"]);
        // A direct caller cannot name someone else.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &headers, &trusted),
            Some(ip("198.51.100.1"))
        );
        // Through the proxy, the client it names.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers, &trusted),
            Some(ip("203.0.113.9"))
        );
        // A client's own forged entry sits left of the one the proxy added.
        let forged = forwarded(&["1.2.3.4, 203.0.113.9"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &forged, &trusted),
            Some(ip("203.0.113.9"))
        );
        // Two trusted proxies in a row, across two header lines; ports too.
        let chain = forwarded(&["203.0.113.9:51000", "[::ffff:10.0.0.3]:443"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &chain, &trusted),
            Some(ip("203.0.113.9"))
        );
        // Garbage, or only proxies: nobody known, never the proxy itself.
        for unknown in [
            forwarded(&["nonsense"]),
            forwarded(&["203.0.113.9, x"]),
            forwarded(&[""]),
        ] {
            assert_eq!(client_ip(ip("10.0.0.2"), &unknown, &trusted), None);
        }
        assert_eq!(client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted), None);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &forwarded(&["10.0.0.9"]), &trusted),
            None
        );
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn forwarded_is_read_as_rfc_7239_writes_it() {
        let trusted = proxies("10.0.0.0/24", ProxyHeader::Forwarded);
        let proxy = ip("10.0.0.2");
        let seen = |pairs: &[(&str, &str)]| client(proxy, false, &headers(pairs), &trusted);
        assert_eq!(
            seen(&[(
                "forwarded",
                "for=1.2.3.4, for=203.0.113.9;proto=https;by=10.0.0.2"
            )]),
            Client {
                ip: Some(ip("203.0.113.9")),
                https: true
            }
        );
        assert_eq!(
            seen(&[("forwarded", r#"for="[2001:db8:cafe::17]:4711";proto=http"#)]),
            Client {
                ip: Some(ip("2001:db8:cafe::17")),
                https: false
            }
        );
        // Two proxies of ours: the client is the hop before them.
        assert_eq!(
            seen(&[
                ("forwarded", "for=203.0.113.9;proto=https"),
                ("forwarded", "for=10.0.0.3")
            ]),
            Client {
                ip: Some(ip("203.0.113.9")),
                https: true
            }
        );
        // Only Forwarded is read; hidden names are nobody.
        assert_eq!(
            seen(&[
                ("forwarded", "for=_hidden"),
                ("x-forwarded-for", "203.0.113.9")
            ])
            .ip,
            None
        );
        assert_eq!(seen(&[("forwarded", "for=unknown")]).ip, None);
        assert_eq!(seen(&[("x-forwarded-for", "203.0.113.9")]).ip, None);
        let direct = client(
            ip("198.51.100.1"),
            false,
            &headers(&[("x-forwarded-proto", "https"), ("forwarded", "for=1.1.1.1")]),
            &trusted,
        );
        assert_eq!(
            direct,
            Client {
                ip: Some(ip("198.51.100.1")),
                https: false
            }
        );
    }

    #[test]
    fn only_the_configured_header_is_read() {
        // nginx appends to X-Forwarded-For and passes on the client's own
        // Forwarded: that one must not name the client.
        let trusted = proxies("10.0.0.0/24", ProxyHeader::XForwardedFor);
        let sent = headers(&[
            ("forwarded", "for=1.2.3.4;proto=https"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        let seen = client(ip("10.0.0.2"), false, &sent, &trusted);
        assert_eq!(seen.ip, Some(ip("203.0.113.9")));
        assert!(
            !seen.https,
            "proto= of the client's own header is not believed"
        );
        // X-Forwarded-Proto from a trusted proxy; never from anyone else.
        let sent = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ]);
        assert!(client(ip("10.0.0.2"), false, &sent, &trusted).https);
        assert!(!client(ip("198.51.100.1"), false, &sent, &trusted).https);
        // And the other way round.
        let trusted = proxies("10.0.0.0/24", ProxyHeader::Forwarded);
        let sent = headers(&[
            ("forwarded", "for=203.0.113.9"),
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "https"),
        ]);
        let seen = client(ip("10.0.0.2"), false, &sent, &trusted);
        assert_eq!(seen.ip, Some(ip("203.0.113.9")));
        assert!(!seen.https);
        let header: ProxyHeader = serde_json::from_str(r#""forwarded""#).unwrap();
        assert_eq!(header, ProxyHeader::Forwarded);
        assert!(serde_json::from_str::<ProxyHeader>(r#""x-real-ip""#).is_err());
    }

    #[test]
    fn limits_count_ipv6_clients_by_their_64() {
        let key = |text: &str| {
            Client {
                ip: Some(ip(text)),
                https: false,
            }
            .limit_key()
        };
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(key("192.0.2.1"), "192.0.2.1");
        assert_eq!(
            Client {
                ip: None,
                https: false
            }
            .limit_key(),
            "unknown"
        );
    }
}
