//! Abuse resistance: limits counted before the hash, credential changes winning, stream
//! caps, connections, and assets served apart from the session.

use super::harness::*;
use testkit::on_both_backends;

/// A hundred wrong passwords at once for one name from one address: no more are checked
/// than the limit, the rest are refused before any hash.
async fn parallel_wrong_passwords_never_pass_the_limit(db: TestDb) {
    let app = Arc::new(spawn_app_with(db, |s| s.login_max_failures = 10).await);
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
        s.address_max_attempts = 4;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
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

/// A session that guesses its own password confirmation throttles only itself, and ends once
/// it has failed `reauth_max_failures` times; the user's other sessions are not held.
async fn re_authentication_is_limited_per_session(db: TestDb) {
    let app = spawn_app_with(db, limit(2)).await;
    app.browser().sign_up("yuri").await;
    let (yuri, other) = (app.browser(), app.browser());
    yuri.log_in("yuri").await;
    other.log_in("yuri").await;
    for _ in 0..4 {
        let wrong = yuri
            .call("/api/sessions/confirm", &[("password", "not it at all")])
            .await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    // The fifth failure ends the session that made it; the right password comes too late.
    let ended = yuri
        .call("/api/sessions/confirm", &[("password", "still not it")])
        .await;
    assert_eq!(ended.status(), StatusCode::UNAUTHORIZED);
    let late = yuri
        .call("/api/sessions/confirm", &[("password", PASSWORD)])
        .await;
    assert_eq!(late.status(), StatusCode::UNAUTHORIZED);
    assert_redirect(&yuri.get("/").await, "/login");
    // The other session confirms and changes the password as if nothing happened.
    let confirm = other
        .call("/api/sessions/confirm", &[("password", PASSWORD)])
        .await;
    assert_eq!(confirm.status(), StatusCode::OK);
    assert_eq!(other.get("/").await.status(), StatusCode::OK);
}

/// A login whose password was checked before a password change or a disable, held by the
/// `ask` policy, cannot be completed afterwards.
async fn a_held_login_loses_to_a_password_change_or_a_disable(db: TestDb) {
    let app = spawn_app_with(db, |s| s.on_limit = OnLimit::Ask).await;
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
        .seats()
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
            .seats()
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
        .seats()
        .change_credentials(zack, single_login::CredentialChange::Disable, None)
        .await
        .unwrap();
    let continued = again.call("/api/login/continue", &[]).await;
    assert_eq!(continued.status(), StatusCode::UNAUTHORIZED);
    assert!(app.state.ctx.seats().live(zack).await.unwrap().is_empty());
    assert_redirect(&owner.get("/").await, "/login");
}

/// A login that checked the password, then lost the race to a password change: no seat.
async fn a_login_racing_a_password_change_loses(db: TestDb) {
    let app = spawn_app(db).await;
    create_user(&app, "quinn").await;
    let accounts = &app.state.ctx.logins().accounts;
    let seats = &app.state.ctx.seats();
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
    let ctx = single_login::LoginContext::new(Some("203.0.113.4".parse().unwrap()), None);
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
            s.login_max_failures = 1000;
            s.account_max_failures = 1000;
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
    let app = spawn_app_with(db, |s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    create_user(&app, "pia").await;
    // nginx appends the address it saw to whatever the client sent.
    app.browser_from("garbage, 203.0.113.77").log_in("pia").await;
    assert_eq!(live_ips(&app, "pia").await, ["203.0.113.77"]);
}

/// Streams per session (the oldest gives way), per user, per client network and in all.
async fn live_streams_are_capped(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.max_sessions = 10;
        s.live_streams_per_session = 2;
        s.live_streams_per_user = 3;
        s.live_streams_per_address = 4;
        s.live_streams_total = 6;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
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

/// A stream superseded by a newer one of its session, opened from another address, frees a
/// place at its own address, not at the newcomer's.
async fn a_superseded_stream_frees_its_own_address(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.max_sessions = 10;
        s.live_streams_per_session = 1;
        s.live_streams_per_user = 10;
        s.live_streams_per_address = 1;
        s.live_streams_total = 10;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    create_user(&app, "uli").await;
    create_user(&app, "vic").await;
    let at_home = app.browser_from("203.0.113.1");
    at_home.log_in("uli").await;
    let mut first = at_home.listen().await;
    // The same session, now from the office: its home stream gives way.
    let at_office = app.browser_from("203.0.113.2");
    at_office.jar.add_cookie_str(
        &format!("{SESSION_COOKIE}={}", at_home.session_cookie().unwrap()),
        &app.base.parse().unwrap(),
    );
    let _second = at_office.listen().await;
    assert_eq!(
        first.next().await.map(|(name, _)| name).as_deref(),
        Some("superseded")
    );
    assert_eq!(app.state.streams.open_count(), 1);
    // Home holds no stream any more: another user there gets one; the office is full.
    let neighbour = app.browser_from("203.0.113.1");
    neighbour.log_in("vic").await;
    let _third = neighbour.listen().await;
    let colleague = app.browser_from("203.0.113.2");
    colleague.log_in("vic").await;
    assert_eq!(colleague.events().await.status(), StatusCode::TOO_MANY_REQUESTS);
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

    let hashed = spawn_app_with_hashed_assets(testkit::sqlite().await).await;
    let css = hashed.browser().get("/pkg/single-login.css").await;
    assert_eq!(
        header_text(&css, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_security_headers(&css, "a hashed asset");
}

on_both_backends!(
    a_superseded_stream_frees_its_own_address,
    parallel_wrong_passwords_never_pass_the_limit,
    the_per_address_limit_holds_across_names_signups_and_ipv6_neighbours,
    re_authentication_is_limited_per_session,
    a_held_login_loses_to_a_password_change_or_a_disable,
    a_login_racing_a_password_change_loses,
    when_hashing_is_saturated_logins_get_503_and_pages_still_answer,
    a_malformed_forwarding_entry_left_of_the_client_is_never_read,
    live_streams_are_capped,
    slow_headers_are_cut_off,
    static_files_answer_at_once_over_a_kept_alive_connection,
    assets_skip_the_session_and_hashed_ones_are_cached_for_good,
);
