//! Operating it, with the real binary in separate processes on one PostgreSQL: a real
//! Prometheus scrapes two server processes, and signed webhooks reach a receiver that was
//! down while the server restarted.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use single_login::events::Events;

const PASSWORD: &str = "correct horse battery";
const TOKEN: &str = "a-long-metrics-token-for-tests";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server binary on `port` with `env`, once it answers.
struct Server {
    process: Process,
    base: String,
    _site: tempfile::TempDir,
}

async fn start_server(database_url: &str, env: &[(&str, String)]) -> Server {
    let port = free_port();
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir(site.path().join("pkg")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_single-login"));
    command
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", site.path())
        .env("LEPTOS_SITE_PKG_DIR", "pkg")
        .env("LEPTOS_OUTPUT_NAME", "single-login")
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (key, value) in env {
        command.env(key, value);
    }
    let server = Server {
        process: Process(command.spawn().expect("start the server binary")),
        base: format!("http://127.0.0.1:{port}"),
        _site: site,
    };
    wait_until(&format!("{}/login", server.base), Duration::from_secs(60)).await;
    server
}

impl Server {
    /// Stops it as an operator would (SIGTERM: a graceful shutdown).
    fn terminate(mut self) {
        let pid = self.process.0.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let _ = self.process.0.wait();
    }
}

async fn wait_until(url: &str, limit: Duration) {
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    loop {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().as_u16() < 500)
        {
            return;
        }
        assert!(started.elapsed() < limit, "{url} did not answer within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One browser: its own cookies.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
        .build()
        .unwrap()
}

async fn post(browser: &reqwest::Client, base: &str, path: &str, form: &[(&str, &str)]) {
    let response = browser
        .post(format!("{base}{path}"))
        .header("accept", "text/html")
        .header("sec-fetch-site", "same-origin")
        .header("referer", format!("{base}/login"))
        .form(form)
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        response.status().is_redirection() && location == "/",
        "{path}: {} to {location:?}: {:?}",
        response.status(),
        response.text().await
    );
}

async fn sign_up(base: &str, name: &str) {
    let form = [
        ("username", name),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    post(&browser(), base, "/api/signup", &form).await;
}

async fn log_in(base: &str, name: &str) {
    post(
        &browser(),
        base,
        "/api/login",
        &[("username", name), ("password", PASSWORD)],
    )
    .await;
}

/// A Prometheus query's single value, if it has one.
async fn query(prometheus: &str, expr: &str) -> Option<f64> {
    let answer: serde_json::Value = reqwest::Client::new()
        .get(format!("{prometheus}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    answer["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

async fn eventually(prometheus: &str, expr: &str, expected: f64) {
    let started = std::time::Instant::now();
    let mut last = None;
    while started.elapsed() < Duration::from_secs(60) {
        last = query(prometheus, expr).await;
        if last == Some(expected) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{expr}: expected {expected}, Prometheus says {last:?}");
}

#[tokio::test]
async fn prometheus_scrapes_two_processes_and_sums_them_right() {
    let db = testkit::postgres().await;
    let (metrics_a, metrics_b) = (free_port(), free_port());
    let env = |port: u16| {
        vec![
            ("METRICS_ADDR", format!("127.0.0.1:{port}")),
            ("METRICS_TOKEN", TOKEN.to_owned()),
        ]
    };
    let a = start_server(&db.url, &env(metrics_a)).await;
    let b = start_server(&db.url, &env(metrics_b)).await;

    // The metrics answer the token only, and only on their own port.
    let client = reqwest::Client::new();
    let metrics = format!("http://127.0.0.1:{metrics_a}/metrics");
    assert_eq!(client.get(&metrics).send().await.unwrap().status().as_u16(), 401);
    let scraped = client.get(&metrics).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(scraped.status().as_u16(), 200);
    assert!(scraped
        .text()
        .await
        .unwrap()
        .contains("single_login_sessions_live"));
    assert_eq!(
        client
            .get(format!("{}/metrics", a.base))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: single-login\n    authorization:\n      credentials: {TOKEN}\n\
             \x20   static_configs:\n      - targets: ['127.0.0.1:{metrics_a}', '127.0.0.1:{metrics_b}']\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let _prometheus = Process(
        Command::new("/usr/bin/prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Prometheus (Debian's prometheus package, installed by scripts/setup)"),
    );
    let prometheus = format!("http://127.0.0.1:{port}");
    wait_until(&format!("{prometheus}/-/ready"), Duration::from_secs(60)).await;

    // Both processes scraped at rest first: the counters start from zero.
    eventually(
        &prometheus,
        "count(single_login_sessions_ended_total{reason=\"replaced\"} == 0)",
        2.0,
    )
    .await;
    // Logins through both processes: ann's four logins kick three times; bob stays alone.
    sign_up(&a.base, "ann").await;
    log_in(&b.base, "ann").await;
    log_in(&a.base, "ann").await;
    log_in(&b.base, "ann").await;
    sign_up(&b.base, "bob").await;
    let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM single_login_seats WHERE ended_at IS NULL")
        .fetch_one(match &db.db {
            single_login::Db::Postgres(pool) => pool,
            #[allow(unreachable_patterns)]
            _ => unreachable!(),
        })
        .await
        .unwrap();
    assert_eq!(live, 2);

    eventually(&prometheus, "sum(single_login_sessions_live)", 2.0).await;
    eventually(
        &prometheus,
        "sum(single_login_sessions_ended_total{reason=\"replaced\"})",
        3.0,
    )
    .await;
    eventually(
        &prometheus,
        "sum(single_login_logins_total{outcome=\"signed_in\"})",
        3.0,
    )
    .await;
    eventually(
        &prometheus,
        "count(single_login_login_duration_seconds_bucket{le=\"+Inf\"})",
        2.0,
    )
    .await;
    // Every query of the shipped dashboard is valid PromQL with an answer here.
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/grafana-dashboard.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let exprs: Vec<&str> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|panel| panel["targets"].as_array().unwrap())
        .map(|target| target["expr"].as_str().unwrap())
        .collect();
    assert!(exprs.len() >= 3);
    for expr in exprs {
        let answer: serde_json::Value = client
            .get(format!("{prometheus}/api/v1/query"))
            .query(&[("query", expr)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["status"], "success", "{expr}: {answer}");
    }
    let kicks = "sum(rate(single_login_sessions_ended_total{reason=\"replaced\"}[5m])) * 60";
    let started = std::time::Instant::now();
    while !query(&prometheus, kicks).await.is_some_and(|v| v > 0.0) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the kicks panel shows no kick"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop((a, b));
}

/// What the receiver got: every request's event id and user, after checking its signature.
#[derive(Default)]
struct Received {
    ids: Vec<(String, Option<i64>)>,
    bad: usize,
}

async fn receiver(port: u16, received: Arc<Mutex<Received>>) -> tokio::task::JoinHandle<()> {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (key, received) = (key.clone(), received.clone());
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
                let body = String::from_utf8(body.to_vec()).unwrap();
                // Verify as a receiver would: HMAC-SHA256 over "id.timestamp.body".
                use hmac::Mac;
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
                mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
                let expected = format!(
                    "v1,{}",
                    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
                );
                let payload: serde_json::Value = serde_json::from_str(&body).unwrap();
                let mut received = received.lock().unwrap();
                if header("webhook-signature").split(' ').any(|s| s == expected)
                    && payload["data"]["id"] == id.as_str()
                {
                    received.ids.push((id, payload["data"]["user"].as_i64()));
                } else {
                    received.bad += 1;
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    })
}

#[tokio::test]
async fn webhooks_arrive_signed_in_order_after_a_receiver_outage_and_a_restart() {
    let db = testkit::postgres().await;
    let port = free_port();
    let env = vec![
        ("WEBHOOK_URL", format!("http://127.0.0.1:{port}/hook")),
        ("WEBHOOK_SECRET", SECRET.to_owned()),
    ];
    let received = Arc::new(Mutex::new(Received::default()));
    let up = receiver(port, received.clone()).await;
    let server = start_server(&db.url, &env).await;
    sign_up(&server.base, "cyd").await;
    let delivered = |n: usize| {
        let received = received.clone();
        async move {
            let started = std::time::Instant::now();
            while received.lock().unwrap().ids.len() < n {
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "only {:?}",
                    received.lock().unwrap().ids
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    delivered(1).await;

    // The receiver goes down; three logins happen meanwhile; the server restarts.
    up.abort();
    let _ = up.await;
    for _ in 0..3 {
        log_in(&server.base, "cyd").await;
    }
    sign_up(&server.base, "dee").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.terminate();
    let server = start_server(&db.url, &env).await;
    let _up = receiver(port, received.clone()).await;

    // Everything the outbox holds arrives: each id once after de-duplication, in order.
    let far = single_login::Millis::now().plus(Duration::from_secs(3600));
    let expected: Vec<(String, Option<i64>)> = Events::new(db.db.clone())
        .export(single_login::Millis(0), far, None)
        .await
        .unwrap()
        .into_iter()
        .map(|event| (event.id, event.user))
        .collect();
    // cyd: 1 + 3 opened, 3 replaced; dee: 1 opened.
    assert_eq!(expected.len(), 8);
    let started = std::time::Instant::now();
    loop {
        let got: Vec<(String, Option<i64>)> = {
            let received = received.lock().unwrap();
            let mut seen = HashSet::new();
            received
                .ids
                .iter()
                .filter(|(id, _)| seen.insert(id.clone()))
                .cloned()
                .collect()
        };
        if got.len() >= expected.len() {
            assert_eq!(got, expected, "every event, once, in commit order");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "got {} of {}",
            got.len(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(received.lock().unwrap().bad, 0, "every signature verifies");
    drop(server);
}
