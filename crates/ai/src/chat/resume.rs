//! Turns that run as jobs (`portal_core::jobs::chat_turn`): a turn whose
//! approval was decided, or whose replica died mid-turn, is taken by whichever
//! replica's job runner claims its job, and run to its next pause or its end.

use std::sync::Arc;

use async_trait::async_trait;
use portal_core::identity::{now_ms, resume_principal};
use portal_core::jobs::chat_turn::Payload;
use portal_core::jobs::{Job, JobError, JobHandler};
use portal_core::model::{ChatTurn, TurnStatus};

use super::turn::{Runner, TurnState, LEASE};
use super::{parts, sink, ChatEngine};

/// The handler of `chat.turn` jobs.
pub(crate) struct TurnJobs(pub(crate) Arc<ChatEngine>);

#[async_trait]
impl JobHandler for TurnJobs {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let p: Payload = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("unreadable chat turn job: {e}")))?;
        // One owner per attempt: a stalled earlier attempt of this very replica
        // is fenced like any other replica.
        let owner = format!("{}#{}", self.0.replica, job.attempts);
        let now = now_ms();
        let taken = self
            .0
            .store
            .take_chat_turn(
                &p.org_id,
                &p.turn_id,
                &owner,
                now + LEASE.as_millis() as i64,
                now,
            )
            .await
            .map_err(|e| JobError::Retry(format!("cannot take the chat turn: {e}")))?;
        match taken {
            // Ended, or waiting for an approval again: nothing to run.
            None => Ok(()),
            Some(turn) => self.0.clone().resume(turn).await,
        }
    }
}

impl ChatEngine {
    /// The handler to register for `chat.turn` jobs.
    pub fn turn_job_handler(self: &Arc<Self>) -> Arc<dyn JobHandler> {
        Arc::new(TurnJobs(self.clone()))
    }

    /// Runs a taken turn from its stored state. `Retry` when it cannot start
    /// now (the database is away): the turn stays taken, and the retry takes
    /// it again.
    async fn resume(self: Arc<Self>, mut turn: ChatTurn) -> Result<(), JobError> {
        let owner = turn.lease_owner.clone().unwrap_or_default();
        let state: TurnState = match serde_json::from_str(&turn.state) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(turn = %turn.id, error = %e, "unreadable chat turn state; failing it");
                turn.status = TurnStatus::Failed;
                let _ = self.store.save_chat_turn(&turn, &owner, 0, now_ms()).await;
                return Err(JobError::Permanent(format!(
                    "unreadable chat turn state: {e}"
                )));
            }
        };
        let retry = |e: &dyn std::fmt::Display| {
            tracing::warn!(turn = %turn.id, error = %e, "cannot resume chat turn now");
            JobError::Retry(format!("cannot resume the chat turn now: {e}"))
        };
        let sink = sink::Sink::open(self.store.clone(), &turn.session_id, &turn.id, None)
            .await
            .map_err(|e| retry(&e))?;
        let principal = match resume_principal(
            self.store.as_ref(),
            &turn.org_id,
            &state.principal,
            now_ms(),
        )
        .await
        {
            Ok(Ok(p)) => p,
            Ok(Err(why)) => {
                let mut sink = sink;
                let _ = sink.emit(parts::error(&why.to_string())).await;
                let _ = sink
                    .emit(parts::finish(&parts::End::Error, state.usage))
                    .await;
                let _ = sink.flush().await;
                turn.status = TurnStatus::Failed;
                let _ = self.store.save_chat_turn(&turn, &owner, 0, now_ms()).await;
                return Ok(());
            }
            Err(e) => return Err(retry(&e)),
        };
        let stop = self.track(&turn.org_id, &turn.id);
        if let Ok(true) = self
            .store
            .chat_turn_stop_requested(&turn.org_id, &turn.id)
            .await
        {
            stop.cancel();
        }
        Runner::new(self.clone(), turn, state, principal, sink, stop)
            .run_resumed()
            .await;
        Ok(())
    }
}
