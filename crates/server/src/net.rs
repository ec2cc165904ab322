//! Where the server may send requests that carry personal data or secrets.

/// `url` parsed, if it is https, or plain http to this machine only (the
/// stand-ins in tests and the demo). `setting` names it in the refusal.
pub fn https_or_loopback(url: &str, setting: &str) -> anyhow::Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| anyhow::anyhow!("{setting} {url:?} is not a URL: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    anyhow::ensure!(
        parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback),
        "{setting} must be https (plain http only on loopback): it carries personal data"
    );
    Ok(parsed)
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
}
