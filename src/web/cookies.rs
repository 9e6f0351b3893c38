//! The two cookies single-login signs ([`crate::signing`]) so that it can recognise them
//! later without storing anything:
//!
//! - the **notice**, which tells a browser that was just signed out why, on the login page it
//!   lands on: "you signed out", or "seat N ended" (the page then reads how from the seat's
//!   own record). It lives a few minutes and is cleared once shown. Before it, that message
//!   rode in a fresh session record, so every anonymous logout, and every replay of an ended
//!   cookie, left a row in the session table for two weeks;
//! - the **known device** (OWASP "device cookies"), set when a browser proves an account's
//!   password, so that its later logins to that account count apart from strangers'
//!   (`Logins::log_in_known`).

use std::time::Duration;

use crate::signing::SigningKey;
use crate::{Millis, SeatId};
use http::HeaderValue;

/// How long a notice waits to be shown.
pub const NOTICE_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// How long a browser stays a known device of the account it last signed in to.
pub const DEVICE_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

const NOTICE_PURPOSE: &str = "notice";

/// What a notice says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The browser signed out.
    SignedOut,
    /// The browser's seat ended (kicked, revoked, expired): the seat says how.
    Ended(SeatId),
}

/// The cookies' key and attributes.
#[derive(Debug, Clone)]
pub struct Cookies {
    /// `Secure`, and the `__Host-` prefix, like the session cookie.
    pub secure: bool,
    /// The key that signs them.
    pub key: SigningKey,
}

impl Cookies {
    /// The notice cookie's name.
    pub fn notice_name(&self) -> &'static str {
        if self.secure {
            "__Host-single_login_notice"
        } else {
            "single_login_notice"
        }
    }

    /// The known-device cookie's name.
    pub fn device_name(&self) -> &'static str {
        if self.secure {
            "__Host-single_login_device"
        } else {
            "single_login_device"
        }
    }

    fn header(&self, name: &str, value: &str, max_age: Duration) -> HeaderValue {
        self.plain(name, value, Some(max_age))
    }

    /// `Set-Cookie` for an unsigned cookie of the application's, with these cookies' flags
    /// (`Path=/`, `SameSite=Lax`, `HttpOnly`, and `Secure` when they are): for `max_age`,
    /// `None` keeps it until the browser closes and `Some(Duration::ZERO)` removes it. Names
    /// and values must be ASCII letters, digits, `.`, `_` and `-`.
    pub fn plain(&self, name: &str, value: &str, max_age: Option<Duration>) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let max_age = max_age.map_or_else(String::new, |age| format!("; Max-Age={}", age.as_secs()));
        let text = format!("{name}={value}; Path=/{max_age}; SameSite=Lax; HttpOnly{secure}");
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// `Set-Cookie` for `notice`, valid from `now` for [`NOTICE_LIFETIME`].
    pub fn set_notice(&self, notice: Notice, now: Millis) -> HeaderValue {
        let until = now.plus(NOTICE_LIFETIME).0;
        let payload = match notice {
            Notice::SignedOut => format!("s.{until}"),
            Notice::Ended(seat) => format!("e.{}.{until}", seat.0),
        };
        self.header(
            self.notice_name(),
            &self.key.sign(NOTICE_PURPOSE, &payload),
            NOTICE_LIFETIME,
        )
    }

    /// `Set-Cookie` that removes the notice (once shown).
    pub fn clear_notice(&self) -> HeaderValue {
        self.header(self.notice_name(), "", Duration::ZERO)
    }

    /// The notice in these `Cookie` headers, if one is there, ours and not yet expired.
    pub fn notice<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        now: Millis,
    ) -> Option<Notice> {
        let value = cookie_value(cookie_headers, self.notice_name())?;
        let payload = self.key.verify(NOTICE_PURPOSE, value)?;
        let mut parts = payload.split('.');
        let notice = match parts.next()? {
            "s" => Notice::SignedOut,
            "e" => Notice::Ended(SeatId(parts.next()?.parse().ok()?)),
            _ => return None,
        };
        let until: i64 = parts.next()?.parse().ok()?;
        (parts.next().is_none() && now.0 <= until).then_some(notice)
    }

    /// `Set-Cookie` making this browser a known device of the account whose name key is
    /// `name_key`.
    pub fn set_device(&self, name_key: &str) -> HeaderValue {
        self.header(
            self.device_name(),
            &self.key.device_cookie(name_key),
            DEVICE_LIFETIME,
        )
    }

    /// The id of this browser's known-device cookie, if it is one for the account whose name
    /// key is `name_key`.
    pub fn device<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        name_key: &str,
    ) -> Option<String> {
        let value = cookie_value(cookie_headers, self.device_name())?;
        self.key.known_device(value, name_key)
    }
}

/// A request's `Cookie` headers, as text (one per line the client sent).
pub fn cookie_headers(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect()
}

/// The value of cookie `name` in `Cookie` headers (the first one of that name).
pub fn cookie_value<'a>(cookie_headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    cookie_headers
        .into_iter()
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies() -> Cookies {
        Cookies {
            secure: true,
            key: SigningKey::random(),
        }
    }

    fn value(header: &HeaderValue) -> String {
        header.to_str().unwrap().split(';').next().unwrap().to_owned()
    }

    #[test]
    fn a_notice_is_read_back_until_it_expires_and_never_when_forged() {
        let cookies = cookies();
        let now = Millis(1_000_000);
        let set = cookies.set_notice(Notice::Ended(SeatId(42)), now);
        let text = set.to_str().unwrap();
        assert!(text.starts_with("__Host-single_login_notice="), "{text}");
        assert!(text.contains("; Secure") && text.contains("HttpOnly") && text.contains("Max-Age=300"));
        let header = format!("lang=ko; {}", value(&set));
        assert_eq!(
            cookies.notice([header.as_str()], now),
            Some(Notice::Ended(SeatId(42)))
        );
        assert_eq!(
            cookies.notice([header.as_str()], now.plus(NOTICE_LIFETIME)),
            Some(Notice::Ended(SeatId(42)))
        );
        assert_eq!(
            cookies.notice(
                [header.as_str()],
                now.plus(NOTICE_LIFETIME).plus(Duration::from_millis(1))
            ),
            None
        );
        let forged = header.replace("e.42", "e.43");
        assert_eq!(cookies.notice([forged.as_str()], now), None);
        let other = Cookies {
            secure: true,
            key: SigningKey::random(),
        };
        assert_eq!(other.notice([header.as_str()], now), None);
        assert_eq!(cookies.notice(["__Host-single_login_notice=s.1"], now), None);
        let signed_out = value(&cookies.set_notice(Notice::SignedOut, now));
        assert_eq!(
            cookies.notice([signed_out.as_str()], now),
            Some(Notice::SignedOut)
        );
    }

    #[test]
    fn a_device_cookie_names_its_account_only() {
        let cookies = cookies();
        let set = value(&cookies.set_device("ann"));
        assert!(cookies.device([set.as_str()], "ann").is_some());
        assert_eq!(cookies.device([set.as_str()], "bob"), None);
        assert_eq!(cookies.device(["__Host-single_login_device=junk"], "ann"), None);
    }
}
