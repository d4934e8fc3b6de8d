//! Approvals bound to an organisation, requester, tool and exact arguments.

use super::StoreResult;
use crate::journal::Journal;
use crate::model::*;
use async_trait::async_trait;

/// Approvals bound to an organisation, requester, tool and exact arguments.
#[async_trait]
pub trait ApprovalRepo: Send + Sync {
    /// The newest pending or approved, unexpired approval for this exact binding.
    async fn open_approval(
        &self,
        org_id: &crate::ids::OrgId,
        requester: &str,
        tool: &str,
        args_hash: &str,
        now: i64,
    ) -> StoreResult<Option<Approval>>;
    /// Stores a pending approval (marking stale pending ones of the same binding
    /// expired), with its journal; when another identical request won the race,
    /// returns that one and writes no journal.
    async fn create_approval(
        &self,
        a: &Approval,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<Approval>;
    /// An approval of the organisation.
    async fn get_approval(
        &self,
        org_id: &crate::ids::OrgId,
        id: &crate::ids::ApprovalId,
    ) -> StoreResult<Option<Approval>>;
    /// The newest approval the requester asked for under `tool_call_id`.
    async fn approval_by_tool_call(
        &self,
        org_id: &crate::ids::OrgId,
        requester: &str,
        tool_call_id: &str,
    ) -> StoreResult<Option<Approval>>;
    /// Records a decision on a pending, unexpired approval, with its journal;
    /// false (and no journal) otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn decide_approval(
        &self,
        org_id: &crate::ids::OrgId,
        id: &crate::ids::ApprovalId,
        approved: bool,
        by: &str,
        reason: Option<&str>,
        now: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool>;
    /// Spends an approved, unexpired approval of `requester` exactly once; false otherwise.
    async fn consume_approval(
        &self,
        org_id: &crate::ids::OrgId,
        id: &crate::ids::ApprovalId,
        requester: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// The organisation's pending, unexpired approvals, newest first, one page
    /// (`total` counts them all, so nothing is silently cut off).
    async fn list_pending_approvals(
        &self,
        org_id: &crate::ids::OrgId,
        now: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<Approval>>;
    /// The organisation's approved or rejected approvals (whether spent since or
    /// not), most recently decided first.
    async fn list_decided_approvals(
        &self,
        org_id: &crate::ids::OrgId,
        limit: i64,
    ) -> StoreResult<Vec<Approval>>;
    /// How many pending, unexpired approvals this requester has in the organisation.
    async fn count_pending_approvals_of(
        &self,
        org_id: &crate::ids::OrgId,
        requester: &str,
        now: i64,
    ) -> StoreResult<i64>;
    /// Pending, unexpired approvals across the instance (a gauge).
    async fn count_pending_approvals(&self, now: i64) -> StoreResult<i64>;
    /// When the oldest pending, unexpired approval was opened (epoch ms), if any:
    /// the age gauge an approver backlog alert watches.
    async fn oldest_pending_approval(&self, now: i64) -> StoreResult<Option<i64>>;
}
