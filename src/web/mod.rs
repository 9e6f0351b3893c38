//! single-login in an axum + tower-sessions application (features `axum` and
//! `tower-sessions`).
//!
//! The parts:
//! - [`SingleLogin::session_layer`]: tower-sessions' session layer over single-login's
//!   [`HashedStore`] with the per-request check inside it, in the one order that works. The
//!   check looks up the seat of the request's session (one indexed query) and puts a
//!   [`SeatState`] and a [`Client`] in the request, or answers a session whose seat has
//!   ended as [`OnEnded`] says (by default 401 with the reason).
//! - Extractors: [`SignedIn`] for handlers that need a live seat, [`SeatState`] for those
//!   that want to know either way, [`Client`] for where the request comes from.
//! - The login, in two steps around the application's own password check when it keeps its
//!   own passwords: [`SingleLogin::begin_login`] before the check (it takes the account's
//!   credential epoch), [`SingleLogin::log_in`] after it (new session id, seat opened under
//!   the policy, older seats ended as it says; refused if the credentials changed in
//!   between). With single-login's own accounts, `Logins::log_in` throttles and
//!   checks the password, then opens the seat through [`SingleLogin::new_session`].
//! - What a signed-in user does: [`SingleLogin::log_out`], [`SingleLogin::renew`] (a new
//!   session id after re-authentication), [`SingleLogin::end_session`] (one of the user's
//!   other sessions), and [`SingleLogin::credentials_changed`] (after the application wrote
//!   a new password: every other session ends, and logins under way are refused).
//! - Hardening every site needs: [`refuse_cross_origin`] (CSRF for form posts),
//!   [`security_headers`] and [`no_store`].
//! - [`SingleLogin::notice`]: on the login page, why this browser was just signed out (a
//!   signed, short-lived cookie, never a URL anyone could link).
//!
//! The application keeps its users; single-login needs a stable `i64` id per user
//! ([`UserId`]), taken in on its first login ([`crate::Accounts::adopt`]).

pub mod cookies;
mod extract;
pub mod headers;
mod layer;
mod origin;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, Redirect, Response};
use http::{header, HeaderMap, HeaderName, HeaderValue};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};

pub use cookies::{Cookies, Notice};
pub use extract::{Client, NotSignedIn, SignedIn};
pub use headers::{no_store, security_headers, SecurityHeaders};
pub use layer::{client_address, SeatCheck, SeatCheckLayer};
pub use origin::refuse_cross_origin;
pub use store::HashedStore;

use crate::accounts::AccountsError;
use crate::client_ip::ClientIpConfig;
use crate::login::{LoginError, LoginOutcome, NewSession};
use crate::seats::{Check, CredentialChange, Ended, EndedBy, LoginContext, RegistryError, SessionHash};
use crate::signing::SigningKey;
#[cfg(feature = "passwords")]
use crate::throttle::{Throttle, ThrottleConfig};
use crate::{
    Accounts, CredentialEpoch, Db, EndReason, Lifetimes, Logins, Millis, Policy, SeatId, Seats, User, UserId,
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
            EndReason::LimitLowered => "You were signed out because your account's session limit changed.",
        }
    }
}

/// How [`SeatCheckLayer`] answers a request whose session has just been found ended.
#[derive(Clone, Default)]
pub enum OnEnded {
    /// `401 Unauthorized` with [`SessionEnd::message`] as plain text.
    #[default]
    Unauthorized,
    /// `303 See Other` to this path (the login page), with a signed notice cookie that
    /// names the ended seat: the page reads why with [`SingleLogin::notice`]. The reason is
    /// never in the URL, where anyone could link a page that says "you were signed out".
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
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A query of the account store failed.
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    /// The key that signs the cookies could not be loaded or made.
    #[error("the signing key could not be loaded")]
    Key(#[from] sqlx::Error),
    /// The session store could not read or write the session.
    #[error("the session store failed")]
    Session(#[from] tower_sessions::session::Error),
    /// A session or seat that is not the signed-in user's own.
    #[error("not this user's session")]
    NotYours,
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
    secure: bool,
    /// Loaded from the database on first use ([`SigningKey::load_or_create`]) unless given.
    key: Arc<tokio::sync::OnceCell<SigningKey>>,
}

/// A login begun with [`SingleLogin::begin_login`]: the user, and the credential epoch read
/// before the application checked the password. [`SingleLogin::log_in`] opens a seat only if
/// the epoch has not moved since.
#[derive(Debug, Clone)]
pub struct LoginTicket {
    user: User,
    epoch: CredentialEpoch,
}

impl LoginTicket {
    /// The user signing in.
    pub fn user(&self) -> &User {
        &self.user
    }
}

/// The name of the session cookie [`SingleLogin::session_layer`] sets when it is `Secure`.
/// Browsers accept a `__Host-` cookie only with `Secure`, `Path=/` and no `Domain`, so no
/// other host of the domain can set or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-single_login_session";
/// Its name without `Secure` ([`SingleLogin::insecure_cookies_for_development`]).
pub const SESSION_COOKIE: &str = "single_login_session";

/// `Clear-Site-Data` for a browser whose session ends (logout, kick): its caches and storage
/// go (ASVS 14.3.1). Not "cookies": the answer sets the notice cookie that says why, and the
/// application's other cookies (a language, a known device) stay.
pub const CLEAR_SITE_DATA: &str = r#""cache", "storage""#;

/// The `Clear-Site-Data` header ([`CLEAR_SITE_DATA`]) for an answer that ends a browser's
/// session.
pub fn clear_site_data() -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static("clear-site-data"),
        HeaderValue::from_static(CLEAR_SITE_DATA),
    )
}

/// What the notice cookie of a request says, read back ([`SingleLogin::notice`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeSeen {
    /// This browser signed out.
    SignedOut,
    /// This browser's session ended, and how.
    Ended(SessionEnd),
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
            #[cfg(feature = "passwords")]
            throttle: Arc::new(Throttle::new(db.clone(), ThrottleConfig::default())),
            policy: Arc::new(policy),
        })
    }

    /// Asks `hook` for the limits of users who have none of their own and no group (by
    /// plan, by role): see [`Seats::with_limits_for`].
    pub fn limits_for(mut self, hook: impl crate::seats::LimitsFor) -> Self {
        self.logins.seats = self.logins.seats.with_limits_for(hook);
        self
    }

    /// single-login around an existing [`Logins`] (its registry, policy and accounts), with
    /// the defaults of [`SingleLogin::new`] for the rest.
    pub fn with_logins(logins: Logins) -> Self {
        SingleLogin {
            logins,
            lifetimes: Lifetimes::default(),
            touch_interval: crate::lifecycle::DEFAULT_TOUCH_INTERVAL,
            client_ip: Arc::default(),
            on_ended: OnEnded::default(),
            secure: true,
            key: Arc::default(),
        }
    }

    /// Cookies without `Secure` (and without the `__Host-` prefix), for a development run
    /// on plain http. Never in production: the session cookie would travel in clear.
    pub fn insecure_cookies_for_development(mut self) -> Self {
        self.secure = false;
        self
    }

    /// The key that signs the notice and known-device cookies, instead of the one kept in
    /// the database (`single_login_signing_keys`, made at the first start).
    pub fn signing_key(self, key: SigningKey) -> Self {
        let cell = tokio::sync::OnceCell::new_with(Some(key));
        SingleLogin {
            key: Arc::new(cell),
            ..self
        }
    }

    /// The signed cookies (the notice, the known device) with their key.
    pub async fn cookies(&self) -> Result<Cookies, Error> {
        let db = self.logins.seats.db();
        let key = self
            .key
            .get_or_try_init(|| SigningKey::load_or_create(db, "cookies"))
            .await?;
        Ok(Cookies {
            secure: self.secure,
            key: key.clone(),
        })
    }

    /// The session cookie's name: [`SECURE_SESSION_COOKIE`], or [`SESSION_COOKIE`] without
    /// `Secure`.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }

    /// The response headers for this site ([`security_headers`]): HSTS exactly where the
    /// session cookie is `Secure`, and [`headers::DEFAULT_CSP`].
    pub fn security_headers(&self) -> SecurityHeaders {
        SecurityHeaders::new().hsts(self.secure)
    }

    /// The session layer with the seat check inside it: add it once, as the outermost layer
    /// of the routes that have sessions (`router.layer(login.session_layer(store))`). The
    /// session cookie is `HttpOnly`, `SameSite=Lax`, `Secure` (unless
    /// [`SingleLogin::insecure_cookies_for_development`]) and named
    /// [`SingleLogin::session_cookie_name`]; the session lasts as long as the seat
    /// ([`SingleLogin::lifetimes`]'s idle time, sliding).
    pub fn session_layer<Store: SessionStore + Clone>(
        &self,
        store: Store,
    ) -> tower_layer::Stack<SeatCheckLayer, SessionManagerLayer<Store>> {
        tower_layer::Stack::new(self.layer(), self.session_manager(store))
    }

    /// The session layer of [`SingleLogin::session_layer`] alone, for an application that
    /// runs the check its own way ([`SingleLogin::check`]).
    pub fn session_manager<Store: SessionStore + Clone>(&self, store: Store) -> SessionManagerLayer<Store> {
        let idle = time::Duration::try_from(self.lifetimes.idle).unwrap_or(time::Duration::WEEK);
        SessionManagerLayer::new(store)
            .with_name(self.session_cookie_name())
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(self.secure)
            .with_expiry(Expiry::OnInactivity(idle))
    }

    /// Where a request comes from: the peer of axum's `ConnectInfo`, or the address the
    /// trusted proxies forwarded, and the user agent. `None` without `ConnectInfo` (the app is
    /// not served with it). The check's layer puts it in every request it lets through.
    pub fn client(&self, headers: &HeaderMap, extensions: &http::Extensions) -> Option<Client> {
        layer::client_of(&self.client_ip, headers, extensions)
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

    /// The per-request check alone, as a tower layer, for an application that builds its own
    /// `SessionManagerLayer`: it must run inside it (that is,
    /// `.layer(single_login.layer()).layer(session_layer)`; [`SingleLogin::session_layer`]
    /// does both). Outside it, every request is answered 500 with a log line that says so:
    /// a check that cannot see the session must not let it through.
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
                username: status.user.username,
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
        let Some(hash) = session_hash(session) else {
            return Ok(None);
        };
        let now = Millis::now();
        let (lifetimes, touch) = self.lifetimes_for(session);
        let check = self.logins.seats.check(&hash, &lifetimes, touch, now).await?;
        match &check {
            Check::Live { touched: true, .. } => session.insert(TOUCHED_KEY, now.0).await?,
            Check::Ended { .. } => session.flush().await?,
            _ => {}
        }
        Ok(Some((hash, check)))
    }

    /// The seat lifetimes for this session: the configured ones, shortened to the session's
    /// own idle expiry when the application's session layer has a shorter one, so that a
    /// copied cookie never outlives the session the application configured. The last-seen
    /// time is then written often enough for an active session to stay live.
    fn lifetimes_for(&self, session: &Session) -> (Lifetimes, Duration) {
        let mut lifetimes = self.lifetimes;
        if let Some(Expiry::OnInactivity(idle)) = session.expiry() {
            let idle = Duration::try_from(idle).unwrap_or(Duration::ZERO);
            lifetimes.idle = lifetimes.idle.min(idle);
        }
        (lifetimes, self.touch_interval.min(lifetimes.idle / 4))
    }

    /// The first step of a login for an application that checks passwords itself: call it
    /// **before** the check. It takes the user in on first use ([`Accounts::adopt`]) and
    /// reads the account's credential epoch, so that [`SingleLogin::log_in`] refuses the
    /// login if the credentials changed meanwhile ([`SingleLogin::credentials_changed`]):
    /// a login that checked the old password never opens a seat after the change.
    pub async fn begin_login(&self, user: UserId) -> Result<LoginTicket, Error> {
        let (user, epoch) = self.logins.accounts.adopt(user).await?;
        Ok(LoginTicket { user, epoch })
    }

    /// Signs the user of `ticket` in on this session, once the application has verified who
    /// it is: the session gets a fresh id (no fixation; its data stays), a seat is opened
    /// under the policy, and the seats the policy ends are ended, atomically. A seat this
    /// session held before ends first. [`LoginOutcome::CredentialsChanged`] when the
    /// credentials changed since [`SingleLogin::begin_login`].
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
    ///     # let user = UserId(7);
    ///     // The epoch first, then the application's own check of who this is.
    ///     let Ok(ticket) = login.begin_login(user).await else {
    ///         return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    ///     };
    ///     if check_password().is_none() {
    ///         return StatusCode::UNAUTHORIZED.into_response();
    ///     }
    ///     match login.log_in(&session, ticket, &client).await {
    ///         Ok(LoginOutcome::SignedIn { .. }) => Redirect::to("/").into_response(),
    ///         Ok(LoginOutcome::Denied { .. }) => StatusCode::CONFLICT.into_response(),
    ///         Ok(_) | Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    ///     }
    /// }
    /// ```
    pub async fn log_in(
        &self,
        session: &Session,
        ticket: LoginTicket,
        client: &Client,
    ) -> Result<LoginOutcome, Error> {
        self.open(session, ticket.user, ticket.epoch, &[], client).await
    }

    /// Signs in a user whose credentials at `epoch` were verified: continues a login the
    /// `ask` policy held ([`LoginOutcome::Held`], whose epoch it carried), ending the seats
    /// the user `chosen`; or a new account's first session.
    pub async fn open(
        &self,
        session: &Session,
        user: User,
        epoch: CredentialEpoch,
        chosen: &[SeatId],
        client: &Client,
    ) -> Result<LoginOutcome, Error> {
        let context = client.context();
        let new = self.new_session(session, &context).await?;
        Ok(self.logins.open(user, epoch, chosen, new).await?)
    }

    /// What [`Logins`] needs to open a seat on this session: the client, the seat this
    /// session holds now (it ends first), and how to give the session a fresh id. For
    /// `Logins::log_in`, the throttled login with single-login's own accounts.
    pub async fn new_session<'a>(
        &self,
        session: &Session,
        context: &'a LoginContext,
    ) -> Result<NewSession<'a>, Error> {
        let replacing = self.live_seat(session).await?;
        let renewed = session.clone();
        Ok(NewSession {
            client: context,
            replacing,
            renew: Box::new(move || {
                Box::pin(async move {
                    renew_id(&renewed)
                        .await
                        .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })
                })
            }),
        })
    }

    /// The live seat this session holds, if any.
    async fn live_seat(&self, session: &Session) -> Result<Option<SeatId>, Error> {
        let Some(hash) = session_hash(session) else {
            return Ok(None);
        };
        let status = self.logins.seats.status(&hash).await?;
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

    /// A new session id for this signed-in session, whose user has just re-authenticated
    /// (OWASP ASVS 7.2.4), the seat moved along. False when the seat ended meanwhile; the
    /// session is then cleared. `me` must be this request's own [`SignedIn`]: the seat of
    /// any other session is refused ([`Error::NotYours`]).
    pub async fn renew(&self, session: &Session, me: &SignedIn) -> Result<bool, Error> {
        if self.live_seat(session).await? != Some(me.seat) {
            return Err(Error::NotYours);
        }
        let hash = renew_id(session).await?;
        if self.logins.seats.rekey(me.seat, &hash).await? {
            Ok(true)
        } else {
            session.flush().await?;
            Ok(false)
        }
    }

    /// Ends one of the signed-in user's own sessions (reason `revoked`, by `me`'s). False
    /// when `seat` is not a live session of this user: another user's seat is never ended.
    pub async fn end_session(&self, me: &SignedIn, seat: SeatId) -> Result<bool, Error> {
        Ok(self
            .logins
            .seats
            .end_own(me.user, seat, EndReason::Revoked, me.seat)
            .await?)
    }

    /// Ends every other live session of the signed-in user (reason `revoked`, by `me`'s).
    /// Returns how many ended.
    pub async fn end_other_sessions(&self, me: &SignedIn) -> Result<u64, Error> {
        Ok(self
            .logins
            .seats
            .end_all(
                me.user,
                EndReason::Revoked,
                Some(me.seat),
                EndedBy::Session(me.seat),
            )
            .await?)
    }

    /// Tells single-login that `user`'s credentials changed (the application has written a
    /// new password, or disabled the account): in one transaction the account's credential
    /// epoch moves on, so that no login begun before it opens a seat, and every live
    /// session but `keep`'s ends (reason `revoked`). Call it right after the application's
    /// own write. Returns how many sessions ended.
    pub async fn credentials_changed(&self, user: UserId, keep: Option<&SignedIn>) -> Result<u64, Error> {
        if keep.is_some_and(|me| me.user != user) {
            return Err(Error::NotYours);
        }
        let ended = self
            .logins
            .seats
            .change_credentials(user, CredentialChange::SignOut, keep.map(|me| me.seat))
            .await?;
        Ok(ended.unwrap_or(0))
    }

    /// `Set-Cookie` for a notice the login page shows once: "you signed out", or why seat
    /// N ended ([`OnEnded::Redirect`] sets the latter itself).
    pub async fn set_notice(&self, notice: Notice) -> Result<HeaderValue, Error> {
        Ok(self.cookies().await?.set_notice(notice, Millis::now()))
    }

    /// What the request's notice cookie says, if it has a valid one: for the login page.
    /// Answer it with [`SingleLogin::clear_notice`], so that it is shown once.
    pub async fn notice(&self, headers: &HeaderMap) -> Result<Option<NoticeSeen>, Error> {
        let cookies = self.cookies().await?;
        let lines = cookies::cookie_headers(headers);
        let Some(notice) = cookies.notice(lines.iter().map(String::as_str), Millis::now()) else {
            return Ok(None);
        };
        Ok(match notice {
            Notice::SignedOut => Some(NoticeSeen::SignedOut),
            Notice::Ended(seat) => self
                .logins
                .seats
                .ended(seat)
                .await?
                .map(|(user, ended)| NoticeSeen::Ended(SessionEnd { user, seat, ended })),
        })
    }

    /// The answer that sends the browser of the ended `seat` to `to` (the login page): its
    /// site data cleared, and the signed notice from which that page says why
    /// ([`SingleLogin::notice`]).
    pub async fn redirect_ended(&self, seat: SeatId, to: &str) -> Result<Response, Error> {
        let notice = self.set_notice(Notice::Ended(seat)).await?;
        Ok((
            [clear_site_data(), (header::SET_COOKIE, notice)],
            Redirect::to(to),
        )
            .into_response())
    }

    /// `Set-Cookie` that removes the notice cookie.
    pub async fn clear_notice(&self) -> Result<HeaderValue, Error> {
        Ok(self.cookies().await?.clear_notice())
    }
}

/// Set when a touch moved the seat's last-seen time: a change, so tower-sessions saves the
/// record and re-sends the cookie with a later expiry.
const TOUCHED_KEY: &str = "single_login.touched";

/// Set at every login: a session with no data gets no cookie from tower-sessions, and a
/// signed-in one must have its cookie whatever the application stores.
const SIGNED_IN_KEY: &str = "single_login.signed_in_at";

/// Gives the session a fresh id (saved at once, so that the id exists) and returns its hash.
/// The session's data stays.
pub async fn renew_id(session: &Session) -> Result<SessionHash, tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(SIGNED_IN_KEY, Millis::now().0).await?;
    session.save().await?;
    // A saved session always has an id.
    Ok(session_hash(session).unwrap_or_else(|| SessionHash::of("")))
}

/// The hash the seat of `session` is found by: that of the id its cookie carries (read
/// before the session record is loaded), or `None` without one.
pub fn session_hash(session: &Session) -> Option<SessionHash> {
    session.id().map(|id| SessionHash::of(&id.to_string()))
}
