//! Core of single-login: the rules, with no web framework in sight.
//!
//! - [`Username`] and [`Password`] parse untrusted input into valid values;
//! - [`password`] hashes and verifies with argon2id off the async runtime, a bounded number
//!   at a time ([`Hashing`]);
//! - [`Db`] connects to SQLite or PostgreSQL and runs the migrations;
//! - [`Accounts`] stores users;
//! - [`Logins`] is the login itself: throttle, verification and seat, in order;
//! - [`Seats`] is the session-seat registry: one row per login, opened under the user's lock
//!   so that simultaneous logins cannot outnumber the policy;
//! - [`changes`] tells live pages, in this process and others, that a user's seats changed;
//! - [`policy`] decides, as a pure function, which seats a new login ends;
//! - [`throttle`] counts password checks per client network, account and user, before the
//!   password is verified.

pub mod accounts;
pub mod changes;
pub mod client_ip;
pub mod clock;
pub mod db;
pub mod lifecycle;
pub mod login;
pub mod password;
pub mod policy;
pub mod seats;
pub mod throttle;
pub mod username;
pub mod vocabulary;

pub use accounts::{
    Accounts, AuthError, ChangePasswordError, CredentialEpoch, SignupError, User, UserId, UserSummary,
    Verified,
};
pub use clock::Millis;
pub use db::{Db, DbError};
pub use lifecycle::Lifetimes;
pub use login::{LoginOutcome, Logins, NewSession};
pub use password::{HashError, Hashing, Password, PasswordError};
pub use policy::{Decision, OnLimit, Policy};
pub use seats::{
    CredentialChange, EndReason, LoginContext, OpenOutcome, SeatId, SeatInfo, SeatStatus, Seats, SessionHash,
};
pub use username::{Username, UsernameError};
