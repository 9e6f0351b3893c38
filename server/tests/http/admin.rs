//! The operator console: hidden from everyone but administrators, confirmed before it acts,
//! and every action recorded.

use single_login::events::{EventType, Events};
use single_login::Millis;

use super::harness::*;
use testkit::on_both_backends;

const PAGES: &[&str] = &["/admin", "/admin/users?q=a", "/admin/user?id=1"];
const FUNCTIONS: &[&str] = &[
    "/api/admin/overview",
    "/api/admin/users",
    "/api/admin/user",
    "/api/admin/end",
    "/api/admin/end-all",
    "/api/admin/disable",
    "/api/admin/enable",
    "/api/admin/limit",
    "/api/admin/group",
];

async fn grant_admin(app: &TestApp, name: &str) {
    let id = user_id(app, name).await;
    assert!(app.state.ctx.logins().accounts.set_admin(id, true).await.unwrap());
}

/// Status and body of a page, with the parts that differ per response cut: the CSP nonce,
/// and the page's own address (the language switch comes back to it).
async fn answer(browser: &Browser, path: &str) -> (StatusCode, String) {
    let response = browser.get(path).await;
    let status = response.status();
    let nonce = csp_nonce(&response);
    let body = response.text().await.unwrap().replace(&nonce, "NONCE");
    (
        status,
        body.replace(&format!("value=\"{path}\""), "value=\"PATH\""),
    )
}

async fn the_console_is_not_there_for_anyone_but_an_admin(db: TestDb) {
    let app = spawn_app(db).await;
    create_user(&app, "olga").await;
    let (signed_out, user) = (app.browser(), app.browser());
    assert_redirect(&user.log_in("olga").await, "/");
    for browser in [&signed_out, &user] {
        let (status, nowhere) = answer(browser, "/no-such-page").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        for page in PAGES {
            assert_eq!(
                answer(browser, page).await,
                (StatusCode::NOT_FOUND, nowhere.clone()),
                "{page}"
            );
        }
        let unnonced = |response: reqwest::Response| async move {
            let (status, nonce) = (response.status(), csp_nonce(&response));
            (status, response.text().await.unwrap().replace(&nonce, "NONCE"))
        };
        let nowhere = unnonced(browser.call("/api/no-such-function", &[("id", "1")]).await).await;
        for function in FUNCTIONS {
            let answer = unnonced(browser.call(function, &[("id", "1")]).await).await;
            assert_eq!(answer, nowhere, "{function}");
        }
    }
    // A forged post (another site's form) is refused as any address is, existing or not.
    grant_admin(&app, "olga").await;
    let forged = |path: &'static str| {
        user.client
            .post(format!("{}{path}", user.base))
            .header("sec-fetch-site", "cross-site")
            .form(&[("id", "1")])
            .send()
    };
    let nowhere = forged("/api/no-such-function").await.unwrap().status();
    for function in FUNCTIONS {
        assert_eq!(forged(function).await.unwrap().status(), nowhere, "{function}");
    }
    // The same browser, now an administrator, sees the console.
    let (status, html) = user.page("/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<svg") && html.contains("role=\"img\"") && html.contains("<table"),
        "{html}"
    );
}

async fn an_admin_confirms_then_acts_and_every_action_is_recorded(db: TestDb) {
    let app = spawn_app_with(db, limit(2)).await;
    create_user(&app, "root").await;
    create_user(&app, "alice").await;
    grant_admin(&app, "root").await;
    let admin = app.browser();
    assert_redirect(&admin.log_in("root").await, "/");
    let (a1, a2) = (app.browser_in("ko"), app.browser());
    assert_redirect(&a1.log_in("alice").await, "/");
    assert_redirect(&a2.log_in("alice").await, "/");
    let alice = user_id(&app, "alice").await;

    let found: app::models::ConsoleUsers = admin
        .call("/api/admin/users", &[("q", "ALI")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found.users.len(), 1);
    assert_eq!((found.users[0].name.as_str(), found.users[0].live), ("alice", 2));
    assert_eq!(found.users[0].limit, "2");

    let seats = app.state.ctx.seats().live(alice).await.unwrap();
    let oldest = seats[0].id.0.to_string();
    let id = alice.0.to_string();
    // Not confirmed yet: asked for the password, nothing happens.
    let refused = admin
        .call("/api/admin/end", &[("id", &id), ("seat", &oldest)])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.state.ctx.seats().live(alice).await.unwrap().len(), 2);
    let confirmed = admin
        .call("/api/sessions/confirm", &[("password", PASSWORD)])
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);

    let ended = admin
        .call("/api/admin/end", &[("id", &id), ("seat", &oldest)])
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert_redirect(&a1.get("/").await, "/login");
    let (_, html) = a1.page("/login").await;
    assert_eq!(
        toasts_saying(&html, "관리자가 이 세션을 로그아웃했습니다."),
        1,
        "{html}"
    );
    assert_eq!(a2.get("/").await.status(), StatusCode::OK);

    let limited = admin
        .call("/api/admin/limit", &[("id", &id), ("limit", "unlimited")])
        .await;
    assert_eq!(limited.status(), StatusCode::OK);
    let bad = admin
        .call("/api/admin/limit", &[("id", &id), ("limit", "lots")])
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let no_group = admin
        .call("/api/admin/group", &[("id", &id), ("group", "gold")])
        .await;
    assert_eq!(no_group.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        admin.call("/api/admin/disable", &[("id", &id)]).await.status(),
        StatusCode::OK
    );
    assert_redirect(&a2.get("/").await, "/login");
    assert_eq!(
        admin.call("/api/admin/enable", &[("id", &id)]).await.status(),
        StatusCode::OK
    );
    assert_redirect(&a2.log_in("alice").await, "/");

    // Each action is an event naming the administrator.
    let root = user_id(&app, "root").await;
    let far = Millis::now().plus(Duration::from_secs(3600));
    let events = Events::new(app.state.ctx.seats().db().clone())
        .export(Millis(0), far, Some(alice))
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e.event == EventType::AdminAction)
        .map(|e| (e.action.as_deref().unwrap(), e.by.as_deref().unwrap()))
        .collect();
    let by = format!("admin:{}", root.0);
    assert_eq!(
        actions,
        [
            ("sign_out", by.as_str()),
            ("set_limit", by.as_str()),
            ("disable", by.as_str()),
            ("enable", by.as_str())
        ]
    );
    let ended = events
        .iter()
        .find(|e| e.event == EventType::SessionEnded && e.seat == Some(seats[0].id.0))
        .unwrap();
    assert_eq!(ended.by.as_deref(), Some(by.as_str()));

    // The overview counts the last day: three logins of alice, one of root; the chart says so.
    let overview: app::models::ConsoleOverview =
        admin.call("/api/admin/overview", &[]).await.json().await.unwrap();
    assert_eq!(overview.hours.len(), 24);
    assert_eq!(overview.hours.iter().map(|h| h.logins).sum::<u64>(), 4);
    assert_eq!(overview.live, 2);
    let (status, page) = admin.page(&format!("/admin/user?id={id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("alice") && page.contains("Sign out all"), "{page}");
}

on_both_backends!(
    the_console_is_not_there_for_anyone_but_an_admin,
    an_admin_confirms_then_acts_and_every_action_is_recorded,
);
