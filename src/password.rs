//! Passwords: parsing, and argon2id hashing that never runs on the async runtime.

use std::fmt;
use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// A password that meets the length rules. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("A password needs at least {MIN_CHARS} characters")]
    TooShort,
    #[error("A password can have at most {MAX_CHARS} characters")]
    TooLong,
}

impl Password {
    /// Any Unicode is allowed and nothing is trimmed: spaces may be part of a passphrase.
    pub fn parse(input: &str) -> Result<Password, PasswordError> {
        if input.len() > MAX_CHARS * 4 {
            return Err(PasswordError::TooLong);
        }
        let count = input.chars().count();
        if count < MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if count > MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        Ok(Password(input.to_owned()))
    }

    fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A PHC-format argon2 hash as stored in the database.
#[derive(Clone)]
pub struct StoredHash(pub String);

impl fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoredHash(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Argon2(argon2::password_hash::Error),
    #[error("the password hashing task did not finish")]
    Join(#[from] tokio::task::JoinError),
}

/// OWASP's argon2id baseline: 19 MiB, two passes, one lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes on a blocking thread, carrying the caller's tracing span along.
pub async fn hash(password: Password) -> Result<StoredHash, HashError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        span.in_scope(|| {
            let salt = SaltString::generate(&mut OsRng);
            hasher()
                .hash_password(password.expose(), &salt)
                .map(|hash| StoredHash(hash.to_string()))
                .map_err(HashError::Argon2)
        })
    })
    .await?
}

/// Verifies on a blocking thread. With `None` for the stored hash it verifies against a
/// dummy hash and answers `false`, so that an unknown user costs as much time as a known one.
pub async fn verify(password: String, stored: Option<StoredHash>) -> Result<bool, HashError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        span.in_scope(|| {
            let known = stored.is_some();
            let phc = match &stored {
                Some(stored) => stored.0.as_str(),
                None => dummy_hash(),
            };
            let parsed = PasswordHash::new(phc).map_err(HashError::Argon2)?;
            let matches = hasher().verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(known && matches)
        })
    })
    .await?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(b"a password that nobody has chosen", &salt)
            .expect("hashing a constant cannot fail")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn length_rules_count_characters_not_bytes() {
        assert_eq!(Password::parse("short").err(), Some(PasswordError::TooShort));
        assert!(Password::parse("비밀번호비밀번호").is_ok());
        assert!(Password::parse(&"é".repeat(MAX_CHARS)).is_ok());
        assert_eq!(
            Password::parse(&"é".repeat(MAX_CHARS + 1)).err(),
            Some(PasswordError::TooLong)
        );
        assert!(Password::parse("  spaces count  ").is_ok());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let password = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash(Password::parse("correct horse").unwrap()).await.unwrap();
        assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse".into(), Some(hash.clone())).await.unwrap());
        assert!(!verify("correct horsf".into(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify("a password that nobody has chosen".into(), None)
            .await
            .unwrap());
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_allowed_lengths(input in "\\PC{0,140}") {
            let count = input.chars().count();
            prop_assert_eq!(Password::parse(&input).is_ok(), (MIN_CHARS..=MAX_CHARS).contains(&count));
        }
    }
}
