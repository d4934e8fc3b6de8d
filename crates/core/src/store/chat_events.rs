//! The stream events of chat turns, followed by clients across replicas.

use super::StoreResult;
use crate::model::*;
use async_trait::async_trait;

/// The stream events of chat turns, followed by clients across replicas.
#[async_trait]
pub trait ChatEventRepo: Send + Sync {
    async fn append_chat_events(&self, events: &[ChatEvent]) -> StoreResult<()>;
    /// A session's events with `seq > after`, oldest first, at most `limit`.
    async fn list_chat_events(
        &self,
        org_id: &crate::ids::OrgId,
        session_id: &crate::ids::SessionId,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatEvent>>;
    /// The session's highest event id (0 when none).
    async fn last_chat_event(&self, session_id: &crate::ids::SessionId) -> StoreResult<i64>;
    /// Returns when events after `after` may exist for the session, or after `timeout`.
    /// PostgreSQL wakes on LISTEN/NOTIFY (any replica's writes); SQLite polls.
    async fn wait_chat_events(
        &self,
        session_id: &crate::ids::SessionId,
        after: i64,
        timeout: std::time::Duration,
    ) -> StoreResult<()>;
}
