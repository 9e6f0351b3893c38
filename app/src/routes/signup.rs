//! `/signup`.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::form::{field_error, form_error, FieldError, FormError};
use crate::error::Field;
use crate::server_fns::Signup;

#[component]
pub fn SignupPage() -> impl IntoView {
    let signup = ServerAction::<Signup>::new();
    let message = move |field| Signal::derive(move || field_error(signup.value().get(), field));

    view! {
        <h1>"Sign up"</h1>
        <ActionForm action=signup>
            <label for="signup-username">"Username"</label>
            <input id="signup-username" name="username" autocomplete="username" required maxlength="128"/>
            <p class="hint">"3 to 32 letters, digits, _ . or -"</p>
            <FieldError message=message(Field::Username)/>
            <label for="signup-password">"Password"</label>
            <input id="signup-password" type="password" name="password" autocomplete="new-password" required maxlength="512"/>
            <p class="hint">"8 to 128 characters"</p>
            <FieldError message=message(Field::Password)/>
            <label for="signup-password-confirm">"Confirm password"</label>
            <input id="signup-password-confirm" type="password" name="password_confirm" autocomplete="new-password" required maxlength="512"/>
            <FieldError message=message(Field::PasswordConfirm)/>
            <FormError message=Signal::derive(move || form_error(signup.value().get()))/>
            <button type="submit" disabled=move || signup.pending().get()>"Create account"</button>
        </ActionForm>
        <p>"Already have an account? " <A href="/login">"Log in"</A></p>
    }
}
