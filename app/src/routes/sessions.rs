//! `/sessions`: every live session of the user, ending them (after confirming the password),
//! the recent history, and the password change. `?highlight=ID` marks the login that signed
//! another browser out ("Not you?").

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_i18n::{td, td_string};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::form::{
    dispatched_error, field_error, focus_first_error, form_error, on_session_ended, use_logout,
    CurrentPasswordField, FormError, LogoutForm, NewPasswordFields,
};
use crate::components::live::watch_session;
use crate::components::toast::use_toasts;
use crate::error::{AppError, Field};
use crate::lang;
use crate::models::{SessionsPage, Toast};
use crate::route_table;
use crate::routes::login::{Moment, SessionSummary};
use crate::server_fns::{my_sessions, ChangePassword, ConfirmPassword, EndOtherSessions, EndSession};

#[component]
pub fn SessionsPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmPassword>::new();
    let end = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let change = ServerAction::<ChangePassword>::new();
    let logout = use_logout();
    let locale = lang::locale();
    focus_first_error(confirm);
    focus_first_error(change);
    let page = Resource::new(
        move || {
            (
                confirm.version().get(),
                end.version().get(),
                end_others.version().get(),
                change.version().get(),
            )
        },
        |_| my_sessions(),
    );
    let marked = |key: &'static str| {
        move || {
            use_query_map()
                .read()
                .get(key)
                .and_then(|id| id.parse::<i64>().ok())
        }
    };
    // `highlight`: the login that signed this browser out; `review`: a new login the live
    // channel announced while this one stayed.
    let (highlight, review) = (marked("highlight"), marked("review"));

    let toasts = use_toasts();
    let announce = move |result: Option<Result<Toast, AppError>>| {
        if let Some(Ok(toast)) = result {
            toasts.push(toast);
        }
    };
    Effect::new(move |_| announce(end.value().get()));
    Effect::new(move |_| announce(end_others.value().get()));
    Effect::new(move |_| announce(change.value().get()));
    on_session_ended(move || page.get().and_then(|r| r.err()));
    // This page's own logout ends the seat too: leave that one to the logout's answer.
    watch_session(move || {
        if !logout.pending().get_untracked() {
            page.refetch();
        }
    });
    on_session_ended(dispatched_error(end));
    on_session_ended(dispatched_error(end_others));

    let end_error = move || {
        [
            end.value().get().and_then(|r| r.err()),
            end_others.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .find(|e| !matches!(e, AppError::SessionEnded(_)))
        .map(|e| e.message(locale))
    };

    view! {
        <Title text=lang::title(locale, td_string!(locale, your_sessions))/>
        <h1>{td_string!(locale, your_sessions)}</h1>
        <nav class="page-actions">
            <a href=route_table::HOME>{td_string!(locale, back_home)}</a>
            <LogoutForm logout/>
        </nav>
        <Suspense fallback=move || view! { <p>{td_string!(locale, loading)}</p> }>
            {move || {
                page.get()
                    .map(|result| match result {
                        Ok(data) => {
                            view! {
                                <SessionList data=data.clone() highlight=highlight() review=review() end confirm end_others/>
                                <Show when=move || end_error().is_some()>
                                    <p class="form-error" role="alert" tabindex="-1">{end_error}</p>
                                </Show>
                                <History data highlight=highlight()/>
                            }
                                .into_any()
                        }
                        Err(_) => view! { <p>{td_string!(locale, redirecting)}</p> }.into_any(),
                    })
            }}
        </Suspense>
        <PasswordChange change highlighted=highlight().or(review()).is_some()/>
    }
}

#[component]
fn SessionList(
    data: SessionsPage,
    highlight: Option<i64>,
    review: Option<i64>,
    end: ServerAction<EndSession>,
    confirm: ServerAction<ConfirmPassword>,
    end_others: ServerAction<EndOtherSessions>,
) -> impl IntoView {
    let others = data.live.iter().filter(|s| !s.current).count();
    let confirmed = data.confirmed;
    let minutes = data.confirmation_minutes;
    let usage = data.usage;
    let locale = lang::locale();
    let rows = data
        .live
        .into_iter()
        .map(|session| {
            let id = session.id;
            let current = session.current;
            let class = if Some(id) == highlight || Some(id) == review {
                "session highlighted"
            } else {
                "session"
            };
            view! {
                <li class=class>
                    <SessionSummary session/>
                    {current.then(|| view! { " " <strong class="badge">{td_string!(locale, this_browser)}</strong> })}
                    {(Some(id) == highlight)
                        .then(|| view! { " " <strong class="badge warning">{td_string!(locale, login_that_signed_you_out)}</strong> })}
                    {(Some(id) == review).then(|| view! { " " <strong class="badge warning">{td_string!(locale, the_new_login)}</strong> })}
                    {(!current && confirmed)
                        .then(|| {
                            view! {
                                <ActionForm action=end>
                                    <input type="hidden" name="id" value=id.to_string()/>
                                    <button type="submit" class="small" aria-label=td_string!(locale, sign_out_session, id).to_string()>
                                        {td_string!(locale, sign_out)}
                                    </button>
                                </ActionForm>
                            }
                        })}
                </li>
            }
        })
        .collect_view();
    let confirm_error = move || field_error(confirm.value().get(), Field::CurrentPassword);
    view! {
        <h2>{td_string!(locale, signed_in_now)}</h2>
        <p class="usage">
            <span class="visually-hidden">{td_string!(locale, usage_heading)} ": "</span>
            {usage}
        </p>
        <ul class="session-rows">{rows}</ul>
        {(others > 0 && confirmed)
            .then(|| {
                view! {
                    <ActionForm action=end_others>
                        <button type="submit">{td_string!(locale, sign_out_all_others)}</button>
                    </ActionForm>
                }
            })}
        {(others > 0 && !confirmed)
            .then(|| {
                view! {
                    <ActionForm action=confirm>
                        <p class="hint">
                            {match minutes {
                                1 => td_string!(locale, confirm_hint_1).to_string(),
                                minutes => td_string!(locale, confirm_hint_n, minutes).to_string(),
                            }}
                        </p>
                        <CurrentPasswordField
                            id="confirm-password"
                            name="password"
                            label=td_string!(locale, your_password)
                            error=Signal::derive(confirm_error)
                        />
                        <FormError message=Signal::derive(move || form_error(confirm.value().get()))/>
                        <button type="submit">{td_string!(locale, confirm_password_button)}</button>
                    </ActionForm>
                }
            })}
    }
}

#[component]
fn History(data: SessionsPage, highlight: Option<i64>) -> impl IntoView {
    let locale = lang::locale();
    let rows = data
        .history
        .into_iter()
        .map(|h| {
            let marked = highlight.is_some() && (Some(h.id) == highlight || h.replaced_by == highlight);
            let class = if Some(h.id) == highlight { "session highlighted" } else { "session" };
            let (signed_in, ended) = (h.signed_in, h.ended);
            view! {
                <li class=class>
                    <span class="session-device">{h.device}</span>
                    " · "
                    <span class="session-ip">{h.ip}</span>
                    " · "
                    {td!(
                        locale,
                        history_times,
                        signed_in = move || view! { <Moment when=signed_in.clone()/> },
                        ended = move || view! { <Moment when=ended.clone()/> }
                    )}
                    " "
                    <span class="session-how">{h.how}</span>
                    {(marked && Some(h.id) == highlight)
                        .then(|| view! { " " <strong class="badge warning">{td_string!(locale, login_that_signed_you_out)}</strong> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <h2>{td_string!(locale, recent_history)}</h2>
        <ul class="session-rows history">{rows}</ul>
    }
}

#[component]
fn PasswordChange(change: ServerAction<ChangePassword>, highlighted: bool) -> impl IntoView {
    let message = move |field| Signal::derive(move || field_error(change.value().get(), field));
    let locale = lang::locale();
    view! {
        <section class=if highlighted { "secure highlighted" } else { "secure" }>
            <h2>
                {if highlighted { td_string!(locale, not_you_secure) } else { td_string!(locale, change_password) }}
            </h2>
            <p class="hint">
                {if highlighted { td_string!(locale, secure_hint) } else { td_string!(locale, change_hint) }}
            </p>
            <ActionForm action=change>
                <CurrentPasswordField
                    id="current-password"
                    name="current"
                    label=td_string!(locale, current_password)
                    error=message(Field::CurrentPassword)
                />
                <NewPasswordFields
                    id="new-password"
                    confirm_id="new-password-confirm"
                    label=td_string!(locale, new_password)
                    confirm_label=td_string!(locale, confirm_new_password)
                    error=message(Field::Password)
                    confirm_error=message(Field::PasswordConfirm)
                />
                <FormError message=Signal::derive(move || form_error(change.value().get()))/>
                <button type="submit" disabled=move || change.pending().get()>
                    {if highlighted { td_string!(locale, change_and_sign_out) } else { td_string!(locale, change_password) }}
                </button>
            </ActionForm>
        </section>
    }
}
