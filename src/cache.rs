//! What the per-request check remembers of live seats, so that most requests of a signed-in
//! browser cost a map lookup instead of a query ([`crate::Seats::check`]).
//!
//! The guarantee, and why it holds:
//! - **Within one process, exact.** Every change the registry makes to a seat forgets that
//!   user's entries before the call that made it returns ([`crate::Seats`]'s `announce`), so
//!   once a kicking login has answered, no request of the kicked session is served from
//!   here. A read that raced a change cannot store what it read: each change moves a
//!   generation on, and an entry read under an older generation is dropped.
//! - **Across processes, bounded.** On PostgreSQL, another process's change arrives as a
//!   notice ([`crate::changes`]) and forgets the user here too, typically within
//!   milliseconds; a notice lost with a dropped connection forgets everything on reconnect.
//!   Whatever no notice reached (SQLite has none between processes: the operator's CLI, say)
//!   is re-read once an entry is older than its time to live.
//! - Only live seats are kept; ended ones, expired ones and those due for a touch always go
//!   to the database.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::vocabulary::UserId;

/// The most entries kept; beyond, the stale ones go, and if none is stale, all of them.
const MAX_ENTRIES: usize = 200_000;

/// What a change makes stale: told by the registry and by the notices.
pub(crate) trait Forget: std::fmt::Debug + Send + Sync {
    /// Forgets every entry of these users: their seats changed.
    fn forget(&self, users: &[UserId]);
    /// Forgets everything: changes may have gone unheard.
    fn forget_all(&self);
}

/// Values (a seat's status) by key (its session hash), each with the user it belongs to, for
/// at most `ttl`.
#[derive(Debug)]
pub(crate) struct StatusCache<K, V> {
    ttl: Duration,
    inner: Mutex<Inner<K, V>>,
}

#[derive(Debug)]
struct Inner<K, V> {
    /// Moves on with every change: a read that began under an older one is not stored.
    generation: u64,
    entries: HashMap<K, (V, UserId, Instant)>,
    by_user: HashMap<UserId, HashSet<K>>,
}

impl<K: Hash + Eq + Clone, V: Clone> StatusCache<K, V> {
    /// A cache whose entries live `ttl`; zero keeps nothing.
    pub(crate) fn new(ttl: Duration) -> Self {
        StatusCache {
            ttl,
            inner: Mutex::new(Inner {
                generation: 0,
                entries: HashMap::new(),
                by_user: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // The map holds no invariant a panic elsewhere could break half-way.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value remembered for `key`, if read less than the time to live ago.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let inner = self.lock();
        let (value, _, read_at) = inner.entries.get(key)?;
        (read_at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Where a read begins: hand it back to [`StatusCache::put`].
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Remembers a value of `user` read from the database, unless something changed since
    /// the read began (`generation`).
    pub(crate) fn put(&self, key: &K, value: &V, user: UserId, generation: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            inner.entries.retain(|_, (_, _, read_at)| read_at.elapsed() < ttl);
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
            let Inner { entries, by_user, .. } = &mut *inner;
            by_user.retain(|_, hashes| {
                hashes.retain(|hash| entries.contains_key(hash));
                !hashes.is_empty()
            });
        }
        inner
            .entries
            .insert(key.clone(), (value.clone(), user, Instant::now()));
        inner.by_user.entry(user).or_default().insert(key.clone());
    }
}

impl<K, V> Forget for StatusCache<K, V>
where
    K: Hash + Eq + Clone + std::fmt::Debug + Send,
    V: Clone + std::fmt::Debug + Send,
{
    fn forget(&self, users: &[UserId]) {
        let mut inner = self.lock();
        inner.generation += 1;
        for user in users {
            if let Some(hashes) = inner.by_user.remove(user) {
                for hash in hashes {
                    inner.entries.remove(&hash);
                }
            }
        }
    }

    fn forget_all(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.clear();
        inner.by_user.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Cache = StatusCache<&'static str, i64>;

    #[test]
    fn a_change_forgets_its_user_only() {
        let cache = Cache::new(Duration::from_secs(60));
        cache.put(&"a", &10, UserId(1), cache.generation());
        cache.put(&"b", &20, UserId(2), cache.generation());
        cache.forget(&[UserId(1)]);
        assert_eq!(cache.get(&"a"), None);
        assert_eq!(cache.get(&"b"), Some(20));
        cache.forget_all();
        assert_eq!(cache.get(&"b"), None);
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_kept() {
        let cache = Cache::new(Duration::from_secs(60));
        let before = cache.generation();
        cache.forget(&[UserId(9)]);
        cache.put(&"a", &10, UserId(1), before);
        assert_eq!(cache.get(&"a"), None);
    }

    #[test]
    fn entries_expire_and_zero_keeps_nothing() {
        let cache = Cache::new(Duration::from_millis(20));
        cache.put(&"a", &10, UserId(1), cache.generation());
        assert!(cache.get(&"a").is_some());
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cache.get(&"a"), None);
        let off = Cache::new(Duration::ZERO);
        off.put(&"a", &10, UserId(1), off.generation());
        assert_eq!(off.get(&"a"), None);
    }
}
