//! The single-login user interface: routes, components and the server functions they call.
//!
//! Everything here compiles twice: with `ssr` for the server (rendering, server-function
//! bodies) and with `hydrate` for the browser. Server-only code lives under [`ssr`].

// The browser build computes the layout of nested view types; the login page's go past the
// default limit of 128.
#![recursion_limit = "256"]

pub mod components;
pub mod error;
pub mod lang;
pub mod models;
pub mod route_table;
pub mod routes;
pub mod seed;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod ssr;

// The message catalogue (`locales/*.json`), made into code by build.rs: `i18n::Locale`, and
// one accessor per message for the `td_string!` family of macros.
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};

use crate::components::assets::assets;
use crate::components::language::LanguageSwitch;
use crate::components::toast::{ToastHost, ToastQueue};
use crate::route_table::{segment, ADMIN, HOME, LOGIN, SESSIONS, SIGNUP};
use crate::routes::{
    AdminPage, AdminUserPage, AdminUsersPage, HomePage, LoginPage, NotFound, SessionsPage, SignupPage,
};

/// The language of the page: the request's on the server, the document's on the browser.
fn page_locale() -> lang::Locale {
    #[cfg(feature = "ssr")]
    let locale = ssr::client().lang;
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    let locale = lang::document_locale();
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let locale = lang::Locale::default();
    locale
}

/// [`document`] as Leptos's error handler calls it: with the options by value.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    document(&options)
}

/// The HTML document around the app, in the request's language. The options by reference:
/// this runs for every page, and a clone of them showed in profiles.
pub fn document(options: &LeptosOptions) -> impl IntoView {
    // Only for `<html lang>`: the app provides the locale to everything inside.
    let locale = page_locale();
    view! {
        <!DOCTYPE html>
        <html lang=lang::code(locale)>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // No icon: without this line every page load asks for /favicon.ico (a 404).
                <link rel="icon" href="data:,"/>
                {assets(options)}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    lang::provide(page_locale());
    ToastQueue::provide();

    // Every page renders completely before it is sent: forms and toasts must work without
    // JavaScript, and out-of-order streaming needs it to put content in place.
    view! {
        <Router>
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=StaticSegment(segment(HOME)) view=HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(segment(LOGIN)) view=LoginPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(segment(SIGNUP)) view=SignupPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(segment(SESSIONS)) view=SessionsPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(segment(ADMIN)) view=AdminPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment(segment(ADMIN)), StaticSegment("users")) view=AdminUsersPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment(segment(ADMIN)), StaticSegment("user")) view=AdminUserPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            // Below the page, where no toast ever covers it.
            <footer class="bottom">
                <LanguageSwitch/>
            </footer>
            <ToastHost/>
        </Router>
    }
}
