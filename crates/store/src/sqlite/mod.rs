//! SQLite backend: one writer connection behind an async mutex (SQLite allows a
//! single writer; queueing in tokio keeps threads free) and a bounded set of
//! reader connections (WAL lets them run beside the writer).
//!
//! Statements run inline on the calling task: a small query costs tens of
//! microseconds, less than a hop to a blocking thread would.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use portal_core::config::{create_private_dir, make_private};
use portal_core::store::Constraint;
use portal_core::{Availability, StoreError};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use crate::chat::Waiters;
use crate::migrations::MIGRATIONS;

pub mod backup;
mod db;

/// The SQLite backend of [`SqlStore`](crate::SqlStore): [`crate::SqliteStore`].
pub struct Sqlite {
    pub(crate) path: PathBuf,
    pub(crate) writer: tokio::sync::Mutex<Connection>,
    pub(crate) readers: Mutex<Vec<Connection>>,
    pub(crate) reader_slots: Semaphore,
    pub(crate) max_readers: usize,
    pub(crate) availability: Availability,
    /// Followers of chat event streams, woken by this process's appends.
    pub(crate) chat_waiters: Waiters,
    /// This process's job runners, woken when a write makes a job due now
    /// (SQLite has one process, so no cross-replica signal is needed).
    pub(crate) jobs_wake: std::sync::Arc<tokio::sync::Notify>,
}

/// Maps rusqlite errors into the storage contract's errors (`.db()?`).
pub(crate) trait Db<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(other)
    }
}

pub(crate) fn other(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, detail)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            // "UNIQUE constraint failed: api_keys.org_id, api_keys.name"
            let named = detail
                .as_deref()
                .and_then(|d| d.strip_prefix("UNIQUE constraint failed: "))
                .and_then(|cols| Constraint::ALL.into_iter().find(|c| c.columns() == cols));
            StoreError::Conflict(named.map_or_else(|| e.to_string(), |c| c.name().into()))
        }
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        _ => StoreError::Other(e.to_string()),
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    // Room for every hot statement plus a few page shapes of each listing.
    conn.set_prepared_statement_cache_capacity(64);
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )
}

/// The database file and its `-wal`/`-shm` companions are private to the
/// portal's user (0600): they hold password hashes, transcripts and the audit
/// ledger. A missing database file is created empty with that mode, so SQLite
/// never creates it with the process umask.
fn private_files(path: &Path) -> Result<(), StoreError> {
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |e: std::io::Error| StoreError::Other(format!("{p}: {e}"))
    };
    if !path.exists() {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(path).map_err(io(path))?;
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = std::path::PathBuf::from(p);
        make_private(&p).map_err(io(&p))?;
    }
    Ok(())
}

pub(crate) fn open_conn(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(other)?;
    configure(&conn).map_err(other)?;
    Ok(conn)
}

impl crate::SqliteStore {
    /// Opens (creating if needed) the database file and its parent folder.
    pub async fn open(path: &Path, max_readers: usize) -> Result<Self, StoreError> {
        Sqlite::open(path, max_readers).await.map(crate::SqlStore)
    }
}

impl Sqlite {
    async fn open(path: &Path, max_readers: usize) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(parent)
                .map_err(|e| StoreError::Other(format!("{}: {e}", parent.display())))?;
        }
        private_files(path)?;
        let writer = open_conn(path)?;
        // SQLite gives `-wal` and `-shm` the database file's mode; tighten
        // ones left by an older version all the same.
        private_files(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: tokio::sync::Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            reader_slots: Semaphore::new(max_readers.max(1)),
            max_readers: max_readers.max(1),
            availability: Availability::default(),
            chat_waiters: Waiters::default(),
            jobs_wake: Default::default(),
        })
    }

    /// Runs `f` on a reader connection.
    pub async fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = crate::sql::Db::reader(self).await?;
        f(conn.conn())
    }

    /// Runs `f` inside an immediate transaction on the writer connection; commits on `Ok`.
    pub async fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer.lock().await;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(other)?;
        let value = f(&tx)?;
        tx.commit().map_err(other)?;
        Ok(value)
    }

    /// Applies pending migrations; returns the versions applied.
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        let mut conn = self.writer.lock().await;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
            )",
        )
        .map_err(other)?;
        let mut applied = Vec::new();
        for m in MIGRATIONS {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(other)?;
            let done: bool = tx
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
                    [m.version],
                    |r| r.get(0),
                )
                .map_err(other)?;
            if done {
                continue;
            }
            tx.execute_batch(m.sqlite)
                .map_err(|e| StoreError::Migration {
                    version: m.version,
                    message: e.to_string(),
                })?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
                rusqlite::params![m.version, m.name],
            )
            .map_err(other)?;
            tx.commit().map_err(other)?;
            tracing::info!(version = m.version, name = m.name, "applied migration");
            applied.push(m.version);
        }
        Ok(applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_core::store::StoreInfo;

    #[tokio::test]
    async fn migrates_once_and_pings() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::SqliteStore::open(&dir.path().join("sub/portal.db"), 4)
            .await
            .unwrap();
        let all: Vec<i64> = crate::MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(store.migrate().await.unwrap(), all);
        assert!(store.migrate().await.unwrap().is_empty());
        assert_eq!(store.schema_version().await.unwrap(), *all.last().unwrap());
        assert!(store.ping().await.is_ok());
        let mode: String = store
            .read(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).db())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store
            .read(|c| c.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).db())
            .await
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[tokio::test]
    async fn constraint_violation_is_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::SqliteStore::open(&dir.path().join("p.db"), 2)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let err = store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO instance_meta (key, value) VALUES ('instance_id', 'x')",
                    [],
                )
                .db()
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }
}
