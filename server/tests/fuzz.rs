//! Property-based fuzzing of the real router: random methods, paths among the real routes,
//! bodies (form, JSON, binary, up to 64 KiB), cookies (forged and real), `Host`, `Origin`,
//! `Accept`, `Accept-Language`, forwarding headers and odd Unicode.
//!
//! Invariants: no 5xx but the documented 503 (hashing busy), no panic; a request that was
//! refused (4xx) changed no account and no session; a request without a valid session that
//! did not sign in changed the row count of no table but `attempts`, and that one by at most
//! one row (a stranger leaves nothing lasting); and afterwards the server still signs a user
//! in normally. SQLite only: the database plays no part in parsing.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use http::{header, Method, Request, StatusCode};
use leptos::config::LeptosOptions;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use server::config::{Config, DatabaseUrl, Settings};
use server::{router, AppState};
use single_login::on_pool;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

const PATHS: &[&str] = &[
    "/",
    "/login",
    "/signup",
    "/sessions",
    "/api/login",
    "/api/login/continue",
    "/api/login/cancel",
    "/api/signup",
    "/api/logout",
    "/api/me",
    "/api/sessions",
    "/api/sessions/confirm",
    "/api/sessions/end",
    "/api/sessions/end-others",
    "/api/account/password",
    "/api/session/events",
    "/language",
    "/pkg/single-login.css",
    "/no/such/page",
    "//evil.example/",
];

const FIELDS: &[&str] = &[
    "username",
    "password",
    "password_confirm",
    "current",
    "next",
    "lang",
    "id",
    "end[1]",
    "__err",
    "__path",
];

/// Text a client might send: plain, Unicode of every kind, control characters, long.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.-]{0,40}",
        "\\PC{0,64}",
        ".{0,32}",
        Just("a".repeat(5000)),
        Just("\u{202e}\u{0}\u{feff}관리자\u{fe0f}".to_owned()),
    ]
}

#[derive(Debug, Clone)]
enum BodyKind {
    Empty,
    Form(Vec<(String, String)>),
    Json(String),
    Binary(Vec<u8>),
}

fn body() -> impl Strategy<Value = BodyKind> {
    prop_oneof![
        Just(BodyKind::Empty),
        prop::collection::vec(
            (prop::sample::select(FIELDS).prop_map(str::to_owned), text()),
            0..6
        )
        .prop_map(BodyKind::Form),
        text().prop_map(|t| BodyKind::Json(format!("{{\"username\":{t:?},\"password\":[1,{{}}]}}"))),
        prop::collection::vec(any::<u8>(), 0..65_536).prop_map(BodyKind::Binary),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    method: Method,
    path: &'static str,
    query: Option<String>,
    body: BodyKind,
    cookie: Option<Option<String>>,
    host: Option<String>,
    origin: Option<String>,
    fetch_site: Option<&'static str>,
    accept: Option<&'static str>,
    language: Option<String>,
    forwarded: Option<String>,
}

fn case() -> impl Strategy<Value = Case> {
    // Mostly what the routes take, so that most cases get past the method and origin checks.
    let method = prop_oneof![
        4 => Just(Method::POST),
        2 => Just(Method::GET),
        1 => prop::sample::select(vec![
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
            Method::PATCH,
            Method::from_bytes(b"BREW").unwrap(),
        ]),
    ];
    (
        (
            method,
            prop::sample::select(PATHS),
            prop::option::of(text()),
            body(),
        ),
        (
            // None: no cookie; Some(None): the real session's cookie; Some(Some(x)): forged.
            prop::option::of(prop::option::of(text())),
            prop::option::of(prop_oneof![
                Just("127.0.0.1".to_owned()),
                Just("evil.example".to_owned()),
                text()
            ]),
            prop::option::of(prop_oneof![
                Just("http://127.0.0.1".to_owned()),
                Just("https://evil.example".to_owned()),
                text()
            ]),
            prop::option::of(prop::sample::select(vec![
                "same-origin",
                "cross-site",
                "none",
                "same-site",
            ])),
            prop::option::of(prop::sample::select(vec![
                "text/html",
                "application/json",
                "*/*",
                "text/event-stream",
            ])),
            prop::option::of(text()),
            prop::option::of(prop_oneof![Just("203.0.113.9, 10.0.0.1".to_owned()), text()]),
        ),
    )
        .prop_map(
            |(
                (method, path, query, body),
                (cookie, host, origin, fetch_site, accept, language, forwarded),
            )| Case {
                method,
                path,
                query,
                body,
                cookie,
                host,
                origin,
                fetch_site,
                accept,
                language,
                forwarded,
            },
        )
}

fn build(case: &Case, real_cookie: &str, cookie_name: &str) -> Option<Request<Body>> {
    let mut uri = case.path.to_owned();
    if let Some(query) = &case.query {
        uri.push('?');
        uri.push_str(&url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>());
    }
    let mut request = Request::builder().method(case.method.clone()).uri(uri);
    let header_value = |text: &str| http::HeaderValue::from_str(text).ok();
    match &case.cookie {
        None => {}
        Some(None) => request = request.header(header::COOKIE, format!("{cookie_name}={real_cookie}")),
        Some(Some(forged)) => {
            // The language cookie too: it is read on every request.
            if let Some(value) = header_value(&format!("{cookie_name}={forged}; lang={forged}")) {
                request = request.header(header::COOKIE, value);
            }
        }
    }
    let host = case.host.clone().unwrap_or_else(|| "127.0.0.1".to_owned());
    if let Some(value) = header_value(&host) {
        request = request.header(header::HOST, value);
    }
    for (name, value) in [
        ("origin", case.origin.as_deref()),
        ("sec-fetch-site", case.fetch_site),
        ("accept", case.accept),
        ("accept-language", case.language.as_deref()),
        ("x-forwarded-for", case.forwarded.as_deref()),
    ] {
        if let Some(value) = value.and_then(header_value) {
            request = request.header(name, value);
        }
    }
    let (content_type, bytes) = match &case.body {
        BodyKind::Empty => (None, Vec::new()),
        BodyKind::Form(pairs) => (
            Some("application/x-www-form-urlencoded"),
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
                .into_bytes(),
        ),
        BodyKind::Json(json) => (Some("application/json"), json.clone().into_bytes()),
        BodyKind::Binary(bytes) => (Some("application/octet-stream"), bytes.clone()),
    };
    if let Some(kind) = content_type {
        request = request.header(header::CONTENT_TYPE, kind);
    }
    let mut request = request.body(Body::from(bytes)).ok()?;
    request
        .extensions_mut()
        .insert(ConnectInfo::<SocketAddr>("127.0.0.1:40000".parse().unwrap()));
    Some(request)
}

/// Row counts: users, live seats, ended seats, session records, throttle attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    users: i64,
    live: i64,
    ended: i64,
    sessions: i64,
    attempts: i64,
}

async fn snapshot(state: &AppState) -> Counts {
    let db = state.ctx.seats().db();
    let (users, live, ended, sessions, attempts) = on_pool!(db, pool => {
        sqlx::query_as::<_, (i64, i64, i64, i64, i64)>(
            "SELECT (SELECT COUNT(*) FROM single_login_users), \
                    (SELECT COUNT(*) FROM single_login_seats WHERE ended_at IS NULL), \
                    (SELECT COUNT(*) FROM single_login_seats WHERE ended_at IS NOT NULL), \
                    (SELECT COUNT(*) FROM single_login_sessions), \
                    (SELECT COUNT(*) FROM single_login_attempts)",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    Counts {
        users,
        live,
        ended,
        sessions,
        attempts,
    }
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, http::HeaderMap) {
    let response = tokio::time::timeout(Duration::from_secs(60), app.clone().oneshot(request))
        .await
        .expect("an answer within a minute")
        .unwrap();
    (response.status(), response.headers().clone())
}

async fn log_in(app: &Router, name: &str) -> (StatusCode, Option<String>) {
    let mut request = Request::post("/api/login")
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(format!(
            "username={name}&password={}",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo::<SocketAddr>("127.0.0.1:40001".parse().unwrap()));
    let (status, headers) = call(app, request).await;
    let cookie = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next()?.split_once('=').map(|(_, v)| v.to_owned()));
    (status, cookie)
}

#[test]
fn no_request_breaks_the_server() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/single-login.css"), "body{}").unwrap();
    let addr: SocketAddr = "127.0.0.1:3000".parse().unwrap();
    let mut settings = Settings::defaults_for(addr, leptos::config::Env::DEV);
    settings.address_max_attempts = 1_000_000;
    settings.login_max_failures = 1_000_000;
    settings.account_max_failures = 1_000_000;
    settings.reauth_max_failures = 1_000_000;
    settings.subnet_max_attempts = 1_000_000;
    settings.reauth_user_max_failures = 1_000_000;
    let config = Config {
        leptos: LeptosOptions::builder()
            .output_name("single-login")
            .site_addr(addr)
            .site_root(site.display().to_string())
            .build(),
        settings: Settings {
            database_url: DatabaseUrl(format!("sqlite://{}/fuzz.db", dir.path().display())),
            ..settings
        },
    };
    let (state, app, cookie) = runtime.block_on(async {
        let state = AppState::start(&config).await.unwrap();
        state
            .ctx
            .logins()
            .accounts
            .sign_up(
                &single_login::Username::parse("fuzzy").unwrap(),
                single_login::Password::parse(PASSWORD).unwrap(),
            )
            .await
            .unwrap();
        let app = router(state.clone());
        let (status, cookie) = log_in(&app, "fuzzy").await;
        assert!(status.is_success() || status.is_redirection(), "{status}");
        (state, app, cookie.expect("a session cookie"))
    });
    let cookie_name = state.ctx.login.session_cookie_name();

    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let seen = std::sync::Mutex::new(std::collections::BTreeMap::<u16, u32>::new());
    runner
        .run(&case(), |case| {
            let Some(request) = build(&case, &cookie, cookie_name) else {
                return Ok(());
            };
            runtime.block_on(async {
                let before = snapshot(&state).await;
                let (status, headers) = call(&app, request).await;
                let after = snapshot(&state).await;
                *seen.lock().unwrap().entry(status.as_u16()).or_default() += 1;
                prop_assert!(
                    !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
                    "{status} for {case:?}"
                );
                if status.is_client_error() {
                    prop_assert_eq!(
                        (before.users, before.live, before.ended),
                        (after.users, after.live, after.ended),
                        "a refused request changed the database: {:?}",
                        case
                    );
                }
                // A stranger (no cookie, or a forged one) who did not sign in leaves nothing
                // but at most one throttle count behind.
                let signed_in = headers
                    .get_all(header::SET_COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .any(|c| c.starts_with(&format!("{cookie_name}=")) && !c.contains("Max-Age=0"));
                if case.cookie != Some(None) && !signed_in {
                    prop_assert_eq!(
                        (before.users, before.live, before.ended, before.sessions),
                        (after.users, after.live, after.ended, after.sessions),
                        "a stranger's request left rows: {} for {:?}",
                        status,
                        case
                    );
                    prop_assert!(
                        after.attempts <= before.attempts + 1,
                        "{} attempts rows for one request: {:?}",
                        after.attempts - before.attempts,
                        case
                    );
                }
                Ok(())
            })
        })
        .unwrap();

    // The cases reached the app, not only the host check: many answers of many kinds.
    let seen = seen.into_inner().unwrap();
    eprintln!("statuses: {seen:?}");
    assert!(seen.len() >= 5, "{seen:?}");
    assert!(seen.keys().any(|s| (200..400).contains(s)), "{seen:?}");

    // Afterwards the server still works: a normal login of another browser.
    runtime.block_on(async {
        let (status, cookie) = log_in(&app, "fuzzy").await;
        assert!(status.is_success() || status.is_redirection(), "{status}");
        assert!(cookie.is_some());
    });
}
