//! Finishing tool executions together with their outbox event, and the sweep of stale ones.

use super::StoreResult;
use crate::model::*;
use async_trait::async_trait;

/// Finishing tool executions together with their outbox event, and the sweep of stale ones.
#[async_trait]
pub trait ExecutionRepo: Send + Sync {
    /// Finishes a `running` execution: its outcome (status, error, duration)
    /// and the outbox event announcing it, in one transaction. False, and no
    /// event, when the record is not `running` any more (already finished, by
    /// an earlier attempt whose answer was lost or by the sweep).
    async fn finish_execution(
        &self,
        a: &Activity,
        event_kind: &str,
        payload_json: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Executions across organisations still `running` that started before
    /// `before`, oldest first, at most `limit` (the finishing sweep).
    async fn stale_executions(&self, before: i64, limit: i64) -> StoreResult<Vec<Activity>>;
}
