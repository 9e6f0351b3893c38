//! The kick check: one indexed lookup per request decides whether the session's seat is
//! still live.
//!
//! A session whose seat has ended is signed out on the spot (its data flushed, its cookie
//! cleared). A page request or plain form post is then redirected to `/login`, which shows
//! why once (a flash); a call from the hydrated app carries on with `RequestAuth::Ended`,
//! so that the server function answers the typed `SessionEnded` error.

use app::ssr::{error_chain, messages};
use app::ssr::{ClientInfo, Flash, RequestAuth, FLASH_KEY};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{Method, StatusCode};
use single_login::seats::Check;
use single_login::Millis;
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
    let auth = match authenticate(&state, &session, &client).await {
        Ok(auth) => auth,
        Err(error) => {
            tracing::error!(error = %error_chain(&*error), "session check failed");
            let message = app::error::AppError::Internal.message(client.lang);
            return (StatusCode::INTERNAL_SERVER_ERROR, message).into_response();
        }
    };
    let page = client.wants_html;
    let path = request.uri().path().to_owned();
    match &auth {
        RequestAuth::Ended(toast) if page && !SIGN_IN_ENDPOINTS.contains(&path.as_str()) => {
            // Logged inside; the redirect is still the right answer.
            let _ = app::ssr::flash_in_new_session(&session, toast.clone()).await;
            return (
                [(
                    http::header::HeaderName::from_static("clear-site-data"),
                    app::ssr::CLEAR_SITE_DATA,
                )],
                Redirect::to("/login"),
            )
                .into_response();
        }
        // Whatever it accepts: a protected page is never rendered for nobody.
        RequestAuth::Anonymous
            if request.method() == Method::GET && PROTECTED_PAGES.contains(&path.as_str()) =>
        {
            return Redirect::to("/login").into_response();
        }
        _ => {}
    }
    if page && request.method() == Method::GET && FLASH_PAGES.contains(&path.as_str()) {
        match session.remove::<Vec<app::models::Toast>>(FLASH_KEY).await {
            Ok(Some(toasts)) => {
                request.extensions_mut().insert(Flash(toasts));
            }
            Ok(None) => {}
            Err(error) => tracing::error!(error = %error_chain(&error), "could not read the flash"),
        }
    }
    request.extensions_mut().insert(auth);
    next.run(request).await
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn authenticate(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
) -> Result<RequestAuth, BoxError> {
    #[cfg(feature = "bench-without-seat-check")]
    if let Some(auth) = session.id().and_then(unchecked::remembered) {
        return Ok(auth);
    }
    let Some((hash, check)) = state.login.check_seat(session).await? else {
        return Ok(RequestAuth::Anonymous);
    };
    let (user, seat, ended) = match check {
        Check::Unknown => return Ok(RequestAuth::Anonymous),
        Check::Live { status, .. } => {
            let auth = RequestAuth::SignedIn {
                user: status.user,
                seat: status.seat,
            };
            #[cfg(feature = "bench-without-seat-check")]
            unchecked::remember(&hash, &auth);
            return Ok(auth);
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
        match messages::session_ended(client.lang, &ended, Millis::now()) {
            Some(toast) => RequestAuth::Ended(toast),
            None => RequestAuth::Anonymous,
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
