//! Host names: the allow-list's defaults, and the one normal form in which the `Host` header,
//! the request target and the settings are compared.

use std::net::SocketAddr;

/// The listen address's host (unless it is a wildcard), `localhost` and the loopback
/// addresses.
pub fn default_allowed_hosts(addr: SocketAddr) -> Vec<String> {
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "[::1]".to_owned()];
    let own = match addr.ip() {
        ip if ip.is_unspecified() => None,
        std::net::IpAddr::V4(ip) => Some(ip.to_string()),
        std::net::IpAddr::V6(ip) => Some(format!("[{ip}]")),
    };
    if let Some(own) = own.filter(|own| !hosts.contains(own)) {
        hosts.insert(0, own);
    }
    hosts
}

/// A host name as the `Host` header carries it, without the port, lower-cased and without a
/// trailing dot; IPv6 addresses keep their brackets. `None` when it cannot be a host.
pub fn normalize_host(text: &str) -> Option<String> {
    let text = text.trim();
    let host = if text.starts_with('[') {
        let end = text.find(']')?;
        let rest = &text[end + 1..];
        if !(rest.is_empty()
            || rest
                .strip_prefix(':')
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())))
        {
            return None;
        }
        &text[..=end]
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            Some(_) => return None,
            None => text,
        }
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.[]:_".contains(&b));
    valid.then_some(host)
}
