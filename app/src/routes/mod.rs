//! One module per page.

mod home;
mod login;
mod signup;

pub use home::HomePage;
pub use login::LoginPage;
pub use signup::SignupPage;

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <h1>"Page not found"</h1>
        <p><a href="/">"Go to the home page"</a></p>
    }
}
