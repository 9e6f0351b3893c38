//! What bounds the live channel's streams: how many a session, a user, a client network and
//! the server may hold ([`StreamLimits`], counted by [`Streams`]), and the shutdown that
//! closes them all ([`Shutdown`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use single_login::{SeatId, UserId};
use tokio::sync::watch;

/// Lets the streams know that the server is stopping.
#[derive(Clone, Debug)]
pub struct Shutdown(pub(super) watch::Sender<bool>);

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

    pub(super) async fn wait(mut receiver: watch::Receiver<bool>) {
        // An error means the sender is gone: the state is being dropped, stop too.
        let _ = receiver.wait_for(|stopping| *stopping).await;
    }
}

/// How many live-channel streams may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    pub per_session: usize,
    pub per_user: usize,
    pub per_address: usize,
    pub total: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            per_session: 4,
            per_user: 16,
            per_address: 32,
            total: 10_000,
        }
    }
}

/// The open streams, counted per seat, user, client network and in all.
#[derive(Clone, Default)]
pub struct Streams(Arc<Mutex<Open>>);

#[derive(Default)]
struct Open {
    next_id: u64,
    total: usize,
    per_user: HashMap<UserId, usize>,
    per_address: HashMap<String, usize>,
    /// Each seat's streams, oldest first: id, client network, and the means to close it.
    per_seat: HashMap<SeatId, VecDeque<(u64, String, tokio::sync::oneshot::Sender<()>)>>,
}

/// Why a stream was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Full {
    User,
    Address,
    Total,
}

/// One admitted stream; dropping it frees its place.
pub(super) struct Ticket {
    streams: Streams,
    id: u64,
    seat: SeatId,
    user: UserId,
    address: String,
}

impl Streams {
    pub(super) fn admit(
        &self,
        limits: &StreamLimits,
        seat: SeatId,
        user: UserId,
        address: String,
    ) -> Result<(Ticket, tokio::sync::oneshot::Receiver<()>), Full> {
        let mut open = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // The session's own oldest stream gives way first (a tab opened long ago).
        let oldest = match open.per_seat.get_mut(&seat) {
            Some(streams) if streams.len() >= limits.per_session => {
                let oldest = streams.pop_front();
                if streams.is_empty() {
                    open.per_seat.remove(&seat);
                }
                oldest
            }
            _ => None,
        };
        if let Some((_, evicted_address, close)) = oldest {
            let _ = close.send(());
            // Counted out now (its ticket, when dropped, finds itself gone from the seat's
            // list and frees nothing more), under its own address, which may be another.
            open.release(user, &evicted_address);
        }
        if open.total >= limits.total {
            return Err(Full::Total);
        }
        if open.per_user.get(&user).copied().unwrap_or(0) >= limits.per_user {
            return Err(Full::User);
        }
        if open.per_address.get(&address).copied().unwrap_or(0) >= limits.per_address {
            return Err(Full::Address);
        }
        open.next_id += 1;
        let id = open.next_id;
        let (close, closed) = tokio::sync::oneshot::channel();
        open.total += 1;
        *open.per_user.entry(user).or_default() += 1;
        *open.per_address.entry(address.clone()).or_default() += 1;
        open.per_seat
            .entry(seat)
            .or_default()
            .push_back((id, address.clone(), close));
        let ticket = Ticket {
            streams: self.clone(),
            id,
            seat,
            user,
            address,
        };
        Ok((ticket, closed))
    }

    /// Open streams in all (for tests and the benchmark).
    pub fn open_count(&self) -> usize {
        self.0.lock().map_or(0, |open| open.total)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self
            .streams
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(streams) = open.per_seat.get_mut(&self.seat) else {
            return;
        };
        let Some(at) = streams.iter().position(|(id, _, _)| *id == self.id) else {
            return; // superseded: already counted out
        };
        streams.remove(at);
        if streams.is_empty() {
            open.per_seat.remove(&self.seat);
        }
        open.release(self.user, &self.address);
    }
}

impl Open {
    /// Counts one stream of `user` from `address` out.
    fn release(&mut self, user: UserId, address: &str) {
        self.total -= 1;
        if let Some(n) = self.per_user.get_mut(&user) {
            *n -= 1;
            if *n == 0 {
                self.per_user.remove(&user);
            }
        }
        if let Some(n) = self.per_address.get_mut(address) {
            *n -= 1;
            if *n == 0 {
                self.per_address.remove(address);
            }
        }
    }
}
