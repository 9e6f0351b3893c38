//! One login per user in a plain axum + tower-sessions app, with single-login's own accounts
//! for the passwords. A second login signs the first browser out; its next request lands on
//! the login page, which says why.
//!
//! `cargo run --example plain --features tower-sessions`, then open <http://127.0.0.1:3001>
//! and sign in as `alice` / `correct horse battery` in two browsers.

use std::net::SocketAddr;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use http::StatusCode;
use serde::Deserialize;
use single_login::web::{Client, OnEnded, SignedIn, SingleLogin};
use single_login::{Accounts, Db, LoginOutcome, Policy, Verified};
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

#[derive(Clone)]
pub struct App {
    pub login: SingleLogin,
    pub accounts: Accounts,
}

/// The whole app over a migrated database, with `policy`.
pub fn app(db: Db, policy: Policy) -> Router {
    let login = SingleLogin::new(db.clone(), policy).on_ended(OnEnded::Redirect("/login".into()));
    let state = App {
        login: login.clone(),
        accounts: Accounts::new(db),
    };
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(log_in))
        .route("/logout", post(log_out))
        .layer(login.layer())
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false))
        .with_state(state)
}

async fn home(signed_in: SignedIn) -> Html<String> {
    Html(format!(
        "<h1>Signed in</h1><p>User {}, session {}.</p>\
         <form method=post action=/logout><button>Log out</button></form>",
        signed_in.user.0, signed_in.seat.0
    ))
}

#[derive(Deserialize)]
struct Ended {
    ended: Option<String>,
}

async fn login_page(Query(query): Query<Ended>) -> Html<String> {
    let why = match query.ended.as_deref() {
        Some("replaced") => {
            "<p role=alert>You were signed out because your account signed in somewhere else.</p>"
        }
        Some("revoked") => "<p role=alert>This session was ended from another of your sessions.</p>",
        Some("expired") => "<p role=alert>Your session expired.</p>",
        _ => "",
    };
    Html(format!(
        "<h1>Log in</h1>{why}<form method=post action=/login>\
         <input name=username autocomplete=username><input name=password type=password>\
         <button>Log in</button></form>"
    ))
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
    let Ok(Verified { user, epoch }) = app.accounts.authenticate(&form.username, form.password).await else {
        return (StatusCode::UNAUTHORIZED, "Invalid username or password").into_response();
    };
    match app.login.open(&session, user, epoch, &[], &client).await {
        Ok(LoginOutcome::SignedIn { .. }) => Redirect::to("/").into_response(),
        Ok(LoginOutcome::Denied { .. }) => {
            (StatusCode::CONFLICT, "Signed in elsewhere already").into_response()
        }
        Ok(_) => (StatusCode::CONFLICT, "Please try again").into_response(),
        Err(error) => {
            tracing::error!(error = %single_login::error_chain(&error), "login failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong").into_response()
        }
    }
}

async fn log_out(State(app): State<App>, session: Session) -> Response {
    match app.login.log_out(&session).await {
        Ok(_) => Redirect::to("/login").into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong").into_response(),
    }
}

#[allow(dead_code)] // The tests take `app` alone.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/example-plain.db".into());
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let accounts = Accounts::new(db.clone());
    let alice = single_login::Username::parse("alice")?;
    if accounts.find_by_name(&alice).await?.is_none() {
        accounts
            .sign_up(&alice, single_login::Password::parse("correct horse battery")?)
            .await?;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    let app = app(db, Policy::default());
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
    Ok(())
}
