//! The two examples, driven over real HTTP on both databases: a second login signs the first
//! browser out, the kicked request gets the answer the example chose, and simultaneous
//! logins leave exactly the limit. The examples are compiled in as they are; only their
//! `main` goes unused. Then the ways an adopter could misuse the library, each shown to fail
//! loudly or to be refused.

#[allow(dead_code)]
#[path = "../examples/axum_login.rs"]
mod axum_login;
#[allow(dead_code)]
#[path = "../examples/plain.rs"]
mod plain;
#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

use std::net::SocketAddr;

use http::StatusCode;
use single_login::{Accounts, Password, Policy, SeatId, Seats, UserId, Username};
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
    let base = serve(plain::app(db.db.clone(), Policy::default(), false).await.unwrap()).await;
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
    // The reason is in a signed cookie, not the URL.
    assert_eq!(location(&kicked), "/login");
    assert!(kicked.headers().contains_key("clear-site-data"));
    let login_page = |browser: &reqwest::Client, path: &str| {
        let request = browser.get(format!("{base}{path}"));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let page = login_page(&a, "/login").await;
    assert!(page.contains("signed in somewhere else"), "{page}");
    let again = login_page(&a, "/login").await;
    assert!(!again.contains("signed in"), "shown once: {again}");
    // A link anyone could send says nothing.
    let forged = login_page(&browser(), "/login?ended=replaced").await;
    assert!(!forged.contains("signed in"), "{forged}");
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
    assert!(login_page(&b, "/login").await.contains("You signed out"));
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
    let base = serve(plain::app(db.db.clone(), limit, false).await.unwrap()).await;
    // Fewer than the throttle's 10 attempts in flight per name and address: attempts count
    // until they succeed.
    let browsers: Vec<_> = (0..8).map(|_| browser()).collect();
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
    let base = serve(
        axum_login::app(db.db.clone(), Policy::default(), ferris(), false)
            .await
            .unwrap(),
    )
    .await;
    let (a, b) = (browser(), browser());
    assert_eq!(location(&log_in(&a, &base, "ferris", "hunter42").await), "/");
    let home: serde_json::Value = a.get(&base).send().await.unwrap().json().await.unwrap();
    assert_eq!(home["user"], "ferris");

    assert_eq!(location(&log_in(&b, &base, "ferris", "hunter42").await), "/");
    let kicked = a.get(&base).send().await.unwrap();
    assert_eq!(kicked.status(), StatusCode::UNAUTHORIZED);
    // The app's own answer to a kick still leaves with the hardening headers.
    assert_hardened(&kicked, false);
    let forged = b
        .post(format!("{base}/logout"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
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
    let base = serve(
        axum_login::app(db.db.clone(), Policy::default(), ferris(), false)
            .await
            .unwrap(),
    )
    .await;
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

/// The example checks passwords through the throttled login: guessing from one address is
/// refused before any hash is computed.
async fn plain_guessing_is_throttled(db: TestDb) {
    alice(&db).await;
    let base = serve(plain::app(db.db.clone(), Policy::default(), false).await.unwrap()).await;
    let guesser = browser();
    let mut statuses = Vec::new();
    for n in 0..50 {
        let response = log_in(&guesser, &base, "alice", &format!("guess number {n}")).await;
        statuses.push(response.status());
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(refused >= 30, "{statuses:?}");
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS));
}

/// The library's hardening headers on a response; HSTS exactly where cookies are `Secure`.
fn assert_hardened(response: &reqwest::Response, secure: bool) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let csp = header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"),
        "{csp}"
    );
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(header("strict-transport-security").is_some(), secure);
}

/// Secure cookies by default (`__Host-`), the hardening headers on pages and errors alike,
/// and a cross-site form post is refused.
async fn plain_cookies_are_secure_and_cross_site_forms_refused(db: TestDb) {
    alice(&db).await;
    let secure = serve(plain::app(db.db.clone(), Policy::default(), true).await.unwrap()).await;
    let response = log_in(&browser(), &secure, "alice", "correct horse battery").await;
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(cookie.starts_with("__Host-single_login_session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert_hardened(&response, true);
    let page = browser().get(format!("{secure}/login")).send().await.unwrap();
    assert_hardened(&page, true);
    let insecure = serve(plain::app(db.db.clone(), Policy::default(), false).await.unwrap()).await;
    let page = browser().get(format!("{insecure}/login")).send().await.unwrap();
    assert_hardened(&page, false);
    let forged = browser()
        .post(format!("{secure}/login"))
        .header("origin", "https://evil.example")
        .form(&[("username", "alice"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_hardened(&forged, true);
}

/// The seat check's answers to an app wired wrong: served without `ConnectInfo`, or with
/// the check outside the session layer, every request is 500 (never a silent pass).
async fn a_miswired_app_fails_loudly(db: TestDb) {
    use axum::routing::get;
    use single_login::web::{HashedStore, SignedIn, SingleLogin};

    let login = SingleLogin::new(db.db.clone(), Policy::default()).insecure_cookies_for_development();
    let store = HashedStore::new(&db.db);
    store.migrate().await.unwrap();
    let home = || get(|me: SignedIn| async move { format!("{}", me.user.0) });
    // No ConnectInfo.
    let router = axum::Router::new()
        .route("/", home())
        .layer(login.session_layer(store.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let answer = browser().get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // The check outside the session layer.
    let router = axum::Router::new()
        .route("/", home())
        .layer(login.session_manager(store))
        .layer(login.layer());
    let base = serve(router).await;
    let answer = browser().get(&base).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

/// The seat follows the application's own session expiry: with sessions that end after one
/// idle second, a copy of the cookie replayed two seconds later is signed out.
async fn the_seat_follows_the_apps_session_expiry(db: TestDb) {
    use axum::routing::{get, post};
    use single_login::web::{Client, HashedStore, SignedIn, SingleLogin};
    use tower_sessions::{Expiry, Session, SessionManagerLayer};

    let user = alice(&db).await;
    let login = SingleLogin::new(db.db.clone(), Policy::default());
    let store = HashedStore::new(&db.db);
    store.migrate().await.unwrap();
    let sessions = SessionManagerLayer::new(store)
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(1)));
    let signing_in = login.clone();
    let router = axum::Router::new()
        .route("/", get(|me: SignedIn| async move { format!("{}", me.user.0) }))
        .route(
            "/login",
            post(move |session: Session, client: Client| async move {
                let ticket = signing_in.begin_login(user).await.unwrap();
                signing_in.log_in(&session, ticket, &client).await.unwrap();
                "ok"
            }),
        )
        .layer(login.layer())
        .layer(sessions);
    let base = serve(router).await;
    let response = reqwest::Client::new()
        .post(format!("{base}/login"))
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let replay = || {
        reqwest::Client::new()
            .get(&base)
            .header("cookie", cookie.clone())
            .send()
    };
    assert_eq!(replay().await.unwrap().status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert_eq!(replay().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

/// A login begun before the application's password change never opens a seat after it,
/// and the change ends the other sessions; renewing or ending needs the signed-in state of
/// the session itself.
async fn credential_changes_refuse_logins_under_way(db: TestDb) {
    use single_login::web::{Client, Error, HashedStore, SignedIn, SingleLogin};
    use single_login::LoginOutcome;
    use tower_sessions::Session;

    let user = alice(&db).await;
    let login = SingleLogin::new(
        db.db.clone(),
        Policy {
            max_sessions: 3,
            ..Policy::default()
        },
    );
    let store = std::sync::Arc::new(HashedStore::new(&db.db));
    store.migrate().await.unwrap();
    let session = || Session::new(None, store.clone(), None);
    let client = Client::default();

    let (first, second) = (session(), session());
    let ticket = login.begin_login(user).await.unwrap();
    let LoginOutcome::SignedIn { seat, .. } = login.log_in(&first, ticket, &client).await.unwrap() else {
        panic!("first login refused");
    };
    let me = SignedIn {
        user,
        seat,
        username: "alice".into(),
    };
    // Begun, then the password changes (another session keeps going), then finished.
    let under_way = login.begin_login(user).await.unwrap();
    let ended = login.credentials_changed(user, Some(&me)).await.unwrap();
    assert_eq!(ended, 0);
    let late = login.log_in(&second, under_way, &client).await.unwrap();
    assert!(
        matches!(late, LoginOutcome::CredentialsChanged { .. }),
        "{late:?}"
    );
    assert_eq!(Seats::new(db.db.clone()).live(user).await.unwrap().len(), 1);

    // A fresh login works, and the next change ends it but keeps `me`.
    let third = session();
    let ticket = login.begin_login(user).await.unwrap();
    let LoginOutcome::SignedIn { seat: other, .. } = login.log_in(&third, ticket, &client).await.unwrap()
    else {
        panic!("fresh login refused");
    };
    assert_eq!(login.credentials_changed(user, Some(&me)).await.unwrap(), 1);

    // Renewal takes the session's own signed-in state only.
    let not_mine = SignedIn {
        seat: other,
        ..me.clone()
    };
    assert!(matches!(
        login.renew(&first, &not_mine).await,
        Err(Error::NotYours)
    ));
    assert!(login.renew(&first, &me).await.unwrap());
    // Ending another user's seat does nothing.
    let stranger = SignedIn {
        user: UserId(user.0 + 1000),
        seat: SeatId(seat.0 + 1000),
        username: "mallory".into(),
    };
    assert!(!login.end_session(&stranger, seat).await.unwrap());
    assert_eq!(Seats::new(db.db.clone()).live(user).await.unwrap().len(), 1);
}

/// The quick start in `docs/library.md` is `examples/quickstart.rs`, word for word, and it
/// works: a second login sends the first browser to the login page.
async fn the_readme_quick_start_works_as_written(db: TestDb) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/library.md")).unwrap();
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/quickstart.rs")).unwrap();
    let body = example
        .split_once("\nuse ")
        .map(|(_, rest)| format!("use {rest}"))
        .unwrap();
    assert!(
        readme.contains(&format!("```rust\n{body}```")),
        "docs/library.md's quick start differs from examples/quickstart.rs (after its header)"
    );
    let base = serve(quickstart::app(db.db.clone(), false).await.unwrap()).await;
    let (a, b) = (browser(), browser());
    let login = |browser: &reqwest::Client| {
        browser
            .post(format!("{base}/login"))
            .form(&[("username", "ferris"), ("password", "correct horse battery")])
            .send()
    };
    assert_eq!(location(&login(&a).await.unwrap()), "/");
    assert_eq!(a.get(&base).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(location(&login(&b).await.unwrap()), "/");
    let kicked = a.get(&base).send().await.unwrap();
    assert_eq!(
        (kicked.status(), location(&kicked)),
        (StatusCode::SEE_OTHER, "/login")
    );
    assert_eq!(b.get(&base).send().await.unwrap().status(), StatusCode::OK);
}

on_both_backends!(
    the_readme_quick_start_works_as_written,
    plain_guessing_is_throttled,
    plain_cookies_are_secure_and_cross_site_forms_refused,
    a_miswired_app_fails_loudly,
    the_seat_follows_the_apps_session_expiry,
    credential_changes_refuse_logins_under_way,
    plain_a_second_login_sends_the_first_to_the_login_page_saying_why,
    plain_simultaneous_logins_leave_exactly_the_limit,
    axum_login_a_second_login_answers_the_first_with_json,
    axum_login_simultaneous_logins_leave_exactly_one,
);
