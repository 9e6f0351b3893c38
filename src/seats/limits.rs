//! Whose limits are what: a user's own, their group's, the application's code, or the
//! default ([`LimitSource`]), and the changes to them. A change takes effect at once: in the
//! transaction that makes it, under the locks a login takes, the seats beyond the new limits
//! end (least recently used first, reason `limit_lowered`).
//!
//! Logins read the limits after locking the user's row; a change locks the rows of every
//! user it affects before it writes. So a login either commits before the change (and the
//! change's trim sees its seat) or waits and reads the new limits. On PostgreSQL, changes
//! of limits also take one advisory lock, so two operators' changes (moving a user into a
//! group while that group's limit changes, say) run one after the other.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::rows::{policy_view, seat_info, SeatRow, END_LOWERED, LIVE_SEATS};
use super::{RegistryError, SeatInfo, Seats};
use crate::clock::Millis;
use crate::db::Db;
use crate::events::{counted, insert_events, By, EndedAs, EndedRow, NewEvent, RETURNING_ENDED};
use crate::on_pool;
use crate::policy::{self, LimitSource, Limits, Policy};
use crate::vocabulary::UserId;

/// What [`LimitsFor::limits_for`] returns.
pub type LimitsFuture = Pin<Box<dyn Future<Output = Option<Limits>> + Send>>;

/// The application's own answer to "how many sessions may this user hold?" (by plan, by
/// role), asked inside the login's transaction when the user has no limit of their own and
/// no group; `None` leaves it to the default. Any `Fn(UserId) -> impl Future<Output =
/// Option<Limits>>` is one. When an answer changes (a downgrade), call
/// [`Seats::enforce_limits`] so that it takes effect at once.
pub trait LimitsFor: Send + Sync + 'static {
    /// The limits of `user`, or `None` for the default.
    fn limits_for(&self, user: UserId) -> LimitsFuture;
}

impl<F, Fut> LimitsFor for F
where
    F: Fn(UserId) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Limits>> + Send + 'static,
{
    fn limits_for(&self, user: UserId) -> LimitsFuture {
        Box::pin(self(user))
    }
}

/// The application's [`LimitsFor`], as the registry keeps it.
#[derive(Clone)]
pub(super) struct Hook(pub(super) Arc<dyn LimitsFor>);

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LimitsFor(..)")
    }
}

/// A group as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's name.
    pub name: String,
    /// Its limits.
    pub limits: Limits,
    /// How many users are in it.
    pub members: u64,
}

/// A change of limits or groups could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LimitsChangeError {
    /// No user has this id.
    #[error("no such user")]
    UnknownUser,
    /// No group has this name.
    #[error("no group named {0:?}")]
    UnknownGroup(String),
    /// A group of this name exists already.
    #[error("a group named {0:?} already exists")]
    GroupExists(String),
    /// Not a group name.
    #[error("{0:?} is not a group name: 1 to 64 ASCII letters, digits, '-' or '_'")]
    BadGroupName(String),
    /// The database failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl From<sqlx::Error> for LimitsChangeError {
    fn from(error: sqlx::Error) -> Self {
        LimitsChangeError::Registry(RegistryError(error))
    }
}

/// Checks a group's name: short, plain, and the same in every terminal.
fn group_name(name: &str) -> Result<&str, LimitsChangeError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if (1..=64).contains(&name.len()) && name.chars().all(plain) {
        Ok(name)
    } else {
        Err(LimitsChangeError::BadGroupName(name.chars().take(80).collect()))
    }
}

/// Reads stored limits; text that is not [`Limits`] (edited by hand) is a decoding error.
fn stored(text: &str) -> Result<Limits, sqlx::Error> {
    text.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// On PostgreSQL, the statement that serializes changes of limits across processes (on
/// SQLite, `BEGIN IMMEDIATE` already does).
const SERIALIZE_CHANGES: &str = "SELECT pg_advisory_xact_lock(6072357311288829249)";

/// Takes the advisory lock of [`SERIALIZE_CHANGES`] when `$for_update` says PostgreSQL.
macro_rules! serialize_changes {
    ($tx:ident, $for_update:ident) => {
        if !$for_update.is_empty() {
            sqlx::query(SERIALIZE_CHANGES).execute(&mut *$tx).await?;
        }
    };
}

/// The limits of a user whose row is locked in `$tx`: their own text, else their group's
/// (read now, in its own statement, so that it sees every change committed before the lock
/// was granted), else the application's, else the policy's.
macro_rules! resolve_in_tx {
    ($seats:expr, $tx:ident, $user:expr, $own:expr, $group_id:expr, $policy:expr) => {{
        let group = match $group_id {
            Some(id) => {
                sqlx::query_as::<_, (String, String)>(
                    "SELECT name, limits FROM single_login_groups WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *$tx)
                .await?
            }
            None => None,
        };
        $seats.resolve($user, $own, group, $policy).await?
    }};
}

/// Ends, with `limit_lowered`, the live seats of `$user` beyond `$limits`, with their events
/// (added to `$events`); evaluates to how many.
macro_rules! trim_in_tx {
    ($tx:ident, $user:expr, $limits:expr, $now:expr, $events:ident) => {{
        let live: Vec<SeatInfo> = sqlx::query_as::<_, SeatRow>(LIVE_SEATS)
            .bind($user.0)
            .fetch_all(&mut *$tx)
            .await?
            .into_iter()
            .map(seat_info)
            .collect();
        let mut ended = 0u64;
        for seat in policy::trim(&$limits, &policy_view(&live)) {
            let row = sqlx::query_as::<_, EndedRow>(&format!("{END_LOWERED}{RETURNING_ENDED}"))
                .bind($now.0)
                .bind(seat.0)
                .fetch_optional(&mut *$tx)
                .await?;
            if let Some(row) = row {
                $events.push(NewEvent::ended(&row, EndedAs::LimitLowered, By::Operator));
                ended += 1;
            }
        }
        insert_events!(&mut *$tx, &$events[$events.len() - ended as usize..], $now);
        ended
    }};
}

/// Locks the users who follow group `$group` (no limits of their own), in id order, and
/// evaluates to their ids.
macro_rules! lock_followers {
    ($tx:ident, $for_update:ident, $group:expr) => {
        sqlx::query_scalar::<_, i64>(&format!(
            "SELECT id FROM single_login_users WHERE group_id = $1 AND limits IS NULL ORDER BY id{}",
            $for_update
        ))
        .bind($group)
        .fetch_all(&mut *$tx)
        .await?
    };
}

impl Seats {
    /// The registry, asking `hook` for the limits of users who have none of their own and
    /// no group.
    pub fn with_limits_for(mut self, hook: impl LimitsFor) -> Self {
        self.limits_for = Some(Hook(Arc::new(hook)));
        self
    }

    /// Where the limits of a user come from, first match wins: `own`, the `group`'s
    /// (name, text), the application's hook, the policy.
    pub(super) async fn resolve(
        &self,
        user: UserId,
        own: Option<String>,
        group: Option<(String, String)>,
        policy: &Policy,
    ) -> Result<(Limits, LimitSource), sqlx::Error> {
        if let Some(own) = own {
            return Ok((stored(&own)?, LimitSource::User));
        }
        if let Some((name, limits)) = group {
            return Ok((stored(&limits)?, LimitSource::Group(name)));
        }
        if let Some(Hook(hook)) = &self.limits_for {
            if let Some(limits) = hook.limits_for(user).await {
                return Ok((limits, LimitSource::Application));
            }
        }
        Ok((policy.limits(), LimitSource::Default))
    }

    /// The limits `user` is held to now, and where they come from; `None` for an unknown
    /// user.
    pub async fn limits_of(
        &self,
        user: UserId,
        policy: &Policy,
    ) -> Result<Option<(Limits, LimitSource)>, RegistryError> {
        let row = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, (Option<String>, Option<String>, Option<String>)>(
                "SELECT u.limits, g.name, g.limits FROM single_login_users u \
                 LEFT JOIN single_login_groups g ON g.id = u.group_id WHERE u.id = $1",
            )
            .bind(user.0)
            .fetch_optional(pool)
            .await?
        });
        let Some((own, name, limits)) = row else {
            return Ok(None);
        };
        Ok(Some(self.resolve(user, own, name.zip(limits), policy).await?))
    }

    /// The user's group, by name; `None` outside any group (or for an unknown user).
    pub async fn group_of(&self, user: UserId) -> Result<Option<String>, RegistryError> {
        Ok(on_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, String>(
                "SELECT g.name FROM single_login_users u JOIN single_login_groups g ON g.id = u.group_id \
                 WHERE u.id = $1",
            )
            .bind(user.0)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Sets (or with `None` clears) the user's own limits, which come before their group's.
    /// Seats beyond the limits that result end now (`limit_lowered`); returns how many.
    pub async fn set_user_limits(
        &self,
        user: UserId,
        limits: Option<&Limits>,
        policy: &Policy,
    ) -> Result<u64, LimitsChangeError> {
        let now = Millis::now();
        let mut events: Vec<NewEvent> = Vec::new();
        let own = limits.map(ToString::to_string);
        let ended = in_locked_tx!(self, tx, for_update => {
            serialize_changes!(tx, for_update);
            let group_id = sqlx::query_scalar::<_, Option<i64>>(&format!(
                "SELECT group_id FROM single_login_users WHERE id = $1{for_update}"
            ))
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(LimitsChangeError::UnknownUser)?;
            sqlx::query("UPDATE single_login_users SET limits = $1 WHERE id = $2")
                .bind(own.as_deref())
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
            let (limits, _) = resolve_in_tx!(self, tx, user, own.clone(), group_id, policy);
            let ended = trim_in_tx!(tx, user, limits, now, events);
            tx.commit().await?;
            ended
        });
        counted(&events);
        self.announce_ended(&[(user, ended)]).await;
        Ok(ended)
    }

    /// Moves the user into the group named `group`, or with `None` out of any. Seats beyond
    /// the limits that result end now (`limit_lowered`); returns how many.
    pub async fn set_group(
        &self,
        user: UserId,
        group: Option<&str>,
        policy: &Policy,
    ) -> Result<u64, LimitsChangeError> {
        let now = Millis::now();
        let mut events: Vec<NewEvent> = Vec::new();
        let ended = in_locked_tx!(self, tx, for_update => {
            serialize_changes!(tx, for_update);
            let own = sqlx::query_scalar::<_, Option<String>>(&format!(
                "SELECT limits FROM single_login_users WHERE id = $1{for_update}"
            ))
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(LimitsChangeError::UnknownUser)?;
            let group_id = match group {
                Some(name) => Some(
                    sqlx::query_scalar::<_, i64>("SELECT id FROM single_login_groups WHERE name = $1")
                        .bind(name)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| LimitsChangeError::UnknownGroup(name.to_owned()))?,
                ),
                None => None,
            };
            sqlx::query("UPDATE single_login_users SET group_id = $1 WHERE id = $2")
                .bind(group_id)
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
            let (limits, _) = resolve_in_tx!(self, tx, user, own, group_id, policy);
            let ended = trim_in_tx!(tx, user, limits, now, events);
            tx.commit().await?;
            ended
        });
        counted(&events);
        self.announce_ended(&[(user, ended)]).await;
        Ok(ended)
    }

    /// Makes an empty group.
    pub async fn create_group(&self, name: &str, limits: &Limits) -> Result<(), LimitsChangeError> {
        let name = group_name(name)?;
        let done = on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO single_login_groups (name, limits, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(limits.to_string())
            .bind(Millis::now().0)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(LimitsChangeError::GroupExists(name.to_owned()));
        }
        Ok(())
    }

    /// Every group, by name, with its number of members.
    pub async fn groups(&self) -> Result<Vec<Group>, RegistryError> {
        let rows = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, (String, String, i64)>(
                "SELECT g.name, g.limits, (SELECT COUNT(*) FROM single_login_users u WHERE u.group_id = g.id) \
                 FROM single_login_groups g ORDER BY g.name",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(name, limits, members)| {
                Ok(Group {
                    name,
                    limits: stored(&limits)?,
                    members: u64::try_from(members).unwrap_or(0),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(RegistryError)
    }

    /// Changes a group's limits. Seats of its members beyond them end now (`limit_lowered`;
    /// members with limits of their own keep theirs); returns how many.
    pub async fn set_group_limits(&self, name: &str, limits: &Limits) -> Result<u64, LimitsChangeError> {
        let now = Millis::now();
        let mut events: Vec<NewEvent> = Vec::new();
        let text = limits.to_string();
        let ended = in_locked_tx!(self, tx, for_update => {
            serialize_changes!(tx, for_update);
            let group = sqlx::query_scalar::<_, i64>("SELECT id FROM single_login_groups WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| LimitsChangeError::UnknownGroup(name.to_owned()))?;
            let followers = lock_followers!(tx, for_update, group);
            sqlx::query("UPDATE single_login_groups SET limits = $1 WHERE id = $2")
                .bind(&text)
                .bind(group)
                .execute(&mut *tx)
                .await?;
            let mut ended = Vec::new();
            for user in followers.into_iter().map(UserId) {
                ended.push((user, trim_in_tx!(tx, user, *limits, now, events)));
            }
            tx.commit().await?;
            ended
        });
        counted(&events);
        self.announce_ended(&ended).await;
        Ok(ended.iter().map(|(_, n)| n).sum())
    }

    /// Deletes a group; its members follow the application's limits or the default from
    /// then on, and their seats beyond those end now (`limit_lowered`). Returns how many.
    pub async fn delete_group(&self, name: &str, policy: &Policy) -> Result<u64, LimitsChangeError> {
        let now = Millis::now();
        let mut events: Vec<NewEvent> = Vec::new();
        let ended = in_locked_tx!(self, tx, for_update => {
            serialize_changes!(tx, for_update);
            let group = sqlx::query_scalar::<_, i64>("SELECT id FROM single_login_groups WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| LimitsChangeError::UnknownGroup(name.to_owned()))?;
            let followers = lock_followers!(tx, for_update, group);
            // Members with limits of their own leave the group too, keeping their limits.
            sqlx::query("UPDATE single_login_users SET group_id = NULL WHERE group_id = $1")
                .bind(group)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM single_login_groups WHERE id = $1")
                .bind(group)
                .execute(&mut *tx)
                .await?;
            let mut ended = Vec::new();
            for user in followers.into_iter().map(UserId) {
                let (limits, _) = self.resolve(user, None, None, policy).await?;
                ended.push((user, trim_in_tx!(tx, user, limits, now, events)));
            }
            tx.commit().await?;
            ended
        });
        counted(&events);
        self.announce_ended(&ended).await;
        Ok(ended.iter().map(|(_, n)| n).sum())
    }

    /// Ends, with `limit_lowered`, the seats of `user` beyond the limits they are held to
    /// now: for an application whose [`LimitsFor`] answer just changed. Returns how many.
    pub async fn enforce_limits(&self, user: UserId, policy: &Policy) -> Result<u64, LimitsChangeError> {
        let now = Millis::now();
        let mut events: Vec<NewEvent> = Vec::new();
        let ended = in_locked_tx!(self, tx, for_update => {
            let (own, group_id) = sqlx::query_as::<_, (Option<String>, Option<i64>)>(&format!(
                "SELECT limits, group_id FROM single_login_users WHERE id = $1{for_update}"
            ))
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(LimitsChangeError::UnknownUser)?;
            let (limits, _) = resolve_in_tx!(self, tx, user, own, group_id, policy);
            let ended = trim_in_tx!(tx, user, limits, now, events);
            tx.commit().await?;
            ended
        });
        counted(&events);
        self.announce_ended(&[(user, ended)]).await;
        Ok(ended)
    }

    /// Announces the users of whom `ended` says some seats ended.
    async fn announce_ended(&self, ended: &[(UserId, u64)]) {
        let users: Vec<UserId> = ended
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(user, _)| *user)
            .collect();
        self.announce(&users).await;
    }
}
