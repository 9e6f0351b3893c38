//! The account store.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::db::Db;
use crate::on_pool;
use crate::password::{self, HashError, Password, StoredHash};
use crate::username::Username;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserId(pub i64);

/// A user as the rest of the program sees it: no password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
}

/// A user as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub created_at: Millis,
    /// The user's own limit; `None` follows the configured default.
    pub max_sessions: Option<u32>,
    pub live_sessions: u64,
    pub disabled: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    #[error("That username is taken")]
    UsernameTaken,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("could not store the new user")]
    Db(#[source] sqlx::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("The current password is not right")]
    WrongPassword,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("could not store the new password")]
    Db(#[from] sqlx::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user and wrong password alike: callers must not tell them apart.
    #[error("Invalid username or password")]
    InvalidCredentials,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("could not read the user")]
    Db(#[from] sqlx::Error),
}

struct Credentials {
    user: User,
    hash: StoredHash,
    disabled: bool,
}

#[derive(Debug, Clone)]
pub struct Accounts {
    db: Db,
}

impl Accounts {
    pub fn new(db: Db) -> Self {
        Accounts { db }
    }

    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn sign_up(&self, username: &Username, password: Password) -> Result<User, SignupError> {
        let hash = password::hash(password).await?;
        let inserted = on_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO users (username, username_key, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(username.as_str())
            .bind(username.key())
            .bind(&hash.0)
            .bind(Millis::now().0)
            .fetch_one(pool)
            .await
        });
        match inserted {
            Ok(id) => Ok(User {
                id: UserId(id),
                username: username.as_str().to_owned(),
            }),
            Err(sqlx::Error::Database(e))
                if e.is_unique_violation()
                    && e.constraint().is_none_or(|c| c == "users_username_key_unique") =>
            {
                Err(SignupError::UsernameTaken)
            }
            Err(e) => Err(SignupError::Db(e)),
        }
    }

    /// Checks a username and password. The raw password is taken as typed (not parsed), so that
    /// a password set under older, looser rules still works; an unparseable username costs a
    /// dummy verification like an unknown one.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, username: &str, password: String) -> Result<User, AuthError> {
        let found = match Username::parse(username) {
            Ok(name) => self.find_credentials(&name).await?,
            Err(_) => None,
        };
        let (user, stored, disabled) = match found {
            Some(Credentials { user, hash, disabled }) => (Some(user), Some(hash), disabled),
            None => (None, None, false),
        };
        // A disabled account is verified like any other, so that its answer (and its time)
        // says nothing about it.
        let ok = password::verify(password, stored).await?;
        match user {
            Some(user) if ok && !disabled => Ok(user),
            _ => Err(AuthError::InvalidCredentials),
        }
    }

    /// Replaces a user's password after checking the current one.
    #[tracing::instrument(skip_all, fields(user = user.0))]
    pub async fn change_password(
        &self,
        user: UserId,
        current: String,
        new: Password,
    ) -> Result<(), ChangePasswordError> {
        let stored = on_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await?
        });
        if !password::verify(current, stored.map(StoredHash)).await? {
            return Err(ChangePasswordError::WrongPassword);
        }
        let hash = password::hash(new).await?;
        on_pool!(&self.db, pool => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(&hash.0)
                .bind(user.0)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Checks a user's password (to confirm a sensitive action).
    pub async fn verify_password(&self, user: UserId, password: String) -> Result<bool, AuthError> {
        let stored = on_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await?
        });
        Ok(password::verify(password, stored.map(StoredHash)).await?)
    }

    /// Disables or enables an account. Returns false for an unknown user.
    pub async fn set_disabled(&self, name: &Username, disabled: bool) -> Result<bool, sqlx::Error> {
        let at = disabled.then(|| Millis::now().0);
        let done = on_pool!(&self.db, pool => {
            sqlx::query("UPDATE users SET disabled_at = $1 WHERE username_key = $2")
                .bind(at)
                .bind(name.key())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    async fn find_credentials(&self, name: &Username) -> Result<Option<Credentials>, sqlx::Error> {
        let row = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, (i64, String, String, Option<i64>)>(
                "SELECT id, username, password_hash, disabled_at FROM users WHERE username_key = $1",
            )
            .bind(name.key())
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(|(id, username, hash, disabled_at)| Credentials {
            user: User {
                id: UserId(id),
                username,
            },
            hash: StoredHash(hash),
            disabled: disabled_at.is_some(),
        }))
    }

    pub async fn find_by_name(&self, name: &Username) -> Result<Option<User>, sqlx::Error> {
        Ok(self.find_credentials(name).await?.map(|c| c.user))
    }

    /// Every user with their live session count, by name.
    pub async fn list(&self) -> Result<Vec<UserSummary>, sqlx::Error> {
        let rows = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, (i64, String, i64, Option<i64>, i64, Option<i64>)>(
                "SELECT u.id, u.username, u.created_at, u.max_sessions, \
                        (SELECT COUNT(*) FROM seats s WHERE s.user_id = u.id AND s.ended_at IS NULL), \
                        u.disabled_at \
                 FROM users u ORDER BY u.username_key",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, username, created_at, max, live, disabled_at)| UserSummary {
                id: UserId(id),
                username,
                created_at: Millis(created_at),
                max_sessions: max.and_then(|m| u32::try_from(m).ok()),
                live_sessions: u64::try_from(live).unwrap_or(0),
                disabled: disabled_at.is_some(),
            })
            .collect())
    }

    /// Sets (or with `None` clears) the user's own session limit. Returns false for an
    /// unknown user.
    pub async fn set_max_sessions(&self, name: &Username, max: Option<u32>) -> Result<bool, sqlx::Error> {
        let max = max.map(|m| i64::from(m.max(1)));
        let done = on_pool!(&self.db, pool => {
            sqlx::query("UPDATE users SET max_sessions = $1 WHERE username_key = $2")
                .bind(max)
                .bind(name.key())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }
}
