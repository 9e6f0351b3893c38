//! `/login`, with the two answers a policy may give to a right password: "denied" (the
//! sessions that hold the limit) and "choose" (which sessions to end, then continue).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::models::SessionView;
use crate::server_fns::{CancelLogin, ContinueLogin, Login};

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    // Where to go after logging in ("Not you?" leads to /sessions); the server checks it.
    let next = move || use_query_map().read().get("next").unwrap_or_default();
    let proceed = ServerAction::<ContinueLogin>::new();
    let cancel = ServerAction::<CancelLogin>::new();

    // The sessions to choose from: from the latest answer of either action, until a cancel.
    // Starts from the answers the server rendered (a form post without JavaScript), so that
    // the page hydrates as it was rendered.
    let choices = |result: Option<Result<(), AppError>>| match result {
        Some(Err(AppError::ChooseSessions(sessions))) => Some(sessions),
        _ => None,
    };
    let choice = RwSignal::new(
        choices(proceed.value().get_untracked()).or_else(|| choices(login.value().get_untracked())),
    );
    Effect::new(move |_| {
        if let Some(result) = login.value().get() {
            choice.set(choices(Some(result)));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = proceed.value().get() {
            choice.set(choices(Some(result)));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = cancel.value().get() {
            choice.set(None);
        }
    });

    let login_error = move || match login.value().get() {
        Some(Err(AppError::ChooseSessions(_))) | None | Some(Ok(())) => None,
        Some(Err(error)) => Some(error),
    };
    let proceed_error = move || match proceed.value().get() {
        Some(Err(AppError::ChooseSessions(_))) | None | Some(Ok(())) => None,
        Some(Err(error)) => Some(error.to_string()),
    };

    view! {
        <Show
            when=move || choice.get().is_some()
            fallback=move || {
                view! {
                    <h1>"Log in"</h1>
                    <ActionForm action=login>
                        <label for="login-username">"Username"</label>
                        <input id="login-username" name="username" autocomplete="username" required maxlength="128"/>
                        <label for="login-password">"Password"</label>
                        <input
                            id="login-password"
                            type="password"
                            name="password"
                            autocomplete="current-password"
                            required
                            maxlength="512"
                        />
                        <input type="hidden" name="next" value=next/>
                        {move || login_error().map(|error| view! { <LoginError error/> })}
                        <Show when=move || proceed_error().is_some()>
                            <p class="form-error" role="alert">{proceed_error}</p>
                        </Show>
                        <button type="submit" disabled=move || login.pending().get()>"Log in"</button>
                    </ActionForm>
                    <p>"No account yet? " <A href="/signup">"Sign up"</A></p>
                }
            }
        >
            <h1>"Signed in elsewhere"</h1>
            <p>"This account is signed in elsewhere and has reached its limit. Choose the sessions to sign out, then continue."</p>
            <ActionForm action=proceed>
                <fieldset class="sessions">
                    <legend>"Sessions to sign out"</legend>
                    {move || {
                        choice
                            .get()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|session| {
                                let id = format!("end-{}", session.id);
                                view! {
                                    <div class="session-choice">
                                        <input type="checkbox" id=id.clone() name=format!("end[{}]", session.id) value="on"/>
                                        <label for=id>
                                            <SessionSummary session/>
                                        </label>
                                    </div>
                                }
                            })
                            .collect_view()
                    }}
                </fieldset>
                <button type="submit" disabled=move || proceed.pending().get()>"Sign out selected and continue"</button>
            </ActionForm>
            <ActionForm action=cancel>
                <button type="submit" class="secondary">"Cancel"</button>
            </ActionForm>
        </Show>
    }
}

#[component]
fn LoginError(error: AppError) -> impl IntoView {
    let sessions = match &error {
        AppError::LoginDenied(sessions) => sessions.clone(),
        _ => Vec::new(),
    };
    view! {
        <div class="form-error" role="alert">
            <p>{error.to_string()}</p>
            <ul class="session-list">
                {sessions.into_iter().map(|session| view! { <li><SessionSummary session/></li> }).collect_view()}
            </ul>
        </div>
    }
}

/// "Chrome on Windows · 203.0.113.9 · signed in 2 hours ago · last active 5 minutes ago"
#[component]
pub fn SessionSummary(session: SessionView) -> impl IntoView {
    view! {
        <span class="session-device">{session.device}</span>
        " · "
        <span class="session-ip">{session.ip}</span>
        " · signed in "
        {session.signed_in}
        " · last active "
        {session.last_active}
    }
}
