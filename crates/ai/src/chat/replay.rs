//! Reading a session back: its stored messages, and its stream events replayed
//! from an id and then followed as they are written (by any replica).

use std::sync::Arc;
use std::time::Duration;

use portal_core::identity::Principal;
use portal_core::model::ChatMessage;
use portal_core::rbac::Permission;
use portal_core::CoreError;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{parts, ChatEngine, Frame};

/// What a follower of a session's stream receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Followed {
    /// A stored event.
    Frame(Frame),
    /// Reading failed; the follower should reconnect from its last id.
    Failed(String),
    /// A turn finished for good and nothing follows yet: the stream ends.
    Done,
}

/// Where following a session's stream starts, and so when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowFrom {
    /// After this event id, until a turn finishes for good.
    After(i64),
    /// The active turn from its first event (the AI SDK's resume): until it
    /// finishes, or pauses on an approval nobody has decided yet.
    Active,
    /// After this event id, until the turn finishes or pauses undecided
    /// (the answer to approvals given in the chat).
    Resumed(i64),
}

/// Events read per query while replaying.
const PAGE: i64 = 200;
/// Longest wait for new events before checking again (the store also wakes earlier).
const WAIT: Duration = Duration::from_secs(15);

impl ChatEngine {
    /// Checks that the session is the principal's (another's is "not found").
    pub(crate) async fn own_session(
        &self,
        p: &Principal,
        session_id: &portal_core::ids::SessionId,
    ) -> Result<portal_core::ids::OrgId, CoreError> {
        let org = p.org()?.id.clone();
        self.store
            .get_chat_session(&org, &p.id, session_id)
            .await?
            .ok_or_else(|| CoreError::NotFound("Session not found".into()))?;
        Ok(org)
    }

    /// A session's messages with `seq > after`, oldest first (`sessions:read`).
    pub async fn messages(
        &self,
        p: &Principal,
        session_id: &portal_core::ids::SessionId,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Vec<ChatMessage>, CoreError> {
        p.require(Permission::SessionsRead)?;
        let limit = portal_core::validate::limit("limit", limit, 200, 500)?;
        let after = portal_core::validate::offset("after", after)?;
        let org = self.own_session(p, session_id).await?;
        Ok(self
            .store
            .list_chat_messages(&org, session_id, after, limit)
            .await?)
    }

    /// Replays the session's events from `from`, then follows new ones until
    /// the end `from` implies, the receiver is dropped, or `shutdown`
    /// (`sessions:read`). `None`: [`FollowFrom::Active`] and no turn is active.
    pub async fn follow(
        self: &Arc<Self>,
        p: &Principal,
        session_id: &portal_core::ids::SessionId,
        from: FollowFrom,
        shutdown: CancellationToken,
    ) -> Result<Option<mpsc::Receiver<Followed>>, CoreError> {
        p.require(Permission::SessionsRead)?;
        let (org, after, until_pause) = match from {
            FollowFrom::After(after) | FollowFrom::Resumed(after) if after < 0 => {
                return Err(CoreError::Validation(
                    "query/after: must be 0 or more".into(),
                ))
            }
            FollowFrom::After(after) => (self.own_session(p, session_id).await?, after, false),
            FollowFrom::Resumed(after) => (self.own_session(p, session_id).await?, after, true),
            FollowFrom::Active => {
                let (org, turn) = self.active(p, session_id).await?;
                let Some(turn) = turn else { return Ok(None) };
                let after = match turn.first_event {
                    Some(first) => first - 1,
                    None => self.store.last_chat_event(session_id).await?,
                };
                (org, after, true)
            }
        };
        let (tx, rx) = mpsc::channel(64);
        let engine = self.clone();
        let session_id = session_id.clone();
        tokio::spawn(async move {
            let mut after = after;
            let mut ended = false;
            loop {
                let events = match engine
                    .store
                    .list_chat_events(&org, &session_id, after, PAGE)
                    .await
                {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(error = %e, "chat stream replay failed");
                        let _ = tx
                            .send(Followed::Failed(
                                "storage is unavailable; reconnect with Last-Event-ID".into(),
                            ))
                            .await;
                        return;
                    }
                };
                if events.is_empty() {
                    if ended {
                        let _ = tx.send(Followed::Done).await;
                        return;
                    }
                    tokio::select! {
                        _ = tx.closed() => return,
                        _ = shutdown.cancelled() => return,
                        r = engine.store.wait_chat_events(&session_id, after, WAIT) => {
                            if r.is_err() {
                                tokio::time::sleep(Duration::from_millis(500)).await;
                            }
                        }
                    }
                    continue;
                }
                let last = events.len() - 1;
                for (i, e) in events.into_iter().enumerate() {
                    after = e.seq;
                    let part = serde_json::from_str::<Value>(&e.body).unwrap_or(Value::Null);
                    ended = parts::is_terminal(&part)
                        || (until_pause
                            && i == last
                            && parts::is_pause(&part)
                            && engine.waits_undecided(&org, &session_id).await);
                    let frame = Frame {
                        id: e.seq,
                        data: e.body,
                    };
                    if tx.send(Followed::Frame(frame)).await.is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Some(rx))
    }

    /// Whether the session's turn waits for an approval nobody has decided.
    async fn waits_undecided(
        &self,
        org: &portal_core::ids::OrgId,
        session_id: &portal_core::ids::SessionId,
    ) -> bool {
        matches!(
            self.store.active_chat_turn(org, session_id).await,
            Ok(Some(t)) if t.status == "awaiting_approval"
        )
    }
}
