//! What crosses between server and browser. Nothing here holds a secret.

use serde::{Deserialize, Serialize};

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
    pub href: String,
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

    pub fn with_link(mut self, label: impl Into<String>, href: impl Into<String>) -> Self {
        self.link = Some(ToastLink {
            label: label.into(),
            href: href.into(),
        });
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// One login of the user as a list shows it, already in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: i64,
    /// "Chrome on Windows"
    pub device: String,
    pub ip: String,
    /// "3 hours ago"
    pub signed_in: String,
    pub last_active: String,
    /// The browser looking at the list.
    pub current: bool,
}

/// An ended login in the user's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryView {
    pub id: i64,
    pub device: String,
    pub ip: String,
    pub signed_in: String,
    pub ended: String,
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
    /// The password was confirmed recently enough: sessions can be ended.
    pub confirmed: bool,
    /// How long a confirmed password is remembered, in minutes (for the hint).
    pub confirmation_minutes: u64,
}
