//! The kick check: one indexed lookup per request decides whether the session's seat is
//! still live.
//!
//! A session whose seat has ended is signed out on the spot (its data flushed, its cookie
//! cleared). A page request or plain form post is then redirected to `/login` with a signed
//! notice cookie naming the seat, and the login page says why from the seat's own record
//! (nothing is stored per request: replaying an ended cookie costs the server no row); a
//! call from the hydrated app carries on with `RequestAuth::Ended`, so that the server
//! function answers the typed `SessionEnded` error.

use app::ssr::cookies::Notice;
use app::ssr::{error_chain, messages};
use app::ssr::{ClientInfo, Flash, RequestAuth, FLASH_KEY};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, Method, StatusCode};
use single_login::seats::Check;
use single_login::{Millis, SeatId};
use tower_sessions::Session;

use crate::AppState;

/// Pages that need a signed-in user; anonymous page requests go to `/login`.
const PROTECTED_PAGES: &[&str] = &["/", "/sessions"];

/// Where a browser signs in: a form posted from a page that was open when its session ended
/// is an attempt to sign in again, and goes through.
const SIGN_IN_ENDPOINTS: &[&str] = &["/api/login", "/api/login/continue", "/api/signup"];

/// Pages that show flashed toasts: where plain form posts land. Other pages do not load the
/// session record at all.
const FLASH_PAGES: &[&str] = &["/login", "/sessions"];

pub async fn check(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let (Some(session), Some(client)) = (
        request.extensions().get::<Session>().cloned(),
        request.extensions().get::<ClientInfo>().cloned(),
    ) else {
        return next.run(request).await;
    };
    let (auth, ended_seat) = match authenticate(&state, &session, &client).await {
        Ok(auth) => auth,
        Err(error) => {
            tracing::error!(error = %error_chain(&*error), "session check failed");
            let message = app::error::AppError::Internal.message(client.lang);
            return (StatusCode::INTERNAL_SERVER_ERROR, message).into_response();
        }
    };
    let page = client.wants_html;
    let path = request.uri().path().to_owned();
    match (&auth, ended_seat) {
        (RequestAuth::Ended(_), Some(seat)) if page && !SIGN_IN_ENDPOINTS.contains(&path.as_str()) => {
            let notice = state.ctx.cookies.set_notice(Notice::Ended(seat), Millis::now());
            return (
                [
                    (
                        http::header::HeaderName::from_static("clear-site-data"),
                        HeaderValue::from_static(app::ssr::CLEAR_SITE_DATA),
                    ),
                    (http::header::SET_COOKIE, notice),
                ],
                Redirect::to("/login"),
            )
                .into_response();
        }
        // Whatever it accepts: a protected page is never rendered for nobody.
        (RequestAuth::Anonymous, _)
            if request.method() == Method::GET && PROTECTED_PAGES.contains(&path.as_str()) =>
        {
            return Redirect::to("/login").into_response();
        }
        _ => {}
    }
    let mut shown_notice = false;
    if page && request.method() == Method::GET && FLASH_PAGES.contains(&path.as_str()) {
        let mut toasts = Vec::new();
        let cookies = app::ssr::cookies::cookie_headers(request.headers());
        if let Some(toast) = notice(&state, &cookies, &client).await {
            toasts.push(toast);
            shown_notice = true;
        }
        // Only a signed-in session has a flash; an anonymous one is never written.
        if matches!(auth, RequestAuth::SignedIn { .. }) {
            match session.remove::<Vec<app::models::Toast>>(FLASH_KEY).await {
                Ok(Some(flashed)) => toasts.extend(flashed),
                Ok(None) => {}
                Err(error) => tracing::error!(error = %error_chain(&error), "could not read the flash"),
            }
        }
        if !toasts.is_empty() {
            request.extensions_mut().insert(Flash(toasts));
        }
    }
    request.extensions_mut().insert(auth);
    let mut response = next.run(request).await;
    if shown_notice {
        // Shown once.
        response
            .headers_mut()
            .append(http::header::SET_COOKIE, state.ctx.cookies.clear_notice());
    }
    response
}

/// The toast of the request's notice cookie (signed, unexpired), if it has one: "you
/// signed out", or why its seat ended, read from the seat itself.
async fn notice(state: &AppState, cookies: &[String], client: &ClientInfo) -> Option<app::models::Toast> {
    let now = Millis::now();
    match state
        .ctx
        .cookies
        .notice(cookies.iter().map(String::as_str), now)?
    {
        Notice::SignedOut => Some(messages::signed_out(client.lang)),
        Notice::Ended(seat) => match state.ctx.seats.ended(seat).await {
            Ok(Some((_, ended))) => messages::session_ended(client.lang, seat, &ended, now, client.addr()),
            Ok(None) => None,
            Err(error) => {
                tracing::error!(error = %error_chain(&error), "could not read an ended seat");
                None
            }
        },
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Who is behind the request, and for a session found ended, its seat.
async fn authenticate(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
) -> Result<(RequestAuth, Option<SeatId>), BoxError> {
    #[cfg(feature = "bench-without-seat-check")]
    if let Some(auth) = session.id().and_then(unchecked::remembered) {
        return Ok((auth, None));
    }
    let Some((hash, check)) = state.login.check_seat(session).await? else {
        return Ok((RequestAuth::Anonymous, None));
    };
    let (user, seat, ended) = match check {
        Check::Unknown => return Ok((RequestAuth::Anonymous, None)),
        Check::Live { status, .. } => {
            let auth = RequestAuth::SignedIn {
                user: status.user,
                seat: status.seat,
            };
            #[cfg(feature = "bench-without-seat-check")]
            unchecked::remember(&hash, &auth);
            return Ok((auth, None));
        }
        Check::Ended { status, ended } => (status.user, status.seat, ended),
    };
    tracing::info!(
        event = "ended_session_used",
        user = user.id.0,
        seat = seat.0,
        seat_hash = hash.short(),
        reason = ended.reason.as_str(),
        client_ip = client.ip.as_deref(),
        "request from a session whose seat has ended"
    );
    Ok(
        match messages::session_ended(client.lang, seat, &ended, Millis::now(), client.addr()) {
            Some(toast) => (RequestAuth::Ended(toast), Some(seat)),
            None => (RequestAuth::Anonymous, None),
        },
    )
}

/// The benchmark's yardstick (feature `bench-without-seat-check`, built only by
/// `scripts/bench`): a session found signed in once is taken as signed in for good, so the
/// same page request can be timed without the check.
#[cfg(feature = "bench-without-seat-check")]
mod unchecked {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};

    use app::ssr::RequestAuth;
    use single_login::SessionHash;
    use tower_sessions::session::Id;

    static SEEN: LazyLock<Mutex<HashMap<SessionHash, RequestAuth>>> = LazyLock::new(Mutex::default);

    /// Hashed as the check hashes it, so that the yardstick saves the lookup and nothing else.
    pub fn remembered(id: Id) -> Option<RequestAuth> {
        SEEN.lock().ok()?.get(&SessionHash::of(&id.to_string())).cloned()
    }

    pub fn remember(hash: &SessionHash, auth: &RequestAuth) {
        if let Ok(mut seen) = SEEN.lock() {
            seen.insert(hash.clone(), auth.clone());
        }
    }
}
