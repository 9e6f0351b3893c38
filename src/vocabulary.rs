//! The words every part of the core shares: who (`UserId`, `User`), which login (`SeatId`),
//! which credentials (`CredentialEpoch`) and how a login ended (`EndReason`). They live here,
//! apart from the modules that store or decide, so that the pure parts (`policy`) import
//! nothing that does I/O, and no two modules import each other.

use serde::{Deserialize, Serialize};

/// A user's id: the primary key of its row in `users` (for an adopted user, the
/// application's own id; see [`Accounts::adopt`](crate::Accounts::adopt)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserId(pub i64);

/// A user as the rest of the program sees it: no password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's id in `users`.
    pub id: UserId,
    /// The name as the user chose it (NFKC-normalised), or `#id` for an adopted user.
    pub username: String,
}

/// Which version of an account's credentials a password check saw. It changes at every
/// password change and every disable or enable, in the transaction that ends the sessions;
/// a login carries the epoch it verified, and the seat registry refuses to open a seat when
/// the account's epoch has moved on meanwhile (a login racing the change loses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialEpoch(pub i64);

impl CredentialEpoch {
    /// The epoch of a new account.
    pub const INITIAL: CredentialEpoch = CredentialEpoch(0);
}

/// A seat's id: the primary key of its row in `seats`, one row per login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeatId(pub i64);

/// Why a seat ended, as stored in `seats.end_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// A newer login of the same user took the seat.
    Replaced,
    /// The user logged out.
    LoggedOut,
    /// Ended on purpose by the user from another session, or by an operator.
    Revoked,
    /// Unused for longer than the session lifetime.
    Expired,
}

impl EndReason {
    /// The reason's name as stored in `seats.end_reason`: `replaced`, `logged_out`, `revoked`
    /// or `expired` (the same as its serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Replaced => "replaced",
            EndReason::LoggedOut => "logged_out",
            EndReason::Revoked => "revoked",
            EndReason::Expired => "expired",
        }
    }

    /// The reason whose [`EndReason::as_str`] is `text`; `None` for any other text.
    pub fn parse(text: &str) -> Option<EndReason> {
        Some(match text {
            "replaced" => EndReason::Replaced,
            "logged_out" => EndReason::LoggedOut,
            "revoked" => EndReason::Revoked,
            "expired" => EndReason::Expired,
            _ => return None,
        })
    }
}

/// A PHC-format argon2 hash as stored in the database.
#[derive(Clone)]
pub struct StoredHash(pub String);

impl std::fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredHash(<redacted>)")
    }
}
