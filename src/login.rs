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

use crate::accounts::{Accounts, AuthError, CredentialEpoch, User, UserId, Verified};
use crate::password::HashError;
use crate::policy::Policy;
use crate::seats::{EndReason, LoginContext, OpenOutcome, SeatId, SeatInfo, Seats, SessionHash};
use crate::throttle::{Bucket, Throttle};
use crate::username::Username;
use crate::Millis;

/// The services a login uses.
#[derive(Debug, Clone)]
pub struct Logins {
    pub accounts: Accounts,
    pub seats: Seats,
    pub throttle: Arc<Throttle>,
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
    pub renew: Renew<'a>,
}

/// What became of a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Signed in: the new seat, and the seats the policy ended for it.
    SignedIn {
        user: User,
        seat: SeatId,
        ended: Vec<(SeatId, EndReason)>,
    },
    /// `deny_new`: these active sessions hold the limit. Not a failed login.
    Denied { user: User, blocking: Vec<SeatInfo> },
    /// `ask`: the password was right; the user chooses among these sessions, then continues
    /// with [`Logins::continue_held`] and this epoch. Not a failed login.
    Held {
        user: User,
        epoch: CredentialEpoch,
        candidates: Vec<SeatInfo>,
    },
    /// The password was right, but the account was disabled or its password changed while
    /// the login was under way: nothing opened.
    CredentialsChanged { user: User },
    /// Unknown name and wrong password alike. `target` is the account the name belongs to,
    /// for the logs only.
    InvalidCredentials { target: Option<UserId> },
    /// A throttle bucket is full: no password was checked.
    Throttled { wait: Duration },
    /// No hashing slot in time: no password was checked, nothing counted.
    Busy { retry_after: Duration },
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("could not reach the database")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Hash(HashError),
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
        let key = Username::parse(username)
            .map(|name| name.key().to_owned())
            .unwrap_or_else(|_| username.chars().take(64).collect::<String>().to_lowercase());
        let buckets = [
            Bucket::Address { client: client_ip },
            Bucket::NameFromAddress {
                name_key: &key,
                client: client_ip,
            },
            Bucket::Account { name_key: &key },
        ];
        let reservation = match self.throttle.reserve(&buckets, Millis::now()).await? {
            Ok(reservation) => reservation,
            Err(refused) => return Ok(LoginOutcome::Throttled { wait: refused.wait }),
        };
        match self.accounts.authenticate(username, password).await {
            Ok(Verified { user, epoch }) => {
                self.throttle.succeeded(reservation).await?;
                self.open(user, epoch, &[], session).await
            }
            Err(AuthError::InvalidCredentials) => Ok(LoginOutcome::InvalidCredentials {
                target: self.accounts.id_of(username).await?,
            }),
            Err(AuthError::Hash(HashError::Busy { retry_after })) => {
                self.throttle.release(reservation).await?;
                Ok(LoginOutcome::Busy { retry_after })
            }
            Err(AuthError::Hash(other)) => Err(LoginError::Hash(other)),
            Err(AuthError::Db(error)) => Err(LoginError::Db(error)),
        }
    }

    /// Continues a login the `ask` policy held, ending the sessions the user `chosen`;
    /// `epoch` is the one the held login verified. It may be asked again (too few chosen).
    pub async fn continue_held(
        &self,
        user: User,
        epoch: CredentialEpoch,
        chosen: &[SeatId],
        session: NewSession<'_>,
    ) -> Result<LoginOutcome, LoginError> {
        self.open(user, epoch, chosen, session).await
    }

    /// Opens the seat of a user who has just been verified some other way (a new account's
    /// first session, or an application's own password check), under credentials `epoch`.
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
}
