//! Which seats a new login ends, as a pure function of the live seats and the settings.
//!
//! The registry calls [`decide`] inside the transaction that holds the user's lock, so the
//! decision and its execution see the same seats.

use std::net::IpAddr;
use std::time::Duration;

use crate::clock::Millis;
use crate::vocabulary::{text_enum, EndReason, SeatId};

text_enum! {
    /// What a login does when the user already holds as many seats as the limit allows.
    pub enum OnLimit {
        /// End the least recently used seats to make room (Keycloak's "terminate oldest").
        KickOldest = "kick_oldest",
        /// Refuse the new login while the limit is reached by active seats (Spring Security's
        /// `maxSessionsPreventsLogin`).
        DenyNew = "deny_new",
        /// Let the user choose which seats to end.
        Ask = "ask",
    }
}

/// The session-limit settings every login is decided under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Live seats a user may hold; at least 1.
    pub max_sessions: u32,
    /// What a login does when `max_sessions` seats are already live.
    pub on_limit: OnLimit,
    /// Seats from the new login's client network ([`same_network`]: the same IPv4 address,
    /// or the same IPv6 /64) neither count nor end.
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
    /// The seat's id, as the decision names it.
    pub id: SeatId,
    /// When the seat was last used: the least recently used seats end first, and under
    /// `DenyNew` it tells idle seats from active ones.
    pub last_seen_at: Millis,
    /// The client address the seat was opened from, compared with the new login's under
    /// `same_ip_shares_seat`.
    pub client_ip: Option<IpAddr>,
}

/// What the policy decided for a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Open the new seat after ending these.
    Admit {
        /// The seats to end, each with its reason (`Expired` for idle seats under `DenyNew`).
        end: Vec<(SeatId, EndReason)>,
    },
    /// Refuse the login: these active seats hold the limit.
    Deny {
        /// The active seats that hold the limit.
        blocking: Vec<SeatId>,
    },
    /// Ask the user which of these seats to end.
    Ask {
        /// The seats the user may choose among.
        candidates: Vec<SeatId>,
    },
}

/// The complete plan for one login: the user's own limit (where an operator set one)
/// replaces the policy's, seats the user `chosen` to end (answering an earlier `Ask`) end
/// first and count no more, and [`decide`] settles the rest. Chosen seats end only if the
/// login gets in; asked again, they are offered again with the others. The registry only
/// carries the plan out.
pub fn plan(
    policy: &Policy,
    user_limit: Option<u32>,
    live: &[LiveSeat],
    chosen: &[SeatId],
    new_ip: Option<IpAddr>,
    now: Millis,
) -> Decision {
    let policy = Policy {
        max_sessions: user_limit.unwrap_or(policy.max_sessions).max(1),
        ..policy.clone()
    };
    let chosen: Vec<SeatId> = live
        .iter()
        .map(|s| s.id)
        .filter(|id| chosen.contains(id))
        .collect();
    let rest: Vec<LiveSeat> = live.iter().filter(|s| !chosen.contains(&s.id)).cloned().collect();
    match decide(&policy, &rest, new_ip, now) {
        Decision::Admit { end } => Decision::Admit {
            end: chosen
                .iter()
                .map(|id| (*id, EndReason::Replaced))
                .chain(end)
                .collect(),
        },
        Decision::Ask { candidates } => Decision::Ask {
            candidates: candidates.into_iter().chain(chosen).collect(),
        },
        deny @ Decision::Deny { .. } => deny,
    }
}

/// Decides a login from `new_ip` at `now` against the user's `live` seats under `policy`
/// alone: whom to end, whether to deny, or what to ask. [`plan`] adds the user's own limit
/// and choice.
pub fn decide(policy: &Policy, live: &[LiveSeat], new_ip: Option<IpAddr>, now: Millis) -> Decision {
    let shares = |seat: &LiveSeat| {
        policy.same_ip_shares_seat
            && matches!((seat.client_ip, new_ip), (Some(a), Some(b)) if same_network(a, b))
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
            let (idle, active): (Vec<&LiveSeat>, Vec<&LiveSeat>) =
                counted.iter().partition(|seat| seat.last_seen_at < idle_since);
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

/// Whether two client addresses are one household's network, as `same_ip_shares_seat` means
/// it: the same IPv4 address (one NAT), or the same IPv6 /64 (one link, on which a device
/// takes new privacy addresses all day). An IPv4-mapped IPv6 address is its IPv4 address.
pub fn same_network(a: IpAddr, b: IpAddr) -> bool {
    match (a.to_canonical(), b.to_canonical()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a == b,
        (IpAddr::V6(a), IpAddr::V6(b)) => a.segments()[..4] == b.segments()[..4],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test address.
    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().expect("a test address"))
    }

    fn seat(id: i64, last_seen: i64, ip: &str) -> LiveSeat {
        LiveSeat {
            id: SeatId(id),
            last_seen_at: Millis(last_seen),
            client_ip: Some(ip.parse().expect("a test address")),
        }
    }

    #[test]
    fn the_default_ends_the_one_other_seat() {
        let decision = decide(
            &Policy::default(),
            &[seat(1, 10, "10.0.0.1")],
            ip("10.0.0.2"),
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
    fn deny_new_refuses_while_active_seats_hold_the_limit() {
        let policy = Policy {
            on_limit: OnLimit::DenyNew,
            ..Policy::default()
        };
        let now = Millis(100 * 60_000);
        let active = seat(1, now.0 - 60_000, "10.0.0.11");
        assert_eq!(
            decide(&policy, &[active], ip("10.0.0.12"), now),
            Decision::Deny {
                blocking: vec![SeatId(1)]
            }
        );
        // Idle for longer than the threshold: it expires to make room.
        let idle = seat(2, now.0 - 31 * 60_000, "10.0.0.11");
        assert_eq!(
            decide(&policy, &[idle], ip("10.0.0.12"), now),
            Decision::Admit {
                end: vec![(SeatId(2), EndReason::Expired)]
            }
        );
    }

    #[test]
    fn ask_lists_the_seats_to_choose_from() {
        let policy = Policy {
            on_limit: OnLimit::Ask,
            ..Policy::default()
        };
        let live = [seat(1, 1, "10.0.0.11")];
        assert_eq!(
            decide(&policy, &live, ip("10.0.0.12"), Millis(2)),
            Decision::Ask {
                candidates: vec![SeatId(1)]
            }
        );
        assert_eq!(
            decide(&policy, &[], ip("10.0.0.12"), Millis(2)),
            Decision::Admit { end: vec![] }
        );
    }

    #[test]
    fn each_on_limit_text_is_its_serde_form() {
        for on_limit in OnLimit::ALL {
            let json = serde_json::to_string(on_limit).unwrap();
            assert_eq!(json, format!("\"{}\"", on_limit.as_str()));
            assert_eq!(OnLimit::parse(on_limit.as_str()), Some(*on_limit));
        }
    }

    #[test]
    fn one_network_is_one_ipv4_address_or_one_ipv6_64() {
        let net = |a: &str, b: &str| same_network(a.parse().unwrap(), b.parse().unwrap());
        assert!(net("203.0.113.7", "203.0.113.7"));
        assert!(!net("203.0.113.7", "203.0.113.8"));
        // Two privacy addresses of one household's /64.
        assert!(net("2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::2"));
        assert!(!net("2001:db8:1:2::1", "2001:db8:1:3::1"));
        assert!(net("::ffff:203.0.113.7", "203.0.113.7"));
        assert!(!net("203.0.113.7", "2001:db8::1"));
    }

    #[test]
    fn an_ipv6_household_shares_its_seat_across_its_addresses() {
        let policy = Policy {
            same_ip_shares_seat: true,
            ..Policy::default()
        };
        let live = [seat(1, 1, "2001:db8:1:2::10")];
        assert_eq!(
            decide(&policy, &live, ip("2001:db8:1:2:8000::77"), Millis(3)),
            Decision::Admit { end: vec![] }
        );
        assert_eq!(
            decide(&policy, &live, ip("2001:db8:1:3::10"), Millis(3)),
            Decision::Admit {
                end: vec![(SeatId(1), EndReason::Replaced)]
            }
        );
    }

    #[test]
    fn same_ip_seats_neither_count_nor_end() {
        let policy = Policy {
            same_ip_shares_seat: true,
            ..Policy::default()
        };
        let live = [seat(1, 1, "10.0.0.1"), seat(2, 2, "10.0.0.1")];
        assert_eq!(
            decide(&policy, &live, ip("10.0.0.1"), Millis(3)),
            Decision::Admit { end: vec![] }
        );
        let decision = decide(&policy, &live, ip("10.0.0.2"), Millis(3));
        assert_eq!(
            decision,
            Decision::Admit {
                end: vec![(SeatId(1), EndReason::Replaced), (SeatId(2), EndReason::Replaced)]
            }
        );
    }

    #[test]
    fn kick_oldest_ends_the_least_recently_used() {
        let policy = Policy {
            max_sessions: 2,
            ..Policy::default()
        };
        let live = [
            seat(1, 50, "10.0.0.11"),
            seat(2, 10, "10.0.0.12"),
            seat(3, 30, "10.0.0.13"),
        ];
        let decision = decide(&policy, &live, ip("10.0.0.14"), Millis(60));
        assert_eq!(
            decision,
            Decision::Admit {
                end: vec![(SeatId(2), EndReason::Replaced), (SeatId(3), EndReason::Replaced)]
            }
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// One login in a generated history: from which of a few IPs, how long after the
        /// previous one, and which seats are used in between.
        #[derive(Debug, Clone)]
        struct Step {
            ip: u8,
            after_minutes: u16,
            touches: Vec<usize>,
        }

        fn steps() -> impl Strategy<Value = Vec<Step>> {
            proptest::collection::vec(
                (0u8..4, 0u16..90, proptest::collection::vec(0usize..8, 0..3)).prop_map(
                    |(ip, after_minutes, touches)| Step {
                        ip,
                        after_minutes,
                        touches,
                    },
                ),
                1..40,
            )
        }

        fn policies() -> impl Strategy<Value = Policy> {
            (
                1u32..5,
                prop_oneof![
                    Just(OnLimit::KickOldest),
                    Just(OnLimit::DenyNew),
                    Just(OnLimit::Ask)
                ],
                any::<bool>(),
            )
                .prop_map(|(max_sessions, on_limit, same_ip_shares_seat)| Policy {
                    max_sessions,
                    on_limit,
                    same_ip_shares_seat,
                    idle_after: Duration::from_secs(30 * 60),
                })
        }

        /// Replays a history through `decide`, as the registry does, and checks `check`
        /// after every decision.
        fn replay(
            policy: &Policy,
            history: &[Step],
            mut check: impl FnMut(&[LiveSeat], &LiveSeat, &Decision, Millis) -> Result<(), TestCaseError>,
        ) -> Result<(), TestCaseError> {
            let mut live: Vec<LiveSeat> = Vec::new();
            let mut now = Millis(0);
            for (n, step) in history.iter().enumerate() {
                now = now.plus(Duration::from_secs(u64::from(step.after_minutes) * 60));
                for &i in &step.touches {
                    if let Some(seat) = live.get_mut(i) {
                        seat.last_seen_at = now;
                    }
                }
                let ip = ip(&format!("10.0.0.{}", step.ip));
                let new = LiveSeat {
                    id: SeatId(n as i64),
                    last_seen_at: now,
                    client_ip: ip,
                };
                let decision = decide(policy, &live, ip, now);
                check(&live, &new, &decision, now)?;
                if let Decision::Admit { end } = &decision {
                    live.retain(|seat| !end.iter().any(|(id, _)| *id == seat.id));
                    live.push(new);
                }
            }
            Ok(())
        }

        proptest! {
            /// Whatever the user chooses under `ask`: the plan never ends a seat that was not
            /// chosen, never leaves more counted seats than the limit when it admits, and
            /// never offers a same-IP seat (it neither counts nor ends).
            #[test]
            fn choices_end_only_chosen_seats_and_respect_the_limit(
                max in 1u32..4,
                share in any::<bool>(),
                ips in proptest::collection::vec(0u8..3, 0..7),
                chosen_mask in proptest::collection::vec(any::<bool>(), 7),
                new_ip in 0u8..3,
                user_limit in proptest::option::of(1u32..4),
            ) {
                let policy = Policy { max_sessions: max, on_limit: OnLimit::Ask, same_ip_shares_seat: share, ..Policy::default() };
                let live: Vec<LiveSeat> = ips.iter().enumerate().map(|(i, host)| LiveSeat {
                    id: SeatId(i as i64 + 1),
                    last_seen_at: Millis(i as i64),
                    client_ip: ip(&format!("10.0.0.{host}")),
                }).collect();
                let chosen: Vec<SeatId> = live.iter().zip(&chosen_mask).filter(|(_, c)| **c).map(|(s, _)| s.id).collect();
                let new_ip = ip(&format!("10.0.0.{new_ip}"));
                let limit = user_limit.unwrap_or(max) as usize;
                let shares = |s: &LiveSeat| share && s.client_ip == new_ip;
                match plan(&policy, user_limit, &live, &chosen, new_ip, Millis(100)) {
                    Decision::Admit { end } => {
                        for (id, _) in &end {
                            prop_assert!(chosen.contains(id), "ended {id:?}, not chosen");
                        }
                        let counted = live.iter().filter(|s| !shares(s) && !end.iter().any(|(id, _)| *id == s.id)).count();
                        prop_assert!(counted < limit);
                    }
                    Decision::Ask { candidates } => {
                        for id in &candidates {
                            let seat = live.iter().find(|s| s.id == *id).unwrap();
                            prop_assert!(!shares(seat) || chosen.contains(id), "offered a same-IP seat {id:?}");
                        }
                    }
                    Decision::Deny { .. } => prop_assert!(false, "ask never denies"),
                }
            }

            #[test]
            fn never_more_live_seats_than_the_limit(policy in policies(), history in steps()) {
                let policy = Policy { same_ip_shares_seat: false, ..policy };
                replay(&policy, &history, |live, _, decision, _| {
                    if let Decision::Admit { end } = decision {
                        prop_assert!(live.len() - end.len() < policy.max_sessions as usize);
                    }
                    Ok(())
                })?;
            }

            #[test]
            fn with_same_ip_sharing_only_other_ips_are_limited(policy in policies(), history in steps()) {
                let policy = Policy { same_ip_shares_seat: true, ..policy };
                replay(&policy, &history, |live, new, decision, _| {
                    if let Decision::Admit { end } = decision {
                        let others = live
                            .iter()
                            .filter(|s| s.client_ip != new.client_ip && !end.iter().any(|(id, _)| *id == s.id))
                            .count();
                        prop_assert!(others < policy.max_sessions as usize);
                    }
                    Ok(())
                })?;
            }

            #[test]
            fn same_ip_never_ends_a_seat_of_the_same_ip(policy in policies(), history in steps()) {
                let policy = Policy { same_ip_shares_seat: true, ..policy };
                replay(&policy, &history, |live, new, decision, _| {
                    if let Decision::Admit { end } = decision {
                        for (id, _) in end {
                            let ended = live.iter().find(|s| s.id == *id).unwrap();
                            prop_assert_ne!(&ended.client_ip, &new.client_ip);
                        }
                    }
                    Ok(())
                })?;
            }

            #[test]
            fn deny_new_never_ends_an_active_seat(policy in policies(), history in steps()) {
                let policy = Policy { on_limit: OnLimit::DenyNew, ..policy };
                replay(&policy, &history, |live, _, decision, now| {
                    if let Decision::Admit { end } = decision {
                        for (id, reason) in end {
                            let ended = live.iter().find(|s| s.id == *id).unwrap();
                            prop_assert!(ended.last_seen_at < now.minus(policy.idle_after));
                            prop_assert_eq!(*reason, EndReason::Expired);
                        }
                    }
                    Ok(())
                })?;
            }

            #[test]
            fn idle_seats_never_block(policy in policies(), history in steps()) {
                let policy = Policy { on_limit: OnLimit::DenyNew, ..policy };
                replay(&policy, &history, |live, new, decision, now| {
                    let active = live
                        .iter()
                        .filter(|s| s.last_seen_at >= now.minus(policy.idle_after))
                        .filter(|s| !(policy.same_ip_shares_seat && s.client_ip == new.client_ip))
                        .count();
                    if active < policy.max_sessions as usize {
                        let admitted = matches!(decision, Decision::Admit { .. });
                        prop_assert!(admitted, "{:?}", decision);
                    }
                    Ok(())
                })?;
            }

            #[test]
            fn deny_blocks_only_with_active_seats(policy in policies(), history in steps()) {
                let policy = Policy { on_limit: OnLimit::DenyNew, ..policy };
                replay(&policy, &history, |live, _, decision, now| {
                    if let Decision::Deny { blocking } = decision {
                        for id in blocking {
                            let seat = live.iter().find(|s| s.id == *id).unwrap();
                            prop_assert!(seat.last_seen_at >= now.minus(policy.idle_after));
                        }
                    }
                    Ok(())
                })?;
            }

            #[test]
            fn kick_oldest_always_admits(policy in policies(), history in steps()) {
                let policy = Policy { on_limit: OnLimit::KickOldest, ..policy };
                replay(&policy, &history, |_, _, decision, _| {
                    let admitted = matches!(decision, Decision::Admit { .. });
                    prop_assert!(admitted);
                    Ok(())
                })?;
            }

            #[test]
            fn ask_never_ends_a_seat_by_itself(policy in policies(), history in steps()) {
                let policy = Policy { on_limit: OnLimit::Ask, ..policy };
                replay(&policy, &history, |_, _, decision, _| {
                    match decision {
                        Decision::Admit { end } => prop_assert!(end.is_empty()),
                        Decision::Ask { .. } => {}
                        Decision::Deny { .. } => prop_assert!(false, "ask never denies"),
                    }
                    Ok(())
                })?;
            }
        }
    }
}
