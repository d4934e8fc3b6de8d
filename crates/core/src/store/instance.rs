//! What the store is and how it is doing: engine, availability, pool, schema.

use super::{Availability, Backend, PoolStats, StoreError};
use async_trait::async_trait;
use std::time::Duration;

/// What the store is and how it is doing: engine, availability, pool, schema.
#[async_trait]
pub trait StoreInfo: Send + Sync {
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
