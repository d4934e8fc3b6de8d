//! The webhook outbox: events in id order of visibility.

use super::StoreResult;
use crate::model::*;
use async_trait::async_trait;

/// The webhook outbox: events in id order of visibility.
#[async_trait]
pub trait EventRepo: Send + Sync {
    /// Appends an event and returns its id. Ids are global, never reused, and
    /// increase in the order appends become visible, so a poller that has seen
    /// id `n` never later finds a new event below `n`.
    async fn append_event(
        &self,
        org_id: &crate::ids::OrgId,
        kind: &str,
        payload_json: &str,
        now: i64,
    ) -> StoreResult<i64>;
    /// The organisation's events with `id > after_id`, oldest first, at most `limit`.
    async fn list_events(
        &self,
        org_id: &crate::ids::OrgId,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<Event>>;
    /// Events not delivered yet, across organisations, oldest first, at most
    /// `limit` (the dispatcher's queue).
    async fn undelivered_events(&self, limit: i64) -> StoreResult<Vec<Event>>;
    /// Stamps these events delivered at `now`; returns how many were still
    /// undelivered (already delivered or unknown ids are left alone).
    async fn mark_events_delivered(&self, ids: &[i64], now: i64) -> StoreResult<u64>;
}
