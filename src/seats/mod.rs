//! The session-seat registry: one row per login, kept after it ends so that the browser it
//! belonged to can be told why, and the user can see the history.
//!
//! A seat is found by the SHA-256 of its session id. Its end is recorded here and nowhere else,
//! so no save of session data (a request that was in flight at the moment of the kick, say)
//! can bring an ended login back.

#[macro_use]
mod rows;
#[macro_use]
mod tx;
mod credentials;
#[macro_use]
mod limits;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::cache::StatusCache;
use crate::changes::{Notice, Notifier, Relay, RelayError, SeatChanges};
use crate::clock::Millis;
use crate::db::Db;
use crate::device::DeviceKind;
use crate::events::{counted, insert_events, By, EndedAs, EndedRow, EventType, NewEvent, RETURNING_ENDED};
use crate::lifecycle::{Lifetimes, EXPIRED_SQL};
use crate::on_pool;
use crate::policy::{self, Decision, NewLogin, Policy};
use crate::vocabulary::{CredentialEpoch, User, UserId};
pub use crate::vocabulary::{EndReason, EndedBy, SeatId};
pub use limits::{Group, LimitsChangeError, LimitsFor, LimitsFuture};
use rows::{policy_view, seat_info, EndRow, HistoryRow, SeatRow, StatusRow, END_USER_SEATS, LIVE_SEATS};

/// Longest user agent kept; the rest is cut (browsers send a few hundred bytes).
pub const MAX_USER_AGENT_CHARS: usize = 512;

/// The SHA-256 of a session id, hex-encoded: what the registry stores instead of the id.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionHash(String);

impl SessionHash {
    /// The hash of `session_id`.
    ///
    /// ```
    /// let hash = single_login::SessionHash::of("abc");
    /// assert_eq!(hash.as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /// ```
    pub fn of(session_id: &str) -> Self {
        SessionHash(crate::encoding::hex(&Sha256::digest(session_id.as_bytes())))
    }

    /// The 64 hex digits, as stored in `seats.session_hash`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short prefix, enough to follow one seat through the logs.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

impl fmt::Debug for SessionHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionHash({}…)", self.short())
    }
}

/// Where a login comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginContext {
    /// The client's IP address, if known.
    pub client_ip: Option<IpAddr>,
    /// The browser's `User-Agent`, cut to [`MAX_USER_AGENT_CHARS`] by [`LoginContext::new`].
    pub user_agent: Option<String>,
}

impl LoginContext {
    /// A context; the user agent is cut to [`MAX_USER_AGENT_CHARS`] characters.
    pub fn new(client_ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        LoginContext {
            client_ip,
            user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()),
        }
    }

    /// The kind of device the login comes from.
    pub fn kind(&self) -> DeviceKind {
        DeviceKind::of_user_agent(self.user_agent.as_deref())
    }

    /// The device the login comes from (its user agent read once).
    pub fn device(&self) -> crate::device::Device {
        crate::device::Device::of(self.user_agent.as_deref())
    }

    /// The login as the policy sees it.
    pub fn as_new_login(&self) -> NewLogin {
        NewLogin {
            client_ip: self.client_ip,
            kind: self.kind(),
        }
    }
}

/// One seat, live or ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatInfo {
    /// The seat's id in `seats`.
    pub id: SeatId,
    /// When the login opened the seat.
    pub created_at: Millis,
    /// When the seat was last used, to within the touch interval of [`Seats::check`].
    pub last_seen_at: Millis,
    /// The client's IP address at login, as text, if known.
    pub client_ip: Option<String>,
    /// The browser's `User-Agent` at login (cut), if it sent one.
    pub user_agent: Option<String>,
    /// The kind of device the login came from (from its user agent).
    pub kind: DeviceKind,
}

/// How and when a seat ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// When the seat ended.
    pub at: Millis,
    /// Why it ended.
    pub reason: EndReason,
    /// For `Replaced`: the login that took the seat, while it is still on record.
    pub replaced_by: Option<SeatInfo>,
    /// For `Revoked`: who ended it. `None` for every other reason.
    pub ended_by: Option<EndedBy>,
}

/// An ended seat, for the user's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedSeat {
    /// The seat as it was when it ended.
    pub seat: SeatInfo,
    /// How and when it ended.
    pub ended: Ended,
}

/// What the registry knows of the seat behind a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatStatus {
    /// The seat's id in `seats`.
    pub seat: SeatId,
    /// Whose seat it is.
    pub user: User,
    /// When the login opened the seat.
    pub created_at: Millis,
    /// When the seat was last used.
    pub last_seen_at: Millis,
    /// How the seat ended; `None` while it is live.
    pub ended: Option<Ended>,
}

/// What the per-request check found for a session ([`Seats::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// No seat has this session: it never logged in, or its record was purged.
    Unknown,
    /// The seat is live. `touched`: its last-seen time just moved forward, so the session's
    /// own expiry should slide along with it.
    Live {
        /// The seat and its user.
        status: SeatStatus,
        /// Whether this check moved the seat's last-seen time forward.
        touched: bool,
    },
    /// The seat has ended, and how (just now, if it had outlived [`Lifetimes`]).
    Ended {
        /// The seat and its user.
        status: SeatStatus,
        /// How and when the seat ended.
        ended: Ended,
    },
}

/// What became of [`Seats::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome {
    /// The new seat is open, and the seats the policy named have ended.
    Opened {
        /// The new seat.
        seat: SeatId,
        /// The seats ended to make room, each with its reason.
        ended: Vec<(SeatId, EndReason)>,
    },
    /// The policy (`deny_new`) refused the login: nothing was opened or ended.
    Denied {
        /// The active seats that hold the limit.
        blocking: Vec<SeatInfo>,
    },
    /// The policy (`ask`) leaves the user to choose which seats to end: nothing was opened
    /// or ended.
    Ask {
        /// The live seats the user may choose among.
        candidates: Vec<SeatInfo>,
    },
    /// The account was disabled, or its password changed, after this login checked it:
    /// nothing was opened.
    CredentialsChanged,
}

/// A change to an account's credentials, made with [`Seats::change_credentials`].
#[derive(Debug, Clone, Copy)]
pub enum CredentialChange<'a> {
    /// A new password hash, replacing the one checked at `verified`.
    Password {
        /// The new password's hash.
        hash: &'a crate::vocabulary::StoredHash,
        /// The epoch at which the current password was checked: if the account's has moved
        /// since, nothing changes.
        verified: CredentialEpoch,
    },
    /// The account can no longer log in.
    Disable,
    /// The account can log in again.
    Enable,
    /// Nothing about the credentials changes, but every session ends and logins under way
    /// or held by `ask` are void (an operator's sign-out).
    SignOut,
}

/// A query of the seat registry failed; the database's error is its source.
#[derive(Debug, thiserror::Error)]
#[error("the seat registry could not complete a query")]
pub struct RegistryError(#[from] sqlx::Error);

/// The session-seat registry: opens, checks and ends seats, and tells listeners of changes.
/// Cheap to clone: clones share the pool, the SQLite gate and the listeners.
#[derive(Debug, Clone)]
pub struct Seats {
    db: Db,
    /// Queues this process's SQLite logins before they reach the file lock. `BEGIN IMMEDIATE`
    /// alone is correct, but SQLite's busy handler backs off in growing sleeps, so fifty
    /// logins at once would wait far longer than their work takes.
    #[cfg(feature = "sqlite")]
    sqlite_gate: Arc<tokio::sync::Mutex<()>>,
    notifier: Notifier,
    /// What the per-request check remembers; forgotten by every change before it returns.
    cache: Arc<StatusCache<SessionHash, SeatStatus>>,
    /// The application's limits per user ([`Seats::with_limits_for`]).
    limits_for: Option<limits::Hook>,
}

impl Seats {
    /// A registry over `db` (migrated, see [`Db::migrate`]).
    pub fn new(db: Db) -> Self {
        Seats::with_cache(db, std::time::Duration::ZERO)
    }

    /// A registry whose per-request check ([`Seats::check`]) remembers live seats for up to
    /// `ttl`: exact within this process, and across processes bounded by the PostgreSQL
    /// notices and `ttl` (see [`crate::cache`]). Zero remembers nothing.
    pub fn with_cache(db: Db, ttl: std::time::Duration) -> Self {
        let cache = Arc::new(StatusCache::new(ttl));
        Seats {
            db,
            #[cfg(feature = "sqlite")]
            sqlite_gate: Arc::new(tokio::sync::Mutex::new(())),
            notifier: Notifier::new(cache.clone()),
            cache,
            limits_for: None,
        }
    }

    /// The database the registry keeps its seats in.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Listens for changes to seats (see [`crate::changes`]). Subscribe before reading the
    /// state, so that no change falls between the read and the wait.
    pub fn subscribe(&self) -> SeatChanges {
        self.notifier.subscribe()
    }

    /// Tells this process that seats of `users` changed: the check's cache forgets them at
    /// once, before the change's caller answers anyone, and on SQLite the listeners hear it.
    /// On PostgreSQL the listeners hear it otherwise: a trigger on `seats` sends `NOTIFY`
    /// inside the transaction that made the change (migration 0006), and every process's
    /// relay, this one's included, passes it on, so each listener hears it once, when it
    /// commits.
    async fn announce(&self, users: &[UserId]) {
        for user in users {
            match self.db {
                #[cfg(feature = "postgres")]
                Db::Postgres(_) => self.notifier.forget(Notice::User(*user)),
                #[cfg(feature = "sqlite")]
                Db::Sqlite(_) => self.notifier.send(Notice::User(*user)),
            }
        }
    }

    /// On PostgreSQL: starts listening for the seat changes announced by every process
    /// (this one included); [`Relay::run`] passes them to this process's listeners. `None` on
    /// SQLite, which has nothing to relay.
    pub async fn listen(&self) -> Result<Option<Relay>, RelayError> {
        match &self.db {
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => Relay::listen(pool, self.notifier.clone()).await.map(Some),
            #[cfg(feature = "sqlite")]
            Db::Sqlite(_) => Ok(None),
        }
    }

    /// Records a login: under the user's lock, asks the policy which seats to end, ends them
    /// and opens the new seat, all in one transaction. However many logins of one user run at
    /// once, in however many processes, each sees the seats the previous one left.
    ///
    /// `chosen` are seats the user picked to end (answering `OpenOutcome::Ask`); they end
    /// only if the login then gets in. The user's limits are read under the lock, from the
    /// first of their own, their group's, the application's ([`Seats::with_limits_for`]) and
    /// the policy's.
    ///
    /// `epoch` is the credential epoch the login's password check saw: when the account was
    /// disabled or its password changed since, nothing opens
    /// ([`OpenOutcome::CredentialsChanged`]).
    #[tracing::instrument(skip_all, fields(user = user.0, seat_hash = hash.short()))]
    pub async fn open(
        &self,
        user: UserId,
        epoch: CredentialEpoch,
        hash: &SessionHash,
        ctx: &LoginContext,
        policy: &Policy,
        chosen: &[SeatId],
    ) -> Result<OpenOutcome, RegistryError> {
        let now = Millis::now();
        let (outcome, events) = in_locked_tx!(self, tx, for_update => open_in_tx!(
            self,
            tx,
            &format!("SELECT limits, group_id, credential_epoch, disabled_at FROM single_login_users WHERE id = $1{for_update}"),
            user,
            epoch,
            hash,
            ctx,
            policy,
            chosen,
            now
        ));
        counted(&events);
        if matches!(outcome, OpenOutcome::Opened { .. }) {
            self.announce(&[user]).await;
        }
        Ok(outcome)
    }

    /// The per-request check, one indexed lookup in the common case: is the seat behind this
    /// session live at `now`? A seat past its [`Lifetimes`] is ended (`expired`) on the spot;
    /// a live one last seen more than `touch_interval` ago is touched.
    pub async fn check(
        &self,
        hash: &SessionHash,
        lifetimes: &Lifetimes,
        touch_interval: std::time::Duration,
        now: Millis,
    ) -> Result<Check, RegistryError> {
        let fresh = |status: &SeatStatus| {
            !lifetimes.expired(status.created_at, status.last_seen_at, now)
                && status.last_seen_at > now.minus(touch_interval)
        };
        if let Some(status) = self.cache.get(hash).filter(|status| fresh(status)) {
            return Ok(Check::Live {
                status,
                touched: false,
            });
        }
        let generation = self.cache.generation();
        let Some(mut status) = self.status(hash).await? else {
            return Ok(Check::Unknown);
        };
        if let Some(ended) = status.ended.clone() {
            return Ok(Check::Ended { status, ended });
        }
        if lifetimes.expired(status.created_at, status.last_seen_at, now) {
            self.end(status.seat, EndReason::Expired).await?;
            // Read again: a newer login may have ended it first, and its reason wins.
            return Ok(match self.status(hash).await? {
                Some(status) => match status.ended.clone() {
                    Some(ended) => Check::Ended { status, ended },
                    None => Check::Unknown,
                },
                None => Check::Unknown,
            });
        }
        let touched =
            status.last_seen_at <= now.minus(touch_interval) && self.touch(status.seat, now).await?;
        if touched {
            status.last_seen_at = now;
        }
        self.cache.put(hash, &status, status.user.id, generation);
        Ok(Check::Live { status, touched })
    }

    /// The seat behind a session, with its user and, if it ended, how: one lookup by the
    /// unique hash.
    pub async fn status(&self, hash: &SessionHash) -> Result<Option<SeatStatus>, RegistryError> {
        const SQL: &str = concat!(
            "SELECT s.id AS id, s.user_id AS user_id, u.username AS username, \
             s.created_at AS created_at, s.last_seen_at AS last_seen_at, ",
            end_columns!(),
            " FROM single_login_seats s JOIN single_login_users u ON u.id = s.user_id \
              LEFT JOIN single_login_seats r ON r.id = s.replaced_by \
              WHERE s.session_hash = $1"
        );
        let row = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, StatusRow>(SQL)
                .bind(hash.as_str())
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(|row| SeatStatus {
            seat: SeatId(row.id),
            user: User {
                id: UserId(row.user_id),
                username: row.username,
            },
            created_at: Millis(row.created_at),
            last_seen_at: Millis(row.last_seen_at),
            ended: row.end.ended(),
        }))
    }

    /// Moves a live seat to a new session id (its session was given a fresh id). The old
    /// id finds no seat from then on. Returns false when the seat is no longer live.
    pub async fn rekey(&self, seat: SeatId, hash: &SessionHash) -> Result<bool, RegistryError> {
        let user = on_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, i64>(
                "UPDATE single_login_seats SET session_hash = $1 WHERE id = $2 AND ended_at IS NULL RETURNING user_id",
            )
            .bind(hash.as_str())
            .bind(seat.0)
            .fetch_optional(pool)
            .await?
        });
        // The old id must find nothing from now on, in the cache either.
        if let Some(user) = user {
            self.notifier.forget(Notice::User(UserId(user)));
        }
        Ok(user.is_some())
    }

    /// Moves a live seat's last-seen time forward. Returns whether a row changed.
    pub async fn touch(&self, seat: SeatId, now: Millis) -> Result<bool, RegistryError> {
        let done = on_pool!(&self.db, pool => {
            sqlx::query("UPDATE single_login_seats SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL AND last_seen_at < $1")
                .bind(now.0)
                .bind(seat.0)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Ends one live seat (`expired` by single-login, or `logged_out` by itself). Returns
    /// false when it had already ended: the first end wins.
    pub async fn end(&self, seat: SeatId, reason: EndReason) -> Result<bool, RegistryError> {
        let now = Millis::now();
        let by = if reason == EndReason::Expired {
            By::System
        } else {
            By::Seat(seat)
        };
        let rows = end_and_record!(
            self,
            "UPDATE single_login_seats SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL",
            [now.0, reason.as_str(), seat.0],
            now,
            |row| NewEvent::ended(row, EndedAs::of(reason, None), by)
        );
        self.announce_rows(&rows).await;
        Ok(!rows.is_empty())
    }

    /// The user's live seats, oldest first.
    pub async fn live(&self, user: UserId) -> Result<Vec<SeatInfo>, RegistryError> {
        let rows = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, SeatRow>(LIVE_SEATS).bind(user.0).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(seat_info).collect())
    }

    /// How many seats are live now, by device kind (seats from before kinds count as
    /// `other`): one indexed count, for the metrics.
    pub async fn live_counts(&self) -> Result<Vec<(DeviceKind, u64)>, RegistryError> {
        let rows = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, (Option<String>, i64)>(
                "SELECT kind, COUNT(*) FROM single_login_seats WHERE ended_at IS NULL GROUP BY kind",
            )
            .fetch_all(pool)
            .await?
        });
        let mut counts: Vec<(DeviceKind, u64)> = Vec::new();
        for (kind, n) in rows {
            let kind = kind
                .as_deref()
                .and_then(DeviceKind::parse)
                .unwrap_or(DeviceKind::Other);
            let n = u64::try_from(n).unwrap_or(0);
            match counts.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, total)) => *total += n,
                None => counts.push((kind, n)),
            }
        }
        Ok(counts)
    }

    /// When a live seat was opened; `None` once it has ended.
    pub async fn live_since(&self, seat: SeatId) -> Result<Option<Millis>, RegistryError> {
        let opened = on_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, i64>("SELECT created_at FROM single_login_seats WHERE id = $1 AND ended_at IS NULL")
                .bind(seat.0)
                .fetch_optional(pool)
                .await?
        });
        Ok(opened.map(Millis))
    }

    /// How a seat ended, with its user; `None` while it is live or once it is purged. For a
    /// browser that was told which of its seats ended (a signed value), not for a session.
    pub async fn ended(&self, seat: SeatId) -> Result<Option<(UserId, Ended)>, RegistryError> {
        const SQL: &str = concat!(
            "SELECT s.user_id AS user_id, ",
            end_columns!(),
            " FROM single_login_seats s LEFT JOIN single_login_seats r ON r.id = s.replaced_by WHERE s.id = $1"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            user_id: i64,
            #[sqlx(flatten)]
            end: EndRow,
        }
        let row = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, Row>(SQL).bind(seat.0).fetch_optional(pool).await?
        });
        Ok(row.and_then(|row| Some((UserId(row.user_id), row.end.ended()?))))
    }

    /// Ends, with `reason`, every live seat of `user` but `except`; returns how many. `by`
    /// says who, for a `Revoked` end.
    pub async fn end_all(
        &self,
        user: UserId,
        reason: EndReason,
        except: Option<SeatId>,
        by: EndedBy,
    ) -> Result<u64, RegistryError> {
        let now = Millis::now();
        let rows = end_and_record!(
            self,
            END_USER_SEATS,
            [
                now.0,
                reason.as_str(),
                by.stored(),
                user.0,
                except.map_or(-1, |s| s.0)
            ],
            now,
            |row| NewEvent::ended(row, EndedAs::of(reason, Some(by)), By::of(by))
        );
        self.announce_rows(&rows).await;
        Ok(rows.len() as u64)
    }

    /// Ends one live seat of `user` (and no one else's), from the user's session `by`.
    /// Returns false when there is no such live seat.
    pub async fn end_own(
        &self,
        user: UserId,
        seat: SeatId,
        reason: EndReason,
        by: SeatId,
    ) -> Result<bool, RegistryError> {
        let now = Millis::now();
        let rows = end_and_record!(
            self,
            "UPDATE single_login_seats SET ended_at = $1, end_reason = $2, ended_by = $3 \
             WHERE id = $4 AND user_id = $5 AND ended_at IS NULL",
            [now.0, reason.as_str(), by.0, seat.0, user.0],
            now,
            |row| NewEvent::ended(row, EndedAs::of(reason, Some(EndedBy::Session(by))), By::Seat(by))
        );
        self.announce_rows(&rows).await;
        Ok(!rows.is_empty())
    }

    /// Ends one live seat of `user` on an operator's behalf (reason `revoked`, told as
    /// "signed out by an administrator"), recording `by` (an administrator) in its event.
    /// Returns false when there is no such live seat.
    pub async fn end_for_operator(&self, user: UserId, seat: SeatId, by: By) -> Result<bool, RegistryError> {
        let now = Millis::now();
        let rows = end_and_record!(
            self,
            "UPDATE single_login_seats SET ended_at = $1, end_reason = 'revoked', ended_by = NULL \
             WHERE id = $2 AND user_id = $3 AND ended_at IS NULL",
            [now.0, seat.0, user.0],
            now,
            |row| NewEvent::ended(row, EndedAs::Operator, by)
        );
        self.announce_rows(&rows).await;
        Ok(!rows.is_empty())
    }

    /// Announces the users of seats that just ended.
    async fn announce_rows(&self, rows: &[EndedRow]) {
        let mut users: Vec<UserId> = rows.iter().map(|row| UserId(row.1)).collect();
        users.sort_unstable_by_key(|user| user.0);
        users.dedup();
        self.announce(&users).await;
    }

    /// The user's most recently ended seats, newest first.
    pub async fn history(&self, user: UserId, limit: u32) -> Result<Vec<EndedSeat>, RegistryError> {
        const SQL: &str = concat!(
            "SELECT s.id AS id, s.created_at AS created_at, s.last_seen_at AS last_seen_at, \
                    s.client_ip AS client_ip, s.user_agent AS user_agent, s.kind AS kind, ",
            end_columns!(),
            " FROM single_login_seats s LEFT JOIN single_login_seats r ON r.id = s.replaced_by \
              WHERE s.user_id = $1 AND s.ended_at IS NOT NULL \
              ORDER BY s.ended_at DESC, s.id DESC LIMIT $2"
        );
        let rows = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, HistoryRow>(SQL)
                .bind(user.0)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(EndedSeat {
                    seat: seat_info((
                        row.id,
                        row.created_at,
                        row.last_seen_at,
                        row.client_ip,
                        row.user_agent,
                        row.kind,
                    )),
                    ended: row.end.ended()?,
                })
            })
            .collect())
    }

    /// Ends, with reason `expired`, every live seat that [`Lifetimes`] says has expired at
    /// `now`.
    pub async fn expire(&self, lifetimes: &Lifetimes, now: Millis) -> Result<u64, RegistryError> {
        let (seen_cutoff, created_cutoff) = lifetimes.cutoffs(now);
        let sql = format!(
            "UPDATE single_login_seats SET ended_at = $1, end_reason = 'expired' \
             WHERE ended_at IS NULL AND {EXPIRED_SQL}"
        );
        let rows = end_and_record!(self, sql, [now.0, seen_cutoff.0, created_cutoff.0], now, |row| {
            NewEvent::ended(row, EndedAs::Expired, By::System)
        });
        self.announce_rows(&rows).await;
        Ok(rows.len() as u64)
    }

    /// Deletes seats that ended before `ended_before`, in batches of [`PURGE_BATCH`] (each
    /// its own statement, so SQLite's write lock is let go between them and logins go on).
    /// The keys that point at a deleted seat (`replaced_by`, `ended_by`) are indexed, so
    /// each batch costs its own size, not the table's.
    pub async fn purge_ended(&self, ended_before: Millis) -> Result<u64, RegistryError> {
        let mut purged = 0;
        loop {
            let deleted = on_pool!(&self.db, pool => {
                sqlx::query(
                    "DELETE FROM single_login_seats WHERE id IN (SELECT id FROM single_login_seats \
                     WHERE ended_at IS NOT NULL AND ended_at < $1 LIMIT $2)",
                )
                .bind(ended_before.0)
                .bind(PURGE_BATCH)
                .execute(pool)
                .await?
                .rows_affected()
            });
            purged += deleted;
            if deleted < PURGE_BATCH as u64 {
                return Ok(purged);
            }
            tokio::task::yield_now().await;
        }
    }
}

/// Ended seats deleted per statement by [`Seats::purge_ended`].
pub const PURGE_BATCH: i64 = 5_000;
