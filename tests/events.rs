//! Session events on SQLite and PostgreSQL: every operation writes exactly its events, in
//! its own transaction; readers see each committed event once, in commit order.

mod common;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use single_login::events::{Cursor, EndedAs, Event, EventType, Events};
use single_login::policy::OnLimit;
use single_login::seats::{CredentialChange, OpenOutcome};
use single_login::throttle::{Throttle, ThrottleConfig};
use single_login::{
    Accounts, DeviceKind, EndReason, EndedBy, Lifetimes, Limits, LoginContext, LoginOutcome, Logins, Millis,
    NewSession, Policy, Seats, SessionHash,
};
use testkit::{on_both_backends, TestDb};

use common::{open, open_as, open_with, user, IPHONE_SAFARI};

/// Every event so far, oldest first: as written, without waiting for the readers' horizon
/// (on PostgreSQL, transactions of other tests on the same server hold it back a moment).
async fn all(db: &TestDb) -> Vec<Event> {
    // Expiry tests write events dated weeks ahead.
    let far = Millis::now().plus(Duration::from_secs(400 * 86_400));
    Events::new(db.db.clone())
        .export(Millis(0), far, None)
        .await
        .unwrap()
}

/// What the events since `from` say: type and reason.
fn told(events: &[Event]) -> Vec<(EventType, Option<EndedAs>)> {
    events.iter().map(|e| (e.event, e.reason)).collect()
}

/// What a reader gets after `cursor` once at least `n` events are past the horizon (other
/// tests' transactions on the same PostgreSQL server hold it back a moment).
async fn after(events: &Events, cursor: Cursor, n: usize) -> Vec<Event> {
    let started = std::time::Instant::now();
    loop {
        let read = events.after(cursor, 100).await.unwrap();
        if read.len() >= n || started.elapsed() > Duration::from_secs(20) {
            return read;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn since(db: &TestDb, before: usize) -> Vec<Event> {
    all(db).await.split_off(before)
}

async fn every_seat_change_writes_its_events(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let first = open(&seats, &alice, "a", "203.0.113.7").await;
    let events = all(&db).await;
    assert_eq!(told(&events), [(EventType::SessionOpened, None)]);
    let opened = &events[0];
    assert_eq!((opened.user, opened.seat), (Some(alice.id.0), Some(first.0)));
    assert_eq!(opened.network.as_deref(), Some("203.0.113.0/24"));
    assert_eq!(opened.agent.as_deref(), Some("Firefox on Linux"));
    assert_eq!(opened.device, Some(DeviceKind::Computer));
    assert!(
        opened.id.starts_with("evt_") && opened.id.len() == 36,
        "{}",
        opened.id
    );
    // Nothing of a session id or an address in full.
    let json = serde_json::to_string(&events).unwrap();
    assert!(
        !json.contains("203.0.113.7") && !json.contains(SessionHash::of("a").as_str()),
        "{json}"
    );

    // A newer login replaces it: one opened, one ended by the newer seat.
    let second = open(&seats, &alice, "b", "203.0.113.8").await;
    let events = since(&db, 1).await;
    assert_eq!(
        told(&events),
        [
            (EventType::SessionOpened, None),
            (EventType::SessionEnded, Some(EndedAs::Replaced))
        ]
    );
    assert_eq!(events[1].seat, Some(first.0));
    assert_eq!(
        events[1].by.as_deref(),
        Some(format!("seat:{}", second.0).as_str())
    );

    // The user's other session ends it; an operator's sign-out; a logout; expiry.
    let third = open_with(
        &seats,
        &alice,
        "c",
        "10.0.0.1",
        &Policy {
            max_sessions: 3,
            ..Policy::default()
        },
        &[],
    )
    .await;
    let OpenOutcome::Opened { seat: third, .. } = third else {
        panic!()
    };
    let before = all(&db).await.len();
    assert!(seats
        .end_own(alice.id, second, EndReason::Revoked, third)
        .await
        .unwrap());
    seats
        .end_all(alice.id, EndReason::Revoked, None, EndedBy::Operator)
        .await
        .unwrap();
    let events = since(&db, before).await;
    assert_eq!(
        told(&events),
        [
            (EventType::SessionEnded, Some(EndedAs::Revoked)),
            (EventType::SessionEnded, Some(EndedAs::Operator))
        ]
    );
    assert_eq!(events[1].by.as_deref(), Some("operator"));

    let fourth = open(&seats, &alice, "d", "10.0.0.1").await;
    seats.end(fourth, EndReason::LoggedOut).await.unwrap();
    open(&seats, &alice, "e", "10.0.0.1").await;
    let before = all(&db).await.len();
    let later = Millis::now().plus(Duration::from_secs(40 * 86_400));
    assert_eq!(seats.expire(&Lifetimes::default(), later).await.unwrap(), 1);
    let events = since(&db, before).await;
    assert_eq!(told(&events), [(EventType::SessionEnded, Some(EndedAs::Expired))]);
    assert_eq!(events[0].by.as_deref(), Some("system"));
    let reasons: Vec<Option<EndedAs>> = all(&db).await.iter().map(|e| e.reason).collect();
    assert!(reasons.contains(&Some(EndedAs::LoggedOut)));
}

async fn credentials_limits_and_policies_write_theirs(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let bob = user(&db, "bob").await;
    let kept = open(&seats, &bob, "a", "10.0.0.1").await;
    let before = all(&db).await.len();
    // Denied and held: the record of it, nothing else.
    let deny = Policy {
        on_limit: OnLimit::DenyNew,
        ..Policy::default()
    };
    assert!(matches!(
        open_with(&seats, &bob, "x", "10.0.0.2", &deny, &[]).await,
        OpenOutcome::Denied { .. }
    ));
    let ask = Policy {
        on_limit: OnLimit::Ask,
        ..Policy::default()
    };
    assert!(matches!(
        open_with(&seats, &bob, "y", "10.0.0.2", &ask, &[]).await,
        OpenOutcome::Ask { .. }
    ));
    assert_eq!(
        told(&since(&db, before).await),
        [(EventType::LoginDenied, None), (EventType::LoginHeld, None)]
    );
    // Disabled: the account's event and its sessions' ends, by an operator.
    let before = all(&db).await.len();
    seats
        .change_credentials(bob.id, CredentialChange::Disable, None)
        .await
        .unwrap();
    assert_eq!(
        told(&since(&db, before).await),
        [
            (EventType::AccountDisabled, None),
            (EventType::SessionEnded, Some(EndedAs::Operator))
        ]
    );
    assert!(seats.live(bob.id).await.unwrap().is_empty());
    let _ = kept;

    // A lowered limit.
    let carol = user(&db, "carol").await;
    seats
        .set_user_limits(carol.id, Some(&Limits::at_most(2)), &Policy::default())
        .await
        .unwrap();
    open(&seats, &carol, "c1", "10.0.0.1").await;
    open_as(&seats, &carol, "c2", IPHONE_SAFARI, &Policy::default()).await;
    let before = all(&db).await.len();
    seats
        .set_user_limits(carol.id, None, &Policy::default())
        .await
        .unwrap();
    let events = since(&db, before).await;
    assert_eq!(
        told(&events),
        [(EventType::SessionEnded, Some(EndedAs::LimitLowered))]
    );
    assert_eq!(events[0].by.as_deref(), Some("operator"));
}

fn logins(db: &TestDb) -> Logins {
    Logins {
        accounts: Accounts::new(db.db.clone()),
        seats: Seats::new(db.db.clone()),
        throttle: Arc::new(Throttle::new(
            db.db.clone(),
            ThrottleConfig {
                max_failures: 2,
                ..ThrottleConfig::default()
            },
        )),
        policy: Arc::new(Policy::default()),
    }
}

fn new_session<'a>(client: &'a LoginContext, id: &str) -> NewSession<'a> {
    let hash = SessionHash::of(id);
    NewSession {
        client,
        replacing: None,
        renew: Box::new(move || Box::pin(async move { Ok(hash) })),
    }
}

async fn failed_throttled_and_confirmed_passwords_write_theirs(db: TestDb) {
    let dave = user(&db, "dave").await;
    let logins = logins(&db);
    let client = common::from("10.0.0.9");
    let ip = client.client_ip;
    let before = all(&db).await.len();
    // A name nobody holds leaves nothing; a wrong password for dave is a failed login.
    let outcome = logins
        .log_in("nobody", "wrong password".into(), ip, new_session(&client, "n"))
        .await
        .unwrap();
    assert!(matches!(
        outcome,
        LoginOutcome::InvalidCredentials { target: None }
    ));
    assert!(since(&db, before).await.is_empty());
    for i in 0..2 {
        let outcome = logins
            .log_in(
                "dave",
                "wrong password".into(),
                ip,
                new_session(&client, &format!("w{i}")),
            )
            .await
            .unwrap();
        assert!(matches!(
            outcome,
            LoginOutcome::InvalidCredentials { target: Some(_) }
        ));
    }
    // The bucket is full: refused three times, told once.
    for i in 0..3 {
        let outcome = logins
            .log_in(
                "dave",
                "wrong password".into(),
                ip,
                new_session(&client, &format!("t{i}")),
            )
            .await
            .unwrap();
        assert!(matches!(outcome, LoginOutcome::Throttled { .. }), "{outcome:?}");
    }
    let events = since(&db, before).await;
    assert_eq!(
        told(&events),
        [
            (EventType::LoginFailed, None),
            (EventType::LoginFailed, None),
            (EventType::AttemptThrottled, None)
        ]
    );
    assert_eq!(events[0].user, Some(dave.id.0));
    assert_eq!(events[2].network.as_deref(), Some("10.0.0.0/24"));

    // A confirmed password, from a signed-in session.
    let other = common::from("10.0.1.1");
    let LoginOutcome::SignedIn { seat, .. } = logins
        .log_in(
            "dave",
            "correct horse battery".into(),
            other.client_ip,
            new_session(&other, "ok"),
        )
        .await
        .unwrap()
    else {
        panic!("dave signs in")
    };
    let before = all(&db).await.len();
    let confirmed = logins
        .confirm_password(dave.id, seat, "correct horse battery".into(), other.client_ip)
        .await
        .unwrap();
    assert!(
        matches!(confirmed, single_login::login::ReauthOutcome::Done(_)),
        "{confirmed:?}"
    );
    let events = since(&db, before).await;
    assert_eq!(told(&events), [(EventType::Reauthenticated, None)]);
    assert_eq!(events[0].seat, Some(seat.0));
}

/// A login that fails inside its transaction (here: a session hash already in use) writes
/// nothing: neither its opening nor the end of the seat it would have replaced.
async fn a_rolled_back_login_writes_no_event(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let erin = user(&db, "erin").await;
    let first = open(&seats, &erin, "same", "10.0.0.1").await;
    let before = all(&db).await;
    let again = seats
        .open(
            erin.id,
            single_login::CredentialEpoch::INITIAL,
            &SessionHash::of("same"),
            &common::from("10.0.0.2"),
            &Policy::default(),
            &[],
        )
        .await;
    assert!(again.is_err(), "{again:?}");
    assert_eq!(all(&db).await, before);
    assert_eq!(seats.live(erin.id).await.unwrap()[0].id, first);
}

/// Two subscribers (two processes' pools) each see every event once, in commit order.
async fn every_subscriber_sees_every_event_once(db: TestDb) {
    let other = single_login::Db::connect(&db.url).await.unwrap();
    let (here, there) = (Events::new(db.db.clone()), Events::new(other));
    let start = here.end().await.unwrap();
    let poll = Duration::from_millis(20);
    let mut a = Box::pin(here.subscribe(start, poll));
    let mut b = Box::pin(there.subscribe(start, poll));
    let seats = Seats::new(db.db.clone());
    let fay = user(&db, "fay").await;
    for i in 0..5 {
        open(&seats, &fay, &format!("f{i}"), "10.0.0.1").await;
    }
    // 5 opened, 4 replaced.
    let expected: Vec<String> = all(&db).await.into_iter().map(|e| e.id).collect();
    assert_eq!(expected.len(), 9);
    for stream in [&mut a, &mut b] {
        let mut seen = Vec::new();
        while seen.len() < 9 {
            let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("events arrive")
                .unwrap()
                .unwrap();
            seen.push(event.id);
        }
        assert_eq!(seen, expected);
        assert!(
            tokio::time::timeout(Duration::from_millis(200), stream.next())
                .await
                .is_err(),
            "nothing more"
        );
    }
}

/// A durable reader: one holder at a time, and its cursor survives.
async fn a_durable_reader_resumes_and_is_held_by_one(db: TestDb) {
    let events = Events::new(db.db.clone());
    let seats = Seats::new(db.db.clone());
    let gus = user(&db, "gus").await;
    open(&seats, &gus, "g1", "10.0.0.1").await;
    let first = events.reader("webhooks", "process-a");
    let second = events.reader("webhooks", "process-b");
    let lease = Duration::from_secs(30);
    let cursor = first
        .claim(lease, Cursor::START)
        .await
        .unwrap()
        .expect("the first claims it");
    assert_eq!(
        second.claim(lease, Cursor::START).await.unwrap(),
        None,
        "held by the first"
    );
    let read = after(&events, cursor, 1).await;
    assert_eq!(read.len(), 1);
    assert!(first.advance(read[0].cursor).await.unwrap());
    assert!(
        !second.advance(Cursor::START).await.unwrap(),
        "only the holder advances"
    );
    first.release().await.unwrap();
    let resumed = second
        .claim(lease, Cursor::START)
        .await
        .unwrap()
        .expect("free again");
    assert_eq!(resumed, read[0].cursor);
    assert!(events.after(resumed, 10).await.unwrap().is_empty());
}

async fn the_export_filters_by_time_and_user(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let (hal, ida) = (user(&db, "hal").await, user(&db, "ida").await);
    open(&seats, &hal, "h1", "10.0.0.1").await;
    open(&seats, &ida, "i1", "10.0.0.1").await;
    let events = Events::new(db.db.clone());
    let (past, future) = (Millis(0), Millis::now().plus(Duration::from_secs(60)));
    assert_eq!(events.export(past, future, None).await.unwrap().len(), 2);
    let hal_only = events.export(past, future, Some(hal.id)).await.unwrap();
    assert_eq!(hal_only.len(), 1);
    assert_eq!(hal_only[0].user, Some(hal.id.0));
    assert!(events.export(future, future, None).await.unwrap().is_empty());
    assert_eq!(events.purge(future).await.unwrap(), 2);
    assert!(all(&db).await.is_empty());
}

on_both_backends!(
    every_seat_change_writes_its_events,
    credentials_limits_and_policies_write_theirs,
    failed_throttled_and_confirmed_passwords_write_theirs,
    a_rolled_back_login_writes_no_event,
    every_subscriber_sees_every_event_once,
    a_durable_reader_resumes_and_is_held_by_one,
    the_export_filters_by_time_and_user,
);

/// On PostgreSQL, an event of a transaction still running holds back the later events of
/// transactions that committed first, so that a reader's cursor never passes over it.
#[tokio::test]
async fn postgres_readers_never_skip_an_event_that_commits_late() {
    let db = testkit::postgres().await;
    let events = Events::new(db.db.clone());
    let single_login::Db::Postgres(pool) = &db.db else {
        unreachable!()
    };
    let insert = "INSERT INTO single_login_events (id, at, type) VALUES ($1, 0, 'session_opened')";
    let mut late = pool.begin().await.unwrap();
    sqlx::query(insert)
        .bind("evt_late")
        .execute(&mut *late)
        .await
        .unwrap();
    sqlx::query(insert).bind("evt_early").execute(pool).await.unwrap();
    assert!(
        events.after(Cursor::START, 10).await.unwrap().is_empty(),
        "held back"
    );
    late.commit().await.unwrap();
    let read: Vec<String> = after(&events, Cursor::START, 2)
        .await
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(read, ["evt_late", "evt_early"]);
}
