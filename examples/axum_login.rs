//! One login per user for an app that already signs users in with axum-login. The app keeps
//! its users and its password check; after `AuthSession::login`, single-login opens the seat
//! (and ends the older one). A kicked request gets the app's own answer: 401 with JSON.
//!
//! `INSECURE_DEV_COOKIES=1 cargo run -p single-login --example axum_login --features tower-sessions`, then
//! `curl -c a -d 'username=ferris&password=hunter42' http://127.0.0.1:3002/login` twice with
//! two cookie jars, and `curl -b a http://127.0.0.1:3002/`.
//!
//! The login takes the account's credential epoch **before** the app's own password check
//! ([`SingleLogin::begin_login`]), so that a password change meanwhile
//! ([`SingleLogin::credentials_changed`], which the app calls after writing a new password)
//! refuses it. The app's own password check must be throttled by the app (single-login's
//! [`single_login::Logins`] does it for its own accounts; see the `plain` example).
//!
//! The same hardening as every example: cross-origin posts refused, the library's security
//! headers, `no-store` answers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{middleware, Form, Json, Router};
use axum_login::{AuthManagerLayerBuilder, AuthUser, AuthnBackend};
use http::StatusCode;
use serde::Deserialize;
use single_login::web::{
    no_store, refuse_cross_origin, security_headers, Client, HashedStore, OnEnded, SignedIn, SingleLogin,
};
use single_login::{Db, LoginOutcome, Policy, UserId};
use tower_sessions::Session;

/// The app's own user, from its own store (here, in memory).
#[derive(Clone)]
pub struct User {
    id: i64,
    name: String,
    password: String,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish()
    }
}

impl AuthUser for User {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.password.as_bytes()
    }
}

#[derive(Clone, Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

#[derive(Clone, Default)]
pub struct Backend {
    users: Arc<HashMap<i64, User>>,
}

impl Backend {
    /// The app's users: `(id, name, password)`.
    pub fn with_users(users: &[(i64, &str, &str)]) -> Self {
        let users = users
            .iter()
            .map(|&(id, name, password)| {
                (
                    id,
                    User {
                        id,
                        name: name.into(),
                        password: password.into(),
                    },
                )
            })
            .collect();
        Backend {
            users: Arc::new(users),
        }
    }

    /// The id of the user named `name`.
    pub fn id_of(&self, name: &str) -> Option<i64> {
        self.users.values().find(|u| u.name == name).map(|u| u.id)
    }
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = std::convert::Infallible;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, Self::Error> {
        // A real app compares password hashes; the check is the app's own either way.
        Ok(self
            .users
            .values()
            .find(|u| u.name == creds.username && u.password == creds.password)
            .cloned())
    }

    async fn get_user(&self, id: &i64) -> Result<Option<User>, Self::Error> {
        Ok(self.users.get(id).cloned())
    }
}

type AuthSession = axum_login::AuthSession<Backend>;

/// The whole app over a migrated database; `secure`: `Secure` cookies.
pub async fn app(
    db: Db,
    policy: Policy,
    backend: Backend,
    secure: bool,
) -> Result<Router, Box<dyn std::error::Error>> {
    let kicked = |end: &single_login::web::SessionEnd| {
        let body = serde_json::json!({
            "error": "session_ended",
            "reason": end.ended.reason.as_str(),
            "message": end.message(),
        });
        (StatusCode::UNAUTHORIZED, Json(body)).into_response()
    };
    let store = HashedStore::new(&db);
    store.migrate().await?;
    let mut login = SingleLogin::new(db, policy).on_ended(OnEnded::Custom(Arc::new(kicked)));
    if !secure {
        login = login.insecure_cookies_for_development();
    }
    // axum-login wraps the session layer itself; the seat check goes inside both.
    let sessions = login.session_manager(store);
    Ok(Router::new()
        .route("/", get(home))
        .route("/login", post(log_in))
        .route("/logout", post(log_out))
        .layer(login.layer())
        .layer(AuthManagerLayerBuilder::new(backend, sessions).build())
        .layer(middleware::from_fn(refuse_cross_origin))
        .layer(middleware::from_fn(no_store))
        .layer(middleware::from_fn_with_state(
            login.security_headers(),
            security_headers,
        ))
        .with_state(login))
}

async fn home(auth: AuthSession, signed_in: SignedIn) -> Response {
    match auth.user {
        Some(user) => {
            Json(serde_json::json!({ "user": user.name, "seat": signed_in.seat.0 })).into_response()
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn log_in(
    State(login): State<SingleLogin>,
    mut auth: AuthSession,
    session: Session,
    client: Client,
    Form(creds): Form<Credentials>,
) -> Response {
    // The credential epoch first, then the app's own check.
    let Some(id) = auth.backend.id_of(&creds.username) else {
        return (StatusCode::UNAUTHORIZED, "Invalid username or password").into_response();
    };
    let ticket = match login.begin_login(UserId(id)).await {
        Ok(ticket) => ticket,
        Err(error) => {
            tracing::error!(error = %single_login::error_chain(&error), "login failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Ok(Some(user)) = auth.authenticate(creds).await else {
        return (StatusCode::UNAUTHORIZED, "Invalid username or password").into_response();
    };
    if auth.login(&user).await.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    // axum-login has signed the user in; single-login gives the session its seat.
    match login.log_in(&session, ticket, &client).await {
        Ok(LoginOutcome::SignedIn { .. }) => Redirect::to("/").into_response(),
        Ok(_) => {
            let _ = auth.logout().await;
            (StatusCode::CONFLICT, "Signed in elsewhere already").into_response()
        }
        Err(error) => {
            tracing::error!(error = %single_login::error_chain(&error), "login failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn log_out(State(login): State<SingleLogin>, mut auth: AuthSession, session: Session) -> Response {
    let _ = auth.logout().await;
    match login.log_out(&session).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[allow(dead_code)] // The tests take `app` alone.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/example-axum-login.db".into());
    let secure = std::env::var_os("INSECURE_DEV_COOKIES").is_none();
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let backend = Backend::with_users(&[(1, "ferris", "hunter42")]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3002").await?;
    let app = app(db, Policy::default(), backend, secure).await?;
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
    Ok(())
}
