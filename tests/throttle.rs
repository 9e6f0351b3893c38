//! The throttle: password checks counted before they happen, on SQLite and PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use single_login::throttle::{Bucket, Refused, Reservation, Throttle, ThrottleConfig};
use single_login::{Millis, SeatId};
use testkit::{on_both_backends, TestDb};

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

on_both_backends!(
    the_throttle_refuses_after_the_limit_until_the_window_passes,
    throttle_counts_are_per_bucket_and_name_nobody,
    a_success_gives_the_failures_back,
    simultaneous_guesses_never_pass_the_limit,
    one_account_is_limited_across_addresses_and_one_address_across_names,
    re_authentication_failures_are_limited_per_session_under_a_user_ceiling,
);
