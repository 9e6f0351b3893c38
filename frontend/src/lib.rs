//! The browser entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    drop_form_results_from_address();
    leptos::mount::hydrate_body(app::App);
    // A marker for tests (and curious people) that the page is live.
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "");
    }
}

/// Leptos's router reads a server function's result from the address (`__path`, `__err`),
/// and anyone can write an address. The server redirects such addresses away before they are
/// served (the host's `errors` layer); should a page be open at one anyway, the router must
/// not see it either.
fn drop_form_results_from_address() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(href) = window.location().href() else {
        return;
    };
    let Ok(url) = web_sys::Url::new(&href) else {
        return;
    };
    let params = url.search_params();
    if !params.has("__err") && !params.has("__path") {
        return;
    }
    params.delete("__err");
    params.delete("__path");
    url.set_search(&params.to_string().as_string().unwrap_or_default());
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url.href()));
    }
}
