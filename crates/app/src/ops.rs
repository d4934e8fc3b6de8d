//! What health checks and the metrics scrape read of the database, so the
//! HTTP adapters ask the application instead of reaching into the store.

use std::time::Duration;

use portal_core::health::{self, Check};
use portal_core::store::PoolStats;

use crate::App;

/// The approval queue platform-wide, for the metrics gauges; each part
/// `None` when the database could not say (the gauge keeps its last value).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApprovalBacklog {
    /// Pending, unexpired approvals.
    pub pending: Option<i64>,
    /// How long the oldest of them has waited (ms; 0 when none).
    pub oldest_age_ms: Option<i64>,
}

impl App {
    /// The database check of `/healthz`-style reports, within `budget`.
    pub async fn check_database(&self, budget: Duration) -> Check {
        health::check_database(self.store.as_ref(), budget).await
    }

    /// Whether the database answered its last probe.
    pub fn database_up(&self) -> bool {
        self.store.availability().is_up()
    }

    /// The connection pool's occupancy.
    pub fn pool_stats(&self) -> PoolStats {
        self.store.pool_stats()
    }

    /// The approval backlog at `now`.
    pub async fn approval_backlog(&self, now: i64) -> ApprovalBacklog {
        let pending = self.store.count_pending_approvals(now).await.ok();
        let oldest = self.store.oldest_pending_approval(now).await.ok();
        ApprovalBacklog {
            pending,
            oldest_age_ms: oldest.map(|o| o.map_or(0, |at| now.saturating_sub(at).max(0))),
        }
    }
}
