//! Where a request comes from: client IP, user agent, language, and whether it wants a page.

use std::net::SocketAddr;

use app::ssr::{ClientInfo, Lang};
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use http::header;

pub async fn client_info(mut request: Request, next: Next) -> Response {
    let info = read(&request);
    request.extensions_mut().insert(info);
    next.run(request).await
}

pub fn read(request: &Request) -> ClientInfo {
    let headers = request.headers();
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    ClientInfo {
        ip: request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_canonical().to_string()),
        user_agent: text(header::USER_AGENT).map(str::to_owned),
        lang: Lang::from_accept_language(text(header::ACCEPT_LANGUAGE)),
        wants_html: text(header::ACCEPT).is_some_and(|accept| accept.contains("text/html")),
    }
}
