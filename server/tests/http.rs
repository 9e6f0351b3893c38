//! The real router over real HTTP, on SQLite and PostgreSQL. Each `reqwest` client with its
//! own cookie jar is one browser.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use app::error::AppError;
use app::models::SessionsPage;
use common::TestDb;
use leptos::config::LeptosOptions;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{header, StatusCode};
use server::config::{Config, Settings};
use server::{router, AppState, SESSION_COOKIE};
use single_login::OnLimit;
use tower_sessions::session::Id;
use tower_sessions::SessionStore;

const KICKED_EN: &str = "You were signed out because your account signed in from another browser.";
const KICKED_KO: &str =
    "동일 아이디로 다른 브라우저 웹사이트에서 로그인이 감지되어, 강제 로그아웃되었습니다.";
const PASSWORD: &str = "correct horse battery";

struct TestApp {
    base: String,
    state: AppState,
    database_url: String,
    /// `None` for a peer, which shares another app's database.
    _db: Option<TestDb>,
    /// The site root: a stylesheet, script and wasm under `pkg/`, as cargo-leptos builds them.
    _site: tempfile::TempDir,
}

async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

async fn spawn_app_with(db: TestDb, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut app = serve(&db.url, adjust, false).await;
    app._db = Some(db);
    app
}

/// An app whose assets have content-hashed names, as cargo-leptos builds them.
async fn spawn_app_with_hashed_assets(db: TestDb) -> TestApp {
    let mut app = serve(&db.url, |_| {}, true).await;
    app._db = Some(db);
    app
}

/// A second server process on the same database.
async fn spawn_peer(app: &TestApp, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    serve(&app.database_url, adjust, false).await
}

async fn serve(database_url: &str, adjust: impl FnOnce(&mut Settings), hashed: bool) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = Settings::defaults_for(addr, leptos::config::Env::DEV);
    // Every test browser comes from 127.0.0.1, and tests run at once on a busy machine: the
    // per-address limit and the hashing queue are tested where they are set low on purpose.
    settings.throttle.address_max_attempts = 10_000;
    settings.hash_queue_timeout = Duration::from_secs(120);
    adjust(&mut settings);
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir(site.path().join("pkg")).unwrap();
    for (file, text) in [
        ("single-login.css", "body { margin: 0 }"),
        ("single-login.js", "export default function init() {}"),
        ("single-login.wasm", "\0asm"),
        // A precompressed sibling, as `--precompress` writes it (content irrelevant here).
        ("single-login.css.br", "brotli bytes"),
    ] {
        std::fs::write(site.path().join("pkg").join(file), text).unwrap();
    }
    let config = Config {
        leptos: LeptosOptions::builder()
            .output_name("single-login")
            .site_addr(addr)
            .site_root(site.path().display().to_string())
            .hash_files(hashed)
            .build(),
        database_url: database_url.to_owned(),
        settings,
    };
    let state = AppState::start(&config).await.expect("start the app");
    let app = router(state.clone());
    let header_read_timeout = state.settings.header_read_timeout;
    tokio::spawn(server::serve::serve(
        listener,
        app,
        header_read_timeout,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    TestApp {
        base: format!("http://{addr}"),
        state,
        database_url: database_url.to_owned(),
        _db: None,
        _site: site,
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
        self.browser_with(lang, header::HeaderMap::new())
    }

    /// A browser behind a proxy that says it forwards for `ip`.
    fn browser_from(&self, ip: &str) -> Browser {
        let mut headers = header::HeaderMap::new();
        headers.insert("x-forwarded-for", ip.parse().unwrap());
        self.browser_with("en", headers)
    }

    /// A browser that sends a copy of someone's session cookie.
    fn browser_replaying(&self, cookie: &str) -> Browser {
        let browser = self.browser();
        browser
            .jar
            .add_cookie_str(&format!("{SESSION_COOKIE}={cookie}"), &self.base.parse().unwrap());
        browser
    }

    fn browser_with(&self, lang: &'static str, headers: header::HeaderMap) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
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
            "/api/login" | "/api/login/continue" | "/api/login/cancel" => "/login",
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

/// A live channel, read as a browser's `EventSource` would.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Browser {
    async fn events(&self) -> reqwest::Response {
        self.client
            .get(format!("{}/api/session/events", self.base))
            .header(header::ACCEPT, "text/event-stream")
            .header(header::ACCEPT_LANGUAGE, self.lang)
            .send()
            .await
            .unwrap()
    }

    /// Opens the live channel and waits until it listens.
    async fn listen(&self) -> Events {
        let response = self.events().await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
        let mut events = Events {
            response,
            buffer: String::new(),
        };
        assert_eq!(
            events.next().await.map(|(name, _)| name).as_deref(),
            Some("ready")
        );
        events
    }
}

impl Events {
    /// The next event's name and data; `None` when the server closed the stream. Gives up
    /// (fails the test) after half a minute rather than hang.
    async fn next(&mut self) -> Option<(String, String)> {
        tokio::time::timeout(Duration::from_secs(30), self.read())
            .await
            .expect("no event within 30 s")
    }

    async fn read(&mut self) -> Option<(String, String)> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut name, mut data) = (None, String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                // As in a browser: an event without data is never dispatched (the SSE spec),
                // and blocks without a name here are keep-alive comments.
                if let (Some(name), false) = (name, data.is_empty()) {
                    return Some((name, data));
                }
            }
            let chunk = self.response.chunk().await.unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
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
    html.matches(&format!("class=\"toast-title\">{text}")).count()
}

// --- Accounts ---------------------------------------------------------------------------

async fn sign_up_signs_in_and_shows_the_home_page(db: TestDb) {
    let app = spawn_app(db).await;
    let alice = app.browser();
    let response = alice.sign_up("Alice").await;
    assert_redirect(&response, "/");
    let (status, html) = alice.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Signed in as <strong>Alice</strong>"), "{html}");
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
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        let error: AppError = response.json().await.unwrap();
        assert!(matches!(error, AppError::Invalid { .. }), "{error:?}");
        assert!(
            error.to_string().contains(message),
            "{error} should say {message}"
        );

        let response = browser.submit("/api/signup", form).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
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
        .call("/api/login", &[("username", "nobody"), ("password", PASSWORD)])
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
    // Whatever the request accepts, the page is not rendered for nobody.
    let plain = app
        .browser()
        .client
        .get(format!("{}/sessions", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::SEE_OTHER);
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
    assert_redirect(&app.browser_replaying(&first).get("/").await, "/login");
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

async fn pages_and_answers_are_never_cached(db: TestDb) {
    let app = spawn_app(db).await;
    let browser = app.browser();
    let no_store = |response: &reqwest::Response| {
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(
        no_store(&browser.get("/login").await).as_deref(),
        Some("no-store")
    );
    let signed_up = browser.sign_up("uma").await;
    assert_eq!(no_store(&signed_up).as_deref(), Some("no-store"));
    assert_eq!(no_store(&browser.get("/").await).as_deref(), Some("no-store"));
    let me = browser.call("/api/sessions", &[]).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(no_store(&me).as_deref(), Some("no-store"));
    // The event stream keeps its own `no-cache`.
    let events = browser.events().await;
    assert_eq!(no_store(&events).as_deref(), Some("no-cache"));
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
    assert!(html.contains("New login"), "says when and from where: {html}");
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

// --- Policies and the client IP -------------------------------------------------------------

/// An account with no session yet (signing up through the app would hold one).
async fn create_user(app: &TestApp, name: &str) {
    app.state
        .ctx
        .accounts
        .sign_up(
            &single_login::Username::parse(name).unwrap(),
            single_login::Password::parse(PASSWORD).unwrap(),
        )
        .await
        .unwrap();
}

async fn user_id(app: &TestApp, name: &str) -> single_login::UserId {
    let name = single_login::Username::parse(name).unwrap();
    app.state
        .ctx
        .accounts
        .find_by_name(&name)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn live_ips(app: &TestApp, name: &str) -> Vec<String> {
    let user = user_id(app, name).await;
    let mut ips: Vec<String> = app
        .state
        .ctx
        .seats
        .live(user)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|s| s.client_ip)
        .collect();
    ips.sort();
    ips
}

fn policy(on_limit: OnLimit) -> impl FnOnce(&mut Settings) {
    move |s| s.policy.on_limit = on_limit
}

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
            assert_eq!(sessions[0].last_active, "just now");
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
        s.policy.on_limit = OnLimit::DenyNew;
        s.policy.idle_after = Duration::from_secs(1);
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
        s.policy.on_limit = OnLimit::Ask;
        s.policy.max_sessions = 2;
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
        s.touch_interval = Duration::ZERO;
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
        s.policy.on_limit = OnLimit::Ask;
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
        s.policy.max_sessions = 2;
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
        s.policy.same_ip_shares_seat = true;
        s.client_ip.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
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

    let proxied = spawn_app_with(common::sqlite().await, |s| {
        s.client_ip.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
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
        s.policy.max_sessions = 3;
        s.throttle.max_failures = 100;
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

// --- Your sessions ---------------------------------------------------------------------------

const REVOKED_EN: &str = "You were signed out: this session was ended from another session of your account.";

async fn sessions_of(browser: &Browser) -> SessionsPage {
    let response = browser.call("/api/sessions", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn other_id(page: &SessionsPage) -> String {
    page.live
        .iter()
        .find(|s| !s.current)
        .expect("another session")
        .id
        .to_string()
}

fn limit(n: u32) -> impl FnOnce(&mut Settings) {
    move |s| s.policy.max_sessions = n
}

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
        .seats
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
        error.for_field(app::error::Field::CurrentPassword).is_some(),
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
        database_url: url,
        settings: Settings::defaults_for("127.0.0.1:0".parse().unwrap(), leptos::config::Env::DEV),
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
        app.state.ctx.seats.live(user).await.unwrap().is_empty(),
        "expired"
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    app.state.purge().await.unwrap();
    assert!(
        app.state.ctx.seats.history(user, 20).await.unwrap().is_empty(),
        "purged"
    );
    assert_redirect(&a.get("/").await, "/login");
}

async fn too_many_failed_logins_are_throttled_per_username_and_ip(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.throttle.max_failures = 3;
        s.client_ip.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
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
        s.throttle.max_failures = 4;
        s.client_ip.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
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
        s.throttle.max_failures = 3;
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
        s.policy.on_limit = OnLimit::DenyNew;
        s.throttle.max_failures = 1;
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

// --- The live channel -----------------------------------------------------------------

/// The channel's periodic re-read an hour away: what arrives came by notice.
fn notices_only(s: &mut Settings) {
    s.live_recheck_interval = Duration::from_secs(3600);
}

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
        s.policy.max_sessions = 3;
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
        .seats
        .live(user_id(&app, "milo").await)
        .await
        .unwrap();
    let b_seat = newest.iter().map(|s| s.id.0).max().unwrap();
    assert_eq!(
        alert.link.unwrap().href.as_str(),
        format!("/sessions?review={b_seat}")
    );
    assert!(alert.detail.unwrap().contains("127.0.0.1"));
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
    let seats = &app.state.ctx.seats;
    let a = app.browser();
    a.log_in("quin").await;
    let mut events = a.listen().await;
    seats
        .end_all(user, single_login::EndReason::Revoked, None, None)
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

/// A login on a second server process ends the session whose channel the first one holds.
async fn kick_across_processes(db: TestDb, recheck: Duration) {
    let first = spawn_app_with(db, |s| s.live_recheck_interval = recheck).await;
    let second = spawn_peer(&first, |_| {}).await;
    create_user(&first, "pia").await;
    let a = first.browser();
    a.log_in("pia").await;
    let mut events = a.listen().await;
    second.browser().log_in("pia").await;
    assert_eq!(
        events.next().await.map(|(name, _)| name).as_deref(),
        Some("ended")
    );
}

/// On PostgreSQL through `NOTIFY`: the periodic re-read is an hour away, so nothing else
/// can deliver it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgres_a_kick_on_another_process_reaches_the_channel_at_once() {
    kick_across_processes(common::postgres().await, Duration::from_secs(3600)).await;
}

/// SQLite has no channel between processes: the kick arrives at the next periodic re-read.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_sqlite_a_kick_on_another_process_arrives_at_the_next_re_read() {
    kick_across_processes(common::sqlite().await, Duration::from_millis(200)).await;
}

// --- Abuse resistance -------------------------------------------------------------------

/// A hundred wrong passwords at once for one name from one address: no more are checked
/// than the limit, the rest are refused before any hash.
async fn parallel_wrong_passwords_never_pass_the_limit(db: TestDb) {
    let app = Arc::new(spawn_app_with(db, |s| s.throttle.max_failures = 10).await);
    create_user(&app, "wanda").await;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                app.browser()
                    .call(
                        "/api/login",
                        &[("username", "wanda"), ("password", "wrong password!")],
                    )
                    .await
                    .status()
            })
        })
        .collect();
    let (mut checked, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((checked, refused), (10, 90));
    // The right password from that address waits too; from elsewhere (a new browser behind a
    // trusted proxy would be elsewhere) the owner is not locked out: see the next test.
    let owner = app
        .browser()
        .call("/api/login", &[("username", "wanda"), ("password", PASSWORD)])
        .await;
    assert_eq!(owner.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(owner.headers().contains_key(header::RETRY_AFTER));
}

async fn the_per_address_limit_holds_across_names_signups_and_ipv6_neighbours(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.throttle.address_max_attempts = 4;
        s.client_ip.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    create_user(&app, "xena").await;
    let from = |ip: &str| app.browser_from(ip);
    // Four checks from one address, each with another name (one a signup): then 429.
    for name in ["nobody1", "nobody2", "nobody3"] {
        let response = from("198.51.100.7").log_in(name).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
    assert_redirect(&from("198.51.100.7").sign_up("newbie").await, "/");
    let refused = from("198.51.100.7").log_in("xena").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let refused = from("198.51.100.7").sign_up("newbie2").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.text().await.unwrap().contains("Too many attempts"));
    // Another address is another client: the owner gets in.
    assert_redirect(&from("198.51.100.8").log_in("xena").await, "/");
    // An IPv6 client holds its whole /64.
    for n in 1..=4 {
        let response = from(&format!("2001:db8:7:7::{n}")).log_in("nobody").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let neighbour = from("2001:db8:7:7:abcd::1").log_in("xena").await;
    assert_eq!(neighbour.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_redirect(&from("2001:db8:7:8::1").log_in("xena").await, "/");
}

async fn re_authentication_is_limited_per_user(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("yuri").await;
    let yuri = app.browser();
    yuri.log_in("yuri").await;
    for _ in 0..5 {
        let wrong = yuri
            .call("/api/sessions/confirm", &[("password", "not it at all")])
            .await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    // The sixth guess is refused before any check, the right password too, and so is a
    // password change (same bucket: the user's re-authentications).
    let refused = yuri
        .call("/api/sessions/confirm", &[("password", PASSWORD)])
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let change = yuri
        .call(
            "/api/account/password",
            &[
                ("current", PASSWORD),
                ("password", "a new password"),
                ("password_confirm", "a new password"),
            ],
        )
        .await;
    assert_eq!(change.status(), StatusCode::TOO_MANY_REQUESTS);
    // The session itself is untouched: no lockout of a trusted session.
    assert_eq!(yuri.get("/").await.status(), StatusCode::OK);
}

/// A login whose password was checked before a password change or a disable, held by the
/// `ask` policy, cannot be completed afterwards.
async fn a_held_login_loses_to_a_password_change_or_a_disable(db: TestDb) {
    let app = spawn_app_with(db, |s| s.policy.on_limit = OnLimit::Ask).await;
    create_user(&app, "zack").await;
    let owner = app.browser();
    owner.log_in("zack").await;
    let attacker = app.browser();
    let held = attacker
        .call("/api/login", &[("username", "zack"), ("password", PASSWORD)])
        .await;
    assert_eq!(held.status(), StatusCode::CONFLICT);
    // "Not you?": the owner changes the password.
    let changed = owner
        .call(
            "/api/account/password",
            &[
                ("current", PASSWORD),
                ("password", "a brand new one"),
                ("password_confirm", "a brand new one"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK, "{:?}", changed.text().await);
    let first = app
        .state
        .ctx
        .seats
        .live(user_id(&app, "zack").await)
        .await
        .unwrap()[0]
        .id
        .0;
    let continued = attacker
        .call("/api/login/continue", &[(&format!("end[{first}]"), "on")])
        .await;
    assert_eq!(continued.status(), StatusCode::UNAUTHORIZED);
    assert!(matches!(
        continued.json::<AppError>().await.unwrap(),
        AppError::LoginExpired
    ));
    assert_eq!(
        owner.get("/").await.status(),
        StatusCode::OK,
        "the owner stays signed in"
    );
    assert_eq!(
        app.state
            .ctx
            .seats
            .live(user_id(&app, "zack").await)
            .await
            .unwrap()
            .len(),
        1
    );

    // The same with an operator's disable.
    let again = app.browser();
    let held = again
        .call(
            "/api/login",
            &[("username", "zack"), ("password", "a brand new one")],
        )
        .await;
    assert_eq!(held.status(), StatusCode::CONFLICT);
    let zack = user_id(&app, "zack").await;
    app.state
        .ctx
        .seats
        .change_credentials(zack, single_login::CredentialChange::Disable, None)
        .await
        .unwrap();
    let continued = again.call("/api/login/continue", &[]).await;
    assert_eq!(continued.status(), StatusCode::UNAUTHORIZED);
    assert!(app.state.ctx.seats.live(zack).await.unwrap().is_empty());
    assert_redirect(&owner.get("/").await, "/login");
}

/// A login that checked the password, then lost the race to a password change: no seat.
async fn a_login_racing_a_password_change_loses(db: TestDb) {
    let app = spawn_app(db).await;
    create_user(&app, "quinn").await;
    let accounts = &app.state.ctx.accounts;
    let seats = &app.state.ctx.seats;
    let checked = accounts.authenticate("quinn", PASSWORD.into()).await.unwrap();
    // The owner, signed in, changes the password meanwhile.
    let owner = app.browser();
    owner.log_in("quinn").await;
    let changed = owner
        .call(
            "/api/account/password",
            &[
                ("current", PASSWORD),
                ("password", "another secret"),
                ("password_confirm", "another secret"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let ctx = single_login::LoginContext::new(Some("203.0.113.4".into()), None);
    let outcome = seats
        .open(
            checked.user.id,
            checked.epoch,
            &single_login::SessionHash::of("racing"),
            &ctx,
            &single_login::Policy::default(),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(outcome, single_login::OpenOutcome::CredentialsChanged);
    assert_eq!(
        seats.live(checked.user.id).await.unwrap().len(),
        1,
        "only the owner's"
    );
    // Two changes racing from the same checked epoch: only one wins.
    let second = accounts
        .change_password(
            seats,
            checked.user.id,
            PASSWORD.into(),
            single_login::Password::parse("third secret").unwrap(),
            single_login::SeatId(-1),
        )
        .await;
    assert!(matches!(
        second,
        Err(single_login::ChangePasswordError::WrongPassword)
    ));
}

/// With every hashing slot taken, a login waits at most the queue timeout and is told to
/// come back (503, Retry-After), alike for known and unknown names; pages do not wait.
async fn when_hashing_is_saturated_logins_get_503_and_pages_still_answer(db: TestDb) {
    let app = Arc::new(
        spawn_app_with(db, |s| {
            s.hash_concurrency = 1;
            s.hash_queue_timeout = Duration::from_millis(1);
            s.throttle.max_failures = 1000;
            s.throttle.account_max_failures = 1000;
        })
        .await,
    );
    create_user(&app, "olga").await;
    let signed_in = app.browser();
    signed_in.log_in("olga").await;
    let tasks: Vec<_> = (0..24)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                let name = if n % 2 == 0 { "olga" } else { "nobody_at_all" };
                let response = app
                    .browser()
                    .call(
                        "/api/login",
                        &[("username", name), ("password", "wrong password!")],
                    )
                    .await;
                let retry = response.headers().get(header::RETRY_AFTER).cloned();
                (response.status(), retry, response.text().await.unwrap())
            })
        })
        .collect();
    let page = signed_in.get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let mut busy = Vec::new();
    for task in tasks {
        let (status, retry, body) = task.await.unwrap();
        match status {
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(retry.is_some(), "Retry-After on a 503");
                busy.push(body);
            }
            StatusCode::UNAUTHORIZED => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(
        !busy.is_empty(),
        "24 hashes through one slot with no queue: some are refused"
    );
    busy.dedup();
    assert_eq!(busy.len(), 1, "one answer for everyone: {busy:?}");
    // Refused checks were not counted as failures.
    let ok = app
        .browser()
        .call("/api/login", &[("username", "olga"), ("password", PASSWORD)])
        .await;
    assert!(matches!(
        ok.status(),
        StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE
    ));
}

async fn a_malformed_forwarding_entry_left_of_the_client_is_never_read(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.client_ip.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await;
    create_user(&app, "pia").await;
    // nginx appends the address it saw to whatever the client sent.
    app.browser_from("garbage, 203.0.113.77").log_in("pia").await;
    assert_eq!(live_ips(&app, "pia").await, ["203.0.113.77"]);
}

/// Streams per session (the oldest gives way), per user, per client network and in all.
async fn live_streams_are_capped(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.policy.max_sessions = 10;
        s.live_streams = server::live::StreamLimits {
            per_session: 2,
            per_user: 3,
            per_address: 4,
            total: 6,
        };
        s.client_ip.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    create_user(&app, "sam").await;
    create_user(&app, "tia").await;
    let a = app.browser_from("203.0.113.1");
    a.log_in("sam").await;
    let mut first = a.listen().await;
    let _second = a.listen().await;
    // A third tab of the same session: the oldest stream is told and closes.
    let _third = a.listen().await;
    assert_eq!(
        first.next().await.map(|(name, _)| name).as_deref(),
        Some("superseded")
    );
    assert_eq!(first.next().await, None);
    assert_eq!(app.state.streams.open_count(), 2);
    // Another session of the same user: one more fits the user's limit of three, then 429.
    let b = app.browser_from("203.0.113.2");
    b.log_in("sam").await;
    let _fourth = b.listen().await;
    assert_eq!(b.events().await.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another user from the first address: two more fit the address's four, then 429.
    let c = app.browser_from("203.0.113.1");
    c.log_in("tia").await;
    let _fifth = c.listen().await;
    let _sixth = c.listen().await;
    assert_eq!(app.state.streams.open_count(), 5);
    let d = app.browser_from("203.0.113.1");
    d.log_in("tia").await;
    assert_eq!(
        d.events().await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "address full"
    );
    // From elsewhere, the total (six) still has one place, then none.
    let e = app.browser_from("198.51.100.1");
    e.log_in("tia").await;
    let _seventh = e.listen().await;
    let f = app.browser_from("198.51.100.2");
    f.log_in("tia").await;
    assert_eq!(
        f.events().await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "total full"
    );
    // Closed streams free their places.
    drop(_seventh);
    let mut freed = false;
    for _ in 0..1000 {
        if app.state.streams.open_count() == 5 {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(freed, "a closed stream gives its place back");
    let _again = f.listen().await;
}

/// A client that never finishes its headers is cut off after the header-read timeout.
async fn slow_headers_are_cut_off(db: TestDb) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(db, |s| s.header_read_timeout = Duration::from_millis(300)).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut buffer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buffer)).await;
    assert!(closed.is_ok(), "the server closed the connection");
    // A client that sends its headers in time is served.
    assert!(raw_request(
        &app,
        "GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .await
    .contains(" 200 "));
}

/// Over one kept-alive connection, a hundred requests for a stylesheet come back one after the
/// other without waiting on delayed ACKs (TCP_NODELAY): 20 to 40 ms each without it, two
/// seconds or more in all; well under a millisecond each with it.
async fn static_files_answer_at_once_over_a_kept_alive_connection(db: TestDb) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let app = spawn_app(db).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut stream = BufReader::new(stream);
    let started = std::time::Instant::now();
    for _ in 0..100 {
        stream
            .get_mut()
            .write_all(b"GET /pkg/single-login.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await.unwrap();
        assert_eq!(body, b"body { margin: 0 }");
    }
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1000), "100 requests took {took:?}");
}

/// Assets are served without the session layer or the kick check: a kicked browser's asset
/// request is answered, and no cookie is read or set. Precompressed siblings go to browsers
/// that accept them; content-hashed names are cached for good.
async fn assets_skip_the_session_and_hashed_ones_are_cached_for_good(db: TestDb) {
    let app = spawn_app(db).await;
    create_user(&app, "asta").await;
    let kicked = app.browser();
    kicked.log_in("asta").await;
    app.browser().log_in("asta").await;
    let css = kicked.get("/pkg/single-login.css").await;
    assert_eq!(css.status(), StatusCode::OK, "not redirected to /login");
    assert!(
        css.headers().get(header::SET_COOKIE).is_none(),
        "{:?}",
        css.headers()
    );
    assert_eq!(
        header_text(&css, "cache-control"),
        "no-cache",
        "unhashed names are revalidated"
    );
    assert_eq!(css.text().await.unwrap(), "body { margin: 0 }");
    // The kicked browser still learns why on its next page.
    assert_redirect(&kicked.get("/").await, "/login");

    let brotli = app
        .browser()
        .client
        .get(format!("{}/pkg/single-login.css", app.base))
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(header_text(&brotli, "content-encoding"), "br");
    assert!(header_text(&brotli, "vary")
        .to_ascii_lowercase()
        .contains("accept-encoding"));
    assert_eq!(brotli.bytes().await.unwrap().as_ref(), b"brotli bytes");
    let missing = app.browser().get("/pkg/none.js").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let hashed = spawn_app_with_hashed_assets(common::sqlite().await).await;
    let css = hashed.browser().get("/pkg/single-login.css").await;
    assert_eq!(
        header_text(&css, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_security_headers(&css, "a hashed asset");
}

// --- Security: headers, cookies, hosts, forged results ---------------------------------
// None of this depends on the database: these run on SQLite only.

/// A header's value as text, or "" when absent.
fn header_text<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

/// The nonce in a response's CSP, after checking that the CSP is the strict one.
fn csp_nonce(response: &reqwest::Response) -> String {
    let csp = header_text(response, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "'strict-dynamic' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp:?}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {csp:?}"));
    assert!(nonce.len() >= 22, "a nonce of at least 128 bits: {nonce}");
    nonce.to_owned()
}

fn assert_security_headers(response: &reqwest::Response, what: &str) {
    csp_nonce(response);
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        ("x-frame-options", "DENY"),
    ] {
        assert_eq!(header_text(response, name), value, "{name} on {what}");
    }
    let permissions = header_text(response, "permissions-policy");
    for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()"] {
        assert!(
            permissions.contains(feature),
            "{feature} on {what}: {permissions}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app(common::sqlite().await).await;
    let browser = app.browser();
    let login = browser.get("/login").await;
    assert_eq!(login.status(), StatusCode::OK);
    assert_security_headers(&login, "/login");
    assert_eq!(
        header_text(&login, "strict-transport-security"),
        "",
        "no HSTS without Secure"
    );
    // The page's scripts carry the nonce of its own header, and no other.
    let nonce = csp_nonce(&login);
    let html = login.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    for script in html.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap();
        assert!(
            tag.contains(&format!("nonce=\"{nonce}\"")),
            "a script without the nonce: <script{tag}>"
        );
    }
    // A fresh nonce each time.
    assert_ne!(csp_nonce(&browser.get("/login").await), nonce);

    let signed_up = browser.sign_up("hedy").await;
    assert_security_headers(&signed_up, "a form post's redirect");
    for path in ["/", "/sessions"] {
        let page = browser.get(path).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert_security_headers(&page, path);
        let nonce = csp_nonce(&page);
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{path}: {html}");
        assert!(
            html.contains("Log out"),
            "{path} has a logout control (ASVS 7.4.4)"
        );
    }
    let api = browser.call("/api/sessions", &[]).await;
    assert_eq!(api.status(), StatusCode::OK);
    assert_security_headers(&api, "an API answer");
    let api_error = app.browser().call("/api/sessions", &[]).await;
    assert_eq!(api_error.status(), StatusCode::UNAUTHORIZED);
    assert_security_headers(&api_error, "an API error");

    for (file, kind) in [
        ("/pkg/single-login.css", "text/css"),
        ("/pkg/single-login.js", "text/javascript"),
        ("/pkg/single-login.wasm", "application/wasm"),
    ] {
        let response = browser.get(file).await;
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        assert_security_headers(&response, file);
        assert!(
            header_text(&response, "content-type").starts_with(kind),
            "{file}: {:?}",
            response.headers()
        );
    }
    let missing = browser.get("/no/such/page").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_security_headers(&missing, "a 404");
    let nonce = csp_nonce(&missing);
    let html = missing.text().await.unwrap();
    assert!(
        html.contains("Page not found") && html.contains(&format!("nonce=\"{nonce}\"")),
        "{html}"
    );

    // With a Secure cookie, browsers are also told to use https only.
    let secure = spawn_app_with(common::sqlite().await, |s| s.cookie_secure = true).await;
    let response = secure.browser().get("/login").await;
    assert_security_headers(&response, "/login, Secure");
    assert_eq!(
        header_text(&response, "strict-transport-security"),
        "max-age=63072000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_secure_cookie_carries_the_host_prefix() {
    let app = spawn_app_with(common::sqlite().await, |s| s.cookie_secure = true).await;
    let browser = app.browser();
    let response = browser.sign_up("ida").await;
    assert_redirect(&response, "/");
    let cookies: Vec<String> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{}=", server::SECURE_SESSION_COOKIE)))
        .unwrap_or_else(|| panic!("a __Host- session cookie: {cookies:?}"));
    for part in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.split("; ").any(|p| p == part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    assert!(
        !cookies
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION_COOKIE}="))),
        "{cookies:?}"
    );
    // And it works: the browser (which, like real ones, sends Secure cookies to loopback)
    // is signed in.
    let (status, html) = browser.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Signed in as <strong>ida</strong>"), "{html}");
}

/// Sends raw bytes and returns the status line of the answer.
async fn raw_request(app: &TestApp, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_for_a_foreign_host_get_400() {
    let app = spawn_app(common::sqlite().await).await;
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let with_host = |host: String| {
        let client = app.browser().client;
        let url = format!("{}/login", app.base);
        async move {
            client
                .get(url)
                .header(header::HOST, host)
                .header(header::ACCEPT, "text/html")
                .send()
                .await
                .unwrap()
        }
    };
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "LOCALHOST.".to_owned(),
    ] {
        assert_eq!(with_host(host.clone()).await.status(), StatusCode::OK, "{host}");
    }
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_owned(),
        "127.0.0.1.evil.example".to_owned(),
        "localhost:x".to_owned(),
        "".to_owned(),
    ] {
        let response = with_host(host.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{host:?}");
        assert_security_headers(&response, "a 400");
    }
    // No Host at all, and an absolute request target naming another host.
    assert!(raw_request(&app, "GET /login HTTP/1.0\r\n\r\n")
        .await
        .contains(" 400 "));
    let absolute = format!("GET http://evil.example:{port}/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    assert!(raw_request(&app, &absolute).await.contains(" 400 "));
    let fine = format!("GET /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    assert!(raw_request(&app, &fine).await.contains(" 200 "));

    let configured = spawn_app_with(common::sqlite().await, |s| {
        s.allowed_hosts = vec!["app.example".into()]
    })
    .await;
    let client = configured.browser().client;
    let get = |host: &'static str| {
        client
            .get(format!("{}/login", configured.base))
            .header(header::HOST, host)
            .send()
    };
    assert_eq!(get("app.example").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get("App.Example:443").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get("localhost").await.unwrap().status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logging_out_or_being_kicked_clears_site_data() {
    const CLEAR: &str = r#""cache", "storage""#;
    let app = spawn_app(common::sqlite().await).await;
    app.browser().sign_up("jan").await;
    // A plain form post and a call from the hydrated app.
    let plain = app.browser();
    plain.log_in("jan").await;
    let response = plain.submit("/api/logout", &[]).await;
    assert_redirect(&response, "/login");
    assert_eq!(header_text(&response, "clear-site-data"), CLEAR);
    let hydrated = app.browser();
    hydrated.log_in("jan").await;
    let response = hydrated.call("/api/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_text(&response, "clear-site-data"), CLEAR);

    // A kicked browser: its page request is redirected, its call gets SessionEnded.
    let old = app.browser();
    old.log_in("jan").await;
    let old_call = app.browser();
    old_call.log_in("jan").await;
    app.browser().log_in("jan").await;
    let response = old.get("/").await;
    assert_redirect(&response, "/login");
    assert_eq!(header_text(&response, "clear-site-data"), CLEAR);
    let response = old_call.call("/api/sessions", &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header_text(&response, "clear-site-data"), CLEAR);
    // Not on ordinary answers.
    let fresh = app.browser();
    assert_eq!(header_text(&fresh.get("/login").await, "clear-site-data"), "");
}

/// An address of this site carrying a forged server-function result.
fn forged(page: &str, function: &str, error: AppError) -> String {
    use leptos::server_fn::error::ServerFnUrlError;
    let url = ServerFnUrlError::new(function, error)
        .to_url(&format!("http://localhost{page}"))
        .unwrap();
    url[url::Position::BeforePath..].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_results_in_the_address_are_never_shown() {
    use app::models::{LocalPath, Toast, ToastKind};
    let app = spawn_app(common::sqlite().await).await;
    let kate = app.browser();
    kate.sign_up("kate").await;
    let toast = Toast::new(ToastKind::Warning, "FORGED TITLE")
        .with_link("FORGED LINK", LocalPath::new("/sessions").unwrap());
    let errors = [
        (
            "/api/login",
            AppError::invalid(app::error::Field::Username, "FORGED FIELD"),
        ),
        ("/api/login", AppError::LoginDenied(Vec::new())),
        ("/api/sessions/end", AppError::SessionEnded(toast.clone())),
        ("/api/logout", AppError::SessionEnded(toast)),
        ("/api/signup", AppError::BadRequest("FORGED REQUEST".into())),
    ];
    for page in ["/", "/sessions", "/login", "/signup", "/login?next=%2Fsessions"] {
        for (function, error) in &errors {
            let address = forged(page, function, error.clone());
            let response = kate.get(&address).await;
            // Sent to the same page without the result: neither the server nor the
            // browser (which reads its own address) ever renders it.
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{address}");
            assert_eq!(location(&response), page, "{address}");
        }
    }
    // Encoded keys, an empty value, other methods, and a path that would be another site.
    let response = kate.get("/login?%5F%5Ferr=x&%5F%5Fpath=%2Fapi%2Flogin").await;
    assert_redirect(&response, "/login");
    let response = kate.get("//evil.example/?__err=x").await;
    assert_redirect(&response, "/");
    let response = kate.get("/?__path=").await;
    assert_redirect(&response, "/");
    // Still signed in, and the page is clean.
    let (status, html) = kate.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("FORGED") && html.contains("Signed in as"),
        "{html}"
    );

    // A plain form post whose page address was forged shows only its own, real, error.
    let referer = format!(
        "{}{}",
        app.base,
        forged(
            "/login",
            "/api/login",
            AppError::invalid(app::error::Field::Username, "FORGED FIELD")
        )
    );
    let response = app
        .browser()
        .client
        .post(format!("{}/api/login?__err=x&__path=%2Fapi%2Flogin", app.base))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, referer)
        .header("sec-fetch-site", "same-origin")
        .form(&[("username", "kate"), ("password", "wrong password!")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.unwrap();
    assert!(html.contains("Invalid username or password"), "{html}");
    assert!(!html.contains("FORGED"), "{html}");
    // And a real one after a forged address still signs in.
    let response = app
        .browser()
        .client
        .post(format!("{}/api/login?__err=x", app.base))
        .header(header::ACCEPT, "text/html")
        .header("sec-fetch-site", "same-origin")
        .form(&[("username", "kate"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_redirect(&response, "/");
}

on_both_backends!(
    assets_skip_the_session_and_hashed_ones_are_cached_for_good,
    live_streams_are_capped,
    slow_headers_are_cut_off,
    static_files_answer_at_once_over_a_kept_alive_connection,
    parallel_wrong_passwords_never_pass_the_limit,
    the_per_address_limit_holds_across_names_signups_and_ipv6_neighbours,
    re_authentication_is_limited_per_user,
    a_held_login_loses_to_a_password_change_or_a_disable,
    a_login_racing_a_password_change_loses,
    when_hashing_is_saturated_logins_get_503_and_pages_still_answer,
    a_malformed_forwarding_entry_left_of_the_client_is_never_read,
    an_open_page_hears_at_once_that_its_session_ended,
    a_channel_hears_of_the_users_other_sessions,
    a_channel_opened_after_the_kick_carries_the_message,
    anonymous_and_forged_sessions_get_no_channel,
    open_channels_close_when_the_server_stops,
    operator_sign_outs_and_expiry_reach_the_channel,
    a_held_login_expires,
    a_session_ends_at_its_maximum_lifetime_however_active,
    a_confirmed_password_is_remembered_for_a_while_only,
    a_kicked_browser_can_log_in_again_from_an_open_form,
    too_many_failed_logins_are_throttled_per_username_and_ip,
    failed_logins_count_across_processes,
    a_successful_login_resets_the_failed_login_count,
    refused_or_held_logins_are_not_failures,
    the_purge_expires_idle_sessions_and_forgets_old_ones,
    the_sessions_page_lists_exactly_the_live_sessions_and_marks_this_one,
    ending_a_session_needs_the_password_again,
    ending_one_session_ends_only_that_one,
    signing_out_all_other_sessions_keeps_this_one,
    changing_the_password_ends_every_other_session,
    a_disabled_account_is_signed_out_and_cannot_log_in,
    not_you_leads_to_the_sessions_page_with_the_newer_login_marked,
    deny_new_refuses_a_second_login_and_says_where_the_first_is,
    deny_new_lets_an_idle_session_go,
    ask_lets_the_user_choose_which_session_to_end,
    ask_works_without_javascript_and_can_be_cancelled,
    sessions_from_the_same_ip_share_a_seat,
    the_client_ip_comes_from_trusted_proxies_only,
    simultaneous_logins_with_a_limit_of_three_leave_three_live_sessions,
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
    pages_and_answers_are_never_cached,
    a_second_login_signs_the_first_browser_out_with_a_message,
    the_message_is_korean_for_korean_browsers,
    other_users_keep_their_sessions,
    a_browser_that_logged_out_never_sees_the_kick_message,
    a_server_function_call_of_a_kicked_browser_gets_the_typed_error,
    a_kicked_browser_posting_a_form_is_sent_to_login,
    a_late_save_cannot_revive_a_kicked_session,
    requests_in_flight_during_the_kick_cannot_revive_it,
);
