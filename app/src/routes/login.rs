//! `/login`, with the two answers a policy may give to a right password: "denied" (the
//! sessions that hold the limit) and "choose" (which sessions to end, then continue).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_i18n::{td, td_string};
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::components::form::{focus_first_error, CurrentPasswordField, UsernameField};
use crate::error::AppError;
use crate::lang;
use crate::models::{SessionView, When};
use crate::route_table;
use crate::server_fns::{CancelLogin, ContinueLogin, Login};

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    // Where to go after logging in ("Not you?" leads to /sessions); the server checks it.
    let next = move || use_query_map().read().get("next").unwrap_or_default();
    let proceed = ServerAction::<ContinueLogin>::new();
    let cancel = ServerAction::<CancelLogin>::new();
    let locale = lang::locale();
    focus_first_error(login);
    focus_first_error(proceed);

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
        Some(Err(error)) => Some(error.message(locale)),
    };

    view! {
        <Show
            when=move || choice.get().is_some()
            fallback=move || {
                view! {
                    <Title text=lang::title(locale, td_string!(locale, login_title))/>
                    <h1>{td_string!(locale, login_title)}</h1>
                    <ActionForm action=login>
                        <UsernameField id="login-username"/>
                        <CurrentPasswordField
                            id="login-password"
                            name="password"
                            label=td_string!(locale, password)
                        />
                        <input type="hidden" name="next" value=next/>
                        {move || login_error().map(|error| view! { <LoginError error/> })}
                        <Show when=move || proceed_error().is_some()>
                            <p class="form-error" role="alert" tabindex="-1">{proceed_error}</p>
                        </Show>
                        <button type="submit" disabled=move || login.pending().get()>{td_string!(locale, login_title)}</button>
                    </ActionForm>
                    <p>{td_string!(locale, no_account)} " " <A href=route_table::SIGNUP>{td_string!(locale, signup_title)}</A></p>
                }
                    .into_any()
            }
        >
            <Title text=lang::title(locale, td_string!(locale, signed_in_elsewhere))/>
            <h1>{td_string!(locale, signed_in_elsewhere)}</h1>
            <p>{td_string!(locale, choose_explain)}</p>
            <ActionForm action=proceed>
                <fieldset class="sessions">
                    <legend>{td_string!(locale, sessions_to_sign_out)}</legend>
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
                <button type="submit" disabled=move || proceed.pending().get()>{td_string!(locale, sign_out_selected)}</button>
            </ActionForm>
            <ActionForm action=cancel>
                <button type="submit" class="secondary">{td_string!(locale, cancel)}</button>
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
        <div class="form-error" role="alert" tabindex="-1">
            <p>{error.message(lang::locale())}</p>
            <ul class="session-list">
                {sessions.into_iter().map(|session| view! { <li><SessionSummary session/></li> }).collect_view()}
            </ul>
        </div>
    }
}

/// "Chrome on Windows · 203.0.113.9 · signed in 2 hours ago · last active 5 minutes ago"
#[component]
pub fn SessionSummary(session: SessionView) -> impl IntoView {
    let (signed_in, last_active) = (session.signed_in, session.last_active);
    view! {
        <span class="session-device">{session.device}</span>
        " · "
        <span class="session-kind">{session.kind}</span>
        " · "
        <span class="session-ip">{session.ip}</span>
        " · "
        {td!(
            lang::locale(),
            session_times,
            signed_in = move || view! { <Moment when=signed_in.clone()/> },
            last_active = move || view! { <Moment when=last_active.clone()/> }
        )}
    }
}

/// "2 hours ago", with the date and time in full for assistive technology and on hover.
#[component]
pub fn Moment(when: When) -> impl IntoView {
    view! { <time datetime=when.iso title=when.absolute>{when.relative}</time> }
}
