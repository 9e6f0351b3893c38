//! Test databases: a fresh SQLite file, or a fresh database on the PostgreSQL server named by
//! `TEST_POSTGRES_URL` (the test command starts a throwaway one).

#![allow(dead_code)]

use single_login::db::ConnectOptions;
use single_login::Db;

pub struct TestDb {
    pub db: Db,
    pub url: String,
    // Keeps the SQLite directory alive for the test's duration.
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/test.db", dir.path().display());
    let db = connect(&url).await;
    TestDb {
        db,
        url,
        _dir: Some(dir),
    }
}

pub async fn postgres() -> TestDb {
    let url = postgres_database().await;
    let db = connect(&url).await;
    TestDb { db, url, _dir: None }
}

async fn connect(url: &str) -> Db {
    let db = Db::connect_with(url, ConnectOptions { max_connections: 64 })
        .await
        .expect("connect to the test database");
    db.migrate().await.expect("migrate the test database");
    db
}

/// Creates an empty database on the test server and returns its URL.
pub async fn postgres_database() -> String {
    let server = std::env::var("TEST_POSTGRES_URL").expect(
        "TEST_POSTGRES_URL is not set: run the tests through scripts/test (it starts a throwaway PostgreSQL), \
         or point it at a server where you may create databases",
    );
    let name = format!("t_{}", random_suffix());
    let admin = sqlx::PgPool::connect(&server)
        .await
        .expect("connect to TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create a test database");
    admin.close().await;
    let (base, _) = server.rsplit_once('/').expect("a database URL with a path");
    format!("{base}/{name}")
}

fn random_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..12).map(|_| char::from(b'a' + rng.gen_range(0..26))).collect()
}

/// Runs each listed `async fn(TestDb)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::common::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::common::postgres().await).await
                }
            )*
        }
    };
}
