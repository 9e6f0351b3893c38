//! The library's own migration history: `single_login_migrations`, not sqlx's
//! `_sqlx_migrations`, so that an application sharing the database keeps its own sqlx
//! migrations (numbered from 1 like ours) and neither history mistakes the other's for a
//! modified migration.
//!
//! Databases made by earlier versions kept their history in `_sqlx_migrations`
//! (`migrations/legacy`), under unprefixed table names. The first run of this build finishes
//! that history, renames the tables into the library's own names, moves the history here and
//! takes its rows out of `_sqlx_migrations`, all in the one transaction that also applies the
//! new migrations: a crash leaves the database as it was.

use sqlx::migrate::Migrator;

use super::{Db, DbError};
use crate::clock::Millis;
use crate::encoding::hex;

/// Where the applied migrations are recorded.
pub const TABLE: &str = "single_login_migrations";

#[cfg(feature = "sqlite")]
static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
#[cfg(feature = "postgres")]
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");
#[cfg(feature = "sqlite")]
static LEGACY_SQLITE: Migrator = sqlx::migrate!("./migrations/legacy/sqlite");
#[cfg(feature = "postgres")]
static LEGACY_POSTGRES: Migrator = sqlx::migrate!("./migrations/legacy/postgres");
#[cfg(feature = "sqlite")]
const RENAME_SQLITE: &str = include_str!("../../migrations/legacy/sqlite_rename.sql");
#[cfg(feature = "postgres")]
const RENAME_POSTGRES: &str = include_str!("../../migrations/legacy/postgres_rename.sql");

/// Any key, as long as it is the same in every process: PostgreSQL's advisory lock that
/// keeps two processes starting at once from migrating at once.
#[cfg(feature = "postgres")]
const POSTGRES_LOCK: i64 = 0x5349_4e47_4c45_4c47;

/// The body of [`run`] for one backend's open, locked transaction `$tx`.
macro_rules! migrate {
    ($tx:ident, $legacy_table:expr, $current:expr, $legacy:expr, $rename:expr, $now:expr) => {{
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS single_login_migrations (
                version     BIGINT PRIMARY KEY,
                description TEXT   NOT NULL,
                checksum    TEXT   NOT NULL,
                applied_at  BIGINT NOT NULL
            )",
        )
        .execute(&mut *$tx)
        .await?;
        let mut applied: Vec<(i64, String)> =
            sqlx::query_as("SELECT version, checksum FROM single_login_migrations ORDER BY version")
                .fetch_all(&mut *$tx)
                .await?;
        if applied.is_empty() && $legacy_table {
            let old: Vec<(i64, Vec<u8>)> =
                sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
                    .fetch_all(&mut *$tx)
                    .await?;
            if legacy_schema(&old, $legacy)? {
                for migration in $legacy.iter() {
                    if !old.iter().any(|(version, _)| *version == migration.version) {
                        sqlx::raw_sql(&migration.sql).execute(&mut *$tx).await?;
                    }
                }
                sqlx::raw_sql($rename).execute(&mut *$tx).await?;
                for migration in $legacy.iter() {
                    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1 AND checksum = $2")
                        .bind(migration.version)
                        .bind(migration.checksum.to_vec())
                        .execute(&mut *$tx)
                        .await?;
                }
                // The renamed schema is the first migration of the new history.
                let first = $current.iter().next().expect("at least one migration");
                record_sql!($tx, first, $now);
                applied.push((first.version, hex(&first.checksum)));
                tracing::warn!(
                    "single-login's tables were renamed to single_login_* and its migration history moved to {}",
                    TABLE
                );
            }
        }
        check_applied(&applied, $current)?;
        for migration in $current.iter() {
            if !applied.iter().any(|(version, _)| *version == migration.version) {
                sqlx::raw_sql(&migration.sql).execute(&mut *$tx).await?;
                record_sql!($tx, migration, $now);
            }
        }
    }};
}

macro_rules! record_sql {
    ($tx:ident, $migration:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO single_login_migrations (version, description, checksum, applied_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind($migration.version)
        .bind($migration.description.to_string())
        .bind(hex(&$migration.checksum))
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}

/// Applies what `db` has not run yet; see the module's header.
pub async fn run(db: &Db) -> Result<(), DbError> {
    let now = Millis::now().0;
    match db {
        #[cfg(feature = "sqlite")]
        Db::Sqlite(pool) => {
            // IMMEDIATE: the write lock from the start, so that a second process waits here
            // instead of reading a history the first is about to change.
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let legacy = sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            )
            .fetch_one(&mut *tx)
            .await?
                > 0;
            migrate!(tx, legacy, &SQLITE, &LEGACY_SQLITE, RENAME_SQLITE, now);
            tx.commit().await?;
        }
        #[cfg(feature = "postgres")]
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(POSTGRES_LOCK)
                .execute(&mut *tx)
                .await?;
            let legacy = sqlx::query_scalar::<_, bool>("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(&mut *tx)
                .await?;
            migrate!(tx, legacy, &POSTGRES, &LEGACY_POSTGRES, RENAME_POSTGRES, now);
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Whether `_sqlx_migrations` holds single-login's own old history (its first migration,
/// unmodified): then the unprefixed tables are ours to rename. A history of some other
/// application's is left alone. One of ours that was modified is an error.
fn legacy_schema(old: &[(i64, Vec<u8>)], legacy: &Migrator) -> Result<bool, DbError> {
    let ours = |version: i64| legacy.iter().find(|m| m.version == version);
    let Some(first) = ours(1) else {
        return Ok(false);
    };
    if !old
        .iter()
        .any(|(v, sum)| *v == 1 && sum.as_slice() == &*first.checksum)
    {
        return Ok(false);
    }
    for (version, sum) in old {
        if let Some(migration) = ours(*version) {
            if sum.as_slice() != &*migration.checksum {
                return Err(DbError::MigrationModified { version: *version });
            }
        }
    }
    Ok(true)
}

/// Every applied migration is one this build has, unchanged.
fn check_applied(applied: &[(i64, String)], current: &Migrator) -> Result<(), DbError> {
    for (version, sum) in applied {
        match current.iter().find(|m| m.version == *version) {
            Some(migration) if hex(&migration.checksum) == *sum => {}
            Some(_) => return Err(DbError::MigrationModified { version: *version }),
            None => return Err(DbError::MigrationUnknown { version: *version }),
        }
    }
    Ok(())
}
