//! One login per user for an app that already signs users in with axum-login. The app keeps
//! its users and its password check; after `AuthSession::login`, single-login opens the seat
//! (and ends the older one). A kicked request gets the app's own answer: 401 with JSON.
//!
//! `cargo run --example axum_login --features tower-sessions`, then
//! `curl -c a -d 'username=ferris&password=hunter42' http://127.0.0.1:3002/login` twice with
//! two cookie jars, and `curl -b a http://127.0.0.1:3002/`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use axum_login::{AuthManagerLayerBuilder, AuthUser, AuthnBackend};
use http::StatusCode;
use serde::Deserialize;
use single_login::web::{Client, OnEnded, SignedIn, SingleLogin};
use single_login::{Db, LoginOutcome, Policy, UserId};
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

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

/// The whole app over a migrated database.
pub fn app(db: Db, policy: Policy, backend: Backend) -> Router {
    let kicked = |end: &single_login::web::SessionEnd| {
        let body = serde_json::json!({
            "error": "session_ended",
            "reason": end.ended.reason.as_str(),
            "message": end.message(),
        });
        (StatusCode::UNAUTHORIZED, Json(body)).into_response()
    };
    let login = SingleLogin::new(db, policy).on_ended(OnEnded::Custom(Arc::new(kicked)));
    let sessions = SessionManagerLayer::new(MemoryStore::default()).with_secure(false);
    Router::new()
        .route("/", get(home))
        .route("/login", post(log_in))
        .route("/logout", post(log_out))
        .layer(login.layer())
        .layer(AuthManagerLayerBuilder::new(backend, sessions).build())
        .with_state(login)
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
    let Ok(Some(user)) = auth.authenticate(creds).await else {
        return (StatusCode::UNAUTHORIZED, "Invalid username or password").into_response();
    };
    if auth.login(&user).await.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    // axum-login has signed the user in; single-login gives the session its seat.
    match login.log_in(&session, UserId(user.id), &client).await {
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
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let backend = Backend::with_users(&[(1, "ferris", "hunter42")]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3002").await?;
    let app = app(db, Policy::default(), backend);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
    Ok(())
}
