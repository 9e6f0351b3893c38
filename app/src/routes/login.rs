//! `/login`.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::server_fns::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || {
        login
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };

    view! {
        <h1>"Log in"</h1>
        <ActionForm action=login>
            <label for="login-username">"Username"</label>
            <input id="login-username" name="username" autocomplete="username" required maxlength="128"/>
            <label for="login-password">"Password"</label>
            <input id="login-password" type="password" name="password" autocomplete="current-password" required maxlength="512"/>
            <Show when=move || error().is_some()>
                <p class="form-error" role="alert">{error}</p>
            </Show>
            <button type="submit" disabled=move || login.pending().get()>"Log in"</button>
        </ActionForm>
        <p>"No account yet? " <A href="/signup">"Sign up"</A></p>
    }
}
