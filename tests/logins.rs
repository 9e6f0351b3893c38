//! The login, sign-up and re-authentication as core operations, without HTTP, on SQLite
//! and PostgreSQL.

mod common;

use std::sync::Arc;

use single_login::policy::OnLimit;
use single_login::seats::OpenOutcome;
use single_login::throttle::{Throttle, ThrottleConfig};
use single_login::{
    Accounts, EndReason, LoginContext, LoginOutcome, Logins, NewSession, Password, Policy, SeatId, Seats,
    SessionHash, Username,
};
use testkit::{on_both_backends, TestDb};

use common::{from, open_with, user};

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
    assert_eq!(
        (how.reason, how.ended_by),
        (EndReason::Revoked, Some(single_login::EndedBy::Session(here)))
    );
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

on_both_backends!(
    a_sign_up_opens_the_first_session,
    re_authentication_and_the_password_change_are_core_operations,
    a_login_checks_the_throttle_then_the_password_then_opens_the_seat,
    a_held_login_continues_unless_the_credentials_changed,
);
