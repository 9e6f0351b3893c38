//! Wall-clock time as milliseconds since the Unix epoch: one integer type that both SQLite and
//! PostgreSQL store, compare and index the same way.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Millis(pub i64);

impl Millis {
    /// The current wall-clock time (0 if the system clock is before 1970).
    pub fn now() -> Self {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Millis(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }

    /// The time `duration` earlier, saturating instead of overflowing.
    pub fn minus(self, duration: std::time::Duration) -> Self {
        let ms = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Millis(self.0.saturating_sub(ms))
    }

    /// The time `duration` later, saturating instead of overflowing.
    pub fn plus(self, duration: std::time::Duration) -> Self {
        let ms = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Millis(self.0.saturating_add(ms))
    }
}
