//! Server-only glue: what the host provides to server functions and rendering, and the
//! helpers they use to read it.

pub use single_login::web::cookies;
pub mod messages;

use std::sync::Arc;

use leptos::prelude::*;
use single_login::web::{Client, SignedIn, SingleLogin};
use single_login::{Logins, SeatId, Seats, User};

use crate::error::AppError;
use crate::models::Toast;

pub use crate::lang::Locale;

/// Session keys (single-login keeps its own, which tie the record to the login and re-save,
/// and so extend, it when the seat's last-seen time moves). The flash holds toasts for the
/// next page.
pub const FLASH_KEY: &str = "flash";
/// A login waiting for the user to choose which sessions to end (the `ask` policy).
pub const PENDING_KEY: &str = "pending_login";
/// When the password was last confirmed for ending sessions (valid for
/// `AppContext::password_confirmation_timeout`).
pub const CONFIRMED_KEY: &str = "password_confirmed";

/// Services and settings the server functions need; provided by the host. Behind one `Arc`:
/// Leptos clones its contexts several times a page, and cloning every service's own handles
/// showed in profiles at about a twentieth of a page.
#[derive(Clone)]
pub struct AppContext(Arc<AppServices>);

impl AppContext {
    pub fn new(services: AppServices) -> Self {
        AppContext(Arc::new(services))
    }
}

impl std::ops::Deref for AppContext {
    type Target = AppServices;

    fn deref(&self) -> &AppServices {
        &self.0
    }
}

/// What [`AppContext`] holds: single-login, as any axum app uses it, and the app's own
/// timeouts.
pub struct AppServices {
    /// The library's web integration: the registry, the policy, the throttled login, the
    /// signed cookies.
    pub login: SingleLogin,
    /// How long a login held by the `ask` policy waits for the user's choice.
    pub ask_choice_timeout: std::time::Duration,
    /// How long a confirmed password lets the user end sessions.
    pub password_confirmation_timeout: std::time::Duration,
}

impl AppServices {
    /// The login operations of the core (throttle, verification, seat).
    pub fn logins(&self) -> &Logins {
        self.login.logins()
    }

    /// The seat registry.
    pub fn seats(&self) -> &Seats {
        self.login.seats()
    }

    /// The signed notice and known-device cookies.
    pub async fn cookies(&self) -> Result<cookies::Cookies, AppError> {
        self.login.cookies().await.map_err(internal)
    }
}

/// Who is behind a request, as the session check found out. Put into the request
/// extensions by the host's session-check layer.
#[derive(Debug, Clone)]
pub enum RequestAuth {
    Anonymous,
    SignedIn {
        user: User,
        seat: SeatId,
    },
    /// The session's seat has ended; the session was signed out and this is why.
    Ended(Toast),
}

/// Where a request comes from, for seats, logs and messages: the library's [`Client`] (the
/// address behind trusted proxies, the user agent), and what the app adds.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub client: Client,
    /// The address as text, for the logs.
    pub ip: Option<String>,
    /// The language of the pages and messages it gets (`crate::lang::of_request`).
    pub lang: Locale,
    /// A browser page or plain form post (as opposed to a call from the hydrated app).
    pub wants_html: bool,
}

impl ClientInfo {
    pub fn new(client: Client, lang: Locale, wants_html: bool) -> Self {
        ClientInfo {
            ip: client.ip.map(|ip| ip.to_string()),
            client,
            lang,
            wants_html,
        }
    }

    /// The client's address, for the throttle's buckets.
    pub fn addr(&self) -> Option<std::net::IpAddr> {
        self.client.ip
    }
}

/// The answer to an attempt a throttle bucket refused (no password was checked): 429.
/// `operation` and `user` (where known) go to the log.
pub fn throttled(
    operation: &'static str,
    user: Option<single_login::UserId>,
    wait: std::time::Duration,
) -> AppError {
    tracing::warn!(
        event = "attempt_throttled",
        operation,
        user = user.map(|u| u.0),
        client_ip = client().ip.as_deref(),
        wait_secs = wait.as_secs(),
        "too many attempts"
    );
    AppError::TooManyAttempts(wait.as_secs().div_ceil(60).max(1))
}

/// The answer to a password check that got no hashing slot in time: 503, try again soon
/// (the core gave the attempt back to the throttle: no password was checked).
pub fn busy(retry_after: std::time::Duration) -> AppError {
    tracing::warn!(
        event = "hashing_busy",
        client_ip = client().ip.as_deref(),
        "no password hashing slot in time"
    );
    AppError::Busy(retry_after.as_secs().max(1))
}

/// Toasts taken from the session for the page being rendered.
#[derive(Debug, Clone, Default)]
pub struct Flash(pub Vec<Toast>);

/// Whether the request may see the console: put into the request by the host's gate, which
/// asked the account store.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleAccess(pub bool);

/// Whether this request may see the console (no gate, no console).
pub fn console_access() -> bool {
    extension::<ConsoleAccess>().is_some_and(|access| access.0)
}

/// A value the host put into the request's extensions, read in place: `use_context` of the
/// request's head would clone it (every header and extension), and a page asks several times.
pub fn extension<T: Clone + Send + Sync + 'static>() -> Option<T> {
    with_context::<http::request::Parts, _>(|parts| parts.extensions.get::<T>().cloned()).flatten()
}

pub fn context() -> Result<AppContext, AppError> {
    use_context::<AppContext>().ok_or_else(|| internal("the app context is missing"))
}

pub fn auth() -> RequestAuth {
    extension::<RequestAuth>().unwrap_or(RequestAuth::Anonymous)
}

pub fn client() -> ClientInfo {
    extension::<ClientInfo>().unwrap_or_default()
}

pub fn flash() -> Vec<Toast> {
    extension::<Flash>().unwrap_or_default().0
}

pub async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract::<tower_sessions::Session>()
        .await
        .map_err(|e| internal(format!("no session layer: {e:?}")))
}

/// The signed-in user as the library's operations take it.
pub fn signed_in(user: &User, seat: SeatId) -> SignedIn {
    SignedIn {
        user: user.id,
        seat,
        username: user.username.clone(),
    }
}

/// The signed-in user, or the error the client should act on.
pub fn require_user() -> Result<(User, SeatId), AppError> {
    match auth() {
        RequestAuth::SignedIn { user, seat } => Ok((user, seat)),
        RequestAuth::Ended(toast) => Err(AppError::SessionEnded(toast)),
        RequestAuth::Anonymous => Err(AppError::NotSignedIn),
    }
}

/// Logs an unexpected failure with its whole cause chain and hides it from the user.
pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> AppError {
    let error = error.into();
    tracing::error!(error = %error_chain(&*error), "internal error");
    AppError::Internal
}

pub use single_login::error_chain;

/// Most toasts a session's flash holds: past that the oldest go. A plain form post that is
/// never followed by a page load (a script posting in a loop) must not grow the record.
pub const FLASH_CAP: usize = 5;

/// Stores toasts for the next full page load (a flash), for a signed-in session: used when
/// the browser follows a redirect itself, without the hydrated app to show them. Keeps the
/// newest [`FLASH_CAP`].
pub async fn push_flash(session: &tower_sessions::Session, toast: Toast) -> Result<(), AppError> {
    let mut toasts: Vec<Toast> = session
        .get(FLASH_KEY)
        .await
        .map_err(internal)?
        .unwrap_or_default();
    toasts.push(toast);
    let excess = toasts.len().saturating_sub(FLASH_CAP);
    toasts.drain(..excess);
    session.insert(FLASH_KEY, toasts).await.map_err(internal)
}

/// The cookie that tells the host a flash waits in the session ([`push_flash`]). A page
/// reads the session record for its flash only when the request has it, so that a signed-in
/// page view otherwise reads no record and writes none (tower-sessions marks a record
/// changed by any `remove`, found or not, and saves it). Not a secret: a forged one costs
/// one read of the sender's own record.
pub fn flash_hint_name(secure: bool) -> &'static str {
    if secure {
        "__Host-single_login_flash"
    } else {
        "single_login_flash"
    }
}

/// `Set-Cookie` that sets the flash's hint (until the browser closes), or clears it.
pub fn flash_hint(cookies: &cookies::Cookies, set: bool) -> http::HeaderValue {
    let name = flash_hint_name(cookies.secure);
    if set {
        cookies.plain(name, "1", None)
    } else {
        cookies.plain(name, "", Some(std::time::Duration::ZERO))
    }
}

/// The request's `Cookie` headers.
pub fn cookie_headers() -> Vec<String> {
    with_context::<http::request::Parts, _>(|parts| cookies::cookie_headers(&parts.headers))
        .unwrap_or_default()
}

/// Adds a `Set-Cookie` to the server function's answer.
pub fn set_cookie(value: http::HeaderValue) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// Gives the signed-in session a fresh id and moves its seat to it. The old id finds no
/// seat any more.
pub async fn renew_session_id(user: &User, seat: SeatId) -> Result<(), AppError> {
    let session = session().await?;
    let renewed = context()?
        .login
        .renew(&session, &signed_in(user, seat))
        .await
        .map_err(internal)?;
    // Ended meanwhile (a newer login elsewhere): say so as every other request would.
    renewed.then_some(()).ok_or(AppError::NotSignedIn)
}

/// Answers a successful action with `toast`. The hydrated app shows the returned toast
/// itself; a plain form post (no JavaScript) is redirected by the server, so the toast waits
/// in the session for the next page (a flash).
pub async fn notify(toast: Toast) -> Result<Toast, AppError> {
    if client().wants_html {
        push_flash(&session().await?, toast.clone()).await?;
        set_cookie(flash_hint(&context()?.cookies().await?, true));
    }
    Ok(toast)
}
