//! What a stranger, or another session, can no longer do (issue 18), each written as the
//! attacker's requests with the answer they must get: leave lasting rows, block the owner's
//! recovery, hold connections with slow bodies, starve hashing from one IPv6 /48, replay a
//! stored session id, learn the owner's address from the kicked page, or outlast an
//! operator's sign-out with a held login.

use super::harness::*;
use single_login::{on_pool, Db};
use testkit::on_both_backends;

/// Rows in `table` (a name of ours, never input).
async fn rows(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    on_pool!(db, pool => sqlx::query_scalar::<_, i64>(&sql).fetch_one(pool).await.unwrap())
}

fn session_table(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "single_login_sessions",
        Db::Postgres(_) => "tower_sessions.single_login_sessions",
    }
}

fn store(app: &TestApp) -> &Db {
    app.state.ctx.seats().db()
}

/// 300 plain-form logouts without a cookie, and an ended cookie replayed on pages: not one
/// session row. The signed-out browser is still told so on the login page, once.
async fn anonymous_requests_leave_no_session_rows(db: TestDb) {
    let app = Arc::new(spawn_app(db).await);
    let sessions = session_table(store(&app));
    assert_eq!(rows(store(&app), sessions).await, 0);
    let tasks: Vec<_> = (0..300)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let response = app.browser().submit("/api/logout", &[]).await;
                (response.status(), location(&response).to_owned())
            })
        })
        .collect();
    for task in tasks {
        let (status, to) = task.await.unwrap();
        assert!(status.is_redirection(), "{status}");
        assert_eq!(to, "/login");
    }
    assert_eq!(
        rows(store(&app), sessions).await,
        0,
        "anonymous logouts wrote sessions"
    );

    // The browser that logged out sees why, once.
    let browser = app.browser();
    browser.submit("/api/logout", &[]).await;
    let (_, html) = browser.page("/login").await;
    assert_eq!(toasts_saying(&html, "You have been signed out."), 1, "{html}");
    let (_, again) = browser.page("/login").await;
    assert_eq!(
        toasts_saying(&again, "You have been signed out."),
        0,
        "shown once"
    );

    // A kicked cookie, replayed again and again: no rows, and the kicked page says why.
    app.browser().sign_up("rhea").await;
    let (a, b) = (app.browser(), app.browser());
    a.log_in("rhea").await;
    let stolen = a.session_cookie().unwrap();
    b.log_in("rhea").await;
    let before = rows(store(&app), sessions).await;
    for _ in 0..50 {
        let replay = app.browser_replaying(&stolen);
        assert_redirect(&replay.get("/").await, "/login");
    }
    // The first replay deleted the ended session's own record; nothing was added.
    assert!(rows(store(&app), sessions).await < before);
    assert_redirect(&a.get("/").await, "/login");
    let (_, html) = a.page("/login").await;
    assert_eq!(toasts_saying(&html, KICKED_EN), 1, "{html}");
}

/// A signed-in session's flash holds a few toasts at most, however many plain posts are
/// never followed by a page.
async fn the_flash_is_capped(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("sven").await;
    let sven = app.browser();
    sven.log_in("sven").await;
    sven.submit("/api/sessions/confirm", &[("password", PASSWORD)])
        .await;
    let size = || async {
        let sql = format!(
            "SELECT CAST(max(length(data)) AS BIGINT) FROM {}",
            session_table(store(&app))
        );
        on_pool!(store(&app), pool => sqlx::query_scalar::<_, Option<i64>>(&sql).fetch_one(pool).await.unwrap())
            .unwrap_or(0)
    };
    for _ in 0..10 {
        sven.submit("/api/sessions/end", &[("id", "999999")]).await;
    }
    let ten = size().await;
    for _ in 0..40 {
        sven.submit("/api/sessions/end", &[("id", "999999")]).await;
    }
    assert_eq!(size().await, ten, "the record stopped growing");
    let (_, html) = sven.page("/sessions").await;
    assert_eq!(
        toasts_saying(&html, "Signed out 0 sessions."),
        app::ssr::FLASH_CAP,
        "{html}"
    );
}

/// A signed-in page view writes no session record and sets no cookie (issue 24: a removal
/// of the empty flash made tower-sessions save the record on every page), and comes whole,
/// with its length; a flash left by a plain post is still shown on the next page, once.
async fn a_page_view_writes_no_session_record(db: TestDb) {
    let app = spawn_app(db).await;
    app.browser().sign_up("pia").await;
    let pia = app.browser();
    pia.log_in("pia").await;
    let record = || async {
        let sql = format!(
            "SELECT CAST(expiry_date AS TEXT) || ':' || hex(data) FROM {}",
            session_table(store(&app))
        );
        let sql = match store(&app) {
            Db::Sqlite(_) => sql,
            Db::Postgres(_) => sql.replace("hex(data)", "encode(data, 'hex')"),
        };
        let mut records = on_pool!(store(&app), pool => sqlx::query_scalar::<_, String>(&sql).fetch_all(pool).await.unwrap());
        records.sort();
        records
    };
    // Pia's record, and the one the signing-up browser left.
    let before = record().await;
    assert_eq!(before.len(), 2, "{before:?}");
    for path in ["/", "/sessions", "/"] {
        let response = pia.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let set: Vec<_> = response.headers().get_all(header::SET_COOKIE).iter().collect();
        assert!(set.is_empty(), "GET {path} set {set:?}");
        // Sent whole (`layers::whole_page`): a length, not chunks, and the length is right.
        assert!(
            response.headers().get(header::TRANSFER_ENCODING).is_none(),
            "{path}"
        );
        let length: usize = response.headers()[header::CONTENT_LENGTH]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let html = response.text().await.unwrap();
        assert_eq!(html.len(), length, "{path}");
        assert!(
            html.ends_with("</script>"),
            "{path}: the hydration data is in the page"
        );
    }
    assert_eq!(record().await, before, "the record was written");

    // A plain post's toast still reaches the next page, once, and the hint goes with it.
    pia.submit("/api/sessions/confirm", &[("password", PASSWORD)])
        .await;
    pia.submit("/api/sessions/end", &[("id", "999999")]).await;
    let response = pia.get("/sessions").await;
    let cleared = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("single_login_flash=;"));
    assert!(cleared, "the hint is cleared");
    let html = response.text().await.unwrap();
    assert_eq!(toasts_saying(&html, "Signed out 0 sessions."), 1, "{html}");
    let (_, again) = pia.page("/sessions").await;
    assert_eq!(toasts_saying(&again, "Signed out 0 sessions."), 0, "shown once");
}

/// With two sessions allowed, the thief's six wrong confirmations end the thief's session
/// and leave the owner's password change untouched.
async fn another_session_cannot_block_recovery(db: TestDb) {
    let app = spawn_app_with(db, limit(2)).await;
    app.browser().sign_up("tess").await;
    let (owner, thief) = (app.browser(), app.browser());
    owner.log_in("tess").await;
    thief.log_in("tess").await;
    let mut answers = Vec::new();
    for _ in 0..6 {
        let wrong = thief
            .call("/api/sessions/confirm", &[("password", "not it at all")])
            .await;
        answers.push((wrong.status(), wrong.text().await.unwrap()));
    }
    let statuses: Vec<StatusCode> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(&statuses[..4], [StatusCode::UNPROCESSABLE_ENTITY; 4]);
    assert_eq!(&statuses[4..], [StatusCode::UNAUTHORIZED; 2], "{answers:?}");
    // The fifth failure ended the thief's session, and says why.
    assert!(
        answers[4]
            .1
            .contains("This session was signed out after too many wrong password confirmations."),
        "{answers:?}"
    );
    let change = owner
        .call(
            "/api/account/password",
            &[
                ("current", PASSWORD),
                ("password", "a new password"),
                ("password_confirm", "a new password"),
            ],
        )
        .await;
    assert_eq!(change.status(), StatusCode::OK);
    assert_redirect(&thief.get("/").await, "/login");
    assert_eq!(owner.get("/").await.status(), StatusCode::OK);
    let page = sessions_of(&owner).await;
    assert_eq!(page.live.len(), 1, "the thief's session is over");
}

/// Reads from a raw connection until the server closes it or `within` passes; true if it
/// closed.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

fn addr(app: &TestApp) -> std::net::SocketAddr {
    app.base.trim_start_matches("http://").parse().unwrap()
}

/// Slow bodies are cut within the body timeout; past the per-network cap a connection is
/// closed at once, while a request from another address is answered.
async fn slow_bodies_are_cut_and_connections_are_capped(db: TestDb) {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app_with(db, |s| {
        s.request_body_timeout = Duration::from_millis(300);
        s.max_connections_per_network = 20;
    })
    .await;
    let slow = "POST /language HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nl";
    let mut streams = Vec::new();
    for _ in 0..20 {
        let mut stream = tokio::net::TcpStream::connect(addr(&app)).await.unwrap();
        stream.write_all(slow.as_bytes()).await.unwrap();
        streams.push(stream);
    }
    for stream in &mut streams {
        assert!(
            closed_within(stream, Duration::from_secs(5)).await,
            "a slow body kept its connection"
        );
    }
    drop(streams);
    // Twenty-one idle connections: twenty fill this address's share, whichever the server
    // accepts first, and one is closed at once ...
    let mut idle = Vec::new();
    for _ in 0..21 {
        idle.push(tokio::net::TcpStream::connect(addr(&app)).await.unwrap());
    }
    let checks = idle
        .iter_mut()
        .map(|stream| closed_within(stream, Duration::from_secs(3)));
    let closed = futures_util::future::join_all(checks).await;
    assert_eq!(closed.iter().filter(|c| **c).count(), 1, "{closed:?}");
    // ... and another address is served.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = socket.connect(addr(&app)).await.unwrap();
    other
        .write_all(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    use tokio::io::AsyncReadExt;
    tokio::time::timeout(Duration::from_secs(10), other.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "{}",
        answer.lines().next().unwrap_or("")
    );
    drop(idle);
}

/// A hundred clients rotating over the /64s of one /48 with random names, one hashing
/// slot and a short wait: the owner's browser, a known device, still gets in every time,
/// and the `attempts` table grows by the /48's limit at most, not by the flood's size.
async fn a_48_rotation_leaves_a_known_devices_login_alone(db: TestDb) {
    let app = Arc::new(
        spawn_app_with(db, |s| {
            s.hash_concurrency = 1;
            // Short enough that a first-come queue behind the flood would refuse the owner.
            s.hash_queue_timeout = Duration::from_secs(1);
            s.hash_queue_per_network = 8;
            s.address_max_attempts = 100;
            s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .await,
    );
    let owner = app.browser_from("203.0.113.9");
    assert_redirect(&owner.sign_up("uma").await, "/");
    let attempts_before = rows(store(&app), "single_login_attempts").await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attackers: Vec<_> = (0..100u32)
        .map(|n| {
            let app = app.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                let mut round = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let from = format!("2001:db8:1:{:x}::1", (n * 37 + round) % 0xffff);
                    let name = format!("x{n}r{round}");
                    let response = app
                        .browser_from(&from)
                        .call(
                            "/api/login",
                            &[("username", &name), ("password", "wrong password")],
                        )
                        .await;
                    statuses.push(response.status());
                    round += 1;
                }
                statuses
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..10 {
        let login = owner
            .call("/api/login", &[("username", "uma"), ("password", PASSWORD)])
            .await;
        assert_eq!(login.status(), StatusCode::OK, "the owner was kept out");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut admitted = 0usize;
    let mut total = 0usize;
    for attacker in attackers {
        for status in attacker.await.unwrap() {
            total += 1;
            if status != StatusCode::TOO_MANY_REQUESTS {
                admitted += 1;
            }
        }
    }
    let grown = rows(store(&app), "single_login_attempts").await - attempts_before;
    assert!(total > admitted, "the /48's limit never bit ({total} attempts)");
    // The /48's limit bounds the attempts that got past the networks, whatever the volume;
    // each wrote at most its /56, its /64 and its name (the /48 is one row, and the owner's
    // device bucket one more).
    let block = app.state.settings.block_max_attempts as usize;
    assert!(
        admitted <= block,
        "{admitted} admitted past a /48 limit of {block}"
    );
    assert!(
        grown as usize <= 3 * admitted + 2,
        "{grown} rows for {admitted} admitted of {total}"
    );
}

/// The session table holds hashes: a stored id sent back as a cookie is nobody.
async fn a_stored_session_id_is_not_a_cookie(db: TestDb) {
    let app = spawn_app(db).await;
    let vera = app.browser();
    assert_redirect(&vera.sign_up("vera").await, "/");
    let cookie = vera.session_cookie().unwrap();
    let sql = format!("SELECT id FROM {}", session_table(store(&app)));
    let stored: Vec<String> =
        on_pool!(store(&app), pool => sqlx::query_scalar(&sql).fetch_all(pool).await.unwrap());
    assert!(!stored.is_empty());
    assert!(!stored.contains(&cookie), "the cookie is in the table");
    for id in stored {
        assert_redirect(&app.browser_replaying(&id).get("/").await, "/login");
    }
    assert_eq!(vera.get("/").await.status(), StatusCode::OK);
}

/// The kicked browser learns when and with what the new login came, and its network only
/// coarsely; the full address is on the owner's `/sessions`.
async fn the_kicked_page_never_shows_the_full_address(db: TestDb) {
    let app = spawn_app_with(db, |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    app.browser().sign_up("wes").await;
    let thief = app.browser_from("198.51.100.7");
    thief.log_in("wes").await;
    let owner = app.browser_from("203.0.113.77");
    owner.log_in("wes").await;
    assert_redirect(&thief.get("/").await, "/login");
    let (_, html) = thief.page("/login").await;
    assert_eq!(toasts_saying(&html, KICKED_EN), 1, "{html}");
    assert!(html.contains("203.0.113.x"), "{html}");
    assert!(!html.contains("203.0.113.77"), "{html}");
    let (_, sessions) = owner.page("/sessions").await;
    assert!(sessions.contains("203.0.113.77"));
    // A browser kicked from its own network hears "this network".
    let home = app.browser_from("203.0.113.80");
    home.log_in("wes").await;
    owner.log_in("wes").await;
    assert_redirect(&home.get("/").await, "/login");
    let (_, html) = home.page("/login").await;
    assert!(html.contains("this network"), "{html}");
    assert!(!html.contains("203.0.113.77"), "{html}");
}

/// After the operator signs a user out, a login the `ask` policy held cannot go on.
async fn operator_sign_out_beats_a_held_login(db: TestDb) {
    let app = spawn_app_with(db, policy(OnLimit::Ask)).await;
    create_user(&app, "xia").await;
    let owner = app.browser();
    owner.log_in("xia").await;
    let attacker = app.browser();
    let held = attacker
        .call("/api/login", &[("username", "xia"), ("password", PASSWORD)])
        .await;
    assert_eq!(held.status(), StatusCode::CONFLICT);
    let mut config = Config {
        leptos: app.state.leptos_options.clone(),
        settings: (*app.state.settings).clone(),
    };
    config.settings.database_url = DatabaseUrl(app.database_url.clone());
    let mut out = Vec::new();
    server::cli::user(
        config,
        server::cli::UserCommand::SignOut {
            name: Some("xia".into()),
            all: false,
        },
        &mut "".as_bytes(),
        &mut out,
    )
    .await
    .unwrap();
    let continued = attacker.call("/api/login/continue", &[]).await;
    assert_eq!(continued.status(), StatusCode::UNAUTHORIZED);
    assert!(live_ips(&app, "xia").await.is_empty());
}

on_both_backends!(
    anonymous_requests_leave_no_session_rows,
    the_flash_is_capped,
    a_page_view_writes_no_session_record,
    another_session_cannot_block_recovery,
    slow_bodies_are_cut_and_connections_are_capped,
    a_48_rotation_leaves_a_known_devices_login_alone,
    a_stored_session_id_is_not_a_cookie,
    the_kicked_page_never_shows_the_full_address,
    operator_sign_out_beats_a_held_login,
);
