//! single-login keeps each user account to its allowed number of live logins: when a user
//! signs in from a new browser, the policy decides which older sessions end (or whether the
//! new one is refused, or the user is asked), and every request of an ended session is told
//! so on its next request. The rules live here, with no web framework in sight; the
//! features `axum` and `tower-sessions` add [`web`], which puts them into any axum app.
//!
//! # Quick start (feature `tower-sessions`)
//!
//! ```no_run
//! # #[cfg(feature = "tower-sessions")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::routing::get;
//! use axum::Router;
//! use single_login::web::{HashedStore, OnEnded, SignedIn, SingleLogin};
//! use single_login::{Db, Policy};
//!
//! // The app's own database will do: single-login's tables are all `single_login_*`.
//! let db = Db::connect("sqlite://data/app.db").await?;
//! db.migrate().await?;
//! let store = HashedStore::new(&db);
//! store.migrate().await?;
//! let login = SingleLogin::new(db, Policy::default()).on_ended(OnEnded::Redirect("/login".into()));
//! let app: Router = Router::new()
//!     .route("/", get(|me: SignedIn| async move { format!("user {}", me.user.0) }))
//!     // ... your login route: `login.begin_login(user)` before your password check, then
//!     // `login.log_in(&session, ticket, &client)`
//!     .layer(login.session_layer(store));
//! // Serve it with `into_make_service_with_connect_info::<SocketAddr>()`.
//! # Ok(())
//! # }
//! ```
//!
//! `docs/library.md` in the repository has a whole app, and what an adopter still owns.
//!
//! The pieces:
//! - [`Username`] and (feature `passwords`) `Password` parse untrusted input into valid values;
//! - `password` (feature `passwords`) hashes and verifies with argon2id off the async
//!   runtime, a bounded number at a time (`Hashing`);
//! - [`Db`] connects to SQLite (feature `sqlite`) or PostgreSQL (feature `postgres`) and runs
//!   the migrations;
//! - [`Accounts`] stores users (or adopts the ids of an application's own, [`Accounts::adopt`]);
//! - [`Logins`] is the login itself: throttle, verification and seat, in order (without the
//!   feature `passwords`, the seat of a user the application verified);
//! - [`Seats`] is the session-seat registry: one row per login, opened under the user's lock
//!   so that simultaneous logins cannot outnumber the policy;
//! - [`changes`] tells live pages, in this process and others, that a user's seats changed;
//! - [`policy`] decides, as a pure function, which seats a new login ends;
//! - [`client_ip`] finds the client behind trusted reverse proxies;
//! - `throttle` (feature `passwords`) counts password checks per client network, account and
//!   user, before the password is verified.
//!
//! # Features
//!
//! - `sqlite`, `postgres` (both by default): the databases [`Db`] can connect to. Without
//!   either, only the pure core is built: the policy, the client IP, usernames, the
//!   vocabulary and the lifetimes.
//! - `passwords` (by default): single-login's own passwords (argon2id), the throttle and the
//!   throttled login. Without it the application checks passwords itself and tells
//!   single-login who signed in.
//! - `axum`, `tower-sessions`: [`web`], the integration into an axum app.
//!
//! An application on SQLite with its own passwords takes
//! `default-features = false, features = ["sqlite", "tower-sessions"]`: no PostgreSQL driver,
//! no argon2.
//!
//! The policy alone, as a pure function:
//!
//! ```
//! use single_login::policy::{plan, Decision, LiveSeat, NewLogin};
//! use single_login::{DeviceKind, EndReason, KindLimits, Millis, Policy, SeatId};
//!
//! let seat = |id, kind| LiveSeat { id: SeatId(id), last_seen_at: Millis(id), client_ip: None, kind };
//! let phone = NewLogin { client_ip: None, kind: DeviceKind::Phone };
//! // The default policy: one session per user, a new login ends the oldest.
//! let live = [seat(1, DeviceKind::Computer)];
//! let decision = plan(&Policy::default(), None, &live, &[], phone, Millis(2_000));
//! assert_eq!(decision, Decision::Admit { end: vec![(SeatId(1), EndReason::Replaced)] });
//!
//! // One phone and one computer: a second phone replaces the first phone only.
//! let policy = Policy {
//!     max_sessions: 2,
//!     seat_limits: KindLimits::of([(DeviceKind::Phone, 1), (DeviceKind::Computer, 1)]),
//!     ..Policy::default()
//! };
//! let live = [seat(1, DeviceKind::Computer), seat(2, DeviceKind::Phone)];
//! let decision = plan(&policy, None, &live, &[], phone, Millis(2_000));
//! assert_eq!(decision, Decision::Admit { end: vec![(SeatId(2), EndReason::Replaced)] });
//! ```
//!
//! # Guarantees
//!
//! - **Atomic logins.** A login reads the user's live seats, lets the policy decide, ends
//!   what it says and opens the new seat in one transaction under a lock on the user's row
//!   (SQLite `BEGIN IMMEDIATE`; PostgreSQL `SELECT … FOR UPDATE`). However many logins of one
//!   user run at once, in however many processes sharing one database, each sees the seats
//!   the previous one left: never more than the limit stay live.
//! - **The per-request check reads the registry**, one indexed lookup. [`Seats::new`] keeps
//!   no memory of it: from the moment the kicking login's transaction commits, the ended
//!   session is refused in every process. [`Seats::with_cache`] remembers live seats for a
//!   short time to live: every change to a seat forgets it before the change answers, so the
//!   check stays exact within the process, and other processes learn within the time to live
//!   (at once on PostgreSQL, whose change notices also make them forget).
//! - **Credential changes** ([`Seats::change_credentials`]) end the sessions in the same
//!   transaction that moves the credential epoch on; a login that verified the old password
//!   cannot open a seat afterwards.
//! - **The live channel is a hint, never the authority.** On PostgreSQL a trigger sends
//!   `NOTIFY` inside the transaction that changes a seat, so notices reach every process when
//!   (and only if) the change commits; on SQLite, only listeners of the same process hear
//!   them, and others learn at their next periodic re-read. A lost, late or repeated notice
//!   costs a lookup, never a wrong answer: the check above still decides.
//! - **When the database is down**, nothing is half-done (every change is one transaction),
//!   logins fail with an error, and the check fails closed: [`web`]'s layer answers 500
//!   rather than serve a request whose seat it could not read.

#![warn(missing_docs)]

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod accounts;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod cache;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod changes;
pub mod client_ip;
pub mod clock;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod db;
pub mod device;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod encoding;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod events;
pub mod lifecycle;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod login;
#[cfg(feature = "passwords")]
pub mod password;
pub mod policy;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod seats;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod signing;
#[cfg(feature = "passwords")]
pub mod slots;
#[cfg(all(feature = "passwords", any(feature = "sqlite", feature = "postgres")))]
pub mod throttle;
pub mod username;
pub mod vocabulary;
#[cfg(feature = "tower-sessions")]
pub mod web;

#[cfg(all(feature = "passwords", any(feature = "sqlite", feature = "postgres")))]
pub use accounts::{AuthError, ChangePasswordError, SignupError, Verified};
pub use clock::Millis;
pub use device::{Device, DeviceKind};
pub use lifecycle::Lifetimes;
#[cfg(feature = "passwords")]
pub use password::{HashError, Hashing, Password, PasswordError};
pub use policy::{Decision, KindLimits, LimitSource, Limits, OnLimit, Policy};
pub use username::{Username, UsernameError};
pub use vocabulary::{CredentialEpoch, EndReason, EndedBy, SeatId, User, UserId};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use {
    accounts::{Accounts, UserSummary},
    db::{Db, DbError},
    login::{LoginOutcome, Logins, NewSession},
    seats::{CredentialChange, LoginContext, OpenOutcome, SeatInfo, SeatStatus, Seats, SessionHash},
};

/// An error and all its sources, for the logs: "outer: cause: root cause".
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}
