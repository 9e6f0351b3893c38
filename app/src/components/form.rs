//! Form helpers: field messages, the reaction to a session that has ended, and the logout
//! control of every signed-in page.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use leptos_i18n::td_string;

use crate::components::toast::use_toasts;
use crate::error::{AppError, Field};
use crate::lang;
use crate::server_fns::Logout;

/// The message under one field, from the last result of an action.
pub fn field_error<T>(result: Option<Result<T, AppError>>, field: Field) -> Option<String> {
    result
        .and_then(|r| r.err())
        .and_then(|e| e.for_field(field, lang::locale()))
}

/// The message of an error that is about no field (too many attempts, busy, a malformed
/// request): shown above the form's button. A session that ended is handled elsewhere.
pub fn form_error<T>(result: Option<Result<T, AppError>>) -> Option<String> {
    match result? {
        Err(AppError::Invalid { .. } | AppError::SessionEnded(_)) | Ok(_) => None,
        Err(error) => Some(error.message(lang::locale())),
    }
}

/// One labelled input with its hint and its error, tied together for assistive technology
/// (`aria-describedby`, `aria-invalid`). A field in error takes the focus: on the page a
/// failed form post without JavaScript returns (`autofocus`, the first one wins), and after
/// a failed call of the hydrated app ([`focus_first_error`]).
#[component]
pub fn TextField(
    id: &'static str,
    name: &'static str,
    #[prop(into)] label: String,
    #[prop(default = "text")] kind: &'static str,
    autocomplete: &'static str,
    maxlength: u32,
    #[prop(optional_no_strip)] hint: Option<String>,
    #[prop(optional, into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = {
        let (hint_id, error_id, has_hint) = (hint_id.clone(), error_id.clone(), hint.is_some());
        move || {
            let ids: Vec<&str> = [
                has_hint.then_some(hint_id.as_str()),
                error.get().is_some().then_some(error_id.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect();
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let invalid = move || error.get().is_some();
    view! {
        <label for=id>{label}</label>
        <input
            id=id
            name=name
            type=kind
            autocomplete=autocomplete
            required
            maxlength=maxlength
            aria-invalid=move || invalid().then_some("true")
            aria-describedby=described
            autofocus=invalid
        />
        {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
        <Show when=invalid>
            <p class="field-error" id=error_id.clone()>{move || error.get()}</p>
        </Show>
    }
    // Erased: pages hold several fields, and the nested view types grow past the
    // compiler's limits in the browser build.
    .into_any()
}

/// The name field of the login and sign-up forms: one set of limits for both.
#[component]
pub fn UsernameField(
    id: &'static str,
    #[prop(optional_no_strip)] hint: Option<String>,
    #[prop(optional, into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let locale = lang::locale();
    view! {
        <TextField
            id
            name="username"
            label=td_string!(locale, username)
            autocomplete="username"
            maxlength=128
            hint
            error
        />
    }
}

/// A password the user types to prove who they are (login, re-authentication).
#[component]
pub fn CurrentPasswordField(
    id: &'static str,
    name: &'static str,
    #[prop(into)] label: String,
    #[prop(optional, into)] error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <TextField id name kind="password" label autocomplete="current-password" maxlength=512 error/>
    }
}

/// A new password and its confirmation (sign-up, password change), named `password` and
/// `password_confirm`.
#[component]
pub fn NewPasswordFields(
    id: &'static str,
    confirm_id: &'static str,
    #[prop(into)] label: String,
    #[prop(into)] confirm_label: String,
    #[prop(optional_no_strip)] hint: Option<String>,
    #[prop(optional, into)] error: Signal<Option<String>>,
    #[prop(optional, into)] confirm_error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <TextField id name="password" kind="password" label autocomplete="new-password" maxlength=512 hint error/>
        <TextField
            id=confirm_id
            name="password_confirm"
            kind="password"
            label=confirm_label
            autocomplete="new-password"
            maxlength=512
            error=confirm_error
        />
    }
    .into_any()
}

/// After `action` fails with an error the form shows, moves the focus to it: the first
/// field in error, or else the form's own message. (A toast never takes the focus.)
pub fn focus_first_error<S>(action: ServerAction<S>)
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let error = dispatched_error(action);
    Effect::new(move |_| {
        // A session that ended leads to the login page instead (`on_session_ended`).
        if error().is_some_and(|e| !matches!(e, AppError::SessionEnded(_))) {
            // After this turn's rendering, so that the message is in the page.
            request_animation_frame(|| {
                let Some(document) = web_sys::window().and_then(|w| w.document()) else {
                    return;
                };
                let target = document
                    .query_selector("main [aria-invalid=\"true\"], main .form-error")
                    .ok()
                    .flatten();
                if let Some(element) = target.and_then(|e| {
                    use leptos::wasm_bindgen::JsCast;
                    e.dyn_into::<web_sys::HtmlElement>().ok()
                }) {
                    let _ = element.focus();
                }
            });
        }
    });
}

/// The error of the last call `action` made from this page, and nothing else. Leptos also
/// seeds an action with a result read from the page's address (`__err`), which anyone can
/// write: the server never serves such an address, and this keeps a page from acting on one
/// should it meet one anyway. (A plain form post's error, rendered by the server, is shown
/// through the action's value and never acted on.)
pub fn dispatched_error<S>(
    action: ServerAction<S>,
) -> impl Fn() -> Option<AppError> + Send + Sync + Copy + 'static
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    move || {
        if action.version().get() == 0 {
            return None;
        }
        action.value().get().and_then(|r| r.err())
    }
}

/// When a server call reports that this browser's session ended, shows why and goes to the
/// login page. Runs in the browser only (effects do not run on the server). `result` is a
/// resource this page loaded or [`dispatched_error`] of an action: only the server's answer
/// to this page's own call, never a value from the address.
pub fn on_session_ended(result: impl Fn() -> Option<AppError> + Send + Sync + 'static) {
    let toasts = use_toasts();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(AppError::SessionEnded(toast)) = result() {
            toasts.push(toast);
            navigate(crate::route_table::LOGIN, NavigateOptions::default());
        }
    });
}

/// A form's error that belongs to no field.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="form-error" role="alert" tabindex="-1">{move || message.get()}</p>
        </Show>
    }
}

/// The logout action of a signed-in page: its answer's toast is shown, and a session that
/// had already ended leads to the login page like any other call.
pub fn use_logout() -> ServerAction<Logout> {
    let logout = ServerAction::<Logout>::new();
    let toasts = use_toasts();
    on_session_ended(dispatched_error(logout));
    Effect::new(move |_| {
        if logout.version().get() > 0 {
            if let Some(Ok(toast)) = logout.value().get() {
                toasts.push(toast);
            }
        }
    });
    logout
}

/// "Log out", on every signed-in page (ASVS 7.4.4).
#[component]
pub fn LogoutForm(logout: ServerAction<Logout>) -> impl IntoView {
    view! {
        <ActionForm action=logout attr:class="logout">
            <button type="submit" class="secondary" disabled=move || logout.pending().get()>
                {td_string!(lang::locale(), log_out)}
            </button>
        </ActionForm>
    }
}
