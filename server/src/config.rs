//! Typed configuration from the environment, validated at start with a message that names
//! the bad setting. No secret is ever printed.

use std::net::SocketAddr;
use std::time::Duration;

use leptos::config::LeptosOptions;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/single-login.db";

#[derive(Debug, Clone)]
pub struct Config {
    pub leptos: LeptosOptions,
    pub database_url: String,
    pub settings: Settings,
}

/// Behaviour of the session machinery.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `Secure` flag on the session cookie.
    pub cookie_secure: bool,
    /// A session unused for this long ends (its seat with reason `expired`).
    pub session_idle_timeout: Duration,
    /// How often a live seat's last-seen time (and the session's expiry) moves forward.
    pub touch_interval: Duration,
    /// How long ended seats stay on record.
    pub seat_retention: Duration,
    /// How often expired sessions and old seats are purged.
    pub purge_interval: Duration,
}

impl Settings {
    /// Defaults for a server on `addr`: the cookie is `Secure` unless it serves plain-http
    /// loopback (development, tests).
    pub fn defaults_for(addr: SocketAddr) -> Self {
        Settings {
            cookie_secure: !addr.ip().is_loopback(),
            session_idle_timeout: Duration::from_secs(14 * 24 * 3600),
            touch_interval: Duration::from_secs(60),
            seat_retention: Duration::from_secs(30 * 24 * 3600),
            purge_interval: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid setting {name}={value:?}: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("could not read the Leptos settings (LEPTOS_*)")]
    Leptos(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        let mut leptos = leptos::config::get_configuration(None)
            .map_err(|e| ConfigError::Leptos(Box::new(e)))?
            .leptos_options;
        // Built by plain cargo (not cargo-leptos), the name is not compiled in.
        if leptos.output_name.is_empty() {
            leptos.output_name = "single-login".into();
        }
        let database_url = env("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                value: redact_url(&database_url),
                reason: "expected a sqlite: or postgres:// URL".into(),
            });
        }
        let mut settings = Settings::defaults_for(leptos.site_addr);
        if let Some(value) = env("SESSION_COOKIE_SECURE") {
            settings.cookie_secure = parse_bool("SESSION_COOKIE_SECURE", &value)?;
        }
        let durations: [(&'static str, &mut Duration); 4] = [
            ("SESSION_IDLE_TIMEOUT", &mut settings.session_idle_timeout),
            ("SEAT_TOUCH_INTERVAL", &mut settings.touch_interval),
            ("SEAT_RETENTION", &mut settings.seat_retention),
            ("PURGE_INTERVAL", &mut settings.purge_interval),
        ];
        for (name, slot) in durations {
            if let Some(value) = env(name) {
                *slot = parse_duration(&value).map_err(|reason| ConfigError::Invalid {
                    name,
                    value: value.clone(),
                    reason,
                })?;
            }
        }
        if settings.purge_interval.is_zero() {
            return Err(ConfigError::Invalid {
                name: "PURGE_INTERVAL",
                value: "0".into(),
                reason: "must be longer than zero".into(),
            });
        }
        Ok(Config {
            leptos,
            database_url,
            settings,
        })
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            name,
            value: value.to_owned(),
            reason: "expected true or false".into(),
        }),
    }
}

/// `90s`, `30m`, `12h`, `30d`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
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

/// A database URL fit for logs: the password replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
