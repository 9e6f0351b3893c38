//! The abuse benchmark (`scripts/bench abuse`): a release server in its own process, a
//! signed-in browser fetching `/` in a loop, and a flood of logins with random usernames
//! from 200 concurrent clients, each request from another address (behind a trusted proxy,
//! so the per-address limit cannot help; only the bounded hashing and the per-account limits
//! can). It prints a Markdown table: the server's peak resident memory, the answers to the
//! flood by status, and the signed-in GETs' latency at rest and during the flood.
//!
//! Then the /48 rotation (issue 18), on a fresh server with one hashing slot and a 200 ms
//! wait: 100 clients rotate over the /64s of one IPv6 /48 with random names, while the owner
//! logs in again and again from another network with its known-device cookie, and a
//! stranger without one logs in from a third. Their logins' p50/p99 and answers, the
//! flood's answers, and how many rows `attempts` grew by.
//!
//! Not a test: figures depend on the machine and on what else it is doing.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FLOOD_CLIENTS: usize = 200;
const FLOOD_SECONDS: u64 = 15;
const IDLE_GETS: usize = 300;
const PASSWORD: &str = "correct horse battery";

fn main() {
    let binary = std::env::var("ABUSE_SERVER_BIN").unwrap_or_else(|_| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        root.join("target/release/single-login").display().to_string()
    });
    assert!(
        std::path::Path::new(&binary).exists(),
        "{binary} is missing: build it with `cargo build --release -p server` (scripts/bench abuse does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = |command: &mut Command| {
        command
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/abuse.db", dir.path().display()),
            )
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "single-login")
            .env("TRUSTED_PROXIES", "127.0.0.1/32")
            .env("RUST_LOG", "error");
    };
    add_user(&binary, &env, "owner");

    let server = Server::start(&binary, &env);
    let pid = server.0.id();

    runtime().block_on(async move {
        let base = format!("http://127.0.0.1:{port}");
        wait_until_up(&base).await;
        let owner = browser();
        let login = owner
            .post(format!("{base}/api/login"))
            .header("sec-fetch-site", "same-origin")
            .header("x-forwarded-for", "198.51.100.1")
            .form(&[("username", "owner"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(login.status().is_success(), "{}", login.status());

        let idle = signed_in_gets(&owner, &base, IDLE_GETS, None).await;
        let rss_at_rest = rss_kib(pid, "VmRSS");

        // Another address and another name every time.
        let flood = Flood::start(FLOOD_CLIENTS as u32, &base, |client, n| {
            format!("10.{}.{}.{}", client % 250, (n / 250) % 250, n % 250 + 1)
        });
        let peak_sampler = {
            let stop = flood.stop.clone();
            tokio::spawn(async move {
                let mut peak = 0;
                while !stop.load(Ordering::Relaxed) {
                    peak = peak.max(rss_kib(pid, "VmRSS"));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                peak
            })
        };
        tokio::time::sleep(Duration::from_secs(2)).await;
        let deadline = Instant::now() + Duration::from_secs(FLOOD_SECONDS - 2);
        let during = signed_in_gets(&owner, &base, usize::MAX, Some(deadline)).await;
        let counts = flood.end().await;
        let sampled_peak = peak_sampler.await.unwrap();
        let peak = rss_kib(pid, "VmHWM").max(sampled_peak);

        println!("| measurement | result | target |");
        println!("|---|---|---|");
        println!(
            "| server peak resident memory during the flood | {:.1} MB (at rest {:.1} MB) | under 256 MB |",
            peak as f64 / 1024.0,
            rss_at_rest as f64 / 1024.0
        );
        println!(
            "| flood answers in {FLOOD_SECONDS} s ({FLOOD_CLIENTS} clients, random names, a new address each) | {} | no 5xx but 503 |",
            answers(&counts)
        );
        println!(
            "| signed-in `GET /` at rest ({} requests) | p50 {:.1} ms, p99 {:.1} ms | |",
            idle.len(),
            percentile(&idle, 50.0),
            percentile(&idle, 99.0)
        );
        println!(
            "| signed-in `GET /` during the flood ({} requests) | p50 {:.1} ms, p99 {:.1} ms | p99 at most 2 × rest + 10 ms = {:.1} ms |",
            during.len(),
            percentile(&during, 50.0),
            percentile(&during, 99.0),
            2.0 * percentile(&idle, 99.0) + 10.0
        );
    });
    drop(server);
    rotation(&binary);
}

const ROTATION_CLIENTS: u32 = 100;
const ROTATION_SECONDS: u64 = 10;

/// The /48 rotation against a server of its own (see the module header).
fn rotation(binary: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let database = format!("sqlite://{}/rotation.db", dir.path().display());
    let env = |command: &mut Command| {
        command
            .env("DATABASE_URL", &database)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "single-login")
            .env("TRUSTED_PROXIES", "127.0.0.1/32")
            .env("HASH_CONCURRENCY", "1")
            .env("HASH_QUEUE_TIMEOUT", "200ms")
            .env("RUST_LOG", "error");
    };
    for name in ["owner", "stranger"] {
        add_user(binary, &env, name);
    }
    let server = Server::start(binary, &env);
    runtime().block_on(async move {
        let base = format!("http://127.0.0.1:{port}");
        wait_until_up(&base).await;
        let attempts = || async {
            let pool = sqlx::SqlitePool::connect(&database).await.unwrap();
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM single_login_attempts")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            n
        };
        // The owner's browser becomes a known device by signing in once.
        let owner = browser();
        let first = log_in(&owner, &base, "owner", PASSWORD, "203.0.113.9").await;
        assert!(first.0 == 200, "{}", first.0);
        let rows_before = attempts().await;

        let flood = Flood::start(ROTATION_CLIENTS, &base, |client, n| {
            format!("2001:db8:1:{:x}::1", (client * 655 + n) % 0x1_0000)
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let deadline = Instant::now() + Duration::from_secs(ROTATION_SECONDS - 1);
        let stranger = browser();
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        while Instant::now() < deadline {
            known.push(log_in(&owner, &base, "owner", PASSWORD, "203.0.113.9").await);
            unknown.push(log_in(&stranger, &base, "stranger", PASSWORD, "198.51.100.50").await);
        }
        let counts = flood.end().await;
        let grown = attempts().await - rows_before;
        let summary = |logins: &[(u16, f64)]| {
            let times: Vec<f64> = logins.iter().map(|(_, ms)| *ms).collect();
            let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
            for (status, _) in logins {
                *statuses.entry(*status).or_default() += 1;
            }
            let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{n} × {s}")).collect();
            format!(
                "p50 {:.1} ms, p99 {:.1} ms; {}",
                percentile(&times, 50.0),
                percentile(&times, 99.0),
                statuses.join(", ")
            )
        };
        println!();
        println!("| /48 rotation ({ROTATION_CLIENTS} clients, {ROTATION_SECONDS} s, one hashing slot, 200 ms wait) | result | target |");
        println!("|---|---|---|");
        println!(
            "| the owner's logins, known device, from another network | {} | all 200 |",
            summary(&known)
        );
        println!(
            "| a stranger's logins, no device cookie, from a third network | {} | |",
            summary(&unknown)
        );
        println!("| flood answers | {} | no 5xx but 503 |", answers(&counts));
        println!(
            "| `attempts` rows added | {grown} | bounded by the /48's limit (600 a minute), not the flood |"
        );
    });
    drop(server);
}

/// One JSON login (as the hydrated app sends it) from `ip`: its status and milliseconds.
async fn log_in(http: &reqwest::Client, base: &str, name: &str, password: &str, ip: &str) -> (u16, f64) {
    let started = Instant::now();
    let status = http
        .post(format!("{base}/api/login"))
        .header("accept", "application/json")
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", ip)
        .form(&[("username", name), ("password", password)])
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    (status, started.elapsed().as_secs_f64() * 1000.0)
}

/// Clients logging in with random names and a wrong password, each request from the
/// address `address(client, n)` gives its `n`th request, until ended; their answers counted
/// by [`slot`].
struct Flood {
    stop: Arc<AtomicBool>,
    counts: Arc<[AtomicU64; 6]>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Flood {
    fn start(clients: u32, base: &str, address: fn(u32, u32) -> String) -> Flood {
        let stop = Arc::new(AtomicBool::new(false));
        let counts: Arc<[AtomicU64; 6]> = Arc::new(Default::default());
        let tasks = (0..clients)
            .map(|client| {
                let (stop, counts, base) = (stop.clone(), counts.clone(), base.to_owned());
                tokio::spawn(async move {
                    let http = browser();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let name = format!("u{client}x{n}");
                        let (status, _) =
                            log_in(&http, &base, &name, "a wrong password", &address(client, n)).await;
                        counts[slot(status)].fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        Flood { stop, counts, tasks }
    }

    /// Stops the clients and returns their answers' counts.
    async fn end(self) -> Arc<[AtomicU64; 6]> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            let _ = task.await;
        }
        self.counts
    }
}

/// Creates a user with the operator command, as an operator would.
fn add_user(binary: &str, env: &dyn Fn(&mut Command), name: &str) {
    let mut add = Command::new(binary);
    env(&mut add);
    let mut add = add
        .args(["user", "add", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(add.wait().unwrap().success());
}

/// Where a flood answer is counted: 401, 429, 503, failed, other 5xx, other.
fn slot(status: u16) -> usize {
    match status {
        401 => 0,
        429 => 1,
        503 => 2,
        0 => 3,
        s if s >= 500 => 4,
        _ => 5,
    }
}

fn answers(counts: &[AtomicU64; 6]) -> String {
    let count = |i: usize| counts[i].load(Ordering::Relaxed);
    format!(
        "{} 401, {} 429, {} 503, {} other 5xx, {} failed, {} other",
        count(0),
        count(1),
        count(2),
        count(4),
        count(3),
        count(5)
    )
}

/// Kills the server when the benchmark ends, however it ends.
struct Server(Child);

impl Server {
    /// The release server under `env`, its output dropped; stopped when dropped.
    fn start(binary: &str, env: &dyn Fn(&mut Command)) -> Server {
        let mut serve = Command::new(binary);
        env(&mut serve);
        Server(serve.stdout(Stdio::null()).spawn().unwrap())
    }
}

/// The load generator's runtime: two workers, like the machine's cores.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_until_up(base: &str) {
    for _ in 0..600 {
        if reqwest::get(format!("{base}/login")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start");
}

/// Milliseconds of each signed-in `GET /`, one after another, until `count` or `until`.
async fn signed_in_gets(
    http: &reqwest::Client,
    base: &str,
    count: usize,
    until: Option<Instant>,
) -> Vec<f64> {
    let mut times = Vec::new();
    while times.len() < count && until.is_none_or(|u| Instant::now() < u) {
        let started = Instant::now();
        let response = http
            .get(format!("{base}/"))
            .header("accept", "text/html")
            .header("x-forwarded-for", "198.51.100.1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "the signed-in page");
        let _ = response.bytes().await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times
}

fn percentile(times: &[f64], p: f64) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

/// A field of /proc/PID/status in KiB (VmRSS now, VmHWM the peak).
fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}
