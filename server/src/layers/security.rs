//! The allow-list of host names, and the headers with which every response asks the browser
//! to contain mistakes, set in this one place for pages, API answers, static files and errors
//! alike: the library's ([`SecurityHeaders`]) and the app's own Content-Security-Policy.
//!
//! Each request gets a fresh CSP nonce here. Leptos writes it on the inline scripts it renders
//! (hydration, resolved resources) once [`provide_nonce`] has put it into the render's
//! context, so the header and the page agree.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use leptos::nonce::Nonce;
use leptos::prelude::provide_context;
use single_login::web::SecurityHeaders;

use crate::config::{normalize_host, Settings};

/// What the headers depend on, worked out once at start: per response only the nonce is new.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The library's static headers; `Strict-Transport-Security` only where the cookie is
    /// `Secure`, i.e. where the site is served over TLS.
    headers: SecurityHeaders,
    /// The Content-Security-Policy before and after its nonce.
    csp_before_nonce: String,
    csp_after_nonce: String,
    allowed_hosts: Arc<[String]>,
}

impl Policy {
    pub fn new(settings: &Settings, leptos: &leptos::config::LeptosOptions) -> Self {
        // `AutoReload` renders its script when this variable is set (by `cargo leptos watch`);
        // the script opens a WebSocket to the reload port on the page's host.
        Policy::for_run(settings, leptos, std::env::var_os("LEPTOS_WATCH").is_some())
    }

    fn for_run(settings: &Settings, leptos: &leptos::config::LeptosOptions, watching: bool) -> Self {
        let dev_connect = if watching {
            let port = leptos.reload_external_port.unwrap_or(leptos.reload_port);
            let mut hosts = settings.allowed_hosts.clone();
            hosts.push(leptos.site_addr.ip().to_string());
            // CSP host sources cannot name an IPv6 literal (browsers drop them with an error).
            hosts.retain(|host| !host.starts_with('[') && !host.contains(':'));
            let mut sources: Vec<String> = Vec::new();
            for host in hosts {
                for scheme in ["ws", "wss"] {
                    let source = format!(" {scheme}://{host}:{port}");
                    if !sources.contains(&source) {
                        sources.push(source);
                    }
                }
            }
            sources.concat()
        } else {
            String::new()
        };
        // In development the hot-reload script may patch styles in place.
        let styles = if watching {
            "'self' 'unsafe-inline'"
        } else {
            "'self'"
        };
        let after_nonce = [
            "' 'strict-dynamic' 'wasm-unsafe-eval'".to_owned(),
            // Our one stylesheet; no inline styles.
            format!("style-src {styles}"),
            "img-src 'self' data:".to_owned(),
            // Server functions, the wasm fetch and the live channel's EventSource are all
            // same-origin (and in development the reload socket).
            format!("connect-src 'self'{dev_connect}"),
            // No plugins, no <base> that would redirect relative URLs.
            "object-src 'none'".to_owned(),
            "base-uri 'none'".to_owned(),
            // No other page may frame ours (clickjacking "Sign out all other sessions").
            "frame-ancestors 'none'".to_owned(),
            // Forms post only here.
            "form-action 'self'".to_owned(),
        ]
        .join("; ");
        Policy {
            headers: SecurityHeaders::new()
                .hsts(settings.cookie_secure())
                .content_security_policy(None),
            // Nothing loads from elsewhere unless a directive says so. Only scripts carrying
            // this response's nonce run (Leptos's hydration and resource scripts), and what
            // they load ('strict-dynamic'), so an injected <script> or a javascript: link does
            // nothing; 'wasm-unsafe-eval' lets the hydration script compile the app's
            // WebAssembly, and nothing else.
            csp_before_nonce: "default-src 'self'; script-src 'nonce-".to_owned(),
            csp_after_nonce: after_nonce,
            allowed_hosts: settings.allowed_hosts.clone().into(),
        }
    }

    /// The Content-Security-Policy for one response.
    fn csp(&self, nonce: &str) -> String {
        format!("{}{nonce}{}", self.csp_before_nonce, self.csp_after_nonce)
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.allowed_hosts.iter().any(|allowed| allowed == host)
    }
}

/// Refuses a request for a host name this server does not serve (400), then sets the
/// headers below on whatever answers it.
pub async fn headers(State(policy): State<Arc<Policy>>, mut request: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    let mut response = match requested_host(&request) {
        Some(host) if policy.host_allowed(&host) => {
            request.extensions_mut().insert(nonce.clone());
            next.run(request).await
        }
        host => {
            // DNS rebinding: a page on evil.example, its name now resolving to this server,
            // would be same-origin with itself and pass the origin check.
            tracing::warn!(
                event = "unknown_host_refused",
                host = ?host.as_deref().map(|h| h.chars().take(64).collect::<String>()),
                "refused a request for a host name not in allowed_hosts"
            );
            (StatusCode::BAD_REQUEST, "Unknown host.").into_response()
        }
    };
    set_headers(&policy, &nonce, &mut response);
    response
}

/// The host the client asked for: the request target's authority (absolute-form, HTTP/2)
/// or else the `Host` header, normalized.
fn requested_host(request: &Request) -> Option<String> {
    match request.uri().authority() {
        Some(authority) => normalize_host(authority.as_str()),
        None => request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .and_then(normalize_host),
    }
}

fn set_headers(policy: &Policy, nonce: &Nonce, response: &mut Response) {
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&policy.csp(nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    policy.headers.apply(headers);
}

/// Puts this request's nonce into the render's context, where Leptos's scripts read it (the
/// integration provides a random one of its own first, which this replaces).
pub fn provide_nonce() {
    if let Some(nonce) = app::ssr::extension::<Nonce>() {
        provide_context(nonce);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(watching: bool) -> Policy {
        let addr = "127.0.0.1:3000".parse().unwrap();
        let settings = Settings::defaults_for(addr, leptos::config::Env::DEV);
        let leptos = leptos::config::LeptosOptions::builder()
            .output_name("single-login")
            .site_addr(addr)
            .reload_port(3001)
            .build();
        Policy::for_run(&settings, &leptos, watching)
    }

    #[test]
    fn production_allows_no_socket_and_no_inline_style() {
        let csp = policy(false).csp("n0nce");
        assert!(
            csp.contains("script-src 'nonce-n0nce' 'strict-dynamic' 'wasm-unsafe-eval'"),
            "{csp}"
        );
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        assert!(!csp.contains("ws:") && !csp.contains("unsafe-inline"), "{csp}");
    }

    #[test]
    fn watch_mode_allows_the_reload_socket_with_valid_sources_only() {
        let csp = policy(true).csp("n0nce");
        assert!(
            csp.contains("ws://127.0.0.1:3001") && csp.contains("ws://localhost:3001"),
            "{csp}"
        );
        // Browsers reject IPv6 literals in host sources (and say so in the console).
        assert!(!csp.contains('['), "{csp}");
        assert_eq!(csp.matches("ws://127.0.0.1:3001").count(), 1, "{csp}");
        assert!(csp.contains("style-src 'self' 'unsafe-inline'"), "{csp}");
    }
}
