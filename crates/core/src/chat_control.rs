//! What a client controls of a running chat: which turn of a session is
//! active (to resume its stream) and stopping it from any replica.

use async_trait::async_trait;

use crate::store::StoreResult;

/// The session's unfinished turn, as resuming and stopping need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveTurn {
    /// The turn.
    pub id: String,
    /// `running`, `awaiting_approval` or `resumable`.
    pub status: String,
    /// The runner's saved state (JSON): the pending calls and their approvals.
    pub state: String,
    /// The id of the turn's first stream event (none written yet: `None`).
    pub first_event: Option<i64>,
    /// Someone asked the turn to stop.
    pub stop_requested: bool,
}

/// Storage for [`ActiveTurn`] and stop requests (tenancy: every call names the org).
#[async_trait]
pub trait ChatControl: Send + Sync {
    /// The session's unfinished turn, if any.
    async fn active_chat_turn(
        &self,
        org_id: &crate::ids::OrgId,
        session_id: &crate::ids::SessionId,
    ) -> StoreResult<Option<ActiveTurn>>;
    /// Asks an unfinished turn to stop (its runner, on any replica, notices);
    /// false when the turn is finished or not the organisation's.
    async fn request_chat_turn_stop(
        &self,
        org_id: &crate::ids::OrgId,
        turn_id: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Whether a stop was asked for this turn.
    async fn chat_turn_stop_requested(
        &self,
        org_id: &crate::ids::OrgId,
        turn_id: &str,
    ) -> StoreResult<bool>;
}
