//! The messages the server puts into words for a page, a toast or the live channel, in the
//! reader's language (`crate::lang`): why a session ended, a new login elsewhere, sessions and
//! their history. The words themselves are in the catalogue (`locales/*.json`).

use leptos_i18n::td_string;
use single_login::seats::{EndReason, Ended, EndedSeat, SeatInfo};
use single_login::Millis;

use crate::lang::{self, Locale};
use crate::models::{HistoryView, LocalPath, SessionMark, SessionView, Toast, ToastKind, When};

/// The toast for a browser whose seat has ended, or `None` where no message is due (a
/// session that logged out itself).
pub fn session_ended(lang: Locale, ended: &Ended, now: Millis) -> Option<Toast> {
    let toast = match ended.reason {
        EndReason::LoggedOut => return None,
        EndReason::Replaced => {
            let toast = Toast::new(ToastKind::Warning, td_string!(lang, kicked));
            let toast = match &ended.replaced_by {
                Some(newer) => toast.with_detail(newer_login(lang, newer, now)),
                None => toast,
            };
            // After logging in again, /sessions shows the newer login and how to lock it out.
            let next = match &ended.replaced_by {
                Some(newer) => LocalPath::sessions_marked(SessionMark::Highlight, newer.id.0),
                None => LocalPath::sessions(),
            };
            toast.with_link(td_string!(lang, not_you_secure), LocalPath::login_then(&next))
        }
        EndReason::Revoked if ended.ended_by.is_none() => {
            Toast::new(ToastKind::Warning, td_string!(lang, revoked_by_operator))
        }
        EndReason::Revoked => Toast::new(ToastKind::Warning, td_string!(lang, revoked_by_user)),
        EndReason::Expired => Toast::new(ToastKind::Info, td_string!(lang, expired)),
    };
    Some(toast)
}

/// The alert for an open page of the user when another login of theirs begins and this one
/// stays (a limit above one, or a shared IP): says where, and how to lock it out.
pub fn new_login_elsewhere(lang: Locale, newer: &SeatInfo, now: Millis) -> Toast {
    Toast::new(ToastKind::Info, td_string!(lang, new_login_elsewhere))
        .with_detail(newer_login(lang, newer, now))
        .with_link(
            td_string!(lang, not_you_review),
            LocalPath::sessions_marked(SessionMark::Review, newer.id.0),
        )
}

/// "New login 2 minutes ago from 203.0.113.9, Chrome on Linux"
fn newer_login(lang: Locale, seat: &SeatInfo, now: Millis) -> String {
    let when = relative_time(lang, seat.created_at, now);
    let ip = seat.client_ip.as_deref().unwrap_or(td_string!(lang, unknown_ip));
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
        EndReason::Revoked if ended.ended.ended_by.is_none() => {
            td_string!(lang, history_revoked_by_operator).to_owned()
        }
        EndReason::Revoked => td_string!(lang, history_revoked_by_user).to_owned(),
        EndReason::Expired => td_string!(lang, history_expired).to_owned(),
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
    fn the_seed_sentence_is_kept_word_for_word() {
        let toast = session_ended(
            Locale::ko,
            &Ended {
                reason: EndReason::Replaced,
                at: Millis(0),
                replaced_by: None,
                ended_by: None,
            },
            Millis(0),
        )
        .unwrap();
        assert_eq!(
            toast.title,
            "동일 아이디로 다른 브라우저 웹사이트에서 로그인이 감지되어, 강제 로그아웃되었습니다."
        );
    }
}
