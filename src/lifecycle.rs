//! When a live session stops being one: the one rule, for the per-request check (in Rust)
//! and for the purge (in SQL), so that the two can never disagree.
//!
//! A seat is expired at `now` when it was last seen more than the idle timeout ago, or opened
//! more than the absolute lifetime ago (ASVS 7.3.1, 7.3.2). Exactly at the limit it is still
//! live. [`Lifetimes::expired`] says it for one seat; [`EXPIRED_SQL`] with
//! [`Lifetimes::cutoffs`] says it in a query; a test checks that they agree.

use std::time::Duration;

use crate::clock::Millis;

/// How long a session may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Unused this long, a session ends (`session_idle_timeout`).
    pub idle: Duration,
    /// This long after the login, a session ends however active (`session_max_lifetime`).
    pub max: Duration,
}

impl Default for Lifetimes {
    /// 14 days unused, 30 days in all.
    fn default() -> Self {
        Lifetimes {
            idle: Duration::from_secs(14 * 24 * 3600),
            max: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// How often a live seat's last-seen time is written, by default: a minute.
pub const DEFAULT_TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// The condition for an expired seat, over the columns `last_seen_at` and `created_at`; its
/// two parameters are [`Lifetimes::cutoffs`], at the given positions `$2` and `$3` of the
/// statement it is used in.
pub const EXPIRED_SQL: &str = "(last_seen_at < $2 OR created_at < $3)";

impl Lifetimes {
    /// Whether a seat opened at `created_at` and last seen at `last_seen_at` has expired.
    pub fn expired(&self, created_at: Millis, last_seen_at: Millis, now: Millis) -> bool {
        let (seen_cutoff, created_cutoff) = self.cutoffs(now);
        last_seen_at < seen_cutoff || created_at < created_cutoff
    }

    /// The times before which a seat's last-seen time, or its opening, means it expired.
    pub fn cutoffs(&self, now: Millis) -> (Millis, Millis) {
        (now.minus(self.idle), now.minus(self.max))
    }
}
