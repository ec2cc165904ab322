//! Where the server may send requests: URLs that carry personal data or
//! secrets must be https; addresses a student hands us (a Web Push
//! endpoint) must be public hosts, checked at the connection's own DNS
//! resolution, with no redirects. Addresses in the university's settings
//! (USOS, SMTP) are the operator's and may be internal hosts.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// `url` parsed, if it is https, or plain http to this machine only (the
/// stand-ins in tests and the demo). `setting` names it in the refusal.
pub fn https_or_loopback(url: &str, setting: &str) -> anyhow::Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| anyhow::anyhow!("{setting} {url:?} is not a URL: {e}"))?;
    let loopback = parsed.host_str().is_some_and(is_loopback_host);
    anyhow::ensure!(
        parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback),
        "{setting} must be https (plain http only on loopback): it carries personal data"
    );
    Ok(parsed)
}

/// Whether `host` — a name, or an address (IPv6 with or without its
/// brackets) — is this machine.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The address a URL names as digits, if it names one (not a name).
pub fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
        url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
        url::Host::Domain(_) => None,
    }
}

/// Whether `ip` is on the public internet: not loopback, a private or
/// shared (carrier-grade NAT) network, link-local (the cloud metadata
/// address 169.254.169.254), multicast, unspecified, broadcast,
/// documentation or reserved — for IPv6 also unique-local, and an IPv4
/// address carried inside (mapped, NAT64, 6to4) counts as that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let [b0, b1, b2, _] = a.octets();
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_multicast()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_documentation()
                || b0 == 0
                || (b0 == 100 && (64..128).contains(&b1))
                || (b0 == 192 && b1 == 0 && b2 == 0)
                || (b0 == 198 && (b1 == 18 || b1 == 19))
                || b0 >= 240)
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = a.segments();
            let inner_v4 = |hi: u16, lo: u16| {
                IpAddr::V4(std::net::Ipv4Addr::from(
                    (u32::from(hi) << 16) | u32::from(lo),
                ))
            };
            if s[0] == 0x64 && s[1] == 0xff9b {
                return is_public(inner_v4(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return is_public(inner_v4(s[1], s[2]));
            }
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[0] == 0)
        }
    }
}

/// Why a host cannot be reached as a public one.
#[derive(Debug, thiserror::Error)]
pub enum NotPublic {
    /// The name did not resolve (now): perhaps later.
    #[error("looking up {0}: {1}")]
    Lookup(String, String),
    /// It resolves only to this machine, a private network or the like.
    #[error("{0} is not a public internet address")]
    Private(String),
}

/// The public addresses `host` resolves to.
pub async fn public_addresses(host: &str) -> Result<Vec<SocketAddr>, NotPublic> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let all: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| NotPublic::Lookup(host.to_owned(), e.to_string()))?
        .collect();
    let public: Vec<SocketAddr> = all.into_iter().filter(|a| is_public(a.ip())).collect();
    if public.is_empty() {
        return Err(NotPublic::Private(host.to_owned()));
    }
    Ok(public)
}

/// A resolver that answers only public addresses, so a name that points
/// at this machine or a private network is never connected to — also when
/// its answer changes after an earlier check (this is the connection's
/// own lookup).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = public_addresses(&host).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client for addresses a student gave: public hosts only (IP
/// literals are checked by the caller before the request, names here),
/// no redirects, bounded connect and total time. `stand_in` (tests and
/// the demo's loopback stand-ins) lifts the public-host rule only.
pub fn client_for_student_urls(stand_in: bool, total: Duration) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(total);
    let builder = if stand_in {
        builder
    } else {
        builder.dns_resolver(PublicOnly)
    };
    builder.build().expect("HTTP client builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        for ok in [
            "https://usos.example.edu.pl/",
            "http://127.0.0.1:8079",
            "http://localhost:1/x",
            "http://[::1]:80/",
        ] {
            assert!(https_or_loopback(ok, "x").is_ok(), "{ok}");
        }
        for bad in [
            "http://usos.example.edu.pl/",
            "ftp://127.0.0.1/",
            "nonsense",
        ] {
            assert!(https_or_loopback(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "8.8.8.8",
            "193.0.96.10",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn names_of_this_machine_resolve_to_nothing_usable() {
        for host in ["localhost", "127.0.0.1", "[::1]"] {
            assert!(
                matches!(public_addresses(host).await, Err(NotPublic::Private(_))),
                "{host}"
            );
        }
    }
}
