//! Webhook subscriptions, their queued deliveries and the log of attempts.

use super::StoreResult;
use crate::journal::Journal;
use crate::webhooks::{Attempt, Delivery, DeliveryState, NewDelivery, Webhook};
use async_trait::async_trait;

/// What an attempt does to its delivery and its subscription, written with
/// the attempt's log row in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptWrite {
    /// The log row (its `id` is ignored).
    pub attempt: Attempt,
    /// The delivery's attempt count the write expects (fences a stale run).
    pub expected_attempts: i64,
    /// The delivery's new state.
    pub state: DeliveryState,
    /// Its new attempt count (0 restarts the schedule, after an auto-disable).
    pub attempts: i64,
    /// When it is due next.
    pub next_attempt_at: i64,
    /// True when the receiver accepted it (clears `failing_since`).
    pub success: bool,
    /// Disables the subscription for this reason.
    pub disable: Option<String>,
}

/// Filters of the delivery log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    /// Only this state.
    pub state: Option<DeliveryState>,
    /// Only deliveries with a smaller id (paging, newest first).
    pub before_id: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// Webhook subscriptions, deliveries and attempts. Every read of org data
/// takes the organisation id; the delivery queue's own reads (the pump's) are
/// cross-organisation by nature and say so.
#[async_trait]
pub trait WebhookRepo: Send + Sync {
    /// Stores a subscription with its journal (the audit entry).
    async fn create_webhook(&self, w: &Webhook, j: &Journal<'_>) -> StoreResult<()>;
    /// The organisation's subscriptions, newest first.
    async fn list_webhooks(&self, org_id: &crate::ids::OrgId) -> StoreResult<Vec<Webhook>>;
    /// One subscription of the organisation.
    async fn get_webhook(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<Webhook>>;
    /// Writes a subscription's changeable fields (URL, description, filter,
    /// status, secrets, failure state) with its journal; false (and nothing
    /// written) when there is no such row.
    async fn update_webhook(&self, w: &Webhook, j: &Journal<'_>) -> StoreResult<bool>;
    /// Deletes a subscription with its deliveries and log, and writes the
    /// journal; false (nothing written) when absent.
    async fn delete_webhook(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
        j: &Journal<'_>,
    ) -> StoreResult<bool>;
    /// Every organisation's subscriptions of these organisations (the fan-out).
    async fn webhooks_of_orgs(&self, org_ids: &[&str]) -> StoreResult<Vec<Webhook>>;

    /// In one transaction: queues the deliveries (one per subscription and
    /// event; a duplicate is skipped) and stamps the events delivered to the
    /// queue. The number of deliveries queued.
    async fn queue_deliveries(
        &self,
        deliveries: &[NewDelivery],
        event_ids: &[i64],
        now: i64,
    ) -> StoreResult<u64>;
    /// Queues deliveries (test messages, redeliveries) with the journal, in
    /// one transaction; their ids, in order.
    async fn queue_extra_deliveries(
        &self,
        ds: &[NewDelivery],
        j: &Journal<'_>,
    ) -> StoreResult<Vec<i64>>;
    /// The head of every active subscription's queue (its oldest pending
    /// delivery) that is due by `now`, at most `limit` (cross-organisation).
    async fn due_delivery_heads(&self, now: i64, limit: i64) -> StoreResult<Vec<Delivery>>;
    /// The head of one subscription's queue, due or not.
    async fn delivery_head(&self, webhook_id: &str) -> StoreResult<Option<Delivery>>;
    /// A delivery by id (the job handler's read, cross-organisation).
    async fn delivery_by_id(&self, id: i64) -> StoreResult<Option<Delivery>>;
    /// A delivery of the organisation's subscription.
    async fn get_delivery(
        &self,
        org_id: &crate::ids::OrgId,
        webhook_id: &str,
        id: i64,
    ) -> StoreResult<Option<Delivery>>;
    /// Records an attempt (see [`AttemptWrite`]) with its journal (the audit
    /// entry and event of a disabling); false (nothing written) when fenced.
    async fn record_attempt(&self, w: &AttemptWrite, j: &Journal<'_>) -> StoreResult<bool>;
    /// A subscription's deliveries, newest first.
    async fn list_deliveries(
        &self,
        org_id: &crate::ids::OrgId,
        webhook_id: &str,
        f: &DeliveryFilter,
    ) -> StoreResult<Vec<Delivery>>;
    /// A subscription's deliveries created at or after `since`, oldest first,
    /// at most `limit`.
    async fn deliveries_since(
        &self,
        org_id: &crate::ids::OrgId,
        webhook_id: &str,
        since: i64,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>>;
    /// A delivery's attempts, oldest first.
    async fn list_attempts(
        &self,
        org_id: &crate::ids::OrgId,
        delivery_id: i64,
    ) -> StoreResult<Vec<Attempt>>;
    /// Pending deliveries and the creation time of the oldest (metrics).
    async fn pending_deliveries(&self) -> StoreResult<(i64, Option<i64>)>;
}
