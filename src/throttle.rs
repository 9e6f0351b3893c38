//! Login throttling: after too many failed logins for one username from one client IP, further
//! attempts are refused for a while.
//!
//! Only failed logins count: a login refused or held by the session policy (`deny_new`,
//! `ask`) had the right password and is not a failure. The counts live in the database, so
//! every server process sharing it enforces one limit (with counts in memory, each of N
//! processes would allow its own share). A count is keyed by the SHA-256 of the client IP and
//! the username key: the table names nobody.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::clock::Millis;
use crate::db::Db;
use crate::on_pool;

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

#[derive(Debug, Clone)]
pub struct Throttle {
    db: Db,
    config: ThrottleConfig,
}

impl Throttle {
    pub fn new(db: Db, config: ThrottleConfig) -> Self {
        Throttle { db, config }
    }

    fn key(username_key: &str, client_ip: Option<&str>) -> String {
        let mut hasher = Sha256::new();
        hasher.update(client_ip.unwrap_or("-").as_bytes());
        hasher.update([0]);
        hasher.update(username_key.as_bytes());
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `Some(wait)` while the key is refused.
    pub async fn check(
        &self,
        username_key: &str,
        client_ip: Option<&str>,
        now: Millis,
    ) -> Result<Option<Duration>, sqlx::Error> {
        let row = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, (i64, i64)>("SELECT window_start, failures FROM login_failures WHERE key = $1")
                .bind(Self::key(username_key, client_ip))
                .fetch_optional(pool)
                .await?
        });
        let Some((since, count)) = row else {
            return Ok(None);
        };
        let until = Millis(since).plus(self.config.window);
        Ok((count >= i64::from(self.config.max_failures) && now < until)
            .then(|| Duration::from_millis(u64::try_from(until.0 - now.0).unwrap_or(0))))
    }

    /// Counts one failed login; a window that has passed starts again. One statement, so
    /// failures arriving at once in several processes all count.
    pub async fn record_failure(
        &self,
        username_key: &str,
        client_ip: Option<&str>,
        now: Millis,
    ) -> Result<(), sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO login_failures (key, window_start, failures) VALUES ($1, $2, 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                   failures = CASE WHEN login_failures.window_start < $3 THEN 1 \
                                   ELSE login_failures.failures + 1 END, \
                   window_start = CASE WHEN login_failures.window_start < $3 THEN $2 \
                                       ELSE login_failures.window_start END",
            )
            .bind(Self::key(username_key, client_ip))
            .bind(now.0)
            .bind(now.minus(self.config.window).0)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    /// A successful login forgets the failures.
    pub async fn record_success(
        &self,
        username_key: &str,
        client_ip: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM login_failures WHERE key = $1")
                .bind(Self::key(username_key, client_ip))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Deletes counts whose window has passed; returns how many.
    pub async fn purge(&self, now: Millis) -> Result<u64, sqlx::Error> {
        Ok(on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM login_failures WHERE window_start < $1")
                .bind(now.minus(self.config.window).0)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}
