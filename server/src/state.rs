//! The host's state and its start-up: the database, migrated; single-login's services over it,
//! with the app's settings; the background purge; the PostgreSQL relay of seat changes.

use std::sync::Arc;
use std::time::Duration;

use app::ssr::{AppContext, AppServices};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use single_login::changes::Relay;
use single_login::signing::SigningKey;
use single_login::throttle::Throttle;
use single_login::web::{HashedStore, OnEnded, SingleLogin};
use single_login::{Accounts, Db, Hashing, Millis, Seats};
use tower_sessions::session_store::ExpiredDeletion;

use crate::config::{Config, Settings};
use crate::{live, store};

/// The host's state, behind one `Arc`: axum hands a clone of it to every request's
/// middleware, and Leptos provides one to every page and server function, so a clone must
/// cost one reference count, not one per service handle and setting (a profile of a
/// signed-in page under load showed those clones and drops per request).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares.
pub struct Shared {
    pub leptos_options: LeptosOptions,
    /// single-login (as the library offers it to any axum app) and the app's own settings.
    pub ctx: AppContext,
    pub settings: Arc<Settings>,
    pub sessions: HashedStore,
    /// Ends the live channels' streams when the server stops.
    pub shutdown: live::Shutdown,
    /// The open live-channel streams, counted against their limits.
    pub streams: live::Streams,
    /// This process among others on the database: who holds a lease (the webhook delivery,
    /// the live-sessions gauge).
    pub instance: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] single_login::DbError),
    #[error("could not prepare the session table or the signing key")]
    SessionStore(#[source] sqlx::Error),
    #[error("could not sign out the sessions of an earlier version")]
    Registry(#[from] single_login::seats::RegistryError),
    #[error("could not listen for seat changes")]
    Listen(#[from] single_login::changes::RelayError),
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for live::LiveState {
    fn from_ref(state: &AppState) -> Self {
        live::LiveState {
            ctx: state.ctx.clone(),
            streams: state.streams.clone(),
            limits: state.settings.live_streams(),
            ipv6_prefix: state.settings.ipv6_prefix,
            recheck_interval: state.settings.live_recheck_interval,
            shutdown: state.shutdown.clone(),
        }
    }
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
            let ended = seats.end_every_session(single_login::EndReason::Expired).await?;
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
        if let Some(relay) = seats.listen().await? {
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
        Ok(AppState(Arc::new(Shared {
            leptos_options: config.leptos.clone(),
            ctx,
            settings: Arc::new(config.settings.clone()),
            sessions,
            shutdown: live::Shutdown::default(),
            streams: live::Streams::default(),
            instance: format!("{}-{:016x}", std::process::id(), rand::random::<u64>()),
        })))
    }

    /// One round of housekeeping: idle seats expire, old ended seats and expired session
    /// records are deleted.
    pub async fn purge(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let now = Millis::now();
        let seats = self.ctx.seats();
        let expired = seats.expire(&self.settings.lifetimes(), now).await?;
        let purged = seats.purge_ended(now.minus(self.settings.seat_retention)).await?;
        let failures = self.ctx.logins().throttle.purge(now).await?;
        let events = single_login::events::Events::new(seats.db().clone())
            .purge(now.minus(self.settings.event_retention))
            .await?;
        self.sessions.delete_expired().await?;
        tracing::info!(
            expired,
            purged,
            failures,
            events,
            "purged old sessions, seats, failed-login counts and events"
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
