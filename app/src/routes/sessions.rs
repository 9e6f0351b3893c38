//! `/sessions`: every live session of the user, ending them (after confirming the password),
//! the recent history, and the password change. `?highlight=ID` marks the login that signed
//! another browser out ("Not you?").

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::form::{
    dispatched_error, field_error, form_error, on_session_ended, use_logout, FieldError, FormError,
    LogoutForm,
};
use crate::components::live::watch_session;
use crate::components::toast::use_toasts;
use crate::error::{AppError, Field};
use crate::models::{SessionsPage, Toast};
use crate::routes::login::SessionSummary;
use crate::server_fns::{my_sessions, ChangePassword, ConfirmPassword, EndOtherSessions, EndSession};

#[component]
pub fn SessionsPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmPassword>::new();
    let end = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let change = ServerAction::<ChangePassword>::new();
    let logout = use_logout();
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
        .map(|e| e.to_string())
    };

    view! {
        <h1>"Your sessions"</h1>
        <nav class="page-actions">
            <a href="/">"← Home"</a>
            <LogoutForm logout/>
        </nav>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                page.get()
                    .map(|result| match result {
                        Ok(data) => {
                            view! {
                                <SessionList data=data.clone() highlight=highlight() review=review() end confirm end_others/>
                                <Show when=move || end_error().is_some()>
                                    <p class="form-error" role="alert">{end_error}</p>
                                </Show>
                                <History data highlight=highlight()/>
                            }
                                .into_any()
                        }
                        Err(_) => view! { <p>"Redirecting to the login page…"</p> }.into_any(),
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
                    {current.then(|| view! { <strong class="badge">" This browser"</strong> })}
                    {(Some(id) == highlight).then(|| view! { <strong class="badge warning">" The login that signed you out"</strong> })}
                    {(Some(id) == review).then(|| view! { <strong class="badge warning">" The new login"</strong> })}
                    {(!current && confirmed)
                        .then(|| {
                            view! {
                                <ActionForm action=end>
                                    <input type="hidden" name="id" value=id.to_string()/>
                                    <button type="submit" class="small" aria-label=format!("Sign out session {id}")>"Sign out"</button>
                                </ActionForm>
                            }
                        })}
                </li>
            }
        })
        .collect_view();
    let confirm_error = move || field_error(confirm.value().get(), Field::CurrentPassword);
    view! {
        <h2>"Signed in now"</h2>
        <ul class="session-rows">{rows}</ul>
        {(others > 0 && confirmed)
            .then(|| {
                view! {
                    <ActionForm action=end_others>
                        <button type="submit">"Sign out all other sessions"</button>
                    </ActionForm>
                }
            })}
        {(others > 0 && !confirmed)
            .then(|| {
                view! {
                    <ActionForm action=confirm>
                        <p class="hint">
                            "To sign out other sessions, confirm your password. It is remembered for "
                            {minutes}
                            {if minutes == 1 { " minute." } else { " minutes." }}
                        </p>
                        <label for="confirm-password">"Your password"</label>
                        <input id="confirm-password" type="password" name="password" autocomplete="current-password" required maxlength="512"/>
                        <FieldError message=Signal::derive(confirm_error)/>
                        <FormError message=Signal::derive(move || form_error(confirm.value().get()))/>
                        <button type="submit">"Confirm password"</button>
                    </ActionForm>
                }
            })}
    }
}

#[component]
fn History(data: SessionsPage, highlight: Option<i64>) -> impl IntoView {
    let rows = data
        .history
        .into_iter()
        .map(|h| {
            let marked = highlight.is_some() && (Some(h.id) == highlight || h.replaced_by == highlight);
            let class = if Some(h.id) == highlight { "session highlighted" } else { "session" };
            view! {
                <li class=class>
                    <span class="session-device">{h.device}</span>
                    " · "
                    <span class="session-ip">{h.ip}</span>
                    " · signed in "
                    {h.signed_in}
                    " · ended "
                    {h.ended}
                    ": "
                    <span class="session-how">{h.how}</span>
                    {(marked && Some(h.id) == highlight).then(|| view! { <strong class="badge warning">" The login that signed you out"</strong> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <h2>"Recent history"</h2>
        <ul class="session-rows history">{rows}</ul>
    }
}

#[component]
fn PasswordChange(change: ServerAction<ChangePassword>, highlighted: bool) -> impl IntoView {
    let message = move |field| Signal::derive(move || field_error(change.value().get(), field));
    view! {
        <section class=if highlighted { "secure highlighted" } else { "secure" }>
            <h2>{if highlighted { "Not you? Secure your account" } else { "Change password" }}</h2>
            <p class="hint">
                {if highlighted {
                    "If you did not make the login marked above, change your password now: that also signs out every other session, so whoever has it cannot come back in."
                } else {
                    "Changing your password signs out every other session."
                }}
            </p>
            <ActionForm action=change>
                <label for="current-password">"Current password"</label>
                <input id="current-password" type="password" name="current" autocomplete="current-password" required maxlength="512"/>
                <FieldError message=message(Field::CurrentPassword)/>
                <label for="new-password">"New password"</label>
                <input id="new-password" type="password" name="password" autocomplete="new-password" required maxlength="512"/>
                <FieldError message=message(Field::Password)/>
                <label for="new-password-confirm">"Confirm new password"</label>
                <input id="new-password-confirm" type="password" name="password_confirm" autocomplete="new-password" required maxlength="512"/>
                <FieldError message=message(Field::PasswordConfirm)/>
                <FormError message=Signal::derive(move || form_error(change.value().get()))/>
                <button type="submit" disabled=move || change.pending().get()>
                    {if highlighted { "Change password and sign out everywhere else" } else { "Change password" }}
                </button>
            </ActionForm>
        </section>
    }
}
