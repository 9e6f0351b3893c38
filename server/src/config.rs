//! Typed configuration from an optional TOML file and the environment (which wins), validated
//! at start with a message that names the bad setting. No secret is ever printed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use leptos::config::{Env, LeptosOptions};
use single_login::client_ip::{parse_net, ClientIpConfig};
use single_login::throttle::ThrottleConfig;
use single_login::{OnLimit, Policy};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/single-login.db";

#[derive(Clone)]
pub struct Config {
    pub leptos: LeptosOptions,
    pub database_url: String,
    pub settings: Settings,
}

/// By hand: the database URL may hold a password.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("leptos", &self.leptos)
            .field("database_url", &redact_url(&self.database_url))
            .field("settings", &self.settings)
            .finish()
    }
}

/// Behaviour of the session machinery.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `Secure` flag on the session cookie (whose name then carries the `__Host-` prefix),
    /// and `Strict-Transport-Security` on every answer.
    pub cookie_secure: bool,
    /// The host names this server answers to (the `Host` header, port aside); any other gets
    /// 400, which stops DNS rebinding against an instance on a private address.
    pub allowed_hosts: Vec<String>,
    /// A session unused for this long ends (its seat with reason `expired`).
    pub session_idle_timeout: Duration,
    /// A session this old ends (`expired`) however active it is; the user logs in again.
    pub session_max_lifetime: Duration,
    /// How often a live seat's last-seen time (and the session's expiry) moves forward.
    pub touch_interval: Duration,
    /// How long ended seats stay on record.
    pub seat_retention: Duration,
    /// How often expired sessions and old seats are purged.
    pub purge_interval: Duration,
    /// How long a login held by the `ask` policy waits for the user's choice.
    pub ask_choice_timeout: Duration,
    /// How long a confirmed password lets the user end sessions.
    pub password_confirmation_timeout: Duration,
    /// How often an open live channel re-reads its seat unprompted: the longest a change
    /// that no notice reached (SQLite and another process) takes to arrive.
    pub live_recheck_interval: Duration,
    /// How many sessions a user may hold, and what happens at the limit.
    pub policy: Policy,
    /// Where the client's address comes from behind proxies.
    pub client_ip: ClientIpConfig,
    /// Limits on password checks per client network, account and user.
    pub throttle: ThrottleConfig,
    /// Password hashes and verifications running at once (each holds 19 MiB and a core).
    pub hash_concurrency: usize,
    /// How long a request waits for a hashing slot before it is answered 503.
    pub hash_queue_timeout: Duration,
    /// How long a client may take to send a request's headers before the connection closes.
    pub header_read_timeout: Duration,
    /// Open live-channel streams allowed per session (beyond, the session's oldest closes),
    /// per user, per client network and in all (beyond these, 429).
    pub live_streams: crate::live::StreamLimits,
}

impl Settings {
    /// Defaults for a server on `addr`. The cookie is `Secure` unless this is a development
    /// run (`LEPTOS_ENV` is not `PROD`) on plain-http loopback: a release served on loopback
    /// is usually behind a TLS-terminating proxy on the same host, and browsers accept
    /// `Secure` cookies from `http://localhost` and `http://127.0.0.1` anyway.
    pub fn defaults_for(addr: SocketAddr, env: Env) -> Self {
        Settings {
            cookie_secure: !(addr.ip().is_loopback() && env == Env::DEV),
            allowed_hosts: default_allowed_hosts(addr),
            session_idle_timeout: Duration::from_secs(14 * 24 * 3600),
            session_max_lifetime: Duration::from_secs(30 * 24 * 3600),
            touch_interval: Duration::from_secs(60),
            seat_retention: Duration::from_secs(30 * 24 * 3600),
            purge_interval: Duration::from_secs(3600),
            live_recheck_interval: Duration::from_secs(20),
            ask_choice_timeout: Duration::from_secs(5 * 60),
            password_confirmation_timeout: Duration::from_secs(5 * 60),
            policy: Policy::default(),
            client_ip: ClientIpConfig::default(),
            throttle: ThrottleConfig::default(),
            hash_concurrency: single_login::Hashing::default_concurrency(64 * 1024 * 1024),
            hash_queue_timeout: Duration::from_secs(5),
            header_read_timeout: Duration::from_secs(15),
            live_streams: crate::live::StreamLimits::default(),
        }
    }
}

impl Settings {
    /// The idle timeout and the absolute lifetime, as the lifecycle rule takes them.
    pub fn lifetimes(&self) -> single_login::Lifetimes {
        single_login::Lifetimes {
            idle: self.session_idle_timeout,
            max: self.session_max_lifetime,
        }
    }
}

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

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid setting {key} ({env}) = {value:?} from {origin}: {reason}")]
    Invalid {
        key: &'static str,
        env: &'static str,
        value: String,
        origin: String,
        reason: String,
    },
    #[error("unknown setting {key:?} in {file} (known: {known})")]
    Unknown {
        key: String,
        file: String,
        known: String,
    },
    #[error("could not read the configuration file {file}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the configuration file {file} is not valid TOML")]
    Toml {
        file: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("could not read the Leptos settings (LEPTOS_*)")]
    Leptos(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Every setting: its key in the TOML file and its environment variable.
pub const SETTINGS: &[(&str, &str)] = &[
    ("database_url", "DATABASE_URL"),
    ("cookie_secure", "SESSION_COOKIE_SECURE"),
    ("allowed_hosts", "ALLOWED_HOSTS"),
    ("session_idle_timeout", "SESSION_IDLE_TIMEOUT"),
    ("session_max_lifetime", "SESSION_MAX_LIFETIME"),
    ("seat_touch_interval", "SEAT_TOUCH_INTERVAL"),
    ("seat_retention", "SEAT_RETENTION"),
    ("purge_interval", "PURGE_INTERVAL"),
    ("live_recheck_interval", "LIVE_RECHECK_INTERVAL"),
    ("ask_choice_timeout", "ASK_CHOICE_TIMEOUT"),
    ("password_confirmation_timeout", "PASSWORD_CONFIRMATION_TIMEOUT"),
    ("max_sessions", "MAX_SESSIONS"),
    ("on_limit", "ON_LIMIT"),
    ("same_ip_shares_seat", "SAME_IP_SHARES_SEAT"),
    ("idle_seat_after", "IDLE_SEAT_AFTER"),
    ("trusted_proxies", "TRUSTED_PROXIES"),
    ("forwarded_header", "FORWARDED_HEADER"),
    ("login_max_failures", "LOGIN_MAX_FAILURES"),
    ("login_failure_window", "LOGIN_FAILURE_WINDOW"),
    ("account_max_failures", "ACCOUNT_MAX_FAILURES"),
    ("account_failure_window", "ACCOUNT_FAILURE_WINDOW"),
    ("address_max_attempts", "ADDRESS_MAX_ATTEMPTS"),
    ("address_window", "ADDRESS_WINDOW"),
    ("reauth_max_failures", "REAUTH_MAX_FAILURES"),
    ("ipv6_prefix", "IPV6_PREFIX"),
    ("hash_concurrency", "HASH_CONCURRENCY"),
    ("hash_queue_timeout", "HASH_QUEUE_TIMEOUT"),
    ("header_read_timeout", "HEADER_READ_TIMEOUT"),
    ("live_streams_per_session", "LIVE_STREAMS_PER_SESSION"),
    ("live_streams_per_user", "LIVE_STREAMS_PER_USER"),
    ("live_streams_per_address", "LIVE_STREAMS_PER_ADDRESS"),
    ("live_streams_total", "LIVE_STREAMS_TOTAL"),
];

/// A raw value and where it came from.
struct Raw {
    value: String,
    origin: String,
}

/// The settings as text, from the file and then the environment.
struct Sources(HashMap<&'static str, Raw>);

impl Sources {
    fn gather(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Sources, ConfigError> {
        let mut values = HashMap::new();
        if let Some(path) = file {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                file: shown.clone(),
                source,
            })?;
            let table: toml::Table = toml::from_str(&text).map_err(|source| ConfigError::Toml {
                file: shown.clone(),
                source,
            })?;
            for (key, value) in table {
                let Some(&(known, _)) = SETTINGS.iter().find(|(k, _)| *k == key) else {
                    return Err(ConfigError::Unknown {
                        key,
                        file: shown,
                        known: SETTINGS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", "),
                    });
                };
                let value = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                values.insert(
                    known,
                    Raw {
                        value,
                        origin: shown.clone(),
                    },
                );
            }
        }
        for &(key, name) in SETTINGS {
            if let Some(value) = env(name).filter(|v| !v.trim().is_empty()) {
                values.insert(
                    key,
                    Raw {
                        value,
                        origin: format!("the environment ({name})"),
                    },
                );
            }
        }
        Ok(Sources(values))
    }

    /// Parses one setting where given, naming it on failure.
    fn parse<T>(
        &self,
        key: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        let Some(raw) = self.0.get(key) else {
            return Ok(None);
        };
        let env = SETTINGS.iter().find(|(k, _)| *k == key).map_or("", |(_, e)| *e);
        parse(raw.value.trim())
            .map(Some)
            .map_err(|reason| ConfigError::Invalid {
                key,
                env,
                value: if key == "database_url" {
                    redact_url(&raw.value)
                } else {
                    raw.value.clone()
                },
                origin: raw.origin.clone(),
                reason,
            })
    }
}

impl Config {
    /// Reads the environment, and first the TOML file at `file` where given.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut leptos = leptos::config::get_configuration(None)
            .map_err(|e| ConfigError::Leptos(Box::new(e)))?
            .leptos_options;
        // Built by plain cargo (not cargo-leptos), the name is not compiled in.
        if leptos.output_name.is_empty() {
            leptos.output_name = "single-login".into();
        }
        // cargo-leptos (hash-files) names the assets by content and writes the hashes beside
        // the binary; it tells the server so by LEPTOS_HASH_FILES when it starts it. Started
        // any other way, the file beside the binary says the same.
        if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
            let beside = std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join(leptos.hash_file.as_ref())));
            leptos.hash_files = beside.is_some_and(|path| path.is_file());
        }
        let sources = Sources::gather(file, |name| std::env::var(name).ok())?;
        let defaults = Settings::defaults_for(leptos.site_addr, leptos.env.clone());
        let (database_url, settings) = resolve(&sources, defaults)?;
        Ok(Config {
            leptos,
            database_url,
            settings,
        })
    }
}

fn resolve(sources: &Sources, mut settings: Settings) -> Result<(String, Settings), ConfigError> {
    let database_url = sources
        .parse("database_url", |url| {
            if url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://")
            {
                Ok(url.to_owned())
            } else {
                Err("expected a sqlite: or postgres:// URL".into())
            }
        })?
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    if let Some(secure) = sources.parse("cookie_secure", parse_bool)? {
        settings.cookie_secure = secure;
    }
    if let Some(hosts) = sources.parse("allowed_hosts", |text| {
        text.split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| normalize_host(h).ok_or_else(|| format!("{h:?} is not a host name")))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|hosts| {
                if hosts.is_empty() {
                    Err("expected at least one host name".to_owned())
                } else {
                    Ok(hosts)
                }
            })
    })? {
        settings.allowed_hosts = hosts;
    }
    let positive = |text: &str| {
        parse_duration(text).and_then(|d| {
            if d.is_zero() {
                Err("must be longer than zero".to_owned())
            } else {
                Ok(d)
            }
        })
    };
    if let Some(d) = sources.parse("session_idle_timeout", positive)? {
        settings.session_idle_timeout = d;
    }
    if let Some(d) = sources.parse("session_max_lifetime", positive)? {
        settings.session_max_lifetime = d;
    }
    if let Some(d) = sources.parse("seat_touch_interval", parse_duration)? {
        settings.touch_interval = d;
    }
    if let Some(d) = sources.parse("seat_retention", parse_duration)? {
        settings.seat_retention = d;
    }
    if let Some(d) = sources.parse("purge_interval", positive)? {
        settings.purge_interval = d;
    }
    if let Some(d) = sources.parse("live_recheck_interval", positive)? {
        settings.live_recheck_interval = d;
    }
    if let Some(d) = sources.parse("ask_choice_timeout", positive)? {
        settings.ask_choice_timeout = d;
    }
    if let Some(d) = sources.parse("password_confirmation_timeout", positive)? {
        settings.password_confirmation_timeout = d;
    }
    if let Some(max) = sources.parse("max_sessions", |text| {
        text.parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| "expected a whole number of at least 1".to_owned())
    })? {
        settings.policy.max_sessions = max;
    }
    if let Some(mode) = sources.parse("on_limit", parse_on_limit)? {
        settings.policy.on_limit = mode;
    }
    if let Some(share) = sources.parse("same_ip_shares_seat", parse_bool)? {
        settings.policy.same_ip_shares_seat = share;
    }
    if let Some(d) = sources.parse("idle_seat_after", positive)? {
        settings.policy.idle_after = d;
    }
    if let Some(proxies) = sources.parse("trusted_proxies", |text| {
        text.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| parse_net(p).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()
    })? {
        settings.client_ip.trusted_proxies = proxies;
    }
    if let Some(header) = sources.parse("forwarded_header", |text| text.parse())? {
        settings.client_ip.header = header;
    }
    if let Some(max) = sources.parse("login_max_failures", |text| {
        text.parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| "expected a whole number of at least 1".to_owned())
    })? {
        settings.throttle.max_failures = max;
    }
    if let Some(window) = sources.parse("login_failure_window", positive)? {
        settings.throttle.window = window;
    }
    let at_least_one = |text: &str| {
        text.parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| "expected a whole number of at least 1".to_owned())
    };
    if let Some(max) = sources.parse("account_max_failures", at_least_one)? {
        settings.throttle.account_max_failures = max;
    }
    if let Some(window) = sources.parse("account_failure_window", positive)? {
        settings.throttle.account_window = window;
    }
    if let Some(max) = sources.parse("address_max_attempts", at_least_one)? {
        settings.throttle.address_max_attempts = max;
    }
    if let Some(window) = sources.parse("address_window", positive)? {
        settings.throttle.address_window = window;
    }
    if let Some(max) = sources.parse("reauth_max_failures", at_least_one)? {
        settings.throttle.reauth_max_failures = max;
    }
    if let Some(prefix) = sources.parse("ipv6_prefix", |text| {
        text.parse::<u8>()
            .ok()
            .filter(|p| (1..=128).contains(p))
            .ok_or_else(|| "expected a prefix length from 1 to 128".to_owned())
    })? {
        settings.throttle.ipv6_prefix = prefix;
    }
    if let Some(n) = sources.parse("hash_concurrency", at_least_one)? {
        settings.hash_concurrency = n as usize;
    }
    if let Some(wait) = sources.parse("hash_queue_timeout", positive)? {
        settings.hash_queue_timeout = wait;
    }
    if let Some(wait) = sources.parse("header_read_timeout", positive)? {
        settings.header_read_timeout = wait;
    }
    if let Some(n) = sources.parse("live_streams_per_session", at_least_one)? {
        settings.live_streams.per_session = n as usize;
    }
    if let Some(n) = sources.parse("live_streams_per_user", at_least_one)? {
        settings.live_streams.per_user = n as usize;
    }
    if let Some(n) = sources.parse("live_streams_per_address", at_least_one)? {
        settings.live_streams.per_address = n as usize;
    }
    if let Some(n) = sources.parse("live_streams_total", at_least_one)? {
        settings.live_streams.total = n as usize;
    }
    Ok((database_url, settings))
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

fn parse_on_limit(value: &str) -> Result<OnLimit, String> {
    match value.to_ascii_lowercase().replace('-', "_").as_str() {
        "kick_oldest" => Ok(OnLimit::KickOldest),
        "deny_new" => Ok(OnLimit::DenyNew),
        "ask" => Ok(OnLimit::Ask),
        _ => Err("expected kick_oldest, deny_new or ask".into()),
    }
}

/// `90s`, `30m`, `12h`, `30d`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| "expected a number with an optional unit s, m, h or d, like 30m".to_owned())?;
    let seconds = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => return Err(format!("unknown unit {other:?}: use s, m, h or d")),
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| "too long".to_owned())
}

/// A database URL fit for logs: the password replaced, whether in the user part
/// (`user:secret@`) or in a query parameter (`?password=secret`, as sqlx and libpq accept).
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &base[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &base[..scheme], user, &base[at + 1..])
        }
        _ => base.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().contains("pass") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use single_login::client_ip::ForwardedHeader;

    use super::*;

    fn settings(file: Option<&str>, env: &[(&str, &str)]) -> Result<(String, Settings), ConfigError> {
        let mut temp = tempfile::NamedTempFile::new().unwrap();
        if let Some(text) = file {
            temp.write_all(text.as_bytes()).unwrap();
        }
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let sources = Sources::gather(file.map(|_| temp.path()), |name| env.get(name).cloned())?;
        resolve(
            &sources,
            Settings::defaults_for("127.0.0.1:3000".parse().unwrap(), Env::DEV),
        )
    }

    #[test]
    fn defaults_without_any_setting() {
        let (url, s) = settings(None, &[]).unwrap();
        assert_eq!(url, DEFAULT_DATABASE_URL);
        assert_eq!(s.policy, Policy::default());
        assert!(!s.cookie_secure);
        assert!(s.client_ip.trusted_proxies.is_empty());
        assert_eq!(s.allowed_hosts, ["localhost", "127.0.0.1", "[::1]"]);
    }

    #[test]
    fn the_cookie_is_secure_except_in_a_loopback_development_run() {
        let secure = |addr: &str, env| Settings::defaults_for(addr.parse().unwrap(), env).cookie_secure;
        assert!(!secure("127.0.0.1:3000", Env::DEV));
        assert!(!secure("[::1]:3000", Env::DEV));
        assert!(secure("127.0.0.1:3000", Env::PROD));
        assert!(secure("0.0.0.0:3000", Env::DEV));
        assert!(secure("192.0.2.7:3000", Env::DEV));
        let (_, s) = settings(None, &[("SESSION_COOKIE_SECURE", "true")]).unwrap();
        assert!(s.cookie_secure);
    }

    #[test]
    fn allowed_hosts_default_to_the_listen_address_and_loopback() {
        let hosts = default_allowed_hosts("192.0.2.7:80".parse().unwrap());
        assert_eq!(hosts, ["192.0.2.7", "localhost", "127.0.0.1", "[::1]"]);
        let hosts = default_allowed_hosts("0.0.0.0:80".parse().unwrap());
        assert_eq!(hosts, ["localhost", "127.0.0.1", "[::1]"]);
        let hosts = default_allowed_hosts("[2001:db8::1]:80".parse().unwrap());
        assert_eq!(hosts[0], "[2001:db8::1]");
        let (_, s) = settings(
            Some("allowed_hosts = [\"App.Example.com.\", \"[::1]:3000\"]"),
            &[],
        )
        .unwrap();
        assert_eq!(s.allowed_hosts, ["app.example.com", "[::1]"]);
        let err = settings(None, &[("ALLOWED_HOSTS", "app.example.com, a b")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("allowed_hosts (ALLOWED_HOSTS)") && err.contains("\"a b\""),
            "{err}"
        );
    }

    #[test]
    fn host_headers_are_compared_without_port_case_or_trailing_dot() {
        assert_eq!(
            normalize_host("Example.COM.:8080").as_deref(),
            Some("example.com")
        );
        assert_eq!(normalize_host("127.0.0.1:3000").as_deref(), Some("127.0.0.1"));
        assert_eq!(normalize_host("[::1]:3000").as_deref(), Some("[::1]"));
        assert_eq!(normalize_host("[::1]").as_deref(), Some("[::1]"));
        for bad in [
            "",
            ":80",
            "evil.example:x",
            "[::1]x",
            "a/b",
            "a b",
            "ex\u{e4}mple.com",
            "[::1",
        ] {
            assert_eq!(normalize_host(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_file_sets_and_the_environment_wins() {
        let file = r#"
            max_sessions = 3
            on_limit = "deny_new"
            same_ip_shares_seat = true
            idle_seat_after = "10m"
            trusted_proxies = ["10.0.0.0/8", "::1"]
            forwarded_header = "forwarded"
        "#;
        let (_, s) = settings(Some(file), &[("MAX_SESSIONS", "2")]).unwrap();
        assert_eq!(s.policy.max_sessions, 2);
        assert_eq!(s.policy.on_limit, OnLimit::DenyNew);
        assert!(s.policy.same_ip_shares_seat);
        assert_eq!(s.policy.idle_after, Duration::from_secs(600));
        assert_eq!(s.client_ip.trusted_proxies.len(), 2);
        assert_eq!(s.client_ip.header, ForwardedHeader::Forwarded);
    }

    #[test]
    fn a_bad_value_names_the_setting_and_its_origin() {
        let err = settings(None, &[("ON_LIMIT", "kick_newest")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("on_limit (ON_LIMIT)") && err.contains("environment"),
            "{err}"
        );
        let err = settings(Some("max_sessions = 0"), &[]).unwrap_err().to_string();
        assert!(
            err.contains("max_sessions") && err.contains("at least 1"),
            "{err}"
        );
        let err = settings(None, &[("TRUSTED_PROXIES", "10.0.0.0/8, example.com")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("trusted_proxies") && err.contains("example.com"),
            "{err}"
        );
        let err = settings(Some("max_session = 2"), &[]).unwrap_err().to_string();
        assert!(err.contains("unknown setting \"max_session\""), "{err}");
        let err = settings(Some("max_sessions = "), &[]).unwrap_err().to_string();
        assert!(err.contains("not valid TOML"), "{err}");
        let err = settings(None, &[("DATABASE_URL", "mysql://u:hunter2@h/db")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("database_url") && !err.contains("hunter2"), "{err}");
    }

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn urls_lose_their_password_in_logs() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(
            redact_url("postgres://db/x?user=app&password=s3cret&sslmode=require"),
            "postgres://db/x?user=app&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://app:pw@db/x?PassWord=s3cret"),
            "postgres://app:***@db/x?PassWord=***"
        );
    }
}
