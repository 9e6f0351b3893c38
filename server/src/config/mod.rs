//! Typed configuration from an optional TOML file and the environment (which wins), validated
//! at start with a message that names the bad setting. No secret is ever printed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use leptos::config::{Env, LeptosOptions};
use serde::Deserialize;
use single_login::client_ip::{ClientIpConfig, ForwardedHeader, IpNet};
use single_login::password;
use single_login::throttle::ThrottleConfig;
use single_login::{KindLimits, OnLimit, Policy};

mod hosts;
mod secrets;
mod values;

pub use hosts::{default_allowed_hosts, normalize_host};
pub use secrets::{redact_url, DatabaseUrl, Secret};

pub use values::parse_duration;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/single-login.db";

#[derive(Debug, Clone)]
pub struct Config {
    pub leptos: LeptosOptions,
    pub settings: Settings,
}

/// Every setting. A field's name is its key in the TOML file, and in capitals its
/// environment variable (`max_sessions`, `MAX_SESSIONS`): nothing else lists them. The
/// table in docs/configuration.md is checked against this struct by a test.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite:` path or `postgres://` URL.
    #[serde(deserialize_with = "values::database_url")]
    pub database_url: DatabaseUrl,
    /// Live seats a user may hold.
    #[serde(deserialize_with = "values::at_least_one")]
    pub max_sessions: u32,
    /// Live seats a user may hold per device kind, within `max_sessions`.
    #[serde(deserialize_with = "values::seat_limits")]
    pub seat_limits: KindLimits,
    /// What happens at the limit.
    #[serde(deserialize_with = "values::on_limit")]
    pub on_limit: OnLimit,
    /// Under `deny_new`, seats unused for this long do not block a login.
    #[serde(deserialize_with = "values::positive_duration")]
    pub idle_seat_after: Duration,
    /// Seats from the new login's client IP neither count nor end.
    #[serde(deserialize_with = "values::flag")]
    pub same_ip_shares_seat: bool,
    /// The reverse proxies whose forwarding header is believed.
    #[serde(deserialize_with = "values::networks")]
    pub trusted_proxies: Vec<IpNet>,
    /// The header those proxies write.
    #[serde(deserialize_with = "values::forwarded_header")]
    pub forwarded_header: ForwardedHeader,
    /// Failed logins per username and client network within `login_failure_window`.
    #[serde(deserialize_with = "values::at_least_one")]
    pub login_max_failures: u32,
    #[serde(deserialize_with = "values::positive_duration")]
    pub login_failure_window: Duration,
    /// Failed logins per account from every address within `account_failure_window`.
    #[serde(deserialize_with = "values::at_least_one")]
    pub account_max_failures: u32,
    #[serde(deserialize_with = "values::positive_duration")]
    pub account_failure_window: Duration,
    /// Password checks per client network within `address_window`.
    #[serde(deserialize_with = "values::at_least_one")]
    pub address_max_attempts: u32,
    /// The same per IPv4 /24 and IPv6 /56.
    #[serde(deserialize_with = "values::at_least_one")]
    pub subnet_max_attempts: u32,
    /// The same per IPv6 /48.
    #[serde(deserialize_with = "values::at_least_one")]
    pub block_max_attempts: u32,
    #[serde(deserialize_with = "values::positive_duration")]
    pub address_window: Duration,
    /// Failed password confirmations and changes per session (which then ends).
    #[serde(deserialize_with = "values::at_least_one")]
    pub reauth_max_failures: u32,
    /// Failed password confirmations and changes per user, from all its sessions.
    #[serde(deserialize_with = "values::at_least_one")]
    pub reauth_user_max_failures: u32,
    /// IPv6 clients are counted by this prefix.
    #[serde(deserialize_with = "values::prefix_length")]
    pub ipv6_prefix: u8,
    /// Password hashes and verifications running at once (each holds 19 MiB and a core).
    #[serde(deserialize_with = "values::at_least_one")]
    pub hash_concurrency: usize,
    /// How long a request waits for a hashing slot before it is answered 503.
    #[serde(deserialize_with = "values::positive_duration")]
    pub hash_queue_timeout: Duration,
    /// Requests of one client network (an IPv4 /24, an IPv6 /48) that may wait for a hashing
    /// slot at once; beyond, 503 at once. Slots go to the waiting networks in turn.
    #[serde(deserialize_with = "values::at_least_one")]
    pub hash_queue_per_network: usize,
    /// How long a client may take to send a request's headers before the connection closes.
    #[serde(deserialize_with = "values::positive_duration")]
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body (beyond, 408 and the connection
    /// closes).
    #[serde(deserialize_with = "values::positive_duration")]
    pub request_body_timeout: Duration,
    /// How long a request may take in all, the live channel aside (beyond, 503).
    #[serde(deserialize_with = "values::positive_duration")]
    pub request_timeout: Duration,
    /// Open connections in all; beyond, new ones are closed at once.
    #[serde(deserialize_with = "values::at_least_one")]
    pub max_connections: usize,
    /// Open connections per client network (an IPv4 address, an IPv6 /64), trusted proxies
    /// aside.
    #[serde(deserialize_with = "values::at_least_one")]
    pub max_connections_per_network: usize,
    /// Open live-channel streams per session (beyond, the session's oldest closes).
    #[serde(deserialize_with = "values::at_least_one")]
    pub live_streams_per_session: usize,
    /// Per user, per client network and in all (beyond these, 429).
    #[serde(deserialize_with = "values::at_least_one")]
    pub live_streams_per_user: usize,
    #[serde(deserialize_with = "values::at_least_one")]
    pub live_streams_per_address: usize,
    #[serde(deserialize_with = "values::at_least_one")]
    pub live_streams_total: usize,
    /// `Secure` flag on the session cookie (whose name then carries the `__Host-` prefix),
    /// and `Strict-Transport-Security` on every answer. Unset, it follows the address
    /// ([`Settings::for_address`]).
    #[serde(deserialize_with = "values::some_flag")]
    pub session_cookie_secure: Option<bool>,
    /// The host names this server answers to (the `Host` header, port aside); any other gets
    /// 400, which stops DNS rebinding against an instance on a private address. Empty until
    /// [`Settings::for_address`] fills in the default.
    #[serde(deserialize_with = "values::hosts")]
    pub allowed_hosts: Vec<String>,
    /// A session unused for this long ends (its seat with reason `expired`).
    #[serde(deserialize_with = "values::positive_duration")]
    pub session_idle_timeout: Duration,
    /// A session this old ends (`expired`) however active it is; the user logs in again.
    #[serde(deserialize_with = "values::positive_duration")]
    pub session_max_lifetime: Duration,
    /// How often a live seat's last-seen time (and the session's expiry) moves forward.
    #[serde(deserialize_with = "values::duration")]
    pub seat_touch_interval: Duration,
    /// How long ended seats stay on record.
    #[serde(deserialize_with = "values::duration")]
    pub seat_retention: Duration,
    /// How often expired sessions and old seats are purged.
    #[serde(deserialize_with = "values::positive_duration")]
    pub purge_interval: Duration,
    /// How long a login held by the `ask` policy waits for the user's choice.
    #[serde(deserialize_with = "values::positive_duration")]
    pub ask_choice_timeout: Duration,
    /// How long a confirmed password lets the user end sessions.
    #[serde(deserialize_with = "values::positive_duration")]
    pub password_confirmation_timeout: Duration,
    /// How often an open live channel re-reads its seat unprompted: the longest a change
    /// that no notice reached (SQLite and another process) takes to arrive.
    #[serde(deserialize_with = "values::positive_duration")]
    pub live_recheck_interval: Duration,
    /// How long the per-request check trusts what it read of a live seat before reading it
    /// again. This process's own changes are seen at once; another process's by its notice
    /// (PostgreSQL) or, where none reaches it, after this long at the most. Zero reads every
    /// time.
    #[serde(deserialize_with = "values::duration")]
    pub seat_cache_ttl: Duration,
    /// Where Prometheus scrapes `/metrics`: an address of its own, never the public one.
    /// Unset, no metrics are served.
    #[serde(deserialize_with = "values::some_socket_addr")]
    pub metrics_addr: Option<SocketAddr>,
    /// When set, `/metrics` answers only `Authorization: Bearer` with this token.
    #[serde(deserialize_with = "values::some_secret")]
    pub metrics_token: Option<Secret>,
    /// Where every session event is POSTed, signed (Standard Webhooks). Unset, none is.
    #[serde(deserialize_with = "values::some_http_url")]
    pub webhook_url: Option<String>,
    /// The webhooks' signing secret: `whsec_` and base64, as Standard Webhooks writes it.
    #[serde(deserialize_with = "values::some_webhook_secret")]
    pub webhook_secret: Option<Secret>,
    /// How long session events stay on record, then the purge deletes them.
    #[serde(deserialize_with = "values::positive_duration")]
    pub event_retention: Duration,
}

impl Default for Settings {
    /// The defaults that do not depend on where the server listens; see
    /// [`Settings::for_address`] for the rest.
    fn default() -> Self {
        let policy = Policy::default();
        let throttle = ThrottleConfig::default();
        let client_ip = ClientIpConfig::default();
        let streams = crate::live::StreamLimits::default();
        let lifetimes = single_login::Lifetimes::default();
        Settings {
            database_url: DatabaseUrl::default(),
            max_sessions: policy.max_sessions,
            seat_limits: policy.seat_limits,
            on_limit: policy.on_limit,
            idle_seat_after: policy.idle_after,
            same_ip_shares_seat: policy.same_ip_shares_seat,
            trusted_proxies: client_ip.trusted_proxies,
            forwarded_header: client_ip.header,
            login_max_failures: throttle.max_failures,
            login_failure_window: throttle.window,
            account_max_failures: throttle.account_max_failures,
            account_failure_window: throttle.account_window,
            address_max_attempts: throttle.address_max_attempts,
            subnet_max_attempts: throttle.subnet_max_attempts,
            block_max_attempts: throttle.block_max_attempts,
            address_window: throttle.address_window,
            reauth_max_failures: throttle.reauth_max_failures,
            reauth_user_max_failures: throttle.reauth_user_max_failures,
            ipv6_prefix: throttle.ipv6_prefix,
            hash_concurrency: single_login::Hashing::default_concurrency(password::DEFAULT_HASH_MEMORY),
            hash_queue_timeout: password::DEFAULT_HASH_WAIT,
            hash_queue_per_network: 16,
            header_read_timeout: Duration::from_secs(15),
            request_body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 4096,
            max_connections_per_network: 256,
            live_streams_per_session: streams.per_session,
            live_streams_per_user: streams.per_user,
            live_streams_per_address: streams.per_address,
            live_streams_total: streams.total,
            session_cookie_secure: None,
            allowed_hosts: Vec::new(),
            session_idle_timeout: lifetimes.idle,
            session_max_lifetime: lifetimes.max,
            seat_touch_interval: single_login::lifecycle::DEFAULT_TOUCH_INTERVAL,
            seat_retention: Duration::from_secs(30 * 24 * 3600),
            purge_interval: Duration::from_secs(3600),
            ask_choice_timeout: Duration::from_secs(5 * 60),
            password_confirmation_timeout: Duration::from_secs(5 * 60),
            live_recheck_interval: Duration::from_secs(20),
            seat_cache_ttl: Duration::from_secs(2),
            metrics_addr: None,
            metrics_token: None,
            webhook_url: None,
            webhook_secret: None,
            event_retention: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

impl Settings {
    /// Defaults for a server on `addr`.
    pub fn defaults_for(addr: SocketAddr, env: Env) -> Self {
        Settings::default().for_address(addr, env)
    }

    /// Fills in what was not set and depends on the address. The cookie is `Secure` unless
    /// this is a development run (`LEPTOS_ENV` is not `PROD`) on plain-http loopback: a
    /// release served on loopback is usually behind a TLS-terminating proxy on the same
    /// host, and browsers accept `Secure` cookies from `http://localhost` and
    /// `http://127.0.0.1` anyway.
    pub fn for_address(mut self, addr: SocketAddr, env: Env) -> Self {
        self.session_cookie_secure
            .get_or_insert(!(addr.ip().is_loopback() && env == Env::DEV));
        if self.allowed_hosts.is_empty() {
            self.allowed_hosts = default_allowed_hosts(addr);
        }
        self
    }

    /// What no single setting can say wrong on its own: the metrics on the public port, a
    /// webhook without its secret or the other way round.
    pub fn check(&self, site_addr: SocketAddr) -> Result<(), ConfigError> {
        if self
            .metrics_addr
            .is_some_and(|addr| addr.port() == site_addr.port())
        {
            return Err(ConfigError::Inconsistent(
                "metrics_addr (METRICS_ADDR) must be a port of its own, not the site's".into(),
            ));
        }
        if self.webhook_url.is_some() != self.webhook_secret.is_some() {
            return Err(ConfigError::Inconsistent(
                "webhook_url (WEBHOOK_URL) and webhook_secret (WEBHOOK_SECRET) go together: set both or neither".into(),
            ));
        }
        Ok(())
    }

    /// Whether the session cookie is `Secure` (and HSTS is sent).
    pub fn cookie_secure(&self) -> bool {
        self.session_cookie_secure.unwrap_or(true)
    }

    /// The idle timeout and the absolute lifetime, as the lifecycle rule takes them.
    pub fn lifetimes(&self) -> single_login::Lifetimes {
        single_login::Lifetimes {
            idle: self.session_idle_timeout,
            max: self.session_max_lifetime,
        }
    }

    /// How many sessions a user may hold, and what happens at the limit.
    pub fn policy(&self) -> Policy {
        Policy {
            max_sessions: self.max_sessions,
            seat_limits: self.seat_limits.clone(),
            on_limit: self.on_limit,
            same_ip_shares_seat: self.same_ip_shares_seat,
            idle_after: self.idle_seat_after,
        }
    }

    /// Limits on password checks per client network, account and user.
    pub fn throttle(&self) -> ThrottleConfig {
        ThrottleConfig {
            max_failures: self.login_max_failures,
            window: self.login_failure_window,
            account_max_failures: self.account_max_failures,
            account_window: self.account_failure_window,
            address_max_attempts: self.address_max_attempts,
            subnet_max_attempts: self.subnet_max_attempts,
            block_max_attempts: self.block_max_attempts,
            address_window: self.address_window,
            reauth_max_failures: self.reauth_max_failures,
            reauth_user_max_failures: self.reauth_user_max_failures,
            ipv6_prefix: self.ipv6_prefix,
        }
    }

    /// Where the client's address comes from behind proxies.
    pub fn client_ip(&self) -> ClientIpConfig {
        ClientIpConfig {
            trusted_proxies: self.trusted_proxies.clone(),
            header: self.forwarded_header,
        }
    }

    /// The caps on open live-channel streams.
    pub fn live_streams(&self) -> crate::live::StreamLimits {
        crate::live::StreamLimits {
            per_session: self.live_streams_per_session,
            per_user: self.live_streams_per_user,
            per_address: self.live_streams_per_address,
            total: self.live_streams_total,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Inconsistent(String),
    #[error("invalid setting {key} ({env}) = {value:?} from {origin}: {reason}")]
    Invalid {
        key: String,
        env: String,
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

/// Every setting's key, from [`Settings`] itself.
pub fn keys() -> &'static [&'static str] {
    values::keys::<Settings>()
}

/// A setting's environment variable.
pub fn env_name(key: &str) -> String {
    key.to_ascii_uppercase()
}

/// The settings as given, from the file and then the environment, with where each came from.
struct Sources {
    table: toml::Table,
    origins: HashMap<String, String>,
}

impl Sources {
    fn gather(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Sources, ConfigError> {
        let mut table = toml::Table::new();
        let mut origins = HashMap::new();
        if let Some(path) = file {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                file: shown.clone(),
                source,
            })?;
            table = toml::from_str(&text).map_err(|source| ConfigError::Toml {
                file: shown.clone(),
                source,
            })?;
            if let Some(key) = table.keys().find(|key| !keys().contains(&key.as_str())) {
                return Err(ConfigError::Unknown {
                    key: key.clone(),
                    file: shown,
                    known: keys().join(", "),
                });
            }
            origins.extend(table.keys().map(|key| (key.clone(), shown.clone())));
        }
        for key in keys() {
            let name = env_name(key);
            if let Some(value) = env(&name).filter(|v| !v.trim().is_empty()) {
                table.insert((*key).to_owned(), toml::Value::String(value));
                origins.insert((*key).to_owned(), format!("the environment ({name})"));
            }
        }
        Ok(Sources { table, origins })
    }

    /// The settings, each one given read by its field's reader; a failure names the setting,
    /// its value (without a password) and where it came from.
    fn settings(&self) -> Result<Settings, ConfigError> {
        let given = toml::Value::Table(self.table.clone());
        serde_path_to_error::deserialize(given).map_err(|error| {
            let key = error.path().to_string();
            let value = match self.table.get(&key) {
                Some(_) if secrets::is_secret(&key) => "***".to_owned(),
                Some(toml::Value::String(text)) => redact_url(text),
                Some(toml::Value::Array(items)) => items
                    .iter()
                    .map(|item| item.as_str().map_or_else(|| item.to_string(), redact_url))
                    .collect::<Vec<_>>()
                    .join(","),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            ConfigError::Invalid {
                env: env_name(&key),
                origin: self.origins.get(&key).cloned().unwrap_or_default(),
                value,
                reason: error.into_inner().message().trim().to_owned(),
                key,
            }
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
        let settings = Sources::gather(file, |name| std::env::var(name).ok())?
            .settings()?
            .for_address(leptos.site_addr, leptos.env.clone());
        settings.check(leptos.site_addr)?;
        // It may hold the database's password.
        if let Some(file) = file {
            single_login::db::warn_if_readable_by_others(file, "the configuration file");
        }
        Ok(Config { leptos, settings })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn settings(file: Option<&str>, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut temp = tempfile::NamedTempFile::new().unwrap();
        if let Some(text) = file {
            temp.write_all(text.as_bytes()).unwrap();
        }
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let sources = Sources::gather(file.map(|_| temp.path()), |name| env.get(name).cloned())?;
        Ok(sources
            .settings()?
            .for_address("127.0.0.1:3000".parse().unwrap(), Env::DEV))
    }

    #[test]
    fn defaults_without_any_setting() {
        let s = settings(None, &[]).unwrap();
        assert_eq!(s.database_url.as_str(), DEFAULT_DATABASE_URL);
        assert_eq!(s.policy(), Policy::default());
        assert_eq!(s.throttle(), ThrottleConfig::default());
        assert_eq!(s.client_ip(), ClientIpConfig::default());
        assert!(!s.cookie_secure());
        assert_eq!(s.allowed_hosts, ["localhost", "127.0.0.1", "[::1]"]);
    }

    #[test]
    fn the_cookie_is_secure_except_in_a_loopback_development_run() {
        let secure = |addr: &str, env| Settings::defaults_for(addr.parse().unwrap(), env).cookie_secure();
        assert!(!secure("127.0.0.1:3000", Env::DEV));
        assert!(!secure("[::1]:3000", Env::DEV));
        assert!(secure("127.0.0.1:3000", Env::PROD));
        assert!(secure("0.0.0.0:3000", Env::DEV));
        assert!(secure("192.0.2.7:3000", Env::DEV));
        let s = settings(None, &[("SESSION_COOKIE_SECURE", "true")]).unwrap();
        assert!(s.cookie_secure());
        let s = settings(Some("session_cookie_secure = false"), &[]).unwrap();
        assert!(!Settings { ..s }
            .for_address("192.0.2.7:80".parse().unwrap(), Env::PROD)
            .cookie_secure());
    }

    #[test]
    fn allowed_hosts_default_to_the_listen_address_and_loopback() {
        let hosts = default_allowed_hosts("192.0.2.7:80".parse().unwrap());
        assert_eq!(hosts, ["192.0.2.7", "localhost", "127.0.0.1", "[::1]"]);
        let hosts = default_allowed_hosts("0.0.0.0:80".parse().unwrap());
        assert_eq!(hosts, ["localhost", "127.0.0.1", "[::1]"]);
        let hosts = default_allowed_hosts("[2001:db8::1]:80".parse().unwrap());
        assert_eq!(hosts[0], "[2001:db8::1]");
        let s = settings(
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
            seat_limits = { phone = 1, computer = 1 }
        "#;
        let s = settings(Some(file), &[("MAX_SESSIONS", "2")]).unwrap();
        let one_each = KindLimits::of([
            (single_login::DeviceKind::Phone, 1),
            (single_login::DeviceKind::Computer, 1),
        ]);
        assert_eq!(s.policy().seat_limits, one_each);
        assert_eq!(s.policy().max_sessions, 2);
        assert_eq!(s.policy().on_limit, OnLimit::DenyNew);
        assert!(s.policy().same_ip_shares_seat);
        assert_eq!(s.policy().idle_after, Duration::from_secs(600));
        assert_eq!(s.client_ip().trusted_proxies.len(), 2);
        assert_eq!(s.client_ip().header, ForwardedHeader::Forwarded);
        // The environment's text reads as the file's typed values do.
        let env = [
            ("SAME_IP_SHARES_SEAT", "yes"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
            ("IDLE_SEAT_AFTER", "600"),
            ("LIVE_STREAMS_TOTAL", "7"),
            ("SEAT_LIMITS", "computer=1, phone=1"),
        ];
        let from_env = settings(None, &env).unwrap();
        assert_eq!(from_env.seat_limits, s.seat_limits);
        assert!(from_env.same_ip_shares_seat);
        assert_eq!(from_env.trusted_proxies, s.trusted_proxies);
        assert_eq!(from_env.idle_seat_after, s.idle_seat_after);
        assert_eq!(from_env.live_streams().total, 7);
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
        for bad in [
            "seat_limits = { watch = 1 }",
            "seat_limits = { phone = 0 }",
            "seat_limits = 3",
        ] {
            let err = settings(Some(bad), &[]).unwrap_err().to_string();
            assert!(
                err.contains("seat_limits") && err.contains("phone"),
                "{bad}: {err}"
            );
        }
        // A secret is never repeated back, even when it is wrong.
        let err = settings(None, &[("WEBHOOK_SECRET", "whsec_hunter2")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("webhook_secret") && !err.contains("hunter2"),
            "{err}"
        );
        let err = settings(None, &[("METRICS_TOKEN", "hunter2")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("metrics_token") && !err.contains("hunter2"), "{err}");
        let err = settings(None, &[("WEBHOOK_URL", "ftp://example.com/x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("http:// or https://"), "{err}");
        let site: std::net::SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let clash = settings(None, &[("METRICS_ADDR", "0.0.0.0:3000")]).unwrap();
        assert!(clash
            .check(site)
            .unwrap_err()
            .to_string()
            .contains("port of its own"));
        let alone = settings(None, &[("WEBHOOK_URL", "https://hooks.example.com/in")]).unwrap();
        assert!(alone.check(site).unwrap_err().to_string().contains("go together"));
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
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
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

    #[test]
    fn every_setting_has_one_key_and_the_environment_name_follows_from_it() {
        let keys = keys();
        assert!(keys.len() > 30, "{keys:?}");
        assert!(keys.contains(&"max_sessions") && keys.contains(&"session_cookie_secure"));
        for key in keys {
            let name = env_name(key);
            let err = settings(None, &[(&name, "\u{1}not a value")])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            // Every key is read from its variable: a value no reader accepts is refused by name.
            assert!(err.contains(&format!("{key} ({name})")), "{key}: {err}");
        }
    }

    /// The configuration table (`docs/configuration.md`) lists exactly the settings, with
    /// the right variables.
    #[test]
    fn the_documented_table_matches_the_settings() {
        let doc = include_str!("../../../docs/configuration.md");
        let section = doc
            .split("\n#")
            .next()
            .expect("the table before the first section of docs/configuration.md");
        let rows: Vec<(String, String)> = section
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let key = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                let env = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((key.to_owned(), env.to_owned()))
            })
            .collect();
        let mut listed: Vec<&str> = rows.iter().map(|(key, _)| key.as_str()).collect();
        listed.sort_unstable();
        let mut expected = keys().to_vec();
        expected.sort_unstable();
        assert_eq!(listed, expected, "documented rows against Settings");
        for (key, env) in &rows {
            assert_eq!(env, &env_name(key), "documented row {key}");
        }
    }
}
