//! One login per user in a plain axum app, with single-login's own accounts for the
//! passwords. A second login signs the first browser out; its next request lands on the
//! login page, which says why.
//!
//! `INSECURE_DEV_COOKIES=1 cargo run -p single-login --example plain --features tower-sessions`, then open
//! <http://127.0.0.1:3001> and sign in as `alice` / `correct horse battery` in two browsers.
//! (Without `INSECURE_DEV_COOKIES`, the cookies are `Secure`: serve it behind TLS.)
//!
//! What this example shows an adopter:
//! - the session layer and the seat check are one layer ([`SingleLogin::session_layer`])
//!   over single-login's session store ([`HashedStore`]), in the database the app uses;
//! - the password is checked by [`Logins::log_in`]: throttled per client network, name and
//!   account before any hash is computed (`Accounts::authenticate` alone is not);
//! - why a browser was signed out comes from a signed one-time cookie
//!   ([`SingleLogin::notice`]), never from the URL;
//! - the app is served with `ConnectInfo` (without it, every request is answered 500);
//! - plain forms are only safe with CSRF protection: here `SameSite=Lax` cookies and the
//!   library's refusal of cross-origin posts ([`refuse_cross_origin`]). Forms of your own
//!   need it too;
//! - every answer carries the library's security headers ([`security_headers`]: CSP, no
//!   framing, nosniff, HSTS with `Secure` cookies) and pages are `no-store` ([`no_store`]).

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use single_login::web::{
    no_store, refuse_cross_origin, security_headers, Client, HashedStore, Notice, NoticeSeen, OnEnded,
    SignedIn, SingleLogin,
};
use single_login::{Db, LoginOutcome, Logins, Policy};
use tower_sessions::Session;

#[derive(Clone)]
pub struct App {
    pub login: SingleLogin,
}

/// The whole app over a migrated database, with `policy`; `secure`: `Secure` cookies.
pub async fn app(db: Db, policy: Policy, secure: bool) -> Result<Router, Box<dyn std::error::Error>> {
    let store = HashedStore::new(&db);
    store.migrate().await?;
    let mut login = SingleLogin::new(db, policy).on_ended(OnEnded::Redirect("/login".into()));
    if !secure {
        login = login.insecure_cookies_for_development();
    }
    Ok(Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(log_in))
        .route("/logout", post(log_out))
        .layer(login.session_layer(store))
        .layer(axum::middleware::from_fn(refuse_cross_origin))
        .layer(axum::middleware::from_fn(no_store))
        .layer(axum::middleware::from_fn_with_state(
            login.security_headers(),
            security_headers,
        ))
        .with_state(App { login }))
}

async fn home(signed_in: SignedIn) -> Html<String> {
    Html(format!(
        "<h1>Signed in</h1><p>User {}, session {}.</p>\
         <form method=post action=/logout><button>Log out</button></form>",
        signed_in.user.0, signed_in.seat.0
    ))
}

async fn login_page(State(app): State<App>, headers: HeaderMap) -> Response {
    let why = match app.login.notice(&headers).await {
        Ok(Some(NoticeSeen::Ended(end))) => format!("<p role=alert>{}</p>", end.message()),
        Ok(Some(NoticeSeen::SignedOut)) => "<p role=status>You signed out.</p>".to_owned(),
        Ok(None) | Err(_) => String::new(),
    };
    let page = Html(format!(
        "<h1>Log in</h1>{why}<form method=post action=/login>\
         <input name=username autocomplete=username><input name=password type=password>\
         <button>Log in</button></form>"
    ));
    // Shown once.
    match app.login.clear_notice().await {
        Ok(clear) => ([(header::SET_COOKIE, clear)], page).into_response(),
        Err(_) => page.into_response(),
    }
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn log_in(
    State(app): State<App>,
    session: Session,
    client: Client,
    Form(form): Form<Credentials>,
) -> Response {
    let logins: &Logins = app.login.logins();
    let context = client.context();
    let outcome = match app.login.new_session(&session, &context).await {
        Ok(new) => logins.log_in(&form.username, form.password, client.ip, new).await,
        Err(error) => return internal(&error),
    };
    match outcome {
        Ok(LoginOutcome::SignedIn { .. }) => Redirect::to("/").into_response(),
        Ok(LoginOutcome::Denied { .. }) => {
            (StatusCode::CONFLICT, "Signed in elsewhere already").into_response()
        }
        Ok(LoginOutcome::Throttled { wait }) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait.as_secs().max(1).to_string())],
            "Too many attempts; try again later",
        )
            .into_response(),
        Ok(LoginOutcome::Busy { .. }) => (StatusCode::SERVICE_UNAVAILABLE, "Busy; try again").into_response(),
        Ok(LoginOutcome::InvalidCredentials { .. } | LoginOutcome::CredentialsChanged { .. }) => {
            (StatusCode::UNAUTHORIZED, "Invalid username or password").into_response()
        }
        Ok(LoginOutcome::Held { .. }) => (StatusCode::CONFLICT, "Please try again").into_response(),
        Err(error) => internal(&error),
    }
}

async fn log_out(State(app): State<App>, session: Session) -> Response {
    let notice = match app.login.log_out(&session).await {
        Ok(_) => app.login.set_notice(Notice::SignedOut).await,
        Err(error) => return internal(&error),
    };
    match notice {
        Ok(notice) => ([(header::SET_COOKIE, notice)], Redirect::to("/login")).into_response(),
        Err(error) => internal(&error),
    }
}

fn internal(error: &(dyn std::error::Error + 'static)) -> Response {
    tracing::error!(error = %single_login::error_chain(error), "request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong").into_response()
}

#[allow(dead_code)] // The tests take `app` alone.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/example-plain.db".into());
    let secure = std::env::var_os("INSECURE_DEV_COOKIES").is_none();
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let accounts = single_login::Accounts::new(db.clone());
    let alice = single_login::Username::parse("alice")?;
    if accounts.find_by_name(&alice).await?.is_none() {
        accounts
            .sign_up(&alice, single_login::Password::parse("correct horse battery")?)
            .await?;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    let app = app(db, Policy::default(), secure).await?;
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
    Ok(())
}
