//! The layers every request passes through, outermost first: tracing, the host allow-list
//! and the security headers, the removal of forged form results from the address,
//! `Cache-Control` (the library's `no_store`), the body limit, the time bounds on the body and the answer
//! ([`deadline`]), the library's cross-origin refusal, its session layer and seat check
//! (`single_login::web`: the session, the client's address, the kick), the app's reading of
//! them ([`session_check`]: language, pages of ended sessions, the flash), the mapping of
//! errors to statuses, and the collection of a rendered page into one body ([`whole_page`]).

pub mod console;
pub mod deadline;
pub mod errors;
pub mod security;
pub mod session_check;
pub mod whole_page;

use axum::extract::{MatchedPath, Request};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::TraceLayer;

/// Spans named by the matched route, not the raw path, and never with headers (cookies).
pub fn trace() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, fn(&Request) -> tracing::Span> {
    TraceLayer::new_for_http().make_span_with(span_for as fn(&Request) -> tracing::Span)
}

fn span_for(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| request.uri().path().to_owned(), |p| p.as_str().to_owned());
    tracing::info_span!("request", method = %request.method(), route = %route)
}
