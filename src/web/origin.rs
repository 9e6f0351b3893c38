//! CSRF: refuses state-changing requests from other origins.
//!
//! `SameSite=Lax` already keeps the session cookie off cross-site POSTs; this middleware
//! also refuses them outright, using the browser's `Sec-Fetch-Site` and, for browsers
//! without it, `Origin` against `Host`. Requests with neither header (curl, scripts) are not
//! browsers' and pass. Add it with `axum::middleware::from_fn(refuse_cross_origin)`.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, Method, StatusCode};

/// The middleware: `403` for a cross-origin request that is not GET, HEAD, OPTIONS or TRACE.
pub async fn refuse_cross_origin(request: Request, next: Next) -> Response {
    if is_safe(request.method()) || same_origin(&request) {
        next.run(request).await
    } else {
        tracing::warn!(event = "cross_origin_refused", "refused a cross-origin request");
        (StatusCode::FORBIDDEN, "Cross-origin requests are not allowed.").into_response()
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn same_origin(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        // "none" is a user-initiated navigation (typed URL, bookmark).
        return matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.to_str().ok(), host) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        _ => false,
    }
}
