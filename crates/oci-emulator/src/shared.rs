//! `state.json` shared between processes. The server and a CLI command (or two
//! servers) may open emulators on the same data directory; each keeps the state
//! in memory, so without care the last writer silently dropped the other's
//! changes (L13). Every request therefore runs under an exclusive advisory lock
//! on `state.lock` and first re-reads `state.json` when another process has
//! replaced it since this one last read or wrote it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::state::{self, State};
use crate::EmulatorError;

/// What identifies one version of `state.json`: it is replaced by rename, so
/// every write is a new file (a new inode on Unix), and length and mtime too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    len: u64,
    modified: Option<SystemTime>,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let ino = 0;
    Some(Stamp {
        ino,
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

/// The lock file and the version of `state.json` this process has in memory.
pub(crate) struct SharedState {
    lock: File,
    lock_path: PathBuf,
    state_path: PathBuf,
    seen: Mutex<Option<Stamp>>,
}

/// Holds the exclusive lock until dropped.
pub(crate) struct Held<'a>(&'a File);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl SharedState {
    /// Opens (creating) `<dir>/state.lock` next to `state_path`.
    pub(crate) fn open(dir: &Path, state_path: &Path) -> Result<Self, EmulatorError> {
        let lock_path = dir.join("state.lock");
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let lock = opts.open(&lock_path).map_err(|source| EmulatorError::Io {
            path: lock_path.clone(),
            source,
        })?;
        Ok(Self {
            lock,
            lock_path,
            state_path: state_path.to_path_buf(),
            seen: Mutex::new(None),
        })
    }

    /// Takes the exclusive lock (waiting for another process to finish its
    /// request). Callers hold the in-process state mutex first: the lock is
    /// per open file, so it does not order threads of one process.
    pub(crate) fn lock(&self) -> Result<Held<'_>, EmulatorError> {
        self.lock.lock().map_err(|source| EmulatorError::Io {
            path: self.lock_path.clone(),
            source,
        })?;
        Ok(Held(&self.lock))
    }

    /// Under the lock: the state on disk when another process replaced it
    /// since we last read or wrote it, `None` when ours is current.
    pub(crate) fn reload_if_changed(
        &self,
        _held: &Held<'_>,
    ) -> Result<Option<State>, EmulatorError> {
        let now = stamp(&self.state_path);
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if now.is_none() || now == *seen {
            return Ok(None);
        }
        let fresh = state::load(&self.state_path)?;
        *seen = now;
        Ok(fresh)
    }

    /// Under the lock: writes `bytes` as the new `state.json` and remembers it as ours.
    pub(crate) fn write(&self, _held: &Held<'_>, bytes: &[u8]) -> std::io::Result<()> {
        state::write_atomic(&self.state_path, bytes)?;
        *self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = stamp(&self.state_path);
        Ok(())
    }
}
