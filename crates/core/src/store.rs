//! The storage contract every backend (SQLite, PostgreSQL) implements.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

/// Which database engine backs the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file: the zero-configuration default.
    Sqlite,
    /// PostgreSQL server: the production database.
    Postgres,
}

impl Backend {
    /// Stable lowercase name, used in health output and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Connection pool occupancy, exported as gauges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open and idle.
    pub idle: usize,
    /// Connections checked out by a request.
    pub in_use: usize,
    /// Upper bound of the pool.
    pub max: usize,
}

/// Failures a repository call can report; adapters map them to status codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached right now; callers answer 503 and retry later.
    #[error("database unavailable")]
    Unavailable,
    /// A uniqueness or foreign-key constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row does not exist (or belongs to another tenant).
    #[error("not found")]
    NotFound,
    /// A migration could not be applied.
    #[error("migration {version} failed: {message}")]
    Migration {
        /// The migration's version number.
        version: i64,
        /// What the database said.
        message: String,
    },
    /// Anything else; logged in full, never shown to clients.
    #[error("database error: {0}")]
    Other(String),
}

/// Shared flag telling whether the database answered its last check.
///
/// A background monitor and failing queries flip it; request handlers read it
/// without I/O to decide between normal and degraded answers.
#[derive(Debug, Clone)]
pub struct Availability(Arc<AtomicBool>);

impl Default for Availability {
    fn default() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }
}

impl Availability {
    /// True while the database is believed reachable.
    pub fn is_up(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Records the outcome of a check or query; returns true when the state changed.
    pub fn set(&self, up: bool) -> bool {
        self.0.swap(up, Ordering::Relaxed) != up
    }
}

/// The storage contract. Every repository method that reads organisation data
/// takes the organisation id (rule 3 of ARCHITECTURE.md); domain repositories are
/// added to this trait by the features that need them.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which engine this is.
    fn backend(&self) -> Backend;

    /// The shared availability flag maintained by the backend's monitor.
    fn availability(&self) -> &Availability;

    /// Round-trips a trivial query; returns how long it took.
    async fn ping(&self) -> Result<Duration, StoreError>;

    /// Current pool occupancy.
    fn pool_stats(&self) -> PoolStats;

    /// The highest migration version applied.
    async fn schema_version(&self) -> Result<i64, StoreError>;
}
