//! The activity feed of tool executions.

use super::StoreResult;
use crate::journal::Journal;
use crate::model::*;
use async_trait::async_trait;

/// The activity feed of tool executions.
#[async_trait]
pub trait ActivityRepo: Send + Sync {
    /// Records a tool execution with its journal (the gateway records it
    /// `running`, with its `started` audit entry, before the run).
    async fn record_activity(&self, a: &Activity, j: &Journal<'_>) -> StoreResult<()>;
    /// The organisation's tool executions, newest first.
    async fn list_activity(
        &self,
        org_id: &crate::ids::OrgId,
        f: &ActivityFilter,
    ) -> StoreResult<Page<Activity>>;
    /// The organisation's tool executions since `since`, counted per
    /// principal, hour, tool and arguments (the usage graph's input).
    async fn usage_rows(
        &self,
        org_id: &crate::ids::OrgId,
        since: i64,
    ) -> StoreResult<Vec<UsageRow>>;
}
