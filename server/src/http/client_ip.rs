//! The client's address, for rate limits. It is the peer of the connection, unless that peer is
//! one of the operator's trusted proxies (`VOXGATE_TRUSTED_PROXIES`): then it is the last
//! `X-Forwarded-For` hop that is not a trusted proxy (hops further left were written by the
//! client and prove nothing). Without trusted proxies the header is ignored: anyone can send it.
//!
//! Limits key on [`limit_key`]: an IPv6 client by its /64 (one subscriber's allocation, where
//! each of 2^64 addresses is free to use), an IPv4-mapped address as the IPv4 address.

use std::net::{IpAddr, Ipv6Addr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client behind `peer`, trusting `X-Forwarded-For` only from `trusted` peers.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| hop.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        // A list we cannot read names no one: the proxy itself is the client.
        .unwrap_or_default();
    hops.into_iter().rev().find(|hop| !is_trusted(hop)).unwrap_or(peer)
}

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// What a per-client limit counts against: the IPv4 address, or the IPv6 /64.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let spoofed = forwarded(&["1.2.3.4"]);
        assert_eq!(client_ip(ip("203.0.113.9"), &spoofed, &trusted), ip("203.0.113.9"), "a client cannot name itself");
        assert_eq!(client_ip(ip("10.0.0.5"), &spoofed, &[]), ip("10.0.0.5"), "no trusted proxies: the header is ignored");
        assert_eq!(client_ip(ip("10.0.0.5"), &spoofed, &trusted), ip("1.2.3.4"));
        // The client wrote the left part; our proxies appended theirs: the last untrusted hop wins.
        let chain = forwarded(&["6.6.6.6, 198.51.100.7", "10.1.1.1"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &chain, &trusted), ip("198.51.100.7"));
        assert_eq!(client_ip(ip("::ffff:10.0.0.5"), &chain, &trusted), ip("198.51.100.7"), "mapped peer");
        // Unreadable or empty: the proxy is all we know.
        assert_eq!(client_ip(ip("10.0.0.5"), &forwarded(&["unknown"]), &trusted), ip("10.0.0.5"));
        assert_eq!(client_ip(ip("10.0.0.5"), &HeaderMap::new(), &trusted), ip("10.0.0.5"));
        assert_eq!(client_ip(ip("10.0.0.5"), &forwarded(&["10.2.2.2"]), &trusted), ip("10.0.0.5"), "only proxies: the nearest peer");
    }

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), ip("2001:db8:1:2::"));
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), limit_key(ip("2001:db8:1:2::1")));
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
    }
}
