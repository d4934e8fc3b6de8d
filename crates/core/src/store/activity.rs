//! The activity feed of tool executions.

use super::StoreResult;
use crate::model::*;
use async_trait::async_trait;

/// The activity feed of tool executions.
#[async_trait]
pub trait ActivityRepo: Send + Sync {
    /// Records a tool execution (the gateway records it `running` before the run).
    async fn record_activity(&self, a: &Activity) -> StoreResult<()>;
    /// The organisation's tool executions, newest first.
    async fn list_activity(&self, org_id: &str, f: &ActivityFilter) -> StoreResult<Page<Activity>>;
}
