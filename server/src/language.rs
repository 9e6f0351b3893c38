//! The answer to the language switch (`app/src/components/language.rs`): remembers the
//! reader's choice in a cookie for a year and sends the browser back to the page it was on,
//! which is then rendered in that language. A plain form post, so it works without
//! JavaScript; the origin check refuses it from another site.

use app::lang::{self, LANG_COOKIE};
use app::models::LocalPath;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Form;
use http::header::{LOCATION, SET_COOKIE};
use http::{HeaderValue, StatusCode};
use serde::Deserialize;

use crate::AppState;

/// A year: the choice outlives the session, like the browser's own language setting.
const REMEMBER_SECS: u64 = 365 * 24 * 60 * 60;

#[derive(Deserialize)]
pub struct Switch {
    lang: String,
    next: Option<String>,
}

pub async fn switch(State(state): State<AppState>, Form(form): Form<Switch>) -> Response {
    let Some(locale) = lang::parse(&form.lang) else {
        return (StatusCode::BAD_REQUEST, "Unknown language.").into_response();
    };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age={REMEMBER_SECS}; SameSite=Lax; HttpOnly{}",
        lang::code(locale),
        if state.settings.cookie_secure() {
            "; Secure"
        } else {
            ""
        }
    );
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, back_to(form.next.as_deref())),
            (
                SET_COOKIE,
                HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static("")),
            ),
        ],
    )
        .into_response()
}

/// Where to go back to: a page of this site (never another site, never a server function),
/// or else the home page. Letters beyond ASCII are percent-encoded, as a browser would.
fn back_to(next: Option<&str>) -> HeaderValue {
    next.and_then(|next| LocalPath::new(next).ok())
        .filter(|path| !app::route_table::is_server_function(path.as_str()))
        .and_then(|path| {
            let mut encoded = String::with_capacity(path.as_str().len());
            for byte in path.as_str().bytes() {
                if byte.is_ascii() {
                    encoded.push(byte as char);
                } else {
                    encoded.push_str(&format!("%{byte:02X}"));
                }
            }
            HeaderValue::from_str(&encoded).ok()
        })
        .unwrap_or(HeaderValue::from_static("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_of_this_site_are_gone_back_to() {
        for (next, expected) in [
            (Some("/sessions?highlight=3"), "/sessions?highlight=3"),
            (Some("/login"), "/login"),
            (Some("//evil.example/"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("/api/logout"), "/"),
            (Some("/\u{d55c}?q=\u{d55c}"), "/%ED%95%9C?q=%ED%95%9C"),
            (Some(""), "/"),
            (None, "/"),
        ] {
            assert_eq!(back_to(next), expected, "{next:?}");
        }
    }
}
