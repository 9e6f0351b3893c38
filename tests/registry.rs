//! The account store and the seat registry, on SQLite and PostgreSQL.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use single_login::policy::OnLimit;
use single_login::seats::{Check, LimitsChangeError, OpenOutcome};
use single_login::EndedBy;
use single_login::{
    Accounts, CredentialEpoch, EndReason, Lifetimes, Limits, Millis, Password, Policy, SeatId, Seats,
    SessionHash, SignupError, Username,
};
use testkit::{on_both_backends, TestDb};

use common::{from, open, open_with, user};

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
    let policy = Policy::default();
    let alice = user(&db, "alice").await;
    assert_eq!(
        seats
            .set_user_limits(alice.id, Some(&Limits::at_most(2)), &policy)
            .await
            .unwrap(),
        0
    );
    open(&seats, &alice, "a", "10.0.0.1").await;
    open(&seats, &alice, "b", "10.0.0.2").await;
    assert_eq!(seats.live(alice.id).await.unwrap().len(), 2);
    open(&seats, &alice, "c", "10.0.0.3").await;
    assert_eq!(seats.live(alice.id).await.unwrap().len(), 2);
    let listed = accounts.list().await.unwrap();
    assert_eq!(
        (listed[0].limits.clone(), listed[0].live_sessions),
        (Some(Limits::at_most(2)), 2)
    );

    // Back to the default of one: the older of the two ends at once.
    assert_eq!(seats.set_user_limits(alice.id, None, &policy).await.unwrap(), 1);
    assert_eq!(seats.live(alice.id).await.unwrap().len(), 1);
    open(&seats, &alice, "d", "10.0.0.4").await;
    assert_eq!(seats.live(alice.id).await.unwrap().len(), 1);
    assert!(matches!(
        seats
            .set_user_limits(single_login::UserId(999_999), Some(&Limits::at_most(3)), &policy)
            .await,
        Err(LimitsChangeError::UnknownUser)
    ));
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
            .end_all(alice.id, EndReason::Revoked, None, EndedBy::Operator)
            .await
            .unwrap(),
        2
    );
    assert!(seats.live(alice.id).await.unwrap().is_empty());
    assert_eq!(seats.live(bob.id).await.unwrap().len(), 1);
    let a1 = seats.status(&SessionHash::of("a1")).await.unwrap().unwrap();
    assert_eq!(a1.ended.unwrap().reason, EndReason::Revoked);
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
    users_are_found_by_name_prefix_page_by_page,
    the_check_remembers_live_seats_until_the_registry_changes_them,
    the_purge_and_the_request_check_agree_on_expiry,
    ask_offers_only_the_sessions_that_count,
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

/// The console's search: by name prefix as keys compare (case folded), in pages.
async fn users_are_found_by_name_prefix_page_by_page(db: TestDb) {
    let accounts = Accounts::new(db.db.clone());
    for i in 0..25 {
        user(&db, &format!("user{i:03}")).await;
    }
    user(&db, "other").await;
    let first = accounts.search("USER0", None, 10).await.unwrap();
    let names: Vec<&str> = first.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, (0..10).map(|i| format!("user{i:03}")).collect::<Vec<_>>());
    let after = Username::attempt_key(&first[9].username);
    let second = accounts.search("user0", Some(&after), 10).await.unwrap();
    assert_eq!(second[0].username, "user010");
    assert_eq!(accounts.search("user02", None, 10).await.unwrap().len(), 5);
    assert!(accounts.search("zzz", None, 10).await.unwrap().is_empty());
    assert_eq!(accounts.search("", None, 100).await.unwrap().len(), 26);
}
