//! Benchmarks of the session-seat registry, on SQLite and (when `TEST_POSTGRES_URL` names a
//! server, as `scripts/bench` arranges) PostgreSQL:
//!
//! - the kick check's cost per request: one seat lookup by session hash, alone and from
//!   eight tasks at once, with thousands of seats on record;
//! - the same lookup as the table grows to 1k, 100k and 1M seats, then one user's history
//!   and the purge of that million ended seats;
//! - logins per second (the transaction that ends the older seat and opens the new one),
//!   one user after another, and fifty logins of one user colliding;
//! - what a login's events add to it (their rows, inside its transaction);
//! - the operator console's queries with 100,000 users and 1,000,000 seats on record: the
//!   search by name prefix, and everything one user's page reads.
//!
//! It prints a Markdown table; docs/benchmarks.md quotes it. Argon2 is left out: it costs the same
//! whatever the registry does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use single_login::{
    on_pool, Accounts, CredentialEpoch, Db, LoginContext, OpenOutcome, Password, Policy, Seats, SessionHash,
    User, Username,
};
use testkit::TestDb;

const USERS: usize = 50;
const SEATS_PER_USER: usize = 40;
const LOOKUPS: usize = 20_000;
const CONCURRENT_TASKS: usize = 8;
const COLLIDING: usize = 50;
const ROUNDS: usize = 20;
const EVENT_SAMPLES: usize = 2_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        println!("| backend | measurement | result |");
        println!("|---|---|---|");
        // BENCH_NO_SCALE=1 leaves out the million-seat part (minutes) to compare logins.
        let scaled = std::env::var_os("BENCH_NO_SCALE").is_none();
        run("SQLite", testkit::sqlite().await).await;
        if scaled {
            scale("SQLite", testkit::sqlite().await).await;
            console("SQLite", testkit::sqlite().await).await;
        }
        if std::env::var_os("TEST_POSTGRES_URL").is_some() {
            run("PostgreSQL", testkit::postgres().await).await;
            if scaled {
                scale("PostgreSQL", testkit::postgres().await).await;
                console("PostgreSQL", testkit::postgres().await).await;
            }
        } else {
            eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL skipped (scripts/bench sets it)");
        }
    });
}

async fn run(backend: &str, db: TestDb) {
    let accounts = Accounts::new(db.db.clone());
    let seats = Seats::new(db.db.clone());
    let users = sign_up(&accounts, USERS).await;
    let context = LoginContext::new(
        Some("203.0.113.7".parse().unwrap()),
        Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"),
    );

    // Thousands of seats: every user opens SEATS_PER_USER, one after another; each ends the
    // one before (kick_oldest, limit 1), so one per user is live and the rest are history.
    let policy = Policy::default();
    let started = Instant::now();
    let mut hashes = Vec::new();
    let mut login_times = Vec::new();
    for round in 0..SEATS_PER_USER {
        for (i, user) in users.iter().enumerate() {
            let hash = SessionHash::of(&format!("{backend}-{round}-{i}"));
            let one = Instant::now();
            let outcome = seats
                .open(user.id, CredentialEpoch::INITIAL, &hash, &context, &policy, &[])
                .await
                .unwrap();
            login_times.push(one.elapsed());
            assert!(matches!(outcome, OpenOutcome::Opened { .. }));
            hashes.push(hash);
        }
    }
    let logins = USERS * SEATS_PER_USER;
    row(
        backend,
        &format!("logins, one at a time ({logins}, each ending the user's previous seat)"),
        rate(logins, started.elapsed(), "logins/s"),
    );
    login_times.sort();
    let login_p50 = login_times[login_times.len() / 2];

    // What the events add to such a login: its two rows (opened, and the replaced seat's
    // end), written inside an open transaction as the login writes them; the commit they
    // share with the login is not theirs.
    let mut event_times = Vec::with_capacity(EVENT_SAMPLES);
    for i in 0..EVENT_SAMPLES {
        on_pool!(&db.db, pool => {
            let mut tx = pool.begin().await.unwrap();
            let one = Instant::now();
            for j in 0..2 {
                sqlx::query(
                    "INSERT INTO single_login_events (id, at, type, user_id, seat_id, device, network, agent, reason, by_whom) \
                     VALUES ($1, 0, 'session_ended', 1, 1, 'computer', '203.0.113.0/24', 'Firefox on Linux', 'replaced', 'seat:2')",
                )
                .bind(format!("evt_bench_{i}_{j}"))
                .execute(&mut *tx)
                .await
                .unwrap();
            }
            event_times.push(one.elapsed());
            tx.commit().await.unwrap();
        });
    }
    event_times.sort();
    let events_p50 = event_times[event_times.len() / 2];
    row(
        backend,
        "a replacing login's two events, inside its transaction",
        format!(
            "median {} µs: {:.1} % of the login's transaction (median {} µs)",
            events_p50.as_micros(),
            100.0 * events_p50.as_secs_f64() / login_p50.as_secs_f64(),
            login_p50.as_micros()
        ),
    );

    // The kick check: one lookup per request.
    let mut times = Vec::with_capacity(LOOKUPS);
    for i in 0..LOOKUPS {
        let hash = &hashes[(i * 7919) % hashes.len()];
        let started = Instant::now();
        let status = seats.status(hash).await.unwrap();
        times.push(started.elapsed());
        assert!(status.is_some());
    }
    times.sort();
    row(
        backend,
        &format!(
            "seat lookup per request ({LOOKUPS}, {} seats on record)",
            hashes.len()
        ),
        format!(
            "median {} µs, p99 {} µs",
            times[times.len() / 2].as_micros(),
            times[times.len() * 99 / 100].as_micros()
        ),
    );

    let hashes = Arc::new(hashes);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENT_TASKS)
        .map(|task| {
            let (seats, hashes) = (seats.clone(), hashes.clone());
            tokio::spawn(async move {
                for i in 0..LOOKUPS / CONCURRENT_TASKS {
                    let hash = &hashes[(task * 104_729 + i * 7919) % hashes.len()];
                    seats.status(hash).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    row(
        backend,
        &format!("seat lookups from {CONCURRENT_TASKS} tasks at once"),
        rate(LOOKUPS, started.elapsed(), "lookups/s"),
    );

    // Fifty logins of one user at the same moment, ROUNDS times: they queue on the user's
    // lock, and exactly one seat stays live.
    let user = users[0].clone();
    let mut rounds = Vec::new();
    for round in 0..ROUNDS {
        let started = Instant::now();
        let tasks: Vec<_> = (0..COLLIDING)
            .map(|i| {
                let (seats, context, user) = (seats.clone(), context.clone(), user.clone());
                tokio::spawn(async move {
                    let hash = SessionHash::of(&format!("{}-collide-{round}-{i}", user.id.0));
                    seats
                        .open(
                            user.id,
                            CredentialEpoch::INITIAL,
                            &hash,
                            &context,
                            &Policy::default(),
                            &[],
                        )
                        .await
                        .unwrap()
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        rounds.push(started.elapsed());
        assert_eq!(
            seats.live(user.id).await.unwrap().len(),
            1,
            "one live seat after the round"
        );
    }
    rounds.sort();
    row(
        backend,
        &format!("{COLLIDING} simultaneous logins of one user ({ROUNDS} rounds)"),
        format!(
            "median {} ms per round ({} logins/s)",
            rounds[ROUNDS / 2].as_millis(),
            (COLLIDING as f64 / rounds[ROUNDS / 2].as_secs_f64()).round()
        ),
    );
}

/// The per-request lookup as the seat table grows to 1k, 100k and 1M rows (ended seats, as
/// the history keeps them): the unique index should keep it flat.
async fn scale(backend: &str, db: TestDb) {
    let user = sign_up(&Accounts::new(db.db.clone()), 1).await.remove(0);
    let seats = Seats::new(db.db.clone());
    let mut medians = Vec::new();
    let mut rows = 0;
    for size in [1_000, 100_000, 1_000_000] {
        while rows < size {
            let batch = (size - rows).min(10_000);
            insert_ended(&db, user.id.0, rows, rows + batch).await;
            rows += batch;
        }
        let mut times = Vec::with_capacity(LOOKUPS / 4);
        for i in 0..LOOKUPS / 4 {
            let hash = SessionHash::of(&format!("scale-{}", (i * 7919) % size));
            let started = Instant::now();
            let status = seats.status(&hash).await.unwrap();
            times.push(started.elapsed());
            assert!(status.is_some());
        }
        times.sort();
        medians.push(times[times.len() / 2]);
    }
    row(
        backend,
        "seat lookup per request with 1k / 100k / 1M seats on record (goal: flat within 1.2x)",
        format!(
            "median {} / {} / {} µs ({:.2}x)",
            medians[0].as_micros(),
            medians[1].as_micros(),
            medians[2].as_micros(),
            medians[2].as_secs_f64() / medians[0].as_secs_f64()
        ),
    );

    // The purge of those million ended seats, half of them pointing at the next one (as a
    // kicked seat points at the login that replaced it): each deleted row clears the keys
    // that name it, through their indexes.
    on_pool!(&db.db, pool => {
        sqlx::query("UPDATE single_login_seats SET replaced_by = id + 1 WHERE id % 2 = 0 AND id < (SELECT max(id) FROM single_login_seats)")
            .execute(pool)
            .await
            .unwrap()
            .rows_affected()
    });
    let started = Instant::now();
    let history = seats.history(user.id, 20).await.unwrap();
    let history_time = started.elapsed();
    assert_eq!(history.len(), 20);
    let started = Instant::now();
    let purged = seats.purge_ended(single_login::Millis(2)).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(purged, 1_000_000);
    row(
        backend,
        "one user's history (20 of 1M ended seats), then the purge of all 1M (half with a replaced_by key)",
        format!(
            "{} µs; {:.1} s ({}, batches of {})",
            history_time.as_micros(),
            elapsed.as_secs_f64(),
            rate(1_000_000, elapsed, "seats/s"),
            single_login::seats::PURGE_BATCH
        ),
    );
}

/// Ended seats `from..to` of `user`, in one statement.
/// The console's reads with 100k users of ten seats each (one live).
async fn console(backend: &str, db: TestDb) {
    const USERS: usize = 100_000;
    let names: Vec<String> = (0..USERS).map(|i| format!("user{i:06}")).collect();
    match &db.db {
        Db::Postgres(pool) => {
            sqlx::query(
                "INSERT INTO single_login_users (username, username_key, password_hash, created_at) \
                 SELECT n, n, '', 0 FROM UNNEST($1::text[]) AS n",
            )
            .bind(&names)
            .execute(pool)
            .await
            .unwrap();
        }
        Db::Sqlite(pool) => {
            let mut tx = pool.begin().await.unwrap();
            for name in &names {
                sqlx::query(
                    "INSERT INTO single_login_users (username, username_key, password_hash, created_at) VALUES ($1, $1, '', 0)",
                )
                .bind(name)
                .execute(&mut *tx)
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
        }
    }
    on_pool!(&db.db, pool => {
        sqlx::query(
            "WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < 9) \
             INSERT INTO single_login_seats (user_id, session_hash, created_at, last_seen_at, ended_at, end_reason) \
             SELECT u.id, u.username_key || '-' || g.n, g.n, g.n, \
                    CASE WHEN g.n = 9 THEN NULL ELSE g.n + 1 END, CASE WHEN g.n = 9 THEN NULL ELSE 'expired' END \
             FROM single_login_users u, g",
        )
        .execute(pool)
        .await
        .unwrap();
    });
    let accounts = Accounts::new(db.db.clone());
    let seats = Seats::new(db.db.clone());
    let policy = Policy::default();
    let mut search = Vec::new();
    for i in 0..200 {
        let started = Instant::now();
        let found = accounts
            .search(&format!("user{:04}", (i * 37) % 1000), None, 21)
            .await
            .unwrap();
        // "user0123": a hundred names (user012300 to user012399) of the 100k. The page
        // shows each one's limits and where they come from.
        for user in &found {
            seats.limits_of(user.id, &policy).await.unwrap().unwrap();
        }
        search.push(started.elapsed());
        assert_eq!(found.len(), 21);
    }
    let mut page = Vec::new();
    for i in 0..200 {
        let id = single_login::UserId(1 + ((i * 7919) % USERS) as i64);
        let started = Instant::now();
        accounts.summary(id).await.unwrap().unwrap();
        assert_eq!(seats.live(id).await.unwrap().len(), 1);
        assert_eq!(seats.history(id, 20).await.unwrap().len(), 9);
        seats.limits_of(id, &policy).await.unwrap().unwrap();
        seats.groups().await.unwrap();
        page.push(started.elapsed());
    }
    let pct = |times: &mut Vec<Duration>| {
        times.sort();
        format!(
            "p50 {} µs, p99 {} µs",
            times[times.len() / 2].as_micros(),
            times[times.len() * 99 / 100].as_micros()
        )
    };
    row(
        backend,
        "console: user search by name prefix, a page of 20 (100k users, 1M seats)",
        pct(&mut search),
    );
    row(
        backend,
        "console: one user's page, every query it runs (100k users, 1M seats)",
        pct(&mut page),
    );
}

async fn insert_ended(db: &TestDb, user: i64, from: usize, to: usize) {
    let hashes: Vec<String> = (from..to)
        .map(|i| SessionHash::of(&format!("scale-{i}")).as_str().to_owned())
        .collect();
    match &db.db {
        Db::Postgres(pool) => {
            sqlx::query(
                "INSERT INTO single_login_seats (user_id, session_hash, created_at, last_seen_at, ended_at, end_reason) \
                 SELECT $1, h, 0, 0, 1, 'expired' FROM UNNEST($2::text[]) AS h",
            )
            .bind(user)
            .bind(&hashes)
            .execute(pool)
            .await
            .unwrap();
        }
        Db::Sqlite(pool) => {
            let mut tx = pool.begin().await.unwrap();
            for hash in &hashes {
                sqlx::query(
                    "INSERT INTO single_login_seats (user_id, session_hash, created_at, last_seen_at, ended_at, end_reason) \
                     VALUES ($1, $2, 0, 0, 1, 'expired')",
                )
                .bind(user)
                .bind(hash)
                .execute(&mut *tx)
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
        }
    }
}

async fn sign_up(accounts: &Accounts, count: usize) -> Vec<User> {
    let mut users = Vec::with_capacity(count);
    for i in 0..count {
        let name = Username::parse(&format!("bench{i}")).unwrap();
        users.push(
            accounts
                .sign_up(&name, Password::parse("correct horse battery").unwrap())
                .await
                .unwrap(),
        );
    }
    users
}

fn rate(count: usize, elapsed: Duration, unit: &str) -> String {
    format!("{} {unit}", (count as f64 / elapsed.as_secs_f64()).round())
}

fn row(backend: &str, measurement: &str, result: String) {
    println!("| {backend} | {measurement} | {result} |");
}
