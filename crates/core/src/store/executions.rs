//! Finishing tool executions together with their outbox event, and the sweep of stale ones.

use super::StoreResult;
use crate::journal::Journal;
use crate::model::*;
use async_trait::async_trait;

/// Finishing tool executions together with their outbox event, and the sweep of stale ones.
#[async_trait]
pub trait ExecutionRepo: Send + Sync {
    /// Finishes a `running` execution: its outcome (status, error, duration)
    /// and its journal (the `tool.executed` event, the outcome's audit entry),
    /// in one transaction. False, and no journal, when the record is not
    /// `running` any more (already finished, by an earlier attempt whose
    /// answer was lost or by the sweep).
    async fn finish_execution(&self, a: &Activity, j: &Journal<'_>) -> StoreResult<bool>;
    /// Executions across organisations still `running` that started before
    /// `before`, oldest first, at most `limit` (the finishing sweep).
    async fn stale_executions(&self, before: i64, limit: i64) -> StoreResult<Vec<Activity>>;
}
