//! The live channel: each signed-in page keeps one server-sent-events stream open at
//! `app::route_table::EVENTS`, so that a browser whose session ends learns it at once instead of at its
//! next click. The host's layer of it: the notices come from the core's change feed
//! (`single_login::changes`, with its PostgreSQL relay), and the page's end is
//! `app/src/components/live.rs`.
//!
//! Events (each with some data: browsers drop events whose data is empty):
//! - `ready`: the stream listens;
//! - `changed`: another session of the same user began or ended, and the page re-reads what
//!   it shows. The data is `null`, or for a login that began while this one stays, an alert
//!   toast as JSON (OWASP: tell the user about concurrent logins);
//! - `ended`: this session ended, and the stream closes. The page then makes one ordinary
//!   request, which the kick check answers as it always does (signs the session out, explains
//!   why). When the session had already ended by the time the stream was opened, the check
//!   has used up that answer, so `ended` carries the toast itself as JSON.
//!
//! - `superseded`: this session opened more streams than it may hold (many tabs): its
//!   oldest closes, and its page does not reconnect until it is shown again.
//!
//! Streams end when the server shuts down (axum waits for open connections, so streams that
//! never end would hold the shutdown; axum#2673); browsers reconnect by themselves.
//!
//! Streams are capped ([`StreamLimits`]): per session (beyond it the session's oldest closes,
//! so the newest tab keeps its channel), per user, per client network and in all (beyond
//! these, 429). After a lost PostgreSQL connection every stream must re-read; each waits a
//! random part of a second first, so that they do not all query the database at once.

mod caps;

use caps::Ticket;
pub use caps::{Shutdown, StreamLimits, Streams};
use std::convert::Infallible;
use std::time::Duration;

use app::lang::Locale;
use app::models::Toast;
use app::ssr::messages;
use app::ssr::{error_chain, AppContext, ClientInfo, RequestAuth};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::stream::{self, Stream};
use http::StatusCode;
use single_login::changes::{Heard, SeatChanges};
use single_login::{Millis, SeatId, UserId};

/// What the live channel needs of the host, taken from its state per stream (so that this
/// module does not depend on the state that holds it).
#[derive(Clone)]
pub struct LiveState {
    /// The registry to read, the change feed to hear.
    pub ctx: AppContext,
    /// The open streams, counted against `limits`.
    pub streams: Streams,
    /// How many streams may be open, per session, user, network and in all.
    pub limits: StreamLimits,
    /// How the client's network is grouped for the per-network cap.
    pub ipv6_prefix: u8,
    /// How often a stream re-reads its seat without a notice.
    pub recheck_interval: Duration,
    /// Ends every stream when the server stops.
    pub shutdown: Shutdown,
}

/// `GET` the live channel: a signed-in session's stream of `ready`, `changed` and `ended`.
pub async fn events(
    State(state): State<LiveState>,
    auth: Option<Extension<RequestAuth>>,
    client: Option<Extension<ClientInfo>>,
) -> Response {
    match auth.map(|Extension(auth)| auth) {
        Some(RequestAuth::SignedIn { user, seat }) => {
            let client = client.map(|Extension(client)| client);
            let address = single_login::throttle::client_network(
                client.as_ref().and_then(ClientInfo::addr),
                state.ipv6_prefix,
            );
            let (ticket, superseded) = match state.streams.admit(&state.limits, seat, user.id, address) {
                Ok(admitted) => admitted,
                Err(full) => {
                    tracing::warn!(
                        event = "live_stream_refused",
                        user = user.id.0,
                        seat = seat.0,
                        limit = ?full,
                        "too many live-channel streams"
                    );
                    return (StatusCode::TOO_MANY_REQUESTS, "Too many open pages.").into_response();
                }
            };
            let watch = Watch {
                changes: state.ctx.seats().subscribe(),
                seat,
                user: user.id,
                others: None,
                viewer: client.as_ref().and_then(ClientInfo::addr),
                lang: client.map_or(Locale::default(), |client| client.lang),
                state,
            };
            sse(watch.run(ticket, superseded)).into_response()
        }
        Some(RequestAuth::Ended(toast)) => {
            sse(stream::once(async move { ended(Some(&toast)) })).into_response()
        }
        Some(RequestAuth::Anonymous) | None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

fn sse(
    events: impl Stream<Item = Event> + Send + 'static,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    use futures_util::StreamExt;
    Sse::new(events.map(Ok)).keep_alive(KeepAlive::default())
}

fn ended(toast: Option<&Toast>) -> Event {
    Event::default().event("ended").data(toast_json(toast))
}

fn changed(alert: Option<&Toast>) -> Event {
    Event::default().event("changed").data(toast_json(alert))
}

/// `null` when there is nothing to show: never empty, which browsers would not dispatch.
fn toast_json(toast: Option<&Toast>) -> String {
    toast
        .and_then(|toast| serde_json::to_string(toast).ok())
        .unwrap_or_else(|| "null".to_owned())
}

/// A random pause under a second.
fn jitter() -> Duration {
    use rand::Rng;
    Duration::from_millis(rand::thread_rng().gen_range(0..1000))
}

struct Watch {
    state: LiveState,
    changes: SeatChanges,
    /// Watched by id: the session's id, and with it the seat's hash, changes when the user
    /// re-authenticates, the seat does not.
    seat: SeatId,
    user: UserId,
    /// The user's other live seats when last read (`None`: not yet): a seat not among them
    /// is a new login.
    others: Option<Vec<SeatId>>,
    /// This page's address: a new login is described as coarsely as a stranger may see it.
    viewer: Option<std::net::IpAddr>,
    lang: Locale,
}

enum Step {
    Ready,
    Watching,
    Done,
}

/// What the seat looks like now.
enum Seen {
    /// Live; whether the user's other sessions differ from the last read, and the alert for
    /// a login that began since then, if any.
    Live {
        others_changed: bool,
        alert: Option<Toast>,
    },
    /// Ended; the kick check will explain why on the page's next request.
    Ended,
    /// The registry could not be read; try again at the next re-read.
    Unknown,
}

impl Watch {
    /// The stream's events; it holds `ticket` (its place among the open streams) until it
    /// ends, and ends with `superseded` when a newer stream of the session takes its place.
    fn run(
        self,
        ticket: Ticket,
        superseded: tokio::sync::oneshot::Receiver<()>,
    ) -> impl Stream<Item = Event> + Send + 'static {
        use futures_util::StreamExt;
        let stop = self.state.shutdown.0.subscribe();
        let events = stream::unfold((self, Step::Ready), |(mut watch, step)| async move {
            match step {
                Step::Ready => match watch.look().await {
                    // Subscribed before this read, so nothing can slip between the two.
                    Seen::Ended => Some((ended(None), (watch, Step::Done))),
                    Seen::Live { .. } | Seen::Unknown => Some((
                        Event::default().event("ready").data("ready"),
                        (watch, Step::Watching),
                    )),
                },
                Step::Watching => loop {
                    let heard = tokio::select! {
                        heard = watch.changes.changed(watch.user) => Some(heard),
                        () = tokio::time::sleep(watch.state.recheck_interval) => None,
                    };
                    let told = heard.is_some();
                    if heard == Some(Heard::Everyone) {
                        // Every stream heard this at once (a reconnected relay): spread the
                        // re-reads over a second instead of querying all together.
                        tokio::time::sleep(jitter()).await;
                    }
                    match watch.look().await {
                        Seen::Ended => break Some((ended(None), (watch, Step::Done))),
                        // A notice is news only if the sessions differ from what this stream
                        // last saw: one about a change it already took stock of (it can
                        // arrive after the stream's first read) says nothing new.
                        Seen::Live {
                            others_changed,
                            alert,
                        } if (told && others_changed) || alert.is_some() => {
                            break Some((changed(alert.as_ref()), (watch, Step::Watching)))
                        }
                        // Only the periodic re-read, or a stale notice: nothing new.
                        Seen::Live { .. } | Seen::Unknown => {}
                    }
                },
                Step::Done => None,
            }
        });
        // Superseded: one last event, so that the page does not reconnect by itself (which
        // would supersede the newer stream in turn).
        let (told, heard) = tokio::sync::oneshot::channel::<()>();
        let superseded = async move {
            match superseded.await {
                Ok(()) => {
                    let _ = told.send(());
                }
                // The stream is ending anyway.
                Err(_) => std::future::pending().await,
            }
        };
        let ending = stream::once(heard).filter_map(|heard| async move {
            heard
                .ok()
                .map(|()| Event::default().event("superseded").data("superseded"))
        });
        events
            .take_until(superseded)
            .chain(ending)
            .take_until(Shutdown::wait(stop))
            .map(move |event| {
                let _held = &ticket;
                event
            })
    }

    /// Reads the user's live seats, once: whether this seat is among them, and if a login
    /// began since the last read, the alert for the newest one (none on the first read, which
    /// only takes stock).
    async fn look(&mut self) -> Seen {
        let live = match self.state.ctx.seats().live(self.user).await {
            Ok(live) => live,
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "live channel: could not read the sessions");
                return Seen::Unknown;
            }
        };
        if !live.iter().any(|seat| seat.id == self.seat) {
            return Seen::Ended;
        }
        let others: Vec<SeatId> = live
            .iter()
            .map(|seat| seat.id)
            .filter(|id| *id != self.seat)
            .collect();
        let known = self.others.replace(others.clone());
        let others_changed = known.as_ref().is_some_and(|known| *known != others);
        let alert = known.and_then(|known| {
            live.iter()
                .filter(|seat| seat.id != self.seat && !known.contains(&seat.id))
                .max_by_key(|seat| seat.id)
                .map(|newest| messages::new_login_elsewhere(self.lang, newest, Millis::now(), self.viewer))
        });
        Seen::Live {
            others_changed,
            alert,
        }
    }
}
