//! The per-request check as a tower layer.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
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
            login: Arc::new(self.login.clone()),
        }
    }
}

/// The service of [`SeatCheckLayer`].
#[derive(Debug, Clone)]
pub struct SeatCheck<S> {
    inner: S,
    /// Shared: every request takes a clone, and one `Arc` costs less than the handles of
    /// the registry, the accounts and the throttle each (a profile showed them per page).
    login: Arc<SingleLogin>,
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
            // Wiring mistakes answer every request 500 with the fix in the log: served without
            // the client's address, every per-address limit would be one site-wide bucket;
            // outside the session layer, the check could not see the session it must refuse.
            let Some(client) = login.client(request.headers(), request.extensions()) else {
                return Ok(miswired(
                    "the app is served without ConnectInfo: serve it with \
                     `router.into_make_service_with_connect_info::<std::net::SocketAddr>()`",
                ));
            };
            request.extensions_mut().insert(client);
            let Some(session) = request.extensions().get::<Session>().cloned() else {
                return Ok(miswired(
                    "the seat check runs outside tower-sessions' layer: use \
                     `SingleLogin::session_layer`, or add `SingleLogin::layer` before the session layer",
                ));
            };
            let state = match login.check(&session).await {
                Ok(state) => state,
                Err(error) => {
                    tracing::error!(error = %crate::error_chain(&error), "the seat check failed");
                    return Ok(something_went_wrong());
                }
            };
            if let SeatState::Ended(end) = &state {
                tracing::info!(
                    user = end.user.0,
                    seat = end.seat.0,
                    reason = end.ended.reason.as_str(),
                    "request from a session whose seat has ended"
                );
                match answer(&login, end).await {
                    Ok(Some(answer)) => return Ok(answer),
                    Ok(None) => {}
                    Err(error) => {
                        tracing::error!(error = %crate::error_chain(&error), "could not sign the notice");
                        return Ok(something_went_wrong());
                    }
                }
            }
            request.extensions_mut().insert(state);
            inner.call(request).await
        })
    }
}

fn something_went_wrong() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong. Please try again.",
    )
        .into_response()
}

fn miswired(fix: &str) -> Response {
    tracing::error!("single-login is wired wrong: {fix}");
    something_went_wrong()
}

/// The answer to an ended session, unless it passes through.
async fn answer(login: &SingleLogin, end: &SessionEnd) -> Result<Option<Response>, super::Error> {
    // Caches and storage of a browser whose session ended go with it (ASVS 14.3.1).
    Ok(match &login.on_ended {
        OnEnded::Unauthorized => Some(
            (
                StatusCode::UNAUTHORIZED,
                [super::clear_site_data()],
                end.message(),
            )
                .into_response(),
        ),
        OnEnded::Redirect(path) => Some(login.redirect_ended(end.seat, path).await?),
        OnEnded::PassThrough => None,
        OnEnded::Custom(answer) => Some(answer(end)),
    })
}

/// The client behind the request: the peer (axum's `ConnectInfo`), or the address the
/// trusted proxies forwarded. `None` when the app is not served with `ConnectInfo`.
pub(super) fn client_of(
    config: &ClientIpConfig,
    headers: &HeaderMap,
    extensions: &http::Extensions,
) -> Option<Client> {
    let ConnectInfo(peer) = extensions.get::<ConnectInfo<SocketAddr>>()?;
    Some(Client {
        ip: Some(client_address(config, peer.ip(), headers)),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    })
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
