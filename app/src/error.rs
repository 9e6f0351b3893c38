//! The one error type that crosses the server-function boundary.
//!
//! The client matches on its variants; the server maps each to an HTTP status in one place
//! ([`AppError::status`]). What a person reads comes from the message catalogue, in the
//! page's language ([`AppError::message`]); `Display` is for the logs.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos_i18n::td_string;
use serde::{Deserialize, Serialize};

use crate::lang::Locale;
use crate::models::{SessionView, Toast};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Username,
    Password,
    PasswordConfirm,
    CurrentPassword,
}

/// Why a field was refused: a code, which the page puts into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Invalid {
    #[error("no username")]
    UsernameEmpty,
    #[error("username shorter than {min} characters")]
    UsernameTooShort { min: usize },
    #[error("username longer than {max} characters")]
    UsernameTooLong { max: usize },
    #[error("username with a character other than a letter, a digit, _ . or -")]
    UsernameBadCharacter,
    #[error("username taken")]
    UsernameTaken,
    #[error("password shorter than {min} characters")]
    PasswordTooShort { min: usize },
    #[error("password longer than {max} characters")]
    PasswordTooLong { max: usize },
    #[error("the passwords differ")]
    PasswordsDiffer,
    #[error("wrong password")]
    PasswordWrong,
}

impl Invalid {
    pub fn message(self, locale: Locale) -> String {
        match self {
            Invalid::UsernameEmpty => td_string!(locale, username_empty).to_string(),
            Invalid::UsernameTooShort { min } => td_string!(locale, username_too_short, min).to_string(),
            Invalid::UsernameTooLong { max } => td_string!(locale, username_too_long, max).to_string(),
            Invalid::UsernameBadCharacter => td_string!(locale, username_bad_character).to_string(),
            Invalid::UsernameTaken => td_string!(locale, username_taken).to_string(),
            Invalid::PasswordTooShort { min } => td_string!(locale, password_too_short, min).to_string(),
            Invalid::PasswordTooLong { max } => td_string!(locale, password_too_long, max).to_string(),
            Invalid::PasswordsDiffer => td_string!(locale, passwords_differ).to_string(),
            Invalid::PasswordWrong => td_string!(locale, password_wrong).to_string(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<single_login::UsernameError> for Invalid {
    fn from(error: single_login::UsernameError) -> Self {
        use single_login::username::{MAX_CHARS, MIN_CHARS};
        use single_login::UsernameError;
        match error {
            UsernameError::Empty => Invalid::UsernameEmpty,
            UsernameError::TooShort => Invalid::UsernameTooShort { min: MIN_CHARS },
            UsernameError::TooLong => Invalid::UsernameTooLong { max: MAX_CHARS },
            UsernameError::InvalidCharacter => Invalid::UsernameBadCharacter,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<single_login::PasswordError> for Invalid {
    fn from(error: single_login::PasswordError) -> Self {
        use single_login::password::{MAX_CHARS, MIN_CHARS};
        use single_login::PasswordError;
        match error {
            PasswordError::TooShort => Invalid::PasswordTooShort { min: MIN_CHARS },
            PasswordError::TooLong => Invalid::PasswordTooLong { max: MAX_CHARS },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A form field failed its rules.
    #[error("{field:?}: {reason}")]
    Invalid { field: Field, reason: Invalid },
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
    /// Nothing here (a console address, to anyone but an administrator).
    #[error("not found")]
    NotFound,
    /// A request the server could not read (missing or malformed fields).
    #[error("The request was not understood: {0}")]
    BadRequest(String),
    #[error("Something went wrong. Please try again.")]
    Internal,
}

impl AppError {
    pub fn invalid(field: Field, reason: impl Into<Invalid>) -> Self {
        AppError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// What the reader is told, in their language.
    pub fn message(&self, locale: Locale) -> String {
        match self {
            AppError::Invalid { reason, .. } => reason.message(locale),
            AppError::InvalidCredentials => td_string!(locale, invalid_credentials).to_string(),
            AppError::NotSignedIn => td_string!(locale, not_signed_in).to_string(),
            // Put into words by the server, in the reader's language.
            AppError::SessionEnded(toast) => toast.title.clone(),
            AppError::LoginDenied(_) => td_string!(locale, login_denied).to_string(),
            AppError::ChooseSessions(_) => td_string!(locale, choose_sessions).to_string(),
            AppError::LoginExpired => td_string!(locale, login_expired).to_string(),
            AppError::TooManyAttempts(1) => td_string!(locale, too_many_attempts_1).to_string(),
            AppError::TooManyAttempts(minutes) => {
                td_string!(locale, too_many_attempts_n, minutes = *minutes).to_string()
            }
            AppError::Busy(_) => td_string!(locale, busy).to_string(),
            AppError::PasswordRequired => td_string!(locale, password_required).to_string(),
            AppError::NotFound => td_string!(locale, not_found_title).to_string(),
            AppError::BadRequest(_) => td_string!(locale, bad_request).to_string(),
            AppError::Internal => td_string!(locale, internal).to_string(),
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
            AppError::NotFound => 404,
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
    pub fn for_field(&self, wanted: Field, locale: Locale) -> Option<String> {
        match self {
            AppError::Invalid { field, reason } if *field == wanted => Some(reason.message(locale)),
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
