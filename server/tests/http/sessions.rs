//! Your sessions: the list, ending sessions, the password change, disabled accounts,
//! lifetimes.

use super::harness::*;
use testkit::on_both_backends;

async fn the_sessions_page_lists_exactly_the_live_sessions_and_marks_this_one(db: TestDb) {
    let app = spawn_app_with(db, limit(3)).await;
    create_user(&app, "wes").await;
    let (a, b, c) = (app.browser(), app.browser_from("203.0.113.4"), app.browser());
    a.log_in("wes").await;
    b.log_in("wes").await;
    c.log_in("wes").await;
    c.submit("/api/logout", &[]).await;

    let page = sessions_of(&a).await;
    let user = user_id(&app, "wes").await;
    let mut live: Vec<i64> = app
        .state
        .ctx
        .seats()
        .live(user)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id.0)
        .collect();
    let mut listed: Vec<i64> = page.live.iter().map(|s| s.id).collect();
    live.sort();
    listed.sort();
    assert_eq!(listed, live);
    assert_eq!(page.live.iter().filter(|s| s.current).count(), 1);
    assert!(
        page.live.iter().any(|s| !s.current && s.ip == "127.0.0.1"),
        "{page:?}"
    );
    assert_eq!(page.history.len(), 1);
    assert_eq!(page.history[0].how, "Logged out");
    assert!(!page.confirmed);

    let (status, html) = a.page("/sessions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("This browser") && html.contains("Chrome on Linux"),
        "{html}"
    );
    assert_redirect(&app.browser().get("/sessions").await, "/login");
}

async fn ending_a_session_needs_the_password_again(db: TestDb) {
    let app = spawn_app_with(db, limit(2)).await;
    create_user(&app, "xia").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("xia").await;
    b.log_in("xia").await;
    let target = other_id(&sessions_of(&a).await);

    let refused = a.call("/api/sessions/end", &[("id", &target)]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(matches!(
        refused.json::<AppError>().await.unwrap(),
        AppError::PasswordRequired
    ));
    let wrong = a
        .call("/api/sessions/confirm", &[("password", "not the password")])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b.get("/").await.status(), StatusCode::OK);

    let before = a.session_cookie().unwrap();
    assert_eq!(
        a.call("/api/sessions/confirm", &[("password", PASSWORD)])
            .await
            .status(),
        StatusCode::OK
    );
    assert!(sessions_of(&a).await.confirmed);
    // Re-authenticated, so a new session id; the old one opens nothing.
    assert_ne!(a.session_cookie().unwrap(), before);
    assert_redirect(&app.browser_replaying(&before).get("/").await, "/login");
    assert_eq!(
        a.call("/api/sessions/end", &[("id", &target)]).await.status(),
        StatusCode::OK
    );

    // The ended browser hears why, in its own words (not "another browser signed in").
    assert_redirect(&b.get("/").await, "/login");
    let (_, html) = b.page("/login").await;
    assert_eq!(toasts_saying(&html, REVOKED_EN), 1, "{html}");
    assert_eq!(toasts_saying(&html, KICKED_EN), 0);
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
}

async fn ending_one_session_ends_only_that_one(db: TestDb) {
    let app = spawn_app_with(db, limit(3)).await;
    create_user(&app, "yara").await;
    let (a, b, c) = (
        app.browser(),
        app.browser_from("203.0.113.2"),
        app.browser_from("203.0.113.3"),
    );
    a.log_in("yara").await;
    b.log_in("yara").await;
    c.log_in("yara").await;
    a.call("/api/sessions/confirm", &[("password", PASSWORD)]).await;
    let page = sessions_of(&a).await;
    let b_id = page
        .live
        .iter()
        .find(|s| s.ip == "127.0.0.1" && !s.current)
        .map(|s| s.id.to_string());
    // Without a trusted proxy every browser is 127.0.0.1: pick any other one and check the rest.
    let target = b_id.unwrap_or_else(|| other_id(&page));
    assert_eq!(
        a.call("/api/sessions/end", &[("id", &target)]).await.status(),
        StatusCode::OK
    );
    let after = sessions_of(&a).await;
    assert_eq!(after.live.len(), 2);
    assert!(after.live.iter().all(|s| s.id.to_string() != target));
    let signed_in = [b.get("/").await.status(), c.get("/").await.status()];
    assert_eq!(
        signed_in.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{signed_in:?}"
    );

    // Another user's session cannot be ended from here.
    create_user(&app, "zed").await;
    let z = app.browser();
    z.log_in("zed").await;
    let z_id = sessions_of(&z).await.live[0].id.to_string();
    a.call("/api/sessions/end", &[("id", &z_id)]).await;
    assert_eq!(z.get("/").await.status(), StatusCode::OK);
}

async fn signing_out_all_other_sessions_keeps_this_one(db: TestDb) {
    let app = spawn_app_with(db, limit(3)).await;
    create_user(&app, "abe").await;
    let (a, b, c) = (app.browser(), app.browser(), app.browser());
    a.log_in("abe").await;
    b.log_in("abe").await;
    c.log_in("abe").await;
    assert_eq!(
        a.call("/api/sessions/end-others", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    a.call("/api/sessions/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(
        a.call("/api/sessions/end-others", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
    assert_redirect(&b.get("/").await, "/login");
    assert_redirect(&c.get("/").await, "/login");
    let page = sessions_of(&a).await;
    assert_eq!(page.live.len(), 1);
    assert_eq!(
        page.history
            .iter()
            .filter(|h| h.how == "Signed out from another session")
            .count(),
        2
    );
}

async fn changing_the_password_ends_every_other_session(db: TestDb) {
    let app = spawn_app_with(db, limit(2)).await;
    create_user(&app, "bea").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("bea").await;
    b.log_in("bea").await;
    let new = "a brand new passphrase";
    let wrong = a
        .call(
            "/api/account/password",
            &[
                ("current", "nope nope nope"),
                ("password", new),
                ("password_confirm", new),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: AppError = wrong.json().await.unwrap();
    assert!(
        error
            .for_field(app::error::Field::CurrentPassword, app::lang::Locale::en)
            .is_some(),
        "{error:?}"
    );
    assert_eq!(b.get("/").await.status(), StatusCode::OK);

    let before = a.session_cookie().unwrap();
    let changed = a
        .call(
            "/api/account/password",
            &[
                ("current", PASSWORD),
                ("password", new),
                ("password_confirm", new),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_redirect(&b.get("/").await, "/login");
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
    // This browser keeps its session (the same seat) under a new id.
    assert_ne!(a.session_cookie().unwrap(), before);
    assert_redirect(&app.browser_replaying(&before).get("/").await, "/login");
    assert_eq!(sessions_of(&a).await.live.len(), 1);

    let old = app
        .browser()
        .call("/api/login", &[("username", "bea"), ("password", PASSWORD)])
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let fresh = app.browser();
    assert_redirect(
        &fresh
            .submit("/api/login", &[("username", "bea"), ("password", new)])
            .await,
        "/",
    );
}

async fn a_disabled_account_is_signed_out_and_cannot_log_in(db: TestDb) {
    let url = db.url.clone();
    let app = spawn_app(db).await;
    create_user(&app, "cal").await;
    let a = app.browser();
    a.log_in("cal").await;
    let config = Config {
        leptos: LeptosOptions::builder().output_name("single-login").build(),
        settings: Settings {
            database_url: DatabaseUrl(url),
            ..Settings::defaults_for("127.0.0.1:0".parse().unwrap(), leptos::config::Env::DEV)
        },
    };
    let run = |command| {
        let config = config.clone();
        async move {
            let mut out = Vec::new();
            server::cli::user(config, command, &mut "".as_bytes(), &mut out)
                .await
                .unwrap();
            String::from_utf8(out).unwrap()
        }
    };
    let out = run(server::cli::UserCommand::Disable { name: "cal".into() }).await;
    assert!(out.contains("ended 1 session"), "{out}");

    assert_redirect(&a.get("/").await, "/login");
    let (_, html) = a.page("/login").await;
    assert_eq!(
        toasts_saying(&html, "You were signed out by an administrator."),
        1,
        "{html}"
    );

    let disabled = app
        .browser()
        .call("/api/login", &[("username", "cal"), ("password", PASSWORD)])
        .await;
    let unknown = app
        .browser()
        .call("/api/login", &[("username", "nobody"), ("password", PASSWORD)])
        .await;
    assert_eq!(disabled.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(disabled.status(), unknown.status());
    assert_eq!(disabled.text().await.unwrap(), unknown.text().await.unwrap());

    run(server::cli::UserCommand::Enable { name: "cal".into() }).await;
    assert_redirect(&app.browser().log_in("cal").await, "/");
}

async fn not_you_leads_to_the_sessions_page_with_the_newer_login_marked(db: TestDb) {
    let app = spawn_app(db).await;
    create_user(&app, "dee").await;
    let (a, b) = (app.browser(), app.browser_from("198.51.100.9"));
    a.log_in("dee").await;
    b.log_in("dee").await;
    let b_seat = sessions_of(&b).await.live[0].id;

    assert_redirect(&a.get("/").await, "/login");
    let (_, html) = a.page("/login").await;
    let link = format!("/login?next=%2Fsessions%3Fhighlight%3D{b_seat}");
    assert!(html.contains(&link) && html.contains("Not you?"), "{html}");

    let next = format!("/sessions?highlight={b_seat}");
    let response = a
        .submit(
            "/api/login",
            &[("username", "dee"), ("password", PASSWORD), ("next", &next)],
        )
        .await;
    assert_redirect(&response, &next);
    let (status, html) = a.page(&next).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("The login that signed you out"), "{html}");
    assert!(html.contains("Not you? Secure your account"), "{html}");

    for evil in [
        "//evil.example/",
        "https://evil.example/",
        "/sessions/../x",
        "/sessions?highlight=1&x=2",
    ] {
        let c = app.browser();
        let response = c
            .submit(
                "/api/login",
                &[("username", "dee"), ("password", PASSWORD), ("next", evil)],
            )
            .await;
        assert_redirect(&response, "/");
    }
}

/// The background purge: idle sessions expire, ended ones past the retention are deleted.
async fn the_purge_expires_idle_sessions_and_forgets_old_ones(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.session_idle_timeout = Duration::from_secs(1);
        s.seat_retention = Duration::ZERO;
    })
    .await;
    create_user(&app, "eve").await;
    let a = app.browser();
    a.log_in("eve").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.state.purge().await.unwrap();
    let user = user_id(&app, "eve").await;
    assert!(
        app.state.ctx.seats().live(user).await.unwrap().is_empty(),
        "expired"
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    app.state.purge().await.unwrap();
    assert!(
        app.state.ctx.seats().history(user, 20).await.unwrap().is_empty(),
        "purged"
    );
    assert_redirect(&a.get("/").await, "/login");
}

async fn too_many_failed_logins_are_throttled_per_username_and_ip(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.login_max_failures = 3;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    create_user(&app, "fay").await;
    let attacker = app.browser_from("203.0.113.66");
    for _ in 0..3 {
        let wrong = attacker
            .call("/api/login", &[("username", "fay"), ("password", "guess guess")])
            .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let blocked = attacker
        .call("/api/login", &[("username", "FAY"), ("password", PASSWORD)])
        .await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(matches!(
        blocked.json::<AppError>().await.unwrap(),
        AppError::TooManyAttempts(15)
    ));
    let page = attacker.log_in("fay").await;
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.text().await.unwrap().contains("Too many attempts"));

    // The owner, from elsewhere, is not locked out.
    assert_redirect(&app.browser_from("198.51.100.1").log_in("fay").await, "/");
}

/// Failed logins count across server processes: two on each of two processes reach a limit
/// of four, wherever the next attempt lands.
async fn failed_logins_count_across_processes(db: TestDb) {
    let settings = |s: &mut Settings| {
        s.login_max_failures = 4;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    };
    let first = spawn_app_with(db, settings).await;
    let second = spawn_peer(&first, settings).await;
    create_user(&first, "gus").await;
    for app in [&first, &second, &first, &second] {
        let wrong = app
            .browser_from("203.0.113.67")
            .call("/api/login", &[("username", "gus"), ("password", "guess guess")])
            .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    for app in [&first, &second] {
        let blocked = app
            .browser_from("203.0.113.67")
            .call("/api/login", &[("username", "gus"), ("password", PASSWORD)])
            .await;
        assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

/// A successful login clears the count for its username and address.
async fn a_successful_login_resets_the_failed_login_count(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.login_max_failures = 3;
    })
    .await;
    create_user(&app, "hal").await;
    let browser = app.browser();
    let fail = || browser.call("/api/login", &[("username", "hal"), ("password", "guess guess")]);
    fail().await;
    fail().await;
    assert_redirect(&browser.log_in("hal").await, "/");
    fail().await;
    fail().await;
    let again = browser
        .call("/api/login", &[("username", "hal"), ("password", PASSWORD)])
        .await;
    assert_eq!(again.status(), StatusCode::OK);
}

async fn refused_or_held_logins_are_not_failures(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.on_limit = OnLimit::DenyNew;
        s.login_max_failures = 1;
    })
    .await;
    create_user(&app, "gil").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("gil").await;
    for _ in 0..3 {
        let denied = b
            .call("/api/login", &[("username", "gil"), ("password", PASSWORD)])
            .await;
        assert_eq!(denied.status(), StatusCode::CONFLICT);
    }
    a.submit("/api/logout", &[]).await;
    assert_redirect(&b.log_in("gil").await, "/");
}

/// A login form left open in a browser whose session then ended still signs in.
async fn a_kicked_browser_can_log_in_again_from_an_open_form(db: TestDb) {
    let app = spawn_app(db).await;
    create_user(&app, "hal").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("hal").await;
    b.log_in("hal").await;
    assert_redirect(&a.log_in("hal").await, "/");
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
    assert_redirect(&b.get("/").await, "/login");
}

on_both_backends!(
    the_sessions_page_lists_exactly_the_live_sessions_and_marks_this_one,
    ending_a_session_needs_the_password_again,
    ending_one_session_ends_only_that_one,
    signing_out_all_other_sessions_keeps_this_one,
    changing_the_password_ends_every_other_session,
    a_disabled_account_is_signed_out_and_cannot_log_in,
    not_you_leads_to_the_sessions_page_with_the_newer_login_marked,
    the_purge_expires_idle_sessions_and_forgets_old_ones,
    too_many_failed_logins_are_throttled_per_username_and_ip,
    failed_logins_count_across_processes,
    a_successful_login_resets_the_failed_login_count,
    refused_or_held_logins_are_not_failures,
    a_kicked_browser_can_log_in_again_from_an_open_form,
);
