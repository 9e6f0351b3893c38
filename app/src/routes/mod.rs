//! One module per page.

mod home;
mod login;
mod sessions;
mod signup;

pub use home::HomePage;
pub use login::LoginPage;
pub use sessions::SessionsPage;
pub use signup::SignupPage;

use leptos::prelude::*;
use leptos_i18n::td_string;
use leptos_meta::Title;

use crate::lang;

/// Whether `path` is a server function's address rather than a page's: a failed form post
/// without JavaScript is answered there, and no page is ever served from it.
pub fn is_server_function(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The page that holds the form of a server function. A form post without JavaScript that
/// fails is answered with its page; when the browser posted from a page that was itself such
/// an answer (its address is the server function's), this says which page that was.
pub fn form_page(path: &str) -> &'static str {
    match path {
        "/api/login" | "/api/login/continue" | "/api/login/cancel" => "/login",
        "/api/signup" => "/signup",
        p if p.starts_with("/api/sessions") || p == "/api/account/password" => "/sessions",
        _ => "/",
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let locale = lang::locale();
    view! {
        <Title text=td_string!(locale, not_found_title)/>
        <h1>{td_string!(locale, not_found_title)}</h1>
        <p><a href="/">{td_string!(locale, go_home)}</a></p>
    }
}
