//! `/`: who is signed in, and the way out. The host redirects anonymous page requests to
//! `/login` before this renders; the redirect here covers client-side navigation.

use leptos::prelude::*;
use leptos_i18n::{td, td_string};
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::components::form::{on_session_ended, use_logout, LogoutForm};
use crate::components::live::watch_session;
use crate::lang;
use crate::route_table;
use crate::seed;
use crate::server_fns::current_user;

#[component]
pub fn HomePage() -> impl IntoView {
    // Who is signed in: known to the server when it draws the page (no resource, no
    // suspense: see `crate::seed`); asked again when the live channel says something changed.
    let seeded = seed::current_user();
    let needs_load = seeded.is_none();
    let user = RwSignal::new(seeded);
    let reload = move || {
        leptos::task::spawn_local(async move {
            let answer = current_user().await;
            // The page may be gone by the time the answer comes.
            let _ = user.try_set(Some(answer));
        })
    };
    if needs_load {
        // Drawn after a client-side navigation: the page had no value from the server.
        reload();
    }
    let logout = use_logout();
    let locale = lang::locale();

    on_session_ended(move || user.get().and_then(|r| r.err()));
    // This page's own logout ends the seat too, and the channel says so before the action
    // has answered: leave that one to the action, which shows "You have been signed out".
    watch_session(move || {
        if !logout.pending().get_untracked() {
            reload();
        }
    });

    view! {
        <Title text=lang::title(locale, td_string!(locale, home_title))/>
        {move || match user.get() {
            None => view! { <p>{td_string!(locale, loading)}</p> }.into_any(),
            Some(Ok(Some(user))) => {
                let username = user.username;
                view! {
                    <h1>{td_string!(locale, welcome)}</h1>
                    <p class="signed-in">
                        {td!(
                            locale,
                            signed_in_as,
                            username = move || username.clone(),
                            <b> = |children: ChildrenFn| view! { <strong>{children()}</strong> }
                        )}
                    </p>
                    <p><a href=route_table::SESSIONS>{td_string!(locale, your_sessions)}</a></p>
                    <LogoutForm logout/>
                }
                    .into_any()
            }
            Some(Ok(None)) => view! { <Redirect path=route_table::LOGIN/> }.into_any(),
            Some(Err(_)) => view! { <p>{td_string!(locale, redirecting)}</p> }.into_any(),
        }}
    }
}
