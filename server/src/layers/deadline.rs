//! Time bounds on a request, so that a slow client holds a connection and a task only so
//! long: the body must arrive within `request_body_timeout` (hyper's header-read timeout
//! ends once the head is in, and a server function waits for its whole body), and the
//! answer must be ready within `request_timeout`. The live channel's stream is exempt from
//! the second: it is meant to stay open.
//!
//! The body is read here, whole, under the size limit of the layer outside this one (forms
//! are a few hundred bytes): a request whose body stalls is answered 408 and its
//! connection closed.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};

/// The two bounds.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub body: Duration,
    pub total: Duration,
}

pub async fn bound(State(deadlines): State<Arc<Deadlines>>, request: Request, next: Next) -> Response {
    let streams = request.uri().path() == app::route_table::EVENTS;
    let has_body = request.headers().contains_key(header::CONTENT_LENGTH)
        || request.headers().contains_key(header::TRANSFER_ENCODING);
    let request = if has_body {
        let (parts, body) = request.into_parts();
        match tokio::time::timeout(deadlines.body, to_bytes(body, usize::MAX)).await {
            Ok(Ok(bytes)) => Request::from_parts(parts, Body::from(bytes)),
            Ok(Err(error)) if too_large(&error) => {
                return refuse(StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.");
            }
            Ok(Err(_)) => return refuse(StatusCode::BAD_REQUEST, "The request's body could not be read."),
            Err(_) => {
                tracing::info!(
                    event = "request_body_timeout",
                    path = %parts.uri.path().chars().take(64).collect::<String>(),
                    "a request's body did not arrive in time"
                );
                return refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    "The request took too long to arrive.",
                );
            }
        }
    } else {
        request
    };
    if streams {
        return next.run(request).await;
    }
    match tokio::time::timeout(deadlines.total, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(event = "request_timeout", "a request took too long to answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The server took too long to answer. Please try again.",
            )
                .into_response()
        }
    }
}

/// The size limit outside this layer cut the body short.
fn too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// An answer after which the connection closes: the rest of the body is never read.
fn refuse(status: StatusCode, message: &'static str) -> Response {
    (status, [(header::CONNECTION, "close")], message).into_response()
}
