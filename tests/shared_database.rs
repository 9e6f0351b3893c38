//! The library shares a database with the application: its tables are all `single_login_*`
//! and its migration history is its own, so an app with its own `users` table and its own
//! sqlx migrations (numbered from 1, like ours) starts in either order, on both databases;
//! and a database migrated by an earlier version (unprefixed tables, history in
//! `_sqlx_migrations`) is renamed in place with its data.

use single_login::{on_pool, Accounts, Db, EndReason, Seats, UserId};
use testkit::TestDb;

/// The application's own migrations: a `users` table of its own, as version 1.
async fn app_migrator() -> (sqlx::migrate::Migrator, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("0001_app_users.sql"),
        "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE);\n\
         CREATE TABLE seats (id BIGINT PRIMARY KEY, label TEXT NOT NULL);\n",
    )
    .unwrap();
    let migrator = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    (migrator, dir)
}

async fn run_app_migrations(db: &Db) {
    let (migrator, _dir) = app_migrator().await;
    on_pool!(db, pool => migrator.run(pool).await.unwrap());
}

async fn count(db: &Db, sql: &str) -> i64 {
    on_pool!(db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap())
}

/// A login through the library works, and the app's table is untouched.
async fn both_work(db: &Db) {
    on_pool!(db, pool => sqlx::query("INSERT INTO users (id, email) VALUES (7, 'a@example.com')")
        .execute(pool)
        .await
        .map(drop)
        .unwrap());
    let accounts = Accounts::new(db.clone());
    let (user, epoch) = accounts.adopt(UserId(7)).await.unwrap();
    let seats = Seats::new(db.clone());
    let hash = single_login::SessionHash::of("some session id");
    let context = single_login::LoginContext::new(None, None);
    seats
        .open(
            user.id,
            epoch,
            &hash,
            &context,
            &single_login::Policy::default(),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(seats.live(user.id).await.unwrap().len(), 1);
    assert_eq!(count(db, "SELECT count(*) FROM users").await, 1);
    assert_eq!(count(db, "SELECT count(*) FROM single_login_users").await, 1);
}

async fn app_first(test: TestDb) {
    run_app_migrations(&test.db).await;
    test.db.migrate().await.unwrap();
    // Either again: nothing to do, no complaint about the other's history.
    run_app_migrations(&test.db).await;
    test.db.migrate().await.unwrap();
    both_work(&test.db).await;
}

async fn library_first(test: TestDb) {
    test.db.migrate().await.unwrap();
    run_app_migrations(&test.db).await;
    test.db.migrate().await.unwrap();
    run_app_migrations(&test.db).await;
    both_work(&test.db).await;
    // The app's history holds only the app's migration.
    assert_eq!(count(&test.db, "SELECT count(*) FROM _sqlx_migrations").await, 1);
}

/// A database an earlier version migrated: the unprefixed tables with a user, a live seat
/// and an ended one, and the history in `_sqlx_migrations`.
async fn earlier_version(test: TestDb) {
    let db = &test.db;
    match db {
        Db::Sqlite(pool) => sqlx::migrate!("./migrations/legacy/sqlite")
            .run(pool)
            .await
            .unwrap(),
        Db::Postgres(pool) => sqlx::migrate!("./migrations/legacy/postgres")
            .run(pool)
            .await
            .unwrap(),
    }
    on_pool!(db, pool => {
        sqlx::raw_sql(
            "INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('alice', 'alice', 'x', 1); \
             INSERT INTO seats (user_id, session_hash, created_at, last_seen_at) VALUES (1, 'h1', 1, 1); \
             INSERT INTO seats (user_id, session_hash, created_at, last_seen_at, ended_at, end_reason) \
                 VALUES (1, 'h2', 1, 1, 2, 'logged_out'); \
             INSERT INTO seats (user_id, session_hash, created_at, last_seen_at, ended_at, end_reason) \
                 VALUES (1, 'h3', 1, 1, 2, 'expired'); \
             DELETE FROM seats WHERE session_hash = 'h3'; \
             UPDATE users SET max_sessions = 3; \
             INSERT INTO attempts (key, window_start, count, expires_at) VALUES ('k', 1, 3, 99999999999999); \
             INSERT INTO signing_keys (name, key) VALUES ('cookies', 'abc');",
        )
        .execute(pool)
        .await
        .map(drop)
        .unwrap()
    });
    db.migrate().await.unwrap();
    assert_eq!(count(db, "SELECT count(*) FROM single_login_users").await, 1);
    assert_eq!(count(db, "SELECT count(*) FROM single_login_seats").await, 2);
    assert_eq!(count(db, "SELECT count(*) FROM single_login_attempts").await, 1);
    assert_eq!(
        count(db, "SELECT count(*) FROM single_login_signing_keys").await,
        1
    );
    assert_eq!(count(db, "SELECT count(*) FROM _sqlx_migrations").await, 0);
    assert_eq!(count(db, "SELECT count(*) FROM single_login_migrations").await, 4);
    // The user's own limit of the old schema is their limit now.
    let summary = Accounts::new(db.clone()).list().await.unwrap();
    assert_eq!(summary[0].limits, Some(single_login::Limits::at_most(3)));
    // The registry works on the renamed tables: the live seat is there, and new rows get
    // ids after the old ones.
    let seats = Seats::new(db.clone());
    let live = seats.live(UserId(1)).await.unwrap();
    assert_eq!(live.len(), 1);
    let (user, epoch) = Accounts::new(db.clone()).adopt(UserId(1)).await.unwrap();
    let hash = single_login::SessionHash::of("new");
    let outcome = seats
        .open(
            user.id,
            epoch,
            &hash,
            &single_login::LoginContext::new(None, None),
            &single_login::Policy::default(),
            &[],
        )
        .await
        .unwrap();
    let single_login::OpenOutcome::Opened { seat, ended } = outcome else {
        panic!("the login opened no seat: {outcome:?}");
    };
    // After the purged one's too: a signed cookie naming seat 3 must not find another.
    assert!(seat.0 > 3, "a new seat id after the old ones, got {seat:?}");
    // The limit of 3 carried over: the old live seat stays.
    assert_eq!(ended.len(), 0);
    let outcome = seats
        .open(
            user.id,
            epoch,
            &single_login::SessionHash::of("newer"),
            &single_login::LoginContext::new(None, None),
            &single_login::Policy::default(),
            &[],
        )
        .await
        .unwrap();
    let single_login::OpenOutcome::Opened { ended, .. } = outcome else {
        panic!("the login opened no seat: {outcome:?}");
    };
    assert_eq!(ended.len(), 0);
    seats
        .set_user_limits(user.id, None, &single_login::Policy::default())
        .await
        .unwrap();
    let live = seats.live(user.id).await.unwrap();
    assert_eq!(live.len(), 1, "back to the default of one: the others ended");
    let history = seats.history(user.id, 10).await.unwrap();
    assert_eq!(history[0].ended.reason, EndReason::LimitLowered);
    // The names the old schema used are free for the application now.
    db.migrate().await.unwrap();
    run_app_migrations(db).await;
    both_work_after_upgrade(db).await;
}

async fn both_work_after_upgrade(db: &Db) {
    assert_eq!(count(db, "SELECT count(*) FROM users").await, 0);
    assert_eq!(count(db, "SELECT count(*) FROM _sqlx_migrations").await, 1);
}

mod sqlite {
    #[tokio::test]
    async fn an_app_that_migrates_first_shares_the_database() {
        super::app_first(testkit::sqlite_empty().await).await
    }
    #[tokio::test]
    async fn an_app_that_migrates_second_shares_the_database() {
        super::library_first(testkit::sqlite_empty().await).await
    }
    #[tokio::test]
    async fn a_database_of_an_earlier_version_is_renamed_in_place() {
        super::earlier_version(testkit::sqlite_empty().await).await
    }
}

mod postgres {
    #[tokio::test]
    async fn an_app_that_migrates_first_shares_the_database() {
        super::app_first(testkit::postgres_empty().await).await
    }
    #[tokio::test]
    async fn an_app_that_migrates_second_shares_the_database() {
        super::library_first(testkit::postgres_empty().await).await
    }
    #[tokio::test]
    async fn a_database_of_an_earlier_version_is_renamed_in_place() {
        super::earlier_version(testkit::postgres_empty().await).await
    }
}
