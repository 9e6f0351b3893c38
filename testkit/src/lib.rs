//! Test support for the workspace (a dev-dependency only): a fresh SQLite file, or a fresh
//! database on the PostgreSQL server named by `TEST_POSTGRES_URL` (the test command starts a
//! throwaway one), dropped with its test; and [`on_both_backends!`], which runs a test on
//! each.

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

/// A fresh SQLite file, connected but not migrated.
pub async fn sqlite_empty() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/test.db", dir.path().display());
    let db = Db::connect(&url).await.expect("connect to the test database");
    TestDb {
        db,
        url,
        _dir: Some(dir),
    }
}

/// A fresh PostgreSQL database, connected but not migrated.
pub async fn postgres_empty() -> TestDb {
    let url = postgres_database().await;
    let db = Db::connect(&url).await.expect("connect to the test database");
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

/// A PostgreSQL test database is dropped with its test, so that a run leaves no databases
/// behind on a server that outlives it (a developer's own `TEST_POSTGRES_URL`). `FORCE` ends
/// the connections the test's pools still hold.
impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((_, name)) = self.url.rsplit_once('/') else {
            return;
        };
        if !self.url.starts_with("postgres") || !name.starts_with("t_") {
            return;
        }
        let (Ok(server), name) = (std::env::var("TEST_POSTGRES_URL"), name.to_owned()) else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its
        // own with a runtime of its own does the work.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                let admin = sqlx::PgPool::connect(&server).await.ok()?;
                let result = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await;
                admin.close().await;
                result.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop the test database {}", self.url);
        }
    }
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
                    super::$name($crate::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::postgres().await).await
                }
            )*
        }
    };
}
