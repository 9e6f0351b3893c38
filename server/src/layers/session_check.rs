//! The kick check: one indexed lookup per request decides whether the session's seat is
//! still live.
//!
//! A session whose seat has ended is signed out on the spot (its data flushed, its cookie
//! cleared). A page request or plain form post is then redirected to `/login` with a signed
//! notice cookie naming the seat, and the login page says why from the seat's own record
//! (nothing is stored per request: replaying an ended cookie costs the server no row); a
//! call from the hydrated app carries on with `RequestAuth::Ended`, so that the server
//! function answers the typed `SessionEnded` error.

use app::route_table;
use app::ssr::{error_chain, messages};
use app::ssr::{ClientInfo, Flash, RequestAuth, FLASH_KEY};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{header, HeaderValue, Method};
use single_login::web::{Client, NoticeSeen, SeatState};
use single_login::{Millis, SeatId, User};
use tower_sessions::Session;

use crate::AppState;

/// Runs inside the library's session layer and seat check (`SingleLogin::session_layer`,
/// with ended sessions passed through): turns the library's [`SeatState`] and [`Client`]
/// into the app's [`RequestAuth`] and [`ClientInfo`], and answers what only the app knows
/// how to (a page of an ended session, a protected page for nobody, the flash).
pub async fn check(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let (Some(session), Some(seat_state), Some(client)) = (
        request.extensions().get::<Session>().cloned(),
        request.extensions().get::<SeatState>().cloned(),
        request.extensions().get::<Client>().cloned(),
    ) else {
        // The library's layer answered 500 already if it was missing; nothing to add.
        return next.run(request).await;
    };
    let headers = request.headers();
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let client = ClientInfo::new(
        client,
        app::lang::of_request(text(header::COOKIE), text(header::ACCEPT_LANGUAGE)),
        text(header::ACCEPT).is_some_and(|accept| accept.contains("text/html")),
    );
    let (auth, ended_seat) = authenticate(seat_state, &client);
    let page = client.wants_html;
    let path = request.uri().path().to_owned();
    match (&auth, ended_seat) {
        (RequestAuth::Ended(_), Some(seat)) if page && !route_table::signs_in(&path) => {
            return match state.ctx.login.redirect_ended(seat, route_table::LOGIN).await {
                Ok(response) => response,
                Err(error) => {
                    tracing::error!(error = %error_chain(&error), "could not sign the notice");
                    internal(&client)
                }
            };
        }
        // Whatever it accepts: a protected page is never rendered for nobody.
        (RequestAuth::Anonymous, _) if request.method() == Method::GET && route_table::needs_seat(&path) => {
            return Redirect::to(route_table::LOGIN).into_response();
        }
        _ => {}
    }
    let mut shown_notice = false;
    let mut hinted = false;
    if page && request.method() == Method::GET && route_table::shows_flash(&path) {
        let mut toasts = Vec::new();
        if let Some(toast) = notice(&state, request.headers(), &client).await {
            toasts.push(toast);
            shown_notice = true;
        }
        let hint = app::ssr::flash_hint_name(state.settings.cookie_secure());
        hinted = single_login::web::cookies::cookie_value(text(header::COOKIE), hint).is_some();
        // Only a signed-in session has a flash (an anonymous one is never written), and
        // only a hinted page reads it: a page view without one touches no session record.
        if hinted && matches!(auth, RequestAuth::SignedIn { .. }) {
            toasts.extend(take_flash(&session).await);
        }
        if !toasts.is_empty() {
            request.extensions_mut().insert(Flash(toasts));
        }
    }
    request.extensions_mut().insert(auth);
    request.extensions_mut().insert(client);
    let mut response = next.run(request).await;
    if hinted {
        match state.ctx.cookies().await {
            Ok(cookies) => {
                let clear = app::ssr::flash_hint(&cookies, false);
                response.headers_mut().append(header::SET_COOKIE, clear);
            }
            Err(error) => tracing::error!(error = %error_chain(&error), "could not clear the flash's hint"),
        }
    }
    if shown_notice {
        // Shown once.
        match state.ctx.login.clear_notice().await {
            Ok(clear) => {
                response.headers_mut().append(header::SET_COOKIE, clear);
            }
            Err(error) => tracing::error!(error = %error_chain(&error), "could not clear the notice"),
        }
    }
    response
}

/// The session's flash, removed: read first, so that a session without one is not
/// marked changed (and saved) by the removal.
async fn take_flash(session: &Session) -> Vec<app::models::Toast> {
    match session.get::<Vec<app::models::Toast>>(FLASH_KEY).await {
        Ok(Some(flashed)) => {
            if let Err(error) = session.remove_value(FLASH_KEY).await {
                tracing::error!(error = %error_chain(&error), "could not clear the flash");
            }
            flashed
        }
        Ok(None) => Vec::new(),
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "could not read the flash");
            Vec::new()
        }
    }
}

fn internal(client: &ClientInfo) -> Response {
    let message = app::error::AppError::Internal.message(client.lang);
    (http::StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
}

/// The toast of the request's notice cookie (signed, unexpired), if it has one: "you
/// signed out", or why its seat ended, read from the seat itself.
async fn notice(
    state: &AppState,
    headers: &http::HeaderMap,
    client: &ClientInfo,
) -> Option<app::models::Toast> {
    match state.ctx.login.notice(headers).await {
        Ok(Some(NoticeSeen::SignedOut)) => Some(messages::signed_out(client.lang)),
        Ok(Some(NoticeSeen::Ended(end))) => {
            messages::session_ended(client.lang, end.seat, &end.ended, Millis::now(), client.addr())
        }
        Ok(None) => None,
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "could not read the notice");
            None
        }
    }
}

/// Who is behind the request, as the app names it, and for a session found ended, its seat.
fn authenticate(state: SeatState, client: &ClientInfo) -> (RequestAuth, Option<SeatId>) {
    match state {
        SeatState::Anonymous => (RequestAuth::Anonymous, None),
        SeatState::SignedIn(me) => (
            RequestAuth::SignedIn {
                user: User {
                    id: me.user,
                    username: me.username,
                },
                seat: me.seat,
            },
            None,
        ),
        SeatState::Ended(end) => {
            tracing::info!(
                event = "ended_session_used",
                user = end.user.0,
                seat = end.seat.0,
                reason = end.ended.reason.as_str(),
                client_ip = client.ip.as_deref(),
                "request from a session whose seat has ended"
            );
            match messages::session_ended(client.lang, end.seat, &end.ended, Millis::now(), client.addr()) {
                Some(toast) => (RequestAuth::Ended(toast), Some(end.seat)),
                None => (RequestAuth::Anonymous, None),
            }
        }
    }
}

/// The benchmark's yardstick (feature `bench-without-seat-check`, built only by
/// `scripts/bench`): in place of the library's check, a session found signed in once is
/// taken as signed in for good, so the same page request can be timed without the lookup.
#[cfg(feature = "bench-without-seat-check")]
pub mod unchecked {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};

    use axum::extract::{Request, State};
    use axum::middleware::Next;
    use axum::response::{IntoResponse, Response};
    use single_login::web::{HashedStore, SeatState};
    use single_login::SessionHash;
    use tower_sessions::Session;

    use crate::AppState;

    static SEEN: LazyLock<Mutex<HashMap<SessionHash, SeatState>>> = LazyLock::new(Mutex::default);

    type Layers = tower::layer::util::Stack<
        axum::middleware::FromFnLayer<
            fn(
                State<AppState>,
                Request,
                Next,
            ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>,
            AppState,
            (State<AppState>, Request),
        >,
        tower_sessions::SessionManagerLayer<HashedStore>,
    >;

    pub fn layer(state: &AppState) -> Layers {
        tower::layer::util::Stack::new(
            axum::middleware::from_fn_with_state(state.clone(), check as _),
            state.ctx.login.session_manager(state.sessions.clone()),
        )
    }

    fn check(
        State(state): State<AppState>,
        mut request: Request,
        next: Next,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>> {
        Box::pin(async move {
            let login = &state.ctx.login;
            let (Some(client), Some(session)) = (
                login.client(request.headers(), request.extensions()),
                request.extensions().get::<Session>().cloned(),
            ) else {
                return http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            // Hashed as the check hashes it, so that the yardstick saves the lookup and
            // nothing else.
            let hash = single_login::web::session_hash(&session);
            let seen = hash
                .as_ref()
                .and_then(|hash| SEEN.lock().ok()?.get(hash).cloned());
            let state = match seen {
                Some(state) => state,
                None => match login.check(&session).await {
                    Ok(state) => {
                        if let (Some(hash), SeatState::SignedIn(_)) = (&hash, &state) {
                            if let Ok(mut seen) = SEEN.lock() {
                                seen.insert(hash.clone(), state.clone());
                            }
                        }
                        state
                    }
                    Err(_) => return http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                },
            };
            request.extensions_mut().insert(client);
            request.extensions_mut().insert(state);
            next.run(request).await
        })
    }
}
