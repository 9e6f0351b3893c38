//! The login, as one operation of the core: the product's central rule in one place, testable
//! without HTTP.
//!
//! In order: the attempt is counted against the throttle's buckets before anything else (a
//! full bucket refuses it before any hash); the password is verified on the bounded hashing
//! threads (an unknown name costs the same); a success gives the failure counts back; the
//! seat is then opened in the registry's transaction, under the user's lock, which checks
//! that the credentials verified are still the account's (a password change or a disable
//! meanwhile wins) and asks the policy what to end, deny or ask. The caller keeps only what
//! belongs to its web framework: giving the session a fresh id when asked (its [`Renew`],
//! called once the password is known to be right, never for a failed attempt), storing keys
//! in it, and turning the outcome into an answer.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::accounts::{
    Accounts, AuthError, ChangePasswordError, CredentialEpoch, SignupError, User, UserId, Verified,
};
use crate::password::HashError;
use crate::password::Password;
use crate::policy::Policy;
use crate::seats::{EndReason, LoginContext, OpenOutcome, SeatId, SeatInfo, Seats, SessionHash};
use crate::slots::Lane;
use crate::throttle::{Bucket, Throttle};
use crate::username::Username;
use crate::Millis;

/// The services a login uses.
#[derive(Debug, Clone)]
pub struct Logins {
    /// Checks passwords and creates accounts.
    pub accounts: Accounts,
    /// The registry the login's seat opens in.
    pub seats: Seats,
    /// Counts every password check before it happens.
    pub throttle: Arc<Throttle>,
    /// Decides which seats a new login ends, denies on, or asks about.
    pub policy: Arc<Policy>,
}

/// Gives the browser's session a fresh id (no fixation) and returns its hash, which the seat
/// is keyed by.
pub type Renew<'a> = Box<
    dyn FnOnce() -> Pin<
            Box<
                dyn Future<Output = Result<SessionHash, Box<dyn std::error::Error + Send + Sync>>>
                    + Send
                    + 'a,
            >,
        > + Send
        + 'a,
>;

/// The session the login would open.
pub struct NewSession<'a> {
    /// Where the login comes from (stored on the seat).
    pub client: &'a LoginContext,
    /// The seat the browser already holds, if signed in: a login over it ends it (logged
    /// out) before the new one opens.
    pub replacing: Option<SeatId>,
    /// Gives the session a fresh id; called only once the password is known to be right.
    pub renew: Renew<'a>,
}

/// What became of a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Signed in: the new seat, and the seats the policy ended for it.
    SignedIn {
        /// Who signed in.
        user: User,
        /// The seat the login opened.
        seat: SeatId,
        /// The seats ended to make room, each with its reason.
        ended: Vec<(SeatId, EndReason)>,
    },
    /// `deny_new`: these active sessions hold the limit. Not a failed login.
    Denied {
        /// The user whose password was right.
        user: User,
        /// The active sessions that hold the limit.
        blocking: Vec<SeatInfo>,
    },
    /// `ask`: the password was right; the user chooses among these sessions, then continues
    /// with [`Logins::open`] and this epoch. Not a failed login.
    Held {
        /// The user whose password was right.
        user: User,
        /// The credential epoch the password was checked at, to continue with.
        epoch: CredentialEpoch,
        /// The live sessions the user may choose to end.
        candidates: Vec<SeatInfo>,
    },
    /// The password was right, but the account was disabled or its password changed while
    /// the login was under way: nothing opened.
    CredentialsChanged {
        /// The user whose password was right.
        user: User,
    },
    /// Unknown name and wrong password alike. `target` is the account the name belongs to,
    /// for the logs only.
    InvalidCredentials {
        /// The account the name belongs to, if any.
        target: Option<UserId>,
    },
    /// A throttle bucket is full: no password was checked.
    Throttled {
        /// How long until the full bucket's window ends.
        wait: Duration,
    },
    /// No hashing slot in time: no password was checked, nothing counted.
    Busy {
        /// How long to wait before trying again.
        retry_after: Duration,
    },
}

/// What became of a sign-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignupOutcome {
    /// The account, with credentials [`CredentialEpoch::INITIAL`], and what became of its
    /// first login (signed in, unless it was disabled in between).
    Created {
        /// The new account.
        user: User,
        /// What became of its first login.
        login: LoginOutcome,
    },
    /// Another account has this name (compared by its key): nothing was created.
    UsernameTaken,
    /// The client network's bucket is full: nothing was hashed or created.
    Throttled {
        /// How long until the full bucket's window ends.
        wait: Duration,
    },
    /// No hashing slot in time: nothing was created or counted.
    Busy {
        /// How long to wait before trying again.
        retry_after: Duration,
    },
}

/// What became of a re-authentication (confirming the password, or changing it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReauthOutcome<T> {
    /// The password was right; what the operation gave.
    Done(T),
    /// The password was wrong (counted against the session's and the user's
    /// re-authentication buckets).
    WrongPassword,
    /// The password was wrong, and this session has now failed too often: it was ended
    /// (reason `revoked`, by itself).
    SessionEnded,
    /// A throttle bucket is full: no password was checked.
    Throttled {
        /// How long until the full bucket's window ends.
        wait: Duration,
    },
    /// No hashing slot in time: no password was checked, nothing counted.
    Busy {
        /// How long to wait before trying again.
        retry_after: Duration,
    },
}

/// What kept a login, sign-up or re-authentication from having an outcome at all.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// A query failed.
    #[error("could not reach the database")]
    Db(#[from] sqlx::Error),
    /// Hashing or verifying failed (a busy hashing pool is an outcome, never this).
    #[error(transparent)]
    Hash(HashError),
    /// The web framework could not give the session a fresh id ([`Renew`]).
    #[error("could not give the session a fresh id")]
    Session(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Logins {
    /// Logs in with a name and password from `client_ip`, opening `session` if the policy
    /// lets it in.
    pub async fn log_in(
        &self,
        username: &str,
        password: String,
        client_ip: Option<IpAddr>,
        session: NewSession<'_>,
    ) -> Result<LoginOutcome, LoginError> {
        self.log_in_known(username, password, client_ip, None, session)
            .await
    }

    /// [`Logins::log_in`] from a known device: `device` is the id of a device cookie the
    /// caller found valid for this name ([`crate::signing::SigningKey::known_device`]). Its
    /// attempts count in the device's own bucket instead of the name's, the account's and
    /// the networks' (which strangers share and can fill), and wait for a hashing slot ahead
    /// of every network.
    pub async fn log_in_known(
        &self,
        username: &str,
        password: String,
        client_ip: Option<IpAddr>,
        device: Option<&str>,
        session: NewSession<'_>,
    ) -> Result<LoginOutcome, LoginError> {
        let key = Username::attempt_key(username);
        let mut buckets = Vec::with_capacity(3);
        match device {
            Some(device) => buckets.push(Bucket::Device { device }),
            None => {
                buckets.push(Bucket::Address { client: client_ip });
                buckets.push(Bucket::NameFromAddress {
                    name_key: &key,
                    client: client_ip,
                });
                // A name nobody holds has no account to protect, and a row per random name
                // would let a stranger grow the table twice as fast.
                if self.accounts.exists(&key).await? {
                    buckets.push(Bucket::Account { name_key: &key });
                }
            }
        }
        let reservation = match self.throttle.reserve(&buckets, Millis::now()).await? {
            Ok(reservation) => reservation,
            Err(refused) => return Ok(LoginOutcome::Throttled { wait: refused.wait }),
        };
        let accounts = self.accounts.in_lane(lane(client_ip, device.is_some()));
        match accounts.authenticate(username, password).await {
            Ok(Verified { user, epoch }) => {
                self.throttle.succeeded(reservation).await?;
                self.open(user, epoch, &[], session).await
            }
            Err(AuthError::InvalidCredentials { target }) => Ok(LoginOutcome::InvalidCredentials { target }),
            Err(AuthError::Hash(HashError::Busy { retry_after })) => {
                self.throttle.release(reservation).await?;
                Ok(LoginOutcome::Busy { retry_after })
            }
            Err(AuthError::Hash(other)) => Err(LoginError::Hash(other)),
            Err(AuthError::Db(error)) => Err(LoginError::Db(error)),
        }
    }

    /// Opens the seat of a user whose credentials `epoch` were verified: a login the `ask`
    /// policy held, continued with the sessions the user `chosen` (it may be asked again if
    /// too few were chosen), a new account's first session, or an application's own password
    /// check.
    pub async fn open(
        &self,
        user: User,
        epoch: CredentialEpoch,
        chosen: &[SeatId],
        session: NewSession<'_>,
    ) -> Result<LoginOutcome, LoginError> {
        if let Some(previous) = session.replacing {
            self.seats.end(previous, EndReason::LoggedOut).await?;
        }
        let hash = (session.renew)().await.map_err(LoginError::Session)?;
        let outcome = self
            .seats
            .open(user.id, epoch, &hash, session.client, &self.policy, chosen)
            .await?;
        Ok(match outcome {
            OpenOutcome::Opened { seat, ended } => LoginOutcome::SignedIn { user, seat, ended },
            OpenOutcome::Denied { blocking } => LoginOutcome::Denied { user, blocking },
            OpenOutcome::Ask { candidates } => LoginOutcome::Held {
                user,
                epoch,
                candidates,
            },
            OpenOutcome::CredentialsChanged => LoginOutcome::CredentialsChanged { user },
        })
    }

    /// Creates an account and opens its first session. Counted per client network like
    /// every password check (a hash each): random sign-ups from one client are bounded too.
    pub async fn sign_up(
        &self,
        username: &Username,
        password: Password,
        client_ip: Option<IpAddr>,
        session: NewSession<'_>,
    ) -> Result<SignupOutcome, LoginError> {
        let buckets = [Bucket::Address { client: client_ip }];
        let reservation = match self.throttle.reserve(&buckets, Millis::now()).await? {
            Ok(reservation) => reservation,
            Err(refused) => return Ok(SignupOutcome::Throttled { wait: refused.wait }),
        };
        let accounts = self.accounts.in_lane(lane(client_ip, false));
        match accounts.sign_up(username, password).await {
            Ok(user) => {
                self.throttle.succeeded(reservation).await?;
                let login = self
                    .open(user.clone(), CredentialEpoch::INITIAL, &[], session)
                    .await?;
                Ok(SignupOutcome::Created { user, login })
            }
            Err(SignupError::UsernameTaken) => Ok(SignupOutcome::UsernameTaken),
            Err(SignupError::Hash(HashError::Busy { retry_after })) => {
                self.throttle.release(reservation).await?;
                Ok(SignupOutcome::Busy { retry_after })
            }
            Err(SignupError::Hash(error)) => Err(LoginError::Hash(error)),
            Err(SignupError::Db(error)) => Err(LoginError::Db(error)),
        }
    }

    /// A signed-in user confirms the password (before ending sessions) from its session
    /// `seat`. Counted per client network, per session and per user, before the check: a
    /// stolen cookie does not make the password cheap to guess, and a session that fails
    /// [`ThrottleConfig::reauth_max_failures`](crate::throttle::ThrottleConfig) times is
    /// ended ([`ReauthOutcome::SessionEnded`]).
    pub async fn confirm_password(
        &self,
        user: UserId,
        seat: SeatId,
        password: String,
        client_ip: Option<IpAddr>,
    ) -> Result<ReauthOutcome<()>, LoginError> {
        let accounts = self.accounts.in_lane(lane(client_ip, true));
        self.reauthenticate(user, seat, client_ip, || async {
            match accounts.verify_password(user, password).await {
                Ok(true) => Ok(Some(())),
                Ok(false) => Ok(None),
                Err(AuthError::Hash(error)) => Err(error.into()),
                Err(AuthError::Db(error)) => Err(error.into()),
                Err(AuthError::InvalidCredentials { .. }) => Ok(None),
            }
        })
        .await
    }

    /// A signed-in user changes the password (the current one required) from its session
    /// `keep`: the new hash, the new credential epoch and the end of every other session
    /// commit together. Done with how many sessions ended. Throttled as
    /// [`Logins::confirm_password`].
    pub async fn change_password(
        &self,
        user: UserId,
        current: String,
        new: Password,
        keep: SeatId,
        client_ip: Option<IpAddr>,
    ) -> Result<ReauthOutcome<u64>, LoginError> {
        let accounts = self.accounts.in_lane(lane(client_ip, true));
        self.reauthenticate(user, keep, client_ip, || async {
            match accounts
                .change_password(&self.seats, user, current, new, keep)
                .await
            {
                Ok(ended) => Ok(Some(ended)),
                Err(ChangePasswordError::WrongPassword) => Ok(None),
                Err(ChangePasswordError::Hash(error)) => Err(error.into()),
                Err(ChangePasswordError::Db(error)) => Err(error.into()),
            }
        })
        .await
    }

    /// The throttle around a re-authentication: reserve, check (`None`: wrong password),
    /// give back on success or when no check happened; end the session that has just
    /// filled its own bucket.
    async fn reauthenticate<T, F, Fut>(
        &self,
        user: UserId,
        seat: SeatId,
        client_ip: Option<IpAddr>,
        check: F,
    ) -> Result<ReauthOutcome<T>, LoginError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>, LoginError>>,
    {
        let now = Millis::now();
        let mut buckets = vec![Bucket::Address { client: client_ip }, Bucket::Reauth { seat }];
        // A session whose login proved the password within the window answers to its own
        // bucket only: other sessions' failures cannot keep the owner from recovering.
        let window = self.throttle.config().window;
        let fresh = self
            .seats
            .live_since(seat)
            .await?
            .is_some_and(|opened| opened >= now.minus(window));
        if !fresh {
            buckets.push(Bucket::ReauthUser { user });
        }
        let reservation = match self.throttle.reserve(&buckets, now).await? {
            Ok(reservation) => reservation,
            Err(refused) => return Ok(ReauthOutcome::Throttled { wait: refused.wait }),
        };
        match check().await {
            Ok(Some(done)) => {
                self.throttle.succeeded(reservation).await?;
                Ok(ReauthOutcome::Done(done))
            }
            Ok(None) => {
                let own = Bucket::Reauth { seat };
                if self.throttle.count(&own, Millis::now()).await? >= self.throttle.limit(&own) {
                    // Ended by itself: the user's other pages hear of it like any end.
                    self.seats.end_own(user, seat, EndReason::Revoked, seat).await?;
                    return Ok(ReauthOutcome::SessionEnded);
                }
                Ok(ReauthOutcome::WrongPassword)
            }
            Err(LoginError::Hash(HashError::Busy { retry_after })) => {
                self.throttle.release(reservation).await?;
                Ok(ReauthOutcome::Busy { retry_after })
            }
            Err(other) => Err(other),
        }
    }
}

/// The hashing lane of a client: its widest network, or the known devices' lane.
fn lane(client_ip: Option<IpAddr>, known_device: bool) -> Lane {
    Lane {
        network: crate::throttle::lane_network(client_ip),
        known_device,
    }
}

impl From<HashError> for LoginError {
    fn from(error: HashError) -> Self {
        LoginError::Hash(error)
    }
}
