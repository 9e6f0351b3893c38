//! Word that a user's seats changed, for the pages that keep a live channel open: the core's
//! layer of the live channel. The host serves it to browsers as server-sent events
//! (`server/src/live/`, which subscribes here through [`crate::Seats::subscribe`]); the page
//! listens with an `EventSource` (`app/src/components/live.rs`).
//!
//! On SQLite the registry tells this process's listeners directly. On PostgreSQL a trigger on
//! `seats` sends `NOTIFY` on [`NOTIFY_CHANNEL`] inside the transaction that makes the change
//! (so the notice commits with it, and a rolled-back change sends none), and each process,
//! the one that made the change included, relays what it hears ([`crate::Seats::listen`]),
//! so every listener hears each change once. SQLite has
//! no channel between processes: a change made by another process (the operator CLI, say) is
//! seen at the listener's next periodic re-read. A notice only says "look again": the
//! registry stays the one source of truth, so a lost, late or repeated notice costs a
//! lookup, never a wrong answer.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::cache::Forget;
use crate::vocabulary::UserId;

/// The PostgreSQL `LISTEN`/`NOTIFY` channel; the payload is a comma-separated list of user
/// ids, each with `@` and the time of the change in milliseconds (migration 0003).
pub const NOTIFY_CHANNEL: &str = "single_login_seats";

/// How many notices a slow listener may fall behind before it is told to re-read everything.
const BACKLOG: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    User(UserId),
    /// Notices may have been missed (a dropped database connection): everyone re-reads.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Everyone,
}

/// Passes notices to this process's listeners, and first to the per-request check's cache,
/// which forgets what they make stale.
#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    sender: broadcast::Sender<Notice>,
    cache: Arc<dyn Forget>,
}

impl Notifier {
    pub(crate) fn new(cache: Arc<dyn Forget>) -> Self {
        Notifier {
            sender: broadcast::channel(BACKLOG).0,
            cache,
        }
    }

    pub(crate) fn send(&self, notice: Notice) {
        self.forget(notice);
        // No receivers is the common case (no page open), not an error.
        let _ = self.sender.send(notice);
    }

    /// Tells the cache alone (the listeners hear of it otherwise).
    pub(crate) fn forget(&self, notice: Notice) {
        match notice {
            Notice::User(user) => self.cache.forget(&[user]),
            Notice::Everyone => self.cache.forget_all(),
        }
    }

    pub(crate) fn subscribe(&self) -> SeatChanges {
        SeatChanges {
            receiver: self.sender.subscribe(),
        }
    }
}

/// One listener's view of the notices: subscribe first, then read the state, then wait.
pub struct SeatChanges {
    receiver: broadcast::Receiver<Notice>,
}

/// What woke a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A change to this user's seats.
    Mine,
    /// Every listener should re-read (notices may have been missed): all of them wake at
    /// once.
    Everyone,
}

impl SeatChanges {
    /// Returns once the seats of `user` may have changed. Also returns when notices may have
    /// been missed, since re-reading is always safe.
    pub async fn changed(&mut self, user: UserId) -> Heard {
        loop {
            match self.receiver.recv().await {
                Ok(Notice::User(id)) if id == user => return Heard::Mine,
                Ok(Notice::User(_)) => {}
                Ok(Notice::Everyone) | Err(broadcast::error::RecvError::Lagged(_)) => return Heard::Everyone,
                // The registry is gone; nothing will ever change again.
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }
}

/// The relay could not listen, or its connection failed for good; the database's error is
/// its source.
#[derive(Debug, thiserror::Error)]
#[error("the seat-change relay lost its database connection")]
pub struct RelayError(#[from] sqlx::Error);

/// A listening PostgreSQL connection, from [`crate::Seats::listen`]: the half of the feed that
/// crosses processes. The trigger of migration `postgres/0006` is the other half.
pub struct Relay {
    #[cfg(feature = "postgres")]
    listener: sqlx::postgres::PgListener,
    notifier: Notifier,
    /// Without PostgreSQL there is no relay to make: the type exists, with no value.
    #[cfg(not(feature = "postgres"))]
    never: std::convert::Infallible,
}

#[cfg(not(feature = "postgres"))]
impl Relay {
    /// Never called: no relay exists in a build without PostgreSQL.
    pub async fn run(self) -> Result<(), RelayError> {
        let _ = self.notifier;
        match self.never {}
    }
}

#[cfg(feature = "postgres")]
impl Relay {
    /// Listens on [`NOTIFY_CHANNEL`]. Listeners are told to re-read once it listens, for what
    /// was said while it did not.
    pub(crate) async fn listen(pool: &sqlx::PgPool, notifier: Notifier) -> Result<Relay, RelayError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        notifier.send(Notice::Everyone);
        Ok(Relay { listener, notifier })
    }

    /// Passes every notice on until the connection fails for good (a lost connection is
    /// re-established by itself, and then everyone re-reads).
    pub async fn run(mut self) -> Result<(), RelayError> {
        loop {
            match self.listener.try_recv().await? {
                Some(notification) => {
                    let now = crate::clock::Millis::now();
                    for (user, at) in parse_payload(notification.payload()) {
                        self.notifier.send(Notice::User(user));
                        if let Some(at) = at {
                            let lag = (now.0 - at).max(0) as f64 / 1000.0;
                            metrics::histogram!("single_login_relay_lag_seconds").record(lag);
                        }
                    }
                }
                // Reconnected after a lost connection: what was said meanwhile is lost.
                None => self.notifier.send(Notice::Everyone),
            }
        }
    }
}

/// Parses a `NOTIFY` payload; ids that do not parse are skipped.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn parse_payload(payload: &str) -> impl Iterator<Item = (UserId, Option<i64>)> + '_ {
    payload.split(',').filter_map(|entry| {
        let (id, at) = match entry.split_once('@') {
            Some((id, at)) => (id, at.trim().parse::<i64>().ok()),
            None => (entry, None),
        };
        Some((UserId(id.trim().parse::<i64>().ok()?), at))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn payloads_parse_and_skip_junk() {
        let ids: Vec<_> = parse_payload("1, 22,x,,333@1700000000000,4@x").collect();
        assert_eq!(
            ids,
            vec![
                (UserId(1), None),
                (UserId(22), None),
                (UserId(333), Some(1_700_000_000_000)),
                (UserId(4), None)
            ]
        );
    }

    #[tokio::test]
    async fn a_listener_wakes_for_its_user_only() {
        let notifier = Notifier::new(Arc::new(crate::cache::StatusCache::<u8, u8>::new(Duration::ZERO)));
        let mut changes = notifier.subscribe();
        notifier.send(Notice::User(UserId(2)));
        let waited = tokio::time::timeout(Duration::from_millis(50), changes.changed(UserId(1))).await;
        assert!(
            waited.is_err(),
            "another user's notice must not wake the listener"
        );
        notifier.send(Notice::User(UserId(1)));
        tokio::time::timeout(Duration::from_secs(5), changes.changed(UserId(1)))
            .await
            .expect("its own user's notice wakes it");
    }

    #[tokio::test]
    async fn a_listener_that_fell_behind_wakes_to_re_read() {
        let notifier = Notifier::new(Arc::new(crate::cache::StatusCache::<u8, u8>::new(Duration::ZERO)));
        let mut changes = notifier.subscribe();
        for _ in 0..=BACKLOG {
            notifier.send(Notice::User(UserId(9)));
        }
        tokio::time::timeout(Duration::from_secs(5), changes.changed(UserId(1)))
            .await
            .expect("a lagging listener must re-read");
        notifier.send(Notice::Everyone);
        tokio::time::timeout(Duration::from_secs(5), changes.changed(UserId(1)))
            .await
            .expect("`Everyone` wakes every listener");
    }
}
