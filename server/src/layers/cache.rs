//! No cache may keep a page or an API answer: they say who is signed in and list their
//! sessions, and they may carry the session cookie (OWASP Session Management Cheat Sheet).
//! Static files (a last path segment with a file extension) keep their own caching.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{header, HeaderValue};

pub async fn no_store(request: Request, next: Next) -> Response {
    let file = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'));
    let mut response = next.run(request).await;
    if !file {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    response
}
