//! The account store and the seat registry, on SQLite and PostgreSQL.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use single_login::policy::OnLimit;
use single_login::seats::{Check, OpenOutcome};
use single_login::throttle::{Bucket, Refused, Reservation, Throttle, ThrottleConfig};
use single_login::{
    Accounts, CredentialEpoch, EndReason, Lifetimes, LoginContext, LoginOutcome, Logins, Millis, NewSession,
    Password, Policy, SeatId, Seats, SessionHash, SignupError, User, Username,
};
use testkit::{on_both_backends, TestDb};

async fn user(db: &TestDb, name: &str) -> User {
    Accounts::new(db.db.clone())
        .sign_up(
            &Username::parse(name).unwrap(),
            Password::parse("correct horse battery").unwrap(),
        )
        .await
        .unwrap()
}

fn from(ip: &str) -> LoginContext {
    LoginContext::new(
        Some(ip.to_owned()),
        Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"),
    )
}

async fn open_with(
    seats: &Seats,
    user: &User,
    session: &str,
    ip: &str,
    policy: &Policy,
    chosen: &[SeatId],
) -> OpenOutcome {
    seats
        .open(
            user.id,
            CredentialEpoch::INITIAL,
            &SessionHash::of(session),
            &from(ip),
            policy,
            chosen,
        )
        .await
        .unwrap()
}

async fn open(seats: &Seats, user: &User, session: &str, ip: &str) -> SeatId {
    match open_with(seats, user, session, ip, &Policy::default(), &[]).await {
        OpenOutcome::Opened { seat, .. } => seat,
        other => panic!("expected the login to be admitted, got {other:?}"),
    }
}

async fn sign_up_then_authenticate(db: TestDb) {
    let accounts = Accounts::new(db.db.clone());
    let alice = user(&db, "Alice").await;
    let found = accounts
        .authenticate("alice", "correct horse battery".into())
        .await
        .unwrap();
    assert_eq!(found.user, alice);
    assert_eq!(found.user.username, "Alice");
    assert_eq!(found.epoch, CredentialEpoch::INITIAL);
}

async fn usernames_are_unique_regardless_of_case_and_width(db: TestDb) {
    let accounts = Accounts::new(db.db.clone());
    user(&db, "Alice").await;
    for taken in ["alice", "ALICE", "Ａｌｉｃｅ"] {
        let result = accounts
            .sign_up(
                &Username::parse(taken).unwrap(),
                Password::parse("another password").unwrap(),
            )
            .await;
        assert!(
            matches!(result, Err(SignupError::UsernameTaken)),
            "{taken}: {result:?}"
        );
    }
}

async fn wrong_password_and_unknown_user_fail_alike(db: TestDb) {
    let accounts = Accounts::new(db.db.clone());
    user(&db, "bob").await;
    let wrong = accounts
        .authenticate("bob", "not the password".into())
        .await
        .unwrap_err();
    let unknown = accounts
        .authenticate("nobody", "correct horse battery".into())
        .await
        .unwrap_err();
    let invalid = accounts
        .authenticate("x", "correct horse battery".into())
        .await
        .unwrap_err();
    assert_eq!(wrong.to_string(), "invalid username or password");
    assert_eq!(unknown.to_string(), wrong.to_string());
    assert_eq!(invalid.to_string(), wrong.to_string());
}

async fn a_new_login_replaces_the_older_seat(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let first = open(&seats, &alice, "session-a", "10.0.0.1").await;
    let second = open(&seats, &alice, "session-b", "10.0.0.2").await;

    let old = seats
        .status(&SessionHash::of("session-a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.seat, first);
    let ended = old.ended.expect("the older seat ended");
    assert_eq!(ended.reason, EndReason::Replaced);
    let newer = ended.replaced_by.expect("the replacing seat is on record");
    assert_eq!(newer.id, second);
    assert_eq!(newer.client_ip.as_deref(), Some("10.0.0.2"));
    assert!(newer.user_agent.unwrap().contains("Firefox"));

    let new = seats
        .status(&SessionHash::of("session-b"))
        .await
        .unwrap()
        .unwrap();
    assert!(new.ended.is_none());
    assert_eq!(seats.live(alice.id).await.unwrap().len(), 1);
}

async fn other_users_are_untouched(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let bob = user(&db, "bob").await;
    open(&seats, &alice, "a1", "10.0.0.1").await;
    open(&seats, &bob, "b1", "10.0.0.1").await;
    open(&seats, &alice, "a2", "10.0.0.2").await;
    let bobs = seats.status(&SessionHash::of("b1")).await.unwrap().unwrap();
    assert!(bobs.ended.is_none());
}

async fn ending_a_seat_records_the_reason_once(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let seat = open(&seats, &alice, "s", "10.0.0.1").await;
    assert!(seats.end(seat, EndReason::LoggedOut).await.unwrap());
    // The first end wins: a later kick cannot rewrite how the seat ended.
    assert!(!seats.end(seat, EndReason::Revoked).await.unwrap());
    let status = seats.status(&SessionHash::of("s")).await.unwrap().unwrap();
    assert_eq!(status.ended.unwrap().reason, EndReason::LoggedOut);
}

async fn the_session_id_itself_is_not_stored(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    open(&seats, &alice, "the-secret-session-id", "10.0.0.1").await;
    assert!(seats
        .status(&SessionHash::of("the-secret-session-id"))
        .await
        .unwrap()
        .is_some());
    // What the table holds: the hash, and nowhere the id itself.
    let rows: Vec<(String, Option<String>, Option<String>)> = single_login::on_pool!(&db.db, pool => {
        sqlx::query_as("SELECT session_hash, client_ip, user_agent FROM single_login_seats")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert_eq!(rows.len(), 1);
    let (hash, ip, agent) = &rows[0];
    assert_eq!(hash, SessionHash::of("the-secret-session-id").as_str());
    assert_eq!(hash.len(), 64);
    for column in [Some(hash), ip.as_ref(), agent.as_ref()].into_iter().flatten() {
        assert!(!column.contains("the-secret-session-id"), "{column}");
    }
}

async fn touch_moves_only_live_seats_forward(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let seat = open(&seats, &alice, "s", "10.0.0.1").await;
    let later = Millis::now().plus(Duration::from_secs(120));
    assert!(seats.touch(seat, later).await.unwrap());
    assert!(
        !seats.touch(seat, later).await.unwrap(),
        "same time again changes nothing"
    );
    let status = seats.status(&SessionHash::of("s")).await.unwrap().unwrap();
    assert_eq!(status.last_seen_at, later);
    seats.end(seat, EndReason::LoggedOut).await.unwrap();
    assert!(!seats
        .touch(seat, later.plus(Duration::from_secs(60)))
        .await
        .unwrap());
}

async fn idle_seats_expire_and_old_ended_seats_are_purged(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let bob = user(&db, "bob").await;
    open(&seats, &alice, "a", "10.0.0.1").await;
    let b = open(&seats, &bob, "b", "10.0.0.1").await;
    seats
        .touch(b, Millis::now().plus(Duration::from_secs(3600)))
        .await
        .unwrap();

    // A minute from now, idle not allowed at all, and an hour of lifetime: a (last seen now)
    // has expired; b (seen an hour ahead, opened now) has not.
    let lifetimes = Lifetimes {
        idle: Duration::ZERO,
        max: Duration::from_secs(3660),
    };
    let expired = seats
        .expire(&lifetimes, Millis::now().plus(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(expired, 1);
    let a = seats.status(&SessionHash::of("a")).await.unwrap().unwrap();
    assert_eq!(a.ended.unwrap().reason, EndReason::Expired);

    assert_eq!(
        seats
            .purge_ended(Millis::now().minus(Duration::from_secs(60)))
            .await
            .unwrap(),
        0
    );
    // It ended at the expiry's "now", a minute ahead.
    assert_eq!(
        seats
            .purge_ended(Millis::now().plus(Duration::from_secs(61)))
            .await
            .unwrap(),
        1
    );
    assert!(seats.status(&SessionHash::of("a")).await.unwrap().is_none());
    assert!(seats.status(&SessionHash::of("b")).await.unwrap().is_some());
}

/// 50 logins of one user at the same moment, each on its own connection, 100 times over:
/// exactly one live seat every time. The logins go through five registries, as if from five
/// server processes, so that the database's own locking is what keeps them apart.
async fn simultaneous_logins_leave_exactly_one_live_seat(db: TestDb) {
    let registries: Vec<Arc<Seats>> = (0..5).map(|_| Arc::new(Seats::new(db.db.clone()))).collect();
    let alice = user(&db, "alice").await;
    for round in 0..100 {
        let barrier = Arc::new(tokio::sync::Barrier::new(50));
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let seats = registries[i % registries.len()].clone();
                let barrier = barrier.clone();
                let alice = alice.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    open(&seats, &alice, &format!("r{round}-s{i}"), "10.0.0.1").await
                })
            })
            .collect();
        let mut opened = HashSet::new();
        for task in tasks {
            opened.insert(task.await.unwrap());
        }
        assert_eq!(opened.len(), 50, "every login got its own seat");
        let live = registries[0].live(alice.id).await.unwrap();
        assert_eq!(live.len(), 1, "round {round}: {live:?}");
        assert!(opened.contains(&live[0].id));
    }
}

async fn a_users_own_limit_replaces_the_default(db: TestDb) {
    let accounts = Accounts::new(db.db.clone());
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let name = Username::parse("alice").unwrap();
    assert!(accounts.set_max_sessions(&name, Some(2)).await.unwrap());
    open(&seats, &alice, "a", "10.0.0.1").await;
    open(&seats, &alice, "b", "10.0.0.2").await;
    assert_eq!(seats.live(alice.id).await.unwrap().len(), 2);
    open(&seats, &alice, "c", "10.0.0.3").await;
    assert_eq!(seats.live(alice.id).await.unwrap().len(), 2);
    let listed = accounts.list().await.unwrap();
    assert_eq!((listed[0].max_sessions, listed[0].live_sessions), (Some(2), 2));

    assert!(accounts.set_max_sessions(&name, None).await.unwrap());
    open(&seats, &alice, "d", "10.0.0.4").await;
    assert_eq!(seats.live(alice.id).await.unwrap().len(), 1);
    assert!(!accounts
        .set_max_sessions(&Username::parse("nobody").unwrap(), Some(3))
        .await
        .unwrap());
}

async fn deny_new_refuses_and_changes_nothing(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let policy = Policy {
        on_limit: OnLimit::DenyNew,
        ..Policy::default()
    };
    let first = open(&seats, &alice, "a", "10.0.0.1").await;
    match open_with(&seats, &alice, "b", "10.0.0.2", &policy, &[]).await {
        OpenOutcome::Denied { blocking } => {
            assert_eq!(blocking.iter().map(|s| s.id).collect::<Vec<_>>(), vec![first])
        }
        other => panic!("{other:?}"),
    }
    assert!(seats.status(&SessionHash::of("b")).await.unwrap().is_none());
    assert!(seats
        .status(&SessionHash::of("a"))
        .await
        .unwrap()
        .unwrap()
        .ended
        .is_none());
}

async fn ask_ends_only_the_chosen_seats_and_only_when_the_login_gets_in(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let two = Policy {
        max_sessions: 2,
        ..Policy::default()
    };
    let ask = Policy {
        on_limit: OnLimit::Ask,
        ..two.clone()
    };
    let a = open(&seats, &alice, "a", "10.0.0.1").await;
    let b = open_with(&seats, &alice, "b", "10.0.0.2", &two, &[]).await;
    let OpenOutcome::Opened { seat: b, .. } = b else {
        panic!("{b:?}")
    };

    let asked = open_with(&seats, &alice, "c", "10.0.0.3", &ask, &[]).await;
    let OpenOutcome::Ask { candidates } = asked else {
        panic!("{asked:?}")
    };
    assert_eq!(candidates.len(), 2);

    // Choosing a seat of another user, or none, changes nothing.
    let again = open_with(&seats, &alice, "c", "10.0.0.3", &ask, &[SeatId(9999)]).await;
    assert!(matches!(again, OpenOutcome::Ask { .. }), "{again:?}");
    assert_eq!(seats.live(alice.id).await.unwrap().len(), 2);

    let chosen = open_with(&seats, &alice, "c", "10.0.0.3", &ask, &[a]).await;
    let OpenOutcome::Opened { ended, .. } = chosen else {
        panic!("{chosen:?}")
    };
    assert_eq!(ended, vec![(a, EndReason::Replaced)]);
    let live: Vec<SeatId> = seats.live(alice.id).await.unwrap().iter().map(|s| s.id).collect();
    assert_eq!(live.len(), 2);
    assert!(live.contains(&b) && !live.contains(&a));
}

async fn simultaneous_logins_with_a_limit_of_three_leave_three(db: TestDb) {
    let registries: Vec<Arc<Seats>> = (0..3).map(|_| Arc::new(Seats::new(db.db.clone()))).collect();
    let alice = user(&db, "alice").await;
    let policy = Policy {
        max_sessions: 3,
        ..Policy::default()
    };
    for round in 0..20 {
        let tasks: Vec<_> = (0..30)
            .map(|i| {
                let seats = registries[i % registries.len()].clone();
                let (alice, policy) = (alice.clone(), policy.clone());
                tokio::spawn(async move {
                    open_with(&seats, &alice, &format!("r{round}-{i}"), "10.0.0.1", &policy, &[]).await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            registries[0].live(alice.id).await.unwrap().len(),
            3,
            "round {round}"
        );
    }
}

async fn signing_a_user_out_everywhere(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let bob = user(&db, "bob").await;
    let two = Policy {
        max_sessions: 2,
        ..Policy::default()
    };
    open_with(&seats, &alice, "a1", "10.0.0.1", &two, &[]).await;
    open_with(&seats, &alice, "a2", "10.0.0.1", &two, &[]).await;
    open(&seats, &bob, "b", "10.0.0.1").await;
    assert_eq!(
        seats
            .end_all(alice.id, EndReason::Revoked, None, None)
            .await
            .unwrap(),
        2
    );
    assert!(seats.live(alice.id).await.unwrap().is_empty());
    assert_eq!(seats.live(bob.id).await.unwrap().len(), 1);
    let a1 = seats.status(&SessionHash::of("a1")).await.unwrap().unwrap();
    assert_eq!(a1.ended.unwrap().reason, EndReason::Revoked);
}

// --- Throttle: password checks counted before they happen -----------------------------

fn throttle(db: &TestDb) -> Throttle {
    Throttle::new(
        db.db.clone(),
        ThrottleConfig {
            max_failures: 3,
            window: Duration::from_secs(60),
            account_max_failures: 5,
            account_window: Duration::from_secs(600),
            address_max_attempts: 8,
            subnet_max_attempts: 1000,
            block_max_attempts: 1000,
            address_window: Duration::from_secs(60),
            reauth_max_failures: 2,
            reauth_user_max_failures: 3,
            ipv6_prefix: 64,
        },
    )
}

fn ip(text: &str) -> Option<std::net::IpAddr> {
    Some(text.parse().unwrap())
}

/// Reserves one login attempt of `name` from `from`, as the login does.
async fn attempt(t: &Throttle, name: &str, from: &str, now: Millis) -> Result<Reservation, Refused> {
    let client = ip(from);
    t.reserve(
        &[
            Bucket::Address { client },
            Bucket::NameFromAddress {
                name_key: name,
                client,
            },
            Bucket::Account { name_key: name },
        ],
        now,
    )
    .await
    .unwrap()
}

async fn the_throttle_refuses_after_the_limit_until_the_window_passes(db: TestDb) {
    let t = throttle(&db);
    let now = Millis(1_000_000);
    for _ in 0..3 {
        // Failures: the reservations are kept.
        let _failed = attempt(&t, "bob", "10.0.0.1", now).await.unwrap();
    }
    let refused = attempt(&t, "bob", "10.0.0.1", now).await.unwrap_err();
    assert_eq!(refused.wait, Duration::from_secs(60));
    let later = now.plus(Duration::from_secs(59));
    assert_eq!(
        attempt(&t, "bob", "10.0.0.1", later).await.unwrap_err().wait,
        Duration::from_secs(1)
    );
    // Refused attempts were not counted anywhere.
    let name = Bucket::NameFromAddress {
        name_key: "bob",
        client: ip("10.0.0.1"),
    };
    assert_eq!(t.count(&name, later).await.unwrap(), 3);
    assert_eq!(
        t.count(
            &Bucket::Address {
                client: ip("10.0.0.1")
            },
            later
        )
        .await
        .unwrap(),
        3
    );
    // A new window starts a new count.
    let over = now.plus(Duration::from_secs(60));
    let _ = attempt(&t, "bob", "10.0.0.1", over).await.unwrap();
    assert_eq!(t.count(&name, over).await.unwrap(), 1);
    assert!(t.purge(over.plus(Duration::from_secs(3600))).await.unwrap() >= 1);
}

async fn throttle_counts_are_per_bucket_and_name_nobody(db: TestDb) {
    let t = throttle(&db);
    let now = Millis(0);
    for _ in 0..3 {
        let _ = attempt(&t, "bob", "10.0.0.1", now).await.unwrap();
    }
    assert!(attempt(&t, "bob", "10.0.0.1", now).await.is_err());
    // Another address may still try bob (until the account's own limit), and this address
    // may try another name (until the address's limit).
    let _ = attempt(&t, "bob", "10.0.0.2", now).await.unwrap();
    let _ = attempt(&t, "alice", "10.0.0.1", now).await.unwrap();
    let keys: Vec<String> = single_login::on_pool!(&db.db, pool => {
        sqlx::query_scalar("SELECT key FROM single_login_attempts").fetch_all(pool).await.unwrap()
    });
    assert!(!keys.is_empty());
    assert!(
        keys.iter()
            .all(|k| !k.contains("bob") && !k.contains("10.0.0") && k.len() == 64),
        "{keys:?}"
    );
}

async fn a_success_gives_the_failures_back(db: TestDb) {
    let t = throttle(&db);
    let now = Millis(0);
    for _ in 0..2 {
        let _ = attempt(&t, "bob", "10.0.0.1", now).await.unwrap();
    }
    let right = attempt(&t, "bob", "10.0.0.1", now).await.unwrap();
    t.succeeded(right).await.unwrap();
    let name = Bucket::NameFromAddress {
        name_key: "bob",
        client: ip("10.0.0.1"),
    };
    assert_eq!(
        t.count(&name, now).await.unwrap(),
        0,
        "the owner's typos are forgiven"
    );
    // The account keeps the two failures (they may have been an attacker's), minus the success.
    assert_eq!(
        t.count(&Bucket::Account { name_key: "bob" }, now).await.unwrap(),
        2
    );
    // The address counts every check, successes included.
    assert_eq!(
        t.count(
            &Bucket::Address {
                client: ip("10.0.0.1")
            },
            now
        )
        .await
        .unwrap(),
        3
    );
    // A check that never happened (busy) gives the failure counts back, but the address
    // keeps it: a flood answered "busy" fills its networks like any other.
    let busy = attempt(&t, "bob", "10.0.0.1", now).await.unwrap();
    t.release(busy).await.unwrap();
    assert_eq!(
        t.count(
            &Bucket::Address {
                client: ip("10.0.0.1")
            },
            now
        )
        .await
        .unwrap(),
        4
    );
    assert_eq!(
        t.count(&Bucket::Account { name_key: "bob" }, now).await.unwrap(),
        2
    );
}

/// A hundred guesses at once, in any number of tasks: never more checks than the limit.
async fn simultaneous_guesses_never_pass_the_limit(db: TestDb) {
    let t = Arc::new(throttle(&db));
    let now = Millis(0);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let t = t.clone();
            tokio::spawn(async move { attempt(&t, "eve", "10.0.0.9", now).await.is_ok() })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        admitted += u32::from(task.await.unwrap());
    }
    assert_eq!(admitted, 3, "exactly the limit gets through");
    let name = Bucket::NameFromAddress {
        name_key: "eve",
        client: ip("10.0.0.9"),
    };
    assert_eq!(t.count(&name, now).await.unwrap(), 3);
}

async fn one_account_is_limited_across_addresses_and_one_address_across_names(db: TestDb) {
    let t = throttle(&db);
    let now = Millis(0);
    // Five addresses, one failure each: the account's limit (5) is reached.
    for n in 1..=5 {
        let _ = attempt(&t, "carol", &format!("198.51.100.{n}"), now)
            .await
            .unwrap();
    }
    let refused = attempt(&t, "carol", "198.51.100.77", now).await.unwrap_err();
    assert_eq!(refused.wait, Duration::from_secs(600));
    // One address, many names: its limit (8) holds whatever the names.
    for n in 0..8 {
        let _ = attempt(&t, &format!("user{n}"), "203.0.113.5", now)
            .await
            .unwrap();
    }
    assert!(attempt(&t, "user99", "203.0.113.5", now).await.is_err());
    // An IPv6 client is one client across its /64 ...
    for n in 0..8 {
        let _ = attempt(&t, &format!("v6user{n}"), &format!("2001:db8:1:2::{n:x}"), now)
            .await
            .unwrap();
    }
    assert!(attempt(&t, "v6other", "2001:db8:1:2:ffff::1", now).await.is_err());
    // ... and the next /64 is someone else.
    let _ = attempt(&t, "v6other", "2001:db8:1:3::1", now).await.unwrap();
}

async fn re_authentication_failures_are_limited_per_session_under_a_user_ceiling(db: TestDb) {
    let t = throttle(&db);
    let now = Millis(0);
    let user = single_login::UserId(7);
    let reauth = |seat: i64, from: &'static str| {
        let t = &t;
        async move {
            t.reserve(
                &[
                    Bucket::Address { client: ip(from) },
                    Bucket::Reauth { seat: SeatId(seat) },
                    Bucket::ReauthUser { user },
                ],
                now,
            )
            .await
            .unwrap()
        }
    };
    let _ = reauth(1, "10.1.0.1").await.unwrap();
    let _ = reauth(1, "10.1.0.2").await.unwrap();
    // Two failures of one session: its third confirmation waits, wherever it comes from ...
    assert!(reauth(1, "10.1.0.3").await.is_err());
    // ... and another session of the user goes on, up to the user's ceiling (3).
    let _ = reauth(2, "10.1.0.1").await.unwrap();
    assert!(reauth(3, "10.1.0.1").await.is_err());
    // Without the ceiling (a freshly signed-in session), only its own bucket counts.
    let fresh = t
        .reserve(&[Bucket::Reauth { seat: SeatId(3) }], now)
        .await
        .unwrap();
    assert!(fresh.is_ok());
}

/// Under `ask` with same-IP sharing, the sessions offered are only those that count: one from
/// the new login's own address neither counts nor would end.
async fn ask_offers_only_the_sessions_that_count(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let two = Policy {
        max_sessions: 2,
        ..Policy::default()
    };
    let office = match open_with(&seats, &alice, "office", "10.0.0.1", &two, &[]).await {
        OpenOutcome::Opened { seat, .. } => seat,
        other => panic!("{other:?}"),
    };
    let home = match open_with(&seats, &alice, "home", "10.0.0.2", &two, &[]).await {
        OpenOutcome::Opened { seat, .. } => seat,
        other => panic!("{other:?}"),
    };
    let ask = Policy {
        on_limit: OnLimit::Ask,
        same_ip_shares_seat: true,
        ..Policy::default()
    };
    // A second login at the office: the office seat shares; only home counts, and only home
    // is offered.
    match open_with(&seats, &alice, "office-2", "10.0.0.1", &ask, &[]).await {
        OpenOutcome::Ask { candidates } => {
            assert_eq!(candidates.iter().map(|s| s.id).collect::<Vec<_>>(), [home]);
        }
        other => panic!("{other:?}"),
    }
    // Choosing home lets it in; the office seat stays.
    match open_with(&seats, &alice, "office-2", "10.0.0.1", &ask, &[home]).await {
        OpenOutcome::Opened { ended, .. } => assert_eq!(ended, [(home, EndReason::Replaced)]),
        other => panic!("{other:?}"),
    }
    let live: Vec<SeatId> = seats.live(alice.id).await.unwrap().iter().map(|s| s.id).collect();
    assert!(live.contains(&office) && !live.contains(&home), "{live:?}");
}

/// The purge's SQL and the per-request check's Rust say the same of every seat: both come
/// from `lifecycle`, and here they are compared on seats around every boundary.
async fn the_purge_and_the_request_check_agree_on_expiry(db: TestDb) {
    use rand::Rng;
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let lifetimes = Lifetimes {
        idle: Duration::from_secs(600),
        max: Duration::from_secs(3600),
    };
    let now = Millis(10_000_000);
    let (seen_cutoff, created_cutoff) = lifetimes.cutoffs(now);
    let mut cases: Vec<(Millis, Millis)> = Vec::new();
    // Exactly at, just before and just after each limit.
    for created in [
        created_cutoff.0 - 1,
        created_cutoff.0,
        created_cutoff.0 + 1,
        now.0,
    ] {
        for seen in [seen_cutoff.0 - 1, seen_cutoff.0, seen_cutoff.0 + 1, now.0] {
            if seen >= created {
                cases.push((Millis(created), Millis(seen)));
            }
        }
    }
    let mut rng = rand::thread_rng();
    for _ in 0..40 {
        let created = now.0 - rng.gen_range(0..7_200_000);
        let seen = rng.gen_range(created..=now.0);
        cases.push((Millis(created), Millis(seen)));
    }
    let many = Policy {
        max_sessions: 1000,
        ..Policy::default()
    };
    let mut opened = Vec::new();
    for (n, (created, seen)) in cases.iter().enumerate() {
        let seat = match open_with(&seats, &alice, &format!("s{n}"), "10.0.0.1", &many, &[]).await {
            OpenOutcome::Opened { seat, .. } => seat,
            other => panic!("{other:?}"),
        };
        single_login::on_pool!(&db.db, pool => {
            sqlx::query("UPDATE single_login_seats SET created_at = $1, last_seen_at = $2 WHERE id = $3")
                .bind(created.0)
                .bind(seen.0)
                .bind(seat.0)
                .execute(pool)
                .await
                .unwrap()
                .rows_affected()
        });
        opened.push((format!("s{n}"), *created, *seen));
    }
    seats.expire(&lifetimes, now).await.unwrap();
    for (session, created, seen) in opened {
        let status = seats.status(&SessionHash::of(&session)).await.unwrap().unwrap();
        assert_eq!(
            status.ended.is_some(),
            lifetimes.expired(created, seen, now),
            "created {created:?}, seen {seen:?}, now {now:?}"
        );
    }
}

// --- The login as a core operation ------------------------------------------------------

fn logins(db: &TestDb, policy: Policy, throttle: ThrottleConfig) -> Logins {
    Logins {
        accounts: Accounts::new(db.db.clone()),
        seats: Seats::new(db.db.clone()),
        throttle: Arc::new(Throttle::new(db.db.clone(), throttle)),
        policy: Arc::new(policy),
    }
}

/// A session renewal that records whether the core asked for it.
fn session<'a>(
    login: &'a LoginContext,
    id: &str,
    asked: &'a std::sync::atomic::AtomicBool,
) -> NewSession<'a> {
    let hash = SessionHash::of(id);
    NewSession {
        client: login,
        replacing: None,
        renew: Box::new(move || {
            asked.store(true, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move { Ok(hash) })
        }),
    }
}

async fn a_login_checks_the_throttle_then_the_password_then_opens_the_seat(db: TestDb) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let alice = user(&db, "alice").await;
    let config = ThrottleConfig {
        max_failures: 2,
        ..ThrottleConfig::default()
    };
    let logins = logins(&db, Policy::default(), config);
    let client = from("10.0.0.1");
    let ip = Some("10.0.0.1".parse().unwrap());

    let asked = AtomicBool::new(false);
    let wrong = logins
        .log_in(
            "Alice",
            "wrong password".into(),
            ip,
            session(&client, "s1", &asked),
        )
        .await
        .unwrap();
    assert_eq!(
        wrong,
        LoginOutcome::InvalidCredentials {
            target: Some(alice.id)
        }
    );
    assert!(
        !asked.load(Ordering::SeqCst),
        "no fresh session for a failed attempt"
    );
    let unknown = logins
        .log_in(
            "nobody",
            "wrong password".into(),
            ip,
            session(&client, "s2", &asked),
        )
        .await
        .unwrap();
    assert_eq!(unknown, LoginOutcome::InvalidCredentials { target: None });
    // Two failures for one name are the limit; a third failure of alice's is refused
    // unchecked, and so is the right password from this address.
    let _ = logins
        .log_in("alice", "wrong again".into(), ip, session(&client, "s3", &asked))
        .await
        .unwrap();
    let refused = logins
        .log_in(
            "alice",
            "correct horse battery".into(),
            ip,
            session(&client, "s4", &asked),
        )
        .await
        .unwrap();
    assert!(matches!(refused, LoginOutcome::Throttled { .. }), "{refused:?}");
    assert!(!asked.load(Ordering::SeqCst));
    // From elsewhere the owner gets in, and the seat is keyed by the renewed session.
    let elsewhere = from("10.0.0.2");
    let signed_in = logins
        .log_in(
            "alice",
            "correct horse battery".into(),
            Some("10.0.0.2".parse().unwrap()),
            session(&elsewhere, "s5", &asked),
        )
        .await
        .unwrap();
    let LoginOutcome::SignedIn { user, seat, ended } = signed_in else {
        panic!("{signed_in:?}")
    };
    assert!(asked.load(Ordering::SeqCst));
    assert_eq!((user.id, ended.len()), (alice.id, 0));
    let status = logins
        .seats
        .status(&SessionHash::of("s5"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.seat, seat);
}

async fn a_held_login_continues_unless_the_credentials_changed(db: TestDb) {
    use std::sync::atomic::AtomicBool;
    let alice = user(&db, "alice").await;
    let ask = Policy {
        on_limit: OnLimit::Ask,
        ..Policy::default()
    };
    let logins = logins(&db, ask, ThrottleConfig::default());
    let client = from("10.0.0.1");
    let asked = AtomicBool::new(false);
    let first = logins
        .log_in(
            "alice",
            "correct horse battery".into(),
            None,
            session(&client, "a", &asked),
        )
        .await
        .unwrap();
    let LoginOutcome::SignedIn { seat: first, .. } = first else {
        panic!("{first:?}")
    };
    let held = logins
        .log_in(
            "alice",
            "correct horse battery".into(),
            None,
            session(&client, "b", &asked),
        )
        .await
        .unwrap();
    let LoginOutcome::Held {
        user,
        epoch,
        candidates,
    } = held
    else {
        panic!("{held:?}")
    };
    assert_eq!(candidates.iter().map(|s| s.id).collect::<Vec<_>>(), [first]);
    // Continued with the choice: in, the first ended.
    let continued = logins
        .open(user.clone(), epoch, &[first], session(&client, "b", &asked))
        .await
        .unwrap();
    assert!(
        matches!(continued, LoginOutcome::SignedIn { ref ended, .. } if ended == &[(first, EndReason::Replaced)])
    );

    // Held again, then the password changes: the held login is void.
    let held = logins
        .log_in(
            "alice",
            "correct horse battery".into(),
            None,
            session(&client, "c", &asked),
        )
        .await
        .unwrap();
    let LoginOutcome::Held {
        user,
        epoch,
        candidates,
    } = held
    else {
        panic!("{held:?}")
    };
    let keep = logins.seats.live(alice.id).await.unwrap()[0].id;
    logins
        .accounts
        .change_password(
            &logins.seats,
            alice.id,
            "correct horse battery".into(),
            Password::parse("a new password").unwrap(),
            keep,
        )
        .await
        .unwrap();
    let chosen: Vec<SeatId> = candidates.iter().map(|s| s.id).collect();
    let late = logins
        .open(user, epoch, &chosen, session(&client, "c", &asked))
        .await
        .unwrap();
    assert!(
        matches!(late, LoginOutcome::CredentialsChanged { .. }),
        "{late:?}"
    );
    assert_eq!(logins.seats.live(alice.id).await.unwrap().len(), 1);
}

/// Confirming the password and changing it: counted per user before the check, the change
/// ends the other sessions with the old credentials, and a refused attempt checks nothing.
async fn re_authentication_and_the_password_change_are_core_operations(db: TestDb) {
    use single_login::login::ReauthOutcome;
    let alice = user(&db, "alice").await;
    let config = ThrottleConfig {
        reauth_max_failures: 2,
        ..ThrottleConfig::default()
    };
    let logins = logins(
        &db,
        Policy {
            max_sessions: 2,
            ..Policy::default()
        },
        config,
    );
    let ip = Some("10.0.0.1".parse().unwrap());
    let two = Policy {
        max_sessions: 2,
        ..Policy::default()
    };
    let mut seats = Vec::new();
    for (session, ip) in [("here", "10.0.0.1"), ("there", "10.0.0.2")] {
        match open_with(&logins.seats, &alice, session, ip, &two, &[]).await {
            OpenOutcome::Opened { seat, .. } => seats.push(seat),
            other => panic!("{other:?}"),
        }
    }
    let (here, there) = (seats[0], seats[1]);

    let wrong = logins
        .confirm_password(alice.id, here, "wrong password".into(), ip)
        .await
        .unwrap();
    assert!(matches!(wrong, ReauthOutcome::WrongPassword), "{wrong:?}");
    let right = logins
        .confirm_password(alice.id, here, "correct horse battery".into(), ip)
        .await
        .unwrap();
    assert!(matches!(right, ReauthOutcome::Done(())), "{right:?}");

    let changed = logins
        .change_password(
            alice.id,
            "correct horse battery".into(),
            Password::parse("a new password").unwrap(),
            here,
            ip,
        )
        .await
        .unwrap();
    assert!(matches!(changed, ReauthOutcome::Done(1)), "{changed:?}");
    let live: Vec<SeatId> = logins
        .seats
        .live(alice.id)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        live,
        [here],
        "the other session ({there:?}) ends with the old password"
    );
    assert!(!logins
        .accounts
        .verify_password(alice.id, "correct horse battery".into())
        .await
        .unwrap());

    // Two wrong attempts fill this session's bucket: the second ends the session itself.
    let guess = || {
        logins.change_password(
            alice.id,
            "guess".into(),
            Password::parse("another one").unwrap(),
            here,
            ip,
        )
    };
    let wrong = guess().await.unwrap();
    assert!(matches!(wrong, ReauthOutcome::WrongPassword), "{wrong:?}");
    let ended = guess().await.unwrap();
    assert!(matches!(ended, ReauthOutcome::SessionEnded), "{ended:?}");
    assert!(logins.seats.live(alice.id).await.unwrap().is_empty());
    let (_, how) = logins.seats.ended(here).await.unwrap().unwrap();
    assert_eq!((how.reason, how.ended_by), (EndReason::Revoked, Some(here)));
    assert!(logins
        .accounts
        .verify_password(alice.id, "a new password".into())
        .await
        .unwrap());
    // The session is throttled too, should its cookie come back before the check sees it.
    let refused = logins
        .confirm_password(alice.id, here, "a new password".into(), ip)
        .await
        .unwrap();
    assert!(matches!(refused, ReauthOutcome::Throttled { .. }), "{refused:?}");
}

/// A sign-up opens the account's first session; a taken name opens nothing and keeps the
/// browser's session id.
async fn a_sign_up_opens_the_first_session(db: TestDb) {
    use single_login::login::SignupOutcome;
    use std::sync::atomic::{AtomicBool, Ordering};
    let logins = logins(&db, Policy::default(), ThrottleConfig::default());
    let client = from("10.0.0.1");
    let name = Username::parse("zoe").unwrap();
    let asked = AtomicBool::new(false);
    let created = logins
        .sign_up(
            &name,
            Password::parse("correct horse battery").unwrap(),
            None,
            session(&client, "z1", &asked),
        )
        .await
        .unwrap();
    let SignupOutcome::Created {
        user,
        login: LoginOutcome::SignedIn { seat, ended, .. },
    } = created
    else {
        panic!("{created:?}")
    };
    assert!(ended.is_empty() && asked.load(Ordering::SeqCst));
    let live: Vec<SeatId> = logins
        .seats
        .live(user.id)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(live, [seat]);

    let asked = AtomicBool::new(false);
    let taken = logins
        .sign_up(
            &Username::parse("ZOE").unwrap(),
            Password::parse("another password").unwrap(),
            None,
            session(&client, "z2", &asked),
        )
        .await
        .unwrap();
    assert_eq!(taken, SignupOutcome::UsernameTaken);
    assert!(
        !asked.load(Ordering::SeqCst),
        "a failed sign-up keeps the session id"
    );
    assert_eq!(logins.seats.live(user.id).await.unwrap().len(), 1);
}

/// Within its time to live the check answers from memory (the row behind it can be gone
/// and it does not notice); a change through the registry is seen at once.
async fn the_check_remembers_live_seats_until_the_registry_changes_them(db: TestDb) {
    let alice = user(&db, "alice").await;
    let seats = Seats::with_cache(db.db.clone(), Duration::from_secs(3600));
    let hash = SessionHash::of("cached");
    let opened = seats
        .open(
            alice.id,
            CredentialEpoch::INITIAL,
            &hash,
            &from("10.0.0.1"),
            &Policy::default(),
            &[],
        )
        .await
        .unwrap();
    let OpenOutcome::Opened { seat, .. } = opened else {
        panic!("{opened:?}")
    };
    let lifetimes = Lifetimes {
        idle: Duration::from_secs(3600),
        max: Duration::from_secs(7200),
    };
    let check = || seats.check(&hash, &lifetimes, Duration::from_secs(60), Millis::now());
    assert!(matches!(check().await.unwrap(), Check::Live { .. }));
    // Behind the registry's back: only a read would notice.
    let moved = SessionHash::of("moved");
    sqlx_update_hash(&db, seat, &moved).await;
    assert!(
        matches!(check().await.unwrap(), Check::Live { .. }),
        "answered from memory"
    );
    // Through the registry: forgotten at once.
    seats.end(seat, EndReason::Revoked).await.unwrap();
    assert_eq!(check().await.unwrap(), Check::Unknown);
}

async fn sqlx_update_hash(db: &TestDb, seat: SeatId, hash: &SessionHash) {
    let sql = "UPDATE single_login_seats SET session_hash = $1 WHERE id = $2";
    match &db.db {
        single_login::Db::Sqlite(pool) => {
            sqlx::query(sql)
                .bind(hash.as_str())
                .bind(seat.0)
                .execute(pool)
                .await
                .unwrap();
        }
        single_login::Db::Postgres(pool) => {
            sqlx::query(sql)
                .bind(hash.as_str())
                .bind(seat.0)
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

on_both_backends!(
    the_check_remembers_live_seats_until_the_registry_changes_them,
    a_sign_up_opens_the_first_session,
    re_authentication_and_the_password_change_are_core_operations,
    a_login_checks_the_throttle_then_the_password_then_opens_the_seat,
    a_held_login_continues_unless_the_credentials_changed,
    the_purge_and_the_request_check_agree_on_expiry,
    ask_offers_only_the_sessions_that_count,
    the_throttle_refuses_after_the_limit_until_the_window_passes,
    throttle_counts_are_per_bucket_and_name_nobody,
    a_success_gives_the_failures_back,
    simultaneous_guesses_never_pass_the_limit,
    one_account_is_limited_across_addresses_and_one_address_across_names,
    re_authentication_failures_are_limited_per_session_under_a_user_ceiling,
    a_users_own_limit_replaces_the_default,
    deny_new_refuses_and_changes_nothing,
    ask_ends_only_the_chosen_seats_and_only_when_the_login_gets_in,
    simultaneous_logins_with_a_limit_of_three_leave_three,
    signing_a_user_out_everywhere,
    sign_up_then_authenticate,
    usernames_are_unique_regardless_of_case_and_width,
    wrong_password_and_unknown_user_fail_alike,
    a_new_login_replaces_the_older_seat,
    other_users_are_untouched,
    ending_a_seat_records_the_reason_once,
    the_session_id_itself_is_not_stored,
    touch_moves_only_live_seats_forward,
    idle_seats_expire_and_old_ended_seats_are_purged,
    simultaneous_logins_leave_exactly_one_live_seat,
);
