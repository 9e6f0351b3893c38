//! The messages the server puts into words for a page, a toast or the live channel, in the
//! reader's language (`crate::lang`): why a session ended, a new login elsewhere, sessions and
//! their history. The words themselves are in the catalogue (`locales/*.json`).

use std::net::IpAddr;

use leptos_i18n::td_string;
use single_login::seats::{EndReason, Ended, EndedBy, EndedSeat, SeatInfo};
use single_login::throttle::lane_network;
use single_login::{DeviceKind, Limits, Millis};

use crate::lang::{self, Locale};
use crate::models::{HistoryView, LocalPath, SessionMark, SessionView, Toast, ToastKind, When};

/// The toast for a browser whose seat `seat` has ended, or `None` where no message is due (a
/// session that logged out itself). `viewer` is the address of the browser reading it: the
/// newer login's address is shown only as coarsely as [`coarse_network`] says, since the
/// reader may be the thief the owner just locked out.
pub fn session_ended(
    lang: Locale,
    seat: single_login::SeatId,
    ended: &Ended,
    now: Millis,
    viewer: Option<IpAddr>,
) -> Option<Toast> {
    let toast = match ended.reason {
        EndReason::LoggedOut => return None,
        EndReason::Replaced => {
            let toast = Toast::new(ToastKind::Warning, td_string!(lang, kicked));
            let toast = match &ended.replaced_by {
                Some(newer) => {
                    let detail = newer_login(lang, newer, now, viewer);
                    match replaced_by_kind(lang, newer.kind) {
                        Some(kind) => toast.with_detail(format!("{kind} {detail}")),
                        None => toast.with_detail(detail),
                    }
                }
                None => toast,
            };
            // After logging in again, /sessions shows the newer login and how to lock it out.
            let next = match &ended.replaced_by {
                Some(newer) => LocalPath::sessions_marked(SessionMark::Highlight, newer.id.0),
                None => LocalPath::sessions(),
            };
            toast.with_link(td_string!(lang, not_you_secure), LocalPath::login_then(&next))
        }
        EndReason::Revoked if ended.ended_by == Some(EndedBy::Operator) => {
            Toast::new(ToastKind::Warning, td_string!(lang, revoked_by_operator))
        }
        // Ended by itself: it failed its password confirmations too often.
        EndReason::Revoked if ended.ended_by == Some(EndedBy::Session(seat)) => revoked_after_failures(lang),
        EndReason::Revoked => Toast::new(ToastKind::Warning, td_string!(lang, revoked_by_user)),
        EndReason::Expired => Toast::new(ToastKind::Info, td_string!(lang, expired)),
        EndReason::LimitLowered => Toast::new(ToastKind::Warning, td_string!(lang, limit_lowered)),
    };
    Some(toast)
}

/// "A login from another phone replaced this one."; `None` for a device of no known kind.
fn replaced_by_kind(lang: Locale, kind: DeviceKind) -> Option<&'static str> {
    match kind {
        DeviceKind::Computer => Some(td_string!(lang, replaced_by_computer)),
        DeviceKind::Phone => Some(td_string!(lang, replaced_by_phone)),
        DeviceKind::Tablet => Some(td_string!(lang, replaced_by_tablet)),
        DeviceKind::Other => None,
    }
}

/// "Phone", "휴대폰".
pub fn kind_label(lang: Locale, kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Computer => td_string!(lang, kind_computer),
        DeviceKind::Phone => td_string!(lang, kind_phone),
        DeviceKind::Tablet => td_string!(lang, kind_tablet),
        DeviceKind::Other => td_string!(lang, kind_other),
    }
}

/// How much of their limits the user's `live` seats use: "Computer 1/1 · Phone 1/1 · All
/// 2/2", per kind that has a limit, then the total.
pub fn usage(lang: Locale, limits: &Limits, live: &[SeatInfo]) -> String {
    let Some(max) = limits.max_sessions() else {
        return td_string!(lang, usage_unlimited).to_owned();
    };
    let mut parts: Vec<String> = DeviceKind::ALL
        .iter()
        .filter_map(|kind| {
            let limit = limits.of_kind(*kind)?;
            let used = live.iter().filter(|seat| seat.kind == *kind).count();
            Some(td_string!(lang, usage_kind, kind = kind_label(lang, *kind), used, limit).to_string())
        })
        .collect();
    parts.push(td_string!(lang, usage_total, used = live.len(), limit = max).to_string());
    parts.join(" · ")
}

/// For a session that ended itself by failing its password confirmations too often: at
/// once to its own call, and later from its seat.
pub fn revoked_after_failures(lang: Locale) -> Toast {
    Toast::new(ToastKind::Warning, td_string!(lang, revoked_after_failures))
}

/// Where a login came from, as much as a browser that is not signed in to the account may
/// know: "this network" when it is the reader's own (its /24 or /48), otherwise the IPv4
/// address without its last part ("203.0.113.x") or the IPv6 /48. The full address is on
/// `/sessions`, for the signed-in owner.
pub fn coarse_network(lang: Locale, ip: Option<&str>, viewer: Option<IpAddr>) -> String {
    let Some(ip) = ip.and_then(|ip| ip.parse::<IpAddr>().ok()) else {
        return td_string!(lang, unknown_ip).to_owned();
    };
    if viewer.is_some_and(|viewer| lane_network(Some(viewer)) == lane_network(Some(ip))) {
        return td_string!(lang, this_network).to_owned();
    }
    match ip.to_canonical() {
        IpAddr::V4(ip) => {
            let [a, b, c, _] = ip.octets();
            format!("{a}.{b}.{c}.x")
        }
        IpAddr::V6(_) => lane_network(Some(ip)),
    }
}

/// The alert for an open page of the user when another login of theirs begins and this one
/// stays (a limit above one, or a shared IP): says where, and how to lock it out.
pub fn new_login_elsewhere(lang: Locale, newer: &SeatInfo, now: Millis, viewer: Option<IpAddr>) -> Toast {
    Toast::new(ToastKind::Info, td_string!(lang, new_login_elsewhere))
        .with_detail(newer_login(lang, newer, now, viewer))
        .with_link(
            td_string!(lang, not_you_review),
            LocalPath::sessions_marked(SessionMark::Review, newer.id.0),
        )
}

/// "New login 2 minutes ago from 203.0.113.x, Chrome on Linux"
fn newer_login(lang: Locale, seat: &SeatInfo, now: Millis, viewer: Option<IpAddr>) -> String {
    let when = relative_time(lang, seat.created_at, now);
    let ip = coarse_network(lang, seat.client_ip.as_deref(), viewer);
    let device = describe_user_agent(lang, seat.user_agent.as_deref());
    td_string!(lang, new_login_detail, when, ip, device).to_string()
}

pub fn relative_time(lang: Locale, then: Millis, now: Millis) -> String {
    lang::relative_time(lang, then.0, now.0)
}

fn when(lang: Locale, then: Millis, now: Millis) -> When {
    When {
        relative: relative_time(lang, then, now),
        absolute: lang::date_time(lang, then.0),
        iso: lang::iso(then.0),
    }
}

/// "Chrome on Linux", from the user agent; a short fallback when it tells nothing. (The
/// names of browsers and systems are names, the same in every language.)
pub fn describe_user_agent(lang: Locale, user_agent: Option<&str>) -> String {
    let unknown = td_string!(lang, unknown_browser);
    let parser = woothee::parser::Parser::new();
    let Some(parsed) = user_agent.and_then(|ua| parser.parse(ua)) else {
        return unknown.to_owned();
    };
    let known = |s: &str| !s.is_empty() && s != "UNKNOWN";
    let browser = known(parsed.name).then_some(parsed.name);
    let os = known(parsed.os).then_some(parsed.os);
    match (browser, os) {
        (Some(browser), Some(os)) => td_string!(lang, browser_on_os, browser, os).to_string(),
        (Some(b), None) => b.to_owned(),
        (None, Some(o)) => o.to_owned(),
        (None, None) => unknown.to_owned(),
    }
}

/// A seat as a list shows it.
pub fn session_view(lang: Locale, seat: &SeatInfo, now: Millis, current: bool) -> SessionView {
    SessionView {
        id: seat.id.0,
        device: describe_user_agent(lang, seat.user_agent.as_deref()),
        kind: kind_label(lang, seat.kind).to_owned(),
        ip: seat.client_ip.clone().unwrap_or_else(|| "-".to_owned()),
        signed_in: when(lang, seat.created_at, now),
        last_active: when(lang, seat.last_seen_at, now),
        current,
    }
}

/// An ended seat in the user's history: how it ended, in words.
pub fn history_view(lang: Locale, ended: &EndedSeat, now: Millis) -> HistoryView {
    let seat = &ended.seat;
    let how = match ended.ended.reason {
        EndReason::Replaced => match &ended.ended.replaced_by {
            Some(newer) => {
                let ip = newer.client_ip.as_deref().unwrap_or("-");
                let device = describe_user_agent(lang, newer.user_agent.as_deref());
                td_string!(lang, history_replaced_by, ip, device).to_string()
            }
            None => td_string!(lang, history_replaced).to_owned(),
        },
        EndReason::LoggedOut => td_string!(lang, history_logged_out).to_owned(),
        EndReason::Revoked if ended.ended.ended_by == Some(EndedBy::Operator) => {
            td_string!(lang, history_revoked_by_operator).to_owned()
        }
        EndReason::Revoked if ended.ended.ended_by == Some(EndedBy::Session(seat.id)) => {
            td_string!(lang, history_revoked_after_failures).to_owned()
        }
        EndReason::Revoked => td_string!(lang, history_revoked_by_user).to_owned(),
        EndReason::Expired => td_string!(lang, history_expired).to_owned(),
        EndReason::LimitLowered => td_string!(lang, history_limit_lowered).to_owned(),
    };
    HistoryView {
        id: seat.id.0,
        device: describe_user_agent(lang, seat.user_agent.as_deref()),
        ip: seat.client_ip.clone().unwrap_or_else(|| "-".to_owned()),
        signed_in: when(lang, seat.created_at, now),
        ended: when(lang, ended.ended.at, now),
        how,
        replaced_by: ended.ended.replaced_by.as_ref().map(|s| s.id.0),
    }
}

pub fn password_changed(lang: Locale, others: u64) -> Toast {
    let title = match others {
        1 => td_string!(lang, password_changed_1).to_string(),
        count => td_string!(lang, password_changed_n, count).to_string(),
    };
    Toast::new(ToastKind::Success, title)
}

pub fn sessions_ended(lang: Locale, count: u64) -> Toast {
    let title = match count {
        1 => td_string!(lang, sessions_ended_1).to_string(),
        count => td_string!(lang, sessions_ended_n, count).to_string(),
    };
    Toast::new(ToastKind::Success, title)
}

pub fn signed_out(lang: Locale) -> Toast {
    Toast::new(ToastKind::Success, td_string!(lang, signed_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_become_browser_and_os() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(describe_user_agent(Locale::en, Some(chrome)), "Chrome on Linux");
        assert_eq!(describe_user_agent(Locale::ko, Some(chrome)), "Linux의 Chrome");
        assert_eq!(describe_user_agent(Locale::en, Some("curl/8.0")), "HTTP Library");
        assert_eq!(describe_user_agent(Locale::en, Some("")), "unknown browser");
        assert_eq!(describe_user_agent(Locale::ko, None), "알 수 없는 브라우저");
    }

    #[test]
    fn the_kicked_side_sees_a_coarse_network_only() {
        let viewer = "198.51.100.7".parse().ok();
        assert_eq!(
            coarse_network(Locale::en, Some("203.0.113.77"), viewer),
            "203.0.113.x"
        );
        assert_eq!(
            coarse_network(Locale::en, Some("2001:db8:1:2:3:4:5:6"), viewer),
            "2001:db8:1::/48"
        );
        assert_eq!(
            coarse_network(Locale::en, Some("198.51.100.200"), viewer),
            "this network"
        );
        assert_eq!(
            coarse_network(Locale::ko, Some("198.51.100.200"), viewer),
            "이 네트워크"
        );
        assert_eq!(
            coarse_network(Locale::en, Some("::ffff:203.0.113.77"), None),
            "203.0.113.x"
        );
        assert_eq!(
            coarse_network(Locale::en, Some("nonsense"), None),
            "an unknown IP"
        );
        let newer = SeatInfo {
            id: single_login::SeatId(2),
            created_at: Millis(0),
            last_seen_at: Millis(0),
            client_ip: Some("203.0.113.77".into()),
            user_agent: None,
            kind: DeviceKind::Other,
        };
        let ended = Ended {
            reason: EndReason::Replaced,
            at: Millis(0),
            replaced_by: Some(newer),
            ended_by: None,
        };
        for lang in [Locale::en, Locale::ko] {
            let toast = session_ended(lang, single_login::SeatId(1), &ended, Millis(0), viewer).unwrap();
            let detail = toast.detail.unwrap();
            assert!(!detail.contains("203.0.113.77"), "{detail}");
            assert!(detail.contains("203.0.113.x"), "{detail}");
        }
    }

    #[test]
    fn the_seed_sentence_is_kept_word_for_word() {
        let toast = session_ended(
            Locale::ko,
            single_login::SeatId(1),
            &Ended {
                reason: EndReason::Replaced,
                at: Millis(0),
                replaced_by: None,
                ended_by: None,
            },
            Millis(0),
            None,
        )
        .unwrap();
        assert_eq!(
            toast.title,
            "동일 아이디로 다른 브라우저 웹사이트에서 로그인이 감지되어, 강제 로그아웃되었습니다."
        );
    }
}
