//! What a client controls of a running chat (the active turn, stop requests):
//! statements and repository.

use async_trait::async_trait;
use portal_core::chat_control::{ActiveTurn, ChatControl};
use portal_core::store::StoreResult;

use super::decode;
use super::{Db, Exec, Sql, SqlStore};
use crate::args;

/// Unfinished statuses (`chat_turns_unfinished` covers the same set).
static ACTIVE: Sql = Sql::new(
    "SELECT t.id, t.status, t.state, t.stop_requested <> 0, \
     (SELECT MIN(e.seq) FROM chat_events e WHERE e.session_id = t.session_id AND e.turn_id = t.id) \
     FROM chat_turns t WHERE t.org_id = $1 AND t.session_id = $2 \
     AND t.status IN ('running', 'awaiting_approval', 'resumable')",
);
static REQUEST_STOP: Sql = Sql::new(
    "UPDATE chat_turns SET stop_requested = 1, updated_at = $3 \
     WHERE org_id = $1 AND id = $2 AND status IN ('running', 'awaiting_approval', 'resumable')",
);
static STOP_REQUESTED: Sql =
    Sql::new("SELECT stop_requested <> 0 FROM chat_turns WHERE org_id = $1 AND id = $2");

#[async_trait]
impl<B: Db> ChatControl for SqlStore<B> {
    async fn active_chat_turn(
        &self,
        org_id: &portal_core::ids::OrgId,
        session_id: &portal_core::ids::SessionId,
    ) -> StoreResult<Option<ActiveTurn>> {
        let mut c = self.0.reader().await?;
        c.opt(&ACTIVE, &args![org_id, session_id], |r| {
            Ok(ActiveTurn {
                id: r.text(0)?,
                status: r.text(1)?,
                state: r.text(2)?,
                stop_requested: r.flag(3)?,
                first_event: r.opt_int(4)?,
            })
        })
        .await
    }

    async fn request_chat_turn_stop(
        &self,
        org_id: &portal_core::ids::OrgId,
        turn_id: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let mut w = self.0.writer().await?;
        let n = w
            .execute(&REQUEST_STOP, &args![org_id, turn_id, now])
            .await?;
        w.commit().await?;
        Ok(n == 1)
    }

    async fn chat_turn_stop_requested(
        &self,
        org_id: &portal_core::ids::OrgId,
        turn_id: &str,
    ) -> StoreResult<bool> {
        let mut c = self.0.reader().await?;
        let asked = c
            .opt(&STOP_REQUESTED, &args![org_id, turn_id], decode::flag)
            .await?;
        Ok(asked.unwrap_or(false))
    }
}
