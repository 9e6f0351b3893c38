//! The axum host of single-login: configuration ([`config`]), state and start-up
//! (`state.rs`), the router and the layers that check every request (here and [`layers`]),
//! the operator CLI ([`cli`]), and what an operator watches: [`metrics`] and [`webhooks`].

pub mod assets;
pub mod cli;
pub mod config;
pub mod language;
pub mod layers;
pub mod live;
pub mod metrics;
pub mod serve;
mod state;
pub mod store;
pub mod webhooks;

pub use state::{AppState, Shared};

use std::sync::Arc;
use std::time::Duration;

use app::{document, shell, App};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;

pub use single_login::web::{SECURE_SESSION_COOKIE, SESSION_COOKIE};

/// Largest request body accepted; forms here are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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
            // Shared: Leptos clones this closure for every page it draws.
            let options = Arc::new(leptos_options.clone());
            move || document(&options)
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .with_state(state.clone());
    let security = Arc::new(layers::security::Policy::new(&state.settings, &leptos_options));
    let deadlines = Arc::new(layers::deadline::Deadlines {
        body: state.settings.request_body_timeout,
        total: state.settings.request_timeout,
    });
    // The library's session layer with its seat check inside (the session, the client, the
    // kick), as any adopter wires it.
    #[cfg(not(feature = "bench-without-seat-check"))]
    let session = state.ctx.login.session_layer(state.sessions.clone());
    #[cfg(feature = "bench-without-seat-check")]
    let session = layers::session_check::unchecked::layer(&state);

    // Each stack goes on as one layer, outermost first. Every `Router::layer` call boxes the
    // routes once more, and a `from_fn` clones its inner service for each request: ten
    // layers one by one made each request clone ten nested boxes, one by one.
    let checks = ServiceBuilder::new()
        .layer(from_fn(single_login::web::refuse_cross_origin))
        .layer(session)
        .layer(from_fn_with_state(state.clone(), layers::session_check::check))
        .layer(from_fn_with_state(pages.clone(), layers::errors::map_errors))
        .option_layer(after.map(|step| from_fn_with_state(step, after_check)))
        .layer(from_fn_with_state(
            (state.clone(), pages.clone()),
            layers::console::gate,
        ))
        .layer(from_fn(layers::whole_page::collect));
    let bounds = ServiceBuilder::new()
        .layer(layers::trace())
        .layer(from_fn_with_state(security, layers::security::headers))
        .layer(from_fn(layers::errors::drop_forged_results))
        .layer(from_fn(single_login::web::no_store))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .map_request(|request: http::Request<_>| request.map(axum::body::Body::new))
        .layer(from_fn_with_state(deadlines, layers::deadline::bound));
    Router::new()
        .merge(assets::router(&leptos_options))
        .merge(pages.layer(checks))
        .layer(bounds)
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
