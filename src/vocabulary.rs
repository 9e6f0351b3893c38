//! The words every part of the core shares: who (`UserId`, `User`), which login (`SeatId`),
//! which credentials (`CredentialEpoch`) and how a login ended (`EndReason`). They live here,
//! apart from the modules that store or decide, so that the pure parts (`policy`) import
//! nothing that does I/O, and no two modules import each other.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserId(pub i64);

/// A user as the rest of the program sees it: no password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeatId(pub i64);

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
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Replaced => "replaced",
            EndReason::LoggedOut => "logged_out",
            EndReason::Revoked => "revoked",
            EndReason::Expired => "expired",
        }
    }

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
