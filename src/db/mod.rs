//! Persistence: one diesel code base over SQLite and PostgreSQL, chosen at run time by the
//! URL scheme. Every query runs on the blocking pool through [`Db::run`]; a connection is
//! never held across an `.await`.

pub mod accounts;
pub mod audit;
pub mod inquiries;
pub mod institutions;
pub mod mail;
pub mod outbox;
pub mod schema;
pub mod settings;
pub mod throttles;
pub mod triage;
pub mod webhooks;

use std::fmt;
use std::time::Duration;

use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::Error;

// SQL `lower`, for case-insensitive searches on both backends (`ilike` does not compile
// through `MultiConnection`). Here so that every query module may use it.
diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend the URL named.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which backend a URL selects, and how to reach it.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    /// A file path (or `:memory:`).
    Sqlite(String),
}

impl DatabaseUrl {
    /// `postgres://` and `postgresql://` select PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a
    /// bare path select SQLite.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("the database URL is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.contains("://") {
            return Err(format!(
                "unsupported database URL scheme in `{}` (use postgres:// or sqlite://)",
                redact(url)
            ));
        }
        if path.is_empty() {
            return Err("the SQLite path is empty".into());
        }
        Ok(DatabaseUrl::Sqlite(path.to_owned()))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            DatabaseUrl::Postgres(_) => "postgresql",
            DatabaseUrl::Sqlite(_) => "sqlite",
        }
    }
}

/// Shown in logs: the password of a PostgreSQL URL is never printed.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Postgres(u) => write!(f, "postgresql {}", redact(u)),
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite {p}"),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => url.to_owned(),
    }
}

/// Opens one connection, with the SQLite settings that make acknowledged writes durable.
pub fn establish(url: &DatabaseUrl) -> Result<DbConn, ConnectError> {
    establish_with(url, DEFAULT_BUSY_TIMEOUT_MS)
}

/// How long a SQLite writer waits for another one before giving up (503), by default.
pub const DEFAULT_BUSY_TIMEOUT_MS: u64 = 10_000;

fn establish_with(url: &DatabaseUrl, busy_timeout_ms: u64) -> Result<DbConn, ConnectError> {
    match url {
        DatabaseUrl::Postgres(u) => Ok(DbConn::Pg(PgConnection::establish(u)?)),
        DatabaseUrl::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(path)?;
            // busy_timeout first: WAL switching takes a lock that parallel opens contend for.
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {busy_timeout_ms};
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;"
            ))?;
            Ok(DbConn::Sqlite(conn))
        }
    }
}

/// Why a connection could not be opened, in one line.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{}", one_line(.0))]
    Connection(#[from] diesel::ConnectionError),
    #[error("{}", one_line(.0))]
    Query(#[from] diesel::result::Error),
}

fn one_line(e: &impl fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// r2d2 manager that picks the backend from the URL scheme, so a failure shows its real cause.
pub struct Manager {
    url: DatabaseUrl,
    busy_timeout_ms: u64,
}

/// A pooled connection and whether a request saw it lose the database. diesel marks a
/// connection broken only once libpq notices; the first error after the server terminated
/// a backend ("terminating connection due to administrator command") can arrive while libpq
/// still reports the connection as fine, so [`Db::run`] also flags it here.
pub struct PooledConn {
    conn: DbConn,
    lost: bool,
}

impl ManageConnection for Manager {
    type Connection = PooledConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<PooledConn, ConnectError> {
        Ok(PooledConn {
            conn: establish_with(&self.url, self.busy_timeout_ms)?,
            lost: false,
        })
    }

    fn is_valid(&self, conn: &mut PooledConn) -> Result<(), ConnectError> {
        conn.conn.batch_execute("SELECT 1")?;
        Ok(())
    }

    /// A connection is dropped, never handed out again, when diesel saw it die (libpq reported
    /// the socket gone, or a transaction could not be closed), or when the thread that used it
    /// panicked (it may still be inside a transaction).
    fn has_broken(&self, conn: &mut PooledConn) -> bool {
        conn.lost
            || std::thread::panicking()
            || diesel::r2d2::R2D2Connection::is_broken(&mut conn.conn)
    }
}

/// How the pool behaves; see README (configuration) and `bench/README.md` (the measurement
/// behind `check_on_checkout`).
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub timeout_ms: u64,
    /// Runs `SELECT 1` on every checkout (one more round trip per request) so that a connection
    /// killed while idle is never used; without it such a connection fails one request (503)
    /// and is dropped.
    pub check_on_checkout: bool,
    /// SQLite only: how long a writer waits for the write lock before the request is a 503.
    pub sqlite_busy_timeout_ms: u64,
}

impl PoolOptions {
    pub fn with_size(max_size: u32) -> Self {
        PoolOptions {
            max_size,
            timeout_ms: 2000,
            check_on_checkout: false,
            sqlite_busy_timeout_ms: DEFAULT_BUSY_TIMEOUT_MS,
        }
    }
}

/// Logs a failed connect once per failure as one warning line (no URL, so no password).
#[derive(Debug)]
struct ConnectErrorLog;

impl r2d2::HandleError<ConnectError> for ConnectErrorLog {
    fn handle_error(&self, error: ConnectError) {
        tracing::warn!(error = %error, "database connection failed");
    }
}

/// The shared handle: a pool and the backend it serves.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    url: DatabaseUrl,
}

impl Db {
    /// Builds the pool without waiting for connections; call [`Db::migrate`] to check reachability.
    pub fn new(url: DatabaseUrl, options: PoolOptions) -> Result<Self, String> {
        let pool = Pool::builder()
            .max_size(options.max_size.max(1))
            .min_idle(Some(0))
            // r2d2 retries a failed connect with a back-off capped at half this timeout, so it
            // also bounds how long after the database is back the first request succeeds.
            .connection_timeout(Duration::from_millis(options.timeout_ms.max(100)))
            .test_on_check_out(options.check_on_checkout)
            .error_handler(Box::new(ConnectErrorLog))
            .build_unchecked(Manager {
                url: url.clone(),
                busy_timeout_ms: options.sqlite_busy_timeout_ms,
            });
        Ok(Db { pool, url })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Open and idle connections now, for `GET /metrics`.
    pub fn pool_state(&self) -> crate::metrics::PoolState {
        let state = self.pool.state();
        crate::metrics::PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max_size: self.pool.max_size(),
        }
    }

    /// Runs `f` with a pooled connection on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut pooled = pool.get().map_err(Error::unavailable)?;
            let outcome = f(&mut pooled.conn);
            let broken = diesel::r2d2::R2D2Connection::is_broken(&mut pooled.conn);
            match outcome {
                // Whatever the error said, a connection that died under it means the database
                // went away: the client may retry (503), and the pool drops the connection.
                Err(Error::Internal(cause)) if broken => {
                    pooled.lost = true;
                    Err(Error::Unavailable(cause))
                }
                Err(Error::Unavailable(cause)) => {
                    pooled.lost = true;
                    Err(Error::Unavailable(cause))
                }
                other => other,
            }
        })
        .await
        .map_err(|e| Error::internal(format!("database task failed: {e}")))?
    }

    /// Like [`Db::run`], inside one write transaction.
    pub async fn transaction<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| transaction(conn, f)).await
    }

    /// Applies pending migrations (idempotent; safe when several instances start together).
    pub fn migrate(&self) -> Result<usize, String> {
        let mut conn = establish(&self.url).map_err(|e| e.to_string())?;
        migrate(&mut conn).map_err(|e| one_line(&e))
    }
}

/// Applies pending migrations on one connection; on PostgreSQL under an advisory lock so that
/// instances starting together do not race.
pub fn migrate(conn: &mut DbConn) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    match conn {
        DbConn::Pg(c) => {
            c.batch_execute("SELECT pg_advisory_lock(7242001)")?;
            let applied = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            c.batch_execute("SELECT pg_advisory_unlock(7242001)")?;
            applied
        }
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    }
}

/// One write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, so that two writers queue
/// on the busy timeout instead of failing when a read transaction upgrades to a write.
pub fn transaction<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, Error>,
) -> Result<T, Error> {
    match conn {
        DbConn::Pg(_) => conn.transaction(f),
        DbConn::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => match conn.batch_execute("COMMIT") {
                    Ok(()) => Ok(value),
                    Err(e) => {
                        let _ = conn.batch_execute("ROLLBACK");
                        Err(e.into())
                    }
                },
                Err(e) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    Err(e)
                }
            }
        }
    }
}

/// The current time as stored: UTC, truncated to microseconds (PostgreSQL's precision).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// Readiness probe: one round trip to the database.
pub fn ping(conn: &mut DbConn) -> Result<(), Error> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

/// Reverts every migration, then applies them again: checks that each `down.sql` undoes its
/// `up.sql` (used by the test suite on both backends).
pub fn migrations_round_trip(
    conn: &mut DbConn,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    match conn {
        DbConn::Pg(c) => {
            c.revert_all_migrations(POSTGRES_MIGRATIONS)?;
            Ok(c.run_pending_migrations(POSTGRES_MIGRATIONS)?.len())
        }
        DbConn::Sqlite(c) => {
            c.revert_all_migrations(SQLITE_MIGRATIONS)?;
            Ok(c.run_pending_migrations(SQLITE_MIGRATIONS)?.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_selects_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u:p@h/db"),
            Ok(DatabaseUrl::Postgres("postgres://u:p@h/db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/guichet.db"),
            Ok(DatabaseUrl::Sqlite("data/guichet.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("guichet.db"),
            Ok(DatabaseUrl::Sqlite("guichet.db".into()))
        );
        assert!(DatabaseUrl::parse("mysql://x/y").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        let url = DatabaseUrl::Postgres("postgres://guichet:s3cret@db:5432/guichet".into());
        let shown = url.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("guichet:***@db:5432/guichet"), "{shown}");
    }
}
