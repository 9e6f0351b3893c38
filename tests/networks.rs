//! The throttle's nested networks: an IPv4 address within its /24, an IPv6 /64 within its
//! /56 and /48, each with its own limit, counted widest first, so that an attempt the wide
//! network refuses writes no row for a narrower one.

use std::net::IpAddr;
use std::time::Duration;

use single_login::throttle::{Bucket, Throttle, ThrottleConfig};
use single_login::{on_pool, Db, Millis};
use testkit::{on_both_backends, TestDb};

fn throttle(db: &TestDb) -> Throttle {
    Throttle::new(
        db.db.clone(),
        ThrottleConfig {
            address_max_attempts: 100,
            subnet_max_attempts: 3,
            block_max_attempts: 5,
            address_window: Duration::from_secs(60),
            ..ThrottleConfig::default()
        },
    )
}

async fn rows(db: &Db) -> i64 {
    on_pool!(db, pool => sqlx::query_scalar::<_, i64>("SELECT count(*) FROM single_login_attempts").fetch_one(pool).await.unwrap())
}

async fn from(t: &Throttle, ip: &str) -> bool {
    let client: Option<IpAddr> = Some(ip.parse().unwrap());
    let name = format!("name-{ip}");
    t.reserve(
        &[
            Bucket::Address { client },
            Bucket::NameFromAddress {
                name_key: &name,
                client,
            },
        ],
        Millis(0),
    )
    .await
    .unwrap()
    .is_ok()
}

async fn a_48_rotating_over_its_64s_is_held_by_the_48(db: TestDb) {
    let t = throttle(&db);
    // /56s of one /48: the /56 limit (3) is never reached, the /48's (5) is.
    for n in 0..5 {
        assert!(from(&t, &format!("2001:db8:1:{:x}00::1", n + 1)).await, "{n}");
    }
    let before = rows(&db.db).await;
    for n in 5..50 {
        assert!(!from(&t, &format!("2001:db8:1:{:x}00::1", n + 1)).await, "{n}");
    }
    assert_eq!(rows(&db.db).await, before, "refused attempts wrote rows");
    // Another /48 is someone else.
    assert!(from(&t, "2001:db8:2::1").await);
    // Within one /56, its own limit (3) holds first.
    assert!(from(&t, "2001:db8:3:100::1").await);
    assert!(from(&t, "2001:db8:3:101::1").await);
    assert!(from(&t, "2001:db8:3:102::1").await);
    assert!(!from(&t, "2001:db8:3:103::1").await);
}

async fn an_ipv4_24_is_held_by_its_own_limit(db: TestDb) {
    let t = throttle(&db);
    for n in 1..=3 {
        assert!(from(&t, &format!("198.51.100.{n}")).await);
    }
    assert!(!from(&t, "198.51.100.200").await);
    assert!(from(&t, "198.51.101.1").await);
    // A known device counts in its own bucket, whatever its network did.
    let device = t
        .reserve(&[Bucket::Device { device: "d1" }], Millis(0))
        .await
        .unwrap();
    assert!(device.is_ok());
}

on_both_backends!(
    a_48_rotating_over_its_64s_is_held_by_the_48,
    an_ipv4_24_is_held_by_its_own_limit
);
