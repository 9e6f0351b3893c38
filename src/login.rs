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

#[cfg(feature = "passwords")]
mod passwords;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::accounts::{Accounts, AccountsError, CredentialEpoch, User, UserId};
use crate::policy::Policy;
use crate::seats::{
    EndReason, LoginContext, OpenOutcome, RegistryError, SeatId, SeatInfo, Seats, SessionHash,
};
#[cfg(feature = "passwords")]
use crate::throttle::Throttle;
#[cfg(feature = "passwords")]
pub use passwords::{ReauthOutcome, SignupOutcome};

/// The services a login uses. Without the feature `passwords`, a login opens the seat of a
/// user the application verified ([`Logins::open`]); with it, `Logins::log_in` also
/// throttles and checks the password.
#[derive(Debug, Clone)]
pub struct Logins {
    /// Knows the users (and, feature `passwords`, checks passwords and creates accounts).
    pub accounts: Accounts,
    /// The registry the login's seat opens in.
    pub seats: Seats,
    /// Counts every password check before it happens.
    #[cfg(feature = "passwords")]
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

impl LoginOutcome {
    /// Every [`LoginOutcome::name`], and `error` for a login that had none (the metrics
    /// start each at zero).
    pub const NAMES: &'static [&'static str] = &[
        "signed_in",
        "denied",
        "held",
        "credentials_changed",
        "invalid_credentials",
        "throttled",
        "busy",
        "error",
    ];

    /// The outcome's name, as the metrics label it.
    pub fn name(&self) -> &'static str {
        match self {
            LoginOutcome::SignedIn { .. } => "signed_in",
            LoginOutcome::Denied { .. } => "denied",
            LoginOutcome::Held { .. } => "held",
            LoginOutcome::CredentialsChanged { .. } => "credentials_changed",
            LoginOutcome::InvalidCredentials { .. } => "invalid_credentials",
            LoginOutcome::Throttled { .. } => "throttled",
            LoginOutcome::Busy { .. } => "busy",
        }
    }
}

/// What kept a login, sign-up or re-authentication from having an outcome at all.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// A query of the seat registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A query of the account store failed.
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    /// A query of the throttle failed.
    #[cfg(feature = "passwords")]
    #[error(transparent)]
    Throttle(#[from] crate::throttle::ThrottleError),
    /// Hashing or verifying failed (a busy hashing pool is an outcome, never this).
    #[cfg(feature = "passwords")]
    #[error(transparent)]
    Hash(crate::password::HashError),
    /// The web framework could not give the session a fresh id ([`Renew`]).
    #[error("could not give the session a fresh id")]
    Session(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Logins {
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
}
