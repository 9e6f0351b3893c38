//! Helpers the core's test suites share: a user, a client, a seat opened under a policy.
#![allow(dead_code)] // Each suite uses some of them.

use single_login::seats::OpenOutcome;
use single_login::{
    Accounts, CredentialEpoch, LoginContext, Password, Policy, SeatId, Seats, SessionHash, User, Username,
};
use testkit::TestDb;

pub async fn user(db: &TestDb, name: &str) -> User {
    Accounts::new(db.db.clone())
        .sign_up(
            &Username::parse(name).unwrap(),
            Password::parse("correct horse battery").unwrap(),
        )
        .await
        .unwrap()
}

pub fn from(ip: &str) -> LoginContext {
    LoginContext::new(
        Some(ip.parse().expect("a test address")),
        Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"),
    )
}

pub async fn open_with(
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

pub async fn open(seats: &Seats, user: &User, session: &str, ip: &str) -> SeatId {
    match open_with(seats, user, session, ip, &Policy::default(), &[]).await {
        OpenOutcome::Opened { seat, .. } => seat,
        other => panic!("expected the login to be admitted, got {other:?}"),
    }
}
