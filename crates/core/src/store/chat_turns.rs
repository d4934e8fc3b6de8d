//! Chat turns: one unfinished turn per session, run under a lease, each with
//! its job (`crate::jobs::chat_turn`) kept in step in the same transaction.

use super::StoreResult;
use crate::model::*;
use async_trait::async_trait;

/// Chat turns: one unfinished turn per session, run under a lease.
#[async_trait]
pub trait ChatTurnRepo: Send + Sync {
    /// Stores a new turn. `Conflict` when the session already has an unfinished turn
    /// (`running`, `awaiting_approval` or `resumable`): one turn at a time per session.
    /// `NotFound` when the session is not in the turn's organisation. Queues
    /// the turn's job, due when the lease ends (a takeover if it lapses).
    async fn create_chat_turn(&self, t: &ChatTurn) -> StoreResult<()>;
    /// One turn of the organisation.
    async fn get_chat_turn(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<ChatTurn>>;
    /// Saves a turn's status, approval and state, only while `owner` holds its lease
    /// (fencing a replica whose lease lapsed); false otherwise. Renews the lease to
    /// `lease_until`; `done`/`failed` release it. In the same transaction a
    /// waiting job follows the lease (`running`) or is settled (any other status).
    async fn save_chat_turn(
        &self,
        t: &ChatTurn,
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// Marks the turn waiting for this approval `resumable` (the approval was decided)
    /// and releases its lease, and queues its job due now (in one transaction),
    /// so it runs again once a runner claims that; returns it, or `None` when no
    /// turn waits for it.
    async fn wake_chat_turn(
        &self,
        org_id: &crate::ids::OrgId,
        approval_id: &crate::ids::ApprovalId,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>>;
    /// Ends the session's turn that waits for an approval (the user moved on),
    /// or that the job queue gave up on (its `chat.turn` job is dead): sets it
    /// `failed` and returns it, or `None` when the session has no such turn.
    /// Atomic against [`ChatTurnRepo::wake_chat_turn`]: a decided approval wins or loses whole.
    async fn supersede_chat_turn(
        &self,
        org_id: &crate::ids::OrgId,
        session_id: &crate::ids::SessionId,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>>;
    /// Takes a turn to run for the holder of its job (see
    /// [`crate::jobs::chat_turn`]): a `running` or `resumable` turn becomes
    /// `running` under `owner`'s lease until `lease_until`, whoever held it
    /// before (that holder's writes are fenced from now on). `None` when the
    /// turn is not there, waits for an approval, or has ended.
    async fn take_chat_turn(
        &self,
        org_id: &crate::ids::OrgId,
        turn_id: &str,
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>>;
}
