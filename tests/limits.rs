//! Device kinds, groups and limits that change, in the registry, on SQLite and PostgreSQL.

mod common;

use std::sync::Arc;

use single_login::policy::{KindLimits, LimitSource, OnLimit};
use single_login::seats::{LimitsChangeError, OpenOutcome};
use single_login::{DeviceKind, EndReason, Limits, Policy, SeatId, Seats, User};
use testkit::{on_both_backends, TestDb};

use common::{open_as, user, IPHONE_SAFARI, LINUX_FIREFOX, WINDOWS_CHROME};

/// `max_sessions = 2`, `seat_limits = { phone = 1, computer = 1 }`.
fn phone_and_computer() -> Policy {
    Policy {
        max_sessions: 2,
        seat_limits: KindLimits::of([(DeviceKind::Phone, 1), (DeviceKind::Computer, 1)]),
        ..Policy::default()
    }
}

async fn opened(
    seats: &Seats,
    user: &User,
    session: &str,
    agent: &str,
    policy: &Policy,
) -> (SeatId, Vec<SeatId>) {
    match open_as(seats, user, session, agent, policy).await {
        OpenOutcome::Opened { seat, ended } => (seat, ended.into_iter().map(|(id, _)| id).collect()),
        other => panic!("expected the login to be admitted, got {other:?}"),
    }
}

async fn live_kinds(seats: &Seats, user: &User) -> Vec<(SeatId, DeviceKind)> {
    seats
        .live(user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|seat| (seat.id, seat.kind))
        .collect()
}

async fn a_phone_and_a_computer_each_keep_their_seat(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let policy = phone_and_computer();
    let alice = user(&db, "alice").await;
    let (a, ended) = opened(&seats, &alice, "a", WINDOWS_CHROME, &policy).await;
    assert!(ended.is_empty());
    let (b, ended) = opened(&seats, &alice, "b", IPHONE_SAFARI, &policy).await;
    assert!(ended.is_empty(), "a phone does not replace the computer");
    let (c, ended) = opened(&seats, &alice, "c", LINUX_FIREFOX, &policy).await;
    assert_eq!(ended, vec![a], "a computer replaces the computer, not the phone");
    assert_eq!(
        live_kinds(&seats, &alice).await,
        vec![(b, DeviceKind::Phone), (c, DeviceKind::Computer)]
    );
    // The ended seat knows which kind of login replaced it.
    let (_, how) = seats.ended(a).await.unwrap().unwrap();
    assert_eq!(how.reason, EndReason::Replaced);
    assert_eq!(how.replaced_by.unwrap().kind, DeviceKind::Computer);
}

async fn simultaneous_computer_logins_leave_one_computer_and_the_phone(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let policy = Arc::new(phone_and_computer());
    let alice = user(&db, "alice").await;
    let (phone, _) = opened(&seats, &alice, "phone", IPHONE_SAFARI, &policy).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (seats, alice, policy, barrier) =
                (seats.clone(), alice.clone(), policy.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                opened(&seats, &alice, &format!("pc{i}"), WINDOWS_CHROME, &policy).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let live = live_kinds(&seats, &alice).await;
    assert_eq!(live.len(), 2, "{live:?}");
    assert!(live.contains(&(phone, DeviceKind::Phone)), "{live:?}");
    assert_eq!(
        live.iter()
            .filter(|(_, kind)| *kind == DeviceKind::Computer)
            .count(),
        1
    );
}

async fn limits_come_from_the_user_then_the_group_then_the_application_then_the_default(db: TestDb) {
    let policy = Policy::default();
    let plain = Seats::new(db.db.clone());
    let alice = user(&db, "alice").await;
    let bob = user(&db, "bob").await;
    plain.create_group("premium", &Limits::at_most(4)).await.unwrap();
    // The application says: bob may hold 3.
    let bob_id = bob.id;
    let seats = Seats::new(db.db.clone())
        .with_limits_for(move |user| async move { (user == bob_id).then(|| Limits::at_most(3)) });
    let of = |user: &User| {
        let (seats, policy, user) = (seats.clone(), policy.clone(), user.id);
        async move { seats.limits_of(user, &policy).await.unwrap().unwrap() }
    };
    assert_eq!(of(&alice).await, (Limits::at_most(1), LimitSource::Default));
    assert_eq!(of(&bob).await, (Limits::at_most(3), LimitSource::Application));
    seats.set_group(bob.id, Some("premium"), &policy).await.unwrap();
    assert_eq!(
        of(&bob).await,
        (Limits::at_most(4), LimitSource::Group("premium".into()))
    );
    assert_eq!(seats.group_of(bob.id).await.unwrap().as_deref(), Some("premium"));
    seats
        .set_user_limits(bob.id, Some(&Limits::Unlimited), &policy)
        .await
        .unwrap();
    assert_eq!(of(&bob).await, (Limits::Unlimited, LimitSource::User));
    // The login reads the same: bob's own "unlimited" keeps all five.
    for i in 0..5 {
        opened(&seats, &bob, &format!("b{i}"), LINUX_FIREFOX, &policy).await;
    }
    assert_eq!(seats.live(bob.id).await.unwrap().len(), 5);
    let groups = seats.groups().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!((groups[0].name.as_str(), groups[0].members), ("premium", 1));
}

async fn a_service_group_without_limit_keeps_twenty_simultaneous_logins(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let policy = Arc::new(Policy::default());
    let robot = user(&db, "robot").await;
    seats.create_group("service", &Limits::Unlimited).await.unwrap();
    seats.set_group(robot.id, Some("service"), &policy).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (seats, robot, policy) = (seats.clone(), robot.clone(), policy.clone());
            tokio::spawn(async move { opened(&seats, &robot, &format!("r{i}"), "curl/8.5.0", &policy).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().1.is_empty());
    }
    assert_eq!(seats.live(robot.id).await.unwrap().len(), 20);
}

async fn leaving_a_group_ends_the_excess_at_once_least_recently_used_first(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let policy = Policy::default();
    let carol = user(&db, "carol").await;
    seats.create_group("premium", &Limits::at_most(4)).await.unwrap();
    seats.set_group(carol.id, Some("premium"), &policy).await.unwrap();
    let mut opened_ids = Vec::new();
    for i in 0..4 {
        opened_ids.push(
            opened(&seats, &carol, &format!("c{i}"), LINUX_FIREFOX, &policy)
                .await
                .0,
        );
    }
    // The first seat is the most recently used.
    seats
        .touch(
            opened_ids[0],
            single_login::Millis::now().plus(std::time::Duration::from_secs(60)),
        )
        .await
        .unwrap();
    assert_eq!(seats.set_group(carol.id, None, &policy).await.unwrap(), 3);
    let live = seats.live(carol.id).await.unwrap();
    assert_eq!(live.iter().map(|s| s.id).collect::<Vec<_>>(), vec![opened_ids[0]]);
    let history = seats.history(carol.id, 10).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(history
        .iter()
        .all(|seat| seat.ended.reason == EndReason::LimitLowered));
}

async fn a_group_limit_lowered_or_deleted_trims_its_followers_only(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let policy = Policy::default();
    let (dan, erin) = (user(&db, "dan").await, user(&db, "erin").await);
    seats
        .create_group("team", &"3,phone=2".parse().unwrap())
        .await
        .unwrap();
    for who in [&dan, &erin] {
        seats.set_group(who.id, Some("team"), &policy).await.unwrap();
    }
    // Erin's own limit comes first: the group's changes do not reach her.
    seats
        .set_user_limits(erin.id, Some(&Limits::at_most(3)), &policy)
        .await
        .unwrap();
    for who in [&dan, &erin] {
        opened(
            &seats,
            who,
            &format!("{}-pc", who.username),
            LINUX_FIREFOX,
            &policy,
        )
        .await;
        opened(
            &seats,
            who,
            &format!("{}-p1", who.username),
            IPHONE_SAFARI,
            &policy,
        )
        .await;
        opened(
            &seats,
            who,
            &format!("{}-p2", who.username),
            IPHONE_SAFARI,
            &policy,
        )
        .await;
    }
    // One phone now: dan's older phone ends, his computer stays.
    assert_eq!(
        seats
            .set_group_limits("team", &"3,phone=1".parse().unwrap())
            .await
            .unwrap(),
        1
    );
    let dan_live = live_kinds(&seats, &dan).await;
    assert_eq!(
        dan_live.iter().map(|(_, kind)| *kind).collect::<Vec<_>>(),
        vec![DeviceKind::Computer, DeviceKind::Phone]
    );
    assert_eq!(seats.live(erin.id).await.unwrap().len(), 3);
    // Deleted: dan is held to the default of one; erin keeps her own three.
    assert_eq!(seats.delete_group("team", &policy).await.unwrap(), 1);
    assert_eq!(seats.live(dan.id).await.unwrap().len(), 1);
    assert_eq!(seats.live(erin.id).await.unwrap().len(), 3);
    assert_eq!(seats.group_of(erin.id).await.unwrap(), None);
    assert!(seats.groups().await.unwrap().is_empty());
}

async fn group_changes_refuse_bad_names_duplicates_and_strangers(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let policy = Policy::default();
    let frank = user(&db, "frank").await;
    seats.create_group("premium", &Limits::at_most(4)).await.unwrap();
    assert!(matches!(
        seats.create_group("premium", &Limits::at_most(2)).await,
        Err(LimitsChangeError::GroupExists(_))
    ));
    for bad in [
        "",
        "with space",
        "ünïcode",
        "'; DROP TABLE x; --",
        &"x".repeat(65),
    ] {
        assert!(
            matches!(
                seats.create_group(bad, &Limits::Unlimited).await,
                Err(LimitsChangeError::BadGroupName(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        seats.set_group(frank.id, Some("nope"), &policy).await,
        Err(LimitsChangeError::UnknownGroup(_))
    ));
    assert!(matches!(
        seats.set_group_limits("nope", &Limits::at_most(1)).await,
        Err(LimitsChangeError::UnknownGroup(_))
    ));
    assert!(matches!(
        seats.delete_group("nope", &policy).await,
        Err(LimitsChangeError::UnknownGroup(_))
    ));
    // Nothing changed for frank.
    assert_eq!(seats.group_of(frank.id).await.unwrap(), None);
    assert_eq!(seats.groups().await.unwrap()[0].limits, Limits::at_most(4));
}

/// Logins racing a lowered limit: whichever order the database runs them in, no more than
/// the new limit stay once both are done.
async fn logins_racing_a_lowered_group_limit_never_exceed_it(db: TestDb) {
    let seats = Seats::new(db.db.clone());
    let policy = Arc::new(Policy {
        on_limit: OnLimit::KickOldest,
        ..Policy::default()
    });
    let gina = user(&db, "gina").await;
    seats.create_group("wide", &Limits::at_most(10)).await.unwrap();
    seats.set_group(gina.id, Some("wide"), &policy).await.unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(21));
    let mut tasks: Vec<_> = (0..20)
        .map(|i| {
            let (seats, gina, policy, barrier) =
                (seats.clone(), gina.clone(), policy.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                opened(&seats, &gina, &format!("g{i}"), LINUX_FIREFOX, &policy).await;
            })
        })
        .collect();
    let lower = {
        let seats = seats.clone();
        tokio::spawn(async move {
            barrier.wait().await;
            seats.set_group_limits("wide", &Limits::at_most(2)).await.unwrap();
        })
    };
    tasks.push(lower);
    for task in tasks {
        task.await.unwrap();
    }
    let live = seats.live(gina.id).await.unwrap().len();
    assert!((1..=2).contains(&live), "{live} live seats under a limit of 2");
}

on_both_backends!(
    a_phone_and_a_computer_each_keep_their_seat,
    simultaneous_computer_logins_leave_one_computer_and_the_phone,
    limits_come_from_the_user_then_the_group_then_the_application_then_the_default,
    a_service_group_without_limit_keeps_twenty_simultaneous_logins,
    leaving_a_group_ends_the_excess_at_once_least_recently_used_first,
    a_group_limit_lowered_or_deleted_trims_its_followers_only,
    group_changes_refuse_bad_names_duplicates_and_strangers,
    logins_racing_a_lowered_group_limit_never_exceed_it,
);
