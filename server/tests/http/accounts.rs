//! Accounts: sign-up, login, logout, cookies, malformed input.

use super::harness::*;
use testkit::on_both_backends;

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
        error,
        AppError::invalid(app::error::Field::Username, app::error::Invalid::UsernameTaken)
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
        let said = error.message(app::lang::Locale::en);
        assert!(said.contains(message), "{said} should say {message}");

        let response = browser.submit("/api/signup", form).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(response.text().await.unwrap().contains(message));
    }
    // Nothing was created along the way.
    let none = app
        .state
        .ctx
        .logins()
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

    let secure = spawn_app_with(testkit::sqlite().await, |s| s.session_cookie_secure = Some(true)).await;
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
    pages_and_answers_are_never_cached,
    cross_origin_posts_are_refused,
);
