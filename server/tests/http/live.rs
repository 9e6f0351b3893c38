//! The live channel: events on a kick, on other sessions, across processes, at shutdown.

use super::harness::*;
use testkit::on_both_backends;

async fn an_open_page_hears_at_once_that_its_session_ended(db: TestDb) {
    let app = spawn_app_with(db, notices_only).await;
    create_user(&app, "lena").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("lena").await;
    let mut events = a.listen().await;
    b.log_in("lena").await;

    assert_eq!(events.next().await, Some(("ended".to_owned(), "null".to_owned())));
    assert_eq!(events.next().await, None, "the stream closes after `ended`");
    // The page's next request explains, exactly as without the channel.
    assert_redirect(&a.get("/").await, "/login");
    let (_, html) = a.page("/login").await;
    assert_eq!(toasts_saying(&html, KICKED_EN), 1, "{html}");
    // The newer session's channel is live.
    let mut other = b.listen().await;
    app.browser().sign_up("lena2").await;
    tokio::time::timeout(Duration::from_millis(300), other.next())
        .await
        .expect_err("another user's login says nothing to this channel");
}

async fn a_channel_hears_of_the_users_other_sessions(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        notices_only(s);
        s.max_sessions = 3;
    })
    .await;
    create_user(&app, "milo").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("milo").await;
    let mut events = a.listen().await;
    b.log_in("milo").await;
    // A new login while this one stays: the alert says where, and leads to it.
    let (name, data) = events.next().await.unwrap();
    assert_eq!(name, "changed");
    let alert: app::models::Toast = serde_json::from_str(&data).expect("an alert as JSON");
    assert_eq!(alert.title, "Your account just signed in from another browser.");
    let newest = app
        .state
        .ctx
        .seats()
        .live(user_id(&app, "milo").await)
        .await
        .unwrap();
    let b_seat = newest.iter().map(|s| s.id.0).max().unwrap();
    assert_eq!(
        alert.link.unwrap().href.as_str(),
        format!("/sessions?review={b_seat}")
    );
    assert!(alert.detail.unwrap().contains("this network"));
    // Re-authenticating gives this session a new id; the channel follows the seat.
    let confirmed = a.call("/api/sessions/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    b.submit("/api/logout", &[]).await;
    // An ending elsewhere: re-read, nothing to alert.
    assert_eq!(
        events.next().await,
        Some(("changed".to_owned(), "null".to_owned()))
    );
    // Still live: a logout elsewhere does not end this session.
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
}

async fn a_channel_opened_after_the_kick_carries_the_message(db: TestDb) {
    let app = spawn_app(db).await;
    create_user(&app, "nico").await;
    let a = app.browser_in("ko");
    a.log_in("nico").await;
    app.browser().log_in("nico").await;

    let response = a.events().await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut events = Events {
        response,
        buffer: String::new(),
    };
    let (name, data) = events.next().await.expect("an event");
    assert_eq!(name, "ended");
    let toast: app::models::Toast = serde_json::from_str(&data).expect("the toast as JSON");
    assert_eq!(toast.title, KICKED_KO);
    assert_eq!(events.next().await, None);
    // Signed out on the spot, so the message is not repeated.
    assert_eq!(a.events().await.status(), StatusCode::UNAUTHORIZED);
}

async fn anonymous_and_forged_sessions_get_no_channel(db: TestDb) {
    let app = spawn_app(db).await;
    assert_eq!(app.browser().events().await.status(), StatusCode::UNAUTHORIZED);
    let forged = app
        .browser()
        .client
        .get(format!("{}/api/session/events", app.base))
        .header(header::COOKIE, format!("{SESSION_COOKIE}=AAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

async fn operator_sign_outs_and_expiry_reach_the_channel(db: TestDb) {
    let app = spawn_app_with(db, notices_only).await;
    create_user(&app, "quin").await;
    let user = user_id(&app, "quin").await;
    let seats = &app.state.ctx.seats();
    let a = app.browser();
    a.log_in("quin").await;
    let mut events = a.listen().await;
    seats
        .end_all(
            user,
            single_login::EndReason::Revoked,
            None,
            single_login::EndedBy::Operator,
        )
        .await
        .unwrap();
    assert_eq!(
        events.next().await.map(|(name, _)| name).as_deref(),
        Some("ended")
    );

    a.log_in("quin").await;
    let mut events = a.listen().await;
    let now = single_login::Millis::now();
    // A minute from now, with no idle time allowed: every seat has expired.
    let lifetimes = single_login::Lifetimes {
        idle: Duration::ZERO,
        max: Duration::from_secs(3600),
    };
    seats
        .expire(&lifetimes, now.plus(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(
        events.next().await.map(|(name, _)| name).as_deref(),
        Some("ended")
    );
}

async fn open_channels_close_when_the_server_stops(db: TestDb) {
    let app = spawn_app(db).await;
    create_user(&app, "olga").await;
    let a = app.browser();
    a.log_in("olga").await;
    let mut events = a.listen().await;
    app.state.shutdown.trigger();
    assert_eq!(events.next().await, None);
    // The session itself is untouched: a restarted server would carry on.
    assert_eq!(a.get("/").await.status(), StatusCode::OK);
}

/// On PostgreSQL through `NOTIFY`: the periodic re-read is an hour away, so nothing else
/// can deliver it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgres_a_kick_on_another_process_reaches_the_channel_at_once() {
    kick_across_processes(testkit::postgres().await, Duration::from_secs(3600)).await;
}

/// SQLite has no channel between processes: the kick arrives at the next periodic re-read.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_sqlite_a_kick_on_another_process_arrives_at_the_next_re_read() {
    kick_across_processes(testkit::sqlite().await, Duration::from_millis(200)).await;
}

on_both_backends!(
    an_open_page_hears_at_once_that_its_session_ended,
    a_channel_hears_of_the_users_other_sessions,
    a_channel_opened_after_the_kick_carries_the_message,
    anonymous_and_forged_sessions_get_no_channel,
    operator_sign_outs_and_expiry_reach_the_channel,
    open_channels_close_when_the_server_stops,
);
