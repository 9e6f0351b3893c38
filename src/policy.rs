//! Which seats a new login ends, as a pure function of the live seats and the settings.
//!
//! The registry calls [`decide`] inside the transaction that holds the user's lock, so the
//! decision and its execution see the same seats.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::seats::{EndReason, SeatId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnLimit {
    /// End the least recently used seats to make room (Keycloak's "terminate oldest").
    KickOldest,
    /// Refuse the new login while the limit is reached by active seats (Spring Security's
    /// `maxSessionsPreventsLogin`).
    DenyNew,
    /// Let the user choose which seats to end.
    Ask,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Live seats a user may hold; at least 1.
    pub max_sessions: u32,
    pub on_limit: OnLimit,
    /// Seats whose client IP equals the new login's neither count nor end.
    pub same_ip_shares_seat: bool,
    /// Under `DenyNew`, seats unused for this long do not block a login.
    pub idle_after: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_sessions: 1,
            on_limit: OnLimit::KickOldest,
            same_ip_shares_seat: false,
            idle_after: Duration::from_secs(30 * 60),
        }
    }
}

/// A live seat as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSeat {
    pub id: SeatId,
    pub last_seen_at: Millis,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Open the new seat after ending these.
    Admit { end: Vec<(SeatId, EndReason)> },
    /// Refuse the login: these active seats hold the limit.
    Deny { blocking: Vec<SeatId> },
    /// Ask the user which of these seats to end.
    Ask { candidates: Vec<SeatId> },
}

pub fn decide(policy: &Policy, live: &[LiveSeat], new_ip: Option<&str>, now: Millis) -> Decision {
    let shares = |seat: &LiveSeat| {
        policy.same_ip_shares_seat && new_ip.is_some() && seat.client_ip.as_deref() == new_ip
    };
    let mut counted: Vec<&LiveSeat> = live.iter().filter(|seat| !shares(seat)).collect();
    let max = policy.max_sessions.max(1) as usize;
    if counted.len() < max {
        return Decision::Admit { end: Vec::new() };
    }
    let excess = counted.len() + 1 - max;
    // Least recently used first; the id breaks ties so the outcome is deterministic.
    counted.sort_by_key(|seat| (seat.last_seen_at, seat.id));
    match policy.on_limit {
        OnLimit::KickOldest => Decision::Admit {
            end: counted
                .iter()
                .take(excess)
                .map(|seat| (seat.id, EndReason::Replaced))
                .collect(),
        },
        OnLimit::DenyNew => {
            let idle_since = now.minus(policy.idle_after);
            let (idle, active): (Vec<&LiveSeat>, Vec<&LiveSeat>) = counted
                .iter()
                .partition(|seat| seat.last_seen_at < idle_since);
            if active.len() < max {
                // Idle seats are abandoned logins: they expire to make room.
                Decision::Admit {
                    end: idle
                        .iter()
                        .take(excess)
                        .map(|seat| (seat.id, EndReason::Expired))
                        .collect(),
                }
            } else {
                Decision::Deny {
                    blocking: active.iter().map(|seat| seat.id).collect(),
                }
            }
        }
        OnLimit::Ask => Decision::Ask {
            candidates: counted.iter().map(|seat| seat.id).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(id: i64, last_seen: i64, ip: &str) -> LiveSeat {
        LiveSeat {
            id: SeatId(id),
            last_seen_at: Millis(last_seen),
            client_ip: Some(ip.to_owned()),
        }
    }

    #[test]
    fn the_default_ends_the_one_other_seat() {
        let decision = decide(
            &Policy::default(),
            &[seat(1, 10, "10.0.0.1")],
            Some("10.0.0.2"),
            Millis(20),
        );
        assert_eq!(
            decision,
            Decision::Admit {
                end: vec![(SeatId(1), EndReason::Replaced)]
            }
        );
    }

    #[test]
    fn a_first_login_ends_nothing() {
        let decision = decide(&Policy::default(), &[], None, Millis(0));
        assert_eq!(decision, Decision::Admit { end: vec![] });
    }

    #[test]
    fn kick_oldest_ends_the_least_recently_used() {
        let policy = Policy {
            max_sessions: 2,
            ..Policy::default()
        };
        let live = [seat(1, 50, "a"), seat(2, 10, "b"), seat(3, 30, "c")];
        let decision = decide(&policy, &live, Some("d"), Millis(60));
        assert_eq!(
            decision,
            Decision::Admit {
                end: vec![
                    (SeatId(2), EndReason::Replaced),
                    (SeatId(3), EndReason::Replaced)
                ]
            }
        );
    }
}
