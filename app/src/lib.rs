//! The single-login user interface: routes, components and the server functions they call.
//!
//! Everything here compiles twice: with `ssr` for the server (rendering, server-function
//! bodies) and with `hydrate` for the browser. Server-only code lives under [`ssr`].

pub mod components;
pub mod error;
pub mod models;
pub mod routes;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::components::assets::Assets;
use crate::components::toast::{ToastHost, ToastQueue};
use crate::routes::{HomePage, LoginPage, NotFound, SessionsPage, SignupPage};

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // No icon: without this line every page load asks for /favicon.ico (a 404).
                <link rel="icon" href="data:,"/>
                <AutoReload options=options.clone()/>
                <Assets options/>
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
    ToastQueue::provide();

    // Every page renders completely before it is sent: forms and toasts must work without
    // JavaScript, and out-of-order streaming needs it to put content in place.
    view! {
        <Title text="single-login"/>
        <Router>
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/signup") view=SignupPage ssr=SsrMode::Async/>
                    <Route path=path!("/sessions") view=SessionsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <ToastHost/>
        </Router>
    }
}
