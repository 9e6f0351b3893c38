//! Form helpers: field messages and the reaction to a session that has ended.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::components::toast::use_toasts;
use crate::error::{AppError, Field};

/// The message under one field, from the last result of an action.
pub fn field_error<T>(result: Option<Result<T, AppError>>, field: Field) -> Option<String> {
    result.and_then(|r| r.err()).and_then(|e| e.for_field(field))
}

/// When a server call reports that this browser's session ended, shows why and goes to the
/// login page. Runs in the browser only (effects do not run on the server).
pub fn on_session_ended(result: impl Fn() -> Option<AppError> + Send + Sync + 'static) {
    let toasts = use_toasts();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(AppError::SessionEnded(toast)) = result() {
            toasts.push(toast);
            navigate("/login", NavigateOptions::default());
        }
    });
}

#[component]
pub fn FieldError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="field-error" role="alert">{move || message.get()}</p>
        </Show>
    }
}
