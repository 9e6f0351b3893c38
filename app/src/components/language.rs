//! The language switch on every page: a plain form, so it works without JavaScript. The
//! host answers it (`server/src/language.rs`): it remembers the choice in a cookie and sends
//! the browser back to the page, which the server then renders in the new language.

use leptos::prelude::*;
use leptos_i18n::td_string;
use leptos_router::hooks::use_location;

use crate::lang;
use crate::route_table::{form_page, is_server_function, LANGUAGE};

#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let current = lang::locale();
    let location = use_location();
    // Back to this page. A form post without JavaScript that failed is answered at the
    // server function's address: go back to the page that holds the form instead.
    let next = move || {
        let path = location.pathname.get();
        if is_server_function(&path) {
            return form_page(&path).to_owned();
        }
        match location.search.get().trim_start_matches('?') {
            "" => path,
            query => format!("{path}?{query}"),
        }
    };
    view! {
        <form method="post" action=LANGUAGE class="language-switch" aria-label=td_string!(current, language_switch)>
            <input type="hidden" name="next" value=next/>
            {lang::all()
                .iter()
                .map(|&locale| {
                    // Each language is named in itself, and marked so: a screen reader reads
                    // "한국어" with Korean rules on an English page.
                    view! {
                        <button
                            type="submit"
                            name="lang"
                            value=lang::code(locale)
                            lang=lang::code(locale)
                            aria-current=(locale == current).then_some("true")
                        >
                            {td_string!(locale, language_name)}
                        </button>
                    }
                })
                .collect_view()}
        </form>
    }
}
