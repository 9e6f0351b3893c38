//! `/signup`.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_i18n::td_string;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::components::form::{field_error, focus_first_error, form_error, FormError, TextField};
use crate::error::Field;
use crate::lang;
use crate::route_table;
use crate::server_fns::Signup;

#[component]
pub fn SignupPage() -> impl IntoView {
    let signup = ServerAction::<Signup>::new();
    let message = move |field| Signal::derive(move || field_error(signup.value().get(), field));
    let locale = lang::locale();
    focus_first_error(signup);

    view! {
        <Title text=td_string!(locale, signup_title)/>
        <h1>{td_string!(locale, signup_title)}</h1>
        <ActionForm action=signup>
            <TextField
                id="signup-username"
                name="username"
                label=td_string!(locale, username)
                autocomplete="username"
                maxlength=128
                hint=td_string!(locale, username_hint)
                error=message(Field::Username)
            />
            <TextField
                id="signup-password"
                name="password"
                kind="password"
                label=td_string!(locale, password)
                autocomplete="new-password"
                maxlength=512
                hint=td_string!(locale, password_hint)
                error=message(Field::Password)
            />
            <TextField
                id="signup-password-confirm"
                name="password_confirm"
                kind="password"
                label=td_string!(locale, confirm_password)
                autocomplete="new-password"
                maxlength=512
                error=message(Field::PasswordConfirm)
            />
            <FormError message=Signal::derive(move || form_error(signup.value().get()))/>
            <button type="submit" disabled=move || signup.pending().get()>{td_string!(locale, create_account)}</button>
        </ActionForm>
        <p>{td_string!(locale, have_account)} " " <A href=route_table::LOGIN>{td_string!(locale, login_title)}</A></p>
    }
}
