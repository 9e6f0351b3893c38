//! What kind of device a login came from, read from its `User-Agent`: the one rule the
//! per-kind limits ([`crate::policy::KindLimits`]), the sessions page and the operator's
//! listing all use.
//!
//! The kind is what the browser *says* it is. Any client can send any user agent, so a
//! per-kind limit is a convenience (one phone and one computer), not a security boundary:
//! the total `max_sessions` is the cap an attacker cannot talk their way around.

use crate::vocabulary::text_enum;

text_enum! {
    /// A device kind, as stored in `single_login_seats.kind` and named in the settings
    /// (`seat_limits = { phone = 1, computer = 1 }`). Ordered as lists show them.
    pub enum DeviceKind {
        /// A desktop or laptop browser.
        Computer = "computer",
        /// A phone's browser.
        Phone = "phone",
        /// A tablet's browser (iPadOS in its default "desktop site" mode says it is a Mac,
        /// and counts as a computer).
        Tablet = "tablet",
        /// Anything else: no user agent, a command-line client, a crawler, a console.
        Other = "other",
    }
}

/// What a user agent says about its device, read once: its kind and a summary for the
/// records ("Chrome on Linux").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The device's kind.
    pub kind: DeviceKind,
    /// The browser and system, when the user agent names either.
    pub summary: Option<String>,
}

impl Device {
    /// The device that sent `user_agent`.
    pub fn of(user_agent: Option<&str>) -> Device {
        let parsed = user_agent.and_then(|agent| Some((agent, woothee::parser::Parser::new().parse(agent)?)));
        let Some((agent, parsed)) = parsed else {
            return Device {
                kind: DeviceKind::Other,
                summary: None,
            };
        };
        let kind = match parsed.category {
            "pc" => DeviceKind::Computer,
            // woothee calls tablets smartphones: an iPad says so, and an Android tablet is
            // an Android browser without "Mobile" (Google's rule for its own browsers).
            "smartphone" | "mobilephone" => {
                if parsed.os == "iPad" || (parsed.os == "Android" && !agent.contains("Mobile")) {
                    DeviceKind::Tablet
                } else {
                    DeviceKind::Phone
                }
            }
            _ => DeviceKind::Other,
        };
        let known = |s: &str| !s.is_empty() && s != "UNKNOWN";
        let summary = match (known(parsed.name), known(parsed.os)) {
            (true, true) => Some(format!("{} on {}", parsed.name, parsed.os)),
            (true, false) => Some(parsed.name.to_owned()),
            (false, true) => Some(parsed.os.to_owned()),
            (false, false) => None,
        };
        Device { kind, summary }
    }
}

impl DeviceKind {
    /// The kind of the device that sent `user_agent`.
    ///
    /// ```
    /// use single_login::DeviceKind;
    /// let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
    ///               (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    /// assert_eq!(DeviceKind::of_user_agent(Some(iphone)), DeviceKind::Phone);
    /// assert_eq!(DeviceKind::of_user_agent(Some("curl/8.0")), DeviceKind::Other);
    /// assert_eq!(DeviceKind::of_user_agent(None), DeviceKind::Other);
    /// ```
    pub fn of_user_agent(user_agent: Option<&str>) -> DeviceKind {
        Device::of(user_agent).kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_fall_into_their_kinds() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                DeviceKind::Computer,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                DeviceKind::Computer,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
                DeviceKind::Computer,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                DeviceKind::Phone,
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                DeviceKind::Phone,
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                DeviceKind::Tablet,
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                DeviceKind::Tablet,
            ),
            ("curl/8.5.0", DeviceKind::Other),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                DeviceKind::Other,
            ),
            ("", DeviceKind::Other),
            ("\u{1F600}\u{0}\u{202E}", DeviceKind::Other),
        ];
        for (agent, kind) in cases {
            assert_eq!(DeviceKind::of_user_agent(Some(agent)), kind, "{agent}");
        }
    }
}
