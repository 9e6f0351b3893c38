//! Browser-facing security: headers, the `__Host-` cookie, hosts, Clear-Site-Data, forged
//! results.

use super::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app(testkit::sqlite().await).await;
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
    let secure = spawn_app_with(testkit::sqlite().await, |s| s.session_cookie_secure = Some(true)).await;
    let response = secure.browser().get("/login").await;
    assert_security_headers(&response, "/login, Secure");
    assert_eq!(
        header_text(&response, "strict-transport-security"),
        "max-age=63072000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_secure_cookie_carries_the_host_prefix() {
    let app = spawn_app_with(testkit::sqlite().await, |s| s.session_cookie_secure = Some(true)).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_for_a_foreign_host_get_400() {
    let app = spawn_app(testkit::sqlite().await).await;
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

    let configured = spawn_app_with(testkit::sqlite().await, |s| {
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
    let app = spawn_app(testkit::sqlite().await).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_results_in_the_address_are_never_shown() {
    use app::models::{LocalPath, Toast, ToastKind};
    let app = spawn_app(testkit::sqlite().await).await;
    let kate = app.browser();
    kate.sign_up("kate").await;
    let toast = Toast::new(ToastKind::Warning, "FORGED TITLE")
        .with_link("FORGED LINK", LocalPath::new("/sessions").unwrap());
    let errors = [
        (
            "/api/login",
            AppError::invalid(app::error::Field::Username, app::error::Invalid::UsernameTaken),
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
        !html.contains("FORGED") && !html.contains("username is taken") && html.contains("Signed in as"),
        "{html}"
    );

    // A plain form post whose page address was forged shows only its own, real, error.
    let referer = format!(
        "{}{}",
        app.base,
        forged(
            "/login",
            "/api/login",
            AppError::invalid(app::error::Field::Username, app::error::Invalid::UsernameTaken)
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
    assert!(
        !html.contains("FORGED") && !html.contains("username is taken"),
        "{html}"
    );
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
