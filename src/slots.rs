//! Hashing slots handed out fairly. A plain semaphore serves waiters in arrival order, so a
//! flood from one network (a /48 rotating over its /64s, say) that queues first takes every
//! slot and everyone else times out. Here waiters queue per [`Lane`] and a freed slot goes
//! to the lanes in turn: with one other network waiting, a flood gets every other slot at
//! most. Holders of a known-device cookie queue in a lane of their own that is served
//! first (OWASP "device cookies": the owner's browser is not the stranger's crowd). A lane
//! may hold only so many waiters; past that a request is told busy at once instead of
//! holding memory and a task for the whole wait.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

/// Who is waiting for a slot: the client's network (as
/// [`crate::throttle::lane_network`] names it), and whether it showed a known-device cookie.
/// The default, an empty network, is one lane for every caller that names none, and its
/// queue has no cap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Lane {
    /// The network the waiter is counted with; waiters of one network share one turn.
    pub network: String,
    /// A valid known-device cookie for the account: served before every network.
    pub known_device: bool,
}

/// A held slot; dropping it hands the slot to the next waiter in turn.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Shared>,
    /// False once handed back (or never handed out): dropping it then does nothing.
    armed: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.armed {
            self.armed = false;
            self.slots.release();
        }
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    per_lane: usize,
}

#[derive(Debug, Default)]
struct State {
    free: usize,
    known: VecDeque<oneshot::Sender<Slot>>,
    lanes: HashMap<String, VecDeque<oneshot::Sender<Slot>>>,
    /// The lanes with waiters, in the order they get their next turn.
    turn: VecDeque<String>,
}

impl State {
    fn waiting(&self) -> bool {
        !self.known.is_empty() || !self.turn.is_empty()
    }

    /// The next waiter: known devices first, then one from each lane in turn.
    fn next(&mut self) -> Option<oneshot::Sender<Slot>> {
        if let Some(waiter) = self.known.pop_front() {
            return Some(waiter);
        }
        let lane = self.turn.pop_front()?;
        let queue = self.lanes.get_mut(&lane)?;
        let waiter = queue.pop_front();
        if queue.is_empty() {
            self.lanes.remove(&lane);
        } else {
            self.turn.push_back(lane);
        }
        waiter
    }
}

/// Slots shared by every clone.
#[derive(Debug, Clone)]
pub struct FairSlots(Arc<Shared>);

/// No slot within the wait, or the lane's queue was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoSlot;

impl FairSlots {
    /// `count` slots (at least one); at most `per_lane` waiters per lane (at least one).
    pub fn new(count: usize, per_lane: usize) -> Self {
        FairSlots(Arc::new(Shared {
            state: Mutex::new(State {
                free: count.max(1),
                ..State::default()
            }),
            per_lane: per_lane.max(1),
        }))
    }

    /// Free slots now (for tests).
    pub fn available(&self) -> usize {
        self.0.lock().free
    }

    /// A slot for `lane` within `wait`.
    pub async fn acquire(&self, lane: &Lane, wait: Duration) -> Result<Slot, NoSlot> {
        let receiver = {
            let mut state = self.0.lock();
            if state.free > 0 && !state.waiting() {
                state.free -= 1;
                return Ok(Slot {
                    slots: self.0.clone(),
                    armed: true,
                });
            }
            let (sender, receiver) = oneshot::channel();
            if lane.known_device {
                state.known.retain(|w| !w.is_closed());
                state.known.push_back(sender);
            } else {
                let per_lane = self.0.per_lane;
                let new_lane = !state.lanes.contains_key(&lane.network);
                let queue = state.lanes.entry(lane.network.clone()).or_default();
                queue.retain(|w| !w.is_closed());
                // The unnamed lane (callers that name no network) queues without a cap.
                if !lane.network.is_empty() && queue.len() >= per_lane {
                    return Err(NoSlot);
                }
                queue.push_back(sender);
                if new_lane {
                    state.turn.push_back(lane.network.clone());
                }
            }
            receiver
        };
        match tokio::time::timeout(wait, receiver).await {
            Ok(Ok(slot)) => Ok(slot),
            // Timed out: the sender, still queued, finds the receiver gone and passes the
            // slot on.
            _ => Err(NoSlot),
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock leaves the counts as they were: keep going.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn release(self: &Arc<Self>) {
        let mut state = self.lock();
        while let Some(waiter) = state.next() {
            let slot = Slot {
                slots: self.clone(),
                armed: true,
            };
            match waiter.send(slot) {
                Ok(()) => return,
                // That waiter gave up: the slot goes to the next one, and is not released
                // again on drop (we hold the lock).
                Err(mut unwanted) => unwanted.armed = false,
            }
        }
        state.free += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(network: &str) -> Lane {
        Lane {
            network: network.into(),
            known_device: false,
        }
    }

    #[tokio::test]
    async fn a_freed_slot_goes_to_the_lanes_in_turn_and_known_devices_first() {
        let slots = FairSlots::new(1, 100);
        let held = slots.acquire(&lane("a"), Duration::from_secs(1)).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        // Five of the flood's network queue first, then one other network, then a known
        // device.
        let mut queue = |name: &'static str, lane: Lane| {
            let slots = slots.clone();
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                let slot = slots.acquire(&lane, Duration::from_secs(5)).await.unwrap();
                order.lock().unwrap().push(name);
                tokio::time::sleep(Duration::from_millis(5)).await;
                drop(slot);
            }));
        };
        for _ in 0..5 {
            queue("flood", lane("2001:db8::/48"));
        }
        queue("other", lane("203.0.113.0/24"));
        queue(
            "device",
            Lane {
                network: "2001:db8::/48".into(),
                known_device: true,
            },
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(held);
        for task in tasks {
            task.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        assert_eq!(order[0], "device", "{order:?}");
        let other = order.iter().position(|n| *n == "other").unwrap();
        assert!(other <= 2, "the other network waited behind the flood: {order:?}");
        assert_eq!(slots.available(), 1);
    }

    #[tokio::test]
    async fn a_full_lane_is_refused_at_once_and_given_up_waits_pass_the_slot_on() {
        let slots = FairSlots::new(1, 2);
        let held = slots.acquire(&lane("a"), Duration::from_secs(1)).await.unwrap();
        let a = slots.clone();
        let first =
            tokio::spawn(async move { a.acquire(&lane("b"), Duration::from_millis(30)).await.map(drop) });
        let b = slots.clone();
        let second =
            tokio::spawn(async move { b.acquire(&lane("b"), Duration::from_secs(5)).await.map(drop) });
        tokio::time::sleep(Duration::from_millis(10)).await;
        let started = std::time::Instant::now();
        assert_eq!(
            slots.acquire(&lane("b"), Duration::from_secs(5)).await.err(),
            Some(NoSlot)
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        // The first waiter gives up; the slot then reaches the second.
        assert_eq!(first.await.unwrap(), Err(NoSlot));
        drop(held);
        assert_eq!(second.await.unwrap(), Ok(()));
        assert_eq!(slots.available(), 1);
    }
}
