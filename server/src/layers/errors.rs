//! One place that gives server-function errors their HTTP status, and the one home of the
//! `__path`/`__err` address parameters.
//!
//! Server functions answer every error as a 500 with a `serverfnerror` header and the
//! encoded [`AppError`] as the body; a malformed form never reaches the function at all. This
//! layer decodes the error and sets the status it deserves (422, 401, 400; 500 only for a
//! real fault). A plain form post (no JavaScript) that failed is answered with the form page
//! itself, rendered with its field messages, under that status, instead of a redirect.
//!
//! Leptos shows an action's result found in the page's address (`__path` names the server
//! function, `__err` is its error, unsigned base64 JSON), on the server and again in the
//! hydrating browser. Anyone could write such an address, so a link could make a real page
//! show any error, toast or link its author chose. The app therefore never puts a result
//! into an address a browser sees: a failed plain form post is rendered in place (above),
//! through an internal request that never passes the outer layers, and
//! [`drop_forged_results`] removes the two parameters from every request that comes from
//! outside. Signing them instead would keep a mechanism that nothing here needs.

use app::error::AppError;
use app::models::LocalPath;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use http::{header, Method, StatusCode, Uri};
use leptos::server_fn::error::ServerFnUrlError;
use tower::ServiceExt;

const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// The address parameters in which Leptos carries a server function's result.
const RESULT_KEYS: [&str; 2] = ["__path", "__err"];

/// Removes `__path` and `__err` from every request that reaches the server from outside. A
/// page request that carries them is redirected (303) to the same address without them, so
/// that the hydrating browser, which reads its own address, never sees them either.
pub async fn drop_forged_results(mut request: Request, next: Next) -> Response {
    let Some(query) = request.uri().query() else {
        return next.run(request).await;
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if !pairs.iter().any(|(key, _)| RESULT_KEYS.contains(&key.as_str())) {
        return next.run(request).await;
    }
    let kept = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            pairs
                .iter()
                .filter(|(key, _)| !RESULT_KEYS.contains(&key.as_str())),
        )
        .finish();
    let path = request.uri().path();
    let clean = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{kept}")
    };
    tracing::info!(
        event = "forged_result_dropped",
        path = %path.chars().take(64).collect::<String>(),
        "dropped a form result from a request's address"
    );
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        // `//host` as a path would be another site in a Location header.
        let target = LocalPath::new(clean).map_or_else(|_| "/".to_owned(), String::from);
        return Redirect::to(&target).into_response();
    }
    match clean.parse() {
        Ok(uri) => {
            *request.uri_mut() = uri;
            next.run(request).await
        }
        Err(_) => (StatusCode::BAD_REQUEST, "The request's address is malformed.").into_response(),
    }
}

/// Where server_fn sends a plain form post back to: the page it was posted from (its
/// Referer), if it names one.
fn sent_back_to(headers: &header::HeaderMap) -> Option<Uri> {
    headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| l.parse::<Uri>().ok())
}

/// A form post without JavaScript that succeeds is sent back to the page it came from.
/// When that page was itself the answer to a failed post, its address is the server
/// function's, which serves no page: send it to the page that holds the form.
fn back_to_the_form_page(response: &mut Response, path: &str) {
    let to_function =
        sent_back_to(response.headers()).is_some_and(|uri| app::route_table::is_server_function(uri.path()));
    if response.status().is_redirection() && to_function {
        let page = app::route_table::form_page(path);
        response
            .headers_mut()
            .insert(header::LOCATION, header::HeaderValue::from_static(page));
    }
}

pub async fn map_errors(State(pages): State<Router>, request: Request, next: Next) -> Response {
    let rerender = request.method() == Method::POST
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    let path = request.uri().path().to_owned();
    let (parts, body) = request.into_parts();
    let replay = rerender.then(|| (parts.headers.clone(), parts.extensions.clone()));
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        if rerender {
            back_to_the_form_page(&mut response, &path);
        }
        return response;
    }
    let (mut head, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_ERROR_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response(),
    };
    let error: AppError = serde_json::from_slice(&bytes).unwrap_or(AppError::Internal);
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(seconds) = error.retry_after() {
        head.headers
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    // A browser told that its session ended drops what it may have kept of it.
    if matches!(error, AppError::SessionEnded(_)) {
        let (name, value) = single_login::web::clear_site_data();
        head.headers.insert(name, value);
    }

    // The page that holds the form: the one the browser posted from (server_fn's redirect
    // names it) unless that was itself such an answer, or none was named.
    if let Some((headers, extensions)) = replay {
        let referer = sent_back_to(&head.headers);
        let page = match &referer {
            Some(uri) if !app::route_table::is_server_function(uri.path()) => uri.path().to_owned(),
            _ => app::route_table::form_page(&path).to_owned(),
        };
        // The page's own query, then this answer's result: nothing the address brought.
        let mut base = format!("http://localhost{page}");
        if let Some(query) = referer.as_ref().and_then(Uri::query) {
            base.push('?');
            base.push_str(query);
        }
        ServerFnUrlError::<AppError>::strip_error_info(&mut base);
        let target = ServerFnUrlError::new(&path, error.clone())
            .to_url(&base)
            .ok()
            .and_then(|url| url[url::Position::BeforePath..].parse::<Uri>().ok());
        if let Some(target) = target {
            let mut page = Request::new(Body::empty());
            *page.uri_mut() = target;
            *page.headers_mut() = headers;
            page.headers_mut().remove(header::CONTENT_TYPE);
            page.headers_mut().remove(header::CONTENT_LENGTH);
            *page.extensions_mut() = extensions;
            let Ok(mut rendered) = pages.oneshot(page).await;
            if rendered.status().is_success() {
                *rendered.status_mut() = status;
                // Keep the cookies the failed call set, and its Clear-Site-Data.
                for cookie in head.headers.get_all(header::SET_COOKIE) {
                    rendered.headers_mut().append(header::SET_COOKIE, cookie.clone());
                }
                for name in ["clear-site-data", "retry-after"] {
                    if let Some(value) = head.headers.get(name) {
                        rendered.headers_mut().insert(name, value.clone());
                    }
                }
                return rendered;
            }
        }
    }
    head.status = status;
    head.headers.remove(header::LOCATION);
    Response::from_parts(head, Body::from(bytes))
}
