//! single-login in an axum + tower-sessions application (features `axum` and
//! `tower-sessions`).
//!
//! Three parts, each usable without the others:
//! - [`SingleLogin::layer`]: the per-request check. Behind tower-sessions'
//!   `SessionManagerLayer`, it looks up the seat of the request's session (one indexed query)
//!   and puts a [`SeatState`] in the request, or answers a session whose seat has ended as
//!   [`OnEnded`] says (by default 401 with the reason).
//! - Extractors: [`SignedIn`] for handlers that need a live seat, [`SeatState`] for those
//!   that want to know either way, [`Client`] for where the request comes from.
//! - Operations a handler calls once it has verified the user by its own means:
//!   [`SingleLogin::log_in`] (new session id, seat opened under the policy, older seats ended
//!   as it says), [`SingleLogin::open`] (with verified credentials, or after an `ask`),
//!   [`SingleLogin::log_out`],
//!   [`SingleLogin::renew`] (re-authentication: a new session id for the same seat) and
//!   [`SingleLogin::end_others`] (after a password change).
//!
//! The application keeps its users and its password checks; single-login needs a stable
//! `i64` id per user ([`UserId`]), taken in on its first login ([`crate::Accounts::adopt`]).

mod extract;
mod layer;

use std::sync::Arc;
use std::time::Duration;

use tower_sessions::Session;

pub use extract::{Client, NotSignedIn, SignedIn};
pub use layer::{client_address, SeatCheck, SeatCheckLayer};

use crate::client_ip::ClientIpConfig;
use crate::login::{LoginError, LoginOutcome, NewSession};
use crate::seats::{Check, Ended, LoginContext, SessionHash};
use crate::throttle::{Throttle, ThrottleConfig};
use crate::{
    Accounts, CredentialEpoch, Db, EndReason, Lifetimes, Logins, Millis, Policy, SeatId, Seats, UserId,
};

/// What the check found for a request: put in its extensions by [`SeatCheckLayer`], and an
/// extractor itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatState {
    /// No session, or one that never logged in.
    Anonymous,
    /// The session's seat is live.
    SignedIn(SignedIn),
    /// The session's seat has ended: the session was cleared, and this is why.
    Ended(SessionEnd),
}

/// Why a session was signed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnd {
    /// Whose session it was.
    pub user: UserId,
    /// The seat that ended.
    pub seat: SeatId,
    /// How it ended, when, and (for a replaced one) by which login.
    pub ended: Ended,
}

impl SessionEnd {
    /// A short English sentence for the user.
    pub fn message(&self) -> &'static str {
        match self.ended.reason {
            EndReason::Replaced => "You were signed out because your account signed in somewhere else.",
            EndReason::LoggedOut => "You signed out.",
            EndReason::Revoked => "This session was ended from another of your sessions.",
            EndReason::Expired => "Your session expired. Please sign in again.",
        }
    }
}

/// How [`SeatCheckLayer`] answers a request whose session has just been found ended.
#[derive(Clone, Default)]
pub enum OnEnded {
    /// `401 Unauthorized` with [`SessionEnd::message`] as plain text.
    #[default]
    Unauthorized,
    /// `303 See Other` to this path with `?ended=<reason>` (`replaced`, `revoked`,
    /// `expired`), for the login page to explain.
    Redirect(String),
    /// Let the request through: handlers see [`SeatState::Ended`] (and [`SignedIn`] rejects
    /// it).
    PassThrough,
    /// The application's own answer.
    Custom(Arc<dyn Fn(&SessionEnd) -> axum::response::Response + Send + Sync>),
}

impl std::fmt::Debug for OnEnded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OnEnded::Unauthorized => f.write_str("Unauthorized"),
            OnEnded::Redirect(path) => f.debug_tuple("Redirect").field(path).finish(),
            OnEnded::PassThrough => f.write_str("PassThrough"),
            OnEnded::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// What went wrong in an operation: the database or the session store. Either way the user
/// should see a plain "try again", and the log the whole chain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Opening the login's seat failed: the database, or the session's fresh id
    /// ([`LoginError`]).
    #[error("the login failed")]
    Login(#[from] LoginError),
    /// A query of the seat registry failed.
    #[error("the seat registry failed")]
    Db(#[from] sqlx::Error),
    /// The session store could not read or write the session.
    #[error("the session store failed")]
    Session(#[from] tower_sessions::session::Error),
}

/// single-login for one application: the registry, the policy and how requests are checked.
/// Cheap to clone; build it once at start.
#[derive(Debug, Clone)]
pub struct SingleLogin {
    logins: Logins,
    lifetimes: Lifetimes,
    touch_interval: Duration,
    client_ip: Arc<ClientIpConfig>,
    on_ended: OnEnded,
}

impl SingleLogin {
    /// single-login over `db` (migrated, see [`Db::migrate`]) with `policy`, and defaults for
    /// the rest: sessions end after 14 days unused or 30 days in all, a live seat's last-seen
    /// time is written at most once a minute, no proxy is trusted, and an ended session is
    /// answered 401.
    pub fn new(db: Db, policy: Policy) -> Self {
        SingleLogin::with_logins(Logins {
            accounts: Accounts::new(db.clone()),
            seats: Seats::new(db.clone()),
            throttle: Arc::new(Throttle::new(db, ThrottleConfig::default())),
            policy: Arc::new(policy),
        })
    }

    /// single-login around an existing [`Logins`] (its registry, policy and accounts), with
    /// the defaults of [`SingleLogin::new`] for the rest.
    pub fn with_logins(logins: Logins) -> Self {
        SingleLogin {
            logins,
            lifetimes: Lifetimes {
                idle: Duration::from_secs(14 * 24 * 3600),
                max: Duration::from_secs(30 * 24 * 3600),
            },
            touch_interval: Duration::from_secs(60),
            client_ip: Arc::default(),
            on_ended: OnEnded::default(),
        }
    }

    /// How long a session may live (idle, and in all).
    pub fn lifetimes(mut self, lifetimes: Lifetimes) -> Self {
        self.lifetimes = lifetimes;
        self
    }

    /// How often a live seat's last-seen time is written (and the session's expiry slides).
    pub fn touch_interval(mut self, interval: Duration) -> Self {
        self.touch_interval = interval;
        self
    }

    /// Where the client's address comes from behind reverse proxies.
    pub fn client_ip(mut self, config: ClientIpConfig) -> Self {
        self.client_ip = Arc::new(config);
        self
    }

    /// How a request whose session has ended is answered.
    pub fn on_ended(mut self, answer: OnEnded) -> Self {
        self.on_ended = answer;
        self
    }

    /// The login operations of the core, for what this module does not wrap.
    pub fn logins(&self) -> &Logins {
        &self.logins
    }

    /// The seat registry.
    pub fn seats(&self) -> &Seats {
        &self.logins.seats
    }

    /// The per-request check as a tower layer; put it inside tower-sessions'
    /// `SessionManagerLayer` (that is, `.layer(single_login.layer()).layer(session_layer)`).
    pub fn layer(&self) -> SeatCheckLayer {
        SeatCheckLayer::new(self.clone())
    }

    /// The per-request check for one session: what the layer does, for hosts that need
    /// their own middleware. An ended session is cleared; a live one that was touched is
    /// marked modified, so that its cookie's expiry slides.
    pub async fn check(&self, session: &Session) -> Result<SeatState, Error> {
        Ok(match self.check_seat(session).await? {
            None | Some((_, Check::Unknown)) => SeatState::Anonymous,
            Some((_, Check::Live { status, .. })) => SeatState::SignedIn(SignedIn {
                user: status.user.id,
                seat: status.seat,
            }),
            Some((_, Check::Ended { status, ended })) => SeatState::Ended(SessionEnd {
                user: status.user.id,
                seat: status.seat,
                ended,
            }),
        })
    }

    /// The same check, answered in the registry's own terms, for hosts that tell their
    /// users more than [`SeatState`] holds (the user's name, who replaced the seat): the
    /// session's seat hash and [`Seats::check`]'s answer, with the same effects on the session.
    /// `None` when the request has no session id (no cookie: nothing is looked up).
    pub async fn check_seat(&self, session: &Session) -> Result<Option<(SessionHash, Check)>, Error> {
        // The id from the cookie, read before the session record is loaded: the seat, not the
        // record, decides.
        let Some(id) = session.id() else {
            return Ok(None);
        };
        let hash = SessionHash::of(&id.to_string());
        let now = Millis::now();
        let check = self
            .logins
            .seats
            .check(&hash, &self.lifetimes, self.touch_interval, now)
            .await?;
        match &check {
            Check::Live { touched: true, .. } => session.insert(TOUCHED_KEY, now.0).await?,
            Check::Ended { .. } => session.flush().await?,
            _ => {}
        }
        Ok(Some((hash, check)))
    }

    /// Signs `user` in on this session, once the application has verified who it is: the
    /// session gets a fresh id (no fixation; its data stays), a seat is opened under the
    /// policy, and the seats the policy ends are ended, atomically. A seat this session held
    /// before ends first. The user is taken in on first use ([`Accounts::adopt`]).
    ///
    /// ```no_run
    /// use axum::extract::State;
    /// use axum::response::{IntoResponse, Redirect, Response};
    /// use http::StatusCode;
    /// use single_login::web::{Client, SingleLogin};
    /// use single_login::{LoginOutcome, UserId};
    /// use tower_sessions::Session;
    ///
    /// # fn check_password() -> Option<i64> { Some(7) }
    /// async fn log_in(State(login): State<SingleLogin>, session: Session, client: Client) -> Response {
    ///     // The application's own check of who this is.
    ///     let Some(id) = check_password() else {
    ///         return StatusCode::UNAUTHORIZED.into_response();
    ///     };
    ///     match login.log_in(&session, UserId(id), &client).await {
    ///         Ok(LoginOutcome::SignedIn { .. }) => Redirect::to("/").into_response(),
    ///         Ok(LoginOutcome::Denied { .. }) => StatusCode::CONFLICT.into_response(),
    ///         Ok(_) | Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    ///     }
    /// }
    /// ```
    pub async fn log_in(
        &self,
        session: &Session,
        user: UserId,
        client: &Client,
    ) -> Result<LoginOutcome, Error> {
        let (user, epoch) = self.logins.accounts.adopt(user).await?;
        self.open(session, user, epoch, &[], client).await
    }

    /// Signs in a user whose credentials `epoch` the application has just verified (with
    /// single-login's [`Accounts::authenticate`], say), so that a password change in between
    /// refuses the login; or continues a login the `ask` policy held
    /// ([`LoginOutcome::Held`], whose epoch it carried), ending the seats the user `chosen`.
    pub async fn open(
        &self,
        session: &Session,
        user: crate::User,
        epoch: CredentialEpoch,
        chosen: &[SeatId],
        client: &Client,
    ) -> Result<LoginOutcome, Error> {
        let replacing = self.live_seat(session).await?;
        let context = LoginContext::new(client.ip.map(|ip| ip.to_string()), client.user_agent.as_deref());
        let renewed = session.clone();
        let new = NewSession {
            client: &context,
            replacing,
            renew: Box::new(move || {
                Box::pin(async move {
                    renew_id(&renewed)
                        .await
                        .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })
                })
            }),
        };
        Ok(self.logins.open(user, epoch, chosen, new).await?)
    }

    /// The live seat this session holds, if any.
    async fn live_seat(&self, session: &Session) -> Result<Option<SeatId>, Error> {
        let Some(id) = session.id() else {
            return Ok(None);
        };
        let status = self
            .logins
            .seats
            .status(&SessionHash::of(&id.to_string()))
            .await?;
        Ok(status
            .filter(|status| status.ended.is_none())
            .map(|status| status.seat))
    }

    /// Ends this session's seat (reason `logged_out`) and clears the session. Returns whether
    /// a live seat ended.
    pub async fn log_out(&self, session: &Session) -> Result<bool, Error> {
        let ended = match self.live_seat(session).await? {
            Some(seat) => self.logins.seats.end(seat, EndReason::LoggedOut).await?,
            None => false,
        };
        session.flush().await?;
        Ok(ended)
    }

    /// A new session id for a signed-in session whose user has just re-authenticated (OWASP
    /// ASVS 7.2.4), the seat moved along. False when the seat ended meanwhile; the session is
    /// then cleared.
    pub async fn renew(&self, session: &Session, seat: SeatId) -> Result<bool, Error> {
        let hash = renew_id(session).await?;
        if self.logins.seats.rekey(seat, &hash).await? {
            Ok(true)
        } else {
            session.flush().await?;
            Ok(false)
        }
    }

    /// Ends every live seat of `user` but `keep` (reason `revoked`), as after a password
    /// change. Returns how many ended.
    pub async fn end_others(&self, user: UserId, keep: Option<SeatId>) -> Result<u64, Error> {
        Ok(self
            .logins
            .seats
            .end_all(user, EndReason::Revoked, keep, keep)
            .await?)
    }
}

/// Set when a touch moved the seat's last-seen time: a change, so tower-sessions saves the
/// record and re-sends the cookie with a later expiry.
const TOUCHED_KEY: &str = "single_login.touched";

/// Gives the session a fresh id (saved at once, so that the id exists) and returns its hash.
pub async fn renew_id(session: &Session) -> Result<SessionHash, tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.save().await?;
    // A saved session always has an id.
    let id = session.id().map(|id| id.to_string()).unwrap_or_default();
    Ok(SessionHash::of(&id))
}
