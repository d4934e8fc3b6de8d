//! Stopping a turn (`POST /api/chat/{id}/stop`) on whichever replica runs it,
//! and answering its approvals from the chat itself (the AI SDK's
//! `addToolApprovalResponse`). A client going away stops nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portal_core::chat_control::ActiveTurn;
use portal_core::identity::{now_ms, Principal};
use portal_core::rbac::Permission;
use portal_core::service::approvals::{self, Target};
use portal_core::service::Ctx;
use portal_core::{CoreError, Store};
use tokio_util::sync::CancellationToken;

use super::turn::TurnState;
use super::ChatEngine;

/// How often a runner checks whether another replica was asked to stop it.
const STOP_POLL: Duration = Duration::from_millis(500);

/// The turns this replica runs, by id.
pub(crate) type Running = Arc<Mutex<HashMap<String, CancellationToken>>>;

/// A running turn's stop signal; dropping it forgets the turn.
pub(crate) struct StopSignal {
    token: CancellationToken,
    turn: String,
    running: Running,
}

impl StopSignal {
    /// Resolves once the turn is asked to stop.
    pub(crate) async fn cancelled(&self) {
        self.token.cancelled().await
    }

    /// Whether the turn was asked to stop.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Asks the turn to stop.
    pub(crate) fn cancel(&self) {
        self.token.cancel()
    }
}

impl Drop for StopSignal {
    fn drop(&mut self) {
        self.token.cancel();
        if let Ok(mut map) = self.running.lock() {
            map.remove(&self.turn);
        }
    }
}

/// What a stop request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// A running turn was told to stop; its stream ends with `abort` and `finish`.
    Stopped,
    /// A turn waiting for an approval was ended (a later decision runs nothing).
    Ended,
    /// Nothing was running.
    Idle,
}

/// One approval answered from the chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalAnswer {
    /// The approval (the AI SDK's `approval.id`).
    pub approval_id: portal_core::ids::ApprovalId,
    /// Approve or reject.
    pub approved: bool,
    /// Why (shown to the requester).
    pub reason: Option<String>,
}

impl ChatEngine {
    /// Registers a turn this replica runs now. A watcher turns a stop request
    /// stored by another replica (or process on the same SQLite file) into the signal.
    pub(crate) fn track(&self, org_id: &portal_core::ids::OrgId, turn_id: &str) -> StopSignal {
        let token = CancellationToken::new();
        if let Ok(mut map) = self.running.lock() {
            map.insert(turn_id.to_string(), token.clone());
        }
        watch_for_stop(self.store.clone(), org_id, turn_id, token.clone());
        StopSignal {
            token,
            turn: turn_id.to_string(),
            running: self.running.clone(),
        }
    }

    /// The session's unfinished turn, when the session is the principal's.
    pub(crate) async fn active(
        &self,
        p: &Principal,
        session_id: &portal_core::ids::SessionId,
    ) -> Result<(portal_core::ids::OrgId, Option<ActiveTurn>), CoreError> {
        let org = self.own_session(p, session_id).await?;
        let turn = self.store.active_chat_turn(&org, session_id).await?;
        Ok((org, turn))
    }

    /// Whether the session has an unfinished turn (`sessions:read`): how a page
    /// showing the stored conversation knows to follow the rest live.
    pub async fn active_turn(
        &self,
        p: &Principal,
        session_id: &portal_core::ids::SessionId,
    ) -> Result<Option<ActiveTurn>, CoreError> {
        p.require(Permission::SessionsRead)?;
        Ok(self.active(p, session_id).await?.1)
    }

    /// Stops the session's turn (`sessions:write`): a running one on whichever
    /// replica runs it, a waiting one at once.
    pub async fn stop(
        &self,
        p: &Principal,
        session_id: &portal_core::ids::SessionId,
    ) -> Result<StopOutcome, CoreError> {
        p.require(Permission::SessionsWrite)?;
        let (org, Some(turn)) = self.active(p, session_id).await? else {
            return Ok(StopOutcome::Idle);
        };
        if turn.status == "awaiting_approval" {
            if let Some(old) = self
                .store
                .supersede_chat_turn(&org, session_id, now_ms())
                .await?
            {
                self.close_superseded(&old).await?;
                return Ok(StopOutcome::Ended);
            }
            // Decided meanwhile: it is about to run, so stop it like a running one.
        }
        let local = self
            .running
            .lock()
            .ok()
            .and_then(|m| m.get(&turn.id).cloned());
        let asked = self
            .store
            .request_chat_turn_stop(&org, &turn.id, now_ms())
            .await?;
        if let Some(token) = local {
            token.cancel();
        }
        Ok(if asked || turn.status != "awaiting_approval" {
            StopOutcome::Stopped
        } else {
            StopOutcome::Idle
        })
    }

    /// Decides approvals the session's paused turn waits for, answered in the
    /// chat (same rules as `POST /api/tools/approve`: permission, four-eyes,
    /// single use). Returns the stream position to follow the resumed turn from.
    pub async fn answer(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        session_id: &portal_core::ids::SessionId,
        answers: &[ApprovalAnswer],
    ) -> Result<i64, CoreError> {
        p.require(Permission::SessionsWrite)?;
        let (org, turn) = self.active(p, session_id).await?;
        let waiting: Vec<portal_core::ids::ApprovalId> = turn
            .as_ref()
            .and_then(|t| serde_json::from_str::<TurnState>(&t.state).ok())
            .map(|s| {
                s.pending
                    .into_iter()
                    .filter_map(|c| c.approval_id)
                    .collect()
            })
            .unwrap_or_default();
        if waiting.is_empty() {
            return Err(CoreError::Conflict(
                "No turn of this chat is waiting for an approval".into(),
            ));
        }
        let after = self.store.last_chat_event(session_id).await?;
        for a in answers {
            if !waiting.contains(&a.approval_id) {
                return Err(CoreError::Validation(format!(
                    "body/messages: approval {:?} is not one this chat is waiting for",
                    a.approval_id
                )));
            }
            let target = Target {
                approval_id: Some(&a.approval_id),
                tool_call_id: None,
                requester: None,
            };
            match approvals::decide(ctx, p, target, a.approved, a.reason.as_deref()).await {
                Ok(_) => {}
                // Decided already the same way (another tab, the REST API): follow on.
                Err(CoreError::Conflict(why)) => {
                    let same = self
                        .store
                        .get_approval(&org, &a.approval_id)
                        .await?
                        .is_some_and(|d| {
                            d.status == if a.approved { "approved" } else { "rejected" }
                        });
                    if !same {
                        return Err(CoreError::Conflict(why));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(after)
    }
}

fn watch_for_stop(
    store: Arc<dyn Store>,
    org_id: &portal_core::ids::OrgId,
    turn_id: &str,
    token: CancellationToken,
) {
    let (org, turn) = (org_id.clone(), turn_id.to_string());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = token.cancelled() => return,
                _ = tokio::time::sleep(STOP_POLL) => {}
            }
            if let Ok(true) = store.chat_turn_stop_requested(&org, &turn).await {
                token.cancel();
                return;
            }
        }
    });
}
