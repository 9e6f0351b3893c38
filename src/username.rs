//! Usernames: what may be typed, and when two of them are the same name.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// Fewest characters a username may have (counted after trimming and NFKC normalisation).
pub const MIN_CHARS: usize = 3;
/// Most characters a username may have.
pub const MAX_CHARS: usize = 32;

/// A valid username. `as_str` is the name as the user chose it (NFKC-normalised, so that
/// full-width or composed look-alikes become one spelling); `key` is the form that decides
/// uniqueness: NFKC and lower-cased, so `Alice`, `ALICE` and `Ａｌｉｃｅ` are one account.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Username {
    display: String,
    key: String,
}

/// Why [`Username::parse`] refused a name: a code, not a sentence. The application puts
/// it into words in its reader's language; `Display` is for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Nothing but whitespace was typed.
    #[error("empty username")]
    Empty,
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("username shorter than {MIN_CHARS} characters")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("username longer than {MAX_CHARS} characters")]
    TooLong,
    /// A character other than a letter, a digit, `_`, `.` or `-` (inner whitespace included).
    #[error("username with a character other than a letter, a digit, _ . or -")]
    InvalidCharacter,
}

impl Username {
    /// Parses what a user typed. Surrounding whitespace is dropped (a stray space from
    /// copy-and-paste should not create a second account); inner whitespace is refused.
    ///
    /// ```
    /// use single_login::{Username, UsernameError};
    ///
    /// let name = Username::parse(" Ｊｉｍｉｎ ").unwrap();
    /// assert_eq!(name.as_str(), "Jimin"); // full-width letters are NFKC-folded
    /// assert_eq!(name.key(), Username::parse("JIMIN").unwrap().key()); // one account
    /// assert_eq!(Username::parse("a b"), Err(UsernameError::InvalidCharacter));
    /// ```
    pub fn parse(input: &str) -> Result<Username, UsernameError> {
        let display: String = input.trim().nfkc().collect();
        if display.is_empty() {
            return Err(UsernameError::Empty);
        }
        // Length is checked first on bytes so that a megabyte of input is refused before it
        // is walked character by character.
        if display.len() > MAX_CHARS * 4 {
            return Err(UsernameError::TooLong);
        }
        if !display.chars().all(is_allowed) {
            return Err(UsernameError::InvalidCharacter);
        }
        let count = display.chars().count();
        if count < MIN_CHARS {
            return Err(UsernameError::TooShort);
        }
        if count > MAX_CHARS {
            return Err(UsernameError::TooLong);
        }
        let key = display.to_lowercase().nfkc().collect();
        Ok(Username { display, key })
    }

    /// The name as the user chose it (trimmed, NFKC-normalised): what is shown and stored.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The comparison key stored under a unique constraint.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The key an attempt with `input` as its name is counted and looked up by: the name's
    /// key when it parses, or else its first 64 characters lower-cased (an unparseable name
    /// is an attempt too, and must not escape the throttle).
    pub fn attempt_key(input: &str) -> String {
        Username::parse(input)
            .map(|name| name.key().to_owned())
            .unwrap_or_else(|_| input.chars().take(64).collect::<String>().to_lowercase())
    }
}

fn is_allowed(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || matches!(c, '_' | '.' | '-')
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Username").field(&self.display).finish()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_ascii_and_unicode_names() {
        for name in ["bob", "alice_01", "a.b-c", "김철수", "Ünïcødé", "用户名"] {
            assert!(Username::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn refuses_bad_names_with_the_reason() {
        assert_eq!(Username::parse("   "), Err(UsernameError::Empty));
        assert_eq!(Username::parse("ab"), Err(UsernameError::TooShort));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(UsernameError::TooLong));
        assert_eq!(Username::parse("a b c"), Err(UsernameError::InvalidCharacter));
        assert_eq!(Username::parse("bob!"), Err(UsernameError::InvalidCharacter));
        assert_eq!(Username::parse("bob\u{0}"), Err(UsernameError::InvalidCharacter));
        assert_eq!(
            Username::parse("bo\u{202e}b"),
            Err(UsernameError::InvalidCharacter)
        );
        assert_eq!(Username::parse(&"x".repeat(1 << 20)), Err(UsernameError::TooLong));
    }

    #[test]
    fn names_differing_in_case_or_width_share_a_key() {
        let plain = Username::parse("Alice").unwrap();
        assert_eq!(plain.key(), Username::parse("ALICE").unwrap().key());
        assert_eq!(plain.key(), Username::parse("Ａｌｉｃｅ").unwrap().key());
        assert_eq!(Username::parse("  Alice ").unwrap().as_str(), "Alice");
    }

    #[test]
    fn combining_and_composed_forms_share_a_key() {
        let composed = Username::parse("caf\u{e9}").unwrap();
        let combining = Username::parse("cafe\u{301}").unwrap();
        assert_eq!(composed.key(), combining.key());
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in any::<String>()) {
            let _ = Username::parse(&input);
        }

        #[test]
        fn valid_names_round_trip(name in "[a-zA-Z0-9_.\\-]{3,32}") {
            let parsed = Username::parse(&name).unwrap();
            prop_assert_eq!(parsed.as_str(), name.as_str());
            prop_assert_eq!(parsed.key(), name.to_lowercase());
        }

        #[test]
        fn accepted_names_obey_the_rules(input in "\\PC{0,40}") {
            if let Ok(name) = Username::parse(&input) {
                let count = name.as_str().chars().count();
                prop_assert!((MIN_CHARS..=MAX_CHARS).contains(&count));
                prop_assert!(name.as_str().chars().all(is_allowed));
                // The key is a fixed point: folding it again changes nothing.
                let refolded: String = name.key().to_lowercase().nfkc().collect();
                prop_assert_eq!(refolded.as_str(), name.key());
            }
        }

        #[test]
        fn case_never_makes_a_second_account(name in "[a-zA-Z]{3,32}") {
            let lower = Username::parse(&name.to_lowercase()).unwrap();
            let upper = Username::parse(&name.to_uppercase()).unwrap();
            prop_assert_eq!(lower.key(), upper.key());
        }
    }
}
