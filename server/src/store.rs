//! Session records from before ids were stored hashed: the table of raw ids that the host's
//! earlier versions kept (`tower_sessions`; on PostgreSQL `tower_sessions.session`). At the
//! first start after the change, [`crate::AppState::start`] ends every live session once and
//! drops it. Records are now kept by the library's `single_login::web::HashedStore`.

use single_login::Db;

/// Whether the table of raw ids that earlier versions kept is still there.
pub async fn has_raw_id_table(db: &Db) -> Result<bool, sqlx::Error> {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'tower_sessions'",
        )
        .fetch_one(pool)
        .await
        .map(|n| n > 0),
        Db::Postgres(pool) => {
            sqlx::query_scalar::<_, bool>("SELECT to_regclass('tower_sessions.session') IS NOT NULL")
                .fetch_one(pool)
                .await
        }
    }
}

/// Drops that table.
pub async fn drop_raw_id_table(db: &Db) -> Result<(), sqlx::Error> {
    match db {
        Db::Sqlite(pool) => sqlx::query("DROP TABLE IF EXISTS tower_sessions")
            .execute(pool)
            .await
            .map(drop),
        Db::Postgres(pool) => sqlx::query("DROP TABLE IF EXISTS tower_sessions.session")
            .execute(pool)
            .await
            .map(drop),
    }
}
