//! The benchmark suite (`scripts/bench`): the release server in its own process, driven over
//! real HTTP/1.1 keep-alive connections by a load generator of our own (hyper), and the same
//! server built with the feature `bench-without-seat-check` as the yardstick for the check.
//! It prints one Markdown table; ratios come from the same run. Not a test: the figures
//! depend on the machine and on whatever else it is doing (the load generator itself shares
//! the two cores with the server).
//!
//! The seat-table scale (1k, 100k and 1M rows) is measured by `benches/registry.rs`, which
//! `scripts/bench` runs next.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use http::{header, Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

const PASSWORD: &str = "correct horse battery";
const SECONDS: u64 = 5;
const LOGINS: usize = 20;
const SESSIONS: usize = 10_000;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let checked = bin("BENCH_SERVER_BIN", &root.join("target/release/single-login"));
    let unchecked = bin(
        "BENCH_UNCHECKED_BIN",
        &root.join("target/bench/single-login-without-seat-check"),
    );
    let site = root.join("target/site");
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/bench.db", dir.path().display());
    for name in [
        "alpha", "bravo", "user0", "user1", "user2", "user3", "user4", "user5", "user6", "user7",
    ] {
        add_user(&checked, &db, name);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Some(out) = std::env::var_os("BENCH_PROFILE") {
        runtime.block_on(profile(&checked, &db, &site, Path::new(&out)));
        return;
    }
    runtime.block_on(async move {
        let mut rows: Vec<[String; 3]> = Vec::new();
        let mut row = |what: &str, result: String, goal: &str| {
            rows.push([what.to_owned(), result, goal.to_owned()]);
        };

        // Memory first, on a fresh server: 10k signed-in sessions, then a stream each.
        let pages_only = std::env::var_os("BENCH_PAGES_ONLY").is_some();
        let server = Server::start(&checked, &db, &site);
        let cookies = fabricate_sessions(dir.path(), if pages_only { 16 } else { SESSIONS }).await;
        let rss_before = server.rss_kib();
        visit_all(server.addr, &cookies).await;
        let rss_seats = server.rss_kib();
        let streams = open_streams(server.addr, &cookies).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_streams = server.rss_kib();
        drop(streams);
        drop(server);

        // Pages with and without the check: both servers up, their runs alternated (A B B A)
        // so that whatever drifts during the run weighs on both alike.
        let server = Server::start(&checked, &db, &site);
        let yardstick = Server::start(&unchecked, &db, &site);
        if pages_only {
            tokio::time::sleep(Duration::from_secs(2)).await;
            println!(
                "at rest, fresh: A {:.1} MB  B {:.1} MB",
                server.rss_kib() as f64 / 1024.0,
                yardstick.rss_kib() as f64 / 1024.0
            );
        }
        let owner = server.log_in("alpha").await;
        let other = yardstick.log_in("bravo").await;
        let mut checked_runs = Vec::new();
        let mut unchecked_runs = Vec::new();
        for connections in [1, 16, 64] {
            let a1 = load(server.addr, "/", Some(&owner), connections).await;
            let b1 = load(yardstick.addr, "/", Some(&other), connections).await;
            let b2 = load(yardstick.addr, "/", Some(&other), connections).await;
            let a2 = load(server.addr, "/", Some(&owner), connections).await;
            if pages_only {
                println!(
                    "{connections}: A {:.0} {:.0}  B {:.0} {:.0}",
                    a1.rate(),
                    a2.rate(),
                    b1.rate(),
                    b2.rate()
                );
            }
            checked_runs.push(a1.and(a2));
            unchecked_runs.push(b1.and(b2));
        }
        drop(yardstick);

        // The machine's own ceiling in the same run: a static asset through the same server
        // and client. Static, signed-in page, anonymous page, then back (S P L L P S), so
        // that drift weighs on each pair alike.
        let css = asset(&site, "css");
        let css_path = format!("/pkg/{css}");
        let static_one = load(server.addr, &css_path, None, 1).await;
        let s1 = load(server.addr, &css_path, None, 16).await;
        let p1 = load(server.addr, "/", Some(&owner), 16).await;
        let l1 = load(server.addr, "/login", None, 16).await;
        let l2 = load(server.addr, "/login", None, 16).await;
        let p2 = load(server.addr, "/", Some(&owner), 16).await;
        let s2 = load(server.addr, &css_path, None, 16).await;
        let static_many = s1.and(s2);
        let signed_in = p1.and(p2);
        let anonymous = l1.and(l2);
        if pages_only {
            println!(
                "S P L L P S: static {:.0}, signed-in / {:.0} ({:.2}), anonymous /login {:.0} ({:.2})",
                static_many.rate(),
                signed_in.rate(),
                signed_in.rate() / static_many.rate(),
                anonymous.rate(),
                anonymous.rate() / static_many.rate()
            );
            return;
        }

        // An earlier build of the server, if scripts/bench was given one (BENCH_BASELINE):
        // signed-in `GET /` of both, A B B A.
        let baseline = match std::env::var_os("BENCH_BASELINE_BIN") {
            Some(path) => {
                let earlier = Server::start(Path::new(&path), &db, &site);
                tokio::time::sleep(Duration::from_secs(1)).await;
                let at_rest = earlier.rss_kib();
                let theirs = earlier.log_in("bravo").await;
                let a1 = load(server.addr, "/", Some(&owner), 16).await;
                let b1 = load(earlier.addr, "/", Some(&theirs), 16).await;
                let b2 = load(earlier.addr, "/", Some(&theirs), 16).await;
                let a2 = load(server.addr, "/", Some(&owner), 16).await;
                let label = std::env::var("BENCH_BASELINE").unwrap_or_else(|_| "earlier".into());
                Some((label, a1.and(a2), b1.and(b2), at_rest))
            }
            None => None,
        };

        let verify = argon2_alone().await;
        let mut logins = Vec::new();
        for _ in 0..LOGINS {
            let started = Instant::now();
            server.log_in("user0").await;
            logins.push(started.elapsed().as_secs_f64() * 1000.0);
        }

        let idle = load(server.addr, "/", Some(&owner), 1).await;
        let busy = {
            let stop = Arc::new(AtomicBool::new(false));
            let clients: Vec<_> = (0..8)
                .map(|i| {
                    let (stop, server) = (stop.clone(), server.handle());
                    tokio::spawn(async move {
                        while !stop.load(Ordering::Relaxed) {
                            server.log_in(&format!("user{i}")).await;
                        }
                    })
                })
                .collect();
            let run = load(server.addr, "/", Some(&owner), 1).await;
            stop.store(true, Ordering::Relaxed);
            for client in clients {
                let _ = client.await;
            }
            run
        };
        drop(server);

        for ((connections, with), without) in [1, 16, 64].iter().zip(&checked_runs).zip(&unchecked_runs) {
            row(
                &format!("signed-in `GET /`, {connections} connection(s): with the check / without"),
                format!(
                    "{:.0} / {:.0} req/s ({:+.1} %), p99 {:.2} / {:.2} ms",
                    with.rate(),
                    without.rate(),
                    (without.rate() / with.rate() - 1.0) * 100.0,
                    with.percentile(99.0),
                    without.percentile(99.0)
                ),
                "the check costs at most 5 %",
            );
        }
        row(
            "signed-in `GET /`, 16 connections, against the static asset (S P L L P S)",
            format!(
                "{:.0} req/s, p99 {:.2} ms: **{:.2}** of the static asset",
                signed_in.rate(),
                signed_in.percentile(99.0),
                signed_in.rate() / static_many.rate()
            ),
            "at least 0.75 of the static asset",
        );
        row(
            "anonymous `GET /login`, 16 connections, against the static asset (S P L L P S)",
            format!(
                "{:.0} req/s, p99 {:.2} ms: **{:.2}** of the static asset",
                anonymous.rate(),
                anonymous.percentile(99.0),
                anonymous.rate() / static_many.rate()
            ),
            "",
        );
        if let Some((label, ours, theirs, at_rest)) = &baseline {
            row(
                &format!("signed-in `GET /`, 16 connections: this build against {label} (A B B A)"),
                format!(
                    "{:.0} / {:.0} req/s: **{:.2}x**, p99 {:.2} / {:.2} ms",
                    ours.rate(),
                    theirs.rate(),
                    ours.rate() / theirs.rate(),
                    ours.percentile(99.0),
                    theirs.percentile(99.0)
                ),
                "at least 1.3x the build before issue 24",
            );
            row(
                &format!("server memory at rest, fresh: this build / {label}"),
                format!(
                    "{:.1} / {:.1} MB resident",
                    rss_before as f64 / 1024.0,
                    *at_rest as f64 / 1024.0
                ),
                "at most 10 MB more",
            );
        }
        row(
            &format!("static asset `/pkg/{css}` over keep-alive, 1 / 16 connections"),
            format!(
                "{:.0} / {:.0} req/s, p99 {:.2} / {:.2} ms",
                static_one.rate(),
                static_many.rate(),
                static_one.percentile(99.0),
                static_many.percentile(99.0)
            ),
            "no Nagle stalls (ms, not 40 ms)",
        );
        let verify_p50 = percentile(&verify, 50.0);
        row(
            &format!("login ({LOGINS}, one at a time) against one argon2id verification alone"),
            format!(
                "p50 {:.1} ms, p99 {:.1} ms; verification p50 {:.1} ms ({:.2}x)",
                percentile(&logins, 50.0),
                percentile(&logins, 99.0),
                verify_p50,
                percentile(&logins, 50.0) / verify_p50
            ),
            "p50 at most 1.2x the verification",
        );
        row(
            "signed-in `GET /` p99 while 8 clients log in continuously, against idle",
            format!(
                "{:.2} ms against {:.2} ms ({:.1}x)",
                busy.percentile(99.0),
                idle.percentile(99.0),
                busy.percentile(99.0) / idle.percentile(99.0)
            ),
            "at most 2x idle",
        );
        row(
            &format!("server memory: {SESSIONS} live sessions, each checked once"),
            format!(
                "{:.1} MB resident ({:.1} MB before them, on a fresh server)",
                rss_seats as f64 / 1024.0,
                rss_before as f64 / 1024.0
            ),
            "at most 64 MB",
        );
        row(
            &format!("server memory: {SESSIONS} open live-channel streams"),
            format!(
                "{:.1} MB resident, {:.1} KB per stream",
                rss_streams as f64 / 1024.0,
                (rss_streams.saturating_sub(rss_seats)) as f64 / SESSIONS as f64
            ),
            "at most 8 KB per stream",
        );
        for (kind, goal) in [("wasm", "at most 200 KB compressed (goal 150 KB)"), ("js", "")] {
            let name = asset(&site, kind);
            let size = |suffix: &str| {
                std::fs::metadata(site.join("pkg").join(format!("{name}{suffix}"))).map_or(0, |m| m.len())
            };
            row(
                &format!("`{name}`: raw / gzip / brotli"),
                format!(
                    "{:.0} / {:.0} / {:.0} KB",
                    size("") as f64 / 1000.0,
                    size(".gz") as f64 / 1000.0,
                    size(".br") as f64 / 1000.0
                ),
                goal,
            );
        }
        println!("| measurement | result | goal |");
        println!("|---|---|---|");
        for [what, result, goal] in rows {
            println!("| {what} | {result} | {goal} |");
        }
    });
}

/// `scripts/bench flamegraph`: a flame graph (SVG, at `out`) of the server while 16
/// connections load a signed-in `GET /`: `perf record` (the CPU clock; this machine has no
/// hardware counters) with DWARF stacks, folded and drawn by inferno.
async fn profile(binary: &Path, db: &str, site: &Path, out: &Path) {
    let server = Server::start(binary, db, site);
    let owner = server.log_in("alpha").await;
    let load = {
        let (addr, owner) = (server.addr, owner.clone());
        tokio::spawn(async move { load(addr, "/", Some(&owner), 16).await })
    };
    // Past the load's warm-up second, for four of its five measured seconds.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let data = out.with_extension("perf.data");
    // The folded stacks stay beside the graph, for reading with a script.
    let folded = out.with_extension("folded");
    let recorded = Command::new("perf")
        .args([
            "record",
            "-e",
            "cpu-clock",
            "-F",
            "499",
            "--call-graph",
            "dwarf,16384",
            "-q",
            "-o",
        ])
        .arg(&data)
        .args(["-p", &server.child.id().to_string(), "--", "sleep", "4"])
        .status()
        .expect("perf (scripts/bench flamegraph installs it)");
    assert!(recorded.success(), "perf record failed");
    let run = load.await.unwrap();
    let drawn = Command::new("sh")
        .arg("-c")
        .arg(
            "perf script --no-inline -i \"$1\" 2>/dev/null | inferno-collapse-perf > \"$4\" && \
             inferno-flamegraph --title \"$2\" --width 1600 --minwidth 1.5 < \"$4\" > \"$3\"",
        )
        .arg("sh")
        .arg(&data)
        .arg(format!(
            "signed-in GET /, 16 connections ({:.0} req/s while recorded)",
            run.rate()
        ))
        .arg(out)
        .arg(&folded)
        .status()
        .unwrap();
    assert!(drawn.success(), "could not draw the flame graph");
    let _ = std::fs::remove_file(&data);
    println!(
        "{} and {} ({:.0} req/s)",
        out.display(),
        folded.display(),
        run.rate()
    );
}

fn bin(variable: &str, default: &Path) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| default.to_owned(), PathBuf::from);
    assert!(
        path.exists(),
        "{} is missing: scripts/bench builds it",
        path.display()
    );
    path
}

fn add_user(binary: &Path, db: &str, name: &str) {
    let mut add = Command::new(binary)
        .env("DATABASE_URL", db)
        .env("LEPTOS_OUTPUT_NAME", "single-login")
        .env("RUST_LOG", "error")
        .args(["user", "add", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(add.wait().unwrap().success(), "user add {name}");
}

/// The file of `kind` (`css`, `wasm`, `js`) among the built, hashed assets.
fn asset(site: &Path, kind: &str) -> String {
    std::fs::read_dir(site.join("pkg"))
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .find(|name| name.ends_with(&format!(".{kind}")))
        .unwrap_or_else(|| {
            panic!(
                "no .{kind} in {}/pkg: run cargo leptos build --release",
                site.display()
            )
        })
}

/// A server process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

/// What a task needs to log in.
#[derive(Clone)]
struct Handle {
    addr: SocketAddr,
}

impl Server {
    fn start(binary: &Path, db: &str, site: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new(binary)
            .env("DATABASE_URL", db)
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .env("LEPTOS_SITE_ROOT", site)
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_OUTPUT_NAME", "single-login")
            .env("LEPTOS_ENV", "PROD")
            .env("SESSION_COOKIE_SECURE", "false")
            .env("RUST_LOG", "error")
            .env("ADDRESS_MAX_ATTEMPTS", "1000000")
            .env("LOGIN_MAX_FAILURES", "1000000")
            .env("ACCOUNT_MAX_FAILURES", "1000000")
            .env("HASH_QUEUE_TIMEOUT", "120s")
            .env("LIVE_STREAMS_PER_ADDRESS", "20000")
            .env("LIVE_STREAMS_TOTAL", "20000")
            // 10,000 streams from one address: past the per-network connection cap (256).
            .env("MAX_CONNECTIONS", "30000")
            .env("MAX_CONNECTIONS_PER_NETWORK", "30000")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, addr };
        for _ in 0..600 {
            if std::net::TcpStream::connect(addr).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the server did not start");
    }

    fn handle(&self) -> Handle {
        Handle { addr: self.addr }
    }

    /// Logs `name` in; returns the session cookie (`name=value`).
    async fn log_in(&self, name: &str) -> String {
        self.handle().log_in(name).await
    }

    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|line| line.starts_with("VmRSS"))?.to_owned();
                line.split_whitespace().nth(1)?.parse().ok()
            })
            .unwrap_or(0)
    }
}

impl Handle {
    async fn log_in(&self, name: &str) -> String {
        let body = format!("username={name}&password={}", PASSWORD.replace(' ', "+"));
        let request = Request::post("/api/login")
            .header(header::HOST, self.addr.to_string())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header(header::ACCEPT, "text/html")
            .body(body)
            .unwrap();
        let mut sender = connect(self.addr).await;
        let response = sender.send_request(request).await.unwrap();
        assert!(
            response.status().is_redirection() || response.status().is_success(),
            "login {name}: {}",
            response.status()
        );
        response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.contains("single_login_session"))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .expect("a session cookie")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Sender<B> = hyper::client::conn::http1::SendRequest<B>;

async fn connect<B>(addr: SocketAddr) -> Sender<B>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender
}

/// Latencies of one load run, in milliseconds, and how long it ran.
struct Run {
    times: Vec<f64>,
    elapsed: Duration,
}

impl Run {
    /// Two runs as one.
    fn and(mut self, other: Run) -> Run {
        self.times.extend(other.times);
        self.elapsed += other.elapsed;
        self
    }

    fn rate(&self) -> f64 {
        self.times.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        percentile(&self.times, p)
    }
}

/// `GET path` on `connections` keep-alive connections for SECONDS, each request after the
/// last one's answer; every answer must be 200.
async fn load(addr: SocketAddr, path: &str, cookie: Option<&str>, connections: usize) -> Run {
    // A second of warm-up, then the measured run.
    for measured in [false, true] {
        let until = Instant::now() + Duration::from_secs(if measured { SECONDS } else { 1 });
        let started = Instant::now();
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let (path, cookie) = (path.to_owned(), cookie.map(str::to_owned));
                tokio::spawn(async move {
                    let mut sender = connect::<String>(addr).await;
                    let mut times = Vec::new();
                    while Instant::now() < until {
                        let mut request = Request::get(&path)
                            .header(header::HOST, addr.to_string())
                            .header(header::ACCEPT, "text/html")
                            .header(header::ACCEPT_ENCODING, "br, gzip");
                        if let Some(cookie) = &cookie {
                            request = request.header(header::COOKIE, cookie);
                        }
                        let sent = Instant::now();
                        sender.ready().await.unwrap();
                        let response = sender
                            .send_request(request.body(String::new()).unwrap())
                            .await
                            .unwrap();
                        let status = response.status();
                        drain(response).await;
                        times.push(sent.elapsed().as_secs_f64() * 1000.0);
                        assert_eq!(status, StatusCode::OK, "GET {path}");
                    }
                    times
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.extend(task.await.unwrap());
        }
        if measured {
            return Run {
                times,
                elapsed: started.elapsed(),
            };
        }
    }
    unreachable!()
}

async fn drain(response: hyper::Response<Incoming>) {
    use http_body_util::BodyExt;
    let _ = response.into_body().collect().await;
}

fn percentile(times: &[f64], p: f64) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((p / 100.0) * (sorted.len() - 1) as f64).round() as usize]
}

/// Milliseconds of one argon2id verification at the server's parameters, LOGINS times.
async fn argon2_alone() -> Vec<f64> {
    let hashing = single_login::Hashing::new(1, Duration::from_secs(60));
    let stored = hashing
        .hash(single_login::Password::parse(PASSWORD).unwrap())
        .await
        .unwrap();
    let mut times = Vec::new();
    for _ in 0..LOGINS {
        let started = Instant::now();
        assert!(hashing
            .verify(PASSWORD.into(), Some(stored.clone()))
            .await
            .unwrap());
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times
}

/// `count` users, each with one live seat, written straight into the database; returns their
/// session cookies' values (a session id the server has never issued, but whose seat is live:
/// what the check looks at).
async fn fabricate_sessions(dir: &Path, count: usize) -> Vec<String> {
    let url = format!("sqlite://{}/bench.db", dir.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let mut cookies = Vec::with_capacity(count);
    let now = single_login::Millis::now().0;
    for i in 0..count {
        let id: [u8; 16] = rand::random();
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id);
        let user: i64 = sqlx::query_scalar(
            "INSERT INTO single_login_users (username, username_key, password_hash, created_at) \
             VALUES ($1, $1, '', $2) RETURNING id",
        )
        .bind(format!("bench-{i}"))
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO single_login_seats (user_id, session_hash, created_at, last_seen_at) VALUES ($1, $2, $3, $3)",
        )
        .bind(user)
        .bind(single_login::SessionHash::of(&value).as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
        cookies.push(value);
    }
    tx.commit().await.unwrap();
    cookies
}

fn cookie_header(value: &str) -> String {
    format!("single_login_session={value}")
}

/// One signed-in page request per session, over 16 connections.
async fn visit_all(addr: SocketAddr, cookies: &[String]) {
    let cookies = Arc::new(cookies.to_vec());
    let tasks: Vec<_> = (0..16)
        .map(|task| {
            let cookies = cookies.clone();
            tokio::spawn(async move {
                let mut sender = connect::<String>(addr).await;
                for value in cookies.iter().skip(task).step_by(16) {
                    sender.ready().await.unwrap();
                    let request = Request::get("/")
                        .header(header::HOST, addr.to_string())
                        .header(header::ACCEPT, "text/html")
                        .header(header::COOKIE, cookie_header(value))
                        .body(String::new())
                        .unwrap();
                    let response = sender.send_request(request).await.unwrap();
                    assert_eq!(
                        response.status(),
                        StatusCode::OK,
                        "a fabricated session is signed in"
                    );
                    drain(response).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// One live-channel stream per session, held open until the result is dropped.
async fn open_streams(addr: SocketAddr, cookies: &[String]) -> Vec<hyper::Response<Incoming>> {
    let mut streams = Vec::with_capacity(cookies.len());
    for chunk in cookies.chunks(200) {
        let opened = futures_util::future::join_all(chunk.iter().map(|value| async move {
            let mut sender = connect::<String>(addr).await;
            let request = Request::get("/api/session/events")
                .header(header::HOST, addr.to_string())
                .header(header::ACCEPT, "text/event-stream")
                .header(header::COOKIE, cookie_header(value))
                .body(String::new())
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "a stream opens");
            // The connection lives as long as its response.
            std::mem::forget(sender);
            response
        }))
        .await;
        streams.extend(opened);
    }
    streams
}
