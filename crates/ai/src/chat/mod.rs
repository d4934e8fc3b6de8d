//! The chat service: starts turns for `POST /api/chat`, resumes turns paused on
//! an approval or orphaned by a dead replica (as jobs of the job runner, on
//! whichever replica claims them), and records everything so any replica can
//! replay a session's stream.

mod command;
mod control;
mod durable;
mod memory;
pub mod parts;
mod prompt;
mod replay;
mod resume;
mod sink;
mod turn;

use std::sync::Arc;
use std::time::Duration;

use portal_core::config::AiSettings;
use portal_core::crypto::Keys;
use portal_core::identity::{now_ms, Principal, PrincipalSnapshot};
use portal_core::model::{ChatSession, ChatTurn, TurnStatus};
use portal_core::rbac::Permission;
use portal_core::service::tools::{Catalogues, GatewayHooks, ToolRunner};
use portal_core::service::Contexts;
use portal_core::{CoreError, Store, StoreError};
use tokio::sync::mpsc;

pub use control::{ApprovalAnswer, StopOutcome};
pub use memory::Meta;
pub use replay::{FollowFrom, Followed};
pub use sink::Frame;

use crate::provider::registry::Registry;
use crate::provider::{ModelInfo, Usage};
use turn::{Runner, TurnState, LEASE};

/// What chat reports to metrics.
pub trait ChatHooks: Send + Sync {
    /// Tokens a model call used.
    fn tokens(&self, provider: &str, model: &str, input: u64, output: u64);
    /// Time from asking the model to its first streamed piece.
    fn first_token(&self, provider: &str, model: &str, seconds: f64);
    /// Tool rounds a finished turn took.
    fn rounds(&self, rounds: u32);
    /// A guardrail fired (a refusal category or a redacted secret kind).
    fn guardrail(&self, category: &str);
}

/// Everything a turn needs, shared by every turn of this replica.
pub struct ChatEngine {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Keys (sealing pending tool arguments, audit MACs).
    pub keys: Keys,
    /// Where the turns' service contexts come from (the app's).
    pub contexts: Contexts,
    /// Chat configuration.
    pub settings: AiSettings,
    /// The models: the bootstrap provider's and the stored ones.
    pub providers: Arc<Registry>,
    /// The tools, when a cloud is configured.
    pub tools: Option<Arc<dyn ToolRunner>>,
    /// Each principal's catalogue (the tools joined by its organisation's
    /// remote MCP tools); `None`: everyone uses `tools`.
    pub catalogues: Option<Arc<dyn Catalogues>>,
    /// Tool execution metrics.
    pub gateway_hooks: Arc<dyn GatewayHooks>,
    /// Chat metrics.
    pub hooks: Arc<dyn ChatHooks>,
    /// The portal's public origin, for approval links.
    pub public_url: String,
    /// This replica's lease-owner id.
    pub replica: String,
    /// How long one tool may run.
    pub tool_timeout: Duration,
    /// The turns this replica runs now, by id: how a stop reaches them.
    running: control::Running,
}

/// Which session a message goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRef {
    /// A new session with an id the portal mints.
    New,
    /// A session that must exist and be the principal's (`sessionId`).
    Existing(portal_core::ids::SessionId),
    /// The session with this client-chosen id (the AI SDK's chat `id`),
    /// created on first use.
    Client(portal_core::ids::SessionId),
}

/// A new message from the user.
pub struct NewTurn {
    /// The session.
    pub session: SessionRef,
    /// The message.
    pub message: String,
    /// The model to use (one of [`ChatEngine::models`]); the default when absent.
    pub model: Option<String>,
    /// The client's address, for audit records.
    pub ip: Option<std::net::IpAddr>,
}

/// A started turn: its session and the live stream of its parts.
pub struct Started {
    /// The session (new or continued).
    pub session_id: portal_core::ids::SessionId,
    /// The turn.
    pub turn_id: String,
    /// The parts as they are produced; dropping it cancels the turn.
    pub frames: mpsc::Receiver<Frame>,
}

pub(crate) fn uuid() -> String {
    let b: [u8; 16] = portal_core::crypto::random_bytes();
    let h = hex_lower(&b);
    format!(
        "{}-{}-4{}-{:x}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        (b[8] & 0x3) | 0x8,
        &h[17..20],
        &h[20..32]
    )
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl ChatEngine {
    /// An engine; `replica` must be unique per process (it owns leases).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        contexts: Contexts,
        providers: Arc<Registry>,
        tools: Option<Arc<dyn ToolRunner>>,
        gateway_hooks: Arc<dyn GatewayHooks>,
        hooks: Arc<dyn ChatHooks>,
        public_url: String,
        tool_timeout: Duration,
    ) -> Self {
        Self {
            store: contexts.store().clone(),
            keys: contexts.keys().clone(),
            contexts,
            settings: providers.environment().clone(),
            providers,
            tools,
            catalogues: None,
            gateway_hooks,
            hooks,
            public_url,
            replica: format!("replica-{}", uuid()),
            tool_timeout,
            running: control::Running::default(),
        }
    }

    /// The engine giving each principal its own catalogue.
    pub fn with_catalogues(mut self, c: Arc<dyn Catalogues>) -> Self {
        self.catalogues = Some(c);
        self
    }

    /// The catalogue `p` runs tools from.
    pub(crate) async fn tools_for(
        &self,
        p: &portal_core::identity::Principal,
    ) -> Option<Arc<dyn ToolRunner>> {
        match &self.catalogues {
            Some(c) => c.for_principal(p).await,
            None => self.tools.clone(),
        }
    }

    /// The models callers may pick now (empty when none is configured).
    pub async fn models(&self) -> Vec<ModelInfo> {
        self.providers.models().await
    }

    /// Starts a turn for `p`: checks the request, creates the session if needed,
    /// reserves the turn (one at a time per session) and runs it in the background.
    pub async fn start(
        self: &Arc<Self>,
        p: Arc<Principal>,
        req: NewTurn,
    ) -> Result<Started, CoreError> {
        p.require(Permission::SessionsWrite)?;
        let org = p.org()?.clone();
        let message = req.message;
        if message.trim().is_empty() {
            return Err(CoreError::Validation(
                "body/message: must not be empty".into(),
            ));
        }
        let max = self.settings.chat.max_input_chars;
        if message.chars().count() > max {
            return Err(CoreError::Validation(format!(
                "body/message: longer than {max} characters"
            )));
        }
        let models = self.models().await;
        let model = match req.model {
            Some(m) if models.iter().any(|x| x.id == m) => Some(m),
            Some(m) if models.is_empty() => {
                return Err(CoreError::Validation(format!(
                    "body/model: no model is configured, so {m:?} is not available"
                )))
            }
            Some(m) => {
                return Err(CoreError::Validation(format!(
                    "body/model: {m:?} is not one of the available models (GET /api/models)"
                )))
            }
            None => models.iter().find(|m| m.default).map(|m| m.id.clone()),
        };
        let now = now_ms();
        let new_session = |id: portal_core::ids::SessionId| ChatSession {
            id,
            org_id: org.id.clone(),
            principal_id: p.id.clone(),
            title: None,
            model: model.clone().unwrap_or_else(|| "none".into()),
            status: "active".into(),
            message_count: 0,
            created_at: now,
            updated_at: now,
        };
        let session_id = match req.session {
            SessionRef::Existing(id) => {
                self.store
                    .get_chat_session(&org.id, &p.id, &id)
                    .await?
                    .ok_or_else(|| CoreError::NotFound("Session not found".into()))?
                    .id
            }
            SessionRef::New => {
                let s = new_session(uuid().into());
                self.store.create_chat_session(&s).await?;
                s.id
            }
            SessionRef::Client(id) => {
                if self
                    .store
                    .get_chat_session(&org.id, &p.id, &id)
                    .await?
                    .is_none()
                {
                    match self
                        .store
                        .create_chat_session(&new_session(id.clone()))
                        .await
                    {
                        Ok(()) => {}
                        // Created by a racing request of the same principal: use it.
                        Err(StoreError::Conflict(_))
                            if self
                                .store
                                .get_chat_session(&org.id, &p.id, &id)
                                .await?
                                .is_some() => {}
                        Err(StoreError::Conflict(_)) => {
                            return Err(CoreError::Conflict(
                                "body/id: this chat id is taken; choose another".into(),
                            ))
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                id
            }
        };
        let state = TurnState {
            principal: PrincipalSnapshot::of(&p),
            model,
            message_id: format!("msg-{}", uuid()),
            rounds: 0,
            used_ms: 0,
            usage: Usage::default(),
            pending: Vec::new(),
            direct: false,
            blocks: 0,
            ip: req.ip,
        };
        let turn = ChatTurn {
            id: uuid(),
            org_id: org.id.clone(),
            session_id: session_id.clone(),
            principal_id: p.id.clone(),
            status: TurnStatus::Running,
            approval_id: None,
            state: serde_json::to_string(&state).map_err(|e| CoreError::Internal(e.to_string()))?,
            lease_owner: Some(self.replica.clone()),
            lease_until: now + LEASE.as_millis() as i64,
            created_at: now,
            updated_at: now,
        };
        let mut created = self.store.create_chat_turn(&turn).await;
        if matches!(created, Err(StoreError::Conflict(_))) {
            // A turn waiting for an approval, or one the job queue gave up on, does
            // not hold the session hostage: a new message ends it (a later decision
            // then wakes nothing).
            if let Some(old) = self
                .store
                .supersede_chat_turn(&org.id, &session_id, now)
                .await?
            {
                self.close_superseded(&old).await?;
                created = self.store.create_chat_turn(&turn).await;
            }
        }
        match created {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(CoreError::Conflict(format!(
                "A turn is still in progress in this session (it may be waiting for an approval); \
                     follow it at /api/chat/{session_id}/stream"
            )))
            }
            Err(e) => return Err(e.into()),
        }
        let (tx, rx) = mpsc::channel(256);
        let sink = sink::Sink::open(self.store.clone(), &session_id, &turn.id, Some(tx)).await?;
        let turn_id = turn.id.clone();
        let stop = self.track(&org.id, &turn.id);
        let runner = Runner::new(self.clone(), turn, state, (*p).clone(), sink, stop);
        tokio::spawn(portal_telemetry::in_current_span(runner.run_new(message)));
        Ok(Started {
            session_id,
            turn_id,
            frames: rx,
        })
    }

    /// Answers the tool calls a superseded turn left pending, so the conversation the
    /// model sees stays well formed (every call has a result).
    pub(crate) async fn close_superseded(&self, old: &ChatTurn) -> Result<(), CoreError> {
        let Ok(state) = serde_json::from_str::<TurnState>(&old.state) else {
            return Ok(());
        };
        let now = now_ms();
        let results: Vec<portal_core::model::ChatMessage> = state
            .pending
            .iter()
            .map(|c| portal_core::model::ChatMessage {
                id: uuid(),
                session_id: old.session_id.clone(),
                seq: 0,
                role: "tool".into(),
                content: "Not run: the user sent a new message before this call was approved."
                    .into(),
                meta: Meta {
                    tool_call_id: Some(c.id.clone()),
                    tool_name: Some(c.name.clone()),
                    ..Meta::default()
                }
                .to_column(),
                created_at: now,
            })
            .collect();
        if !results.is_empty() {
            self.store
                .append_chat_messages(&old.org_id, &old.session_id, &results, now)
                .await?;
        }
        Ok(())
    }
}
