//! Where a request comes from: client IP (behind trusted proxies, see
//! `single_login::client_ip`), user agent, language, and whether it wants a page.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use app::ssr::ClientInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header;
use single_login::client_ip::ClientIpConfig;
use single_login::web::client_address;

pub async fn client_info(
    State(config): State<Arc<ClientIpConfig>>,
    mut request: Request,
    next: Next,
) -> Response {
    let info = read(&config, &request);
    request.extensions_mut().insert(info);
    next.run(request).await
}

pub fn read(config: &ClientIpConfig, request: &Request) -> ClientInfo {
    let headers = request.headers();
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip());
    ClientInfo {
        ip: Some(client_address(config, peer, headers).to_string()),
        user_agent: text(header::USER_AGENT).map(str::to_owned),
        lang: app::lang::of_request(text(header::COOKIE), text(header::ACCEPT_LANGUAGE)),
        wants_html: text(header::ACCEPT).is_some_and(|accept| accept.contains("text/html")),
    }
}
