//! Values the server already knows when it renders a page (who is signed in, the toasts of
//! the flash), carried to the browser inside the page so that hydration draws the same thing.
//!
//! A `Resource` carries a value the same way, but it loads through a task spawned per
//! resource and needs a `<Suspense>` around its readers: with the two resources (the
//! user, the flash) a signed-in `/` served 7,700 pages a second, without them 10,500
//! (docs/benchmarks.md). A value the host has put into the request needs neither.
//!
//! The server and the browser must make these values in the same order, as with resources:
//! both ends number them in the order they are made.

use leptos::prelude::SharedValue;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::AppError;
use crate::models::{Toast, UserView};

/// Who is signed in, as the host found out (what `current_user` answers). `None` in the
/// browser outside hydration (a page drawn after a client-side navigation): ask the server.
pub fn current_user() -> Option<Result<Option<UserView>, AppError>> {
    #[cfg(feature = "ssr")]
    return shared(crate::server_fns::auth::signed_in_user);
    #[cfg(not(feature = "ssr"))]
    shared()
}

/// The toasts of the flash that the host took from the session for this page.
pub fn flash() -> Vec<Toast> {
    #[cfg(feature = "ssr")]
    let toasts = shared(crate::ssr::flash);
    #[cfg(not(feature = "ssr"))]
    let toasts = shared();
    toasts.unwrap_or_default()
}

/// On the server: `read()`, written into the page.
#[cfg(feature = "ssr")]
fn shared<T: Serialize + DeserializeOwned>(read: impl FnOnce() -> T) -> Option<T> {
    SharedValue::new(move || Some(read())).into_inner()
}

/// In the browser: the server's value while hydrating, `None` otherwise.
#[cfg(not(feature = "ssr"))]
fn shared<T: Serialize + DeserializeOwned>() -> Option<T> {
    SharedValue::new(|| None).into_inner()
}
