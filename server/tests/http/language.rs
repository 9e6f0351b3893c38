//! The reader's language: chosen by `Accept-Language`, then by the switch's cookie; the
//! switch itself (a plain form post), and what it refuses.

use super::harness::*;

async fn switch(browser: &Browser, lang: &str, next: &str) -> reqwest::Response {
    browser
        .client
        .post(format!("{}/language", browser.base))
        .header(header::ACCEPT, "text/html")
        .header("sec-fetch-site", "same-origin")
        .form(&[("lang", lang), ("next", next)])
        .send()
        .await
        .unwrap()
}

fn html_lang(html: &str) -> &str {
    let start = html.find("<html lang=\"").expect("an <html lang>") + 12;
    &html[start..start + html[start..].find('"').unwrap()]
}

#[tokio::test]
async fn the_page_is_in_the_browser_language_until_the_reader_chooses() {
    let app = spawn_app(testkit::sqlite().await).await;
    let korean = app.browser_in("ko-KR,ko;q=0.9,en;q=0.8");
    let (_, html) = korean.page("/login").await;
    assert_eq!(html_lang(&html), "ko");
    assert!(html.contains("<h1>로그인</h1>"), "{html}");
    assert!(!html.contains("Log in"), "{html}");

    let response = switch(&korean, "en", "/login?next=%2Fsessions").await;
    assert_redirect(&response, "/login?next=%2Fsessions");
    let cookie = header_text(&response, "set-cookie").to_owned();
    for part in [
        "lang=en",
        "Path=/",
        "Max-Age=31536000",
        "SameSite=Lax",
        "HttpOnly",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let (_, html) = korean.page("/login").await;
    assert_eq!(html_lang(&html), "en");
    assert!(html.contains("<h1>Log in</h1>"), "{html}");

    // Signed in, the messages the server writes follow the choice too.
    korean.sign_up("minji").await;
    let (_, html) = korean.page("/sessions").await;
    assert!(html.contains("just now") && !html.contains("방금 전"), "{html}");
    switch(&korean, "ko", "/sessions").await;
    let (_, html) = korean.page("/sessions").await;
    assert_eq!(html_lang(&html), "ko");
    assert!(html.contains("방금 전") && !html.contains("just now"), "{html}");
}

#[tokio::test]
async fn the_switch_refuses_what_it_does_not_know_and_goes_nowhere_else() {
    let app = spawn_app(testkit::sqlite().await).await;
    let browser = app.browser();
    let unknown = switch(&browser, "xx", "/").await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(unknown.headers().get("set-cookie").is_none());
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/api/logout",
        "javascript:alert(1)",
    ] {
        assert_redirect(&switch(&browser, "ko", next).await, "/");
    }
    // Malformed or missing fields: a 4xx, never a 500.
    let missing = browser
        .client
        .post(format!("{}/language", app.base))
        .header("sec-fetch-site", "same-origin")
        .form(&[("next", "/")])
        .send()
        .await
        .unwrap();
    assert!(missing.status().is_client_error(), "{}", missing.status());
    // Another site cannot change it.
    let forged = browser
        .client
        .post(format!("{}/language", app.base))
        .header(header::ORIGIN, "http://evil.example")
        .form(&[("lang", "ko"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // A cookie naming no language we have is passed over.
    browser.jar.add_cookie_str("lang=xx", &app.base.parse().unwrap());
    let (_, html) = browser.page("/login").await;
    assert_eq!(html_lang(&html), "en");
}

#[tokio::test]
async fn a_form_that_failed_then_succeeds_without_javascript_lands_on_its_page() {
    let app = spawn_app(testkit::sqlite().await).await;
    let browser = app.browser();
    browser.sign_up("noah").await;
    let form_answer = format!("{}/api/sessions/confirm", app.base);
    let post = |password: &str| {
        browser
            .client
            .post(&form_answer)
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, &form_answer)
            .header("sec-fetch-site", "same-origin")
            .form(&[("password", password)])
            .send()
    };
    let wrong = post("not the password").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Posted from the failed answer's page, whose address is the server function's.
    let right = post(PASSWORD).await.unwrap();
    assert_redirect(&right, "/sessions");
}
