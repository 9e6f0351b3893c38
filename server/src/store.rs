//! The session store for whichever backend `DATABASE_URL` chose.

use async_trait::async_trait;
use single_login::Db;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl AnyStore {
    pub fn for_db(db: &Db) -> Self {
        match db {
            Db::Sqlite(pool) => AnyStore::Sqlite(SqliteStore::new(pool.clone())),
            Db::Postgres(pool) => AnyStore::Postgres(PostgresStore::new(pool.clone())),
        }
    }

    pub async fn migrate(&self) -> Result<(), sqlx::Error> {
        match self {
            AnyStore::Sqlite(store) => store.migrate().await,
            AnyStore::Postgres(store) => store.migrate().await,
        }
    }
}

#[async_trait]
impl SessionStore for AnyStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            AnyStore::Sqlite(store) => store.create(record).await,
            AnyStore::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            AnyStore::Sqlite(store) => store.save(record).await,
            AnyStore::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            AnyStore::Sqlite(store) => store.load(id).await,
            AnyStore::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            AnyStore::Sqlite(store) => store.delete(id).await,
            AnyStore::Postgres(store) => store.delete(id).await,
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
