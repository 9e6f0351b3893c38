//! The operator commands, on SQLite and PostgreSQL.

use leptos::config::LeptosOptions;
use server::cli::{events, group, user, EventsCommand, GroupCommand, UserCommand};
use server::config::{Config, DatabaseUrl, Settings};
use single_login::{Accounts, EndReason, LoginContext, Policy, Seats, SessionHash, Username};
use testkit::{on_both_backends, TestDb};

fn config(db: &TestDb) -> Config {
    let addr = "127.0.0.1:0".parse().unwrap();
    Config {
        leptos: LeptosOptions::builder()
            .output_name("single-login")
            .site_addr(addr)
            .build(),
        settings: Settings {
            database_url: DatabaseUrl(db.url.clone()),
            ..Settings::defaults_for(addr, leptos::config::Env::DEV)
        },
    }
}

async fn run(db: &TestDb, command: UserCommand, stdin: &str) -> Result<String, String> {
    let mut out = Vec::new();
    user(config(db), command, &mut stdin.as_bytes(), &mut out)
        .await
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8(out).unwrap())
}

async fn run_group(db: &TestDb, command: GroupCommand) -> Result<String, String> {
    let mut out = Vec::new();
    group(config(db), command, &mut out)
        .await
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8(out).unwrap())
}

/// Groups, moving users between them, and where each user's limit comes from.
async fn operators_manage_groups_and_see_where_a_limit_comes_from(db: TestDb) {
    let create = |name: &str, limits: &str| GroupCommand::Create {
        name: name.into(),
        limits: limits.into(),
    };
    let out = run_group(&db, create("premium", "4")).await.unwrap();
    assert!(out.contains("created group premium: 4"), "{out}");
    let out = run_group(&db, create("service", "unlimited")).await.unwrap();
    assert!(out.contains("created group service: unlimited"), "{out}");
    let taken = run_group(&db, create("premium", "2")).await.unwrap_err();
    assert!(taken.contains("already exists"), "{taken}");
    let bad = run_group(&db, create("two words", "2")).await.unwrap_err();
    assert!(bad.contains("not a group name"), "{bad}");
    let bad = run_group(&db, create("x", "2,watch=1")).await.unwrap_err();
    assert!(bad.contains("not a session limit"), "{bad}");

    run(
        &db,
        UserCommand::Add { name: "alice".into() },
        "correct horse battery\n",
    )
    .await
    .unwrap();
    let set_group = |group: Option<&str>| UserCommand::SetGroup {
        name: "alice".into(),
        group: group.map(str::to_owned),
        none: group.is_none(),
    };
    let out = run(&db, set_group(Some("premium")), "").await.unwrap();
    assert!(out.contains("alice may hold 4 (group premium)"), "{out}");
    let unknown = run(&db, set_group(Some("gold")), "").await.unwrap_err();
    assert!(unknown.contains("no group named \"gold\""), "{unknown}");

    let accounts = Accounts::new(db.db.clone());
    let single_login::Verified { user: alice, epoch } = accounts
        .authenticate("alice", "correct horse battery".into())
        .await
        .unwrap();
    let seats = Seats::new(db.db.clone());
    for i in 0..4 {
        let ctx = LoginContext::new(
            Some("203.0.113.1".parse().unwrap()),
            Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/120.0"),
        );
        seats
            .open(
                alice.id,
                epoch,
                &SessionHash::of(&format!("a{i}")),
                &ctx,
                &Policy::default(),
                &[],
            )
            .await
            .unwrap();
    }
    let out = run(&db, UserCommand::Sessions { name: "alice".into() }, "")
        .await
        .unwrap();
    assert!(
        out.contains("4 live session(s)")
            && out.contains("limit 4, from group premium: All 4/4")
            && out.contains("computer"),
        "{out}"
    );
    let out = run(&db, UserCommand::List, "").await.unwrap();
    let line = out.lines().find(|l| l.starts_with("alice")).unwrap();
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["alice", "4", "group", "premium", "4", "active"],
        "{out}"
    );
    let out = run_group(&db, GroupCommand::List).await.unwrap();
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [vec!["premium", "4", "1"], vec!["service", "unlimited", "0"]],
        "{out}"
    );

    // Lowered: a phone and a computer. Three computers go, the most recently used stays.
    let out = run_group(
        &db,
        GroupCommand::Set {
            name: "premium".into(),
            limits: "2,phone=1,computer=1".into(),
        },
    )
    .await
    .unwrap();
    assert!(
        out.contains("group premium: 2,computer=1,phone=1") && out.contains("ended 3 session(s)"),
        "{out}"
    );
    assert_eq!(seats.live(alice.id).await.unwrap().len(), 1);
    let history = seats.history(alice.id, 10).await.unwrap();
    assert!(
        history.iter().all(|h| h.ended.reason == EndReason::LimitLowered),
        "{history:?}"
    );

    let out = run(&db, set_group(None), "").await.unwrap();
    assert!(
        out.contains("alice is in no group") && out.contains("may hold 1 (default)"),
        "{out}"
    );
    let out = run_group(
        &db,
        GroupCommand::Delete {
            name: "premium".into(),
        },
    )
    .await
    .unwrap();
    assert!(out.contains("deleted group premium"), "{out}");
    let gone = run_group(
        &db,
        GroupCommand::Delete {
            name: "premium".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(gone.contains("no group named"), "{gone}");
    let out = run_group(&db, GroupCommand::List).await.unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
}

async fn export(db: &TestDb, since: &str, user: Option<&str>) -> Result<Vec<serde_json::Value>, String> {
    let mut out = Vec::new();
    let command = EventsCommand::Export {
        since: since.into(),
        until: None,
        user: user.map(str::to_owned),
    };
    events(config(db), command, &mut out)
        .await
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is one JSON object"))
        .collect())
}

/// A scripted scenario, exported: the lines are its events, in order, and nothing secret.
async fn the_export_writes_the_scenarios_events_as_json_lines(db: TestDb) {
    for name in ["eve", "fox"] {
        run(
            &db,
            UserCommand::Add { name: name.into() },
            "correct horse battery\n",
        )
        .await
        .unwrap();
    }
    let accounts = Accounts::new(db.db.clone());
    let seats = Seats::new(db.db.clone());
    let single_login::Verified { user: eve, epoch } = accounts
        .authenticate("eve", "correct horse battery".into())
        .await
        .unwrap();
    let ctx = LoginContext::new(
        Some("203.0.113.9".parse().unwrap()),
        Some("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    );
    for session in ["e1", "e2"] {
        seats
            .open(
                eve.id,
                epoch,
                &SessionHash::of(session),
                &ctx,
                &Policy::default(),
                &[],
            )
            .await
            .unwrap();
    }
    run(
        &db,
        UserCommand::SignOut {
            name: Some("eve".into()),
            all: false,
        },
        "",
    )
    .await
    .unwrap();
    let single_login::Verified { user: fox, epoch } = accounts
        .authenticate("fox", "correct horse battery".into())
        .await
        .unwrap();
    seats
        .open(
            fox.id,
            epoch,
            &SessionHash::of("f1"),
            &ctx,
            &Policy::default(),
            &[],
        )
        .await
        .unwrap();

    let lines = export(&db, "1h", None).await.unwrap();
    let told: Vec<(&str, Option<&str>)> = lines
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["reason"].as_str()))
        .collect();
    assert_eq!(
        told,
        [
            ("session_opened", None),
            ("session_opened", None),
            ("session_ended", Some("replaced")),
            ("session_ended", Some("operator")),
            ("session_opened", None)
        ]
    );
    assert_eq!(lines[0]["user"], eve.id.0);
    assert_eq!(lines[0]["network"], "203.0.113.0/24");
    assert_eq!(lines[0]["agent"], "Firefox on Linux");
    assert_eq!(lines[0]["device"], "computer");
    let text = serde_json::to_string(&lines).unwrap();
    assert!(
        !text.contains("203.0.113.9") && !text.contains(SessionHash::of("e1").as_str()),
        "{text}"
    );
    // One user's, and a window that holds nothing yet.
    let fox_only = export(&db, "2020-01-01", Some("fox")).await.unwrap();
    assert_eq!(fox_only.len(), 1);
    assert_eq!(fox_only[0]["user"], fox.id.0);
    assert!(export(&db, "2999-01-01T00:00:00Z", None)
        .await
        .unwrap()
        .is_empty());
    let bad = export(&db, "last tuesday", None).await.unwrap_err();
    assert!(bad.contains("expected a date"), "{bad}");
    let nobody = export(&db, "1h", Some("nobody")).await.unwrap_err();
    assert!(nobody.contains("no user named"), "{nobody}");
}

/// The console's role: granted and revoked on the command line only.
async fn operators_grant_and_revoke_the_console(db: TestDb) {
    run(
        &db,
        UserCommand::Add { name: "ada".into() },
        "correct horse battery\n",
    )
    .await
    .unwrap();
    let accounts = Accounts::new(db.db.clone());
    let ada = accounts
        .find_by_name(&Username::parse("ada").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!accounts.is_admin(ada.id).await.unwrap());
    let out = run(&db, UserCommand::GrantAdmin { name: "ADA".into() }, "")
        .await
        .unwrap();
    assert!(out.contains("ada may use the console at /admin"), "{out}");
    assert!(accounts.is_admin(ada.id).await.unwrap());
    let out = run(&db, UserCommand::RevokeAdmin { name: "ada".into() }, "")
        .await
        .unwrap();
    assert!(out.contains("no longer"), "{out}");
    assert!(!accounts.is_admin(ada.id).await.unwrap());
    let nobody = run(
        &db,
        UserCommand::GrantAdmin {
            name: "nobody".into(),
        },
        "",
    )
    .await
    .unwrap_err();
    assert!(nobody.contains("no user named"), "{nobody}");
}

async fn operators_manage_users_and_their_sessions(db: TestDb) {
    let out = run(
        &db,
        UserCommand::Add { name: "Zoe".into() },
        "correct horse battery\n",
    )
    .await
    .unwrap();
    assert!(out.contains("created user Zoe"), "{out}");
    let accounts = Accounts::new(db.db.clone());
    let single_login::Verified { user: zoe, epoch } = accounts
        .authenticate("zoe", "correct horse battery".into())
        .await
        .unwrap();

    let short = run(&db, UserCommand::Add { name: "Yan".into() }, "short\n")
        .await
        .unwrap_err();
    assert!(short.contains("shorter than 8"), "{short}");
    let taken = run(
        &db,
        UserCommand::Add { name: "ZOE".into() },
        "correct horse battery\n",
    )
    .await
    .unwrap_err();
    assert!(taken.contains("taken"), "{taken}");

    let out = run(
        &db,
        UserCommand::SetMaxSessions {
            name: "zoe".into(),
            limit: "2".into(),
        },
        "",
    )
    .await
    .unwrap();
    assert!(out.contains("may hold 2"), "{out}");
    let bad = run(
        &db,
        UserCommand::SetMaxSessions {
            name: "zoe".into(),
            limit: "0".into(),
        },
        "",
    )
    .await
    .unwrap_err();
    assert!(bad.contains("at least 1"), "{bad}");
    let unknown = run(
        &db,
        UserCommand::SetMaxSessions {
            name: "nobody".into(),
            limit: "2".into(),
        },
        "",
    )
    .await
    .unwrap_err();
    assert!(unknown.contains("no user named"), "{unknown}");

    let seats = Seats::new(db.db.clone());
    for (session, ip) in [("s1", "203.0.113.1"), ("s2", "203.0.113.2")] {
        let ctx = LoginContext::new(
            Some(ip.parse().unwrap()),
            Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/120.0"),
        );
        seats
            .open(
                zoe.id,
                epoch,
                &SessionHash::of(session),
                &ctx,
                &Policy::default(),
                &[],
            )
            .await
            .unwrap();
    }
    let out = run(&db, UserCommand::List, "").await.unwrap();
    let line = out.lines().find(|l| l.starts_with("Zoe")).unwrap();
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["Zoe", "2", "own", "2", "active"],
        "{out}"
    );

    let out = run(&db, UserCommand::Sessions { name: "zoe".into() }, "")
        .await
        .unwrap();
    assert!(
        out.contains("2 live session(s)") && out.contains("203.0.113.2") && out.contains("Firefox"),
        "{out}"
    );

    let out = run(
        &db,
        UserCommand::SignOut {
            name: Some("zoe".into()),
            all: false,
        },
        "",
    )
    .await
    .unwrap();
    assert!(out.contains("ended 2 session(s)"), "{out}");
    assert!(seats.live(zoe.id).await.unwrap().is_empty());
    let ended = seats
        .status(&SessionHash::of("s1"))
        .await
        .unwrap()
        .unwrap()
        .ended
        .unwrap();
    assert_eq!(ended.reason, EndReason::Revoked);

    let out = run(
        &db,
        UserCommand::SetMaxSessions {
            name: "zoe".into(),
            limit: "default".into(),
        },
        "",
    )
    .await
    .unwrap();
    assert!(out.contains("may hold 1 (default)"), "{out}");
    let listed = accounts.list().await.unwrap();
    assert_eq!(listed[0].limits, None);
    assert!(accounts
        .find_by_name(&Username::parse("zoe").unwrap())
        .await
        .unwrap()
        .is_some());
}

/// `sign-out --all` ends every live session of every user (ASVS 7.4.5); `disable` also
/// voids a login that checked the password before it.
async fn operators_can_sign_everyone_out_and_a_disable_beats_a_login_under_way(db: TestDb) {
    let accounts = Accounts::new(db.db.clone());
    let seats = Seats::new(db.db.clone());
    let ctx = LoginContext::new(Some("203.0.113.1".parse().unwrap()), None);
    let mut users = Vec::new();
    for name in ["ann", "ben", "cyd"] {
        run(
            &db,
            UserCommand::Add { name: name.into() },
            "correct horse battery\n",
        )
        .await
        .unwrap();
        let verified = accounts
            .authenticate(name, "correct horse battery".into())
            .await
            .unwrap();
        let two = Policy {
            max_sessions: 2,
            ..Policy::default()
        };
        for n in 0..2 {
            let hash = SessionHash::of(&format!("{name}-{n}"));
            seats
                .open(verified.user.id, verified.epoch, &hash, &ctx, &two, &[])
                .await
                .unwrap();
        }
        users.push(verified);
    }
    let out = run(
        &db,
        UserCommand::SignOut {
            name: None,
            all: true,
        },
        "",
    )
    .await
    .unwrap();
    assert!(out.contains("ended 6 session(s) of every user"), "{out}");
    for verified in &users {
        assert!(seats.live(verified.user.id).await.unwrap().is_empty());
    }

    // A login that checked ann's password, then the operator disables her: the login loses.
    let ann = &users[0];
    run(&db, UserCommand::Disable { name: "ann".into() }, "")
        .await
        .unwrap();
    let outcome = seats
        .open(
            ann.user.id,
            ann.epoch,
            &SessionHash::of("late"),
            &ctx,
            &Policy::default(),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(outcome, single_login::OpenOutcome::CredentialsChanged);
    assert!(seats.live(ann.user.id).await.unwrap().is_empty());
    // Enabled again, the old check is still void: she must log in again.
    run(&db, UserCommand::Enable { name: "ann".into() }, "")
        .await
        .unwrap();
    let outcome = seats
        .open(
            ann.user.id,
            ann.epoch,
            &SessionHash::of("later"),
            &ctx,
            &Policy::default(),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(outcome, single_login::OpenOutcome::CredentialsChanged);
    let fresh = accounts
        .authenticate("ann", "correct horse battery".into())
        .await
        .unwrap();
    assert_ne!(fresh.epoch, ann.epoch);
    let outcome = seats
        .open(
            ann.user.id,
            fresh.epoch,
            &SessionHash::of("fresh"),
            &ctx,
            &Policy::default(),
            &[],
        )
        .await
        .unwrap();
    assert!(
        matches!(outcome, single_login::OpenOutcome::Opened { .. }),
        "{outcome:?}"
    );
}

on_both_backends!(
    operators_grant_and_revoke_the_console,
    the_export_writes_the_scenarios_events_as_json_lines,
    operators_manage_groups_and_see_where_a_limit_comes_from,
    operators_manage_users_and_their_sessions,
    operators_can_sign_everyone_out_and_a_disable_beats_a_login_under_way,
);
