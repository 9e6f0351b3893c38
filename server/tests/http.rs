//! The real router over real HTTP, on SQLite and PostgreSQL. Each `reqwest` client with its
//! own cookie jar is one browser.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::error::AppError;
use common::TestDb;
use leptos::config::LeptosOptions;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{header, StatusCode};
use server::config::{Config, Settings};
use server::{router, AppState, SESSION_COOKIE};
use tower_sessions::session::Id;
use tower_sessions::SessionStore;

const KICKED_EN: &str = "You were signed out because your account signed in from another browser.";
const KICKED_KO: &str =
    "동일 아이디로 다른 브라우저 웹사이트에서 로그인이 감지되어, 강제 로그아웃되었습니다.";
const PASSWORD: &str = "correct horse battery";

struct TestApp {
    base: String,
    state: AppState,
    _db: TestDb,
}

async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

async fn spawn_app_with(db: TestDb, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = Settings::defaults_for(addr);
    adjust(&mut settings);
    let config = Config {
        leptos: LeptosOptions::builder()
            .output_name("single-login")
            .site_addr(addr)
            .build(),
        database_url: db.url.clone(),
        settings,
    };
    let state = AppState::start(&config).await.expect("start the app");
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TestApp {
        base: format!("http://{addr}"),
        state,
        _db: db,
    }
}

/// One browser: its own cookie jar, redirects not followed.
struct Browser {
    client: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
    lang: &'static str,
}

impl TestApp {
    fn browser(&self) -> Browser {
        self.browser_in("en-US,en;q=0.9")
    }

    fn browser_in(&self, lang: &'static str) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
            .build()
            .unwrap();
        Browser {
            client,
            jar,
            base: self.base.clone(),
            lang,
        }
    }
}

impl Browser {
    /// A page request, as a browser sends it.
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::ACCEPT_LANGUAGE, self.lang)
            .send()
            .await
            .unwrap()
    }

    /// A plain HTML form post (no JavaScript), from the page that holds the form.
    async fn submit(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let page = match path {
            "/api/signup" => "/signup",
            "/api/login" => "/login",
            _ => "/",
        };
        self.client
            .post(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::ACCEPT_LANGUAGE, self.lang)
            .header(header::REFERER, format!("{}{page}", self.base))
            .header("sec-fetch-site", "same-origin")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A server-function call from the hydrated app.
    async fn call(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header(header::ACCEPT, "application/json")
            .header(header::ACCEPT_LANGUAGE, self.lang)
            .header("sec-fetch-site", "same-origin")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn sign_up(&self, name: &str) -> reqwest::Response {
        self.submit(
            "/api/signup",
            &[
                ("username", name),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await
    }

    async fn log_in(&self, name: &str) -> reqwest::Response {
        self.submit("/api/login", &[("username", name), ("password", PASSWORD)])
            .await
    }

    fn session_cookie(&self) -> Option<String> {
        let url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|pair| pair.strip_prefix(&format!("{SESSION_COOKIE}=")))
            .map(str::to_owned)
    }

    async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.unwrap())
    }
}

fn location(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get(header::LOCATION)
        .map_or("", |v| v.to_str().unwrap())
}

fn assert_redirect(response: &reqwest::Response, to: &str) {
    assert!(
        response.status().is_redirection(),
        "expected a redirect to {to}, got {}",
        response.status()
    );
    assert_eq!(location(response), to);
}

/// Occurrences of `text` in toasts (the page also carries it once in its hydration data).
fn toasts_saying(html: &str, text: &str) -> usize {
    html.matches(&format!("class=\"toast-title\">{text}"))
        .count()
}

// --- Accounts ---------------------------------------------------------------------------

async fn sign_up_signs_in_and_shows_the_home_page(db: TestDb) {
    let app = spawn_app(db).await;
    let alice = app.browser();
    let response = alice.sign_up("Alice").await;
    assert_redirect(&response, "/");
    let (status, html) = alice.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Signed in as <strong>Alice</strong>"),
        "{html}"
    );
    assert!(html.contains("Log out"));
}

async fn a_taken_username_is_refused_whatever_its_case(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("Alice").await;
    let response = app.browser().sign_up("aLICE").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("That username is taken"), "{html}");
    assert!(html.contains("<form"), "the form is shown again");

    let response = app
        .browser()
        .call(
            "/api/signup",
            &[
                ("username", "ALICE"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: AppError = response.json().await.unwrap();
    assert_eq!(
        error.for_field(app::error::Field::Username).as_deref(),
        Some("That username is taken")
    );
}

async fn bad_sign_up_input_gets_a_field_message_and_a_4xx(db: TestDb) {
    let app = spawn_app(db).await;
    let browser = app.browser();
    let long = "a".repeat(5000);
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[
                ("username", "ab"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
            "at least 3",
        ),
        (
            &[
                ("username", "bob smith"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
            "only letters",
        ),
        (
            &[
                ("username", "bo\u{202e}b"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
            "only letters",
        ),
        (
            &[
                ("username", &long),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
            "at most 32",
        ),
        (
            &[
                ("username", "bobby"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
            "at least 8",
        ),
        (
            &[
                ("username", "bobby"),
                ("password", &long),
                ("password_confirm", &long),
            ],
            "at most 128",
        ),
        (
            &[
                ("username", "bobby"),
                ("password", PASSWORD),
                ("password_confirm", "something else"),
            ],
            "do not match",
        ),
    ];
    for (form, message) in cases {
        let response = browser.call("/api/signup", form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{message}"
        );
        let error: AppError = response.json().await.unwrap();
        assert!(matches!(error, AppError::Invalid { .. }), "{error:?}");
        assert!(
            error.to_string().contains(message),
            "{error} should say {message}"
        );

        let response = browser.submit("/api/signup", form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{message}"
        );
        assert!(response.text().await.unwrap().contains(message));
    }
    // Nothing was created along the way.
    let none = app
        .state
        .ctx
        .accounts
        .find_by_name(&single_login::Username::parse("bobby").unwrap())
        .await
        .unwrap();
    assert!(none.is_none());
}

async fn malformed_requests_get_a_4xx_never_a_500(db: TestDb) {
    let app = spawn_app(db).await;
    let browser = app.browser();
    for body in [
        "",
        "username=bob",
        "%%%",
        "username=%FF%FE&password=x&password_confirm=x",
        "username[]=a&password=b",
    ] {
        let status = browser
            .client
            .post(format!("{}/api/signup", browser.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_client_error(), "{body:?} gave {status}");
    }
    // Over the 16 KiB limit, but small enough to be sent whole before the answer arrives.
    let huge = "a".repeat(20_000);
    let status = browser
        .call("/api/login", &[("username", "bob"), ("password", &huge)])
        .await
        .status();
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let status = browser
        .client
        .post(format!("{}/api/login", browser.base))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"username\": 1}")
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_client_error(), "{status}");
}

async fn login_with_a_wrong_password_looks_like_an_unknown_user(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("carol").await;
    let wrong = app
        .browser()
        .call(
            "/api/login",
            &[("username", "carol"), ("password", "wrong password")],
        )
        .await;
    let unknown = app
        .browser()
        .call(
            "/api/login",
            &[("username", "nobody"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), wrong.status());
    let (wrong, unknown) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(wrong, unknown);
    assert!(wrong.contains("InvalidCredentials"));

    let page = app
        .browser()
        .submit(
            "/api/login",
            &[("username", "carol"), ("password", "wrong password")],
        )
        .await;
    assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Invalid username or password"));
}

async fn login_then_logout(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("dave").await;
    let dave = app.browser();
    assert_redirect(&dave.log_in("DAVE").await, "/");
    assert_eq!(dave.get("/").await.status(), StatusCode::OK);

    let response = dave.submit("/api/logout", &[]).await;
    assert_redirect(&response, "/login");
    assert_redirect(&dave.get("/").await, "/login");
}

async fn anonymous_visitors_are_sent_to_login(db: TestDb) {
    let app = spawn_app(db).await;
    let response = app.browser().get("/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    let (status, html) = app.browser().page("/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Log in"));
}

async fn the_session_id_changes_at_every_login(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("erin").await;
    let erin = app.browser();
    erin.log_in("erin").await;
    let first = erin.session_cookie().expect("a session cookie after login");
    erin.log_in("erin").await;
    let second = erin
        .session_cookie()
        .expect("a session cookie after the second login");
    assert_ne!(first, second);

    // The old id is dead: a browser replaying it is not signed in.
    let replay = app.browser();
    replay.jar.add_cookie_str(
        &format!("{SESSION_COOKIE}={first}"),
        &app.base.parse().unwrap(),
    );
    assert_redirect(&replay.get("/").await, "/login");
    assert_eq!(erin.get("/").await.status(), StatusCode::OK);
}

async fn the_session_cookie_has_safe_flags(db: TestDb) {
    let app = spawn_app(db).await;
    let response = app.browser().sign_up("frank").await;
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(SESSION_COOKIE))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-http loopback: {cookie}");

    let secure = spawn_app_with(common::sqlite().await, |s| s.cookie_secure = true).await;
    let response = secure.browser().sign_up("frank").await;
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

async fn cross_origin_posts_are_refused(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("grace").await;
    let browser = app.browser();
    let form = [("username", "grace"), ("password", PASSWORD)];
    let url = format!("{}/api/login", app.base);
    let post = || browser.client.post(&url).form(&form);
    let by_fetch_site = post()
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(by_fetch_site.status(), StatusCode::FORBIDDEN);
    let by_origin = post()
        .header(header::ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(by_origin.status(), StatusCode::FORBIDDEN);
    assert!(browser.session_cookie().is_none(), "no login happened");
    let same = post()
        .header(header::ORIGIN, app.base.clone())
        .send()
        .await
        .unwrap();
    assert!(
        same.status().is_success() || same.status().is_redirection(),
        "{}",
        same.status()
    );
    assert!(browser.session_cookie().is_some());
}

// --- One login per user -------------------------------------------------------------------

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
    assert!(
        html.contains("New login"),
        "says when and from where: {html}"
    );
    assert!(
        html.contains("127.0.0.1") && html.contains("Chrome on Linux"),
        "{html}"
    );

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
    assert_eq!(
        toasts_saying(&html, "You have been signed out."),
        1,
        "{html}"
    );
    b.log_in("ken").await;
    let (_, html) = a.page("/login").await;
    assert_eq!(toasts_saying(&html, KICKED_EN), 0, "{html}");
    assert_eq!(
        toasts_saying(&html, "You have been signed out."),
        0,
        "{html}"
    );
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
            assert!(toast.detail.unwrap().contains("127.0.0.1"));
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
async fn requests_in_flight_during_the_kick_cannot_revive_it(db: TestDb) {
    let app = spawn_app_with(db, |s| s.touch_interval = Duration::ZERO).await;
    app.browser().sign_up("olga").await;
    for _ in 0..5 {
        let (a, b) = (Arc::new(app.browser()), app.browser());
        a.log_in("olga").await;
        let in_flight: Vec<_> = (0..10)
            .map(|_| {
                let a = a.clone();
                tokio::spawn(async move { a.call("/api/me", &[]).await.status() })
            })
            .collect();
        b.log_in("olga").await;
        for request in in_flight {
            let status = request.await.unwrap();
            assert!(
                status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
                "{status}"
            );
        }
        let after = a.call("/api/me", &[]).await.text().await.unwrap();
        assert!(
            after == "null" || after.contains("SessionEnded"),
            "A is signed out: {after}"
        );
        assert_redirect(&a.get("/").await, "/login");
        assert_eq!(b.get("/").await.status(), StatusCode::OK);
    }
}

on_both_backends!(
    sign_up_signs_in_and_shows_the_home_page,
    a_taken_username_is_refused_whatever_its_case,
    bad_sign_up_input_gets_a_field_message_and_a_4xx,
    malformed_requests_get_a_4xx_never_a_500,
    login_with_a_wrong_password_looks_like_an_unknown_user,
    login_then_logout,
    anonymous_visitors_are_sent_to_login,
    the_session_id_changes_at_every_login,
    the_session_cookie_has_safe_flags,
    cross_origin_posts_are_refused,
    a_second_login_signs_the_first_browser_out_with_a_message,
    the_message_is_korean_for_korean_browsers,
    other_users_keep_their_sessions,
    a_browser_that_logged_out_never_sees_the_kick_message,
    a_server_function_call_of_a_kicked_browser_gets_the_typed_error,
    a_kicked_browser_posting_a_form_is_sent_to_login,
    a_late_save_cannot_revive_a_kicked_session,
    requests_in_flight_during_the_kick_cannot_revive_it,
);
