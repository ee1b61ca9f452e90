//! Who is really calling: the TCP peer, or the client a trusted reverse
//! proxy names in `X-Forwarded-For`. Anyone can write that header, so it is
//! believed only from the addresses in `trusted_proxies`, and only as far
//! back as the chain of trusted proxies goes.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;
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

/// One `X-Forwarded-For` hop: an address, or an address with a port
/// (`192.0.2.1:443`, `[2001:db8::1]:443`), as some proxies write them.
fn hop_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(addr) = IpAddr::from_str(hop) {
        return Some(canonical(addr));
    }
    std::net::SocketAddr::from_str(hop)
        .ok()
        .map(|s| canonical(s.ip()))
}

/// The client's address: `peer` itself, unless `peer` is a trusted proxy;
/// then `X-Forwarded-For` is walked from the right (the entry the nearest
/// proxy added) past every trusted proxy, and the first other address is
/// the client. `None` when that cannot be told: a hop that is not an
/// address, or a chain of trusted proxies that names nobody else. An
/// unknown client is never taken for the proxy that forwarded it.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &Networks) -> Option<IpAddr> {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return Some(peer);
    }
    let mut hops: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        hops.extend(value.to_str().ok()?.split(','));
    }
    for hop in hops.into_iter().rev() {
        let addr = hop_address(hop)?;
        if !trusted.contains(addr) {
            return Some(addr);
        }
    }
    None
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

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Networks = "10.0.0.0/24".parse().unwrap();
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
}
