//! User-facing messages in Korean and English, chosen by `Accept-Language`.

use single_login::seats::{EndReason, Ended, EndedSeat, SeatInfo};
use single_login::Millis;

use crate::models::{HistoryView, LocalPath, SessionMark, SessionView, Toast, ToastKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ko,
}

impl Lang {
    /// Picks the preferred of the languages we have, honouring q-values; English otherwise.
    /// A malformed header is read as far as it makes sense and never fails.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::En;
        };
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',').take(32) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if !(q > 0.0 && q <= 1.0) {
                continue;
            }
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "ko" => Lang::Ko,
                "en" => Lang::En,
                _ => continue,
            };
            if best.is_none_or(|(best_q, _)| q > best_q) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }
}

pub const KICKED_KO: &str =
    "동일 아이디로 다른 브라우저 웹사이트에서 로그인이 감지되어, 강제 로그아웃되었습니다.";
pub const KICKED_EN: &str = "You were signed out because your account signed in from another browser.";

/// The toast for a browser whose seat has ended, or `None` where no message is due (a
/// session that logged out itself).
pub fn session_ended(lang: Lang, ended: &Ended, now: Millis) -> Option<Toast> {
    let toast = match ended.reason {
        EndReason::LoggedOut => return None,
        EndReason::Replaced => {
            let title = match lang {
                Lang::Ko => KICKED_KO,
                Lang::En => KICKED_EN,
            };
            let toast = Toast::new(ToastKind::Warning, title);
            let toast = match &ended.replaced_by {
                Some(newer) => toast.with_detail(newer_login(lang, newer, now)),
                None => toast,
            };
            // After logging in again, /sessions shows the newer login and how to lock it out.
            let next = match &ended.replaced_by {
                Some(newer) => LocalPath::sessions_marked(SessionMark::Highlight, newer.id.0),
                None => LocalPath::sessions(),
            };
            toast.with_link(
                match lang {
                    Lang::Ko => "본인이 아닌가요? 계정 보호하기",
                    Lang::En => "Not you? Secure your account",
                },
                LocalPath::login_then(&next),
            )
        }
        EndReason::Revoked if ended.ended_by.is_none() => Toast::new(
            ToastKind::Warning,
            match lang {
                Lang::Ko => "관리자가 이 계정을 로그아웃했습니다.",
                Lang::En => "You were signed out by an administrator.",
            },
        ),
        EndReason::Revoked => Toast::new(
            ToastKind::Warning,
            match lang {
                Lang::Ko => "계정의 다른 세션에서 이 세션을 로그아웃했습니다.",
                Lang::En => {
                    "You were signed out: this session was ended from another session of your account."
                }
            },
        ),
        EndReason::Expired => Toast::new(
            ToastKind::Info,
            match lang {
                Lang::Ko => "세션이 만료되어 로그아웃되었습니다. 다시 로그인해 주세요.",
                Lang::En => "Your session expired. Please log in again.",
            },
        ),
    };
    Some(toast)
}

pub const NEW_LOGIN_KO: &str = "다른 브라우저에서 이 계정으로 로그인했습니다.";
pub const NEW_LOGIN_EN: &str = "Your account just signed in from another browser.";

/// The alert for an open page of the user when another login of theirs begins and this one
/// stays (a limit above one, or a shared IP): says where, and how to lock it out.
pub fn new_login_elsewhere(lang: Lang, newer: &SeatInfo, now: Millis) -> Toast {
    Toast::new(
        ToastKind::Info,
        match lang {
            Lang::Ko => NEW_LOGIN_KO,
            Lang::En => NEW_LOGIN_EN,
        },
    )
    .with_detail(newer_login(lang, newer, now))
    .with_link(
        match lang {
            Lang::Ko => "본인이 아닌가요? 세션 확인하기",
            Lang::En => "Not you? Review your sessions",
        },
        LocalPath::sessions_marked(SessionMark::Review, newer.id.0),
    )
}

/// "New login 2 minutes ago from 203.0.113.9, Chrome on Linux"
fn newer_login(lang: Lang, seat: &SeatInfo, now: Millis) -> String {
    let when = relative_time(lang, seat.created_at, now);
    let ip = seat.client_ip.as_deref().unwrap_or(match lang {
        Lang::Ko => "알 수 없는 IP",
        Lang::En => "an unknown IP",
    });
    let device = describe_user_agent(lang, seat.user_agent.as_deref());
    match lang {
        Lang::Ko => format!("새 로그인: {when}, {ip}, {device}"),
        Lang::En => format!("New login {when} from {ip}, {device}"),
    }
}

pub fn relative_time(lang: Lang, then: Millis, now: Millis) -> String {
    let seconds = (now.0 - then.0).max(0) / 1000;
    let (n, unit_en, unit_ko) = match seconds {
        0..=59 => {
            return match lang {
                Lang::Ko => "방금 전".to_owned(),
                Lang::En => "just now".to_owned(),
            }
        }
        60..=3599 => (seconds / 60, "minute", "분"),
        3600..=86_399 => (seconds / 3600, "hour", "시간"),
        _ => (seconds / 86_400, "day", "일"),
    };
    match lang {
        Lang::Ko => format!("{n}{unit_ko} 전"),
        Lang::En => format!("{n} {unit_en}{} ago", if n == 1 { "" } else { "s" }),
    }
}

/// "Chrome on Linux", from the user agent; a short fallback when it tells nothing.
pub fn describe_user_agent(lang: Lang, user_agent: Option<&str>) -> String {
    let unknown = match lang {
        Lang::Ko => "알 수 없는 브라우저",
        Lang::En => "unknown browser",
    };
    let parser = woothee::parser::Parser::new();
    let Some(parsed) = user_agent.and_then(|ua| parser.parse(ua)) else {
        return unknown.to_owned();
    };
    let known = |s: &str| !s.is_empty() && s != "UNKNOWN";
    let browser = known(parsed.name).then_some(parsed.name);
    let os = known(parsed.os).then_some(parsed.os);
    match (browser, os, lang) {
        (Some(b), Some(o), Lang::Ko) => format!("{o}의 {b}"),
        (Some(b), Some(o), Lang::En) => format!("{b} on {o}"),
        (Some(b), None, _) => b.to_owned(),
        (None, Some(o), _) => o.to_owned(),
        (None, None, _) => unknown.to_owned(),
    }
}

/// A seat as a list shows it.
pub fn session_view(lang: Lang, seat: &SeatInfo, now: Millis, current: bool) -> SessionView {
    SessionView {
        id: seat.id.0,
        device: describe_user_agent(lang, seat.user_agent.as_deref()),
        ip: seat.client_ip.clone().unwrap_or_else(|| "-".to_owned()),
        signed_in: relative_time(lang, seat.created_at, now),
        last_active: relative_time(lang, seat.last_seen_at, now),
        current,
    }
}

/// An ended seat in the user's history: how it ended, in words.
pub fn history_view(lang: Lang, ended: &EndedSeat, now: Millis) -> HistoryView {
    let seat = &ended.seat;
    let how = match (ended.ended.reason, lang) {
        (EndReason::Replaced, _) => match &ended.ended.replaced_by {
            Some(newer) => {
                let ip = newer.client_ip.as_deref().unwrap_or("-");
                let device = describe_user_agent(lang, newer.user_agent.as_deref());
                match lang {
                    Lang::Ko => format!("{ip}({device})의 로그인으로 대체됨"),
                    Lang::En => format!("Replaced by a login from {ip} ({device})"),
                }
            }
            None => match lang {
                Lang::Ko => "다른 로그인으로 대체됨".to_owned(),
                Lang::En => "Replaced by another login".to_owned(),
            },
        },
        (EndReason::LoggedOut, Lang::Ko) => "로그아웃함".to_owned(),
        (EndReason::LoggedOut, Lang::En) => "Logged out".to_owned(),
        (EndReason::Revoked, Lang::Ko) if ended.ended.ended_by.is_none() => "관리자가 로그아웃함".to_owned(),
        (EndReason::Revoked, Lang::En) if ended.ended.ended_by.is_none() => {
            "Signed out by an operator".to_owned()
        }
        (EndReason::Revoked, Lang::Ko) => "다른 세션에서 로그아웃함".to_owned(),
        (EndReason::Revoked, Lang::En) => "Signed out from another session".to_owned(),
        (EndReason::Expired, Lang::Ko) => "만료됨".to_owned(),
        (EndReason::Expired, Lang::En) => "Expired".to_owned(),
    };
    HistoryView {
        id: seat.id.0,
        device: describe_user_agent(lang, seat.user_agent.as_deref()),
        ip: seat.client_ip.clone().unwrap_or_else(|| "-".to_owned()),
        signed_in: relative_time(lang, seat.created_at, now),
        ended: relative_time(lang, ended.ended.at, now),
        how,
        replaced_by: ended.ended.replaced_by.as_ref().map(|s| s.id.0),
    }
}

pub fn password_changed(lang: Lang, others: u64) -> Toast {
    Toast::new(
        ToastKind::Success,
        match lang {
            Lang::Ko => format!("비밀번호를 바꿨습니다. 다른 세션 {others}개를 로그아웃했습니다."),
            Lang::En => {
                format!("Your password was changed. {others} other session(s) were signed out.")
            }
        },
    )
}

pub fn sessions_ended(lang: Lang, count: u64) -> Toast {
    Toast::new(
        ToastKind::Success,
        match lang {
            Lang::Ko => format!("세션 {count}개를 로그아웃했습니다."),
            Lang::En => format!("Signed out {count} session(s)."),
        },
    )
}

pub fn signed_out(lang: Lang) -> Toast {
    Toast::new(
        ToastKind::Success,
        match lang {
            Lang::Ko => "로그아웃되었습니다.",
            Lang::En => "You have been signed out.",
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_highest_q() {
        assert_eq!(
            Lang::from_accept_language(Some("ko-KR,ko;q=0.9,en;q=0.8")),
            Lang::Ko
        );
        assert_eq!(Lang::from_accept_language(Some("en;q=0.9, ko;q=0.5")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("fr-FR, ko;q=0.1")), Lang::Ko);
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some(";;;,q=,ko;q=abc")), Lang::Ko);
        assert_eq!(Lang::from_accept_language(None), Lang::En);
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = Millis(10_000_000);
        assert_eq!(relative_time(Lang::En, Millis(9_990_000), now), "just now");
        assert_eq!(
            relative_time(Lang::En, Millis(10_000_000 - 60_000), now),
            "1 minute ago"
        );
        assert_eq!(
            relative_time(Lang::Ko, Millis(10_000_000 - 7_200_000), now),
            "2시간 전"
        );
    }

    #[test]
    fn user_agents_become_browser_and_os() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(describe_user_agent(Lang::En, Some(chrome)), "Chrome on Linux");
        assert_eq!(describe_user_agent(Lang::En, Some("curl/8.0")), "HTTP Library");
        assert_eq!(describe_user_agent(Lang::En, Some("")), "unknown browser");
        assert_eq!(describe_user_agent(Lang::En, None), "unknown browser");
    }
}
