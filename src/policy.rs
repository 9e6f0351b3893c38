//! Which seats a new login ends, as a pure function of the live seats and the settings.
//!
//! The registry calls [`decide`] inside the transaction that holds the user's lock, so the
//! decision and its execution see the same seats.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::clock::Millis;
use crate::device::DeviceKind;
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
    /// Live seats a user may hold; at least 1. A user's own limit, their group's or the
    /// application's answer ([`Limits`]) replaces it together with `seat_limits`.
    pub max_sessions: u32,
    /// Live seats a user may hold per device kind, within `max_sessions`: a kind without an
    /// entry counts only toward the total.
    pub seat_limits: KindLimits,
    /// What a login does when the limits are already reached.
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
            seat_limits: KindLimits::default(),
            on_limit: OnLimit::KickOldest,
            same_ip_shares_seat: false,
            idle_after: Duration::from_secs(30 * 60),
        }
    }
}

impl Policy {
    /// The limits of a user with no limits of their own: `max_sessions` and `seat_limits`.
    pub fn limits(&self) -> Limits {
        Limits::AtMost {
            max_sessions: self.max_sessions.max(1),
            seat_limits: self.seat_limits.clone(),
        }
    }
}

/// How many live seats a user may hold per device kind. Every limit is at least 1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindLimits(BTreeMap<DeviceKind, u32>);

impl KindLimits {
    /// No per-kind limit: every kind counts only toward the total.
    pub fn none() -> Self {
        KindLimits::default()
    }

    /// These limits; a limit below 1 is taken as 1 (a kind that may never sign in is not a
    /// session limit).
    pub fn of(limits: impl IntoIterator<Item = (DeviceKind, u32)>) -> Self {
        KindLimits(limits.into_iter().map(|(kind, n)| (kind, n.max(1))).collect())
    }

    /// The limit of `kind`, if it has one.
    pub fn get(&self, kind: DeviceKind) -> Option<u32> {
        self.0.get(&kind).copied()
    }

    /// Each kind that has a limit, with it, in [`DeviceKind`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (DeviceKind, u32)> + '_ {
        self.0.iter().map(|(kind, n)| (*kind, *n))
    }

    /// Whether no kind has a limit.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One user's limits: where they come from is [`LimitSource`]'s business, what they allow
/// is this.
///
/// As text (the settings' override, the operator's command line, the database): `unlimited`,
/// a total (`4`), or a total and per-kind limits (`2,phone=1,computer=1`).
///
/// ```
/// use single_login::policy::Limits;
/// let limits: Limits = "2, phone=1 ,computer=1".parse().unwrap();
/// assert_eq!(limits.to_string(), "2,computer=1,phone=1");
/// assert_eq!("unlimited".parse::<Limits>().unwrap(), Limits::Unlimited);
/// assert!("0".parse::<Limits>().is_err());
/// assert!("2,".parse::<Limits>().is_err());
/// assert!("2,phone=1,phone=2".parse::<Limits>().is_err());
/// assert!("2,watch=1".parse::<Limits>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limits {
    /// No limit at all (service accounts, kiosks, admins): every login gets in, none ends.
    Unlimited,
    /// At most `max_sessions` live seats, and per kind at most its `seat_limits`.
    AtMost {
        /// The total; at least 1.
        max_sessions: u32,
        /// The per-kind limits within the total.
        seat_limits: KindLimits,
    },
}

impl Limits {
    /// At most `max_sessions` (at least 1), with no per-kind limit.
    pub fn at_most(max_sessions: u32) -> Self {
        Limits::AtMost {
            max_sessions: max_sessions.max(1),
            seat_limits: KindLimits::none(),
        }
    }

    /// The total, or `None` when unlimited.
    pub fn max_sessions(&self) -> Option<u32> {
        match self {
            Limits::Unlimited => None,
            Limits::AtMost { max_sessions, .. } => Some(*max_sessions),
        }
    }

    /// The limit of `kind`, if it has one (never when unlimited).
    pub fn of_kind(&self, kind: DeviceKind) -> Option<u32> {
        match self {
            Limits::Unlimited => None,
            Limits::AtMost { seat_limits, .. } => seat_limits.get(kind),
        }
    }
}

impl std::fmt::Display for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limits::Unlimited => f.write_str("unlimited"),
            Limits::AtMost {
                max_sessions,
                seat_limits,
            } => {
                write!(f, "{max_sessions}")?;
                for (kind, n) in seat_limits.iter() {
                    write!(f, ",{}={n}", kind.as_str())?;
                }
                Ok(())
            }
        }
    }
}

/// Text that is not a [`Limits`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a session limit: expected `unlimited`, a number of at least 1, or a number followed by per-kind limits such as `2,phone=1,computer=1` (kinds: computer, phone, tablet, other)")]
pub struct LimitsError(pub String);

impl std::str::FromStr for Limits {
    type Err = LimitsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || LimitsError(text.chars().take(80).collect());
        if text.trim() == "unlimited" {
            return Ok(Limits::Unlimited);
        }
        let (total, kinds) = match text.split_once(',') {
            Some((_, kinds)) if kinds.trim().is_empty() => return Err(error()),
            Some(split) => split,
            None => (text, ""),
        };
        let max_sessions = count(total).ok_or_else(error)?;
        Ok(Limits::AtMost {
            max_sessions,
            seat_limits: kinds.parse().map_err(|_| error())?,
        })
    }
}

/// A limit's number: at least 1.
fn count(text: &str) -> Option<u32> {
    text.trim().parse::<u32>().ok().filter(|n| *n >= 1)
}

impl std::str::FromStr for KindLimits {
    type Err = LimitsError;

    /// `phone=1,computer=1`; empty for none.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || LimitsError(text.chars().take(80).collect());
        let mut limits = BTreeMap::new();
        if text.trim().is_empty() {
            return Ok(KindLimits(limits));
        }
        for part in text.split(',') {
            let (kind, n) = part.split_once('=').ok_or_else(error)?;
            let kind = DeviceKind::parse(kind.trim()).ok_or_else(error)?;
            let n = count(n).ok_or_else(error)?;
            if limits.insert(kind, n).is_some() {
                return Err(error());
            }
        }
        Ok(KindLimits(limits))
    }
}

/// Where a user's limits come from, first match wins: the user's own (set by an operator or
/// the application), their group's, the application's code ([`crate::seats::LimitsFor`]),
/// and the settings' default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitSource {
    /// The user's own limit.
    User,
    /// The group the user is in, by name.
    Group(String),
    /// The application's code decided.
    Application,
    /// The settings' `max_sessions` and `seat_limits`.
    Default,
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
    /// The kind of device the seat's login came from.
    pub kind: DeviceKind,
}

/// The login being decided: where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewLogin {
    /// The client's address, if known.
    pub client_ip: Option<IpAddr>,
    /// The kind of device it comes from.
    pub kind: DeviceKind,
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
        /// The seats the user may choose among: those whose end would make room.
        candidates: Vec<SeatId>,
    },
}

/// The complete plan for one login: `limits` are the user's (from [`LimitSource`]; `None`
/// for the policy's own), seats the user `chosen` to end (answering an earlier `Ask`) end
/// first and count no more, and [`decide`] settles the rest. Chosen seats end only if the
/// login gets in; asked again, they are offered again with the others. The registry only
/// carries the plan out.
pub fn plan(
    policy: &Policy,
    limits: Option<&Limits>,
    live: &[LiveSeat],
    chosen: &[SeatId],
    login: NewLogin,
    now: Millis,
) -> Decision {
    let own;
    let limits = match limits {
        Some(limits) => limits,
        None => {
            own = policy.limits();
            &own
        }
    };
    let chosen: Vec<SeatId> = live
        .iter()
        .map(|s| s.id)
        .filter(|id| chosen.contains(id))
        .collect();
    let rest: Vec<LiveSeat> = live.iter().filter(|s| !chosen.contains(&s.id)).cloned().collect();
    match decide(policy, limits, &rest, login, now) {
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

/// Decides `login` at `now` against the user's `live` seats under `limits`, with the
/// policy's `on_limit`: whom to end, whether to deny, or what to ask. The seats to end are
/// the fewest that make room: for each kind over its limit, its least recently used; then,
/// for the total, seats of the new login's kind before any other, least recently used
/// first. [`plan`] adds the user's choice.
pub fn decide(policy: &Policy, limits: &Limits, live: &[LiveSeat], login: NewLogin, now: Millis) -> Decision {
    let shares = |seat: &LiveSeat| {
        policy.same_ip_shares_seat
            && matches!((seat.client_ip, login.client_ip), (Some(a), Some(b)) if same_network(a, b))
    };
    let counted: Vec<&LiveSeat> = live.iter().filter(|seat| !shares(seat)).collect();
    // Which seats hold the limits, when none may end: none means there is room.
    let holding = room(&counted, Some(login.kind), limits, |_| false).short;
    if holding.is_empty() {
        return Decision::Admit { end: Vec::new() };
    }
    let ids = |seats: Vec<&LiveSeat>, reason: EndReason| seats.iter().map(|seat| (seat.id, reason)).collect();
    match policy.on_limit {
        OnLimit::KickOldest => Decision::Admit {
            end: ids(
                room(&counted, Some(login.kind), limits, |_| true).end,
                EndReason::Replaced,
            ),
        },
        OnLimit::DenyNew => {
            // Idle seats are abandoned logins: they expire to make room, active ones never.
            let idle_since = now.minus(policy.idle_after);
            let idle = |seat: &LiveSeat| seat.last_seen_at < idle_since;
            let made = room(&counted, Some(login.kind), limits, idle);
            if made.short.is_empty() {
                Decision::Admit {
                    end: ids(made.end, EndReason::Expired),
                }
            } else {
                Decision::Deny {
                    blocking: made
                        .short
                        .iter()
                        .filter(|seat| !idle(seat))
                        .map(|seat| seat.id)
                        .collect(),
                }
            }
        }
        OnLimit::Ask => Decision::Ask {
            candidates: holding.iter().map(|seat| seat.id).collect(),
        },
    }
}

/// The seats to end, least recently used first, when a user's limits were lowered to
/// `limits` and `live` are their seats: the fewest that bring every kind and the total
/// within them. Seats from one network count separately here, as there is no new login to
/// share with.
pub fn trim(limits: &Limits, live: &[LiveSeat]) -> Vec<SeatId> {
    let counted: Vec<&LiveSeat> = live.iter().collect();
    room(&counted, None, limits, |_| true)
        .end
        .iter()
        .map(|seat| seat.id)
        .collect()
}

/// What making room found: the seats to end, and the seats that hold a limit that could not
/// be made room under (empty when there is room).
struct Room<'a> {
    end: Vec<&'a LiveSeat>,
    short: Vec<&'a LiveSeat>,
}

/// Makes room under `limits` for a new seat of `new_kind` (or for none: a trim) among
/// `counted`, ending only seats that `may_end`.
fn room<'a>(
    counted: &[&'a LiveSeat],
    new_kind: Option<DeviceKind>,
    limits: &Limits,
    may_end: impl Fn(&LiveSeat) -> bool,
) -> Room<'a> {
    let Limits::AtMost {
        max_sessions,
        seat_limits,
    } = limits
    else {
        return Room {
            end: Vec::new(),
            short: Vec::new(),
        };
    };
    // Least recently used first; the id breaks ties so the outcome is deterministic.
    let mut by_use = counted.to_vec();
    by_use.sort_by_key(|seat| (seat.last_seen_at, seat.id));
    let mut end: Vec<&LiveSeat> = Vec::new();
    let mut short: Vec<&LiveSeat> = Vec::new();
    // Seats that must end for the kinds' sake, whether or not they may: the total counts
    // them as gone.
    let mut forced = 0;
    for (kind, limit) in seat_limits.iter() {
        let of_kind: Vec<&LiveSeat> = by_use.iter().copied().filter(|seat| seat.kind == kind).collect();
        let wanted = of_kind.len() + usize::from(new_kind == Some(kind));
        let excess = wanted.saturating_sub(limit as usize);
        let endable: Vec<&LiveSeat> = of_kind
            .iter()
            .copied()
            .filter(|seat| may_end(seat))
            .take(excess)
            .collect();
        if endable.len() < excess {
            short.extend(&of_kind);
        }
        forced += excess;
        end.extend(endable);
    }
    let stays = |seat: &&LiveSeat| !end.iter().any(|ended| ended.id == seat.id);
    let staying = by_use.len() - forced + usize::from(new_kind.is_some());
    let excess = staying.saturating_sub(*max_sessions as usize);
    if excess > 0 {
        let mut rest: Vec<&LiveSeat> = by_use.iter().copied().filter(stays).collect();
        // Stable: within each side, still least recently used first.
        rest.sort_by_key(|seat| new_kind.is_some_and(|kind| seat.kind != kind));
        let endable: Vec<&LiveSeat> = rest
            .iter()
            .copied()
            .filter(|seat| may_end(seat))
            .take(excess)
            .collect();
        if endable.len() < excess {
            short.extend(rest);
        }
        end.extend(endable);
    }
    short.sort_by_key(|seat| (seat.last_seen_at, seat.id));
    short.dedup_by_key(|seat| seat.id);
    Room { end, short }
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
            kind: DeviceKind::Computer,
        }
    }

    /// A computer's login from `ip`.
    fn from(ip: Option<IpAddr>) -> NewLogin {
        NewLogin {
            client_ip: ip,
            kind: DeviceKind::Computer,
        }
    }

    /// [`decide`] under the policy's own limits.
    fn decide(policy: &Policy, live: &[LiveSeat], ip: Option<IpAddr>, now: Millis) -> Decision {
        super::decide(policy, &policy.limits(), live, from(ip), now)
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
                    seat_limits: KindLimits::none(),
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
                    kind: DeviceKind::Computer,
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

        fn kinds() -> impl Strategy<Value = DeviceKind> {
            proptest::sample::select(DeviceKind::ALL.to_vec())
        }

        /// A total of 1 to 4, and a limit of 1 or 2 for some kinds.
        fn kind_limits() -> impl Strategy<Value = Limits> {
            (
                1u32..5,
                proptest::collection::vec(proptest::option::of(1u32..3), 4),
            )
                .prop_map(|(max_sessions, per_kind)| Limits::AtMost {
                    max_sessions,
                    seat_limits: KindLimits::of(
                        DeviceKind::ALL
                            .iter()
                            .zip(per_kind)
                            .filter_map(|(kind, n)| n.map(|n| (*kind, n))),
                    ),
                })
        }

        /// Up to 8 live seats of any kinds (possibly already above the limits, as after an
        /// operator lowered them), each last used at some minute.
        fn kinded_seats() -> impl Strategy<Value = Vec<LiveSeat>> {
            proptest::collection::vec((kinds(), 0i64..100), 0..8).prop_map(|seats| {
                seats
                    .into_iter()
                    .enumerate()
                    .map(|(i, (kind, minute))| LiveSeat {
                        id: SeatId(i as i64 + 1),
                        last_seen_at: Millis(minute * 60_000),
                        client_ip: None,
                        kind,
                    })
                    .collect()
            })
        }

        /// What staying after `end` (plus the new login, if any) counts: per kind, and in all.
        fn count(
            live: &[LiveSeat],
            end: &[SeatId],
            new: Option<DeviceKind>,
            kind: Option<DeviceKind>,
        ) -> usize {
            live.iter()
                .filter(|s| !end.contains(&s.id))
                .map(|s| s.kind)
                .chain(new)
                .filter(|k| kind.is_none_or(|kind| *k == kind))
                .count()
        }

        /// Checks the ends that made room under `limits` for `new` (or trimmed, for `None`):
        /// every kind and the total within their limits, no more ended than needed, the least
        /// recently used of each kind first, and (for a login) no seat of another kind ended
        /// beyond that kind's own excess while a seat of the new login's kind stays.
        /// Only seats that `may_end` count as ones that could have gone instead.
        fn check_room(
            live: &[LiveSeat],
            new: Option<DeviceKind>,
            limits: &Limits,
            end: &[SeatId],
            may_end: impl Fn(&LiveSeat) -> bool,
        ) -> Result<(), TestCaseError> {
            let Limits::AtMost { max_sessions, .. } = limits else {
                prop_assert!(end.is_empty());
                return Ok(());
            };
            prop_assert!(
                count(live, end, new, None) <= *max_sessions as usize,
                "total above the cap: {end:?}"
            );
            let mut forced = 0;
            for kind in DeviceKind::ALL.iter().copied() {
                let excess = limits.of_kind(kind).map_or(0, |limit| {
                    count(live, &[], new, Some(kind)).saturating_sub(limit as usize)
                });
                forced += excess;
                if let Some(limit) = limits.of_kind(kind) {
                    prop_assert!(
                        count(live, end, new, Some(kind)) <= limit as usize,
                        "{kind:?} above its limit: {end:?}"
                    );
                }
                let ended: Vec<&LiveSeat> = live
                    .iter()
                    .filter(|s| s.kind == kind && end.contains(&s.id))
                    .collect();
                for stays in live
                    .iter()
                    .filter(|s| s.kind == kind && !end.contains(&s.id) && may_end(s))
                {
                    for gone in &ended {
                        prop_assert!(
                            (gone.last_seen_at, gone.id) < (stays.last_seen_at, stays.id),
                            "{gone:?} ended before the older {stays:?}"
                        );
                    }
                }
                if let Some(new) = new.filter(|new| *new != kind) {
                    if live
                        .iter()
                        .any(|s| s.kind == new && !end.contains(&s.id) && may_end(s))
                    {
                        prop_assert!(
                            ended.len() <= excess,
                            "ended a {kind:?} while a {new:?} could go: {end:?}"
                        );
                    }
                }
            }
            let needed =
                forced.max((live.len() + usize::from(new.is_some())).saturating_sub(*max_sessions as usize));
            prop_assert_eq!(end.len(), needed, "not the fewest ends");
            Ok(())
        }

        proptest! {
            #[test]
            fn kick_oldest_makes_the_least_room_per_kind(live in kinded_seats(), new in kinds(), limits in kind_limits()) {
                let login = NewLogin { client_ip: None, kind: new };
                let Decision::Admit { end } = super::super::decide(&Policy::default(), &limits, &live, login, Millis(0)) else {
                    return Err(TestCaseError::fail("kick_oldest always admits"));
                };
                prop_assert!(end.iter().all(|(_, reason)| *reason == EndReason::Replaced));
                let end: Vec<SeatId> = end.into_iter().map(|(id, _)| id).collect();
                check_room(&live, Some(new), &limits, &end, |_| true)?;
            }

            #[test]
            fn trimming_to_lowered_limits_ends_the_fewest(live in kinded_seats(), limits in kind_limits()) {
                check_room(&live, None, &limits, &trim(&limits, &live), |_| true)?;
                prop_assert!(trim(&Limits::Unlimited, &live).is_empty());
            }

            #[test]
            fn unlimited_admits_everything(live in kinded_seats(), new in kinds(), on_limit in proptest::sample::select(OnLimit::ALL.to_vec())) {
                let policy = Policy { on_limit, ..Policy::default() };
                let login = NewLogin { client_ip: None, kind: new };
                prop_assert_eq!(super::super::decide(&policy, &Limits::Unlimited, &live, login, Millis(0)), Decision::Admit { end: vec![] });
            }

            /// Under `deny_new`, only idle seats end, and a refusal names active seats only.
            /// Under `ask`, ending every seat offered makes room.
            #[test]
            fn deny_and_ask_with_kinds(live in kinded_seats(), new in kinds(), limits in kind_limits()) {
                let login = NewLogin { client_ip: None, kind: new };
                let now = Millis(100 * 60_000);
                let deny = Policy { on_limit: OnLimit::DenyNew, idle_after: Duration::from_secs(50 * 60), ..Policy::default() };
                let idle_since = now.minus(deny.idle_after);
                match super::super::decide(&deny, &limits, &live, login, now) {
                    Decision::Admit { end } => {
                        let end: Vec<SeatId> = end.into_iter().map(|(id, _)| id).collect();
                        for id in &end {
                            prop_assert!(live.iter().any(|s| s.id == *id && s.last_seen_at < idle_since));
                        }
                        check_room(&live, Some(new), &limits, &end, |s| s.last_seen_at < idle_since)?;
                    }
                    Decision::Deny { blocking } => {
                        prop_assert!(!blocking.is_empty());
                        for id in &blocking {
                            prop_assert!(live.iter().any(|s| s.id == *id && s.last_seen_at >= idle_since));
                        }
                    }
                    Decision::Ask { .. } => prop_assert!(false, "deny_new never asks"),
                }
                let ask = Policy { on_limit: OnLimit::Ask, ..Policy::default() };
                if let Decision::Ask { candidates } = super::super::decide(&ask, &limits, &live, login, now) {
                    let admitted = plan(&ask, Some(&limits), &live, &candidates, login, now);
                    prop_assert!(matches!(admitted, Decision::Admit { .. }), "{:?}", admitted);
                }
            }

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
                    kind: DeviceKind::Computer,
                }).collect();
                let chosen: Vec<SeatId> = live.iter().zip(&chosen_mask).filter(|(_, c)| **c).map(|(s, _)| s.id).collect();
                let new_ip = ip(&format!("10.0.0.{new_ip}"));
                let limit = user_limit.unwrap_or(max) as usize;
                let shares = |s: &LiveSeat| share && s.client_ip == new_ip;
                let user_limits = user_limit.map(Limits::at_most);
                match plan(&policy, user_limits.as_ref(), &live, &chosen, from(new_ip), Millis(100)) {
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
