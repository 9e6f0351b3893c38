//! Passwords (feature `passwords`): sign-up, the check at login, confirmation and change,
//! each hashed or verified on the bounded [`Hashing`] threads.

use super::{Accounts, AccountsError, CredentialEpoch, User, UserId};
use crate::clock::Millis;
use crate::db::Db;
use crate::on_pool;
use crate::password::{HashError, Hashing, Password, StoredHash};
use crate::seats::{CredentialChange, RegistryError, Seats};
use crate::username::Username;
use crate::vocabulary::SeatId;

/// A user whose password was just checked, and the credentials it was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The user whose password matched.
    pub user: User,
    /// The credential epoch the password was checked against: a seat opens only while it is
    /// still the account's ([`Seats::open`]).
    pub epoch: CredentialEpoch,
}

/// Why [`Accounts::sign_up`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    /// Another account has the same name (compared by [`Username::key`]).
    #[error("username taken")]
    UsernameTaken,
    /// The password could not be hashed, or no hashing slot was free in time.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The insert failed, for another reason than a taken name.
    #[error("could not store the new user")]
    Db(#[source] AccountsError),
}

/// Why [`Accounts::change_password`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    /// The current password did not match, or another change came first (the epoch moved).
    #[error("wrong current password")]
    WrongPassword,
    /// Verifying or hashing failed, or no hashing slot was free in time.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Reading the current password failed.
    #[error("could not read the current password")]
    Db(#[from] AccountsError),
    /// Storing the new password (with the end of the other sessions) failed.
    #[error("could not store the new password")]
    Registry(#[from] RegistryError),
}

/// Why [`Accounts::authenticate`] or [`Accounts::verify_password`] gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user and wrong password alike: callers must not tell them apart to the
    /// client. `target` is the account the name belongs to, for the logs only.
    #[error("invalid username or password")]
    InvalidCredentials {
        /// The account the name belongs to, if any.
        target: Option<UserId>,
    },
    /// Verifying failed, or no hashing slot was free in time ([`HashError::Busy`]).
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The user's password hash could not be read.
    #[error("could not read the user")]
    Db(#[from] AccountsError),
}

struct Credentials {
    user: User,
    hash: StoredHash,
    disabled: bool,
    epoch: CredentialEpoch,
}

impl Accounts {
    /// Accounts that hash on `hashing`, sharing its slots with every other clone of it.
    pub fn with_hashing(db: Db, hashing: Hashing) -> Self {
        Accounts { db, hashing }
    }

    /// The same accounts, whose hashing waits in `lane` for its slot
    /// ([`Hashing::in_lane`]): pass the client's lane so that slots are shared fairly.
    pub fn in_lane(&self, lane: crate::slots::Lane) -> Self {
        Accounts {
            db: self.db.clone(),
            hashing: self.hashing.in_lane(lane),
        }
    }

    /// Creates an account with `username` and the hash of `password`, at
    /// [`CredentialEpoch::INITIAL`]. A name whose key is taken is
    /// [`SignupError::UsernameTaken`].
    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn sign_up(&self, username: &Username, password: Password) -> Result<User, SignupError> {
        let hash = self.hashing.hash(password).await?;
        let inserted = on_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO single_login_users (username, username_key, password_hash, created_at) \
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
                    && e.constraint()
                        .is_none_or(|c| c == "single_login_users_username_key_unique") =>
            {
                Err(SignupError::UsernameTaken)
            }
            Err(e) => Err(SignupError::Db(e.into())),
        }
    }

    /// Checks a username and password. The raw password is taken as typed (not parsed), so that
    /// a password set under older, looser rules still works; an unparseable username costs a
    /// dummy verification like an unknown one.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, username: &str, password: String) -> Result<Verified, AuthError> {
        let found = match Username::parse(username) {
            Ok(name) => self.find_credentials(&name).await?,
            Err(_) => None,
        };
        let (user, stored, disabled, epoch) = match found {
            Some(Credentials {
                user,
                hash,
                disabled,
                epoch,
            }) => (Some(user), Some(hash), disabled, epoch),
            None => (None, None, false, CredentialEpoch::INITIAL),
        };
        // A disabled account is verified like any other, so that its answer (and its time)
        // says nothing about it.
        let ok = self.hashing.verify(password, stored).await?;
        match user {
            Some(user) if ok && !disabled => Ok(Verified { user, epoch }),
            user => Err(AuthError::InvalidCredentials {
                target: user.map(|u| u.id),
            }),
        }
    }

    /// Replaces a user's password after checking the current one, and ends every other
    /// session of the user but `keep`: the new hash, the new credential epoch and the ended
    /// sessions commit together (see [`Seats::change_credentials`]). Returns how many
    /// sessions ended. A change that raced another (the epoch moved between the check and
    /// the write) is refused as a wrong password: the password it checked is no longer the
    /// current one.
    #[tracing::instrument(skip_all, fields(user = user.0))]
    pub async fn change_password(
        &self,
        seats: &Seats,
        user: UserId,
        current: String,
        new: Password,
        keep: SeatId,
    ) -> Result<u64, ChangePasswordError> {
        let stored = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, (String, i64)>("SELECT password_hash, credential_epoch FROM single_login_users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await
                .map_err(AccountsError::from)?
        });
        let epoch = stored.as_ref().map(|(_, epoch)| CredentialEpoch(*epoch));
        if !self
            .hashing
            .verify(current, stored.map(|(hash, _)| StoredHash(hash)))
            .await?
        {
            return Err(ChangePasswordError::WrongPassword);
        }
        let hash = self.hashing.hash(new).await?;
        let change = CredentialChange::Password {
            hash: &hash,
            verified: epoch.ok_or(ChangePasswordError::WrongPassword)?,
        };
        seats
            .change_credentials(user, change, Some(keep))
            .await?
            .ok_or(ChangePasswordError::WrongPassword)
    }

    /// Checks a user's password (to confirm a sensitive action).
    pub async fn verify_password(&self, user: UserId, password: String) -> Result<bool, AuthError> {
        let stored = on_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, String>("SELECT password_hash FROM single_login_users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await
                .map_err(AccountsError::from)?
        });
        Ok(self.hashing.verify(password, stored.map(StoredHash)).await?)
    }

    async fn find_credentials(&self, name: &Username) -> Result<Option<Credentials>, AccountsError> {
        let row = on_pool!(&self.db, pool => {
            sqlx::query_as::<_, (i64, String, String, Option<i64>, i64)>(
                "SELECT id, username, password_hash, disabled_at, credential_epoch FROM single_login_users WHERE username_key = $1",
            )
            .bind(name.key())
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(|(id, username, hash, disabled_at, epoch)| Credentials {
            user: User {
                id: UserId(id),
                username,
            },
            hash: StoredHash(hash),
            disabled: disabled_at.is_some(),
            epoch: CredentialEpoch(epoch),
        }))
    }
}
