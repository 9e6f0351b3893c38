//! What every HTTP test uses: the app on a real socket, browsers with their own cookies, the
//! live channel read as an `EventSource`, and small helpers.

#![allow(dead_code)]

pub use std::sync::Arc;
pub use std::time::Duration;

pub use app::error::AppError;
pub use app::models::SessionsPage;
pub use leptos::config::LeptosOptions;
pub use reqwest::cookie::{CookieStore, Jar};
pub use reqwest::{header, StatusCode};
pub use server::config::{Config, DatabaseUrl, Settings};
pub use server::{AppState, SESSION_COOKIE};
pub use single_login::OnLimit;
pub use testkit::TestDb;
pub use tower_sessions::session::Id;
pub use tower_sessions::SessionStore;

pub const KICKED_EN: &str = "You were signed out because your account signed in from another browser.";
pub const KICKED_KO: &str =
    "동일 아이디로 다른 브라우저 웹사이트에서 로그인이 감지되어, 강제 로그아웃되었습니다.";
pub const PASSWORD: &str = "correct horse battery";

/// What the browsers of these tests say they are: Chrome on Linux, unless told otherwise.
pub const LINUX_CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
pub const WINDOWS_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
pub const IPHONE_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
pub const LINUX_FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub database_url: String,
    /// `None` for a peer, which shares another app's database.
    pub _db: Option<TestDb>,
    /// The site root: a stylesheet, script and wasm under `pkg/`, as cargo-leptos builds them.
    pub _site: tempfile::TempDir,
}

pub async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

pub async fn spawn_app_with(db: TestDb, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut app = serve(&db.url, adjust, false, None).await;
    app._db = Some(db);
    app
}

/// An app whose assets have content-hashed names, as cargo-leptos builds them.
pub async fn spawn_app_with_hashed_assets(db: TestDb) -> TestApp {
    let mut app = serve(&db.url, |_| {}, true, None).await;
    app._db = Some(db);
    app
}

/// A second server process on the same database.
pub async fn spawn_peer(app: &TestApp, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    serve(&app.database_url, adjust, false, None).await
}

/// An app that runs `after` for every request the session check lets through, before its
/// handler (to hold requests in flight).
pub async fn spawn_app_with_after_check(
    db: TestDb,
    adjust: impl FnOnce(&mut Settings),
    after: server::AfterCheck,
) -> TestApp {
    let mut app = serve(&db.url, adjust, false, Some(after)).await;
    app._db = Some(db);
    app
}

pub async fn serve(
    database_url: &str,
    adjust: impl FnOnce(&mut Settings),
    hashed: bool,
    after: Option<server::AfterCheck>,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = Settings::defaults_for(addr, leptos::config::Env::DEV);
    // Every test browser comes from 127.0.0.1, and tests run at once on a busy machine: the
    // per-address limit and the hashing queue are tested where they are set low on purpose.
    settings.address_max_attempts = 10_000;
    settings.subnet_max_attempts = 10_000;
    settings.hash_queue_per_network = 10_000;
    settings.max_connections_per_network = 100_000;
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
        settings: Settings {
            database_url: DatabaseUrl(database_url.to_owned()),
            ..settings
        },
    };
    let state = AppState::start(&config).await.expect("start the app");
    let app = server::router_with(state.clone(), after);
    let limits = server::serve::Limits::of(&state.settings);
    tokio::spawn(server::serve::serve(
        listener,
        app,
        limits,
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
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    pub base: String,
    pub lang: &'static str,
}

impl TestApp {
    pub fn browser(&self) -> Browser {
        self.browser_in("en-US,en;q=0.9")
    }

    pub fn browser_in(&self, lang: &'static str) -> Browser {
        self.browser_with(lang, header::HeaderMap::new())
    }

    /// A browser behind a proxy that says it forwards for `ip`.
    pub fn browser_from(&self, ip: &str) -> Browser {
        let mut headers = header::HeaderMap::new();
        headers.insert("x-forwarded-for", ip.parse().unwrap());
        self.browser_with("en", headers)
    }

    /// A browser that sends a copy of someone's session cookie.
    pub fn browser_replaying(&self, cookie: &str) -> Browser {
        let browser = self.browser();
        browser
            .jar
            .add_cookie_str(&format!("{SESSION_COOKIE}={cookie}"), &self.base.parse().unwrap());
        browser
    }

    pub fn browser_with(&self, lang: &'static str, headers: header::HeaderMap) -> Browser {
        self.browser_full(lang, headers, LINUX_CHROME)
    }

    /// A browser that says it is `agent`.
    pub fn browser_as(&self, agent: &str, lang: &'static str) -> Browser {
        self.browser_full(lang, header::HeaderMap::new(), agent)
    }

    pub fn browser_full(&self, lang: &'static str, headers: header::HeaderMap, agent: &str) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .user_agent(agent)
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
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::ACCEPT_LANGUAGE, self.lang)
            .send()
            .await
            .unwrap()
    }

    /// A plain HTML form post (no JavaScript), from the page that holds the form.
    pub async fn submit(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
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
    pub async fn call(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
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

    pub async fn sign_up(&self, name: &str) -> reqwest::Response {
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

    pub async fn log_in(&self, name: &str) -> reqwest::Response {
        self.submit("/api/login", &[("username", name), ("password", PASSWORD)])
            .await
    }

    pub fn session_cookie(&self) -> Option<String> {
        let url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|pair| pair.strip_prefix(&format!("{SESSION_COOKIE}=")))
            .map(str::to_owned)
    }

    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.unwrap())
    }
}

/// A live channel, read as a browser's `EventSource` would.
pub struct Events {
    pub response: reqwest::Response,
    pub buffer: String,
}

impl Browser {
    pub async fn events(&self) -> reqwest::Response {
        self.client
            .get(format!("{}/api/session/events", self.base))
            .header(header::ACCEPT, "text/event-stream")
            .header(header::ACCEPT_LANGUAGE, self.lang)
            .send()
            .await
            .unwrap()
    }

    /// Opens the live channel and waits until it listens.
    pub async fn listen(&self) -> Events {
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
    pub async fn next(&mut self) -> Option<(String, String)> {
        tokio::time::timeout(Duration::from_secs(30), self.read())
            .await
            .expect("no event within 30 s")
    }

    pub async fn read(&mut self) -> Option<(String, String)> {
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

pub fn location(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get(header::LOCATION)
        .map_or("", |v| v.to_str().unwrap())
}

pub fn assert_redirect(response: &reqwest::Response, to: &str) {
    assert!(
        response.status().is_redirection(),
        "expected a redirect to {to}, got {}",
        response.status()
    );
    assert_eq!(location(response), to);
}

/// Occurrences of `text` in toasts (the page also carries it once in its hydration data).
pub fn toasts_saying(html: &str, text: &str) -> usize {
    html.matches(&format!("class=\"toast-title\">{text}")).count()
}

/// An account with no session yet (signing up through the app would hold one).
pub async fn create_user(app: &TestApp, name: &str) {
    app.state
        .ctx
        .logins()
        .accounts
        .sign_up(
            &single_login::Username::parse(name).unwrap(),
            single_login::Password::parse(PASSWORD).unwrap(),
        )
        .await
        .unwrap();
}

pub async fn user_id(app: &TestApp, name: &str) -> single_login::UserId {
    let name = single_login::Username::parse(name).unwrap();
    app.state
        .ctx
        .logins()
        .accounts
        .find_by_name(&name)
        .await
        .unwrap()
        .unwrap()
        .id
}

pub async fn live_ips(app: &TestApp, name: &str) -> Vec<String> {
    let user = user_id(app, name).await;
    let mut ips: Vec<String> = app
        .state
        .ctx
        .seats()
        .live(user)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|s| s.client_ip)
        .collect();
    ips.sort();
    ips
}

pub fn policy(on_limit: OnLimit) -> impl FnOnce(&mut Settings) {
    move |s| s.on_limit = on_limit
}

pub const REVOKED_EN: &str =
    "You were signed out: this session was ended from another session of your account.";

pub async fn sessions_of(browser: &Browser) -> SessionsPage {
    let response = browser.call("/api/sessions", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

pub fn other_id(page: &SessionsPage) -> String {
    page.live
        .iter()
        .find(|s| !s.current)
        .expect("another session")
        .id
        .to_string()
}

pub fn limit(n: u32) -> impl FnOnce(&mut Settings) {
    move |s| s.max_sessions = n
}

/// The channel's periodic re-read an hour away: what arrives came by notice.
pub fn notices_only(s: &mut Settings) {
    s.live_recheck_interval = Duration::from_secs(3600);
}

/// A login on a second server process ends the session whose channel the first one holds.
pub async fn kick_across_processes(db: TestDb, recheck: Duration) {
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

/// A header's value as text, or "" when absent.
pub fn header_text<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

/// The nonce in a response's CSP, after checking that the CSP is the strict one.
pub fn csp_nonce(response: &reqwest::Response) -> String {
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

pub fn assert_security_headers(response: &reqwest::Response, what: &str) {
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

/// Sends raw bytes and returns the status line of the answer.
pub async fn raw_request(app: &TestApp, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next().unwrap_or("").to_owned()
}

/// An address of this site carrying a forged server-function result.
pub fn forged(page: &str, function: &str, error: AppError) -> String {
    use leptos::server_fn::error::ServerFnUrlError;
    let url = ServerFnUrlError::new(function, error)
        .to_url(&format!("http://localhost{page}"))
        .unwrap();
    url[url::Position::BeforePath..].to_owned()
}
