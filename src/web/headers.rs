//! The response headers that contain a browser's mistakes, and `Cache-Control: no-store`
//! for everything that is not a static file. Both are middleware for
//! `axum::middleware::from_fn(_with_state)`:
//!
//! ```no_run
//! # use axum::{middleware, Router};
//! # use single_login::web::{no_store, security_headers, SingleLogin};
//! # fn wire(app: Router, login: &SingleLogin) -> Router {
//! app.layer(middleware::from_fn(no_store))
//!     .layer(middleware::from_fn_with_state(login.security_headers(), security_headers))
//! # }
//! ```
//!
//! A header the response already carries is left as it is: a handler (or an outer layer,
//! like a host's per-response CSP nonce) that needs a different value sets its own.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{header, HeaderMap, HeaderName, HeaderValue};

/// A strict policy for a server-rendered site: everything from this origin, no plugins, no
/// `<base>`, no framing by other sites, forms post only here. Inline scripts do not run.
pub const DEFAULT_CSP: &str = "default-src 'self'; object-src 'none'; base-uri 'none'; \
                               frame-ancestors 'none'; form-action 'self'";

/// Which headers [`security_headers`] sets. [`crate::web::SingleLogin::security_headers`]
/// gives one that matches the session cookie (HSTS exactly where the cookie is `Secure`).
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    hsts: bool,
    csp: Option<HeaderValue>,
}

impl SecurityHeaders {
    /// For a site served over TLS: HSTS on, [`DEFAULT_CSP`].
    pub fn new() -> Self {
        SecurityHeaders {
            hsts: true,
            csp: Some(HeaderValue::from_static(DEFAULT_CSP)),
        }
    }

    /// `Strict-Transport-Security` (two years) or not. Leave it off on plain http
    /// development servers: a browser that saw it over TLS for `localhost` refuses http there.
    pub fn hsts(mut self, on: bool) -> Self {
        self.hsts = on;
        self
    }

    /// The Content-Security-Policy to send, or none (for a host that sets its own per
    /// response, e.g. with a script nonce).
    pub fn content_security_policy(mut self, csp: Option<HeaderValue>) -> Self {
        self.csp = csp;
        self
    }

    /// Sets the headers on `headers`, keeping any it already has.
    pub fn apply(&self, headers: &mut HeaderMap) {
        let mut set = |name: HeaderName, value: HeaderValue| {
            headers.entry(name).or_insert(value);
        };
        if let Some(csp) = &self.csp {
            set(header::CONTENT_SECURITY_POLICY, csp.clone());
        }
        // Files are what their Content-Type says: a user-controlled answer is never run as a
        // script or stylesheet.
        set(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        // Other sites learn nothing of the site's addresses (`/login?next=…`); same-origin
        // requests keep the Referer.
        set(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        // A window this site opens, or that opens it, gets no handle on the other.
        set(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        );
        // Other sites may not embed the site's answers in theirs.
        set(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        );
        // Clickjacking ("Sign out all other sessions" under a decoy), for browsers older
        // than CSP's frame-ancestors.
        set(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        // Powerful features a sign-in site never uses, off for it and anything it embeds.
        set(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), hid=(), \
                 bluetooth=(), midi=(), display-capture=(), screen-wake-lock=(), accelerometer=(), \
                 gyroscope=(), magnetometer=()",
            ),
        );
        if self.hsts {
            // Not includeSubDomains: other hosts of the domain are not the site's to decide.
            set(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=63072000"),
            );
        }
    }
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        SecurityHeaders::new()
    }
}

/// The middleware: sets `headers` on every response, errors and static files included.
pub async fn security_headers(
    State(headers): State<SecurityHeaders>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    headers.apply(response.headers_mut());
    response
}

/// The middleware: `Cache-Control: no-store` on every answer that does not set its own and
/// is not a static file (a last path segment with a dot). Pages and API answers say who is
/// signed in and may carry the session cookie; no shared or back-button cache may keep
/// them (OWASP Session Management Cheat Sheet).
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
