//! Login throttling: after too many failed logins for one username from one client IP, further
//! attempts are refused for a while.
//!
//! Only failed logins count: a login refused or held by the session policy (`deny_new`,
//! `ask`) had the right password and is not a failure. Counts live in this process's memory;
//! with several server processes each counts its own share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failed logins allowed within `window` before the key is refused.
    pub max_failures: u32,
    pub window: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            max_failures: 10,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Most keys kept; beyond it the oldest windows are dropped first (a flood of random
/// usernames must not grow memory without bound).
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Default)]
pub struct Throttle {
    config: ThrottleConfig,
    failures: Mutex<HashMap<String, (Millis, u32)>>,
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Self {
        Throttle {
            config,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn key(username_key: &str, client_ip: Option<&str>) -> String {
        format!("{}\u{0}{}", client_ip.unwrap_or("-"), username_key)
    }

    /// `Some(wait)` while the key is refused.
    pub fn check(&self, username_key: &str, client_ip: Option<&str>, now: Millis) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (since, count) = *failures.get(&Self::key(username_key, client_ip))?;
        let until = since.plus(self.config.window);
        (count >= self.config.max_failures && now < until)
            .then(|| Duration::from_millis(u64::try_from(until.0 - now.0).unwrap_or(0)))
    }

    pub fn record_failure(&self, username_key: &str, client_ip: Option<&str>, now: Millis) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_KEYS {
            let cutoff = now.minus(self.config.window);
            failures.retain(|_, (since, _)| *since >= cutoff);
        }
        let entry = failures
            .entry(Self::key(username_key, client_ip))
            .or_insert((now, 0));
        if entry.0 < now.minus(self.config.window) {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// A successful login forgets the failures.
    pub fn record_success(&self, username_key: &str, client_ip: Option<&str>) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&Self::key(username_key, client_ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(ThrottleConfig {
            max_failures: 3,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn refuses_after_the_limit_until_the_window_passes() {
        let t = throttle();
        let now = Millis(1_000_000);
        for _ in 0..3 {
            assert_eq!(t.check("bob", Some("10.0.0.1"), now), None);
            t.record_failure("bob", Some("10.0.0.1"), now);
        }
        assert_eq!(
            t.check("bob", Some("10.0.0.1"), now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            t.check("bob", Some("10.0.0.1"), now.plus(Duration::from_secs(59))),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            t.check("bob", Some("10.0.0.1"), now.plus(Duration::from_secs(60))),
            None
        );
    }

    #[test]
    fn keys_are_per_username_and_ip() {
        let t = throttle();
        let now = Millis(0);
        for _ in 0..3 {
            t.record_failure("bob", Some("10.0.0.1"), now);
        }
        assert!(t.check("bob", Some("10.0.0.1"), now).is_some());
        assert!(t.check("bob", Some("10.0.0.2"), now).is_none());
        assert!(t.check("alice", Some("10.0.0.1"), now).is_none());
    }

    #[test]
    fn success_forgets_and_old_failures_expire() {
        let t = throttle();
        let now = Millis(0);
        t.record_failure("bob", None, now);
        t.record_failure("bob", None, now);
        t.record_success("bob", None);
        t.record_failure("bob", None, now);
        t.record_failure("bob", None, now);
        assert!(t.check("bob", None, now).is_none());
        t.record_failure("bob", None, now.plus(Duration::from_secs(61)));
        assert!(t.check("bob", None, now.plus(Duration::from_secs(61))).is_none());
    }
}
