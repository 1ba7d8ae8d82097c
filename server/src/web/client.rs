//! Who the client is, for the bounds on what one unauthenticated client may
//! store: its address as the connection shows it or, when the connection
//! comes from one of `server.trusted_proxies`, as those proxies recorded it
//! in `X-Forwarded-For` (read from the right, skipping trusted hops: the
//! entries further left are the client's own claims and can be anything).
//! The key is the IPv4 address, or the /64 of an IPv6 address (one host
//! holds a whole /64), so a client cannot mint unbounded keys.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// How this server tells unauthenticated clients apart, and what each may store.
#[derive(Debug, Clone)]
pub struct Clients {
    pub proxies: Vec<IpNet>,
    /// Most pending SAML requests per address key.
    pub pending_per_address: usize,
}

impl Clients {
    /// The bound's key of the client behind a connection from `peer`.
    pub fn key_of(&self, peer: IpAddr, headers: &HeaderMap) -> String {
        key(address(peer, headers, &self.proxies))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("server.trusted_proxies: {0:?} is not an IP address or CIDR block (such as 10.0.0.0/8)")]
pub struct BadProxy(String);

/// Reads `server.trusted_proxies`: addresses (`10.0.0.7`) or blocks (`10.0.0.0/8`).
pub fn parse_trusted(entries: &[String]) -> Result<Vec<IpNet>, BadProxy> {
    entries
        .iter()
        .map(|e| {
            let t = e.trim();
            t.parse::<IpNet>()
                .or_else(|_| t.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| BadProxy(e.clone()))
        })
        .collect()
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|n| n.contains(&ip))
}

/// The client's address: the peer's, or behind trusted proxies the
/// rightmost `X-Forwarded-For` entry that is not a trusted proxy. An
/// unreadable entry where the client should be leaves the nearest proxy as
/// the client (all such requests share its bound).
pub fn address(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    // Bounded: the header list is bounded by the server's header limits,
    // and the walk stops at the first untrusted hop.
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted(ip, proxies) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// The bound's key for an address: IPv4 as is, IPv6 by its /64.
pub fn key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = parse_trusted(&["10.0.0.0/8".into(), "192.0.2.1".into()]).unwrap();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let outsider: IpAddr = "203.0.113.9".parse().unwrap();
        // Not from a proxy: the header is the client's claim, ignored.
        assert_eq!(address(outsider, &xff("198.51.100.1"), &proxies), outsider);
        // From a proxy: the rightmost untrusted hop.
        assert_eq!(
            address(peer, &xff("1.1.1.1, 198.51.100.7, 10.9.9.9"), &proxies),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // Spoofed garbage where the client should be: the proxy stands in.
        assert_eq!(address(peer, &xff("not-an-ip"), &proxies), peer);
        assert_eq!(
            address(peer, &xff("1.1.1.1, junk, 10.9.9.9"), &proxies),
            "10.9.9.9".parse::<IpAddr>().unwrap()
        );
        // No header: the proxy itself.
        assert_eq!(address(peer, &HeaderMap::new(), &proxies), peer);
        assert!(parse_trusted(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_trusted(&["proxy.example".into()]).is_err());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        assert_eq!(key(a), key(b));
        assert_eq!(key(a), "2001:db8:1:2::/64");
        assert_ne!(key(a), key("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(key("::ffff:192.0.2.5".parse().unwrap()), "192.0.2.5");
        assert_eq!(key("192.0.2.5".parse().unwrap()), "192.0.2.5");
    }
}
