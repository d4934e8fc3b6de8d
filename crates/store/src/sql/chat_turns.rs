//! Chat turns: statements and repository. One unfinished turn per session
//! (the partial unique index `chat_turns_unfinished` refuses a second, even
//! from a concurrent transaction on another replica), run under a lease.

use async_trait::async_trait;
use portal_core::model::*;
use portal_core::store::{ChatTurnRepo, StoreResult};

use super::decode::{turn, turn_cols};
use super::{touched, Db, Exec, Sql, SqlStore};
use crate::args;
use crate::chat::{check_status, is_finished};

/// Inserted only when the session belongs to the turn's organisation.
static CREATE: Sql = Sql::new(concat!(
    "INSERT INTO chat_turns (",
    turn_cols!(),
    ") SELECT $1::TEXT, $2::TEXT, $3::TEXT, $4::TEXT, $5::TEXT, $6::TEXT, $7::TEXT, $8::TEXT, \
     $9::BIGINT, $10::BIGINT, $11::BIGINT FROM chat_sessions WHERE id = $3 AND org_id = $2"
));
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    turn_cols!(),
    " FROM chat_turns WHERE org_id = $1 AND id = $2"
));
static SAVE: Sql = Sql::new(
    "UPDATE chat_turns SET status = $4, approval_id = $5, state = $6, lease_owner = $7, \
     lease_until = $8, updated_at = $9 \
     WHERE id = $1 AND org_id = $2 AND lease_owner = $3 AND status NOT IN ('done', 'failed')",
);
/// Ends the wait of the org's turn for an approval, matched on its approval
/// (a wake) or its session (a supersede), releasing any lease. One statement
/// each, so a wake and a supersede race cleanly.
static WAKE: Sql = Sql::new(concat!(
    "UPDATE chat_turns SET status = $4, lease_owner = NULL, lease_until = 0, updated_at = $3 \
     WHERE org_id = $1 AND approval_id = $2 AND status = 'awaiting_approval' RETURNING ",
    turn_cols!()
));
static SUPERSEDE: Sql = Sql::new(concat!(
    "UPDATE chat_turns SET status = $4, lease_owner = NULL, lease_until = 0, updated_at = $3 \
     WHERE org_id = $1 AND session_id = $2 AND status = 'awaiting_approval' RETURNING ",
    turn_cols!()
));
/// SKIP LOCKED lets concurrent claimers pass over a turn another one is
/// taking; a row updated meanwhile is re-checked against the conditions.
/// SQLite's single writer makes the pick and the update atomic.
static CLAIM: Sql = Sql::new(concat!(
    "UPDATE chat_turns SET status = 'running', lease_owner = $1, lease_until = $2, updated_at = $3 \
     WHERE id = (SELECT id FROM chat_turns WHERE status IN ('running', 'resumable') \
     AND (status = 'resumable' OR lease_until < $3) ORDER BY updated_at, id{C} LIMIT 1 \
     {SKIP_LOCKED}) RETURNING ",
    turn_cols!()
));

#[async_trait]
impl<B: Db> ChatTurnRepo for SqlStore<B> {
    async fn create_chat_turn(&self, t: &ChatTurn) -> StoreResult<()> {
        check_status(&t.status)?;
        let mut w = self.0.writer().await?;
        let n = w
            .execute(
                &CREATE,
                &args![
                    t.id,
                    t.org_id,
                    t.session_id,
                    t.principal_id,
                    t.status,
                    t.approval_id,
                    t.state,
                    t.lease_owner,
                    t.lease_until,
                    t.created_at,
                    t.updated_at
                ],
            )
            .await?;
        touched(n)?;
        w.commit().await
    }

    async fn get_chat_turn(&self, org_id: &str, id: &str) -> StoreResult<Option<ChatTurn>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET, &args![org_id, id], turn).await
    }

    async fn save_chat_turn(
        &self,
        t: &ChatTurn,
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<bool> {
        check_status(&t.status)?;
        let (lease_owner, lease_until) = if is_finished(&t.status) {
            (None, 0)
        } else {
            (Some(owner), lease_until)
        };
        let mut w = self.0.writer().await?;
        let n = w
            .execute(
                &SAVE,
                &args![
                    t.id,
                    t.org_id,
                    owner,
                    t.status,
                    t.approval_id,
                    t.state,
                    lease_owner,
                    lease_until,
                    now
                ],
            )
            .await?;
        w.commit().await?;
        Ok(n == 1)
    }

    async fn wake_chat_turn(
        &self,
        org_id: &str,
        approval_id: &str,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>> {
        let mut w = self.0.writer().await?;
        let t = w
            .opt(&WAKE, &args![org_id, approval_id, now, "resumable"], turn)
            .await?;
        w.commit().await?;
        Ok(t)
    }

    async fn supersede_chat_turn(
        &self,
        org_id: &str,
        session_id: &str,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>> {
        let mut w = self.0.writer().await?;
        let t = w
            .opt(&SUPERSEDE, &args![org_id, session_id, now, "failed"], turn)
            .await?;
        w.commit().await?;
        Ok(t)
    }

    async fn claim_chat_turn(
        &self,
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>> {
        let mut w = self.0.writer().await?;
        let t = w.opt(&CLAIM, &args![owner, lease_until, now], turn).await?;
        w.commit().await?;
        Ok(t)
    }
}
