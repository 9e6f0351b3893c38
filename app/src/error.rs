//! The one error type that crosses the server-function boundary.
//!
//! The client matches on its variants; the server maps each to an HTTP status in one place
//! ([`AppError::status`]).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::models::{SessionView, Toast};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Username,
    Password,
    PasswordConfirm,
    CurrentPassword,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A form field failed its rules.
    #[error("{message}")]
    Invalid { field: Field, message: String },
    /// Unknown user and wrong password alike.
    #[error("Invalid username or password")]
    InvalidCredentials,
    #[error("Please log in")]
    NotSignedIn,
    /// This browser's login was ended (replaced by a newer one, revoked, expired); the toast
    /// says why.
    #[error("{}", .0.title)]
    SessionEnded(Toast),
    /// The `deny_new` policy refused the login: these sessions hold the limit.
    #[error("This account is already signed in elsewhere. Log out there first, or wait until those sessions have been idle for a while.")]
    LoginDenied(Vec<SessionView>),
    /// The `ask` policy: the password was right; the user chooses which sessions to end.
    #[error("This account is signed in elsewhere. Choose the sessions to sign out.")]
    ChooseSessions(Vec<SessionView>),
    /// The choice was not made in time (`ask_choice_timeout`), or there is none to continue.
    #[error("That login has expired. Please log in again.")]
    LoginExpired,
    /// Too many password checks or failed logins (from this address, for this account, or
    /// of this user); the minutes to wait.
    #[error("Too many attempts. Try again in {0} minute(s).")]
    TooManyAttempts(u64),
    /// Every password-hashing slot stayed busy; the seconds after which to try again.
    #[error("The server is busy. Please try again in a few seconds.")]
    Busy(u64),
    /// Ending sessions needs the password confirmed first (it is remembered for a while:
    /// `password_confirmation_timeout`).
    #[error("Confirm your password first.")]
    PasswordRequired,
    /// A request the server could not read (missing or malformed fields).
    #[error("The request was not understood: {0}")]
    BadRequest(String),
    #[error("Something went wrong. Please try again.")]
    Internal,
}

impl AppError {
    pub fn invalid(field: Field, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The HTTP status of a response that carries this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } => 422,
            AppError::InvalidCredentials
            | AppError::NotSignedIn
            | AppError::SessionEnded(_)
            | AppError::LoginExpired => 401,
            AppError::LoginDenied(_) | AppError::ChooseSessions(_) => 409,
            AppError::PasswordRequired => 403,
            AppError::TooManyAttempts(_) => 429,
            AppError::Busy(_) => 503,
            AppError::BadRequest(_) => 400,
            AppError::Internal => 500,
        }
    }

    /// Seconds after which a retry may succeed (`Retry-After`), for 429 and 503.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooManyAttempts(minutes) => Some(minutes * 60),
            AppError::Busy(seconds) => Some(*seconds),
            _ => None,
        }
    }

    /// The message for one form field, if this error is about it.
    pub fn for_field(&self, wanted: Field) -> Option<String> {
        match self {
            AppError::Invalid { field, message } if *field == wanted => Some(message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(message)
            | ServerFnErrorErr::MissingArg(message)
            | ServerFnErrorErr::Deserialization(message) => AppError::BadRequest(message),
            _ => AppError::Internal,
        }
    }
}
