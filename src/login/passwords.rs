//! The password half of the login (feature `passwords`): throttle, verification, then the
//! seat ([`Logins::open`]); sign-up; re-authentication.

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use super::{LoginError, LoginOutcome, Logins, NewSession};
use crate::accounts::{AuthError, ChangePasswordError, CredentialEpoch, SignupError, User, UserId, Verified};
use crate::events::{self, By, EventType, NewEvent};
use crate::password::{HashError, Password};
use crate::seats::{EndReason, RegistryError, SeatId};
use crate::slots::Lane;
use crate::throttle::Bucket;
use crate::username::Username;
use crate::Millis;

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
        let started = std::time::Instant::now();
        let outcome = self.attempt(username, password, client_ip, device, session).await;
        let name = outcome.as_ref().map_or("error", LoginOutcome::name);
        metrics::counter!("single_login_logins_total", "outcome" => name).increment(1);
        metrics::histogram!("single_login_login_duration_seconds").record(started.elapsed().as_secs_f64());
        outcome
    }

    /// [`Logins::log_in_known`] without its measurements.
    async fn attempt(
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
        let attempt = |event, user| {
            let client = session.client;
            let ip = client.client_ip.map(|ip| ip.to_string());
            NewEvent::new(event, user).at_seat(None, ip.as_deref(), client.user_agent.as_deref())
        };
        let reservation = match self.throttle.reserve(&buckets, Millis::now()).await? {
            Ok(reservation) => reservation,
            Err(refused) => {
                if refused.first {
                    events::record(self.seats.db(), &[attempt(EventType::AttemptThrottled, None)])
                        .await
                        .map_err(RegistryError::from)?;
                }
                return Ok(LoginOutcome::Throttled { wait: refused.wait });
            }
        };
        let accounts = self.accounts.in_lane(lane(client_ip, device.is_some()));
        match accounts.authenticate(username, password).await {
            Ok(Verified { user, epoch }) => {
                self.throttle.succeeded(reservation).await?;
                self.open(user, epoch, &[], session).await
            }
            Err(AuthError::InvalidCredentials { target }) => {
                // Only for an account that exists: a stranger's guesses at names nobody
                // holds leave no lasting record (they are logged and counted).
                if let Some(user) = target {
                    events::record(self.seats.db(), &[attempt(EventType::LoginFailed, Some(user))])
                        .await
                        .map_err(RegistryError::from)?;
                }
                Ok(LoginOutcome::InvalidCredentials { target })
            }
            Err(AuthError::Hash(HashError::Busy { retry_after })) => {
                self.throttle.release(reservation).await?;
                Ok(LoginOutcome::Busy { retry_after })
            }
            Err(AuthError::Hash(other)) => Err(LoginError::Hash(other)),
            Err(AuthError::Db(error)) => Err(LoginError::Accounts(error)),
        }
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
            Err(SignupError::Db(error)) => Err(LoginError::Accounts(error)),
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
                Err(ChangePasswordError::Registry(error)) => Err(error.into()),
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
                let mut event = NewEvent::new(EventType::Reauthenticated, Some(user)).by(By::Seat(seat));
                event.seat = Some(seat);
                events::record(self.seats.db(), &[event])
                    .await
                    .map_err(RegistryError::from)?;
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
