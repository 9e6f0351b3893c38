//! The session store for whichever backend `DATABASE_URL` chose, keyed by a hash of the
//! session id: the cookie's value is never at rest. A copy of the database (a backup, a
//! file another local user can read) then hands out no live session, as the seat registry
//! already stored only `SHA-256(id)`.
//!
//! The records live in their own table (`session_by_hash`; on PostgreSQL in the
//! `tower_sessions` schema). The table of earlier versions held raw ids: at the first start
//! after the change, [`crate::AppState::start`] ends every live session once and drops it.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use single_login::Db;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The table the records live in.
pub const TABLE: &str = "session_by_hash";

#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
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

impl AnyStore {
    pub fn for_db(db: &Db) -> Self {
        match db {
            Db::Sqlite(pool) => AnyStore::Sqlite(
                SqliteStore::new(pool.clone())
                    .with_table_name(TABLE)
                    .expect("a constant, valid table name"),
            ),
            Db::Postgres(pool) => AnyStore::Postgres(
                PostgresStore::new(pool.clone())
                    .with_table_name(TABLE)
                    .expect("a constant, valid table name"),
            ),
        }
    }

    pub async fn migrate(&self) -> Result<(), sqlx::Error> {
        match self {
            AnyStore::Sqlite(store) => store.migrate().await,
            AnyStore::Postgres(store) => store.migrate().await,
        }
    }

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
}

#[async_trait]
impl SessionStore for AnyStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh random id until its hash is free (128 random bits: in practice once).
        loop {
            if self.load(&record.id).await?.is_none() {
                break;
            }
            record.id = Id::default();
        }
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let record = stored(record);
        match self {
            AnyStore::Sqlite(store) => store.save(&record).await,
            AnyStore::Postgres(store) => store.save(&record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let key = stored_id(id);
        let record = match self {
            AnyStore::Sqlite(store) => store.load(&key).await?,
            AnyStore::Postgres(store) => store.load(&key).await?,
        };
        // The session goes on under the cookie's id, never the stored one.
        Ok(record.map(|mut record| {
            record.id = *id;
            record
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let key = stored_id(id);
        match self {
            AnyStore::Sqlite(store) => store.delete(&key).await,
            AnyStore::Postgres(store) => store.delete(&key).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for AnyStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            AnyStore::Sqlite(store) => store.delete_expired().await,
            AnyStore::Postgres(store) => store.delete_expired().await,
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
