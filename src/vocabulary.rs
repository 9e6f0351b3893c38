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

/// An enum whose variants each have one text, written once: its serde form, and the form
/// the database stores and the settings read ([`as_str`](EndReason::as_str), `parse`).
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every variant, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The variant's text (the same as its serde form).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The variant whose text is `text`; `None` for any other text.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|variant| variant.as_str() == text)
            }
        }
    };
}
pub(crate) use text_enum;

text_enum! {
    /// Why a seat ended, as stored in `seats.end_reason`.
    pub enum EndReason {
        /// A newer login of the same user took the seat.
        Replaced = "replaced",
        /// The user logged out.
        LoggedOut = "logged_out",
        /// Ended on purpose by the user from another session, or by an operator.
        Revoked = "revoked",
        /// Unused for longer than the session lifetime.
        Expired = "expired",
        /// The user's session limit was lowered (their own, their group's, or the user moved
        /// to another group) and this seat was beyond it.
        LimitLowered = "limit_lowered",
    }
}

/// Who ended a seat on purpose ([`EndReason::Revoked`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// A session of the same user: another one ("sign out"), or the seat itself when it
    /// failed its password confirmations too often.
    Session(SeatId),
    /// An operator, from the command line: no session of the user.
    Operator,
}

/// A PHC-format argon2 hash as stored in the database.
#[derive(Clone)]
pub struct StoredHash(pub String);

impl std::fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_text_is_the_serde_form_and_parses_back() {
        for reason in EndReason::ALL {
            let json = serde_json::to_string(reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
            assert_eq!(EndReason::parse(reason.as_str()), Some(*reason));
        }
        assert_eq!(EndReason::parse("Replaced"), None);
    }
}
