//! The HTTP/1.1 server loop, in place of `axum::serve`, for two things it cannot do:
//!
//! - a **header-read timeout**: `axum::serve` runs hyper without a timer, so a client may
//!   take for ever to send its request headers (a slowloris holds a connection and a task
//!   per trickle); here hyper closes a connection whose headers do not arrive within
//!   `header_read_timeout`;
//! - **`TCP_NODELAY`** on every accepted socket: with Nagle's algorithm on, the last small
//!   segment of an answer waits for the client's ACK, which browsers delay by about 40 ms on
//!   a kept-alive connection: every asset of a page paid it.
//!
//! - **caps on open connections**, in all and per client network (an IPv4 address, an IPv6
//!   /64; trusted proxies count only in the total): a connection over a cap is closed at
//!   once, with a warning in the log (at most one every ten seconds, with the count), so
//!   that one client holding connections open cannot take every descriptor and task.
//!
//! Shutdown is graceful: the listener closes, open connections finish the answer under way
//! (the live channel's streams are ended by [`crate::live::Shutdown`]).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long a client may take, and how many connections it may hold.
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_network: usize,
    /// Our reverse proxies: they count only in the total.
    pub proxies: single_login::client_ip::ClientIpConfig,
}

impl Limits {
    pub fn of(settings: &crate::config::Settings) -> Limits {
        Limits {
            header_read_timeout: settings.header_read_timeout,
            max_connections: settings.max_connections,
            max_connections_per_network: settings.max_connections_per_network,
            proxies: settings.client_ip(),
        }
    }
}

/// The open connections, in all and per network.
#[derive(Default)]
struct Open {
    counts: Mutex<(usize, HashMap<String, usize>)>,
    refused: AtomicU64,
    last_warned: Mutex<Option<std::time::Instant>>,
}

/// One admitted connection; dropping it gives its place back.
struct Admitted {
    open: Arc<Open>,
    network: Option<String>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut counts = self.open.lock();
        counts.0 = counts.0.saturating_sub(1);
        if let Some(network) = &self.network {
            if let Some(n) = counts.1.get_mut(network) {
                *n -= 1;
                if *n == 0 {
                    counts.1.remove(network);
                }
            }
        }
    }
}

impl Open {
    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, HashMap<String, usize>)> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn admit(self: &Arc<Self>, limits: &Limits, peer: IpAddr) -> Result<Admitted, &'static str> {
        let network = (!limits.proxies.is_trusted_proxy(peer))
            .then(|| single_login::throttle::client_network(Some(peer), 64));
        let mut counts = self.lock();
        if counts.0 >= limits.max_connections {
            return Err("total");
        }
        if let Some(network) = &network {
            let n = counts.1.entry(network.clone()).or_default();
            if *n >= limits.max_connections_per_network {
                return Err("per_network");
            }
            *n += 1;
        }
        counts.0 += 1;
        Ok(Admitted {
            open: self.clone(),
            network,
        })
    }

    /// Counts a refusal; says so in the log at most once every ten seconds.
    fn refused(&self, cap: &'static str, peer: IpAddr) {
        let refused = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self
            .last_warned
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
            *last = Some(std::time::Instant::now());
            tracing::warn!(
                event = "connection_refused",
                cap,
                client_ip = %peer,
                refused_so_far = refused,
                "connection refused: too many open connections"
            );
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open connections finish
/// for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let open = Arc::new(Open::default());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let admitted = match open.admit(&limits, peer.ip()) {
            Ok(admitted) => admitted,
            Err(cap) => {
                open.refused(cap, peer.ip());
                drop(stream);
                continue;
            }
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(error = %error, "could not set TCP_NODELAY");
        }
        let service = app.clone().map_request(move |request: http::Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            request
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _admitted = admitted;
            if let Err(error) = connection.await {
                tracing::trace!(error = %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after the shutdown grace period");
    }
}
