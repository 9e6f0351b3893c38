//! The quick start of `docs/library.md`, word for word (a test compares the two): an app with its own
//! `users` table and its own password check, in its own database, kept to one login per user.
use std::net::SocketAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use single_login::web::{Client, HashedStore, OnEnded, SignedIn, SingleLogin};
use single_login::{Db, LoginOutcome, Policy, UserId};
use tower_sessions::Session;

#[derive(serde::Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

/// The app: `/` for the signed-in, `/login` to sign in (a form post), over `db`.
pub async fn app(db: Db, secure: bool) -> Result<Router, Box<dyn std::error::Error>> {
    db.migrate().await?; // single-login's tables: single_login_*, its own migration history
    let store = HashedStore::new(&db); // session records, stored under a hash of their id
    store.migrate().await?;
    let mut login = SingleLogin::new(db, Policy::default()).on_ended(OnEnded::Redirect("/login".into()));
    if !secure {
        login = login.insecure_cookies_for_development(); // plain http on your machine only
    }
    Ok(Router::new()
        .route(
            "/",
            get(|me: SignedIn| async move { format!("signed in as user {}", me.user.0) }),
        )
        .route("/login", get(|| async { "log in" }).post(log_in))
        .layer(login.session_layer(store)) // the session and the seat check, in that order
        .with_state(login))
}

async fn log_in(
    State(login): State<SingleLogin>,
    session: Session,
    client: Client,
    Form(form): Form<Credentials>,
) -> Response {
    let Some(id) = your_user_id(&form.username) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // Before your password check: a password change meanwhile refuses this login.
    let Ok(ticket) = login.begin_login(UserId(id)).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if !your_password_check(id, &form.password) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match login.log_in(&session, ticket, &client).await {
        Ok(LoginOutcome::SignedIn { .. }) => Redirect::to("/").into_response(),
        _ => StatusCode::CONFLICT.into_response(),
    }
}

// Your own users and password hashes (argon2id, throttled); here one user, for the example.
fn your_user_id(name: &str) -> Option<i64> {
    (name == "ferris").then_some(1)
}
fn your_password_check(id: i64, password: &str) -> bool {
    id == 1 && password == "correct horse battery"
}

#[allow(dead_code)] // The tests take `app` alone.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = Db::connect("sqlite://data/quickstart.db").await?;
    let secure = std::env::var_os("INSECURE_DEV_COOKIES").is_none();
    let app = app(db, secure).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3003").await?;
    // ConnectInfo: the client's address, for the seat and the per-address limits.
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
    Ok(())
}
