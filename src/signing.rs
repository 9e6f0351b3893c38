//! Values the server hands a browser and must recognise later without storing anything per
//! browser: HMAC-SHA-256 over the value, under a key kept in the database (made once, at
//! the first start, and shared by every process on the same database).
//!
//! Two uses: a **known-device cookie** (OWASP "device cookies") that a browser gets when it
//! signs in to an account, so that its later attempts count apart from strangers'
//! (`Logins::log_in_known`); and short-lived values such as the host's "why you
//! were signed out" notice, which would otherwise need a session record per anonymous
//! request. Whoever can read the database can forge these: they then hold far more.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::db::Db;
use crate::encoding::hex;
use crate::on_pool;

/// Bytes of the MAC kept in a signed value (128 bits).
const MAC_BYTES: usize = 16;

/// The signing key. Cheap to clone; `Debug` never shows it.
#[derive(Clone)]
pub struct SigningKey(Arc<[u8; 32]>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// The key named `name` in the database (migrated), made and stored first if there is
    /// none. Processes that start at once agree: the first insert wins, and all read it.
    pub async fn load_or_create(db: &Db, name: &str) -> Result<SigningKey, sqlx::Error> {
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let stored = on_pool!(db, pool => {
            sqlx::query("INSERT INTO single_login_signing_keys (name, key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(hex(&fresh))
                .execute(pool)
                .await?;
            sqlx::query_scalar::<_, String>("SELECT key FROM single_login_signing_keys WHERE name = $1")
                .bind(name)
                .fetch_one(pool)
                .await?
        });
        let bytes = unhex(&stored)
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| sqlx::Error::Decode("a signing key that is not 32 bytes of hex".into()))?;
        Ok(SigningKey(Arc::new(bytes)))
    }

    /// A key for tests and one-process tools, never stored.
    pub fn random() -> SigningKey {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SigningKey(Arc::new(key))
    }

    fn mac(&self, purpose: &str, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.as_slice()).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(payload.as_bytes());
        mac
    }

    /// `payload` and its MAC for `purpose`, as `payload.mac` (the payload must hold no
    /// character a cookie cannot; a `.` in it is fine).
    pub fn sign(&self, purpose: &str, payload: &str) -> String {
        let tag = self.mac(purpose, payload).finalize().into_bytes();
        format!("{payload}.{}", hex(&tag[..MAC_BYTES]))
    }

    /// The payload of a value [`SigningKey::sign`] made for `purpose` with this key; `None`
    /// for anything else (compared in constant time).
    pub fn verify<'a>(&self, purpose: &str, signed: &'a str) -> Option<&'a str> {
        let (payload, tag) = signed.rsplit_once('.')?;
        let tag = unhex(tag)?;
        if tag.len() != MAC_BYTES {
            return None;
        }
        self.mac(purpose, payload)
            .verify_truncated_left(&tag)
            .ok()
            .map(|()| payload)
    }

    /// A new known-device cookie value for the account whose name key is `name_key`: a
    /// random device id bound to the account by the MAC.
    pub fn device_cookie(&self, name_key: &str) -> String {
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        self.sign(&device_purpose(name_key), &hex(&id))
    }

    /// The device id of a known-device cookie `value` if it was made for the account whose
    /// name key is `name_key`; `None` for another account's, a forged or a malformed one.
    pub fn known_device(&self, value: &str, name_key: &str) -> Option<String> {
        let id = self.verify(&device_purpose(name_key), value)?;
        (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_owned())
    }
}

fn device_purpose(name_key: &str) -> String {
    format!("device\0{name_key}")
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 256 {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |b: u8| char::from(b).to_digit(16);
            u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_value_verifies_only_for_its_purpose_and_key() {
        let key = SigningKey::random();
        let signed = key.sign("flash", "e.42.1700000000000");
        assert_eq!(key.verify("flash", &signed), Some("e.42.1700000000000"));
        assert_eq!(key.verify("other", &signed), None);
        assert_eq!(SigningKey::random().verify("flash", &signed), None);
        let forged = signed.replacen("42", "43", 1);
        assert_eq!(key.verify("flash", &forged), None);
        for junk in ["", ".", "x.", ".zz", "a.0123", "a.é", &"a.".repeat(500)] {
            assert_eq!(key.verify("flash", junk), None, "{junk:?}");
        }
    }

    #[test]
    fn a_device_cookie_is_bound_to_its_account() {
        let key = SigningKey::random();
        let cookie = key.device_cookie("ann");
        let id = key.known_device(&cookie, "ann").unwrap();
        assert_eq!(id.len(), 32);
        assert_eq!(key.known_device(&cookie, "bob"), None);
        assert_ne!(key.device_cookie("ann"), cookie, "each browser gets its own id");
        assert_eq!(key.known_device("0123.4567", "ann"), None);
    }
}
