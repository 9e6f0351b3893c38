//! Device kinds and groups over HTTP: one phone and one computer, simultaneous logins of one
//! kind, an unlimited group, and a limit lowered under open pages.

use futures_util::future::join_all;
use single_login::{DeviceKind, EndReason, Limits};

use super::harness::*;
use testkit::on_both_backends;

const LIMIT_CHANGED_EN: &str = "You were signed out because your account's session limit changed.";
const REPLACED_BY_COMPUTER_EN: &str = "A login from another computer replaced this one.";
const REPLACED_BY_PHONE_KO: &str = "다른 휴대폰에서의 로그인이 이 세션을 대신했습니다.";

/// `max_sessions = 2`, `seat_limits = { phone = 1, computer = 1 }`.
fn phone_and_computer(s: &mut Settings) {
    s.max_sessions = 2;
    s.seat_limits = "phone=1,computer=1".parse().unwrap();
    s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

/// A browser that says it is `agent`, behind the trusted proxy, from `ip`.
fn browser(app: &TestApp, agent: &str, ip: &str, lang: &'static str) -> Browser {
    let mut headers = header::HeaderMap::new();
    headers.insert("x-forwarded-for", ip.parse().unwrap());
    app.browser_full(lang, headers, agent)
}

async fn live_kinds(app: &TestApp, name: &str) -> Vec<DeviceKind> {
    let user = user_id(app, name).await;
    let mut kinds: Vec<DeviceKind> = app
        .state
        .ctx
        .seats()
        .live(user)
        .await
        .unwrap()
        .into_iter()
        .map(|seat| seat.kind)
        .collect();
    kinds.sort();
    kinds
}

/// The toast detail of the login page `browser` was sent to.
async fn toast_detail(browser: &Browser) -> String {
    let (_, html) = browser.page("/login").await;
    let start = html.find("class=\"toast-detail\">").expect("a toast detail") + 21;
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

async fn a_phone_and_a_computer_each_keep_a_seat(db: TestDb) {
    let app = spawn_app_with(db, phone_and_computer).await;
    create_user(&app, "kim").await;
    let a = browser(&app, WINDOWS_CHROME, "203.0.113.1", "en");
    let b = browser(&app, IPHONE_SAFARI, "203.0.113.2", "ko");
    assert_redirect(&a.log_in("kim").await, "/");
    assert_redirect(&b.log_in("kim").await, "/");
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
    assert_eq!(b.get("/").await.status(), StatusCode::OK);

    // A computer replaces the computer; the phone stays.
    let c = browser(&app, LINUX_FIREFOX, "203.0.113.3", "en");
    assert_redirect(&c.log_in("kim").await, "/");
    assert_redirect(&a.get("/").await, "/login");
    let detail = toast_detail(&a).await;
    assert!(detail.starts_with(REPLACED_BY_COMPUTER_EN), "{detail}");
    assert_eq!(
        b.get("/").await.status(),
        StatusCode::OK,
        "the phone is untouched"
    );

    // The usage per kind, in each language.
    let page = sessions_of(&c).await;
    assert!(
        page.usage.starts_with("Computer 1/1 · Phone 1/1"),
        "{}",
        page.usage
    );
    let kinds: Vec<&str> = page.live.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["Computer", "Phone"]);
    let (_, html) = b.page("/sessions").await;
    assert!(html.contains("컴퓨터 1/1 · 휴대폰 1/1"), "{html}");

    // A second phone replaces the first, told so in Korean.
    let d = browser(&app, IPHONE_SAFARI, "203.0.113.4", "en");
    assert_redirect(&d.log_in("kim").await, "/");
    assert_redirect(&b.get("/").await, "/login");
    let detail = toast_detail(&b).await;
    assert!(detail.starts_with(REPLACED_BY_PHONE_KO), "{detail}");
    assert_eq!(c.get("/").await.status(), StatusCode::OK);
    assert_eq!(
        live_kinds(&app, "kim").await,
        [DeviceKind::Computer, DeviceKind::Phone]
    );
}

async fn simultaneous_computer_logins_leave_one_computer_beside_the_phone(db: TestDb) {
    let app = spawn_app_with(db, phone_and_computer).await;
    create_user(&app, "lee").await;
    let phone = browser(&app, IPHONE_SAFARI, "198.51.100.1", "en");
    assert_redirect(&phone.log_in("lee").await, "/");
    let computers: Vec<Browser> = (0..10)
        .map(|i| browser(&app, WINDOWS_CHROME, &format!("10.{i}.0.1"), "en"))
        .collect();
    let answers = join_all(computers.iter().map(|b| b.log_in("lee"))).await;
    for answer in &answers {
        assert_redirect(answer, "/");
    }
    assert_eq!(
        live_kinds(&app, "lee").await,
        [DeviceKind::Computer, DeviceKind::Phone]
    );
    assert_eq!(phone.get("/").await.status(), StatusCode::OK);
    let mut signed_in = 0;
    for computer in &computers {
        if computer.get("/").await.status() == StatusCode::OK {
            signed_in += 1;
        }
    }
    assert_eq!(signed_in, 1, "exactly one computer stays signed in");
}

/// A `service` group without limit takes twenty logins at once; a `premium` user with four
/// sessions moved back to the default of one loses three, each told why on its next request,
/// the one with an open page at once.
async fn groups_exempt_and_a_lowered_limit_takes_effect_at_once(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        notices_only(s);
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let seats = app.state.ctx.seats();
    let policy = app.state.settings.policy();
    seats.create_group("premium", &Limits::at_most(4)).await.unwrap();
    seats.create_group("service", &Limits::Unlimited).await.unwrap();

    create_user(&app, "robot").await;
    seats
        .set_group(user_id(&app, "robot").await, Some("service"), &policy)
        .await
        .unwrap();
    let robots: Vec<Browser> = (0..20)
        .map(|i| browser(&app, "curl/8.5.0", &format!("10.{i}.1.1"), "en"))
        .collect();
    for answer in join_all(robots.iter().map(|b| b.log_in("robot"))).await {
        assert_redirect(&answer, "/");
    }
    assert_eq!(seats.live(user_id(&app, "robot").await).await.unwrap().len(), 20);

    create_user(&app, "pat").await;
    let pat = user_id(&app, "pat").await;
    seats.set_group(pat, Some("premium"), &policy).await.unwrap();
    let browsers: Vec<Browser> = (0..4)
        .map(|i| browser(&app, LINUX_FIREFOX, &format!("203.0.113.{}", i + 10), "en"))
        .collect();
    for b in &browsers {
        assert_redirect(&b.log_in("pat").await, "/");
    }
    assert_eq!(seats.live(pat).await.unwrap().len(), 4);
    // The oldest has its page open.
    let mut events = browsers[0].listen().await;

    assert_eq!(seats.set_group(pat, None, &policy).await.unwrap(), 3);
    let (name, _) = events.next().await.expect("the open page hears of it");
    assert_eq!(name, "ended");
    for b in &browsers[..3] {
        assert_redirect(&b.get("/").await, "/login");
        let (_, html) = b.page("/login").await;
        assert_eq!(toasts_saying(&html, LIMIT_CHANGED_EN), 1, "{html}");
    }
    assert_eq!(browsers[3].get("/").await.status(), StatusCode::OK);
    let history = seats.history(pat, 10).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(history.iter().all(|h| h.ended.reason == EndReason::LimitLowered));
    // The history says so too, in words.
    let page = sessions_of(&browsers[3]).await;
    assert!(
        page.history
            .iter()
            .all(|h| h.how == "Ended when the session limit changed"),
        "{:?}",
        page.history
    );
}

on_both_backends!(
    a_phone_and_a_computer_each_keep_a_seat,
    simultaneous_computer_logins_leave_one_computer_beside_the_phone,
    groups_exempt_and_a_lowered_limit_takes_effect_at_once,
);
