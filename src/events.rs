//! Session events: one vocabulary for the audit trail, the application's subscription, the
//! metrics and the webhooks.
//!
//! Every event is written to an outbox table (`single_login_events`) in the transaction of
//! the change it describes: it exists exactly when its change committed, on both databases
//! and across processes. Each event says what happened, when, to which user and seat, from
//! which device kind, client network (an IPv4 /24, an IPv6 /48) and browser, and never a
//! password, session id or cookie. The names follow the OWASP logging vocabulary
//! (`authn_login_success`… become `session_opened`, `login_failed`…) where it has one.
//!
//! [`Events`] reads them back: [`Events::subscribe`] is an async stream in which every
//! process sees every event once, [`Events::export`] a time range for an audit, and
//! [`Events::reader`] a durable reader that resumes where it stopped (the webhooks).

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use crate::clock::Millis;
use crate::db::Db;
use crate::device::{Device, DeviceKind};
use crate::on_pool;
use crate::vocabulary::{text_enum, EndReason, EndedBy, SeatId, UserId};

text_enum! {
    /// What happened.
    pub enum EventType {
        /// A login opened a session (OWASP `authn_login_success`).
        SessionOpened = "session_opened",
        /// A session ended; [`Event::reason`] says why.
        SessionEnded = "session_ended",
        /// A correct login was refused at the limit (`deny_new`).
        LoginDenied = "login_denied",
        /// A correct login waits for the user's choice of sessions to end (`ask`).
        LoginHeld = "login_held",
        /// A wrong password for an existing account (OWASP `authn_login_fail`).
        LoginFailed = "login_failed",
        /// A password check refused by the throttle before it ran (OWASP
        /// `authn_login_lock`), once per client network and window.
        AttemptThrottled = "attempt_throttled",
        /// A signed-in user confirmed their password again.
        Reauthenticated = "reauthenticated",
        /// The account's password changed (OWASP `authn_password_change`).
        CredentialsChanged = "credentials_changed",
        /// An operator disabled the account (OWASP `user_updated`).
        AccountDisabled = "account_disabled",
        /// An administrator acted from the console (OWASP `authz_admin`); [`Event::action`]
        /// says what, [`Event::by`] who (`admin:ID`), [`Event::user`] to whom.
        AdminAction = "admin_action",
    }
}

text_enum! {
    /// Why a session ended, as events tell it: finer than the registry's [`EndReason`].
    pub enum EndedAs {
        /// A newer login of the same user took its place.
        Replaced = "replaced",
        /// The user logged out.
        LoggedOut = "logged_out",
        /// Ended by the user from another of their sessions (or by itself, after too many
        /// wrong password confirmations).
        Revoked = "revoked",
        /// Unused for too long, or too old.
        Expired = "expired",
        /// Ended by an operator (a sign-out, a disabled account).
        Operator = "operator",
        /// The user's session limit was lowered.
        LimitLowered = "limit_lowered",
        /// The account's password changed.
        CredentialsChanged = "credentials_changed",
    }
}

impl EndedAs {
    /// How a seat that ended with `reason`, by `by`, is told.
    pub fn of(reason: EndReason, by: Option<EndedBy>) -> EndedAs {
        match (reason, by) {
            (EndReason::Replaced, _) => EndedAs::Replaced,
            (EndReason::LoggedOut, _) => EndedAs::LoggedOut,
            (EndReason::Revoked, Some(EndedBy::Operator)) => EndedAs::Operator,
            (EndReason::Revoked, _) => EndedAs::Revoked,
            (EndReason::Expired, _) => EndedAs::Expired,
            (EndReason::LimitLowered, _) => EndedAs::LimitLowered,
        }
    }
}

/// Who caused an event, as [`Event::by`] writes it: `seat:ID` (a session of the user: the
/// newer login, the session that signed another out), `operator`, or `system` (expiry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// A session of the user.
    Seat(SeatId),
    /// An operator or the application on their behalf.
    Operator,
    /// single-login itself (expiry).
    System,
    /// An administrator, from the console.
    Admin(UserId),
}

impl By {
    /// Who ended a seat on purpose, as events name it.
    pub(crate) fn of(by: EndedBy) -> By {
        match by {
            EndedBy::Session(seat) => By::Seat(seat),
            EndedBy::Operator => By::Operator,
        }
    }

    fn text(self) -> String {
        match self {
            By::Seat(seat) => format!("seat:{}", seat.0),
            By::Operator => "operator".to_owned(),
            By::System => "system".to_owned(),
            By::Admin(user) => format!("admin:{}", user.0),
        }
    }
}

/// One event as stored and sent (JSON: one object per event, these field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// A stable, unique id (`evt_` and 32 hex digits): the webhooks' `webhook-id`, and what a
    /// receiver de-duplicates by.
    pub id: String,
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
    /// What happened.
    #[serde(rename = "type")]
    pub event: EventType,
    /// The user it happened to, if known.
    pub user: Option<i64>,
    /// The seat (session) it happened to, if any.
    pub seat: Option<i64>,
    /// The device kind of that seat, or of the login.
    pub device: Option<DeviceKind>,
    /// The client's network: an IPv4 /24 or an IPv6 /48, never the full address.
    pub network: Option<String>,
    /// The browser and system ("Chrome on Linux"), never the raw user agent.
    pub agent: Option<String>,
    /// For `session_ended`: why.
    pub reason: Option<EndedAs>,
    /// Who caused it (see [`By`]).
    pub by: Option<String>,
    /// For `admin_action`: what the administrator did (`sign_out`, `sign_out_all`,
    /// `disable`, `enable`, `set_limit`, `set_group`).
    pub action: Option<String>,
    /// Where a reader resumes after this event.
    #[serde(skip)]
    pub cursor: Cursor,
}

/// Where a reader of the events stands: after the event with this (transaction, sequence)
/// pair. Ordered as the events commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    txid: i64,
    seq: i64,
}

impl Cursor {
    /// Before every event.
    pub const START: Cursor = Cursor { txid: 0, seq: 0 };
}

/// An event about to be written, in the transaction of its change.
#[derive(Debug, Clone)]
pub(crate) struct NewEvent {
    pub(crate) event: EventType,
    pub(crate) user: Option<UserId>,
    pub(crate) seat: Option<SeatId>,
    pub(crate) device: Option<DeviceKind>,
    pub(crate) network: Option<String>,
    pub(crate) agent: Option<String>,
    pub(crate) reason: Option<EndedAs>,
    pub(crate) by: Option<String>,
    pub(crate) action: Option<String>,
}

impl NewEvent {
    pub(crate) fn new(event: EventType, user: Option<UserId>) -> Self {
        NewEvent {
            event,
            user,
            seat: None,
            device: None,
            network: None,
            agent: None,
            reason: None,
            by: None,
            action: None,
        }
    }

    /// The seat, and where its login came from.
    pub(crate) fn at_seat(self, seat: Option<SeatId>, ip: Option<&str>, user_agent: Option<&str>) -> Self {
        self.with_device(seat, ip, Device::of(user_agent))
    }

    /// The seat, and where its login came from, with its user agent read already.
    pub(crate) fn with_device(mut self, seat: Option<SeatId>, ip: Option<&str>, device: Device) -> Self {
        self.seat = seat;
        self.device = Some(device.kind);
        self.network = ip.and_then(|ip| ip.parse().ok()).map(network);
        self.agent = device.summary;
        self
    }

    /// A `session_ended` of `seat` (its id, user, kind, address and user agent, as the
    /// registry returns them from the statement that ended it).
    pub(crate) fn ended(row: &EndedRow, reason: EndedAs, by: By) -> Self {
        let (seat, user, kind, ip, agent) = row;
        let mut event = NewEvent::new(EventType::SessionEnded, Some(UserId(*user))).at_seat(
            Some(SeatId(*seat)),
            ip.as_deref(),
            agent.as_deref(),
        );
        if let Some(kind) = kind.as_deref().and_then(DeviceKind::parse) {
            event.device = Some(kind);
        }
        event.reason = Some(reason);
        event.by = Some(by.text());
        event
    }

    pub(crate) fn by(mut self, by: By) -> Self {
        self.by = Some(by.text());
        self
    }
}

/// A seat as the statements that end seats return it: id, user, kind, address, user agent.
pub(crate) type EndedRow = (i64, i64, Option<String>, Option<String>, Option<String>);

/// The `RETURNING` clause that gives an [`EndedRow`].
pub(crate) const RETURNING_ENDED: &str = " RETURNING id, user_id, kind, client_ip, user_agent";

/// The client network an event names: an IPv4 /24 or an IPv6 /48, as the throttle counts
/// networks.
pub fn network(ip: IpAddr) -> String {
    let (ip, prefix) = match ip.to_canonical() {
        ip @ IpAddr::V4(_) => (ip, 24),
        ip @ IpAddr::V6(_) => (ip, 48),
    };
    ipnet::IpNet::new(ip, prefix).map_or_else(|_| ip.to_string(), |net| net.trunc().to_string())
}

/// "Chrome on Linux" from a user agent; `None` when it names neither.
pub fn summary(user_agent: &str) -> Option<String> {
    Device::of(Some(user_agent)).summary
}

pub(crate) const INSERT_EVENT: &str = "INSERT INTO single_login_events \
    (id, at, type, user_id, seat_id, device, network, agent, reason, by_whom, action) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// A new event id: `evt_` and 128 random bits in hex.
pub(crate) fn new_id() -> String {
    format!("evt_{}", crate::encoding::hex(&rand::random::<[u8; 16]>()))
}

/// Writes `$events` (an iterator of `&NewEvent`) at `$now` through `$conn` (evaluated once
/// per event: `&mut *tx`, or a pool). The caller commits.
macro_rules! insert_events {
    ($conn:expr, $events:expr, $now:expr) => {
        for event in $events {
            sqlx::query($crate::events::INSERT_EVENT)
                .bind($crate::events::new_id())
                .bind($now.0)
                .bind(event.event.as_str())
                .bind(event.user.map(|u| u.0))
                .bind(event.seat.map(|s| s.0))
                .bind(event.device.map(|d| d.as_str()))
                .bind(event.network.as_deref())
                .bind(event.agent.as_deref())
                .bind(event.reason.map(|r| r.as_str()))
                .bind(event.by.as_deref())
                .bind(event.action.as_deref())
                .execute($conn)
                .await?;
        }
    };
}
pub(crate) use insert_events;

/// Counts committed events in this process's metrics (the `metrics` facade: nothing happens
/// until the application installs a recorder). Each process counts what it wrote, so the
/// counters of several processes add up.
pub(crate) fn counted<'a>(events: impl IntoIterator<Item = &'a NewEvent>) {
    for event in events {
        match event.event {
            EventType::SessionEnded => metrics::counter!(
                "single_login_sessions_ended_total",
                "reason" => event.reason.map_or("unknown", |r| r.as_str())
            )
            .increment(1),
            EventType::AttemptThrottled => {
                metrics::counter!("single_login_attempts_throttled_total").increment(1)
            }
            other => metrics::counter!("single_login_events_total", "type" => other.as_str()).increment(1),
        }
    }
}

/// Writes `events` on their own, outside any other change (a failed login, a throttled
/// attempt, a re-authentication), and counts them.
#[cfg(feature = "passwords")]
pub(crate) async fn record(db: &Db, events: &[NewEvent]) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let now = Millis::now();
    on_pool!(db, pool => {
        insert_events!(pool, events, now);
    });
    counted(events);
    Ok(())
}

/// What one hour of [`Events::hourly`] counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HourCounts {
    /// When the hour starts.
    pub start: Millis,
    /// Sessions opened (logins).
    pub logins: u64,
    /// Sessions a newer login replaced.
    pub kicks: u64,
    /// Logins refused at the limit.
    pub denials: u64,
    /// Wrong passwords for existing accounts.
    pub failures: u64,
    /// Throttled attempts (the first per network and window).
    pub throttled: u64,
}

/// Reading the events failed; the database's error is its source.
#[derive(Debug, thiserror::Error)]
#[error("the session events could not be read")]
pub struct EventsError(#[from] sqlx::Error);

/// The events, read back. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Events {
    db: Db,
}

type EventRow = (
    i64,
    i64,
    String,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// PostgreSQL: only rows of transactions older than every one still running, which can no
/// longer be joined by a row that commits behind them.
#[cfg(feature = "postgres")]
const PG_HORIZON: &str = "txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

const COLUMNS: &str =
    "txid, seq, id, at, type, user_id, seat_id, device, network, agent, reason, by_whom, action";

fn event(
    (txid, seq, id, at, kind, user, seat, device, network, agent, reason, by, action): EventRow,
) -> Option<Event> {
    Some(Event {
        id,
        at,
        event: EventType::parse(&kind)?,
        user,
        seat,
        device: device.as_deref().and_then(DeviceKind::parse),
        network,
        agent,
        reason: reason.as_deref().and_then(EndedAs::parse),
        by,
        action,
        cursor: Cursor { txid, seq },
    })
}

impl Events {
    /// The events of `db` (migrated).
    pub fn new(db: Db) -> Self {
        Events { db }
    }

    /// Up to `limit` events after `cursor`, in commit order. On PostgreSQL, only events of
    /// transactions older than every one still running: none can commit behind them later
    /// (a long transaction elsewhere delays events, it never loses them).
    pub async fn after(&self, cursor: Cursor, limit: u32) -> Result<Vec<Event>, EventsError> {
        let limit = i64::from(limit);
        // SQLite's `txid` is always 0: its cursor is `seq` alone, on the primary key.
        let rows = match &self.db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => {
                sqlx::query_as::<_, EventRow>(&format!(
                    "SELECT {COLUMNS} FROM single_login_events WHERE seq > $1 ORDER BY seq LIMIT $2"
                ))
                .bind(cursor.seq)
                .bind(limit)
                .fetch_all(pool)
                .await?
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                sqlx::query_as::<_, EventRow>(&format!(
                    "SELECT {COLUMNS} FROM single_login_events WHERE (txid, seq) > ($1, $2) AND {PG_HORIZON} \
                     ORDER BY txid, seq LIMIT $3"
                ))
                .bind(cursor.txid)
                .bind(cursor.seq)
                .bind(limit)
                .fetch_all(pool)
                .await?
            }
        };
        Ok(rows.into_iter().filter_map(event).collect())
    }

    /// Where the events end now: a reader from here sees only what happens next (on
    /// PostgreSQL, also the events of transactions still running, which commit later).
    pub async fn end(&self) -> Result<Cursor, EventsError> {
        let row = match &self.db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => {
                sqlx::query_as::<_, (i64, i64)>("SELECT txid, seq FROM single_login_events ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(pool)
                    .await?
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                sqlx::query_as::<_, (i64, i64)>(&format!(
                    "SELECT txid, seq FROM single_login_events WHERE {PG_HORIZON} ORDER BY txid DESC, seq DESC LIMIT 1"
                ))
                .fetch_optional(pool)
                .await?
            }
        };
        Ok(row.map_or(Cursor::START, |(txid, seq)| Cursor { txid, seq }))
    }

    /// Every event from now on, in commit order, as an async stream: each process that
    /// subscribes sees every event once, whichever process wrote it. Read from the outbox
    /// every `poll`; a failed read is an item of the stream, and the next one retries.
    ///
    /// ```no_run
    /// # async fn run(db: single_login::Db) -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_util::StreamExt;
    /// use single_login::events::Events;
    ///
    /// let events = Events::new(db);
    /// let mut stream = std::pin::pin!(events.subscribe(events.end().await?, std::time::Duration::from_millis(500)));
    /// while let Some(event) = stream.next().await {
    ///     let event = event?;
    ///     println!("{} {:?} user {:?}", event.id, event.event, event.user);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn subscribe(
        &self,
        from: Cursor,
        poll: Duration,
    ) -> impl futures_util::Stream<Item = Result<Event, EventsError>> + Send + 'static {
        let events = self.clone();
        let state = (events, from, std::collections::VecDeque::<Event>::new());
        futures_util::stream::unfold(state, move |(events, mut cursor, mut ready)| async move {
            loop {
                if let Some(next) = ready.pop_front() {
                    cursor = next.cursor;
                    return Some((Ok(next), (events, cursor, ready)));
                }
                match events.after(cursor, 500).await {
                    Ok(batch) if batch.is_empty() => tokio::time::sleep(poll).await,
                    Ok(batch) => ready.extend(batch),
                    Err(error) => {
                        tokio::time::sleep(poll).await;
                        return Some((Err(error), (events, cursor, ready)));
                    }
                }
            }
        })
    }

    /// The events from `since` until `until` (inclusive), of one user or all, oldest first:
    /// an audit export.
    pub async fn export(
        &self,
        since: Millis,
        until: Millis,
        user: Option<UserId>,
    ) -> Result<Vec<Event>, EventsError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM single_login_events WHERE at >= $1 AND at <= $2 \
             AND ($3 < 0 OR user_id = $3) ORDER BY at, txid, seq"
        );
        let rows = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, EventRow>(&sql)
                .bind(since.0)
                .bind(until.0)
                .bind(user.map_or(-1, |u| u.0))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().filter_map(event).collect())
    }

    /// Records that administrator `admin` did `action` to `user` (and `seat`).
    pub async fn record_admin_action(
        &self,
        admin: UserId,
        user: UserId,
        seat: Option<SeatId>,
        action: &str,
    ) -> Result<(), EventsError> {
        let mut event = NewEvent::new(EventType::AdminAction, Some(user)).by(By::Admin(admin));
        event.seat = seat;
        event.action = Some(action.to_owned());
        let now = Millis::now();
        let events = [event];
        on_pool!(&self.db, pool => {
            insert_events!(pool, &events, now);
        });
        counted(&events);
        Ok(())
    }

    /// The last `hours` hours before `now`, hour by hour (oldest first): logins, kicks,
    /// denials, failed logins and throttled attempts. One indexed read of the events.
    pub async fn hourly(&self, now: Millis, hours: u32) -> Result<Vec<HourCounts>, EventsError> {
        const HOUR: i64 = 3_600_000;
        let since = now.0 - i64::from(hours) * HOUR;
        let rows = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, (i64, String, Option<String>, i64)>(
                "SELECT (at - $1) / $2, type, reason, COUNT(*) FROM single_login_events \
                 WHERE type IN ('session_opened', 'session_ended', 'login_denied', 'login_failed', 'attempt_throttled') \
                 AND at >= $1 AND at < $3 GROUP BY 1, 2, 3",
            )
            .bind(since)
            .bind(HOUR)
            .bind(now.0)
            .fetch_all(pool)
            .await?
        });
        let mut counts: Vec<HourCounts> = (0..hours)
            .map(|hour| HourCounts {
                start: Millis(since + i64::from(hour) * HOUR),
                ..HourCounts::default()
            })
            .collect();
        for (hour, kind, reason, n) in rows {
            let Some(slot) = usize::try_from(hour).ok().and_then(|hour| counts.get_mut(hour)) else {
                continue;
            };
            let n = u64::try_from(n).unwrap_or(0);
            match (EventType::parse(&kind), reason.as_deref()) {
                (Some(EventType::SessionOpened), _) => slot.logins += n,
                (Some(EventType::SessionEnded), Some("replaced")) => slot.kicks += n,
                (Some(EventType::LoginDenied), _) => slot.denials += n,
                (Some(EventType::LoginFailed), _) => slot.failures += n,
                (Some(EventType::AttemptThrottled), _) => slot.throttled += n,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// Deletes events older than `before` (the retention); returns how many.
    pub async fn purge(&self, before: Millis) -> Result<u64, EventsError> {
        Ok(on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM single_login_events WHERE at < $1")
                .bind(before.0)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// A durable reader named `name`: it remembers its cursor in the database, and one
    /// process at a time holds it ([`Reader::claim`]).
    pub fn reader(&self, name: &str, holder: &str) -> Reader {
        Reader {
            events: self.clone(),
            name: name.to_owned(),
            holder: holder.to_owned(),
        }
    }
}

/// A durable reader of the events (see [`Events::reader`]): its cursor survives a restart,
/// and a lease keeps two processes from reading as it at once.
#[derive(Debug, Clone)]
pub struct Reader {
    events: Events,
    name: String,
    holder: String,
}

impl Reader {
    /// Takes or renews the lease for `lease`; returns the cursor to read from when this
    /// process holds it, `None` while another does. A new reader starts at `start`.
    pub async fn claim(&self, lease: Duration, start: Cursor) -> Result<Option<Cursor>, EventsError> {
        let now = Millis::now();
        let until = now.plus(lease);
        let row = on_pool!(&self.events.db, pool => {
            sqlx::query(
                "INSERT INTO single_login_event_readers (name, txid, seq) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(&self.name)
            .bind(start.txid)
            .bind(start.seq)
            .execute(pool)
            .await?;
            sqlx::query_as::<_, (i64, i64)>(
                "UPDATE single_login_event_readers SET holder = $1, lease_until = $2 \
                 WHERE name = $3 AND (holder = $1 OR holder IS NULL OR lease_until < $4) RETURNING txid, seq",
            )
            .bind(&self.holder)
            .bind(until.0)
            .bind(&self.name)
            .bind(now.0)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(txid, seq)| Cursor { txid, seq }))
    }

    /// Records that everything up to `cursor` is done (only while this process holds the
    /// lease); returns whether it did.
    pub async fn advance(&self, cursor: Cursor) -> Result<bool, EventsError> {
        let done = on_pool!(&self.events.db, pool => {
            sqlx::query(
                "UPDATE single_login_event_readers SET txid = $1, seq = $2 WHERE name = $3 AND holder = $4",
            )
            .bind(cursor.txid)
            .bind(cursor.seq)
            .bind(&self.name)
            .bind(&self.holder)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done > 0)
    }

    /// Lets the lease go (at shutdown), so that another process takes over at once.
    pub async fn release(&self) -> Result<(), EventsError> {
        on_pool!(&self.events.db, pool => {
            sqlx::query("UPDATE single_login_event_readers SET holder = NULL WHERE name = $1 AND holder = $2")
                .bind(&self.name)
                .bind(&self.holder)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_networks_and_browsers_never_addresses_or_agents() {
        assert_eq!(network("203.0.113.77".parse().unwrap()), "203.0.113.0/24");
        assert_eq!(network("::ffff:203.0.113.77".parse().unwrap()), "203.0.113.0/24");
        assert_eq!(
            network("2001:db8:1:2:3:4:5:6".parse().unwrap()),
            "2001:db8:1::/48"
        );
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(summary(chrome).as_deref(), Some("Chrome on Linux"));
        assert_eq!(summary("\u{0}\u{202e}"), None);
    }

    #[test]
    fn every_end_has_its_event_reason() {
        assert_eq!(
            EndedAs::of(EndReason::Revoked, Some(EndedBy::Operator)),
            EndedAs::Operator
        );
        assert_eq!(
            EndedAs::of(EndReason::Revoked, Some(EndedBy::Session(SeatId(1)))),
            EndedAs::Revoked
        );
        for reason in EndReason::ALL {
            assert_eq!(EndedAs::of(*reason, None).as_str(), reason.as_str());
        }
    }
}
