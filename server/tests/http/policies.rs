//! Policies at the limit (`deny_new`, `ask`), same-IP sharing, the client IP, the login
//! throttle.

use super::harness::*;
use testkit::on_both_backends;

async fn deny_new_refuses_a_second_login_and_says_where_the_first_is(db: TestDb) {
    let app = spawn_app_with(db, policy(OnLimit::DenyNew)).await;
    create_user(&app, "pat").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("pat").await;
    let refused = b
        .call("/api/login", &[("username", "pat"), ("password", PASSWORD)])
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    match refused.json::<AppError>().await.unwrap() {
        AppError::LoginDenied(sessions) => {
            assert_eq!(sessions.len(), 1);
            assert_eq!(sessions[0].ip, "127.0.0.1");
            assert_eq!(sessions[0].device, "Chrome on Linux");
            assert_eq!(sessions[0].last_active.relative, "just now");
        }
        other => panic!("expected LoginDenied, got {other:?}"),
    }
    let page = b.log_in("pat").await;
    assert_eq!(page.status(), StatusCode::CONFLICT);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("already signed in elsewhere") && html.contains("Chrome on Linux"),
        "{html}"
    );
    assert!(b.session_cookie().is_none(), "a refused login leaves no session");
    assert_eq!(
        a.get("/").await.status(),
        StatusCode::OK,
        "the first session is untouched"
    );

    a.submit("/api/logout", &[]).await;
    assert_redirect(&b.log_in("pat").await, "/");
}

async fn deny_new_lets_an_idle_session_go(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.on_limit = OnLimit::DenyNew;
        s.idle_seat_after = Duration::from_secs(1);
    })
    .await;
    create_user(&app, "quinn").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("quinn").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_redirect(&b.log_in("quinn").await, "/");
    assert_redirect(&a.get("/").await, "/login");
    let (_, html) = a.page("/login").await;
    assert_eq!(
        toasts_saying(&html, "Your session expired. Please log in again."),
        1,
        "{html}"
    );
}

async fn ask_lets_the_user_choose_which_session_to_end(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.on_limit = OnLimit::Ask;
        s.max_sessions = 2;
    })
    .await;
    create_user(&app, "rita").await;
    let (a, b, c) = (app.browser(), app.browser_from("203.0.113.5"), app.browser());
    a.log_in("rita").await;
    b.log_in("rita").await;

    let asked = c
        .call("/api/login", &[("username", "rita"), ("password", PASSWORD)])
        .await;
    assert_eq!(asked.status(), StatusCode::CONFLICT);
    let AppError::ChooseSessions(sessions) = asked.json::<AppError>().await.unwrap() else {
        panic!("expected ChooseSessions")
    };
    assert_eq!(sessions.len(), 2);
    let first = sessions.iter().min_by_key(|s| s.id).unwrap().id.to_string();

    // Choosing nothing asks again; nothing has ended.
    let again = c.call("/api/login/continue", &[]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(a.get("/").await.status(), StatusCode::OK);

    // No password again: the choice is enough.
    let chosen = c
        .call("/api/login/continue", &[(&format!("end[{first}]"), "on")])
        .await;
    assert_eq!(chosen.status(), StatusCode::OK, "{:?}", chosen.text().await);
    assert_eq!(c.get("/").await.status(), StatusCode::OK);
    assert_redirect(&a.get("/").await, "/login");
    assert_eq!(b.get("/").await.status(), StatusCode::OK);
    let (_, html) = a.page("/login").await;
    assert_eq!(toasts_saying(&html, KICKED_EN), 1, "{html}");

    // The held login is used up.
    let reused = c.call("/api/login/continue", &[]).await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    assert!(matches!(
        reused.json::<AppError>().await.unwrap(),
        AppError::LoginExpired
    ));
}

async fn a_session_ends_at_its_maximum_lifetime_however_active(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.session_max_lifetime = Duration::from_secs(1);
        s.seat_touch_interval = Duration::ZERO;
    })
    .await;
    create_user(&app, "ulla").await;
    let a = app.browser();
    a.log_in("ulla").await;
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(600)).await;

    // Active all along, and still over its lifetime.
    assert_redirect(&a.get("/").await, "/login");
    let (_, html) = a.page("/login").await;
    assert_eq!(
        toasts_saying(&html, "Your session expired. Please log in again."),
        1,
        "{html}"
    );
    a.log_in("ulla").await;
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
}

async fn a_held_login_expires(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.on_limit = OnLimit::Ask;
        s.ask_choice_timeout = Duration::from_secs(1);
    })
    .await;
    create_user(&app, "sami").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("sami").await;
    let asked = b
        .call("/api/login", &[("username", "sami"), ("password", PASSWORD)])
        .await;
    assert_eq!(asked.status(), StatusCode::CONFLICT);
    let AppError::ChooseSessions(sessions) = asked.json::<AppError>().await.unwrap() else {
        panic!("expected ChooseSessions")
    };
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let late = b
        .call(
            "/api/login/continue",
            &[(&format!("end[{}]", sessions[0].id), "on")],
        )
        .await;
    assert_eq!(late.status(), StatusCode::UNAUTHORIZED);
    assert!(matches!(
        late.json::<AppError>().await.unwrap(),
        AppError::LoginExpired
    ));
    // Nothing ended, nobody signed in.
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
    assert_redirect(&b.get("/").await, "/login");
}

async fn a_confirmed_password_is_remembered_for_a_while_only(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.max_sessions = 2;
        s.password_confirmation_timeout = Duration::from_secs(1);
    })
    .await;
    create_user(&app, "tove").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("tove").await;
    b.log_in("tove").await;
    let confirmed = a.call("/api/sessions/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let page = sessions_of(&a).await;
    assert!(page.confirmed);
    assert_eq!(page.confirmation_minutes, 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;

    assert!(!sessions_of(&a).await.confirmed);
    let refused = a.call("/api/sessions/end-others", &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(matches!(
        refused.json::<AppError>().await.unwrap(),
        AppError::PasswordRequired
    ));
    assert_eq!(b.get("/").await.status(), StatusCode::OK);
}

async fn ask_works_without_javascript_and_can_be_cancelled(db: TestDb) {
    let app = spawn_app_with(db, policy(OnLimit::Ask)).await;
    create_user(&app, "sam").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("sam").await;
    let page = b.log_in("sam").await;
    assert_eq!(page.status(), StatusCode::CONFLICT);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Sessions to sign out") && html.contains("name=\"end["),
        "{html}"
    );

    let cancelled = b.submit("/api/login/cancel", &[]).await;
    assert_redirect(&cancelled, "/login");
    let after = b.submit("/api/login/continue", &[]).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    assert!(after.text().await.unwrap().contains("That login has expired"));
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
}

async fn sessions_from_the_same_ip_share_a_seat(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.same_ip_shares_seat = true;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    create_user(&app, "tess").await;
    let (office_a, office_b, home) = (
        app.browser_from("203.0.113.7"),
        app.browser_from("203.0.113.7"),
        app.browser_from("198.51.100.2"),
    );
    office_a.log_in("tess").await;
    office_b.log_in("tess").await;
    assert_eq!(office_a.get("/").await.status(), StatusCode::OK);
    assert_eq!(office_b.get("/").await.status(), StatusCode::OK);
    assert_eq!(live_ips(&app, "tess").await, ["203.0.113.7", "203.0.113.7"]);

    home.log_in("tess").await;
    assert_redirect(&office_a.get("/").await, "/login");
    assert_redirect(&office_b.get("/").await, "/login");
    assert_eq!(live_ips(&app, "tess").await, ["198.51.100.2"]);
}

async fn the_client_ip_comes_from_trusted_proxies_only(db: TestDb) {
    let direct = spawn_app(db).await;
    create_user(&direct, "uma").await;
    direct.browser_from("203.0.113.9").log_in("uma").await;
    assert_eq!(
        live_ips(&direct, "uma").await,
        ["127.0.0.1"],
        "an untrusted peer's header is ignored"
    );

    let proxied = spawn_app_with(testkit::sqlite().await, |s| {
        s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    create_user(&proxied, "uma").await;
    proxied.browser_from("1.1.1.1, 203.0.113.9").log_in("uma").await;
    assert_eq!(
        live_ips(&proxied, "uma").await,
        ["203.0.113.9"],
        "right-most untrusted entry"
    );
    let garbage = proxied.browser_from("not-an-ip");
    assert_redirect(&garbage.log_in("uma").await, "/");
    assert_eq!(
        live_ips(&proxied, "uma").await,
        ["127.0.0.1"],
        "a malformed header is ignored"
    );
}

async fn simultaneous_logins_with_a_limit_of_three_leave_three_live_sessions(db: TestDb) {
    // Twelve checks of one name from one address at once would pass the throttle's limit of
    // checks in flight (they are counted before they are verified): raised here.
    let app = spawn_app_with(db, |s| {
        s.max_sessions = 3;
        s.login_max_failures = 100;
    })
    .await;
    create_user(&app, "vera").await;
    let browsers: Vec<Arc<Browser>> = (0..12).map(|_| Arc::new(app.browser())).collect();
    let logins: Vec<_> = browsers
        .iter()
        .map(|b| {
            let b = b.clone();
            tokio::spawn(async move { b.log_in("vera").await.status() })
        })
        .collect();
    for login in logins {
        assert!(login.await.unwrap().is_redirection());
    }
    assert_eq!(live_ips(&app, "vera").await.len(), 3);
    let mut signed_in = 0;
    for b in &browsers {
        if b.get("/").await.status() == StatusCode::OK {
            signed_in += 1;
        }
    }
    assert_eq!(signed_in, 3);
}

on_both_backends!(
    deny_new_refuses_a_second_login_and_says_where_the_first_is,
    deny_new_lets_an_idle_session_go,
    ask_lets_the_user_choose_which_session_to_end,
    a_session_ends_at_its_maximum_lifetime_however_active,
    a_held_login_expires,
    a_confirmed_password_is_remembered_for_a_while_only,
    ask_works_without_javascript_and_can_be_cancelled,
    sessions_from_the_same_ip_share_a_seat,
    the_client_ip_comes_from_trusted_proxies_only,
    simultaneous_logins_with_a_limit_of_three_leave_three_live_sessions,
);
