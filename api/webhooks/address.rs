//! Where a webhook may point: `http`/`https` only, to a host whose every address is public,
//! unless the operator allows private ones (`ROUNDTABLE_WEBHOOK_ALLOW_PRIVATE=true`, for tests
//! and closed networks). Checked when an endpoint is registered or changed AND before each
//! delivery, after resolving the name, and the request then goes to exactly the addresses that
//! were checked, so a DNS change cannot point a webhook inside the network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

use crate::validation::Invalid;

/// The longest URL accepted.
pub const MAX_URL_CHARS: usize = 2000;

/// A URL as an organizer gives it: absolute, `http` or `https`, with a host, no user or password.
pub fn parse(raw: String) -> Result<Url, Invalid> {
    let raw = raw.trim();
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(Invalid::new("too_long", format!("must be at most {MAX_URL_CHARS} characters")));
    }
    let url = Url::parse(raw).map_err(|_| Invalid::new("invalid_url", "must be an absolute http or https URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Invalid::new("unsupported_scheme", "must start with https:// or http://"));
    }
    if url.host().is_none() {
        return Err(Invalid::new("invalid_url", "must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Invalid::new("credentials_in_url", "must not carry a user name or password"));
    }
    Ok(url)
}

/// True for an address anyone on the internet could reach: not loopback, private, link-local,
/// unique-local, unspecified, shared (CGNAT), documentation, benchmarking, multicast or broadcast
/// (IPv4 inside IPv6 is judged as IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || ip.to_ipv4().is_some_and(|v4| !is_public_v4(v4)) // IPv4-compatible ::a.b.c.d
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)) // NAT64 can reach IPv4 inside
}

/// Why a URL may not be called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The name did not resolve.
    Unresolvable(String),
    /// It resolved (also) to an address that is not public.
    NotPublic(IpAddr),
}

impl Refused {
    pub fn invalid(&self) -> Invalid {
        match self {
            Refused::Unresolvable(host) => Invalid::new("unresolvable", format!("the host {host} does not resolve")),
            Refused::NotPublic(ip) => Invalid::new(
                "not_public",
                format!(
                    "resolves to {ip}, which is not a public address (loopback, private and link-local ones are refused)"
                ),
            ),
        }
    }

    pub fn message(&self) -> String {
        self.invalid().message
    }
}

/// The addresses `url` is called at: every address its host resolves to, each checked.
pub async fn resolve(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, Refused> {
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => {
            let found = tokio::time::timeout(std::time::Duration::from_secs(5), tokio::net::lookup_host((name, port)))
                .await
                .map_err(|_| Refused::Unresolvable(name.to_string()))?
                .map_err(|_| Refused::Unresolvable(name.to_string()))?;
            found.collect()
        }
        None => return Err(Refused::Unresolvable(String::new())),
    };
    if addrs.is_empty() {
        return Err(Refused::Unresolvable(url.host_str().unwrap_or_default().to_string()));
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(Refused::NotPublic(bad.ip()));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn inside_addresses_are_not_public() {
        for inside in [
            "127.0.0.1",
            "127.8.9.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!public(inside), "{inside} must not count as public");
        }
        for outside in ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(public(outside), "{outside} is public");
        }
    }

    #[test]
    fn only_plain_http_and_https_urls_with_a_host() {
        assert!(parse("https://hooks.example.org/in?x=1".into()).is_ok());
        assert!(parse(" http://example.org ".into()).is_ok());
        assert_eq!(parse("ftp://example.org/".into()).unwrap_err().code, "unsupported_scheme");
        assert_eq!(parse("file:///etc/passwd".into()).unwrap_err().code, "unsupported_scheme");
        assert_eq!(parse("example.org/hook".into()).unwrap_err().code, "invalid_url");
        assert_eq!(parse("https://user:pw@example.org/".into()).unwrap_err().code, "credentials_in_url");
        assert_eq!(parse(format!("https://example.org/{}", "a".repeat(2000))).unwrap_err().code, "too_long");
    }

    #[tokio::test]
    async fn loopback_is_refused_unless_allowed_also_when_written_as_a_name() {
        for raw in ["http://127.0.0.1:9/", "http://[::1]:9/", "http://localhost:9/"] {
            let url = parse(raw.into()).unwrap();
            assert!(matches!(resolve(&url, false).await, Err(Refused::NotPublic(_))), "{raw}");
            assert!(resolve(&url, true).await.is_ok(), "{raw} allowed by the setting");
        }
    }
}
