//! One module per page.

mod admin;
mod home;
mod login;
mod sessions;
mod signup;

pub use admin::{AdminPage, AdminUserPage, AdminUsersPage};
pub use home::HomePage;
pub use login::LoginPage;
pub use sessions::SessionsPage;
pub use signup::SignupPage;

use leptos::prelude::*;
use leptos_i18n::td_string;
use leptos_meta::Title;

use crate::lang;
use crate::route_table;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let locale = lang::locale();
    view! {
        <Title text=lang::title(locale, td_string!(locale, not_found_title))/>
        <h1>{td_string!(locale, not_found_title)}</h1>
        <p><a href=route_table::HOME>{td_string!(locale, go_home)}</a></p>
    }
}
