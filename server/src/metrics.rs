//! Prometheus metrics, on a listener of their own (`metrics_addr`), never the public one,
//! optionally behind a bearer token (`metrics_token`).
//!
//! The core records through the `metrics` facade (logins by outcome, sessions ended by
//! reason, throttled attempts, hashing queue and wait, login latency); this installs the
//! Prometheus recorder and adds what is read at scrape time: the live sessions (from the seat
//! table, by device kind) and this process's live-channel streams. Each process counts what
//! it did, so counters add up across processes; the live-sessions gauge is read from the
//! database by one process at a time (a lease), the others report 0, so that
//! `sum(single_login_sessions_live)` is right however many processes are scraped. No metric
//! has a user label.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use single_login::events::{Cursor, Events};
use single_login::DeviceKind;

use crate::config::Secret;
use crate::AppState;

/// How long the process that reads the live-sessions gauge keeps that job without a scrape.
const GAUGE_LEASE: Duration = Duration::from_secs(15);

/// Latency buckets, in seconds, for every `*_seconds` histogram (a login is one argon2
/// verification, tens of milliseconds, plus its transaction).
const BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!(
                    "a metrics recorder was installed already: /metrics shows only the scrape-time gauges"
                );
            }
            describe();
            zero();
            handle
        })
        .clone()
}

/// Every labelled counter from zero, so that the first event after start shows as an
/// increase (a series first seen at 1 has no rate).
fn zero() {
    for reason in single_login::events::EndedAs::ALL {
        metrics::counter!("single_login_sessions_ended_total", "reason" => reason.as_str()).increment(0);
    }
    for outcome in single_login::LoginOutcome::NAMES {
        metrics::counter!("single_login_logins_total", "outcome" => *outcome).increment(0);
    }
    for result in ["delivered", "failed"] {
        metrics::counter!("single_login_webhook_deliveries_total", "result" => result).increment(0);
    }
    metrics::counter!("single_login_attempts_throttled_total").increment(0);
}

fn describe() {
    metrics::describe_gauge!(
        "single_login_sessions_live",
        "Live sessions, by device kind (read from the seat table)"
    );
    metrics::describe_counter!(
        "single_login_logins_total",
        "Password logins by outcome, in this process"
    );
    metrics::describe_counter!(
        "single_login_sessions_ended_total",
        "Sessions ended, by reason, in this process"
    );
    metrics::describe_counter!(
        "single_login_attempts_throttled_total",
        "Password checks refused by the throttle (first per client network and window), in this process"
    );
    metrics::describe_counter!(
        "single_login_events_total",
        "Other session events written, by type, in this process"
    );
    metrics::describe_histogram!(
        "single_login_login_duration_seconds",
        "How long a password login took"
    );
    metrics::describe_gauge!(
        "single_login_hash_queue_depth",
        "Password checks waiting for a hashing slot"
    );
    metrics::describe_histogram!(
        "single_login_hash_wait_seconds",
        "How long a password check waited for a slot"
    );
    metrics::describe_gauge!(
        "single_login_live_streams",
        "Open live-channel streams in this process"
    );
    metrics::describe_counter!(
        "single_login_webhook_deliveries_total",
        "Webhook deliveries, by result"
    );
    metrics::describe_histogram!(
        "single_login_relay_lag_seconds",
        "From a seat change's commit to this process hearing of it (PostgreSQL NOTIFY)"
    );
}

/// The metrics listener's router.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.settings.metrics_token {
        if !authorized(&headers, token) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "",
            )
                .into_response();
        }
    }
    let handle = handle();
    if let Err(error) = refresh(&state).await {
        tracing::warn!(error = %single_login::error_chain(&*error), "could not read the live sessions for the metrics");
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response()
}

/// Whether the request carries the bearer token, compared in constant time.
fn authorized(headers: &HeaderMap, token: &Secret) -> bool {
    use sha2::{Digest, Sha256};
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    // Equal-length digests: the comparison takes the same time wherever they differ.
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(token.expose().as_bytes()),
    );
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The scrape-time gauges.
async fn refresh(state: &AppState) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    metrics::gauge!("single_login_live_streams").set(state.streams.open_count() as f64);
    let seats = state.ctx.seats();
    let leader = Events::new(seats.db().clone())
        .reader("metrics-sessions-live", &state.instance)
        .claim(GAUGE_LEASE, Cursor::START)
        .await?
        .is_some();
    let counts = if leader {
        seats.live_counts().await?
    } else {
        Vec::new()
    };
    for kind in DeviceKind::ALL {
        let n = counts.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| *n);
        metrics::gauge!("single_login_sessions_live", "kind" => kind.as_str()).set(n as f64);
    }
    Ok(())
}

/// Serves the metrics on `listener` until the process ends.
pub fn spawn(listener: tokio::net::TcpListener, state: AppState) -> tokio::task::JoinHandle<()> {
    handle();
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router(state)).await {
            tracing::error!(error = %error, "the metrics listener stopped");
        }
    })
}
