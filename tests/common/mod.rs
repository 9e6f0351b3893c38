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

/// Chrome on Windows: a computer.
pub const WINDOWS_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/// Safari on an iPhone: a phone.
pub const IPHONE_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
/// Firefox on Linux: a computer.
pub const LINUX_FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// Opens a seat for `user` from a browser that says `agent`, under `policy`.
pub async fn open_as(seats: &Seats, user: &User, session: &str, agent: &str, policy: &Policy) -> OpenOutcome {
    seats
        .open(
            user.id,
            CredentialEpoch::INITIAL,
            &SessionHash::of(session),
            &LoginContext::new(Some("10.0.0.1".parse().unwrap()), Some(agent)),
            policy,
            &[],
        )
        .await
        .unwrap()
}
