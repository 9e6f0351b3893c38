//! The client's IP address, read correctly behind reverse proxies.
//!
//! By default the client is the socket peer. With trusted proxies configured, a request whose
//! peer is one of them takes its client from the forwarding header chosen by configuration
//! (`X-Forwarded-For` or RFC 7239 `Forwarded`), read **right to left**: each proxy appends the
//! address it received the request from, so the right-most entries are the ones our own
//! proxies wrote, and the first address that is not a trusted proxy is the client. Entries to
//! its left were written by the client itself and prove nothing. A header from an untrusted
//! peer is ignored. Entries are read one at a time from the right, and the walk stops at the
//! client: what the client wrote further left is never parsed, so a malformed entry there
//! cannot make the whole header ignored (and the client hide behind our proxy's address). A
//! malformed entry reached before the client stops the walk at the last address that could
//! be checked, and is reported.

use std::net::IpAddr;
use std::str::FromStr;

/// A trusted proxy network (the `ipnet` crate's), in CIDR notation: `10.0.0.0/8`,
/// `2001:db8::/32`.
pub use ipnet::IpNet;

/// A network as written that is neither CIDR nor a bare IP address; it holds the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or CIDR network (like 10.0.0.0/8)")]
pub struct IpNetError(String);

/// A network as an operator writes it: CIDR, or a bare address for a single host.
pub fn parse_net(text: &str) -> Result<IpNet, IpNetError> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| IpNetError(text.to_owned()))
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, as a dual-stack socket reports IPv4 peers)
/// are their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// Which header the trusted proxies write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For`: comma-separated addresses, each proxy appending one (the default).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded`: the `for=` parameter of each element.
    Forwarded,
}

impl FromStr for ForwardedHeader {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
            "forwarded" => Ok(ForwardedHeader::Forwarded),
            _ => Err("expected x-forwarded-for or forwarded".to_owned()),
        }
    }
}

/// How to find the client behind proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientIpConfig {
    /// Our reverse proxies: only a peer in one of these networks has its header read. Empty
    /// (the default): the client is always the socket peer.
    pub trusted_proxies: Vec<IpNet>,
    /// The header those proxies write.
    pub header: ForwardedHeader,
}

/// A forwarding header entry, reached before the client, that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {header} header: {reason}")]
pub struct MalformedHeader {
    /// The header's name: `X-Forwarded-For` or `Forwarded`.
    pub header: &'static str,
    /// What was wrong with the entry, for the logs.
    pub reason: String,
}

/// The outcome: the client address, and a complaint about the header if it was ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp {
    /// The client's address (an IPv4-mapped IPv6 address is given as its IPv4 address).
    pub ip: IpAddr,
    /// Set when a malformed entry stopped the walk: `ip` is then the last address that
    /// could be checked.
    pub malformed: Option<MalformedHeader>,
}

impl ClientIpConfig {
    /// Whether `ip` is one of our reverse proxies (an IPv4-mapped address as its IPv4).
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// `headers` holds every value of the configured header, in the order received (a proxy
    /// may add a second header line instead of appending to the first).
    ///
    /// The walk goes right to left and stops at the first address that is not a trusted
    /// proxy, so a client cannot choose its address by writing one on the left:
    ///
    /// ```
    /// use single_login::client_ip::{parse_net, ClientIpConfig};
    ///
    /// let config = ClientIpConfig {
    ///     trusted_proxies: vec![parse_net("10.0.0.0/8").unwrap()],
    ///     ..ClientIpConfig::default()
    /// };
    /// let peer = "10.0.0.2".parse().unwrap();
    /// let found = config.resolve(peer, &["6.6.6.6, 203.0.113.9, 10.0.0.7"]);
    /// assert_eq!(found.ip.to_string(), "203.0.113.9");
    /// // From an untrusted peer the header means nothing.
    /// let direct = config.resolve("198.51.100.1".parse().unwrap(), &["203.0.113.9"]);
    /// assert_eq!(direct.ip.to_string(), "198.51.100.1");
    /// ```
    pub fn resolve(&self, peer: IpAddr, headers: &[&str]) -> ClientIp {
        let peer = canonical(peer);
        let plain = ClientIp {
            ip: peer,
            malformed: None,
        };
        if !self.is_trusted_proxy(peer) || headers.is_empty() {
            return plain;
        }
        let entries: Vec<String> = match self.header {
            ForwardedHeader::XForwardedFor => {
                values_right_to_left(headers, |v| v.rsplit(',').map(|e| e.trim().to_owned()).collect())
            }
            ForwardedHeader::Forwarded => values_right_to_left(headers, |v| {
                let mut elements = split_outside_quotes(v, ',');
                elements.reverse();
                elements
            }),
        };
        // Right to left: skip our own proxies; the first other hop is the client. A hop
        // whose address is hidden (`unknown`, `_obfuscated`) cannot be checked, nor can a
        // malformed one: the client is then the last address we could verify.
        let mut last_verified = peer;
        for (read, entry) in entries.iter().enumerate() {
            let hop = if read == MAX_HOPS {
                Err(malformed(self.header.name(), "too many entries"))
            } else {
                match self.header {
                    ForwardedHeader::XForwardedFor => parse_x_forwarded_for(entry),
                    ForwardedHeader::Forwarded => parse_forwarded(entry),
                }
            };
            match hop {
                Ok(Hop::Ip(ip)) if self.is_trusted_proxy(ip) => last_verified = ip,
                Ok(Hop::Ip(ip)) => return ClientIp { ip, malformed: None },
                Ok(Hop::Hidden) => break,
                Err(malformed) => {
                    return ClientIp {
                        ip: last_verified,
                        malformed: Some(malformed),
                    }
                }
            }
        }
        ClientIp {
            ip: last_verified,
            malformed: None,
        }
    }
}

impl ForwardedHeader {
    fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "X-Forwarded-For",
            ForwardedHeader::Forwarded => "Forwarded",
        }
    }
}

/// The entries of every header line, right-most first (a proxy may add a line instead of
/// appending to the last one). Stops collecting one past [`MAX_HOPS`].
fn values_right_to_left(headers: &[&str], split: impl Fn(&str) -> Vec<String>) -> Vec<String> {
    headers
        .iter()
        .rev()
        .flat_map(|v| split(v))
        .take(MAX_HOPS + 1)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    Ip(IpAddr),
    Hidden,
}

fn malformed(header: &'static str, reason: impl Into<String>) -> MalformedHeader {
    MalformedHeader {
        header,
        reason: reason.into(),
    }
}

/// Longest list of hops read; real chains have a handful.
const MAX_HOPS: usize = 64;

fn parse_x_forwarded_for(entry: &str) -> Result<Hop, MalformedHeader> {
    parse_node(entry).map(Hop::Ip).ok_or_else(|| {
        malformed(
            "X-Forwarded-For",
            format!("{:?} is not an IP address", truncate(entry)),
        )
    })
}

fn parse_forwarded(element: &str) -> Result<Hop, MalformedHeader> {
    let mut node = None;
    for pair in split_outside_quotes(element, ';') {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| malformed("Forwarded", format!("{:?} is not key=value", truncate(pair))))?;
        if key.trim().eq_ignore_ascii_case("for") {
            node = Some(unquote(value.trim()).ok_or_else(|| malformed("Forwarded", "unbalanced quotes"))?);
        }
    }
    // An element without `for` says nothing about this hop's sender.
    let Some(node) = node else {
        return Err(malformed("Forwarded", "an element has no for= parameter"));
    };
    if node.eq_ignore_ascii_case("unknown") || node.starts_with('_') {
        return Ok(Hop::Hidden);
    }
    parse_node(&node)
        .map(Hop::Ip)
        .ok_or_else(|| malformed("Forwarded", format!("{:?} is not a node", truncate(&node))))
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:5678`.
fn parse_node(text: &str) -> Option<IpAddr> {
    if let Some(rest) = text.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return ip
            .parse::<std::net::Ipv6Addr>()
            .ok()
            .map(IpAddr::V6)
            .map(canonical);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    let (ip, port) = text.rsplit_once(':')?;
    if !is_port(port) {
        return None;
    }
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn is_port(text: &str) -> bool {
    // RFC 7239 allows obfuscated ports (`_abc`) too.
    text.parse::<u16>().is_ok() || (text.starts_with('_') && text.len() > 1)
}

fn unquote(text: &str) -> Option<String> {
    match text.strip_prefix('"') {
        None => Some(text.to_owned()),
        Some(rest) => {
            let inner = rest.strip_suffix('"')?;
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.push(chars.next()?),
                    '"' => return None,
                    c => out.push(c),
                }
            }
            Some(out)
        }
    }
}

fn split_outside_quotes(text: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        let current = parts.last_mut().expect("never empty");
        if escaped {
            current.push(c);
            escaped = false;
        } else if c == '\\' && quoted {
            current.push(c);
            escaped = true;
        } else if c == '"' {
            current.push(c);
            quoted = !quoted;
        } else if c == separator && !quoted {
            parts.push(String::new());
        } else {
            current.push(c);
        }
    }
    parts
}

fn truncate(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn behind(proxies: &[&str], header: ForwardedHeader) -> ClientIpConfig {
        ClientIpConfig {
            trusted_proxies: proxies.iter().map(|p| parse_net(p).unwrap()).collect(),
            header,
        }
    }

    fn xff(proxies: &[&str]) -> ClientIpConfig {
        behind(proxies, ForwardedHeader::XForwardedFor)
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let config = ClientIpConfig::default();
        let got = config.resolve(ip("198.51.100.7"), &["203.0.113.9"]);
        assert_eq!(
            got,
            ClientIp {
                ip: ip("198.51.100.7"),
                malformed: None
            }
        );
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let config = xff(&["10.0.0.0/8"]);
        assert_eq!(
            config.resolve(ip("198.51.100.7"), &["203.0.113.9"]).ip,
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_trusted_peer_forwards_the_client() {
        let config = xff(&["10.0.0.0/8"]);
        assert_eq!(
            config.resolve(ip("10.1.2.3"), &["203.0.113.9"]).ip,
            ip("203.0.113.9")
        );
    }

    #[test]
    fn several_proxies_are_skipped_right_to_left() {
        let config = xff(&["10.0.0.0/8", "192.168.0.0/16"]);
        let got = config.resolve(ip("10.0.0.1"), &["203.0.113.9, 192.168.1.1, 10.0.0.2"]);
        assert_eq!(got.ip, ip("203.0.113.9"));
        // The same chain split over two header lines.
        let got = config.resolve(ip("10.0.0.1"), &["203.0.113.9", "192.168.1.1, 10.0.0.2"]);
        assert_eq!(got.ip, ip("203.0.113.9"));
    }

    #[test]
    fn a_spoofed_left_most_entry_is_never_taken() {
        let config = xff(&["10.0.0.0/8"]);
        // The client sent "X-Forwarded-For: 1.1.1.1"; our proxy appended the real address.
        let got = config.resolve(ip("10.0.0.1"), &["1.1.1.1, 203.0.113.9"]);
        assert_eq!(got.ip, ip("203.0.113.9"));
    }

    #[test]
    fn when_every_hop_is_trusted_the_left_most_is_the_client() {
        let config = xff(&["10.0.0.0/8"]);
        assert_eq!(
            config.resolve(ip("10.0.0.1"), &["10.9.9.9, 10.0.0.2"]).ip,
            ip("10.9.9.9")
        );
    }

    #[test]
    fn ipv6_peers_entries_and_networks() {
        let config = xff(&["2001:db8::/32"]);
        let got = config.resolve(ip("2001:db8::1"), &["2001:db8:1::5, 2a00:1450::1, 2001:db8::2"]);
        assert_eq!(got.ip, ip("2a00:1450::1"));
        let got = config.resolve(ip("2001:db8::1"), &["[2a00:1450::1]:443"]);
        assert_eq!(got.ip, ip("2a00:1450::1"));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let config = xff(&["127.0.0.1"]);
        assert_eq!(
            config.resolve(ip("::ffff:127.0.0.1"), &["203.0.113.9"]).ip,
            ip("203.0.113.9")
        );
        assert_eq!(
            config.resolve(ip("127.0.0.1"), &["::ffff:203.0.113.9"]).ip,
            ip("203.0.113.9")
        );
    }

    #[test]
    fn ports_are_dropped() {
        let config = xff(&["10.0.0.0/8"]);
        assert_eq!(
            config.resolve(ip("10.0.0.1"), &["203.0.113.9:51234"]).ip,
            ip("203.0.113.9")
        );
    }

    #[test]
    fn garbage_is_ignored_and_reported() {
        let config = xff(&["10.0.0.0/8"]);
        for garbage in [
            "",
            "not an ip",
            "1.2.3.4.5",
            "[::1",
            "\u{0}\u{202e}",
            "1.2.3.4:99999",
        ] {
            let got = config.resolve(ip("10.0.0.1"), &[garbage]);
            assert_eq!(got.ip, ip("10.0.0.1"), "{garbage:?}");
            assert!(got.malformed.is_some(), "{garbage:?}");
        }
        // Garbage between our proxies: the walk stops at the last proxy it could check.
        let got = config.resolve(ip("10.0.0.1"), &["203.0.113.9, , 10.0.0.2"]);
        assert_eq!(got.ip, ip("10.0.0.2"));
        assert!(got.malformed.is_some());
        // A long chain is read only as far as the client.
        let many = vec!["1.1.1.1"; 100].join(",");
        assert_eq!(
            config.resolve(ip("10.0.0.1"), &[&many]),
            ClientIp {
                ip: ip("1.1.1.1"),
                malformed: None
            }
        );
        // More of our own proxies than anyone runs: the walk gives up at the limit.
        let proxies = vec!["10.0.0.9"; 100].join(",");
        let got = config.resolve(ip("10.0.0.1"), &[&proxies]);
        assert_eq!(got.ip, ip("10.0.0.9"));
        assert!(got.malformed.is_some());
    }

    #[test]
    fn what_the_client_wrote_left_of_its_address_is_never_read() {
        // nginx's `$proxy_add_x_forwarded_for` appends the peer to whatever the client sent.
        let config = xff(&["10.0.0.0/8"]);
        for sent in ["x", "not an ip, at all", "\u{202e}", "1.2.3.4.5", "[::1"] {
            let header = format!("{sent}, 203.0.113.9");
            let got = config.resolve(ip("10.0.0.1"), &[&header]);
            assert_eq!(
                got,
                ClientIp {
                    ip: ip("203.0.113.9"),
                    malformed: None
                },
                "{header:?}"
            );
            // Also as a separate header line, and behind a second proxy of ours.
            let got = config.resolve(ip("10.0.0.1"), &[sent, "203.0.113.9, 10.0.0.7"]);
            assert_eq!(
                got,
                ClientIp {
                    ip: ip("203.0.113.9"),
                    malformed: None
                },
                "{sent:?}"
            );
        }
        let config = behind(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        // (An unbalanced quote swallows the commas after it: that header stays unreadable.)
        for sent in ["for", "garbage;;", "for=[::1", "for=\"_x\";by"] {
            let header = format!("{sent}, for=203.0.113.9");
            let got = config.resolve(ip("10.0.0.1"), &[&header]);
            assert_eq!(got.ip, ip("203.0.113.9"), "{header:?}");
        }
    }

    #[test]
    fn forwarded_with_quotes_ports_and_ipv6() {
        let config = behind(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        let got = config.resolve(
            ip("10.0.0.1"),
            &[r#"for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711""#],
        );
        assert_eq!(got.ip, ip("2001:db8:cafe::17"));
        let got = config.resolve(ip("10.0.0.1"), &[r#"For="198.51.100.17:8080", for=10.0.0.9"#]);
        assert_eq!(got.ip, ip("198.51.100.17"));
    }

    #[test]
    fn forwarded_obfuscated_identifiers_stop_at_the_last_verified_hop() {
        let config = behind(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        let got = config.resolve(ip("10.0.0.1"), &["for=_hidden, for=10.0.0.7"]);
        assert_eq!(
            got,
            ClientIp {
                ip: ip("10.0.0.7"),
                malformed: None
            }
        );
        let got = config.resolve(ip("10.0.0.1"), &["for=unknown"]);
        assert_eq!(got.ip, ip("10.0.0.1"));
        // A hidden hop left of the client does not matter.
        let got = config.resolve(ip("10.0.0.1"), &["for=_x, for=203.0.113.9"]);
        assert_eq!(got.ip, ip("203.0.113.9"));
    }

    #[test]
    fn forwarded_spoofed_and_malformed() {
        let config = behind(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        let got = config.resolve(ip("10.0.0.1"), &["for=1.1.1.1, for=203.0.113.9"]);
        assert_eq!(got.ip, ip("203.0.113.9"));
        for garbage in [
            r#"for="1.2.3.4"#,
            "for",
            "proto=https",
            "for=1.2.3.4;;by",
            "for=[::1",
        ] {
            let got = config.resolve(ip("10.0.0.1"), &[garbage]);
            assert_eq!(got.ip, ip("10.0.0.1"), "{garbage:?}");
            assert!(got.malformed.is_some(), "{garbage:?}");
        }
    }

    #[test]
    fn networks_parse_and_match() {
        let net = parse_net("192.168.0.0/16").unwrap();
        assert!(net.contains(&ip("192.168.200.1")));
        assert!(!net.contains(&ip("192.169.0.1")));
        let all = parse_net("0.0.0.0/0").unwrap();
        assert!(all.contains(&ip("8.8.8.8")));
        assert!(!all.contains(&ip("::1")));
        let host = parse_net(" ::1 ").unwrap();
        assert!(host.contains(&ip("::1")));
        // A dual-stack socket's IPv4-mapped peer is its IPv4 address.
        let config = xff(&["10.0.0.0/8"]);
        assert!(config.is_trusted_proxy(ip("::ffff:10.1.2.3")));
        for bad in ["10.0.0.0/33", "::/129", "example.com", "10.0.0.0/", "/8", ""] {
            assert!(parse_net(bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn resolve_never_panics(header in "\\PC{0,200}", forwarded: bool) {
            let config = behind(&["10.0.0.0/8"], if forwarded { ForwardedHeader::Forwarded } else { ForwardedHeader::XForwardedFor });
            let _ = config.resolve(ip("10.0.0.1"), &[&header]);
        }

        #[test]
        fn a_client_can_never_choose_a_trusted_address_left_of_the_real_one(spoof in proptest::collection::vec(proptest::num::u32::ANY, 0..5), real in proptest::num::u32::ANY) {
            let config = xff(&["10.0.0.0/8"]);
            let real = IpAddr::V4(real.into());
            proptest::prop_assume!(!config.is_trusted_proxy(real));
            let mut chain: Vec<String> = spoof.iter().map(|n| std::net::Ipv4Addr::from(*n).to_string()).collect();
            chain.push(real.to_string());
            let header = chain.join(", ");
            proptest::prop_assert_eq!(config.resolve(ip("10.0.0.1"), &[&header]).ip, real);
        }
    }
}
