//! The live channel: each signed-in page keeps one server-sent-events stream open at
//! [`EVENTS_PATH`], so that a browser whose session ends learns it at once instead of at its
//! next click.
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
//! Streams end when the server shuts down (axum waits for open connections, so streams that
//! never end would hold the shutdown; axum#2673); browsers reconnect by themselves.

use std::convert::Infallible;

use app::models::Toast;
use app::ssr::messages::{self, Lang};
use app::ssr::{error_chain, ClientInfo, RequestAuth};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::stream::{self, Stream};
use http::StatusCode;
use single_login::changes::SeatChanges;
use single_login::{Millis, SeatId, UserId};
use tokio::sync::watch;

use crate::AppState;

pub use app::components::live::EVENTS_PATH;

/// Lets the streams know that the server is stopping.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Sender<bool>);

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown(watch::channel(false).0)
    }
}

impl Shutdown {
    /// Ends every open stream, and every stream opened from now on.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    async fn wait(mut receiver: watch::Receiver<bool>) {
        // An error means the sender is gone: the state is being dropped, stop too.
        let _ = receiver.wait_for(|stopping| *stopping).await;
    }
}

pub async fn events(
    State(state): State<AppState>,
    auth: Option<Extension<RequestAuth>>,
    client: Option<Extension<ClientInfo>>,
) -> Response {
    match auth.map(|Extension(auth)| auth) {
        Some(RequestAuth::SignedIn { user, seat }) => {
            let watch = Watch {
                changes: state.ctx.seats.subscribe(),
                seat,
                user: user.id,
                others: None,
                lang: client.map_or(Lang::En, |Extension(client)| client.lang),
                state,
            };
            sse(watch.run()).into_response()
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

struct Watch {
    state: AppState,
    changes: SeatChanges,
    /// Watched by id: the session's id, and with it the seat's hash, changes when the user
    /// re-authenticates, the seat does not.
    seat: SeatId,
    user: UserId,
    /// The user's other live seats when last read (`None`: not yet): a seat not among them
    /// is a new login.
    others: Option<Vec<SeatId>>,
    lang: Lang,
}

enum Step {
    Ready,
    Watching,
    Done,
}

/// What the seat looks like now.
enum Seen {
    /// Live; with the alert for a login that began since the last read, if any.
    Live(Option<Toast>),
    /// Ended; the kick check will explain why on the page's next request.
    Ended,
    /// The registry could not be read; try again at the next re-read.
    Unknown,
}

impl Watch {
    fn run(self) -> impl Stream<Item = Event> + Send + 'static {
        let stop = self.state.shutdown.0.subscribe();
        let events = stream::unfold((self, Step::Ready), |(mut watch, step)| async move {
            match step {
                Step::Ready => match watch.look().await {
                    // Subscribed before this read, so nothing can slip between the two.
                    Seen::Ended => Some((ended(None), (watch, Step::Done))),
                    Seen::Live(_) | Seen::Unknown => Some((
                        Event::default().event("ready").data("ready"),
                        (watch, Step::Watching),
                    )),
                },
                Step::Watching => loop {
                    let told = tokio::select! {
                        () = watch.changes.changed(watch.user) => true,
                        () = tokio::time::sleep(watch.state.settings.live_recheck_interval) => false,
                    };
                    match watch.look().await {
                        Seen::Ended => break Some((ended(None), (watch, Step::Done))),
                        Seen::Live(alert) if told || alert.is_some() => {
                            break Some((changed(alert.as_ref()), (watch, Step::Watching)))
                        }
                        // Only the periodic re-read, and nothing new.
                        Seen::Live(_) | Seen::Unknown => {}
                    }
                },
                Step::Done => None,
            }
        });
        use futures_util::StreamExt;
        events.take_until(Shutdown::wait(stop))
    }

    /// Reads the user's live seats, once: whether this seat is among them, and if a login
    /// began since the last read, the alert for the newest one (none on the first read, which
    /// only takes stock).
    async fn look(&mut self) -> Seen {
        let live = match self.state.ctx.seats.live(self.user).await {
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
        let alert = self.others.replace(others).and_then(|known| {
            live.iter()
                .filter(|seat| seat.id != self.seat && !known.contains(&seat.id))
                .max_by_key(|seat| seat.id)
                .map(|newest| messages::new_login_elsewhere(self.lang, newest, Millis::now()))
        });
        Seen::Live(alert)
    }
}
