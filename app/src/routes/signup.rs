//! `/signup`.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_i18n::td_string;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::components::form::{
    field_error, focus_first_error, form_error, FormError, NewPasswordFields, UsernameField,
};
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
        <Title text=lang::title(locale, td_string!(locale, signup_title))/>
        <h1>{td_string!(locale, signup_title)}</h1>
        <ActionForm action=signup>
            <UsernameField
                id="signup-username"
                hint=Some(td_string!(locale, username_hint).to_string())
                error=message(Field::Username)
            />
            <NewPasswordFields
                id="signup-password"
                confirm_id="signup-password-confirm"
                label=td_string!(locale, password)
                confirm_label=td_string!(locale, confirm_password)
                hint=Some(td_string!(locale, password_hint).to_string())
                error=message(Field::Password)
                confirm_error=message(Field::PasswordConfirm)
            />
            <FormError message=Signal::derive(move || form_error(signup.value().get()))/>
            <button type="submit" disabled=move || signup.pending().get()>{td_string!(locale, create_account)}</button>
        </ActionForm>
        <p>{td_string!(locale, have_account)} " " <A href=route_table::LOGIN>{td_string!(locale, login_title)}</A></p>
    }
}
