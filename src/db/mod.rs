//! The database: SQLite by default, PostgreSQL when several server processes share the work.
//!
//! Both backends run the same SQL text where they can (`$1` placeholders work in both, times
//! are integer milliseconds); [`on_pool!`](crate::on_pool!) expands one body for each
//! concrete pool type.

mod migrate;

use std::path::Path;
#[cfg(feature = "sqlite")]
use std::str::FromStr;
use std::time::Duration;

#[cfg(feature = "postgres")]
use sqlx::postgres::PgPool;
#[cfg(feature = "sqlite")]
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

/// A connection pool to the database. Cheap to clone: clones share the pool.
#[derive(Debug, Clone)]
pub enum Db {
    /// A SQLite database (a `sqlite:` URL). Feature `sqlite`.
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
    /// A PostgreSQL database (a `postgres://` URL), which several server processes can share.
    /// Feature `postgres`.
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
}

/// Which database a [`Db`] talks to, without its pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (`Db::Sqlite`).
    Sqlite,
    /// PostgreSQL (`Db::Postgres`).
    Postgres,
}

/// Why the database could not be connected to or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL starts with neither `sqlite:` nor `postgres://` (or `postgresql://`).
    #[error("unsupported database URL (expected sqlite: or postgres://)")]
    UnsupportedUrl,
    /// The URL names a database this build of single-login was compiled without.
    #[error("this build has no {0} support (enable single-login's feature `{0}`)")]
    BackendNotBuilt(&'static str),
    /// The directory that should hold the SQLite file did not exist and could not be created.
    #[error("could not create the directory for the SQLite file {path}")]
    CreateDir {
        /// The directory, as displayed.
        path: String,
        /// Why it could not be created.
        #[source]
        source: std::io::Error,
    },
    /// The URL is malformed, or no connection could be opened (within 30 seconds).
    #[error("could not connect to the database")]
    Connect(#[source] sqlx::Error),
    /// A migration the database has applied differs from this build's copy of it.
    #[error("migration {version} was applied with different contents than this build's")]
    MigrationModified {
        /// The migration's number.
        version: i64,
    },
    /// The database has applied a migration this build does not have: it was migrated by a
    /// newer version.
    #[error(
        "the database has migration {version}, which this build does not know (a newer version migrated it)"
    )]
    MigrationUnknown {
        /// The migration's number.
        version: i64,
    },
    /// A query failed (a `sqlx::Error` converted with `?`).
    #[error("database query failed")]
    Query(#[from] sqlx::Error),
}

/// Expands `$body` once per backend with `$pool` bound to the concrete pool (one arm per
/// backend this build has).
#[cfg(all(feature = "sqlite", feature = "postgres"))]
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Expands `$body` once per backend with `$pool` bound to the concrete pool (one arm per
/// backend this build has).
#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
        }
    };
}

/// Expands `$body` once per backend with `$pool` bound to the concrete pool (one arm per
/// backend this build has).
#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Settings for [`Db::connect_with`].
pub struct ConnectOptions {
    /// The most connections the pool holds at once (default 16).
    pub max_connections: u32,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions { max_connections: 16 }
    }
}

impl Db {
    /// Connects to `url` (`sqlite:…` or `postgres://…`) with the default [`ConnectOptions`].
    /// A missing SQLite file, and its directory, are created; SQLite runs in WAL mode with
    /// foreign keys on. Does not migrate: see [`Db::migrate`].
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        Db::connect_with(url, ConnectOptions::default()).await
    }

    /// Connects to `url` like [`Db::connect`], with `options`.
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Db, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            connect_postgres(url, options).await
        } else if url.starts_with("sqlite:") {
            connect_sqlite(url, options).await
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations this build embeds for the backend (`migrations/sqlite` or
    /// `migrations/postgres`) that the database has not run yet. The library's tables are
    /// all named `single_login_*`, and its history is its own (`single_login_migrations`):
    /// the database can be the application's own, with its own tables and sqlx migrations.
    pub async fn migrate(&self) -> Result<(), DbError> {
        migrate::run(self).await
    }

    /// Closes the pool; returns once every connection has closed (those in use close when
    /// they are given back).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// The pool for either backend: a connection waits at most 30 seconds for its turn.
fn pool_options<DB: sqlx::Database>(options: &ConnectOptions) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(Duration::from_secs(30))
}

#[cfg(feature = "postgres")]
async fn connect_postgres(url: &str, options: ConnectOptions) -> Result<Db, DbError> {
    let pool = pool_options(&options).connect(url).await;
    Ok(Db::Postgres(pool.map_err(DbError::Connect)?))
}

#[cfg(not(feature = "postgres"))]
async fn connect_postgres(_: &str, _: ConnectOptions) -> Result<Db, DbError> {
    Err(DbError::BackendNotBuilt("postgres"))
}

#[cfg(feature = "sqlite")]
async fn connect_sqlite(url: &str, options: ConnectOptions) -> Result<Db, DbError> {
    let connect = SqliteConnectOptions::from_str(url)
        .map_err(DbError::Connect)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // Writers queue on the file lock; a login waits rather than fails.
        .busy_timeout(Duration::from_secs(30));
    let file = Path::new(connect.get_filename());
    if let Some(dir) = file.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            create_private_dir(dir).map_err(|source| DbError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
    }
    create_private_file(file).map_err(|source| DbError::CreateDir {
        path: file.display().to_string(),
        source,
    })?;
    let pool = pool_options(&options).connect_with(connect).await;
    Ok(Db::Sqlite(pool.map_err(DbError::Connect)?))
}

#[cfg(not(feature = "sqlite"))]
async fn connect_sqlite(_: &str, _: ConnectOptions) -> Result<Db, DbError> {
    Err(DbError::BackendNotBuilt("sqlite"))
}

/// The database holds password hashes and session records: a directory we create is the
/// owner's alone (0700), whatever the umask.
#[cfg(feature = "sqlite")]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the SQLite file, if missing, readable by its owner only (0600); SQLite gives its
/// `-wal` and `-shm` files the same mode. An in-memory database has no file. A file that is
/// already there keeps its mode (an operator may have chosen it), with a warning when others
/// can read it.
#[cfg(feature = "sqlite")]
fn create_private_file(file: &Path) -> std::io::Result<()> {
    let name = file.as_os_str();
    if name.is_empty() || name == ":memory:" {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            warn_if_readable_by_others(file, "the SQLite database");
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// Logs a warning when `file` can be read by its group or by others: it holds secrets.
pub fn warn_if_readable_by_others(file: &Path, what: &str) {
    #[cfg(unix)]
    if let Ok(metadata) = std::fs::metadata(file) {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o044 != 0 {
            tracing::warn!(
                path = %file.display(),
                mode = format!("{mode:o}"),
                "{what} can be read by other users; chmod 600 it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (file, what);
}

#[cfg(all(test, unix, feature = "sqlite"))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn a_new_sqlite_database_is_its_owners_alone() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let file = data.join("single-login.db");
        let db = Db::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&file), 0o600);
        let wal = data.join("single-login.db-wal");
        if wal.exists() {
            assert_eq!(mode(&wal), 0o600);
        }
        db.close().await;
    }
}
