//! Who is asking: the client's address as the limits count it. Straight
//! from the connection, or — when the connection comes from a proxy the
//! settings trust (`trusted_proxies`) — the address the proxy forwards
//! (`Forwarded: for=`, else `X-Forwarded-For`), read from the right and
//! skipping the trusted hops. A forwarded header from anyone else is
//! ignored: a client cannot choose its own address.

use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// The client's address.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(Self(client_ip(
            peer,
            &parts.headers,
            &state.settings.trusted_proxies,
        )))
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    proxies.iter().any(|net| net.contains(&ip))
}

/// One hop's address from a header element: `1.2.3.4`, `1.2.3.4:5`,
/// `[2001:db8::1]:5`, `"[2001:db8::1]"`.
fn hop(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Ok(sock) = s.parse::<SocketAddr>() {
        return Some(sock.ip());
    }
    s.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|v6| v6.parse().ok())
}

/// The forwarded chain, client first (RFC 7239 `for=`, else the de-facto
/// `X-Forwarded-For`); `None` when a hop cannot be read.
fn forwarded_chain(headers: &HeaderMap) -> Option<Vec<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| hop(v))?
                })
            })
            .collect();
    }
    let xff: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if xff.is_empty() {
        return Some(vec![]);
    }
    xff.iter().flat_map(|v| v.split(',')).map(hop).collect()
}

/// The client's address, given the connection's peer and the headers.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer;
    }
    let Some(chain) = forwarded_chain(headers) else {
        return peer;
    };
    // From the nearest hop outwards: the first one we do not trust.
    chain
        .into_iter()
        .rev()
        .find(|ip| !trusted(*ip, proxies))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn only_a_trusted_proxy_may_name_the_client() {
        let proxies: Vec<IpNet> = vec![
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.1/32".parse().unwrap(),
        ];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = ip("10.1.2.3");
        // From the proxy: the address it forwards.
        let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(client_ip(proxy, &h, &proxies), ip("203.0.113.7"));
        // A client's own claim before the proxy's is not believed: the
        // nearest untrusted hop counts.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7, 10.0.0.9")]);
        assert_eq!(client_ip(proxy, &h, &proxies), ip("203.0.113.7"));
        // RFC 7239 wins over X-Forwarded-For; ports and brackets are fine.
        let h = headers(&[
            (
                "forwarded",
                "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.2",
            ),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(client_ip(proxy, &h, &proxies), ip("2001:db8::7"));
        // From anyone else the headers are ignored.
        let stranger = ip("198.51.100.9");
        let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(client_ip(stranger, &h, &proxies), stranger);
        // No proxies configured: the peer, always.
        assert_eq!(client_ip(proxy, &h, &[]), proxy);
        // An unreadable hop: the proxy itself, not a guess.
        let h = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(proxy, &h, &proxies), proxy);
    }
}
