//! The axum host of single-login: configuration, state, the layers that check every request,
//! the background purge, and the operator CLI.

pub mod assets;
pub mod cli;
pub mod config;
pub mod language;
pub mod layers;
pub mod live;
pub mod serve;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use app::ssr::{AppContext, AppServices};
use app::{shell, App};
use axum::extract::FromRef;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use single_login::changes::Relay;
use single_login::signing::SigningKey;
use single_login::throttle::Throttle;
use single_login::web::{HashedStore, OnEnded, SingleLogin};
use single_login::{Accounts, Db, Hashing, Millis, Seats};
use tower_sessions::session_store::ExpiredDeletion;

use crate::config::{Config, Settings};

pub use single_login::web::{SECURE_SESSION_COOKIE, SESSION_COOKIE};

/// Largest request body accepted; forms here are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// single-login (as the library offers it to any axum app) and the app's own settings.
    pub ctx: AppContext,
    pub settings: Arc<Settings>,
    pub sessions: HashedStore,
    /// Ends the live channels' streams when the server stops.
    pub shutdown: live::Shutdown,
    /// The open live-channel streams, counted against their limits.
    pub streams: live::Streams,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] single_login::DbError),
    #[error("could not prepare the session table or the signing key")]
    SessionStore(#[source] sqlx::Error),
    #[error("could not listen for seat changes")]
    Listen(#[source] sqlx::Error),
}

impl AppState {
    /// Connects to the database, runs the migrations and assembles the services. On
    /// PostgreSQL it also starts relaying the processes' seat changes to this one's live
    /// channels.
    pub async fn start(config: &Config) -> Result<AppState, StartError> {
        let db = Db::connect(config.settings.database_url.as_str()).await?;
        db.migrate().await?;
        let sessions = HashedStore::new(&db);
        sessions.migrate().await.map_err(StartError::SessionStore)?;
        let seats = Seats::with_cache(db.clone(), config.settings.seat_cache_ttl);
        if store::has_raw_id_table(&db)
            .await
            .map_err(StartError::SessionStore)?
        {
            // Sessions from before ids were stored hashed: their seats still answer to the
            // raw cookie, so they end once (expired), then the raw ids go.
            let ended = seats
                .end_every_session(single_login::EndReason::Expired)
                .await
                .map_err(StartError::SessionStore)?;
            store::drop_raw_id_table(&db)
                .await
                .map_err(StartError::SessionStore)?;
            tracing::warn!(
                ended,
                "session ids are now stored hashed: every session from before was signed out once"
            );
        }
        let key = SigningKey::load_or_create(&db, "cookies")
            .await
            .map_err(StartError::SessionStore)?;
        // Listening before the first request, so that no change can go unheard.
        if let Some(relay) = seats.listen().await.map_err(StartError::Listen)? {
            spawn_relay(seats.clone(), relay);
        }
        let accounts = Accounts::with_hashing(
            db.clone(),
            Hashing::with_queue(
                config.settings.hash_concurrency,
                config.settings.hash_queue_timeout,
                config.settings.hash_queue_per_network,
            ),
        );
        let logins = single_login::Logins {
            accounts,
            seats,
            throttle: Arc::new(Throttle::new(db, config.settings.throttle())),
            policy: Arc::new(config.settings.policy()),
        };
        // Ended sessions pass through to the app's own check (`layers::session_check`),
        // which tells a page, a form post and the hydrated app apart.
        let mut login = SingleLogin::with_logins(logins)
            .lifetimes(config.settings.lifetimes())
            .touch_interval(config.settings.seat_touch_interval)
            .client_ip(config.settings.client_ip())
            .on_ended(OnEnded::PassThrough)
            .signing_key(key);
        if !config.settings.cookie_secure() {
            login = login.insecure_cookies_for_development();
        }
        let ctx = AppContext::new(AppServices {
            login,
            ask_choice_timeout: config.settings.ask_choice_timeout,
            password_confirmation_timeout: config.settings.password_confirmation_timeout,
        });
        Ok(AppState {
            leptos_options: config.leptos.clone(),
            ctx,
            settings: Arc::new(config.settings.clone()),
            sessions,
            shutdown: live::Shutdown::default(),
            streams: live::Streams::default(),
        })
    }

    /// One round of housekeeping: idle seats expire, old ended seats and expired session
    /// records are deleted.
    pub async fn purge(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let now = Millis::now();
        let seats = self.ctx.seats();
        let expired = seats.expire(&self.settings.lifetimes(), now).await?;
        let purged = seats.purge_ended(now.minus(self.settings.seat_retention)).await?;
        let failures = self.ctx.logins().throttle.purge(now).await?;
        self.sessions.delete_expired().await?;
        tracing::info!(
            expired,
            purged,
            failures,
            "purged old sessions, seats and failed-login counts"
        );
        Ok(())
    }

    /// Runs [`AppState::purge`] every `purge_interval`, for ever.
    pub fn spawn_purge(&self) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(state.settings.purge_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = state.purge().await {
                    tracing::error!(error = %error, "purge failed");
                }
            }
        })
    }
}

/// Keeps the relay running: after a failure it listens again a little later. The live
/// channels' periodic re-read covers the gap.
fn spawn_relay(seats: Seats, relay: Relay) {
    tokio::spawn(async move {
        let mut relay = Some(relay);
        loop {
            if let Some(running) = relay.take() {
                if let Err(error) = running.run().await {
                    tracing::warn!(error = %app::ssr::error_chain(&error), "seat-change relay stopped; restarting");
                }
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
            match seats.listen().await {
                Ok(listening) => relay = listening,
                Err(error) => {
                    tracing::warn!(error = %app::ssr::error_chain(&error), "seat-change relay could not listen")
                }
            }
        }
    });
}

/// The app's routes, generated once per process. Generating them renders the app with
/// resource loading switched off by a process-wide flag (leptos#4773): a page rendered in
/// another thread meanwhile would wait for its resources for ever. Tests start many routers
/// in one process, so the list is made once and shared.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// A step run for every request after the session check has let it through and before the
/// handler: a seam for tests that need a request held at that point (a kick while requests
/// are in flight). It checks nothing and can let nothing through that the check refused.
pub type AfterCheck = Arc<
    dyn Fn(&axum::extract::Request) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        + Send
        + Sync,
>;

/// The whole application: pages, server functions, static files and every layer.
pub fn router(state: AppState) -> Router {
    router_with(state, None)
}

async fn after_check(
    axum::extract::State(step): axum::extract::State<AfterCheck>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    step(&request).await;
    next.run(request).await
}

/// [`router`], with `after_check` run between the session check and the handler.
pub fn router_with(state: AppState, after: Option<AfterCheck>) -> Router {
    let leptos_options = state.leptos_options.clone();
    let routes = route_list();
    let ctx = state.ctx.clone();
    let context = move || {
        provide_context(ctx.clone());
        layers::security::provide_nonce();
    };
    let pages: Router = Router::new()
        .route(app::route_table::EVENTS, axum::routing::get(live::events))
        .route(app::route_table::LANGUAGE, axum::routing::post(language::switch))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .with_state(state.clone());
    let security = Arc::new(layers::security::Policy::new(&state.settings, &leptos_options));

    let app = pages.clone();
    let app = match after {
        Some(step) => app.layer(axum::middleware::from_fn_with_state(step, after_check)),
        None => app,
    };
    let app = app
        .layer(axum::middleware::from_fn_with_state(
            pages,
            layers::errors::map_errors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::session_check::check,
        ));
    // The library's session layer with its seat check inside (the session, the client, the
    // kick), as any adopter wires it.
    #[cfg(not(feature = "bench-without-seat-check"))]
    let app = app.layer(state.ctx.login.session_layer(state.sessions.clone()));
    #[cfg(feature = "bench-without-seat-check")]
    let app = app.layer(layers::session_check::unchecked::layer(&state));
    let app = app.layer(axum::middleware::from_fn(single_login::web::refuse_cross_origin));
    let deadlines = Arc::new(layers::deadline::Deadlines {
        body: state.settings.request_body_timeout,
        total: state.settings.request_timeout,
    });
    Router::new()
        .merge(assets::router(&leptos_options))
        .merge(app)
        .layer(axum::middleware::from_fn_with_state(
            deadlines,
            layers::deadline::bound,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(single_login::web::no_store))
        .layer(axum::middleware::from_fn(layers::errors::drop_forged_results))
        .layer(axum::middleware::from_fn_with_state(
            security,
            layers::security::headers,
        ))
        .layer(layers::trace())
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
}

/// Keeps a slow shutdown from hanging for ever.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
