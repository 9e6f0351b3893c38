//! The account store: the users single-login knows (its own, or an application's adopted
//! by id), their limits and their state. Passwords (sign-up, checks, changes) are in
//! `accounts/passwords.rs`, with the feature `passwords`.

#[cfg(feature = "passwords")]
mod passwords;

use crate::clock::Millis;
use crate::db::Db;
use crate::on_pool;
#[cfg(feature = "passwords")]
use crate::password::Hashing;
use crate::policy::Limits;
use crate::username::Username;
pub use crate::vocabulary::{CredentialEpoch, User, UserId};
#[cfg(feature = "passwords")]
pub use passwords::{AuthError, ChangePasswordError, SignupError, Verified};

/// A user as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    /// The user's id in `users`.
    pub id: UserId,
    /// The name as the user chose it.
    pub username: String,
    /// When the account was created.
    pub created_at: Millis,
    /// The user's own limits; `None` follows their group, or the default.
    pub limits: Option<Limits>,
    /// The group the user is in, by name.
    pub group: Option<String>,
    /// How many of the user's seats have not ended (seats past their lifetime count until
    /// they are marked expired).
    pub live_sessions: u64,
    /// Whether an operator disabled the account: it cannot log in.
    pub disabled: bool,
    /// Whether the user may use the console (`/admin`).
    pub admin: bool,
}

/// A query of the account store failed; the database's error is its source.
#[derive(Debug, thiserror::Error)]
#[error("the account store could not complete a query")]
pub struct AccountsError(#[from] sqlx::Error);

/// The account store: creates users and (feature `passwords`) checks and changes their
/// passwords, hashing on a bounded `Hashing`. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Accounts {
    db: Db,
    #[cfg(feature = "passwords")]
    hashing: Hashing,
}

impl Accounts {
    /// Accounts over `db` (with the default bound on password hashing).
    pub fn new(db: Db) -> Self {
        Accounts {
            db,
            #[cfg(feature = "passwords")]
            hashing: Hashing::default(),
        }
    }

    /// Whether an account has this name (its key), for the throttle: a name that belongs to
    /// nobody has no account bucket to count in. (Sign-up already tells whether a name is
    /// taken, so this reveals nothing new.)
    pub async fn exists(&self, name_key: &str) -> Result<bool, AccountsError> {
        Ok(on_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, i64>("SELECT id FROM single_login_users WHERE username_key = $1")
                .bind(name_key)
                .fetch_optional(pool)
                .await?
        })
        .is_some())
    }

    /// Takes in a user of the application's own user store, by its stable id, so that its
    /// sessions can hold seats; returns it with its current credentials. Idempotent. For
    /// applications that check passwords themselves: such a user has no single-login name
    /// (it shows as `#id`, which no [`Username`] can be) and no password here, so it cannot
    /// log in through `Accounts::authenticate`. Do not mix it with `Accounts::sign_up` in
    /// one database: the ids would share one space.
    pub async fn adopt(&self, id: UserId) -> Result<(User, CredentialEpoch), AccountsError> {
        let name = format!("#{}", id.0);
        let now = Millis::now().0;
        // PostgreSQL's identity column takes a given id only when told to.
        let overriding = match &self.db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(_) => "",
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => "OVERRIDING SYSTEM VALUE",
        };
        let insert = format!(
            "INSERT INTO single_login_users (id, username, username_key, password_hash, created_at) \
             {overriding} VALUES ($1, $2, $2, '', $3) ON CONFLICT (id) DO NOTHING"
        );
        let row: (String, i64) = on_pool!(&self.db, pool => {
            sqlx::query(&insert)
                .bind(id.0)
                .bind(&name)
                .bind(now)
                .execute(pool)
                .await?;
            sqlx::query_as("SELECT username, credential_epoch FROM single_login_users WHERE id = $1")
                .bind(id.0)
                .fetch_one(pool)
                .await?
        });
        Ok((User { id, username: row.0 }, CredentialEpoch(row.1)))
    }

    /// The user with this name (compared by [`Username::key`]), disabled or not.
    pub async fn find_by_name(&self, name: &Username) -> Result<Option<User>, AccountsError> {
        let row = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, (i64, String)>(
                "SELECT id, username FROM single_login_users WHERE username_key = $1",
            )
            .bind(name.key())
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(id, username)| User {
            id: UserId(id),
            username,
        }))
    }

    /// Every user with their live session count, by name.
    pub async fn list(&self) -> Result<Vec<UserSummary>, AccountsError> {
        let sql = format!("{SUMMARY} ORDER BY u.username_key");
        let rows = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, SummaryRow>(&sql).fetch_all(pool).await?
        });
        summaries(rows)
    }

    /// Up to `limit` users whose name starts with `prefix` (compared as keys are: case and
    /// width folded), by name, after the name key `after` (the last of the previous page).
    /// One walk of the name index, however many users there are.
    pub async fn search(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UserSummary>, AccountsError> {
        let prefix = crate::username::Username::attempt_key(prefix);
        // Every key with the prefix sorts below the prefix followed by the last code point.
        let below = format!("{prefix}\u{10FFFF}");
        let from = after.filter(|after| *after >= prefix.as_str()).unwrap_or("");
        let limit = i64::from(limit);
        let rows = match &self.db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => {
                sqlx::query_as::<_, SummaryRow>(&format!(
                    "{SUMMARY} WHERE u.username_key >= $1 AND u.username_key < $2 AND u.username_key > $3 \
                     ORDER BY u.username_key LIMIT $4"
                ))
                .bind(&prefix)
                .bind(&below)
                .bind(from)
                .bind(limit)
                .fetch_all(pool)
                .await?
            }
            // The byte-order operators, which the pattern index serves whatever the collation.
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                sqlx::query_as::<_, SummaryRow>(&format!(
                "{SUMMARY} WHERE u.username_key ~>=~ $1 AND u.username_key ~<~ $2 AND u.username_key ~>~ $3 \
                     ORDER BY u.username_key USING ~<~ LIMIT $4"
            ))
                .bind(&prefix)
                .bind(&below)
                .bind(from)
                .bind(limit)
                .fetch_all(pool)
                .await?
            }
        };
        summaries(rows)
    }

    /// One user as an operator sees it; `None` for an unknown id.
    pub async fn summary(&self, user: UserId) -> Result<Option<UserSummary>, AccountsError> {
        let sql = format!("{SUMMARY} WHERE u.id = $1");
        let rows = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, SummaryRow>(&sql).bind(user.0).fetch_all(pool).await?
        });
        Ok(summaries(rows)?.into_iter().next())
    }

    /// Grants (or revokes) the console: the operator's command line only. Returns false for
    /// an unknown user.
    pub async fn set_admin(&self, user: UserId, admin: bool) -> Result<bool, AccountsError> {
        let done = on_pool!(&self.db, pool => {
            sqlx::query("UPDATE single_login_users SET admin = $1 WHERE id = $2")
                .bind(admin)
                .bind(user.0)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Whether `user` may use the console.
    pub async fn is_admin(&self, user: UserId) -> Result<bool, AccountsError> {
        Ok(on_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, bool>("SELECT admin FROM single_login_users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await?
        })
        .unwrap_or(false))
    }
}

type SummaryRow = (
    i64,
    String,
    i64,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
    bool,
);

/// A user as [`UserSummary`] reads them; the callers add `WHERE` and `ORDER BY`.
const SUMMARY: &str = "SELECT u.id, u.username, u.created_at, u.limits, g.name, \
        (SELECT COUNT(*) FROM single_login_seats s WHERE s.user_id = u.id AND s.ended_at IS NULL), \
        u.disabled_at, u.admin \
     FROM single_login_users u LEFT JOIN single_login_groups g ON g.id = u.group_id";

fn summaries(rows: Vec<SummaryRow>) -> Result<Vec<UserSummary>, AccountsError> {
    rows.into_iter()
        .map(
            |(id, username, created_at, limits, group, live, disabled_at, admin)| {
                Ok(UserSummary {
                    id: UserId(id),
                    username,
                    created_at: Millis(created_at),
                    limits: limits
                        .map(|text| text.parse())
                        .transpose()
                        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                    group,
                    live_sessions: u64::try_from(live).unwrap_or(0),
                    disabled: disabled_at.is_some(),
                    admin,
                })
            },
        )
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AccountsError)
}
