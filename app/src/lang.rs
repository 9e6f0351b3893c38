//! The reader's language: which one a request gets, and the messages the catalogue
//! (`locales/*.json`, compiled by `build.rs`) cannot say alone (times, dates, counts).
//!
//! The server chooses once per request (the `lang` cookie the language switch sets, then
//! `Accept-Language`) and renders `<html lang>` with it; the browser reads it back from there
//! when hydrating, so both sides render the same words. A switch reloads the page.

use leptos::prelude::*;
use leptos_i18n::td_string;

pub use crate::i18n::Locale;

/// The cookie that remembers the language the reader chose.
pub const LANG_COOKIE: &str = "lang";

/// The language of the page being rendered.
pub fn locale() -> Locale {
    use_context::<Locale>().unwrap_or_default()
}

/// A page's `<title>`: its own name, then the site's. Each page formats its own (rather than
/// one `<Title formatter>` for all): one title component per page instead of two.
pub fn title(locale: Locale, page: &str) -> String {
    td_string!(locale, page_title, page).to_string()
}

/// Makes [`locale`] answer `locale` for this page.
pub fn provide(locale: Locale) {
    provide_context(locale);
}

/// The document's language, on the browser (what the server rendered it in).
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub fn document_locale() -> Locale {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|lang| parse(&lang))
        .unwrap_or_default()
}

/// A language by its code (`en`, `ko`), as the switch and the cookie write it.
pub fn parse(code: &str) -> Option<Locale> {
    code.parse().ok()
}

/// The code of a language (`en`, `ko`): [`parse`] reads it back.
pub fn code(locale: Locale) -> &'static str {
    leptos_i18n::Locale::as_str(locale)
}

/// Every language the catalogue has.
pub fn all() -> &'static [Locale] {
    <Locale as leptos_i18n::Locale>::get_all()
}

/// The language of a request: the reader's choice (the cookie) if it names one we have,
/// then `Accept-Language`. On the server, which reads cookies as the library does.
#[cfg(feature = "ssr")]
pub fn of_request(cookie_header: Option<&str>, accept_language: Option<&str>) -> Locale {
    single_login::web::cookies::cookie_value(cookie_header, LANG_COOKIE)
        .and_then(parse)
        .unwrap_or_else(|| from_accept_language(accept_language))
}

/// Picks the preferred of the languages we have, honouring q-values; English otherwise.
/// A malformed header is read as far as it makes sense and never fails.
pub fn from_accept_language(header: Option<&str>) -> Locale {
    let Some(header) = header else {
        return Locale::default();
    };
    let mut best: Option<(f32, Locale)> = None;
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
        // "ko-KR" and "ko" alike; a language we do not have is passed over.
        let Some(locale) = tag.split('-').next().and_then(parse) else {
            continue;
        };
        if best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, locale));
        }
    }
    best.map_or(Locale::default(), |(_, locale)| locale)
}

/// "3 minutes ago", "방금 전": how long before `now` (both in milliseconds) `then` was.
pub fn relative_time(locale: Locale, then: i64, now: i64) -> String {
    let seconds = (now - then).max(0) / 1000;
    match seconds {
        0..=59 => td_string!(locale, just_now).to_owned(),
        60..=119 => td_string!(locale, minutes_ago_1).to_owned(),
        120..=3599 => td_string!(locale, minutes_ago_n, n = seconds / 60).to_string(),
        3600..=7199 => td_string!(locale, hours_ago_1).to_owned(),
        7200..=86_399 => td_string!(locale, hours_ago_n, n = seconds / 3600).to_string(),
        86_400..=172_799 => td_string!(locale, days_ago_1).to_owned(),
        _ => td_string!(locale, days_ago_n, n = seconds / 86_400).to_string(),
    }
}

/// "Nov 30, 2026, 7:27 PM UTC", "2026년 11월 30일 오후 7:27 (UTC)": a moment (milliseconds
/// since the epoch) as the reader's language writes it. The server does not know the
/// reader's time zone, so the time is UTC and says so.
pub fn date_time(locale: Locale, at: i64) -> String {
    let (year, month, day, hour, minute) = civil(at);
    let months = td_string!(locale, month_names);
    let month = months.split(' ').nth(month as usize - 1).unwrap_or_default();
    let minute = format!("{minute:02}");
    let hour12 = match hour % 12 {
        0 => 12,
        h => h,
    };
    let time = if hour < 12 {
        td_string!(locale, time_am, hour = hour12, minute).to_string()
    } else {
        td_string!(locale, time_pm, hour = hour12, minute).to_string()
    };
    td_string!(locale, date_time, year, month, day, time).to_string()
}

/// `2026-11-30T19:27:00Z`, for `<time datetime>`.
/// "14:00": the hour of a moment, UTC (the console's chart).
pub fn hour_of_day(at: i64) -> String {
    let (_, _, _, hour, _) = civil(at);
    format!("{hour:02}:00")
}

pub fn iso(at: i64) -> String {
    let (year, month, day, hour, minute) = civil(at);
    let second = at.div_euclid(1000).rem_euclid(60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// Year, month, day, hour and minute (UTC) of a moment in milliseconds since the epoch
/// (Howard Hinnant's `civil_from_days`).
fn civil(at: i64) -> (i64, u32, u32, u32, u32) {
    let seconds = at.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (in_day / 3600) as u32,
        (in_day % 3600 / 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_highest_q() {
        assert_eq!(from_accept_language(Some("ko-KR,ko;q=0.9,en;q=0.8")), Locale::ko);
        assert_eq!(from_accept_language(Some("en;q=0.9, ko;q=0.5")), Locale::en);
        assert_eq!(from_accept_language(Some("fr-FR, ko;q=0.1")), Locale::ko);
        assert_eq!(from_accept_language(Some("de")), Locale::en);
        assert_eq!(from_accept_language(Some(";;;,q=,ko;q=abc")), Locale::ko);
        assert_eq!(from_accept_language(Some("ko;q=0")), Locale::en);
        assert_eq!(from_accept_language(None), Locale::en);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_cookie_wins_over_the_header_when_it_names_a_language() {
        assert_eq!(of_request(Some("id=1; lang=ko"), Some("en")), Locale::ko);
        assert_eq!(of_request(Some("lang=en"), Some("ko-KR")), Locale::en);
        assert_eq!(of_request(Some("lang=xx; a=b"), Some("ko")), Locale::ko);
        assert_eq!(of_request(Some("xlang=ko"), None), Locale::en);
        assert_eq!(of_request(Some("=;;=;lang"), None), Locale::en);
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = 10_000_000_000;
        assert_eq!(relative_time(Locale::en, now - 10_000, now), "just now");
        assert_eq!(relative_time(Locale::en, now - 60_000, now), "1 minute ago");
        assert_eq!(relative_time(Locale::en, now - 180_000, now), "3 minutes ago");
        assert_eq!(relative_time(Locale::en, now - 86_400_000, now), "1 day ago");
        assert_eq!(relative_time(Locale::en, now - 3 * 86_400_000, now), "3 days ago");
        assert_eq!(relative_time(Locale::en, now - 3_600_000, now), "1 hour ago");
        assert_eq!(relative_time(Locale::ko, now - 7_200_000, now), "2시간 전");
        assert_eq!(relative_time(Locale::ko, now + 5_000, now), "방금 전");
    }

    #[test]
    fn dates_follow_the_language() {
        // 2026-11-30 19:27:05 UTC
        let at = 1_796_066_825_000;
        assert_eq!(iso(at), "2026-11-30T19:27:05Z");
        assert_eq!(date_time(Locale::en, at), "Nov 30, 2026, 7:27 PM UTC");
        assert_eq!(date_time(Locale::ko, at), "2026년 11월 30일 오후 7:27 (UTC)");
        assert_eq!(date_time(Locale::en, 0), "Jan 1, 1970, 12:00 AM UTC");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
