//! The one toast component for every message in the app.
//!
//! Toasts come from two places: the flash that the server rendered into the page (shown
//! without JavaScript too), and the queue that the hydrated app pushes to. Each toast is a
//! polite live region, can be dismissed, and hides itself after a few seconds (a CSS
//! animation, so it works without JavaScript; hovering pauses it).

use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::lang;
use crate::models::{Toast, ToastKind};
use crate::seed;

/// The toasts the hydrated app pushed since the page loaded.
#[derive(Clone, Copy)]
pub struct ToastQueue {
    items: RwSignal<Vec<(u64, Toast)>>,
}

impl ToastQueue {
    pub fn provide() {
        provide_context(ToastQueue {
            items: RwSignal::new(Vec::new()),
        });
    }

    pub fn push(&self, toast: Toast) {
        self.items.update(|items| {
            let id = items.last().map_or(0, |(id, _)| id + 1);
            items.push((id, toast));
        });
    }
}

pub fn use_toasts() -> ToastQueue {
    expect_context::<ToastQueue>()
}

#[component]
pub fn ToastHost() -> impl IntoView {
    let queue = use_toasts();
    // The flash never changes once the page is drawn: no signal, no suspense.
    let flash = seed::flash()
        .into_iter()
        .enumerate()
        .map(|(i, toast)| view! { <ToastView id=format!("flash-{i}") toast/> })
        .collect_view();
    view! {
        <section class="toasts" aria-label=td_string!(lang::locale(), notifications)>
            {flash}
            <For each=move || queue.items.get() key=|(id, _)| *id let:item>
                <ToastView id=format!("toast-{}", item.0) toast=item.1/>
            </For>
        </section>
    }
}

#[component]
fn ToastView(id: String, toast: Toast) -> impl IntoView {
    let kind = match toast.kind {
        ToastKind::Info => "info",
        ToastKind::Success => "success",
        ToastKind::Warning => "warning",
        ToastKind::Error => "error",
    };
    // The checkbox keeps the dismissed state, so the close control works without JavaScript.
    let dismissed = RwSignal::new(false);
    let dismiss = td_string!(lang::locale(), dismiss);
    view! {
        <input
            type="checkbox"
            class="toast-dismissed"
            id=id.clone()
            prop:checked=move || dismissed.get()
            hidden
        />
        <div class=format!("toast toast-{kind}") role="status" aria-live="polite">
            <div class="toast-body">
                <p class="toast-title">{toast.title}</p>
                {toast.detail.map(|detail| view! { <p class="toast-detail">{detail}</p> })}
                {toast.link.map(|link| view! { <p class="toast-link"><a href=link.href.to_string()>{link.label}</a></p> })}
            </div>
            <label
                for=id
                class="toast-close"
                title=dismiss
                aria-label=dismiss
                role="button"
                tabindex="0"
                on:keydown=move |ev| {
                    if ev.key() == "Enter" || ev.key() == " " {
                        ev.prevent_default();
                        dismissed.set(true);
                    }
                }
            >
                "×"
            </label>
        </div>
    }
}
