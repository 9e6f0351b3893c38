//! What crosses between server and browser. Nothing here holds a secret.

use serde::{Deserialize, Serialize};

use crate::route_table;

/// The signed-in user as the browser may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub username: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToastKind {
    Info,
    Success,
    Warning,
    Error,
}

/// One message for the toast stack, already in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Toast {
    pub kind: ToastKind,
    pub title: String,
    pub detail: Option<String>,
    /// A way to act on the message ("Not you? Secure your account").
    pub link: Option<ToastLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToastLink {
    pub label: String,
    pub href: LocalPath,
}

/// A path on this site, the only kind of address the app puts into an `href` built from
/// data. A toast travels through the session, the live channel and server answers, and a
/// forged one once carried `javascript:` in its link; a `LocalPath` cannot hold one.
///
/// It starts with one `/`, followed by anything but a second `/` or a `\` (browsers read
/// `/\host` as `//host`), and holds no backslash, whitespace or control character anywhere
/// (browsers drop tabs and newlines from addresses, so `/\t/host` would become `//host`).
/// Deserializing checks the same rules, so a forged value fails to decode in the browser too.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalPath(String);

/// Why a string is not a [`LocalPath`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a path on this site")]
pub struct NotLocalPath;

impl LocalPath {
    pub fn new(path: impl Into<String>) -> Result<Self, NotLocalPath> {
        let path = path.into();
        let mut chars = path.chars();
        let local = chars.next() == Some('/')
            && !matches!(chars.next(), Some('/' | '\\'))
            && !path
                .chars()
                .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
        if local {
            Ok(LocalPath(path))
        } else {
            Err(NotLocalPath)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `/sessions`.
    pub fn sessions() -> Self {
        LocalPath(route_table::SESSIONS.into())
    }

    /// `/sessions`, with one session marked: `highlight` (the login that signed this browser
    /// out) or `review` (a new login the live channel announced).
    pub fn sessions_marked(mark: SessionMark, id: i64) -> Self {
        let key = match mark {
            SessionMark::Highlight => "highlight",
            SessionMark::Review => "review",
        };
        LocalPath(format!("{}?{key}={id}", route_table::SESSIONS))
    }

    /// `/login`, going on to `next` after the login (the server checks `next` again).
    pub fn login_then(next: &LocalPath) -> Self {
        let mut path = format!("{}?next=", route_table::LOGIN);
        for byte in next.0.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                path.push(byte as char);
            } else {
                path.push_str(&format!("%{byte:02X}"));
            }
        }
        LocalPath(path)
    }
}

/// How `/sessions` marks a session named in its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionMark {
    Highlight,
    Review,
}

impl TryFrom<String> for LocalPath {
    type Error = NotLocalPath;
    fn try_from(path: String) -> Result<Self, NotLocalPath> {
        LocalPath::new(path)
    }
}

impl From<LocalPath> for String {
    fn from(path: LocalPath) -> String {
        path.0
    }
}

impl std::fmt::Display for LocalPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Toast {
    pub fn new(kind: ToastKind, title: impl Into<String>) -> Self {
        Toast {
            kind,
            title: title.into(),
            detail: None,
            link: None,
        }
    }

    pub fn with_link(mut self, label: impl Into<String>, href: LocalPath) -> Self {
        self.link = Some(ToastLink {
            label: label.into(),
            href,
        });
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// A moment as a list shows it, in the reader's language: "3 hours ago", with the date and
/// time in full for those who want it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct When {
    /// "3 hours ago"
    pub relative: String,
    /// "Nov 30, 2026, 4:27 PM UTC"
    pub absolute: String,
    /// `2026-11-30T16:27:00Z`, for `<time datetime>`.
    pub iso: String,
}

/// One login of the user as a list shows it, already in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: i64,
    /// "Chrome on Windows"
    pub device: String,
    /// "Computer"
    pub kind: String,
    pub ip: String,
    pub signed_in: When,
    pub last_active: When,
    /// The browser looking at the list.
    pub current: bool,
}

/// An ended login in the user's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryView {
    pub id: i64,
    pub device: String,
    pub ip: String,
    pub signed_in: When,
    pub ended: When,
    /// "Replaced by a login from 203.0.113.9 (Firefox on Windows)", "Logged out", …
    pub how: String,
    /// For a replaced login: the login that replaced it.
    pub replaced_by: Option<i64>,
}

/// What `/sessions` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsPage {
    pub live: Vec<SessionView>,
    pub history: Vec<HistoryView>,
    /// How much of their limits the live sessions use: "Computer 1/1 · Phone 1/1 · All 2/2".
    pub usage: String,
    /// The password was confirmed recently enough: sessions can be ended.
    pub confirmed: bool,
    /// How long a confirmed password is remembered, in minutes (for the hint).
    pub confirmation_minutes: u64,
}

/// One hour of the console's chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourView {
    /// "14:00" (UTC).
    pub label: String,
    pub logins: u64,
    pub kicks: u64,
    pub denials: u64,
    pub failures: u64,
    pub throttled: u64,
}

/// What `/admin` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleOverview {
    /// Live sessions now, in all.
    pub live: u64,
    /// Live sessions by device kind ("Phone", 3), kinds with none left out.
    pub live_by_kind: Vec<(String, u64)>,
    /// The last 24 hours, oldest first.
    pub hours: Vec<HourView>,
}

/// A user in the console's lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleUserRow {
    pub id: i64,
    pub name: String,
    pub live: u64,
    /// "2,phone=1", "unlimited".
    pub limit: String,
    /// "default", "group premium", "own".
    pub source: String,
    pub disabled: bool,
}

/// What `/admin/users` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleUsers {
    pub users: Vec<ConsoleUserRow>,
    /// The `after` of the next page, when there is one.
    pub next: Option<String>,
}

/// What `/admin/user` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleUser {
    pub user: ConsoleUserRow,
    pub group: Option<String>,
    /// Every group, for "Set group".
    pub groups: Vec<String>,
    pub live: Vec<SessionView>,
    pub history: Vec<HistoryView>,
    /// The administrator's password was confirmed recently enough to act.
    pub confirmed: bool,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Where a browser on `https://app.example/login` would go for `href`, by the WHATWG URL
    /// parser (the `url` crate implements it).
    fn resolved_origin(href: &str) -> Option<url::Origin> {
        let base = url::Url::parse("https://app.example/login").unwrap();
        base.join(href).ok().map(|u| u.origin())
    }

    fn same_origin(href: &str) -> bool {
        resolved_origin(href) == Some(url::Url::parse("https://app.example/").unwrap().origin())
    }

    #[test]
    fn paths_of_this_site_are_accepted() {
        for path in [
            "/",
            "/sessions",
            "/login?next=%2Fsessions%3Fhighlight%3D4",
            "/sessions?review=12",
            "/a/b#c",
        ] {
            assert_eq!(LocalPath::new(path).unwrap().as_str(), path);
        }
    }

    #[test]
    fn built_destinations_are_paths_of_this_site() {
        let marked = LocalPath::sessions_marked(SessionMark::Highlight, 42);
        assert_eq!(marked.as_str(), "/sessions?highlight=42");
        let login = LocalPath::login_then(&marked);
        assert_eq!(login.as_str(), "/login?next=%2Fsessions%3Fhighlight%3D42");
        assert_eq!(LocalPath::new(login.as_str()), Ok(login));
        assert_eq!(
            LocalPath::sessions_marked(SessionMark::Review, -1).as_str(),
            "/sessions?review=-1"
        );
    }

    #[test]
    fn anything_that_could_leave_the_site_is_refused() {
        for href in [
            "",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " /sessions",
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/sessions\\..",
            "data:text/html,hi",
            "sessions",
            "?x=1",
            "#top",
            "/\u{0}",
            "/\u{2028}x",
        ] {
            assert_eq!(LocalPath::new(href), Err(NotLocalPath), "{href:?}");
        }
    }

    #[test]
    fn a_forged_link_fails_to_decode() {
        let forged = r#"{"kind":"warning","title":"t","detail":null,"link":{"label":"x","href":"javascript:alert(1)"}}"#;
        assert!(serde_json::from_str::<Toast>(forged).is_err());
        let real = Toast::new(ToastKind::Info, "t").with_link("x", LocalPath::new("/sessions").unwrap());
        let text = serde_json::to_string(&real).unwrap();
        assert_eq!(serde_json::from_str::<Toast>(&text).unwrap(), real);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whatever the input, a path that builds stays on the site.
        #[test]
        fn no_input_builds_a_path_off_the_site(s in "\\PC*|[/\\\\ \t\n\r:a-z.@%0-9]{0,12}") {
            if let Ok(path) = LocalPath::new(s.clone()) {
                prop_assert!(same_origin(path.as_str()), "{s:?} builds but leaves the site");
            }
        }

        /// Prefixes that browsers treat as another site or a script never build.
        #[test]
        fn scheme_and_host_prefixes_never_build(
            prefix in prop::sample::select(vec!["//", "/\\", "\\", "javascript:", "https://", "/\t/", "/\r\n/", "\u{b}//"]),
            rest in "[a-z./:]{0,16}",
        ) {
            let href = format!("{prefix}{rest}");
            prop_assert!(LocalPath::new(href.clone()).is_err(), "{:?} builds", href);
        }
    }
}
