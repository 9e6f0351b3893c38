//! The purge at scale: the keys that point at a deleted seat, and one user's history, are
//! read through indexes (not a scan of the table per deleted row), and old seats go in
//! batches. The time it takes with a million ended seats is in the registry bench.

use std::time::Duration;

use single_login::seats::PURGE_BATCH;
use single_login::{on_pool, Accounts, Db, EndReason, Millis, Password, Seats, Username};
use testkit::{on_both_backends, TestDb};

/// SQLite's plan for `sql`, as one line per step.
async fn sqlite_plan(db: &Db, sql: &str) -> String {
    let Db::Sqlite(pool) = db else {
        unreachable!("SQLite only")
    };
    let steps: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
        .fetch_all(pool)
        .await
        .unwrap();
    steps
        .into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_purges_key_updates_and_the_history_use_indexes() {
    let db = testkit::sqlite().await;
    for (sql, index) in [
        (
            "UPDATE single_login_seats SET replaced_by = NULL WHERE replaced_by = 1",
            "seats_replaced_by",
        ),
        (
            "UPDATE single_login_seats SET ended_by = NULL WHERE ended_by = 1",
            "seats_ended_by",
        ),
        (
            "SELECT id FROM single_login_seats WHERE user_id = 1 AND ended_at IS NOT NULL ORDER BY ended_at DESC, id DESC LIMIT 20",
            "seats_ended_by_user",
        ),
    ] {
        let plan = sqlite_plan(&db.db, sql).await;
        assert!(plan.contains(index), "{sql}\n{plan}");
        assert!(!plan.contains("SCAN seats"), "{sql}\n{plan}");
        // The history's order comes from the index: no sort of the user's whole history.
        assert!(!plan.contains("TEMP B-TREE"), "{sql}\n{plan}");
    }
}

/// More ended seats than one batch, chained by `replaced_by` and `ended_by`: all go, the
/// live ones and the recent ended ones stay.
async fn old_seats_are_purged_in_batches(db: TestDb) {
    let user = Accounts::new(db.db.clone())
        .sign_up(
            &Username::parse("pam").unwrap(),
            Password::parse("correct horse battery").unwrap(),
        )
        .await
        .unwrap();
    let old = PURGE_BATCH * 2 + 7;
    let sql = "INSERT INTO single_login_seats (user_id, session_hash, created_at, last_seen_at, ended_at, end_reason, replaced_by, ended_by) \
               VALUES ($1, $2, 0, 0, $3, $4, $5, $6)";
    on_pool!(&db.db, pool => {
        let mut tx = pool.begin().await.unwrap();
        for n in 1..=old {
            // Each points at the one before (ids start at 1 in a new table).
            sqlx::query(sql)
                .bind(user.id.0)
                .bind(format!("old{n}"))
                .bind(1_000i64)
                .bind(if n % 2 == 0 { "replaced" } else { "revoked" })
                .bind((n % 2 == 0 && n > 1).then_some(n - 1))
                .bind((n % 2 == 1 && n > 1).then_some(n - 1))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        sqlx::query(sql)
            .bind(user.id.0)
            .bind("recent")
            .bind(Millis::now().0)
            .bind("logged_out")
            .bind(Some(old))
            .bind(None::<i64>)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    });
    let seats = Seats::new(db.db.clone());
    let live = seats
        .open(
            user.id,
            single_login::CredentialEpoch::INITIAL,
            &single_login::SessionHash::of("live"),
            &single_login::LoginContext::new(None, None),
            &single_login::Policy {
                max_sessions: 5,
                ..single_login::Policy::default()
            },
            &[],
        )
        .await
        .unwrap();
    assert!(
        matches!(live, single_login::seats::OpenOutcome::Opened { .. }),
        "{live:?}"
    );
    let purged = seats
        .purge_ended(Millis::now().minus(Duration::from_secs(3600)))
        .await
        .unwrap();
    assert_eq!(purged, old as u64);
    let left = seats.history(user.id, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].ended.reason, EndReason::LoggedOut);
    assert_eq!(
        left[0].ended.replaced_by, None,
        "its key was cleared with the seat it named"
    );
    assert_eq!(seats.live(user.id).await.unwrap().len(), 1);
}

on_both_backends!(old_seats_are_purged_in_batches);
