//! Where a webhook may be sent: the defence against server-side request forgery.
//!
//! An endpoint URL is chosen by a customer, so without care a delivery is a way to make Guichet
//! call its own database, the cloud metadata service (169.254.169.254) or any host of the private
//! network. Decisions:
//! - URLs are parsed with the WHATWG rules of the `url` crate, the ones browsers and reqwest use,
//!   so `https://0x7f000001/` and `https://2130706433/` are the IP literal 127.0.0.1 here as
//!   they would be on the wire; checking a string by hand would miss those spellings.
//! - Only `https`, no credentials in the URL (they would end up in logs), no fragment (never
//!   sent, so a sign of a pasted browser link), a host, a port other than 0, at most 2048 bytes.
//! - Addresses are judged by one pure function, [`forbidden_ip`], with explicit ranges: every
//!   special-purpose block of the IANA registries that is not globally reachable, and for IPv6
//!   anything outside the global unicast block 2000::/3. Forms that embed an IPv4 address
//!   (mapped, compatible, NAT64, 6to4, Teredo) are refused outright rather than decoded: a
//!   receiver has no reason to publish one.
//! - A host name is judged by what it resolves to, at send time: [`resolve_checked`] refuses the
//!   host if ANY of its addresses is forbidden (a name with one private address is an attack or a
//!   misconfiguration either way), and returns the address that the sender must then connect to,
//!   so a second resolution cannot answer differently (DNS rebinding).
//! - [`UrlPolicy::allow_loopback_http`] is a development flag: it admits `http` and the loopback
//!   addresses (127.0.0.0/8, ::1) so a receiver on the developer's machine can be used; every
//!   other refused range stays refused.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// The longest endpoint URL accepted, in bytes.
pub const MAX_URL_LEN: usize = 2048;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Development only: accept `http` and loopback addresses.
    pub allow_loopback_http: bool,
}

/// Why a URL or an address was refused. Its message names the rule broken, and at most the host
/// or the address: never the path, the query or credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The URL itself breaks a rule (syntax, scheme, credentials, …).
    Url(&'static str),
    /// The URL is not even a URL.
    Unparsable(url::ParseError),
    /// The host is, or resolves to, an address that may not be called.
    Address { ip: IpAddr, reason: &'static str },
    /// The host name did not resolve (possibly a passing DNS failure).
    Unresolved { host: String, detail: String },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Url(rule) => f.write_str(rule),
            Refusal::Unparsable(error) => write!(f, "the URL cannot be parsed: {error}"),
            Refusal::Address { ip, reason } => write!(f, "the address {ip} is {reason}"),
            Refusal::Unresolved { host, detail } => {
                write!(f, "the host {host} could not be resolved: {detail}")
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// Checks an endpoint URL without touching the network: syntax, scheme, and the address when the
/// host is an IP literal. A host name still needs [`resolve_checked`] before each delivery.
pub fn check_url(raw: &str, policy: UrlPolicy) -> Result<Url, Refusal> {
    // Checked before parsing too, so a megabyte of input is not parsed at all.
    if raw.len() > MAX_URL_LEN {
        return Err(Refusal::Url("the URL is longer than 2048 bytes"));
    }
    let url = Url::parse(raw).map_err(Refusal::Unparsable)?;
    check_parsed(&url, policy)?;
    Ok(url)
}

/// The rules of [`check_url`] on a parsed URL, also applied by [`resolve_checked`] so that a `Url`
/// built elsewhere cannot skip them.
fn check_parsed(url: &Url, policy: UrlPolicy) -> Result<(), Refusal> {
    // Normalisation (percent-encoding) can lengthen a URL.
    if url.as_str().len() > MAX_URL_LEN {
        return Err(Refusal::Url("the URL is longer than 2048 bytes"));
    }
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_loopback_http => {}
        "http" => return Err(Refusal::Url("the URL must use https")),
        _ => return Err(Refusal::Url("the URL must be an https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::Url(
            "the URL may not contain credentials (user:password@)",
        ));
    }
    if url.fragment().is_some() {
        return Err(Refusal::Url("the URL may not contain a fragment (#…)"));
    }
    if url.port() == Some(0) {
        return Err(Refusal::Url("the URL may not use port 0"));
    }
    match url.host() {
        None => Err(Refusal::Url("the URL must name a host")),
        Some(Host::Domain(_)) => Ok(()),
        Some(Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip), policy),
        Some(Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip), policy),
    }
}

fn check_ip(ip: IpAddr, policy: UrlPolicy) -> Result<(), Refusal> {
    match forbidden_ip(ip, policy) {
        Some(reason) => Err(Refusal::Address { ip, reason }),
        None => Ok(()),
    }
}

/// Resolves the URL's host (IP literals need no DNS) and returns the address to connect to: the
/// first one, provided that none of them is forbidden.
pub async fn resolve_checked(url: &Url, policy: UrlPolicy) -> Result<SocketAddr, Refusal> {
    check_parsed(url, policy)?;
    let port = url
        .port_or_known_default()
        .ok_or(Refusal::Url("the URL has no port"))?;
    let domain = match url.host() {
        None => return Err(Refusal::Url("the URL must name a host")),
        Some(Host::Ipv4(ip)) => return Ok(SocketAddr::new(IpAddr::V4(ip), port)),
        Some(Host::Ipv6(ip)) => return Ok(SocketAddr::new(IpAddr::V6(ip), port)),
        Some(Host::Domain(domain)) => domain,
    };
    let unresolved = |detail: String| Refusal::Unresolved {
        host: domain.to_owned(),
        detail,
    };
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((domain, port))
        .await
        .map_err(|error| unresolved(error.to_string()))?
        .collect();
    for address in &addresses {
        check_ip(address.ip(), policy)?;
    }
    addresses
        .first()
        .copied()
        .ok_or_else(|| unresolved("no address".to_owned()))
}

/// Why `ip` may not receive a webhook, or `None` when it may. Pure, so it is tested by table.
pub fn forbidden_ip(ip: IpAddr, policy: UrlPolicy) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => forbidden_v4(ip, policy),
        IpAddr::V6(ip) => forbidden_v6(ip, policy),
    }
}

/// IPv4 blocks that are not globally reachable (RFC 6890 and the IANA special-purpose registry),
/// most specific first where they nest.
const V4_RANGES: &[([u8; 4], u8, &str)] = &[
    ([0, 0, 0, 0], 8, "unspecified (0.0.0.0/8)"),
    ([10, 0, 0, 0], 8, "private (10.0.0.0/8)"),
    (
        [100, 64, 0, 0],
        10,
        "shared carrier-grade NAT space (100.64.0.0/10)",
    ),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local (169.254.0.0/16)"),
    ([172, 16, 0, 0], 12, "private (172.16.0.0/12)"),
    (
        [192, 0, 0, 0],
        24,
        "reserved for protocol assignments (192.0.0.0/24)",
    ),
    (
        [192, 0, 2, 0],
        24,
        "reserved for documentation (192.0.2.0/24)",
    ),
    (
        [192, 88, 99, 0],
        24,
        "a 6to4 relay anycast address (192.88.99.0/24)",
    ),
    ([192, 168, 0, 0], 16, "private (192.168.0.0/16)"),
    (
        [198, 18, 0, 0],
        15,
        "reserved for benchmarking (198.18.0.0/15)",
    ),
    (
        [198, 51, 100, 0],
        24,
        "reserved for documentation (198.51.100.0/24)",
    ),
    (
        [203, 0, 113, 0],
        24,
        "reserved for documentation (203.0.113.0/24)",
    ),
    ([224, 0, 0, 0], 4, "multicast (224.0.0.0/4)"),
    ([255, 255, 255, 255], 32, "the broadcast address"),
    ([240, 0, 0, 0], 4, "reserved (240.0.0.0/4)"),
];

/// IPv6 blocks refused before the final "global unicast only" rule, for a precise reason.
const V6_RANGES: &[(u128, u8, &str)] = &[
    (0, 128, "unspecified (::)"),
    (1, 128, "loopback"),
    (
        0xffff_0000_0000,
        96,
        "an IPv4-mapped address (::ffff:0:0/96)",
    ),
    (0, 96, "an IPv4-compatible address (::/96)"),
    (0x0064_ff9b << 96, 96, "a NAT64 address (64:ff9b::/96)"),
    (
        0x0064_ff9b_0001 << 80,
        48,
        "a local NAT64 address (64:ff9b:1::/48)",
    ),
    (0x0100 << 112, 64, "reserved for discard (100::/64)"),
    (
        0x2001_0db8 << 96,
        32,
        "reserved for documentation (2001:db8::/32)",
    ),
    (0x2001_0000 << 96, 32, "a Teredo address (2001::/32)"),
    (
        0x2001 << 112,
        23,
        "reserved for protocol assignments (2001::/23)",
    ),
    (0x2002 << 112, 16, "a 6to4 address (2002::/16)"),
    (0xfc00 << 112, 7, "unique-local (fc00::/7)"),
    (0xfe80 << 112, 10, "link-local (fe80::/10)"),
    (0xfec0 << 112, 10, "site-local (fec0::/10)"),
    (0xff00 << 112, 8, "multicast (ff00::/8)"),
];

fn forbidden_v4(ip: Ipv4Addr, policy: UrlPolicy) -> Option<&'static str> {
    if policy.allow_loopback_http && ip.is_loopback() {
        return None;
    }
    let bits = u32::from(ip);
    V4_RANGES
        .iter()
        .find(|(base, prefix, _)| {
            in_prefix(bits.into(), u32::from_be_bytes(*base).into(), *prefix, 32)
        })
        .map(|(_, _, reason)| *reason)
}

fn forbidden_v6(ip: Ipv6Addr, policy: UrlPolicy) -> Option<&'static str> {
    if policy.allow_loopback_http && ip == Ipv6Addr::LOCALHOST {
        return None;
    }
    let bits = u128::from(ip);
    if let Some((_, _, reason)) = V6_RANGES
        .iter()
        .find(|(base, prefix, _)| in_prefix(bits, *base, *prefix, 128))
    {
        return Some(reason);
    }
    // Everything else outside 2000::/3 is unallocated or reserved.
    if !in_prefix(bits, 0x2000 << 112, 3, 128) {
        return Some("outside the global unicast range (2000::/3)");
    }
    None
}

/// Whether the `width`-bit address `bits` lies in `base/prefix`.
fn in_prefix(bits: u128, base: u128, prefix: u8, width: u32) -> bool {
    let host_bits = width - u32::from(prefix);
    let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0) & (u128::MAX >> (128 - width));
    bits & mask == base & mask
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const STRICT: UrlPolicy = UrlPolicy {
        allow_loopback_http: false,
    };
    const DEV: UrlPolicy = UrlPolicy {
        allow_loopback_http: true,
    };

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forbidden_ip_refuses_every_non_public_range() {
        // (address, refused under the strict policy, refused under the development policy)
        let table = [
            // public
            ("8.8.8.8", false, false),
            ("1.1.1.1", false, false),
            ("93.184.216.34", false, false),
            ("9.255.255.255", false, false),
            ("11.0.0.0", false, false),
            ("100.63.255.255", false, false),
            ("100.128.0.0", false, false),
            ("172.15.255.255", false, false),
            ("172.32.0.0", false, false),
            ("192.167.255.255", false, false),
            ("192.169.0.0", false, false),
            ("198.17.255.255", false, false),
            ("198.20.0.0", false, false),
            ("223.255.255.255", false, false),
            ("2606:4700:4700::1111", false, false),
            ("2a00:1450:4007:80e::200e", false, false),
            ("2001:4860:4860::8888", false, false),
            // unspecified
            ("0.0.0.0", true, true),
            ("0.1.2.3", true, true),
            ("::", true, true),
            // loopback: allowed only by the development flag
            ("127.0.0.1", true, false),
            ("127.255.255.254", true, false),
            ("::1", true, false),
            // private
            ("10.0.0.1", true, true),
            ("10.255.255.255", true, true),
            ("172.16.0.1", true, true),
            ("172.31.255.255", true, true),
            ("192.168.1.1", true, true),
            // link-local, metadata services
            ("169.254.169.254", true, true),
            ("169.254.0.1", true, true),
            ("fe80::1", true, true),
            ("febf:ffff::1", true, true),
            ("fec0::1", true, true),
            // carrier-grade NAT
            ("100.64.0.1", true, true),
            ("100.127.255.255", true, true),
            // unique-local
            ("fc00::1", true, true),
            ("fd12:3456:789a::1", true, true),
            // multicast, broadcast
            ("224.0.0.1", true, true),
            ("239.255.255.250", true, true),
            ("255.255.255.255", true, true),
            ("ff02::1", true, true),
            ("ff0e::1", true, true),
            // documentation, benchmarking, reserved
            ("192.0.0.8", true, true),
            ("192.0.2.1", true, true),
            ("192.88.99.1", true, true),
            ("198.18.0.1", true, true),
            ("198.19.255.255", true, true),
            ("198.51.100.7", true, true),
            ("203.0.113.9", true, true),
            ("240.0.0.1", true, true),
            ("2001:db8::1", true, true),
            ("100::1", true, true),
            // IPv4 embedded in IPv6: refused whatever the embedded address
            ("::ffff:127.0.0.1", true, true),
            ("::ffff:10.0.0.1", true, true),
            ("::ffff:8.8.8.8", true, true),
            ("::127.0.0.1", true, true),
            ("::8.8.8.8", true, true),
            ("64:ff9b::7f00:1", true, true),
            ("64:ff9b::808:808", true, true),
            ("64:ff9b:1::a00:1", true, true),
            ("2002:7f00:1::1", true, true),
            ("2001:0:4136:e378::1", true, true),
            ("2001:2::1", true, true),
            // unallocated IPv6
            ("4000::1", true, true),
            ("5f00::1", true, true),
        ];
        for (text, strict, dev) in table {
            assert_eq!(
                forbidden_ip(ip(text), STRICT).is_some(),
                strict,
                "{text} under the strict policy: {:?}",
                forbidden_ip(ip(text), STRICT)
            );
            assert_eq!(
                forbidden_ip(ip(text), DEV).is_some(),
                dev,
                "{text} under the development policy: {:?}",
                forbidden_ip(ip(text), DEV)
            );
        }
    }

    #[test]
    fn refusal_names_the_address_and_the_reason() {
        let refusal = check_url("https://127.0.0.1/", STRICT).unwrap_err();
        assert_eq!(refusal.to_string(), "the address 127.0.0.1 is loopback");
        let refusal = check_url("https://[::ffff:10.0.0.1]/", STRICT).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the address ::ffff:10.0.0.1 is an IPv4-mapped address (::ffff:0:0/96)"
        );
    }

    #[test]
    fn whatwg_parsing_turns_numeric_hosts_into_ipv4_literals() {
        for raw in [
            "https://0x7f000001/",
            "https://2130706433/",
            "https://0177.0.0.1/",
            "https://127.1/",
            "https://0x7f.1/",
        ] {
            let url = Url::parse(raw).unwrap();
            assert_eq!(url.host(), Some(Host::Ipv4(Ipv4Addr::LOCALHOST)), "{raw}");
            assert_eq!(
                check_url(raw, STRICT),
                Err(Refusal::Address {
                    ip: ip("127.0.0.1"),
                    reason: "loopback"
                }),
                "{raw}"
            );
        }
    }

    #[test]
    fn check_url_accepts_a_plain_https_endpoint() {
        let url = check_url("https://hooks.example.com/guichet?token=abc", STRICT).unwrap();
        assert_eq!(url.host_str(), Some("hooks.example.com"));
        check_url("https://8.8.8.8:8443/in", STRICT).unwrap();
        check_url("https://[2606:4700:4700::1111]/in", STRICT).unwrap();
    }

    #[test]
    fn check_url_refuses_what_is_not_a_plain_https_endpoint() {
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        // A path that percent-encoding lengthens beyond the limit.
        let expands = format!("https://example.com/{}", "a b".repeat(500));
        assert!(expands.len() <= MAX_URL_LEN);
        let refused = [
            "http://example.com/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "javascript:alert(1)",
            "https://user:secret@example.com/",
            "https://user@example.com/",
            "https://:secret@example.com/",
            "https://example.com/#part",
            "https://example.com/#",
            "https://example.com:0/",
            "not a url",
            "https://",
            "https://exa mple.com/",
            long.as_str(),
            expands.as_str(),
        ];
        for raw in refused {
            assert!(check_url(raw, STRICT).is_err(), "{raw} was accepted");
        }
    }

    #[test]
    fn refusals_never_repeat_credentials_or_the_query() {
        for raw in [
            "https://user:s3cr3t@example.com/",
            "http://example.com/?token=s3cr3t",
            "https://10.0.0.1/?token=s3cr3t",
        ] {
            let message = check_url(raw, STRICT).unwrap_err().to_string();
            assert!(!message.contains("s3cr3t"), "{message}");
        }
    }

    #[test]
    fn development_policy_admits_http_and_loopback_only() {
        check_url("http://127.0.0.1:8080/", DEV).unwrap();
        check_url("http://[::1]:8080/", DEV).unwrap();
        check_url("http://example.com/", DEV).unwrap();
        assert!(check_url("http://10.0.0.1/", DEV).is_err());
        assert!(check_url("http://169.254.169.254/", DEV).is_err());
        assert!(check_url("http://[::ffff:127.0.0.1]/", DEV).is_err());
        assert!(check_url("ftp://127.0.0.1/", DEV).is_err());
    }

    #[tokio::test]
    async fn resolve_checked_returns_ip_literals_without_dns() {
        let url = Url::parse("https://8.8.8.8/hook").unwrap();
        assert_eq!(
            resolve_checked(&url, STRICT).await.unwrap(),
            "8.8.8.8:443".parse().unwrap()
        );
        let url = Url::parse("http://127.0.0.1:9/").unwrap();
        assert_eq!(
            resolve_checked(&url, DEV).await.unwrap(),
            "127.0.0.1:9".parse().unwrap()
        );
    }

    #[tokio::test]
    async fn resolve_checked_refuses_a_name_that_resolves_to_loopback() {
        let url = Url::parse("https://localhost:8443/").unwrap();
        let refusal = resolve_checked(&url, STRICT).await.unwrap_err();
        assert!(
            matches!(
                refusal,
                Refusal::Address {
                    reason: "loopback",
                    ..
                }
            ),
            "{refusal}"
        );
        let address = resolve_checked(&url, DEV).await.unwrap();
        assert!(address.ip().is_loopback());
        assert_eq!(address.port(), 8443);
    }

    #[tokio::test]
    async fn resolve_checked_applies_the_url_rules_too() {
        let url = Url::parse("http://example.com/").unwrap();
        assert_eq!(
            resolve_checked(&url, STRICT).await,
            Err(Refusal::Url("the URL must use https"))
        );
        let url = Url::parse("https://10.1.2.3/").unwrap();
        assert!(matches!(
            resolve_checked(&url, STRICT).await,
            Err(Refusal::Address { .. })
        ));
    }

    #[tokio::test]
    async fn resolve_checked_reports_a_name_that_does_not_resolve() {
        // `.invalid` never resolves (RFC 2606).
        let url = Url::parse("https://guichet-test.invalid/").unwrap();
        let refusal = resolve_checked(&url, STRICT).await.unwrap_err();
        assert!(matches!(refusal, Refusal::Unresolved { .. }), "{refusal}");
        assert!(
            refusal
                .to_string()
                .starts_with("the host guichet-test.invalid")
        );
    }
}
