//! One outbound address policy for every connector that reaches a host a user or a supplier file names: image
//! downloads, FTP and IMAP sources, sales platforms and the Amazon APIs.
//!
//! A host's addresses are checked after DNS resolution, and the connection goes to exactly the checked addresses
//! (no second lookup a DNS rebinding could change): loopback, private, link-local (the cloud metadata address
//! `169.254.169.254` among them), shared and other non-public ranges are refused unless the policy allows the
//! private network (`PM_ALLOW_PRIVATE_NETWORK`: a deployment whose suppliers or shop sit on its own network, and
//! the test suite, whose fakes listen on 127.0.0.1). HTTP connectors check each redirect the same way.
//!
//! ```
//! use productsmanager_core::net::OutboundPolicy;
//!
//! let policy = OutboundPolicy::default();
//! assert!(!policy.allows_private());
//! assert!(policy.check_url(&"https://169.254.169.254/latest".parse().unwrap(), &["https"]).is_err());
//! assert!(policy.check_url(&"file:///etc/passwd".parse().unwrap(), &["https"]).is_err());
//! assert!(policy.check_url(&"https://sellingpartnerapi-eu.amazon.com".parse().unwrap(), &["https"]).is_ok());
//! ```

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use url::Url;

/// Redirects an HTTP connector follows before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// Which hosts connectors may reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    allow_private: bool,
}

/// Why a host or URL is not reached: said to the person who named it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OutboundRefused(pub String);

impl OutboundPolicy {
    /// Public addresses only (the default).
    pub fn public_only() -> Self {
        OutboundPolicy { allow_private: false }
    }

    /// Loopback and private addresses allowed too (`PM_ALLOW_PRIVATE_NETWORK`).
    pub fn allowing_private() -> Self {
        OutboundPolicy { allow_private: true }
    }

    /// The policy of a configuration.
    pub fn from_config(config: &crate::config::Config) -> Self {
        OutboundPolicy { allow_private: config.network.allow_private }
    }

    /// Whether loopback and private addresses may be reached.
    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// Whether `ip` may be reached.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }

    /// Checks what can be checked of `url` before any lookup: its scheme is one of `schemes`, it has a host, and a
    /// host written as an address (or `localhost`) is allowed. Plain `http` is taken only where `schemes` has it,
    /// and for connectors that send credentials (`schemes` = `["https"]`), to this machine when private addresses
    /// are allowed (the local fakes of the test suite), never in the clear over a network.
    pub fn check_url(&self, url: &Url, schemes: &[&str]) -> Result<(), OutboundRefused> {
        let scheme = url.scheme();
        let only = || OutboundRefused(format!("{url}: only {} URLs are used here", schemes.join(" and ")));
        if !matches!(scheme, "http" | "https") && !schemes.contains(&scheme) {
            return Err(only());
        }
        let host = url.host().ok_or_else(|| OutboundRefused(format!("{url} has no host")))?;
        let loopback = is_this_machine(&host);
        let local_plain_http = scheme == "http" && loopback && self.allow_private;
        if !schemes.contains(&scheme) && !local_plain_http {
            return Err(only());
        }
        let literal = match host {
            url::Host::Domain(_) if loopback => Some(IpAddr::from([127, 0, 0, 1])),
            url::Host::Domain(_) => None,
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        };
        match literal {
            Some(ip) if !self.allows(ip) => Err(self.not_public(url.as_str(), ip)),
            _ => Ok(()),
        }
    }

    /// The addresses `host` resolves to, every one of them allowed, or why not.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, OutboundRefused> {
        // `[::1]` comes bracketed from a URL; the resolver wants it bare.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if bare.is_empty() {
            return Err(OutboundRefused("no host given".into()));
        }
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| OutboundRefused(format!("cannot resolve {host}: {e}")))?
            .collect();
        if addresses.is_empty() {
            return Err(OutboundRefused(format!("{host} resolves to no address")));
        }
        if let Some(blocked) = addresses.iter().find(|a| !self.allows(a.ip())) {
            return Err(self.not_public(host, blocked.ip()));
        }
        Ok(addresses)
    }

    fn not_public(&self, what: &str, ip: IpAddr) -> OutboundRefused {
        OutboundRefused(format!(
            "{what}: {ip} is not a public address (reaching the private network takes PM_ALLOW_PRIVATE_NETWORK)"
        ))
    }

    /// An HTTP client for a connector using `schemes`: every host it looks up checked by this policy, each redirect
    /// checked like the first URL (at most [`MAX_REDIRECTS`]), and `timeout` for the whole of each exchange,
    /// body included.
    pub fn http_client(&self, schemes: &'static [&'static str], timeout: Duration) -> reqwest::ClientBuilder {
        let policy = *self;
        // Never through a proxy: the proxy would resolve the host, and the check would see only the proxy.
        reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver { policy }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > MAX_REDIRECTS {
                    return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
                }
                match policy.check_url(attempt.url(), schemes) {
                    Ok(()) => attempt.follow(),
                    Err(refused) => attempt.error(refused),
                }
            }))
    }
}

/// What connectors that send credentials are reached over.
pub const HTTPS_ONLY: &[&str] = &["https"];

/// Whether `host` names this machine: a loopback address, or `localhost` and every name under it (RFC 6761), with
/// or without the final dot.
///
/// ```
/// use productsmanager_core::net::is_this_machine;
///
/// assert!(is_this_machine(&url::Host::parse("shop.localhost.").unwrap()));
/// assert!(is_this_machine(&url::Host::parse("[::1]").unwrap()));
/// assert!(!is_this_machine(&url::Host::parse("example.com").unwrap()));
/// ```
pub fn is_this_machine<S: AsRef<str>>(host: &url::Host<S>) -> bool {
    match host {
        url::Host::Domain(name) => {
            let name = name.as_ref().trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// [`is_this_machine`] of a host as written (`localhost`, `127.0.0.1`, `[::1]`); false when it is no host.
pub fn names_this_machine(host: &str) -> bool {
    url::Host::parse(host).is_ok_and(|host| is_this_machine(&host))
}

/// The resolver of [`OutboundPolicy::http_client`]: a name resolving to any address the policy refuses is refused
/// (hosts written as addresses never reach a resolver: [`OutboundPolicy::check_url`] checks those).
struct CheckedResolver {
    policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addresses = policy.resolve(&host, 0).await?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The policy's refusal inside an HTTP client's error (its resolver's or its redirect policy's), if that is why
/// the call failed: said to the user as is, and not worth retrying.
pub fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(refused) = current.downcast_ref::<OutboundRefused>() {
            return Some(refused.0.clone());
        }
        cause = current.source();
    }
    None
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared (CGNAT), unspecified,
/// broadcast, multicast, documentation, benchmarking, reserved (240/4) or IETF (192.0.0/24); for IPv6 not
/// unique-local or link-local, and the IPv4 inside a mapped, compatible, NAT64 (`64:ff9b::/96`) or 6to4
/// (`2002::/16`) address judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (b & 0xC0) == 64)
                || (a == 198 && (b & 0xFE) == 18)
                || (a == 192 && b == 0 && c == 0))
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let embedded =
                |high: u16, low: u16| IpAddr::from([(high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8]);
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            // NAT64 (64:ff9b::/96) and the deprecated IPv4-compatible form (::/96, beyond :: and ::1).
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || (segments[..6] == [0; 6] && segments[6] != 0) {
                return is_public(embedded(segments[6], segments[7]));
            }
            // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
            if segments[0] == 0x2002 {
                return is_public(embedded(segments[1], segments[2]));
            }
            let first = segments[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xFE00) == 0xFC00
                || (first & 0xFFC0) == 0xFE80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_metadata_addresses_are_refused_by_default() {
        let policy = OutboundPolicy::default();
        for url in [
            "https://127.0.0.1/",
            "https://localhost:8443/",
            "https://LocalHost./",
            "https://shop.localhost/",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/",
            "https://[::1]/",
            "https://[::ffff:192.168.0.1]/",
            "http://127.0.0.1:8080/",
        ] {
            assert!(policy.check_url(&url.parse().unwrap(), &["https"]).is_err(), "{url} taken");
        }
        for url in ["file:///etc/passwd", "ftp://example.com/", "http://example.com/"] {
            let refused = policy.check_url(&url.parse().unwrap(), &["https"]).unwrap_err();
            assert!(refused.0.contains("only https"), "{url}: {refused}");
        }
        assert!(policy.check_url(&"https://example.com/".parse().unwrap(), &["https"]).is_ok());
    }

    #[test]
    fn the_private_network_when_allowed_but_plain_http_only_to_this_machine() {
        let policy = OutboundPolicy::allowing_private();
        assert!(policy.check_url(&"http://127.0.0.1:8080/".parse().unwrap(), &["https"]).is_ok());
        assert!(policy.check_url(&"https://10.0.0.1/".parse().unwrap(), &["https"]).is_ok());
        assert!(policy.check_url(&"http://10.0.0.1/".parse().unwrap(), &["https"]).is_err());
        assert!(policy.check_url(&"file:///etc/passwd".parse().unwrap(), &["https"]).is_err());
    }

    #[test]
    fn addresses_hidden_in_other_forms_are_not_public() {
        for hidden in [
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "2002:c0a8:0101::1",
            "::7f00:1",
            "::ffff:10.0.0.1",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.0.8",
            "100.64.0.1",
        ] {
            assert!(!is_public(hidden.parse().unwrap()), "{hidden}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::5db8:d822", "100.128.0.1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn an_http_client_refuses_names_of_the_private_network_and_says_why() {
        let client = OutboundPolicy::default().http_client(&["http", "https"], Duration::from_secs(5)).build().unwrap();
        let error = client.get("http://localhost:9/").send().await.unwrap_err();
        let refused = refusal_in(&error).unwrap_or_else(|| panic!("not the policy's refusal: {error:?}"));
        assert!(refused.contains("not a public address"), "{refused}");
    }

    #[tokio::test]
    async fn names_are_checked_after_resolution() {
        let refused = OutboundPolicy::default().resolve("localhost", 21).await.unwrap_err();
        assert!(refused.0.contains("not a public address"), "{refused}");
        let addresses = OutboundPolicy::allowing_private().resolve("localhost", 21).await.unwrap();
        assert!(addresses.iter().all(|a| a.ip().is_loopback() && a.port() == 21));
    }
}
