//! Online backup and restore of the SQLite database with SQLite's backup API:
//! the copy is one consistent snapshot taken while the portal keeps serving
//! (WAL lets the copy read beside the writer), and a restore writes through
//! SQLite's pager, so stale `-wal`/`-shm` files cannot leak into the result.

use std::path::Path;

use portal_core::config::make_private;
use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use crate::migrations::MIGRATIONS;

/// Why a backup or restore did not happen; each names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// SQLite refused (the file is not a database, is locked, disk full…).
    #[error("{path}: {message}")]
    Sqlite {
        /// The file SQLite was working on.
        path: String,
        /// What SQLite said.
        message: String,
    },
    /// The backup was made by a newer portal.
    #[error(
        "{path} is at schema version {found}, newer than this portal's {supported}: \
         restore it with a portal at least as new as the one that made it"
    )]
    NewerSchema {
        /// The backup file.
        path: String,
        /// Its schema version.
        found: i64,
        /// The newest version this binary knows.
        supported: i64,
    },
    /// The file is a database but not a portal's.
    #[error("{path} is not a portal database (no schema_migrations table)")]
    NotPortal {
        /// The file.
        path: String,
    },
    /// `PRAGMA integrity_check` found damage.
    #[error("{path} is damaged: {message}")]
    Damaged {
        /// The file.
        path: String,
        /// SQLite's first complaint.
        message: String,
    },
    /// The destination exists already.
    #[error("{path} exists; choose a new file (a backup never overwrites one)")]
    Exists {
        /// The file.
        path: String,
    },
}

/// What was copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// The copy's schema version.
    pub schema_version: i64,
    /// Database pages copied.
    pub pages: i32,
}

/// The newest schema version this binary can run.
pub fn supported_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> BackupError + '_ {
    move |e| BackupError::Sqlite {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Copies the live database at `src` into the new file `dest` (mode 0600) in
/// one step, so the copy is a single snapshot whatever is being written.
/// Blocking: run it off the async threads.
pub fn backup(src: &Path, dest: &Path) -> Result<Copied, BackupError> {
    if dest.exists() {
        return Err(BackupError::Exists {
            path: dest.display().to_string(),
        });
    }
    let from = Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err(src))?;
    from.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sqlite_err(src))?;
    create_private(dest)?;
    let mut to = Connection::open(dest).map_err(sqlite_err(dest))?;
    let pages = copy(&from, &mut to, src)?;
    // A standalone file: no WAL companions to carry around.
    to.pragma_update(None, "journal_mode", "DELETE")
        .map_err(sqlite_err(dest))?;
    let schema_version = check(&to, dest)?;
    Ok(Copied {
        schema_version,
        pages,
    })
}

/// Replaces the database at `target` with the backup at `from`, after checking
/// the backup is intact and not newer than this binary. Pending migrations
/// are the caller's to apply. The portal must not be running on `target`.
pub fn restore(from: &Path, target: &Path) -> Result<Copied, BackupError> {
    let src = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err(from))?;
    let schema_version = check(&src, from)?;
    let supported = supported_version();
    if schema_version > supported {
        return Err(BackupError::NewerSchema {
            path: from.display().to_string(),
            found: schema_version,
            supported,
        });
    }
    if !target.exists() {
        create_private(target)?;
    }
    let mut to = Connection::open(target).map_err(sqlite_err(target))?;
    to.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sqlite_err(target))?;
    let pages = copy(&src, &mut to, from)?;
    to.pragma_update(None, "journal_mode", "WAL")
        .map_err(sqlite_err(target))?;
    drop(to);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = target.as_os_str().to_owned();
        p.push(suffix);
        let p = std::path::PathBuf::from(p);
        make_private(&p).map_err(|e| BackupError::Sqlite {
            path: p.display().to_string(),
            message: e.to_string(),
        })?;
    }
    Ok(Copied {
        schema_version,
        pages,
    })
}

fn copy(from: &Connection, to: &mut Connection, src: &Path) -> Result<i32, BackupError> {
    let b = Backup::new(from, to).map_err(sqlite_err(src))?;
    // -1: every page in one step, under one read transaction (one snapshot).
    loop {
        match b.step(-1).map_err(sqlite_err(src))? {
            rusqlite::backup::StepResult::Done => break,
            // Busy or locked: the writer holds a lock for a moment; try again.
            _ => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
    Ok(b.progress().pagecount)
}

/// The file's schema version, after an integrity check.
fn check(conn: &Connection, path: &Path) -> Result<i64, BackupError> {
    let ok: String = conn
        .query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))
        .map_err(sqlite_err(path))?;
    if ok != "ok" {
        return Err(BackupError::Damaged {
            path: path.display().to_string(),
            message: ok,
        });
    }
    let has_table: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite_err(path))?;
    if !has_table {
        return Err(BackupError::NotPortal {
            path: path.display().to_string(),
        });
    }
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )
    .map_err(sqlite_err(path))
}

/// Creates an empty file only the owner can read.
fn create_private(path: &Path) -> Result<(), BackupError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map(drop).map_err(|e| BackupError::Sqlite {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}
