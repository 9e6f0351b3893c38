//! The browser's end of the live channel. The server's end is `server/src/live/`, which
//! has the protocol and turns the core's change feed (`single_login::changes`) into events.
//!
//! A signed-in page opens one `EventSource`. When another session of the user changes, the
//! page re-reads its data (and shows the alert that comes with a new login); when this session ends, it re-reads too, and that read answers
//! `SessionEnded`, which the page already turns into the toast and the way to `/login`. So
//! the kicked browser lands on the login page without anyone touching it. Without
//! JavaScript none of this runs, and the next request does the same job.

/// While the calling component is mounted (and the tab is visible), keeps the live channel
/// open and calls `refresh` whenever the page should re-read what it shows. Sets `data-live`
/// on `<body>` while the channel is listening, a marker for tests.
pub fn watch_session(refresh: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    browser::watch(refresh);
    #[cfg(not(feature = "hydrate"))]
    let _ = refresh;
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use leptos::prelude::*;
    use leptos_router::hooks::use_navigate;
    use leptos_router::NavigateOptions;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{Document, EventSource, MessageEvent};

    use crate::components::toast::use_toasts;
    use crate::models::Toast;
    use crate::route_table::EVENTS;

    /// The open source, if any, and whether the session has ended (then nothing reopens it).
    #[derive(Default)]
    struct Channel {
        source: RefCell<Option<EventSource>>,
        finished: Cell<bool>,
    }

    impl Channel {
        fn close(&self) {
            if let Some(source) = self.source.borrow_mut().take() {
                source.close();
            }
            mark_live(false);
        }
    }

    struct Listeners {
        ready: Closure<dyn FnMut()>,
        changed: Closure<dyn FnMut(MessageEvent)>,
        ended: Closure<dyn FnMut(MessageEvent)>,
        superseded: Closure<dyn FnMut()>,
    }

    fn open(channel: &Channel, listeners: &Listeners) {
        if channel.finished.get() || channel.source.borrow().is_some() {
            return;
        }
        let Ok(source) = EventSource::new(EVENTS) else {
            return;
        };
        for (name, listener) in [
            ("ready", listeners.ready.as_ref()),
            ("changed", listeners.changed.as_ref()),
            ("ended", listeners.ended.as_ref()),
            ("superseded", listeners.superseded.as_ref()),
        ] {
            let _ = source.add_event_listener_with_callback(name, listener.unchecked_ref());
        }
        *channel.source.borrow_mut() = Some(source);
    }

    pub fn watch(refresh: impl Fn() + 'static) {
        let toasts = use_toasts();
        let navigate = use_navigate();
        let refresh = Rc::new(refresh);
        Effect::new(move |_| {
            let channel = Rc::new(Channel::default());
            let listeners = Rc::new(Listeners {
                ready: Closure::new(|| mark_live(true)),
                // The session's newer pages hold the channels it may have: this one lets go
                // (and takes one again when shown, see below) instead of reconnecting.
                superseded: Closure::new({
                    let channel = channel.clone();
                    move || channel.close()
                }),
                changed: Closure::new({
                    let refresh = refresh.clone();
                    move |event: MessageEvent| {
                        // A login that began while this one stays comes with an alert.
                        if let Some(alert) = toast_in(&event) {
                            toasts.push(alert);
                        }
                        refresh()
                    }
                }),
                ended: Closure::new({
                    let (channel, refresh, navigate) = (channel.clone(), refresh.clone(), navigate.clone());
                    move |event: MessageEvent| {
                        // Otherwise the browser would reconnect by itself.
                        channel.finished.set(true);
                        channel.close();
                        // A toast comes along only when the session had ended before the
                        // channel opened: then no later request can tell why.
                        match toast_in(&event) {
                            Some(toast) => {
                                toasts.push(toast);
                                navigate(crate::route_table::LOGIN, NavigateOptions::default());
                            }
                            None => refresh(),
                        }
                    }
                }),
            });
            open(&channel, &listeners);

            // Browsers allow six connections per host over HTTP/1.1, shared by all tabs: a
            // channel in every hidden tab would leave none for the visible one. Hidden tabs
            // close theirs and reopen it when shown; an ending missed meanwhile arrives at once.
            let document: Option<Document> = web_sys::window().and_then(|w| w.document());
            let on_visibility = Closure::<dyn FnMut()>::new({
                let (channel, listeners, document) = (channel.clone(), listeners.clone(), document.clone());
                move || {
                    if document.as_ref().is_some_and(Document::hidden) {
                        channel.close();
                    } else {
                        open(&channel, &listeners);
                    }
                }
            });
            if let Some(document) = &document {
                let _ = document.add_event_listener_with_callback(
                    "visibilitychange",
                    on_visibility.as_ref().unchecked_ref(),
                );
            }

            // Everything lives as long as the page does.
            let held = SendWrapper::new((channel, listeners, on_visibility, document));
            on_cleanup(move || {
                if held.valid() {
                    let (channel, _listeners, on_visibility, document) = held.take();
                    channel.finished.set(true);
                    channel.close();
                    if let Some(document) = document {
                        let _ = document.remove_event_listener_with_callback(
                            "visibilitychange",
                            on_visibility.as_ref().unchecked_ref(),
                        );
                    }
                }
            });
        });
    }

    fn toast_in(event: &MessageEvent) -> Option<Toast> {
        event
            .data()
            .as_string()
            .and_then(|data| serde_json::from_str::<Option<Toast>>(&data).ok())
            .flatten()
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
