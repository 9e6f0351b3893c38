//! The per-request check as a tower layer.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Redirect, Response};
use http::{header, HeaderMap, HeaderName, Request, StatusCode};
use tower_layer::Layer;
use tower_service::Service;
use tower_sessions::Session;

use super::{Client, OnEnded, SeatState, SessionEnd, SingleLogin};
use crate::client_ip::{ClientIpConfig, ForwardedHeader};

/// The layer of [`SingleLogin::layer`].
#[derive(Debug, Clone)]
pub struct SeatCheckLayer {
    login: SingleLogin,
}

impl SeatCheckLayer {
    pub(super) fn new(login: SingleLogin) -> Self {
        SeatCheckLayer { login }
    }
}

impl<S> Layer<S> for SeatCheckLayer {
    type Service = SeatCheck<S>;

    fn layer(&self, inner: S) -> SeatCheck<S> {
        SeatCheck {
            inner,
            login: self.login.clone(),
        }
    }
}

/// The service of [`SeatCheckLayer`].
#[derive(Debug, Clone)]
pub struct SeatCheck<S> {
    inner: S,
    login: SingleLogin,
}

impl<S> Service<Request<Body>> for SeatCheck<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The clone that was made ready is the one that serves this request.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let login = self.login.clone();
        Box::pin(async move {
            let client = client_of(&login, &request);
            request.extensions_mut().insert(client);
            let state = match request.extensions().get::<Session>().cloned() {
                Some(session) => match login.check(&session).await {
                    Ok(state) => state,
                    Err(error) => {
                        tracing::error!(error = %crate::error_chain(&error), "the seat check failed");
                        return Ok((
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "Something went wrong. Please try again.",
                        )
                            .into_response());
                    }
                },
                None => {
                    tracing::error!("no session: put the seat check inside tower-sessions' layer");
                    SeatState::Anonymous
                }
            };
            if let SeatState::Ended(end) = &state {
                tracing::info!(
                    user = end.user.0,
                    seat = end.seat.0,
                    reason = end.ended.reason.as_str(),
                    "request from a session whose seat has ended"
                );
                if let Some(answer) = answer(&login.on_ended, end) {
                    return Ok(answer);
                }
            }
            request.extensions_mut().insert(state);
            inner.call(request).await
        })
    }
}

/// The answer to an ended session, unless it passes through.
fn answer(on_ended: &OnEnded, end: &SessionEnd) -> Option<Response> {
    // Caches and storage of a browser whose session ended go with it (ASVS 14.3.1).
    let clear = (
        HeaderName::from_static("clear-site-data"),
        r#""cache", "storage""#,
    );
    match on_ended {
        OnEnded::Unauthorized => Some((StatusCode::UNAUTHORIZED, [clear], end.message()).into_response()),
        OnEnded::Redirect(path) => {
            let separator = if path.contains('?') { '&' } else { '?' };
            let to = format!("{path}{separator}ended={}", end.ended.reason.as_str());
            Some(([clear], Redirect::to(&to)).into_response())
        }
        OnEnded::PassThrough => None,
        OnEnded::Custom(answer) => Some(answer(end)),
    }
}

/// The client behind the request: the peer (axum's `ConnectInfo`, where the app is served
/// with it), or the address the trusted proxies forwarded.
fn client_of(login: &SingleLogin, request: &Request<Body>) -> Client {
    let headers = request.headers();
    let peer: Option<IpAddr> = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    Client {
        ip: peer.map(|peer| client_address(&login.client_ip, peer, headers)),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// The client's address: `peer`, or what the trusted proxies in front of it forwarded in
/// `config`'s header ([`ClientIpConfig::resolve`]). A malformed header is logged and read
/// only as far as it can be trusted.
pub fn client_address(config: &ClientIpConfig, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let name = match config.header {
        ForwardedHeader::XForwardedFor => HeaderName::from_static("x-forwarded-for"),
        ForwardedHeader::Forwarded => header::FORWARDED,
    };
    // A header that is not visible ASCII cannot be a list of addresses: it is malformed.
    let values: Vec<&str> = headers
        .get_all(&name)
        .iter()
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
        .collect();
    let resolved = config.resolve(peer, &values);
    if let Some(malformed) = &resolved.malformed {
        tracing::warn!(peer = %peer, error = %malformed, "ignored a forwarding header");
    }
    resolved.ip
}
