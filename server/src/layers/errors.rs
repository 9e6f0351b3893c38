//! One place that gives server-function errors their HTTP status.
//!
//! Server functions answer every error as a 500 with a `serverfnerror` header and the
//! encoded [`AppError`] as the body; a malformed form never reaches the function at all. This
//! layer decodes the error and sets the status it deserves (422, 401, 400; 500 only for a
//! real fault). A plain form post (no JavaScript) that failed is answered with the form page
//! itself, rendered with its field messages, under that status, instead of a redirect.

use app::error::AppError;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{header, Method, StatusCode};
use tower::ServiceExt;

const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";
const MAX_ERROR_BYTES: usize = 64 * 1024;

pub async fn map_errors(State(pages): State<Router>, request: Request, next: Next) -> Response {
    let rerender = request.method() == Method::POST
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    let (parts, body) = request.into_parts();
    let replay = rerender.then(|| (parts.headers.clone(), parts.extensions.clone()));
    let response = next.run(Request::from_parts(parts, body)).await;
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let (mut head, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_ERROR_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response(),
    };
    let error: AppError = serde_json::from_slice(&bytes).unwrap_or(AppError::Internal);
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);

    // The form page the browser came from, with the error in its query (set by server_fn).
    let location = head
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|l| l.contains("__err="))
        .and_then(|l| l.parse::<http::Uri>().ok());
    if let (Some((headers, extensions)), Some(location)) = (replay, location) {
        let path = match (location.path(), location.query()) {
            (path, Some(query)) if path.starts_with("/api/") => {
                format!("{}?{query}", app::routes::form_page(path))
            }
            (path, Some(query)) => format!("{path}?{query}"),
            (path, None) => path.to_owned(),
        };
        let mut page = Request::new(Body::empty());
        *page.uri_mut() = path.parse().unwrap_or_else(|_| http::Uri::from_static("/"));
        *page.headers_mut() = headers;
        page.headers_mut().remove(header::CONTENT_TYPE);
        page.headers_mut().remove(header::CONTENT_LENGTH);
        *page.extensions_mut() = extensions;
        let Ok(mut rendered) = pages.oneshot(page).await;
        if rendered.status().is_success() {
            *rendered.status_mut() = status;
            // Keep the cookies the failed call set.
            for cookie in head.headers.get_all(header::SET_COOKIE) {
                rendered.headers_mut().append(header::SET_COOKIE, cookie.clone());
            }
            return rendered;
        }
    }
    head.status = status;
    head.headers.remove(header::LOCATION);
    Response::from_parts(head, Body::from(bytes))
}
