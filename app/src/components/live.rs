//! The browser's end of the live channel (the server's `live` module has the protocol).
//!
//! A signed-in page opens one `EventSource`. When another session of the user changes, the
//! page re-reads its data; when this session ends, it re-reads too, and that read answers
//! `SessionEnded`, which the page already turns into the toast and the way to `/login`. So
//! the kicked browser lands on the login page without anyone touching it. Without
//! JavaScript none of this runs, and the next request does the same job.

/// Where the live channel is served.
pub const EVENTS_PATH: &str = "/api/session/events";

/// While the calling component is mounted, keeps the live channel open and calls `refresh`
/// whenever the page should re-read what it shows. Sets `data-live` on `<body>` while the
/// channel is listening, a marker for tests.
pub fn watch_session(refresh: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    browser::watch(refresh);
    #[cfg(not(feature = "hydrate"))]
    let _ = refresh;
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::rc::Rc;

    use leptos::prelude::*;
    use leptos_router::hooks::use_navigate;
    use leptos_router::NavigateOptions;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    use super::EVENTS_PATH;
    use crate::components::toast::use_toasts;
    use crate::models::Toast;

    pub fn watch(refresh: impl Fn() + 'static) {
        let toasts = use_toasts();
        let navigate = use_navigate();
        let refresh = Rc::new(refresh);
        Effect::new(move |_| {
            let Ok(source) = EventSource::new(EVENTS_PATH) else {
                return;
            };
            let on_ready = Closure::<dyn FnMut()>::new(|| mark_live(true));
            let on_changed = Closure::<dyn FnMut()>::new({
                let refresh = refresh.clone();
                move || refresh()
            });
            let on_ended = Closure::<dyn FnMut(MessageEvent)>::new({
                let (refresh, source, navigate) = (refresh.clone(), source.clone(), navigate.clone());
                move |event: MessageEvent| {
                    // Otherwise the browser would reconnect by itself.
                    source.close();
                    mark_live(false);
                    // A toast comes along only when the session had ended before the channel
                    // opened: then no later request can tell why.
                    let toast = event
                        .data()
                        .as_string()
                        .and_then(|data| serde_json::from_str::<Option<Toast>>(&data).ok())
                        .flatten();
                    match toast {
                        Some(toast) => {
                            toasts.push(toast);
                            navigate("/login", NavigateOptions::default());
                        }
                        None => refresh(),
                    }
                }
            });
            for (name, listener) in [
                ("ready", on_ready.as_ref()),
                ("changed", on_changed.as_ref()),
                ("ended", on_ended.as_ref()),
            ] {
                let _ = source.add_event_listener_with_callback(name, listener.unchecked_ref());
            }
            // The closures must live as long as the source; both go when the page does.
            let held = SendWrapper::new((source, on_ready, on_changed, on_ended));
            on_cleanup(move || {
                if held.valid() {
                    let (source, ..) = held.take();
                    source.close();
                    mark_live(false);
                }
            });
        });
    }

    fn mark_live(live: bool) {
        let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        else {
            return;
        };
        let _ = if live {
            body.set_attribute("data-live", "")
        } else {
            body.remove_attribute("data-live")
        };
    }
}
