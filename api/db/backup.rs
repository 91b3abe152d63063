//! `roundtable backup PATH` and `roundtable restore PATH`: a copy of the whole database, and that
//! copy put back in place of a database.
//!
//! The rules:
//! - **A backup is consistent and taken online.** SQLite: `VACUUM INTO` a temporary file beside
//!   PATH (one read transaction, so one moment of the database, while a running server keeps
//!   writing), checked (`PRAGMA integrity_check`, the migrations table), flushed to disk and only
//!   then renamed to PATH. PostgreSQL: `pg_dump --format=custom` (one snapshot) into a temporary
//!   file beside PATH, then renamed. A half-written backup never carries the name PATH.
//! - **A backup never overwrites a file** unless `--force` is given, and never the database itself.
//! - **A restore replaces an empty database** (or a missing SQLite file); one that holds tables
//!   needs `--force`. SQLite: the backup is copied to a temporary file beside the database,
//!   checked there (integrity, is a Roundtable database), the old `-wal`/`-shm` files are removed
//!   and the copy renamed over the database. PostgreSQL: the archive's table of contents must list
//!   `__diesel_schema_migrations`; then `pg_restore --clean --if-exists --no-owner
//!   --single-transaction` (all of it or nothing); with `--force` the `public` schema is emptied
//!   first.
//! - **A restore refuses a database in use**: SQLite, when another process has the file open (an
//!   exclusive lock cannot be had: a server keeps its connections open even when idle);
//!   PostgreSQL, when other sessions are connected to the database. Stop the server first.
//! - **A restored database is brought up to date**: the migrations run right after, so a backup
//!   taken by an older version comes up with the current schema (the same run as at start).
//! - The PostgreSQL tools are found on `PATH`; a password in the URL is handed to them in
//!   `PGPASSWORD`, not on their command line (which other users of the machine can read).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::{Backend, DatabaseUrl, redact};

/// What `roundtable backup` wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub path: PathBuf,
    pub backend: Backend,
    pub bytes: u64,
    /// The newest migration recorded in the database that was copied.
    pub latest_migration: Option<String>,
}

impl fmt::Display for BackupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, migration) = (backend_name(self.backend), self.latest_migration.as_deref().unwrap_or("none"));
        write!(
            f,
            "backup written: {} ({} bytes, {kind}, latest migration {migration})",
            self.path.display(),
            self.bytes
        )
    }
}

/// What `roundtable restore` did.
#[derive(Debug)]
pub struct RestoreReport {
    pub backend: Backend,
    /// The newest migration recorded in the backup.
    pub backup_migration: Option<String>,
    /// Migrations applied after the restore (a backup from an older version).
    pub applied: Vec<String>,
}

impl fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let migration = self.backup_migration.as_deref().unwrap_or("none");
        write!(f, "restored a {} backup (latest migration {migration}); ", backend_name(self.backend))?;
        match self.applied.as_slice() {
            [] => write!(f, "it was up to date"),
            [.., last] => write!(f, "applied {} newer migration(s), up to {last}", self.applied.len()),
        }
    }
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}

/// Writes a consistent copy of the database at `raw_url` to `path` (see the module's rules).
pub fn backup(raw_url: &str, path: &Path, force: bool) -> anyhow::Result<BackupReport> {
    let target = DatabaseUrl::parse(raw_url);
    if path.exists() {
        ensure!(!path.is_dir(), "{} is a folder; name the backup file to write", path.display());
        ensure!(force, "{} already exists; pass --force to replace it", path.display());
    }
    match target.backend {
        Backend::Sqlite => sqlite_backup(Path::new(&target.url), path),
        Backend::Postgres => pg_backup(&target.url, path),
    }
}

/// Puts the backup at `path` in place of the database at `raw_url`, then migrates it (see the
/// module's rules).
pub fn restore(raw_url: &str, path: &Path, force: bool) -> anyhow::Result<RestoreReport> {
    let target = DatabaseUrl::parse(raw_url);
    ensure!(path.is_file(), "no backup file at {}", path.display());
    let backup_migration = match target.backend {
        Backend::Sqlite => sqlite_restore(Path::new(&target.url), path, force)?,
        Backend::Postgres => pg_restore(&target.url, path, force)?,
    };
    let applied = super::migrate(raw_url).context("migrating the restored database")?;
    Ok(RestoreReport { backend: target.backend, backup_migration, applied })
}

// --- SQLite ---------------------------------------------------------------------------------

fn sqlite_backup(database: &Path, path: &Path) -> anyhow::Result<BackupReport> {
    ensure!(database.is_file(), "no SQLite database at {}", database.display());
    ensure!(!same_file(database, path), "the backup cannot be written over the database itself");
    let temp = TempFile::beside(path)?;
    let mut source = open_sqlite(database)?;
    // Waits for a writer's lock rather than failing; the copy itself only reads.
    source.batch_execute("PRAGMA busy_timeout = 10000;")?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(path_str(&temp.path)?)
        .execute(&mut source)
        .with_context(|| format!("copying {} (VACUUM INTO)", database.display()))?;
    drop(source);
    let latest_migration = check_sqlite_copy(&temp.path).context("checking the copy")?;
    let bytes = temp.persist(path)?;
    Ok(BackupReport { path: path.to_path_buf(), backend: Backend::Sqlite, bytes, latest_migration })
}

/// Returns the newest migration recorded in the backup.
fn sqlite_restore(database: &Path, backup: &Path, force: bool) -> anyhow::Result<Option<String>> {
    ensure!(!same_file(database, backup), "the backup is the database itself");
    if database.exists() {
        ensure!(database.is_file(), "{} is not a file", database.display());
        let tables = sqlite_tables_if_unused(database)?;
        ensure!(
            tables == 0 || force,
            "{} already holds a database ({tables} tables); pass --force to replace it",
            database.display()
        );
    } else if let Some(dir) = database.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating database folder {}", dir.display()))?;
    }
    let temp = TempFile::beside(database)?;
    std::fs::copy(backup, &temp.path).with_context(|| format!("copying {}", backup.display()))?;
    let latest = check_sqlite_copy(&temp.path)
        .with_context(|| format!("{} is not a usable Roundtable backup", backup.display()))?;
    // The old database's journal belongs to the old file: left beside the new one, SQLite would
    // try to apply it.
    for suffix in ["-wal", "-shm"] {
        remove_if_present(&with_suffix(database, suffix))?;
    }
    temp.persist(database)?;
    Ok(latest)
}

/// The number of tables in the SQLite file, or an error when another process has it open: a
/// connection in exclusive locking mode cannot start an exclusive transaction while any other
/// connection is open on the file (in WAL mode, every open connection holds a shared lock).
fn sqlite_tables_if_unused(database: &Path) -> anyhow::Result<i64> {
    let mut c = open_sqlite(database)?;
    c.batch_execute("PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE;")?;
    if let Err(err) = c.batch_execute("BEGIN EXCLUSIVE;") {
        if err.to_string().contains("locked") || err.to_string().contains("busy") {
            bail!(
                "{} is open in another process (a running roundtable server?); stop it before restoring",
                database.display()
            );
        }
        return Err(err).with_context(|| format!("opening {}", database.display()));
    }
    let tables = diesel::sql_query("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'")
        .get_result::<Count>(&mut c)
        .with_context(|| format!("reading {}", database.display()))?
        .n;
    c.batch_execute("ROLLBACK;")?;
    Ok(tables)
}

/// Checks that the file at `path` is a whole SQLite database with Roundtable's migrations table;
/// returns the newest migration recorded in it.
fn check_sqlite_copy(path: &Path) -> anyhow::Result<Option<String>> {
    let mut c = open_sqlite(path)?;
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = Text)]
        integrity_check: String,
    }
    let checks: Vec<Check> =
        diesel::sql_query("PRAGMA integrity_check").load(&mut c).context("reading it as a SQLite database")?;
    let problems: Vec<_> = checks.into_iter().map(|c| c.integrity_check).filter(|c| c != "ok").collect();
    ensure!(problems.is_empty(), "integrity check failed: {}", problems.join("; "));
    let has_migrations = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '__diesel_schema_migrations'",
    )
    .get_result::<Count>(&mut c)?
    .n;
    ensure!(has_migrations == 1, "it has no __diesel_schema_migrations table: not a Roundtable database");
    latest_migration_sqlite(&mut c)
}

fn open_sqlite(path: &Path) -> anyhow::Result<SqliteConnection> {
    SqliteConnection::establish(path_str(path)?).with_context(|| format!("opening SQLite database {}", path.display()))
}

// --- PostgreSQL -----------------------------------------------------------------------------

fn pg_backup(url: &str, path: &Path) -> anyhow::Result<BackupReport> {
    let pg_dump = find_tool("pg_dump")?;
    let mut conn = connect_pg(url)?;
    let latest_migration = latest_migration_pg(&mut conn)?;
    drop(conn);
    let temp = TempFile::beside(path)?;
    let mut dump = pg_command(&pg_dump, url);
    dump.arg("--format=custom").arg("--file").arg(&temp.path);
    run(dump, "pg_dump")?;
    let bytes = temp.persist(path)?;
    Ok(BackupReport { path: path.to_path_buf(), backend: Backend::Postgres, bytes, latest_migration })
}

/// Returns the newest migration recorded in the database after the restore.
fn pg_restore(url: &str, backup: &Path, force: bool) -> anyhow::Result<Option<String>> {
    let pg_restore = find_tool("pg_restore")?;
    let mut magic = [0u8; 5];
    let custom_format =
        std::fs::File::open(backup).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && magic == *b"PGDMP";
    ensure!(
        custom_format,
        "{} is not a pg_dump custom-format archive (what `roundtable backup` writes on PostgreSQL)",
        backup.display()
    );
    let listing = Command::new(&pg_restore).arg("--list").arg(backup).output().context("running pg_restore --list")?;
    ensure!(
        listing.status.success() && String::from_utf8_lossy(&listing.stdout).contains("__diesel_schema_migrations"),
        "{} has no __diesel_schema_migrations table: not a Roundtable backup",
        backup.display()
    );
    let mut conn = connect_pg(url)?;
    let others = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .get_result::<Count>(&mut conn)?
    .n;
    ensure!(
        others == 0,
        "{others} other connection(s) to this database (a running roundtable server?); stop it before restoring"
    );
    let tables = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .get_result::<Count>(&mut conn)?
    .n;
    if tables > 0 {
        ensure!(force, "the database already holds {tables} tables; pass --force to replace its contents");
        conn.batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;").context("emptying the database")?;
    }
    drop(conn);
    let mut restore = pg_command(&pg_restore, url);
    restore.args(["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]).arg(backup);
    run(restore, "pg_restore")?;
    latest_migration_pg(&mut connect_pg(url)?)
}

fn connect_pg(url: &str) -> anyhow::Result<PgConnection> {
    PgConnection::establish(url).with_context(|| format!("connecting to PostgreSQL at {}", redact(url)))
}

/// `tool --dbname URL`, the URL's password (if any) moved to `PGPASSWORD`.
fn pg_command(tool: &Path, url: &str) -> Command {
    let (url, password) = split_password(url);
    let mut command = Command::new(tool);
    command.arg("--no-password").arg("--dbname").arg(url);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    command
}

fn run(mut command: Command, name: &str) -> anyhow::Result<()> {
    let output = command.output().with_context(|| format!("running {name}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("version mismatch") {
            "\n(the PostgreSQL client tools must be at least the server's major version)"
        } else {
            ""
        };
        bail!("{name} failed ({}): {}{hint}", output.status, stderr.trim());
    }
    Ok(())
}

/// The executable `name` in a folder of `PATH`, or an error saying what to install.
fn find_tool(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate)).with_context(
        || {
            format!(
                "{name} is not on PATH: install the PostgreSQL client tools of your server's major version or newer \
             (Debian/Ubuntu: apt-get install postgresql-client; Alpine: apk add postgresql-client), \
             or add the folder holding {name} to PATH"
            )
        },
    )
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The URL without its password, and the password (percent-decoded, as libpq reads it).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return (url.to_string(), None) };
    let authority_end = url[scheme_end..].find(['/', '?']).map_or(url.len(), |i| scheme_end + i);
    let Some(at) = url[scheme_end..authority_end].rfind('@').map(|i| scheme_end + i) else {
        return (url.to_string(), None);
    };
    let Some(colon) = url[scheme_end..at].find(':').map(|i| scheme_end + i) else { return (url.to_string(), None) };
    let password = percent_decode(&url[colon + 1..at]);
    (format!("{}{}", &url[..colon], &url[at..]), Some(password))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// --- Both -----------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

const LATEST_MIGRATION: &str = "SELECT MAX(version) AS version FROM __diesel_schema_migrations";
const NOT_ROUNDTABLE: &str = "reading the applied migrations (is this a Roundtable database?)";

/// The newest version in `__diesel_schema_migrations`.
fn latest_migration_sqlite(conn: &mut SqliteConnection) -> anyhow::Result<Option<String>> {
    let rows: Vec<Latest> = diesel::sql_query(LATEST_MIGRATION).load(conn).context(NOT_ROUNDTABLE)?;
    Ok(rows.into_iter().next().and_then(|r| r.version))
}

/// The newest version in `__diesel_schema_migrations`.
fn latest_migration_pg(conn: &mut PgConnection) -> anyhow::Result<Option<String>> {
    let rows: Vec<Latest> = diesel::sql_query(LATEST_MIGRATION).load(conn).context(NOT_ROUNDTABLE)?;
    Ok(rows.into_iter().next().and_then(|r| r.version))
}

#[derive(QueryableByName)]
struct Latest {
    #[diesel(sql_type = Nullable<Text>)]
    version: Option<String>,
}

/// A temporary file beside its destination (same folder, so the rename is atomic), removed
/// unless it was persisted.
struct TempFile {
    path: PathBuf,
    persisted: bool,
}

impl TempFile {
    fn beside(destination: &Path) -> anyhow::Result<Self> {
        let name = destination.file_name().with_context(|| format!("{} names no file", destination.display()))?;
        let path = destination.with_file_name(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
        remove_if_present(&path)?;
        Ok(Self { path, persisted: false })
    }

    /// Flushes the file to disk and renames it to `destination`; returns its size.
    fn persist(mut self, destination: &Path) -> anyhow::Result<u64> {
        let file = std::fs::File::open(&self.path).with_context(|| format!("opening {}", self.path.display()))?;
        file.sync_all().with_context(|| format!("flushing {}", self.path.display()))?;
        let bytes = file.metadata()?.len();
        std::fs::rename(&self.path, destination)
            .with_context(|| format!("renaming {} to {}", self.path.display(), destination.display()))?;
        self.persisted = true;
        if let Some(dir) = destination.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(dir) = std::fs::File::open(dir)
        {
            let _ = dir.sync_all(); // the rename itself, on file systems that need it
        }
        Ok(bytes)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(with_suffix(&self.path, suffix));
        }
        if !self.persisted {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(err).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str().with_context(|| format!("{} is not valid UTF-8", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        assert_eq!(
            split_password("postgres://bob:s%40cret@db:5432/rt?sslmode=require"),
            ("postgres://bob@db:5432/rt?sslmode=require".to_string(), Some("s@cret".to_string()))
        );
        assert_eq!(split_password("postgres://bob@db/rt"), ("postgres://bob@db/rt".to_string(), None));
        assert_eq!(split_password("postgres://db/rt"), ("postgres://db/rt".to_string(), None));
    }

    fn database(dir: &Path) -> PathBuf {
        let path = dir.join("live.db");
        super::super::migrate(path.to_str().unwrap()).unwrap();
        path
    }

    #[test]
    fn a_backup_never_replaces_a_file_without_force_nor_the_database_itself() {
        let dir = tempfile::tempdir().unwrap();
        let live = database(dir.path());
        let out = dir.path().join("b.db");
        std::fs::write(&out, b"keep me").unwrap();
        let refused = backup(live.to_str().unwrap(), &out, false).unwrap_err();
        assert!(refused.to_string().contains("--force"), "{refused:#}");
        assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
        let report = backup(live.to_str().unwrap(), &out, true).unwrap();
        assert!(report.latest_migration.is_some() && report.bytes > 0);
        let itself = backup(live.to_str().unwrap(), &live, true).unwrap_err();
        assert!(itself.to_string().contains("database itself"), "{itself:#}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_restore_refuses_a_file_that_is_not_a_roundtable_database() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.db");
        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, vec![7u8; 8192]).unwrap();
        assert!(restore(target.to_str().unwrap(), &garbage, false).is_err());
        let other = dir.path().join("other.db");
        SqliteConnection::establish(other.to_str().unwrap()).unwrap().batch_execute("CREATE TABLE t (x);").unwrap();
        let refused = restore(target.to_str().unwrap(), &other, false).unwrap_err();
        assert!(format!("{refused:#}").contains("__diesel_schema_migrations"), "{refused:#}");
        assert!(!target.exists(), "nothing put in place");
    }

    #[test]
    fn a_restore_refuses_a_database_open_elsewhere_and_one_with_data_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let live = database(dir.path());
        let copy = dir.path().join("copy.db");
        backup(live.to_str().unwrap(), &copy, false).unwrap();
        let mut open = SqliteConnection::establish(live.to_str().unwrap()).unwrap();
        open.batch_execute("SELECT COUNT(*) FROM users;").unwrap(); // an idle server has read before
        let refused = restore(live.to_str().unwrap(), &copy, true).unwrap_err();
        assert!(refused.to_string().contains("open in another process"), "{refused:#}");
        drop(open);
        let refused = restore(live.to_str().unwrap(), &copy, false).unwrap_err();
        assert!(refused.to_string().contains("--force"), "{refused:#}");
        let report = restore(live.to_str().unwrap(), &copy, true).unwrap();
        assert!(report.applied.is_empty(), "the copy was up to date: {report}");
    }
}
