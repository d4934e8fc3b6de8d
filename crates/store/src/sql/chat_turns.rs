//! Chat turns: statements and repository. One unfinished turn per session
//! (the partial unique index `chat_turns_unfinished` refuses a second, even
//! from a concurrent transaction on another replica), run under a lease, and
//! its job (`portal_core::jobs::chat_turn`) kept in step in the same transaction.

use async_trait::async_trait;
use portal_core::jobs::chat_turn::{self, Payload};
use portal_core::model::*;
use portal_core::store::{ChatTurnRepo, StoreResult};

use super::decode::{turn, turn_cols};
use super::{touched, Db, Exec, Sql, SqlStore};
use crate::args;

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
/// A supersede also ends a turn the job queue gave up on (its job is dead:
/// every attempt to run it failed), so its session takes new messages.
static SUPERSEDE: Sql = Sql::new(concat!(
    "UPDATE chat_turns SET status = $4, lease_owner = NULL, lease_until = 0, updated_at = $3 \
     WHERE org_id = $1 AND session_id = $2 AND (status = 'awaiting_approval' \
     OR (status IN ('running', 'resumable') AND EXISTS (SELECT 1 FROM jobs \
     WHERE jobs.id = 'chat-turn-' || chat_turns.id AND jobs.state = 'dead'))) RETURNING ",
    turn_cols!()
));
/// The holder of the turn's job takes the turn, whoever held its lease.
static TAKE: Sql = Sql::new(concat!(
    "UPDATE chat_turns SET status = 'running', lease_owner = $3, lease_until = $4, updated_at = $5 \
     WHERE org_id = $1 AND id = $2 AND status IN ('running', 'resumable') RETURNING ",
    turn_cols!()
));

/// A waiting job follows the turn's lease: due when the lease ends. A job a
/// runner holds (`running`) is left alone; its runner records the outcome.
static JOB_WATCH: Sql = Sql::new(
    "INSERT INTO jobs (id, kind, payload, state, run_after, attempts, max_attempts, \
     created_at, updated_at) VALUES ($1, 'chat.turn', $2, 'queued', $3, 0, $4, $5, $5) \
     ON CONFLICT (id) DO UPDATE SET run_after = excluded.run_after, updated_at = excluded.updated_at \
     WHERE jobs.state = 'queued'",
);
/// The turn paused or ended: nothing to take over.
static JOB_SETTLE: Sql = Sql::new(
    "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, updated_at = $2 \
     WHERE id = $1 AND state = 'queued'",
);
/// The turn's approval was decided: run it now, with fresh attempts. A runner
/// still finishing the pause (its job `running`) is fenced by the reset.
static JOB_WAKE: Sql = Sql::new(
    "INSERT INTO jobs (id, kind, payload, state, run_after, attempts, max_attempts, \
     created_at, updated_at) VALUES ($1, 'chat.turn', $2, 'queued', $3, 0, $4, $3, $3) \
     ON CONFLICT (id) DO UPDATE SET state = 'queued', run_after = excluded.run_after, attempts = 0, \
     last_error = NULL, lease_owner = NULL, lease_until = NULL, updated_at = excluded.updated_at",
);

/// What a write that leaves a turn in some status does to its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// `running`: the job waits for the lease to end.
    Watch,
    /// `resumable`: the job is due now.
    Wake,
    /// Paused or ended: the job is settled.
    Settle,
}

impl Follow {
    fn of(status: TurnStatus) -> Self {
        match status {
            TurnStatus::Running => Follow::Watch,
            TurnStatus::Resumable => Follow::Wake,
            TurnStatus::AwaitingApproval | TurnStatus::Done | TurnStatus::Failed => Follow::Settle,
        }
    }
}

/// Keeps the job of turn `t` (just written on `w`) in step with it.
async fn follow(w: &mut impl Exec, t: &ChatTurn, lease_until: i64, now: i64) -> StoreResult<()> {
    let job = chat_turn::job_id(&t.id);
    let payload = Payload {
        org_id: t.org_id.clone(),
        turn_id: t.id.clone(),
    }
    .to_text();
    let max = chat_turn::MAX_ATTEMPTS;
    match Follow::of(t.status) {
        Follow::Watch => {
            w.execute(&JOB_WATCH, &args![job, payload, lease_until, max, now])
                .await?;
        }
        Follow::Wake => {
            w.execute(&JOB_WAKE, &args![job, payload, now, max]).await?;
            w.notify_jobs(portal_core::jobs::JobKind::ChatTurn.as_str())
                .await;
        }
        Follow::Settle => {
            w.execute(&JOB_SETTLE, &args![job, now]).await?;
        }
    }
    Ok(())
}

#[async_trait]
impl<B: Db> ChatTurnRepo for SqlStore<B> {
    async fn create_chat_turn(&self, t: &ChatTurn) -> StoreResult<()> {
        let mut w = self.0.begin().await?;
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
        follow(&mut w, t, t.lease_until, t.updated_at).await?;
        w.commit().await
    }

    async fn get_chat_turn(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<ChatTurn>> {
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
        let (lease_owner, lease_until) = if t.status.is_finished() {
            (None, 0)
        } else {
            (Some(owner), lease_until)
        };
        let mut w = self.0.begin().await?;
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
        if n == 1 {
            follow(&mut w, t, lease_until, now).await?;
        }
        w.commit().await?;
        Ok(n == 1)
    }

    async fn wake_chat_turn(
        &self,
        org_id: &portal_core::ids::OrgId,
        approval_id: &portal_core::ids::ApprovalId,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>> {
        let mut w = self.0.begin().await?;
        let t = w
            .opt(&WAKE, &args![org_id, approval_id, now, "resumable"], turn)
            .await?;
        if let Some(t) = &t {
            follow(&mut w, t, 0, now).await?;
        }
        w.commit().await?;
        Ok(t)
    }

    async fn supersede_chat_turn(
        &self,
        org_id: &portal_core::ids::OrgId,
        session_id: &portal_core::ids::SessionId,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>> {
        let mut w = self.0.begin().await?;
        let t = w
            .opt(&SUPERSEDE, &args![org_id, session_id, now, "failed"], turn)
            .await?;
        if let Some(t) = &t {
            follow(&mut w, t, 0, now).await?;
        }
        w.commit().await?;
        Ok(t)
    }

    async fn take_chat_turn(
        &self,
        org_id: &portal_core::ids::OrgId,
        turn_id: &str,
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>> {
        let mut w = self.0.writer().await?;
        let t = w
            .opt(
                &TAKE,
                &args![org_id, turn_id, owner, lease_until, now],
                turn,
            )
            .await?;
        w.commit().await?;
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Dialect;

    #[test]
    fn a_turn_s_status_says_what_its_job_does() {
        assert_eq!(Follow::of(TurnStatus::Running), Follow::Watch);
        assert_eq!(Follow::of(TurnStatus::Resumable), Follow::Wake);
        for paused_or_ended in [
            TurnStatus::AwaitingApproval,
            TurnStatus::Done,
            TurnStatus::Failed,
        ] {
            assert_eq!(Follow::of(paused_or_ended), Follow::Settle);
        }
        assert!(!JOB_WAKE.get(Dialect::Sqlite).contains('$'));
    }
}
