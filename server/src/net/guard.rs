//! The one HTTP client for requests a tenant can aim (today: an agent's OpenAI-compatible base
//! URL). It reaches public addresses only, unless the operator allows more ranges
//! (`VOXGATE_OUTBOUND_ALLOW`).
//!
//! Every connection is checked where it is made. Host names are resolved by `GuardResolver`,
//! which hands reqwest only the addresses it checked, so the connection goes to exactly those
//! (a name answering a public address to a check and 127.0.0.1 to the connect cannot slip
//! through). Hosts written as IP addresses skip the resolver in reqwest, so they are checked on
//! the URL: by [`GuardedClient::request`] for the first hop, by the redirect policy for every
//! later one. No proxy is used (a proxy would be resolved instead of the target).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::Url;
use url::Host;

/// Most redirects a guarded request follows.
pub const MAX_REDIRECTS: usize = 3;

/// Time to set up a connection to a tenant's provider.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What outbound requests may reach besides public addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardPolicy {
    /// Ranges permitted although private, loopback or otherwise refused (an operator's own model
    /// server; the tests' fake providers on loopback). The default allows none.
    allow: Vec<IpNet>,
}

/// Why an outbound request was refused. Names the host as the URL wrote it; never the path,
/// query or credentials, nor the addresses a name resolved to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("not a valid http(s) URL")]
    BadUrl,
    #[error("{0}: only http and https are allowed")]
    Scheme(String),
    /// The host is, or resolves only to, addresses the policy refuses (`reason` of the first).
    #[error("{host}: {reason} address not allowed")]
    Address { host: String, reason: &'static str },
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
}

impl GuardPolicy {
    /// A policy that also allows the addresses in `allow`.
    pub fn new(allow: Vec<IpNet>) -> Self {
        Self { allow }
    }

    /// The ranges allowed besides public addresses.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allow
    }

    /// Reads the allow-list setting: comma-separated CIDR ranges or single addresses
    /// (`10.0.0.0/8, ::1`). Host names are not accepted: allowing a name would trust whatever
    /// its DNS answers, which is what the guard is there not to do.
    pub fn parse_allow(list: &str) -> Result<Vec<IpNet>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .map(|net| net.trunc())
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{s:?} is not an address or CIDR range such as 10.0.0.0/8 or ::1 (host names are not accepted)"))
            })
            .collect()
    }

    /// Whether the operator allowed `ip` (an IPv6 form of an IPv4 address counts as that address).
    fn allows(&self, ip: IpAddr) -> bool {
        let v4 = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.allow.iter().any(|net| net.contains(&ip) || v4.is_some_and(|v4| net.contains(&v4)))
    }

    /// Checks what can be checked on the URL itself: the scheme, and a host written as an IP
    /// address. A host name is checked by the resolver when a connection is made.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::Scheme(url.scheme().to_string()));
        }
        let ip = match url.host() {
            None => return Err(Refused::BadUrl),
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        };
        match refused(ip, self) {
            None => Ok(()),
            Some(reason) => Err(Refused::Address { host: url.host_str().unwrap_or_default().to_string(), reason }),
        }
    }

    /// The addresses `host` resolved to that the policy allows; refused when none is.
    fn checked(&self, host: &str, found: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
        let mut first_reason = None;
        let mut kept = Vec::with_capacity(found.len());
        for addr in found {
            match refused(addr.ip(), self) {
                None => kept.push(addr),
                Some(reason) => {
                    tracing::debug!(host, addr = %addr.ip(), reason, "outbound address refused");
                    first_reason = first_reason.or(Some(reason));
                }
            }
        }
        if kept.is_empty() {
            return Err(Refused::Address { host: host.to_string(), reason: first_reason.unwrap_or("unresolved") });
        }
        Ok(kept)
    }
}

/// Why `ip` may not be reached under `policy`; `None` when it may.
pub fn refused(ip: IpAddr, policy: &GuardPolicy) -> Option<&'static str> {
    if policy.allows(ip) { None } else { reason(ip) }
}

/// Why `ip` is not a public address; `None` when it is.
pub fn reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => reason_v4(v4),
        IpAddr::V6(v6) => reason_v6(v6),
    }
}

/// IPv4 ranges that are not public, most specific first.
const V4: &[(Ipv4Addr, u32, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 32, "unspecified"),
    (Ipv4Addr::new(255, 255, 255, 255), 32, "broadcast"),
    (Ipv4Addr::new(0, 0, 0, 0), 8, "this-network"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "shared (CGNAT)"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "IETF protocol"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "documentation"),
    (Ipv4Addr::new(192, 88, 99, 0), 24, "6to4 relay"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "documentation"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "documentation"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved"),
];

/// IPv6 ranges that are not public (besides those holding an IPv4 address, checked as that
/// address, and everything outside global unicast 2000::/3), most specific first.
const V6: &[(Ipv6Addr, u32, &str)] = &[
    (Ipv6Addr::UNSPECIFIED, 128, "unspecified"),
    (Ipv6Addr::LOCALHOST, 128, "loopback"),
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96, "IPv4-compatible"),
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48, "local NAT64"),
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, "discard"),
    (Ipv6Addr::new(0x2001, 0x2, 0, 0, 0, 0, 0, 0), 48, "benchmarking"),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, "documentation"),
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, "Teredo"),
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20, "documentation"),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, "unique-local"),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link-local"),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, "site-local"),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast"),
];

const NAT64: Ipv6Addr = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0);
const SIX_TO_FOUR: Ipv6Addr = Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0);
const GLOBAL_UNICAST: Ipv6Addr = Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0);

fn in_v4(ip: Ipv4Addr, net: Ipv4Addr, len: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    (ip.to_bits() & mask) == (net.to_bits() & mask)
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, len: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    (ip.to_bits() & mask) == (net.to_bits() & mask)
}

fn reason_v4(ip: Ipv4Addr) -> Option<&'static str> {
    V4.iter().find(|&&(net, len, _)| in_v4(ip, net, len)).map(|&(_, _, why)| why)
}

fn reason_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return reason_v4(v4);
    }
    match V6.iter().find(|&&(net, len, _)| in_v6(ip, net, len)) {
        Some(&(_, _, why)) => Some(why),
        None if !in_v6(ip, GLOBAL_UNICAST, 3) => Some("reserved"),
        None => None,
    }
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d), the NAT64
/// well-known prefix (64:ff9b::/96) and 6to4 (2002:aabb:ccdd::/48).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = ip.to_bits();
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(v4)
    } else if in_v6(ip, NAT64, 96) {
        Some(Ipv4Addr::from_bits(bits as u32))
    } else if in_v6(ip, SIX_TO_FOUR, 16) {
        Some(Ipv4Addr::from_bits((bits >> 80) as u32))
    } else {
        None
    }
}

/// The refusal behind a failed request, if the guard refused it (at the URL, on a redirect or
/// when resolving).
pub fn refusal<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        cause = e.source();
    }
    None
}

/// Resolves names for the guarded client, handing back only the addresses the policy allows.
struct GuardResolver {
    policy: Arc<GuardPolicy>,
}

impl reqwest::dns::Resolve for GuardResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(resolve_checked(self.policy.clone(), name.as_str().to_string()))
    }
}

async fn resolve_checked(policy: Arc<GuardPolicy>, host: String) -> Result<reqwest::dns::Addrs, BoxError> {
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0u16)).await?.collect();
    if found.is_empty() {
        return Err(format!("{host}: no address").into());
    }
    let addrs: reqwest::dns::Addrs = Box::new(policy.checked(&host, found)?.into_iter());
    Ok(addrs)
}

/// Follows at most [`MAX_REDIRECTS`] redirects, each to an http(s) URL whose host, when an IP
/// address, the policy allows (a host name is checked by the resolver on connecting).
fn redirects(policy: Arc<GuardPolicy>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(Refused::TooManyRedirects(MAX_REDIRECTS));
        }
        let verdict = policy.check_url(attempt.url());
        match verdict {
            Ok(()) => attempt.follow(),
            Err(refused) => attempt.error(refused),
        }
    })
}

/// A reqwest client whose connections and redirects obey `policy`. Hosts written as IP
/// addresses are NOT checked on the first hop by the client itself: build requests through
/// [`GuardedClient`], which checks them.
pub fn guarded_client(policy: Arc<GuardPolicy>, connect_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .no_proxy()
        .dns_resolver(Arc::new(GuardResolver { policy: policy.clone() }))
        .redirect(redirects(policy))
        .build()
}

/// The guarded client and its policy: the way to send a request to a URL a tenant chose.
/// Cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct GuardedClient {
    http: reqwest::Client,
    policy: Arc<GuardPolicy>,
}

impl GuardedClient {
    pub fn new(policy: Arc<GuardPolicy>, connect_timeout: Duration) -> Result<Self, reqwest::Error> {
        Ok(Self { http: guarded_client(policy.clone(), connect_timeout)?, policy })
    }

    /// With the operator's allow-list (`VOXGATE_OUTBOUND_ALLOW`).
    pub fn from_settings(settings: &crate::config::Settings) -> Result<Self, reqwest::Error> {
        Self::new(Arc::new(GuardPolicy::new(settings.outbound_allow.clone())), CONNECT_TIMEOUT)
    }

    pub fn policy(&self) -> &GuardPolicy {
        &self.policy
    }

    /// A request to `url`, refused at once when its scheme or IP-address host is not allowed.
    pub fn request(&self, method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder, Refused> {
        let url = Url::parse(url).map_err(|_| Refused::BadUrl)?;
        self.policy.check_url(&url)?;
        Ok(self.http.request(method, url))
    }

    pub fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, Refused> {
        self.request(reqwest::Method::GET, url)
    }

    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, Refused> {
        self.request(reqwest::Method::POST, url)
    }
}

#[cfg(test)]
mod tests;
