//! The two examples, driven over real HTTP on both databases: a second login signs the first
//! browser out, the kicked request gets the answer the example chose, and simultaneous
//! logins leave exactly the limit. The examples are compiled in as they are; only their
//! `main` goes unused.

#[allow(dead_code)]
#[path = "../examples/axum_login.rs"]
mod axum_login;
#[allow(dead_code)]
#[path = "../examples/plain.rs"]
mod plain;

use std::net::SocketAddr;

use http::StatusCode;
use single_login::{Accounts, Password, Policy, Seats, UserId, Username};
use testkit::{on_both_backends, TestDb};

/// Serves `router` on a free port, as the examples' `main` does; returns its base URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    format!("http://{addr}")
}

/// A browser: its own cookie jar, redirects not followed.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn log_in(browser: &reqwest::Client, base: &str, name: &str, password: &str) -> reqwest::Response {
    browser
        .post(format!("{base}/login"))
        .form(&[("username", name), ("password", password)])
        .send()
        .await
        .unwrap()
}

fn location(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn alice(db: &TestDb) -> UserId {
    Accounts::new(db.db.clone())
        .sign_up(
            &Username::parse("alice").unwrap(),
            Password::parse("correct horse battery").unwrap(),
        )
        .await
        .unwrap()
        .id
}

async fn plain_a_second_login_sends_the_first_to_the_login_page_saying_why(db: TestDb) {
    alice(&db).await;
    let base = serve(plain::app(db.db.clone(), Policy::default())).await;
    let (a, b) = (browser(), browser());
    let signed_in = log_in(&a, &base, "alice", "correct horse battery").await;
    assert_eq!(
        (signed_in.status(), location(&signed_in)),
        (StatusCode::SEE_OTHER, "/")
    );
    assert_eq!(a.get(&base).send().await.unwrap().status(), StatusCode::OK);

    log_in(&b, &base, "alice", "correct horse battery").await;
    let kicked = a.get(&base).send().await.unwrap();
    assert_eq!(kicked.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&kicked), "/login?ended=replaced");
    assert!(kicked.headers().contains_key("clear-site-data"));
    let page = a
        .get(format!("{base}/login?ended=replaced"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("signed in somewhere else"), "{page}");
    // Told once: afterwards the browser is simply signed out.
    assert_eq!(
        a.get(&base).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(b.get(&base).send().await.unwrap().status(), StatusCode::OK);

    let wrong = log_in(&a, &base, "alice", "wrong password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let out = b.post(format!("{base}/logout")).send().await.unwrap();
    assert_eq!(location(&out), "/login");
    assert_eq!(
        b.get(&base).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn plain_simultaneous_logins_leave_exactly_the_limit(db: TestDb) {
    let user = alice(&db).await;
    let limit = Policy {
        max_sessions: 2,
        ..Policy::default()
    };
    let base = serve(plain::app(db.db.clone(), limit)).await;
    let browsers: Vec<_> = (0..12).map(|_| browser()).collect();
    let logins = browsers
        .iter()
        .map(|b| log_in(b, &base, "alice", "correct horse battery"));
    for response in futures_util::future::join_all(logins).await {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let mut live = 0;
    for b in &browsers {
        if b.get(&base).send().await.unwrap().status() == StatusCode::OK {
            live += 1;
        }
    }
    assert_eq!(live, 2);
    assert_eq!(Seats::new(db.db.clone()).live(user).await.unwrap().len(), 2);
}

fn ferris() -> axum_login::Backend {
    axum_login::Backend::with_users(&[(7, "ferris", "hunter42")])
}

async fn axum_login_a_second_login_answers_the_first_with_json(db: TestDb) {
    let base = serve(axum_login::app(db.db.clone(), Policy::default(), ferris())).await;
    let (a, b) = (browser(), browser());
    assert_eq!(location(&log_in(&a, &base, "ferris", "hunter42").await), "/");
    let home: serde_json::Value = a.get(&base).send().await.unwrap().json().await.unwrap();
    assert_eq!(home["user"], "ferris");

    assert_eq!(location(&log_in(&b, &base, "ferris", "hunter42").await), "/");
    let kicked = a.get(&base).send().await.unwrap();
    assert_eq!(kicked.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = kicked.json().await.unwrap();
    assert_eq!(
        (body["error"].as_str(), body["reason"].as_str()),
        (Some("session_ended"), Some("replaced"))
    );
    // The kick cleared the session, axum-login's user with it.
    assert_eq!(
        a.get(&base).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let home: serde_json::Value = b.get(&base).send().await.unwrap().json().await.unwrap();
    assert_eq!(home["user"], "ferris");
}

async fn axum_login_simultaneous_logins_leave_exactly_one(db: TestDb) {
    let base = serve(axum_login::app(db.db.clone(), Policy::default(), ferris())).await;
    let browsers: Vec<_> = (0..10).map(|_| browser()).collect();
    let logins = browsers.iter().map(|b| log_in(b, &base, "ferris", "hunter42"));
    futures_util::future::join_all(logins).await;
    let mut live = 0;
    for b in &browsers {
        if b.get(&base).send().await.unwrap().status() == StatusCode::OK {
            live += 1;
        }
    }
    assert_eq!(live, 1);
    assert_eq!(Seats::new(db.db.clone()).live(UserId(7)).await.unwrap().len(), 1);
}

on_both_backends!(
    plain_a_second_login_sends_the_first_to_the_login_page_saying_why,
    plain_simultaneous_logins_leave_exactly_the_limit,
    axum_login_a_second_login_answers_the_first_with_json,
    axum_login_simultaneous_logins_leave_exactly_one,
);
