//! Storage: one diesel codebase over SQLite (default, a file) and PostgreSQL (several replicas).
//!
//! Queries never run on the async runtime: `Db::read` and `Db::write` move the work to tokio's
//! blocking pool. SQLite allows one writer at a time, so writes there are serialised in-process
//! before they reach SQLite; PostgreSQL writes run concurrently and rely on its locking.

pub mod backup;
pub mod ids;
mod request_tx;
pub mod schema;
pub(crate) mod text_enum;
pub mod types;

pub use request_tx::RequestTx;

pub use ids::{CohortId, SessionId, UserId};
pub(crate) use text_enum::stored_as_text;
pub use types::TimeZone;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{ApiError, ApiResult};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// PostgreSQL is declared first: the derive tries variants in order, and SQLite would accept
/// almost any string as a file name.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs one statement on the concrete connection inside an `AnyConnection`, for SQL that both
/// backends speak but diesel's MultiConnection cannot express: upserts (`ON CONFLICT … DO
/// NOTHING` / `DO UPDATE`), which "set my X" writes need so that two at once never collide.
/// The body is compiled once per backend: `per_backend!(conn, |c| insert.execute(c))`.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Postgresql($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where `DATABASE_URL` points, normalised for diesel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    pub backend: Backend,
    pub url: String,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Self {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Self { backend: Backend::Postgres, url: raw.to_string() };
        }
        let path = raw.strip_prefix("sqlite://").unwrap_or(raw);
        Self { backend: Backend::Sqlite, url: path.to_string() }
    }
}

type Manager = ConnectionManager<AnyConnection>;

#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    target: DatabaseUrl,
    backend: Backend,
    sqlite_writer: Arc<Mutex<()>>,
}

#[derive(Debug)]
struct SqlitePragmas;

impl SqlitePragmas {
    /// The settings that belong to each connection (WAL belongs to the file: `open_first`).
    fn apply(c: &mut diesel::SqliteConnection) -> QueryResult<()> {
        // busy_timeout first: it makes every later lock wait instead of failing at once.
        c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
    }
}

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(c) = conn {
            Self::apply(c).map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// The key of the PostgreSQL advisory lock held while migrations run ("RoundTbl"): every replica
/// uses the same, so of several starting at once one migrates and the others wait, then find
/// nothing pending.
const MIGRATION_LOCK: i64 = 0x526f_756e_6454_626c;

/// The first connection, before any pool: with the concrete backend (the multi-connection derive
/// would only say "invalid connection url" and a pool would retry for its whole timeout), and on
/// SQLite the one that switches the file to WAL, so that pool connections opening at the same
/// moment never race to switch it (the loser logged "database is locked").
fn open_first(target: &DatabaseUrl) -> anyhow::Result<AnyConnection> {
    match target.backend {
        Backend::Postgres => diesel::PgConnection::establish(&target.url)
            .map(AnyConnection::Postgresql)
            .with_context(|| format!("connecting to PostgreSQL at {}", redact(&target.url))),
        Backend::Sqlite => {
            if let Some(dir) = std::path::Path::new(&target.url).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).with_context(|| format!("creating database folder {}", dir.display()))?;
            }
            let mut c = diesel::SqliteConnection::establish(&target.url)
                .with_context(|| format!("opening SQLite database {}", target.url))?;
            SqlitePragmas::apply(&mut c).context("setting up SQLite")?;
            switch_to_wal(&mut c)?;
            Ok(AnyConnection::Sqlite(c))
        }
    }
}

/// Switches the SQLite file to WAL (a property of the file, kept across connections). Replicas
/// opening a new file at the same moment race for the lock this needs, and SQLite answers the
/// losers "database is locked" at once (waiting could deadlock): they try again shortly, when the
/// file is in WAL already and the switch is a no-op.
fn switch_to_wal(c: &mut diesel::SqliteConnection) -> anyhow::Result<()> {
    let mut tries = 0;
    loop {
        match c.batch_execute("PRAGMA journal_mode = WAL;") {
            Ok(()) => return Ok(()),
            Err(err) if tries < 50 && err.to_string().contains("locked") => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20 * tries.min(5)));
            }
            Err(err) => return Err(err).context("switching SQLite to WAL"),
        }
    }
}

/// Applies pending migrations to the database at `raw_url` (what `roundtable migrate` runs; the
/// server runs the same at start); returns the versions applied.
pub fn migrate(raw_url: &str) -> anyhow::Result<Vec<String>> {
    run_migrations(&mut open_first(&DatabaseUrl::parse(raw_url))?)
}

/// How long a request waits for a database connection before it answers 503: short, so that
/// while the database is down callers learn it within about a second rather than the pool's
/// 10 s (start-up and `/readyz` keep their own, longer waits).
pub const REQUEST_ACQUIRE: Duration = Duration::from_secs(1);

/// How many times a write that crossed another transaction is run again.
pub const CROSSED_RETRIES: u32 = 3;

impl Db {
    /// Applies pending migrations, then opens the pool.
    pub fn connect(raw_url: &str, pool_size: u32) -> anyhow::Result<Self> {
        let target = DatabaseUrl::parse(raw_url);
        let mut first = open_first(&target)?;
        for version in run_migrations(&mut first)? {
            tracing::info!(%version, "applied migration");
        }
        drop(first);
        let pool = Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(ConnectionManager::<AnyConnection>::new(&target.url))
            .context("building the connection pool")?;
        Ok(Self { pool, backend: target.backend, target, sqlite_writer: Arc::new(Mutex::new(())) })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` on a pooled connection on the blocking pool (reads, or one-statement writes
    /// that need no transaction).
    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
    {
        let f = match request_tx::run_in_current(f).await {
            Ok(answer) => return answer,
            Err(f) => f,
        };
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get_timeout(REQUEST_ACQUIRE)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
    }

    /// Runs `f` inside one transaction on the blocking pool: all of it is written, or none.
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
    {
        // Inside a request that holds its transaction, the write is one savepoint of it.
        let f = match request_tx::run_in_current(f).await {
            Ok(answer) => return answer,
            Err(f) => f,
        };
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write_blocking(f)).await.map_err(|e| ApiError::Internal(e.into()))?
    }

    /// The same as `write`, for code that already runs on a blocking thread.
    ///
    /// A transaction PostgreSQL gave up because it crossed another (a serialization failure or
    /// a deadlock: nothing of it was written) is run again, up to `CROSSED_RETRIES` times with a
    /// short pause; only then does the caller get 503 `database_busy`. That is why `f` may run
    /// more than once, and must do all its work through `conn`.
    pub fn write_blocking<T, F>(&self, mut f: F) -> ApiResult<T>
    where
        F: FnMut(&mut AnyConnection) -> ApiResult<T>,
    {
        // The one-writer lock before the connection: a writer waiting its turn holds no
        // connection, so readers (and the writer that holds the lock) are never starved of one.
        let _one_writer = match self.backend {
            Backend::Sqlite => Some(self.sqlite_writer.lock().unwrap_or_else(|p| p.into_inner())),
            Backend::Postgres => None,
        };
        let mut conn = self.pool.get_timeout(REQUEST_ACQUIRE)?;
        let mut attempt = 0;
        loop {
            match conn.transaction(|c| {
                if let AnyConnection::Sqlite(lite) = &mut **c {
                    // Take the write lock first (waiting up to busy_timeout for another process
                    // that holds it), as BEGIN IMMEDIATE would: a transaction that read first and
                    // then had to upgrade its lock could not wait and would fail at once.
                    lite.batch_execute("UPDATE job_leases SET name = name WHERE 0")?;
                }
                let done = f(c)?;
                crate::events::before_commit(c)?;
                ApiResult::Ok(done)
            }) {
                Err(err) if err.code() == "database_busy" && attempt < CROSSED_RETRIES => {
                    attempt += 1;
                    tracing::info!(attempt, "transaction crossed another; running it again");
                    std::thread::sleep(Duration::from_millis(10 * u64::from(attempt)));
                }
                other => return other,
            }
        }
    }

    /// Whether the database answers and is fully migrated; the reason when it is not.
    ///
    /// SQLite is checked through a new connection: pooled ones keep reading their cached pages
    /// even after the file is gone or replaced, and would report a broken database as healthy.
    pub fn readiness(&self) -> Result<(), &'static str> {
        let unreachable = "The database cannot be reached.";
        let mut fresh;
        let mut pooled;
        let conn: &mut AnyConnection = match self.backend {
            Backend::Sqlite => {
                if !std::path::Path::new(&self.target.url).is_file() {
                    return Err(unreachable);
                }
                fresh = diesel::SqliteConnection::establish(&self.target.url)
                    .map(AnyConnection::Sqlite)
                    .map_err(|_| unreachable)?;
                &mut fresh
            }
            Backend::Postgres => {
                pooled = self.pool.get_timeout(Duration::from_secs(2)).map_err(|_| unreachable)?;
                &mut pooled
            }
        };
        diesel::sql_query("SELECT 1").execute(conn).map_err(|_| "The database does not answer queries.")?;
        match migrations_applied(conn) {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err("Database migrations are not applied."),
        }
    }
}

/// Applies pending migrations, one run at a time across processes: on PostgreSQL under a
/// session-level advisory lock (`MIGRATION_LOCK`) on this connection, on SQLite inside one
/// `BEGIN IMMEDIATE` transaction (the file's write lock). A second replica starting at the same
/// moment waits, then finds nothing pending.
pub fn run_migrations(conn: &mut AnyConnection) -> anyhow::Result<Vec<String>> {
    let versions = |applied: Vec<diesel::migration::MigrationVersion<'_>>| -> Vec<String> {
        applied.iter().map(|v| v.to_string()).collect()
    };
    match conn {
        AnyConnection::Postgresql(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .execute(c)
                .context("waiting for the migration lock")?;
            let applied = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(versions);
            let unlocked = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(c);
            let applied = applied.map_err(|e| anyhow::anyhow!("applying migrations: {e}"))?;
            unlocked.context("releasing the migration lock")?;
            Ok(applied)
        }
        AnyConnection::Sqlite(c) => c
            .immediate_transaction(|c| c.run_pending_migrations(SQLITE_MIGRATIONS).map(versions))
            .map_err(|e| anyhow::anyhow!("applying migrations: {e}")),
    }
}

/// True when every embedded migration is recorded as applied.
pub fn migrations_applied(conn: &mut AnyConnection) -> anyhow::Result<bool> {
    let pending = match conn {
        AnyConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("reading migrations: {e}"))?;
    Ok(!pending)
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

/// A new time-ordered id, as stored.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_pick_their_backend() {
        assert_eq!(DatabaseUrl::parse("sqlite://./data/x.db").url, "./data/x.db");
        assert_eq!(DatabaseUrl::parse("/tmp/x.db").backend, Backend::Sqlite);
        assert_eq!(DatabaseUrl::parse("postgres://u@h/db").backend, Backend::Postgres);
        assert_eq!(DatabaseUrl::parse("postgresql://u@h/db").backend, Backend::Postgres);
    }

    #[test]
    fn a_write_that_crossed_another_runs_again_and_then_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(dir.path().join("t.db").to_str().unwrap(), 2).unwrap();
        let mut runs = 0;
        let answer = db.write_blocking(|_| {
            runs += 1;
            if runs < 3 { Err(ApiError::busy()) } else { Ok(runs) }
        });
        assert_eq!(answer.unwrap(), 3, "run again until it went through");
        let mut runs = 0;
        let answer: ApiResult<()> = db.write_blocking(|_| {
            runs += 1;
            Err(ApiError::busy())
        });
        assert_eq!(answer.unwrap_err().code(), "database_busy");
        assert_eq!(runs, 1 + CROSSED_RETRIES, "then the caller hears 503");
        let mut runs = 0;
        let answer: ApiResult<()> = db.write_blocking(|_| {
            runs += 1;
            Err(ApiError::NotFound)
        });
        assert!(answer.is_err());
        assert_eq!(runs, 1, "other errors are answered at once");
    }

    /// Runs `open` on 16 threads at the same moment against a brand-new SQLite file, 20 times
    /// over, and asserts that every one succeeded. `open(path, ready)` must call `ready()` just
    /// before the step that races.
    fn at_once_on_a_new_file(open: fn(&str, &dyn Fn()) -> Result<(), String>) {
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("new.db").to_str().unwrap().to_string();
            let start = Arc::new(std::sync::Barrier::new(16));
            let opened: Vec<_> = (0..16)
                .map(|_| {
                    let (path, start) = (path.clone(), start.clone());
                    std::thread::spawn(move || {
                        open(&path, &|| {
                            start.wait();
                        })
                    })
                })
                .collect();
            for handle in opened {
                assert_eq!(handle.join().unwrap(), Ok(()), "round {round}");
            }
        }
    }

    /// Pool connections opening at the same moment on a brand-new file: none fails. (Switching
    /// the file to WAL in each of them raced, and the losers failed with "database is locked".)
    #[test]
    fn pool_connections_opening_at_once_on_a_new_file_all_succeed() {
        at_once_on_a_new_file(|path, ready| {
            let mut conn = AnyConnection::Sqlite(diesel::SqliteConnection::establish(path).unwrap());
            ready();
            SqlitePragmas.on_acquire(&mut conn).map(|_| ()).map_err(|e| e.to_string())
        });
    }

    /// Replicas starting at the same moment on a brand-new file: each switches the file to WAL
    /// on its first connection; none fails.
    #[test]
    fn first_connections_switching_a_new_file_to_wal_at_once_all_succeed() {
        at_once_on_a_new_file(|path, ready| {
            let mut c = diesel::SqliteConnection::establish(path).unwrap();
            SqlitePragmas::apply(&mut c).unwrap();
            ready();
            switch_to_wal(&mut c).map_err(|e| format!("{e:#}"))
        });
    }

    #[test]
    fn a_new_sqlite_file_is_switched_to_wal_before_the_pool_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let db = Db::connect(path.to_str().unwrap(), 8).unwrap();
        #[derive(QueryableByName)]
        struct Mode {
            #[diesel(sql_type = diesel::sql_types::Text)]
            journal_mode: String,
        }
        let mode: Vec<Mode> =
            db.write_blocking(|conn| Ok(diesel::sql_query("PRAGMA journal_mode").load(conn)?)).unwrap();
        assert_eq!(mode[0].journal_mode, "wal");
    }

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(redact("postgres://bob:secret@db:5432/rt"), "postgres://bob:***@db:5432/rt");
        assert_eq!(redact("postgres://db/rt"), "postgres://db/rt");
    }
}
