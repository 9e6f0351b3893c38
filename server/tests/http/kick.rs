//! One login per user: the kick, its message, and what cannot revive a kicked session.

use super::harness::*;
use testkit::on_both_backends;

async fn a_second_login_signs_the_first_browser_out_with_a_message(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("heidi").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("heidi").await;
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
    b.log_in("heidi").await;

    let response = a.get("/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    let (status, html) = a.page("/login").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(toasts_saying(&html, KICKED_EN), 1, "{html}");
    assert!(html.contains("New login"), "says when and from where: {html}");
    // The new login's network, as coarsely as a kicked browser may see it: here its own.
    assert!(
        html.contains("this network") && html.contains("Chrome on Linux"),
        "{html}"
    );
    assert!(!html.contains("127.0.0.1"), "{html}");

    // Shown once: a flash.
    let (_, again) = a.page("/login").await;
    assert_eq!(toasts_saying(&again, KICKED_EN), 0);
    assert_redirect(&a.get("/").await, "/login");

    // The newer browser is untouched.
    assert_eq!(b.get("/").await.status(), StatusCode::OK);
}

async fn the_message_is_korean_for_korean_browsers(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("ivan").await;
    let a = app.browser_in("ko-KR,ko;q=0.9,en;q=0.5");
    a.log_in("ivan").await;
    app.browser().log_in("ivan").await;
    assert_redirect(&a.get("/").await, "/login");
    let (_, html) = a.page("/login").await;
    assert_eq!(toasts_saying(&html, KICKED_KO), 1, "{html}");
    assert!(html.contains("새 로그인"));
}

async fn other_users_keep_their_sessions(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("judy").await;
    app.browser().sign_up("mallory").await;
    let (judy, mallory, judy2) = (app.browser(), app.browser(), app.browser());
    judy.log_in("judy").await;
    mallory.log_in("mallory").await;
    judy2.log_in("judy").await;
    assert_eq!(mallory.get("/").await.status(), StatusCode::OK);
    assert_redirect(&judy.get("/").await, "/login");
}

async fn a_browser_that_logged_out_never_sees_the_kick_message(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("ken").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("ken").await;
    a.submit("/api/logout", &[]).await;
    let (_, html) = a.page("/login").await;
    assert_eq!(toasts_saying(&html, "You have been signed out."), 1, "{html}");
    b.log_in("ken").await;
    let (_, html) = a.page("/login").await;
    assert_eq!(toasts_saying(&html, KICKED_EN), 0, "{html}");
    assert_eq!(toasts_saying(&html, "You have been signed out."), 0, "{html}");
}

async fn a_server_function_call_of_a_kicked_browser_gets_the_typed_error(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("liam").await;
    let (a, b) = (app.browser_in("ko"), app.browser());
    a.log_in("liam").await;
    let me = a.call("/api/me", &[]).await;
    assert_eq!(me.status(), StatusCode::OK);
    b.log_in("liam").await;

    let response = a.call("/api/me", &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    match response.json::<AppError>().await.unwrap() {
        AppError::SessionEnded(toast) => {
            assert_eq!(toast.title, KICKED_KO);
            assert!(toast.detail.unwrap().contains("이 네트워크"));
        }
        other => panic!("expected SessionEnded, got {other:?}"),
    }
    // Signed out for good: the next call is simply anonymous.
    let next = a.call("/api/me", &[]).await;
    assert_eq!(next.status(), StatusCode::OK);
    assert_eq!(next.text().await.unwrap(), "null");
}

async fn a_kicked_browser_posting_a_form_is_sent_to_login(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("mia").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("mia").await;
    b.log_in("mia").await;
    let response = a.submit("/api/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    let (_, html) = a.page("/login").await;
    assert_eq!(toasts_saying(&html, KICKED_EN), 1, "{html}");
    assert_eq!(b.get("/").await.status(), StatusCode::OK);
}

/// tower-sessions saves session data after the handler. A save that lands after the kick
/// (a request of A in flight) writes A's record again, and A is still signed out.
async fn a_late_save_cannot_revive_a_kicked_session(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("nina").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("nina").await;
    let id: Id = a.session_cookie().unwrap().parse().unwrap();
    let record = app
        .state
        .sessions
        .load(&id)
        .await
        .unwrap()
        .expect("A's session record");
    b.log_in("nina").await;
    // The in-flight request's save, after the kick.
    app.state.sessions.save(&record).await.unwrap();
    assert_redirect(&a.get("/").await, "/login");
    assert_eq!(b.get("/").await.status(), StatusCode::OK);
}

/// The same race for real: with the last-seen time written on every request, A's requests
/// (each of which saves A's session) run at the same moment as B's login.
/// Ten of A's requests are held just after the session check let them through; B's login
/// ends A's seat while they wait; then they go on, and tower-sessions saves each session
/// record after its handler (the touch interval of zero makes every request write). None of
/// that revives A.
async fn requests_in_flight_during_the_kick_cannot_revive_it(db: TestDb) {
    const HELD: usize = 10;
    let checked = Arc::new(tokio::sync::Barrier::new(HELD + 1));
    let (release, released) = tokio::sync::watch::channel(false);
    let step: server::AfterCheck = {
        let checked = checked.clone();
        Arc::new(move |request| {
            let hold = request.headers().contains_key("x-test-hold");
            let (checked, mut released) = (checked.clone(), released.clone());
            Box::pin(async move {
                if hold {
                    checked.wait().await;
                    let _ = released.wait_for(|go| *go).await;
                }
            })
        })
    };
    let app = spawn_app_with_after_check(db, |s| s.seat_touch_interval = Duration::ZERO, step).await;
    create_user(&app, "olga").await;
    let (a, b) = (Arc::new(app.browser()), app.browser());
    a.log_in("olga").await;
    let in_flight: Vec<_> = (0..HELD)
        .map(|_| {
            let a = a.clone();
            tokio::spawn(async move {
                a.client
                    .post(format!("{}/api/me", a.base))
                    .header(header::ACCEPT, "application/json")
                    .header("sec-fetch-site", "same-origin")
                    .header("x-test-hold", "1")
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    // All ten are past the check, and held.
    checked.wait().await;
    b.log_in("olga").await;
    release.send_replace(true);
    for request in in_flight {
        // Checked before the kick: they answer as signed in, and then save the session.
        assert_eq!(request.await.unwrap(), StatusCode::OK);
    }
    let after = a.call("/api/me", &[]).await.text().await.unwrap();
    assert!(after.contains("SessionEnded"), "A is signed out: {after}");
    assert_redirect(&a.get("/").await, "/login");
    assert_eq!(b.get("/").await.status(), StatusCode::OK);
}

/// The per-request check remembers live seats (`seat_cache_ttl`, an hour here), yet once the
/// kicking login has answered, no request of the kicked browser gets a page: the login
/// makes the cache forget before it answers.
async fn a_kicked_session_never_gets_a_page_once_the_kicking_login_answered(db: TestDb) {
    let app = spawn_app_with(db, |s| s.seat_cache_ttl = Duration::from_secs(3600)).await;
    create_user(&app, "quin").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("quin").await;
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
    let answered = std::sync::OnceLock::<std::time::Instant>::new();
    let done = std::sync::atomic::AtomicBool::new(false);
    let requests = async {
        let mut seen = Vec::new();
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let started = std::time::Instant::now();
            seen.push((started, a.get("/").await.status()));
        }
        seen
    };
    let kick = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        b.log_in("quin").await;
        answered.set(std::time::Instant::now()).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let (seen, ()) = tokio::join!(requests, kick);
    let answered = *answered.get().unwrap();
    let before = seen.iter().filter(|(at, _)| *at < answered).count();
    let after: Vec<StatusCode> = seen
        .iter()
        .filter(|(at, _)| *at > answered)
        .map(|(_, status)| *status)
        .collect();
    assert!(
        before > 0 && !after.is_empty(),
        "{before} before, {after:?} after"
    );
    assert!(
        after.iter().all(|status| *status == StatusCode::SEE_OTHER),
        "pages served after the kick answered: {after:?}"
    );
}

/// Another process's kick reaches this one's cache by its notice: with the time to live an
/// hour away, nothing else could deliver it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgres_another_processs_kick_reaches_the_cache_by_notice() {
    let hour = |s: &mut Settings| s.seat_cache_ttl = Duration::from_secs(3600);
    let first = spawn_app_with(testkit::postgres().await, hour).await;
    let second = spawn_peer(&first, hour).await;
    create_user(&first, "rex").await;
    let a = first.browser();
    a.log_in("rex").await;
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
    second.browser().log_in("rex").await;
    let mut status = StatusCode::OK;
    for _ in 0..100 {
        status = a.get("/").await.status();
        if status != StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, StatusCode::SEE_OTHER, "still served from the cache");
}

on_both_backends!(
    a_kicked_session_never_gets_a_page_once_the_kicking_login_answered,
    a_second_login_signs_the_first_browser_out_with_a_message,
    the_message_is_korean_for_korean_browsers,
    other_users_keep_their_sessions,
    a_browser_that_logged_out_never_sees_the_kick_message,
    a_server_function_call_of_a_kicked_browser_gets_the_typed_error,
    a_kicked_browser_posting_a_form_is_sent_to_login,
    a_late_save_cannot_revive_a_kicked_session,
    requests_in_flight_during_the_kick_cannot_revive_it,
);
