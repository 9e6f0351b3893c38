//! The console's gate: to anyone but an administrator, every console address (`/admin…`,
//! `/api/admin/…`) answers as an address nobody serves. Runs inside the session check, which
//! has said who is asking.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;

use app::route_table;
use app::ssr::{error_chain, ConsoleAccess, RequestAuth};

use crate::AppState;

pub async fn gate(
    State((state, pages)): State<(AppState, Router)>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if !route_table::is_console(&path) {
        return next.run(request).await;
    }
    let admin = is_admin(&state, request.extensions().get::<RequestAuth>()).await;
    request.extensions_mut().insert(ConsoleAccess(admin));
    if admin || !route_table::is_server_function(&path) {
        // A page draws the not-found page itself (`ConsoleAccess`), so that the browser's
        // hydration draws the same.
        return next.run(request).await;
    }
    // Routed afresh, to an address no server function has: the same answer as any other.
    *request.uri_mut() = http::Uri::from_static("/api/not-found");
    match pages.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
    .into_response()
}

/// Whether the request's user may use the console (a failed read says no, and is logged).
async fn is_admin(state: &AppState, auth: Option<&RequestAuth>) -> bool {
    let Some(RequestAuth::SignedIn { user, .. }) = auth else {
        return false;
    };
    match state.ctx.logins().accounts.is_admin(user.id).await {
        Ok(admin) => admin,
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "could not read the admin role");
            false
        }
    }
}
