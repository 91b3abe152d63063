//! The client's address behind a reverse proxy. `ROUNDTABLE_TRUSTED_PROXIES` names the proxies
//! (IPs or CIDRs); only a request whose TCP peer is one of them has its `X-Forwarded-For` read,
//! and then the client is the rightmost address in it that is not itself a trusted proxy (each
//! proxy appends the address it saw, so everything left of the first untrusted hop may be forged
//! by the client). Without trusted proxies, or from any other peer, the header is ignored: a
//! client could otherwise name a fresh address with each request and dodge the throttle.
//!
//! `Forwarded: for=` (RFC 7239) is not read: Caddy and nginx both set `X-Forwarded-For`.

use std::net::IpAddr;

use ipnet::IpNet;

/// The configured proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `ROUNDTABLE_TRUSTED_PROXIES` entries: `203.0.113.7`, `10.0.0.0/8`, `::1`,
    /// `fd00::/8`; blank entries are skipped.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut nets = Vec::new();
        for raw in entries.iter().map(|e| e.as_ref().trim()).filter(|e| !e.is_empty()) {
            let net = match raw.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => match raw.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(format!(
                            "ROUNDTABLE_TRUSTED_PROXIES: {raw:?} is not an IP address or a CIDR like 10.0.0.0/8"
                        ));
                    }
                },
            };
            nets.push(net);
        }
        Ok(Self(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: `peer` itself unless `peer` is a trusted proxy; then, walking the
    /// `X-Forwarded-For` values (`headers`, in the order received) from the right, the first
    /// address that is not a trusted proxy. When every address in it is a trusted proxy, the
    /// leftmost; when an entry cannot be read (only a misbehaving proxy writes one), or the
    /// header is missing, the last trusted hop before it.
    pub fn client(&self, peer: IpAddr, headers: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers.iter().flat_map(|h| h.split(',')).map(str::trim).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { return client };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`, as a dual-stack socket reports it) is
/// the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: `192.0.2.1`, `192.0.2.1:5678`, `2001:db8::1`, `[2001:db8::1]`
/// or `[2001:db8::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse::<IpAddr>().ok()).map(canonical);
    }
    match hop.rsplit_once(':') {
        Some((ip, port)) if port.parse::<u16>().is_ok() => ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(entries).unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("192.0.2.9"), &["203.0.113.1"]), ip("192.0.2.9"));
        assert_eq!(none.client(ip("127.0.0.1"), &["203.0.113.1"]), ip("127.0.0.1"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(trusted.client(ip("192.0.2.9"), &["203.0.113.1, 10.0.0.2"]), ip("192.0.2.9"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_address_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "127.0.0.1"]);
        // The client forged "198.51.100.66"; the edge proxy appended the address it saw.
        assert_eq!(trusted.client(ip("127.0.0.1"), &["198.51.100.66, 203.0.113.5"]), ip("203.0.113.5"));
        // Two proxies: the inner one (10.0.0.3) appended the edge's address, which is trusted.
        assert_eq!(trusted.client(ip("127.0.0.1"), &["198.51.100.66, 203.0.113.5, 10.0.0.3"]), ip("203.0.113.5"));
        // Several headers read as one list, in order.
        assert_eq!(trusted.client(ip("127.0.0.1"), &["198.51.100.66", "203.0.113.5"]), ip("203.0.113.5"));
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_read() {
        let trusted = proxies(&["127.0.0.1", "::1"]);
        assert_eq!(trusted.client(ip("::1"), &["203.0.113.5:4711"]), ip("203.0.113.5"));
        assert_eq!(trusted.client(ip("::1"), &["[2001:db8::7]:4711"]), ip("2001:db8::7"));
        assert_eq!(trusted.client(ip("::1"), &["2001:db8::7"]), ip("2001:db8::7"));
        assert_eq!(trusted.client(ip("::ffff:127.0.0.1"), &["::ffff:203.0.113.5"]), ip("203.0.113.5"));
    }

    #[test]
    fn a_missing_or_unreadable_header_leaves_the_last_trusted_hop() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(trusted.client(ip("127.0.0.1"), &[]), ip("127.0.0.1"));
        assert_eq!(trusted.client(ip("127.0.0.1"), &["203.0.113.5, unknown, 10.0.0.4"]), ip("10.0.0.4"));
        assert_eq!(trusted.client(ip("127.0.0.1"), &["10.0.0.9, 10.0.0.4"]), ip("10.0.0.9"), "all trusted: leftmost");
    }

    #[test]
    fn bad_entries_are_refused_with_their_text() {
        let err = TrustedProxies::parse(&["10.0.0.0/8", "proxy.example"]).unwrap_err();
        assert!(err.contains("proxy.example"), "{err}");
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["", " "]).unwrap().is_empty());
        assert!(proxies(&["10.1.2.3/8"]).trusts(ip("10.200.0.1")), "host bits are dropped");
    }

    proptest! {
        /// Whatever a client puts in the header, it cannot make itself look like anyone but the
        /// address the trusted proxy saw.
        #[test]
        fn a_client_cannot_forge_past_the_proxy(forged in proptest::collection::vec(any::<[u8; 4]>(), 0..5), seen in any::<[u8; 4]>()) {
            let trusted = proxies(&["127.0.0.1"]);
            let seen = IpAddr::from(seen);
            prop_assume!(!trusted.trusts(seen));
            let mut hops: Vec<String> = forged.iter().map(|o| IpAddr::from(*o).to_string()).collect();
            hops.push(seen.to_string());
            prop_assert_eq!(trusted.client(ip("127.0.0.1"), &[&hops.join(", ")]), seen);
            prop_assert_eq!(TrustedProxies::default().client(ip("192.0.2.1"), &[&hops.join(", ")]), ip("192.0.2.1"));
        }
    }
}
