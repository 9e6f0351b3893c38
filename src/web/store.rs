//! A tower-sessions store in single-login's database, keyed by a hash of the session id: the
//! cookie's value is never at rest. A copy of the database (a backup, a file another local
//! user can read) then hands out no live session, as the seat registry already stores only
//! `SHA-256(id)`.
//!
//! The records live in `single_login_sessions` (on PostgreSQL in the `tower_sessions`
//! schema), through tower-sessions' own sqlx store.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
#[cfg(feature = "postgres")]
use tower_sessions_sqlx_store::PostgresStore;
#[cfg(feature = "sqlite")]
use tower_sessions_sqlx_store::SqliteStore;

use crate::Db;

/// The table the records live in.
pub const TABLE: &str = "single_login_sessions";
/// The table's name in versions before the library kept the store.
const OLD_TABLE: &str = "session_by_hash";

/// Session records for [`tower_sessions::SessionManagerLayer`], in `db`, stored under a hash
/// of their id. Run [`HashedStore::migrate`] once at start; delete expired records now and
/// then with [`ExpiredDeletion::delete_expired`].
///
/// tower-sessions clones the store for every request's session: one `Arc` here, so that a
/// clone copies neither the pools' handles nor the table's name.
#[derive(Debug, Clone)]
pub struct HashedStore(std::sync::Arc<Inner>);

/// tower-sessions' store for the backend, and its pool (which that store keeps to itself)
/// for the migration's own statements.
#[derive(Debug, Clone)]
enum Inner {
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteStore, sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(PostgresStore, sqlx::PgPool),
}

/// The id a record is stored under: the first 128 bits of `SHA-256` of the cookie's id.
pub fn stored_id(id: &Id) -> Id {
    let digest = Sha256::digest(id.to_string().as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(bytes))
}

fn stored(record: &Record) -> Record {
    let mut record = record.clone();
    record.id = stored_id(&record.id);
    record
}

impl HashedStore {
    /// The store in `db`.
    pub fn new(db: &Db) -> Self {
        HashedStore(std::sync::Arc::new(match db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => Inner::Sqlite(
                SqliteStore::new(pool.clone())
                    .with_table_name(TABLE)
                    .expect("a constant, valid table name"),
                pool.clone(),
            ),
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => Inner::Postgres(
                PostgresStore::new(pool.clone())
                    .with_table_name(TABLE)
                    .expect("a constant, valid table name"),
                pool.clone(),
            ),
        }))
    }

    /// Creates the table if missing (and takes over the records of an earlier version's
    /// `session_by_hash`).
    pub async fn migrate(&self) -> Result<(), sqlx::Error> {
        match &*self.0 {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(store, pool) => {
                let old: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1 \
                     AND NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $2)",
                )
                .bind(OLD_TABLE)
                .bind(TABLE)
                .fetch_one(pool)
                .await?;
                if old > 0 {
                    sqlx::query(&format!(r#"ALTER TABLE "{OLD_TABLE}" RENAME TO "{TABLE}""#))
                        .execute(pool)
                        .await?;
                }
                store.migrate().await
            }
            #[cfg(feature = "postgres")]
            Inner::Postgres(store, pool) => {
                sqlx::raw_sql(&format!(
                    r#"DO $$ BEGIN
                        IF to_regclass('tower_sessions.{OLD_TABLE}') IS NOT NULL
                           AND to_regclass('tower_sessions.{TABLE}') IS NULL THEN
                            ALTER TABLE tower_sessions.{OLD_TABLE} RENAME TO {TABLE};
                        END IF;
                    END $$"#
                ))
                .execute(pool)
                .await?;
                store.migrate().await
            }
        }
    }
}

#[async_trait]
impl SessionStore for HashedStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh random id until its hash is free (128 random bits: in practice once).
        while self.load(&record.id).await?.is_some() {
            record.id = Id::default();
        }
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let record = stored(record);
        match &*self.0 {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(store, _) => store.save(&record).await,
            #[cfg(feature = "postgres")]
            Inner::Postgres(store, _) => store.save(&record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let key = stored_id(id);
        let record = match &*self.0 {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(store, _) => store.load(&key).await?,
            #[cfg(feature = "postgres")]
            Inner::Postgres(store, _) => store.load(&key).await?,
        };
        // The session goes on under the cookie's id, never the stored one.
        Ok(record.map(|mut record| {
            record.id = *id;
            record
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let key = stored_id(id);
        match &*self.0 {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(store, _) => store.delete(&key).await,
            #[cfg(feature = "postgres")]
            Inner::Postgres(store, _) => store.delete(&key).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for HashedStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match &*self.0 {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(store, _) => store.delete_expired().await,
            #[cfg(feature = "postgres")]
            Inner::Postgres(store, _) => store.delete_expired().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_id_is_not_the_cookie_and_is_stable() {
        let id = Id::default();
        assert_ne!(stored_id(&id), id);
        assert_eq!(stored_id(&id), stored_id(&id));
        assert_ne!(stored_id(&id), stored_id(&Id::default()));
    }
}
