//! One chat turn, from the user's message to the model's final answer: model
//! rounds, tool calls through the gateway as the asking principal, approval
//! pauses, and resumption by whichever replica claims the turn.

use portal_core::ids::ApprovalId;
use portal_core::kinds::AuditAction;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use portal_core::identity::{now_ms, Principal, PrincipalSnapshot};
use portal_core::journal::Journal;
use portal_core::model::{ChatMessage, ChatTurn, TurnStatus};
use portal_core::service::tools::{self as gateway, ToolRunner};
use portal_core::service::Ctx;
use portal_core::tools::REDACTED;
use portal_core::CoreError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tracing::Instrument;

use super::control::StopSignal;
use super::memory::{self, Meta};
use super::parts::End;
use super::sink::Sink;
use super::{command, durable, parts, prompt, ChatEngine};
use crate::guard::{input, redact};
use crate::provider::{
    ChatRequest, FinishReason, Message, ProviderError, StreamEvent, ToolCall, ToolDef, Usage,
};

/// How long a runner's lease on a turn lasts between renewals.
/// Longer than a tool may run, so a live runner never loses it mid-call.
pub(crate) const LEASE: Duration = Duration::from_secs(180);
/// Renew the lease when less than this is left (more than the tool timeout).
const RENEW_BEFORE: Duration = Duration::from_secs(120);
/// Messages read to build the model's window (the window plus summaries around it).
const READ_SLACK: i64 = 20;

/// What a turn remembers between runs (stored as JSON in the turn row).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TurnState {
    pub principal: PrincipalSnapshot,
    pub model: Option<String>,
    pub message_id: String,
    pub rounds: u32,
    pub used_ms: u64,
    pub usage: Usage,
    pub pending: Vec<PendingCall>,
    pub direct: bool,
    pub blocks: u32,
    #[serde(default)]
    pub ip: Option<std::net::IpAddr>,
}

/// A tool call not yet run. Its arguments are sealed: they may hold secrets.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PendingCall {
    pub id: String,
    pub name: String,
    pub sealed_args: String,
    pub approval_id: Option<ApprovalId>,
    pub announced: bool,
    /// The id the gateway binds an approval to: the call's id namespaced by
    /// the turn and this call, because providers reuse ids such as `call_0`
    /// (an approval spent or expired under one must not block the next call).
    /// Absent in states saved before it existed (then the call's own id).
    #[serde(default)]
    pub gateway_id: Option<String>,
}

/// How a step of the turn ended.
enum Step {
    Continue,
    Finish(End),
    Paused,
    /// Stopped on purpose (`POST /api/chat/{id}/stop`); a client going away does not stop a turn.
    Stopped,
}

/// Why a turn stopped early.
#[derive(Debug)]
pub(crate) enum Abort {
    /// Storage failed; the turn cannot go on.
    Store(String),
    /// The model provider failed.
    Provider(ProviderError),
    /// Another replica took the turn over (our lease lapsed).
    LostLease,
    /// The database is away (retried by the caller, then a `Store` abort).
    Unavailable,
}

impl From<portal_core::StoreError> for Abort {
    fn from(e: portal_core::StoreError) -> Self {
        Abort::Store(e.to_string())
    }
}

impl From<CoreError> for Abort {
    fn from(e: CoreError) -> Self {
        Abort::Store(e.to_string())
    }
}

/// A turn being run by this replica.
pub(crate) struct Runner {
    engine: Arc<ChatEngine>,
    turn: ChatTurn,
    state: TurnState,
    principal: Principal,
    /// The principal's catalogue, resolved when the turn starts running.
    tools: Option<Arc<dyn ToolRunner>>,
    sink: Sink,
    started: Instant,
    /// Who holds the turn's lease: this replica, or one attempt of its job.
    owner: String,
    lease_until: i64,
    /// Cancelled by an explicit stop.
    stop: StopSignal,
}

fn seal_context(turn_id: &str, call_id: &str) -> String {
    portal_core::keyring::chat_turn_context(turn_id, call_id)
}

/// A message a user may see for a failed gateway call (never internals).
fn public_message(e: &CoreError) -> String {
    match e {
        CoreError::Internal(_) => "internal error".into(),
        CoreError::Unavailable => "the database is unavailable; retry shortly".into(),
        other => other.to_string(),
    }
}

impl Runner {
    pub(crate) fn new(
        engine: Arc<ChatEngine>,
        turn: ChatTurn,
        state: TurnState,
        principal: Principal,
        sink: Sink,
        stop: StopSignal,
    ) -> Self {
        let lease_until = turn.lease_until;
        let owner = turn
            .lease_owner
            .clone()
            .unwrap_or_else(|| engine.replica.clone());
        Self {
            tools: engine.tools.clone(),
            engine,
            turn,
            state,
            principal,
            sink,
            started: Instant::now(),
            owner,
            lease_until,
            stop,
        }
    }

    fn ctx(&self) -> Ctx<'_> {
        self.engine.contexts.ctx(self.state.ip, Some("portal-chat"))
    }

    fn used(&self) -> Duration {
        Duration::from_millis(self.state.used_ms) + self.started.elapsed()
    }

    fn remaining(&self) -> Duration {
        self.engine
            .settings
            .chat
            .turn_budget
            .saturating_sub(self.used())
    }

    async fn emit(&mut self, part: Value) -> Result<(), Abort> {
        self.sink.emit(part).await?;
        Ok(())
    }

    /// Saves status and state under our lease; `LostLease` when another replica has it.
    /// Retried for a while when the database is away.
    async fn save(
        &mut self,
        status: TurnStatus,
        approval_id: Option<ApprovalId>,
    ) -> Result<(), Abort> {
        self.save_within(status, approval_id, durable::RETRY_FOR)
            .await
    }

    /// [`Self::save`], retrying for up to `within`.
    async fn save_within(
        &mut self,
        status: TurnStatus,
        approval_id: Option<ApprovalId>,
        within: Duration,
    ) -> Result<(), Abort> {
        let mut backoff = durable::Backoff::new(within);
        loop {
            match self.save_once(status, approval_id.clone()).await {
                Err(Abort::Unavailable) if backoff.wait("chat turn").await => {}
                Err(Abort::Unavailable) => return Err(Abort::Store("database unavailable".into())),
                other => return other,
            }
        }
    }

    async fn save_once(
        &mut self,
        status: TurnStatus,
        approval_id: Option<ApprovalId>,
    ) -> Result<(), Abort> {
        let now = now_ms();
        let mut state = self.state.clone();
        state.used_ms = self.used().as_millis() as u64;
        self.turn.status = status;
        self.turn.approval_id = approval_id;
        self.turn.state = serde_json::to_string(&state).map_err(|e| Abort::Store(e.to_string()))?;
        let terminal = status.is_finished();
        let until = if terminal {
            0
        } else {
            now + LEASE.as_millis() as i64
        };
        let owner = self.owner.clone();
        let saved = match self
            .engine
            .store
            .save_chat_turn(&self.turn, &owner, until, now)
            .await
        {
            Err(portal_core::StoreError::Unavailable) => return Err(Abort::Unavailable),
            other => other?,
        };
        if !saved {
            return Err(Abort::LostLease);
        }
        self.lease_until = until;
        Ok(())
    }

    async fn renew_if_due(&mut self) -> Result<(), Abort> {
        if self.lease_until - now_ms() < RENEW_BEFORE.as_millis() as i64 {
            let approval = self.turn.approval_id.clone();
            self.save(TurnStatus::Running, approval).await?;
        }
        Ok(())
    }

    /// Stores a message; while the database is away the message is kept and
    /// the write retried (with the same id, so it is stored once).
    fn message(&self, role: &str, content: &str, meta: Meta) -> ChatMessage {
        ChatMessage {
            id: super::uuid(),
            session_id: self.turn.session_id.clone(),
            seq: 0,
            role: role.to_string(),
            content: content.to_string(),
            meta: meta.to_column(),
            created_at: now_ms(),
        }
    }

    async fn store_message(&self, role: &str, content: &str, meta: Meta) -> Result<(), Abort> {
        let m = self.message(role, content, meta);
        self.store_messages(std::slice::from_ref(&m), Journal::NONE)
            .await
    }

    /// Stores `messages` with the journal `j`, in one transaction (retried).
    async fn store_messages(&self, messages: &[ChatMessage], j: &Journal<'_>) -> Result<(), Abort> {
        let store = &self.engine.store;
        let (org, session) = (&self.turn.org_id, &self.turn.session_id);
        durable::retry("chat message", durable::RETRY_FOR, || async {
            store
                .append_chat_messages_recorded(org, session, messages, now_ms(), j)
                .await
                .map(drop)
        })
        .await?;
        Ok(())
    }

    fn next_block(&mut self) -> String {
        self.state.blocks += 1;
        format!("{}-t{}", self.state.message_id, self.state.blocks)
    }

    /// A whole text block (already safe to show).
    async fn say(&mut self, text: &str) -> Result<(), Abort> {
        let id = self.next_block();
        self.emit(parts::text_start(&id)).await?;
        self.emit(parts::text_delta(&id, text)).await?;
        self.emit(parts::text_end(&id)).await
    }

    async fn finish(&mut self, end: &End) -> Result<(), Abort> {
        let usage = self.state.usage;
        self.emit(parts::finish(end, usage)).await?;
        self.sink.flush().await?;
        Ok(())
    }

    /// Runs a new turn for `message` (already checked for length).
    pub(crate) async fn run_new(mut self, message: String) {
        self.tools = self.engine.tools_for(&self.principal).await;
        let outcome = self.new_turn(&message).await;
        self.conclude(outcome).await;
    }

    /// Resumes a turn after its approval was decided.
    pub(crate) async fn run_resumed(mut self) {
        self.tools = self.engine.tools_for(&self.principal).await;
        let outcome = self.resumed().await;
        self.conclude(outcome).await;
    }

    async fn new_turn(&mut self, message: &str) -> Result<Step, Abort> {
        let message_id = self.state.message_id.clone();
        self.emit(parts::start(
            &message_id,
            &self.turn.session_id,
            &self.turn.id,
        ))
        .await?;
        let clean = redact::redact(message);
        for hit in &clean.hits {
            self.engine.hooks.guardrail(hit.kind.as_str());
        }
        // What is kept of the message (stored, titled, fed back to the model):
        // a `/tool` command's secret arguments redacted by the tool's spec (M4).
        let specs = self.tools.as_ref().map(|t| t.specs()).unwrap_or_default();
        let clean = redact::redact(&command::redacted(message, &specs));
        if let Err(refusal) = input::check(message, self.engine.settings.chat.max_input_chars) {
            self.engine.hooks.guardrail(refusal.category.as_str());
            let meta = Meta {
                refused: true,
                ..Meta::default()
            };
            // The refused message, the refusal and its audit entry: one transaction.
            let messages = [
                self.message("user", &clean.text, meta.clone()),
                self.message("assistant", &refusal.explanation, meta),
            ];
            let ctx = self.ctx();
            let mut j = ctx.journal();
            j.audit(
                Some(&self.turn.org_id),
                &self.principal.actor(),
                AuditAction::ChatRefused,
                None,
                "refused",
                json!({"sessionId": self.turn.session_id, "category": refusal.category.as_str(), "rule": refusal.rule}),
            );
            self.store_messages(&messages, &j).await?;
            let explanation = refusal.explanation.clone();
            self.say(&explanation).await?;
            return Ok(Step::Finish(End::ContentFilter));
        }
        self.store_message("user", &clean.text, Meta::default())
            .await?;
        let title = memory::title_from(&clean.text);
        if !title.is_empty() {
            self.engine
                .store
                .set_chat_title_if_unset(&self.turn.org_id, &self.turn.session_id, &title, now_ms())
                .await?;
        }
        if let Some(direct) = message.trim_start().strip_prefix("/tool") {
            self.state.direct = true;
            return self.direct(direct.trim()).await;
        }
        if !self.engine.providers.any().await {
            let text = "No AI model is configured on this portal, so I cannot answer in words. \
An administrator can add one under Admin → AI providers, or set one up with PORTAL_AI_PROVIDER (openai, anthropic or oci), PORTAL_AI_MODEL \
and, for hosted providers, PORTAL_AI_API_KEY (see the README's Chat section). You can still run any \
tool directly: send `/tool NAME {json arguments}`, for example `/tool listCompartments {}`.";
            self.store_message("assistant", text, Meta::default())
                .await?;
            self.say(text).await?;
            return Ok(Step::Finish(End::Stop));
        }
        self.agent().await
    }

    async fn resumed(&mut self) -> Result<Step, Abort> {
        let message_id = self.state.message_id.clone();
        self.emit(parts::start(
            &message_id,
            &self.turn.session_id,
            &self.turn.id,
        ))
        .await?;
        match self.run_pending().await? {
            Step::Continue if self.state.direct => Ok(Step::Finish(End::Stop)),
            Step::Continue => self.agent().await,
            other => Ok(other),
        }
    }

    /// `/tool NAME {json}`: one tool call through the gateway, no model.
    async fn direct(&mut self, command: &str) -> Result<Step, Abort> {
        let (name, rest) = match command.split_once(char::is_whitespace) {
            Some((n, r)) => (n.trim(), r.trim()),
            None => (command, ""),
        };
        let args = if rest.is_empty() { "{}" } else { rest };
        let parsed: Option<Map<String, Value>> = serde_json::from_str(args).ok();
        let (Some(_), false) = (parsed, name.is_empty()) else {
            let text = "Usage: `/tool NAME {json arguments}`, e.g. `/tool listInstances {\"lifecycleState\": \"RUNNING\"}`. The arguments must be one JSON object.";
            self.store_message("assistant", text, Meta::default())
                .await?;
            self.say(text).await?;
            return Ok(Step::Finish(End::Stop));
        };
        let call_id = format!("direct-{}", super::uuid());
        let call = ToolCall {
            id: call_id,
            name: name.to_string(),
            arguments: args.to_string(),
        };
        let display = self.display_args(&call.name, &call.arguments);
        let meta = Meta {
            tool_calls: vec![ToolCall {
                arguments: display.to_string(),
                ..call.clone()
            }],
            ..Meta::default()
        };
        self.store_message("assistant", "", meta).await?;
        self.state.pending = vec![self.pending_of(&call)];
        match self.run_pending().await? {
            Step::Continue => Ok(Step::Finish(End::Stop)),
            other => Ok(other),
        }
    }

    fn pending_of(&self, call: &ToolCall) -> PendingCall {
        PendingCall {
            id: call.id.clone(),
            name: call.name.clone(),
            sealed_args: self.engine.keys.seal(
                &seal_context(&self.turn.id, &call.id),
                call.arguments.as_bytes(),
            ),
            approval_id: None,
            announced: false,
            gateway_id: Some(format!("{}:{}:{}", self.turn.id, super::uuid(), call.id)),
        }
    }

    /// Arguments as anyone may see them: secret (`writeOnly`) fields redacted.
    fn display_args(&self, tool: &str, raw: &str) -> Value {
        let mut v: Value = serde_json::from_str(raw).unwrap_or_else(|_| json!({}));
        let spec = self.tools.as_ref().and_then(|t| t.spec(tool));
        if let (Some(spec), Some(obj)) = (spec, v.as_object_mut()) {
            for p in spec.params.iter().filter(|p| p.secret) {
                if obj.contains_key(p.name) {
                    obj.insert(p.name.to_string(), Value::String(REDACTED.into()));
                }
            }
        }
        v
    }

    /// Runs the calls waiting in the state, in order, until one needs an approval.
    async fn run_pending(&mut self) -> Result<Step, Abort> {
        while let Some(call) = self.state.pending.first().cloned() {
            if self.stop.is_cancelled() {
                return Ok(Step::Stopped);
            }
            self.renew_if_due().await?;
            let raw = self
                .engine
                .keys
                .open(&seal_context(&self.turn.id, &call.id), &call.sealed_args)
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            if !call.announced {
                let display = self.display_args(&call.name, &raw);
                self.emit(parts::tool_input_start(&call.id, &call.name))
                    .await?;
                self.emit(parts::tool_input_delta(&call.id, &display.to_string()))
                    .await?;
                self.emit(parts::tool_input_available(&call.id, &call.name, &display))
                    .await?;
                if let Some(first) = self.state.pending.first_mut() {
                    first.announced = true;
                }
            }
            self.sink.flush().await?;
            let outcome = self.execute(&call, &raw).await;
            match outcome {
                Ok(result) => {
                    let text = memory::result_text(&result);
                    let clean = redact::redact(&text);
                    for hit in &clean.hits {
                        self.engine.hooks.guardrail(hit.kind.as_str());
                    }
                    let shown = if clean.hits.is_empty() {
                        result
                    } else {
                        serde_json::from_str(&clean.text)
                            .unwrap_or(Value::String(clean.text.clone()))
                    };
                    self.emit(parts::tool_output_available(&call.id, &shown))
                        .await?;
                    self.store_tool_result(&call, &clean.text).await?;
                }
                Err(CoreError::ApprovalRequired(a)) => {
                    let url = portal_core::service::approvals::approve_url(
                        &self.engine.public_url,
                        &a.id,
                    );
                    let args: Value = serde_json::from_str(&a.args_redacted).unwrap_or(Value::Null);
                    self.emit(parts::approval_required(
                        &a.id, &call.id, &call.name, &args, &url,
                    ))
                    .await?;
                    self.emit(parts::tool_approval_request(&a.id, &call.id))
                        .await?;
                    if let Some(first) = self.state.pending.first_mut() {
                        first.approval_id = Some(a.id.clone());
                    }
                    if self.state.direct {
                        self.say(&format!(
                            "{} changes the cloud and needs an approval. An approver can decide at {url}; this turn resumes by itself once they do.",
                            call.name
                        ))
                        .await?;
                    }
                    self.save(TurnStatus::AwaitingApproval, Some(a.id.clone()))
                        .await?;
                    return Ok(Step::Paused);
                }
                Err(e) => {
                    let message = public_message(&e);
                    let part = if self.was_rejected(&call, &e).await {
                        parts::tool_output_denied(&call.id, &message)
                    } else {
                        parts::tool_output_error(&call.id, &message)
                    };
                    self.emit(part).await?;
                    self.store_tool_result(&call, &format!("Error: {message}"))
                        .await?;
                }
            }
            self.state.pending.remove(0);
        }
        Ok(Step::Continue)
    }

    /// Whether a call failed because its approver said no.
    async fn was_rejected(&self, call: &PendingCall, e: &CoreError) -> bool {
        let (Some(id), CoreError::Forbidden(_)) = (&call.approval_id, e) else {
            return false;
        };
        matches!(
            self.engine.store.get_approval(&self.turn.org_id, id).await,
            Ok(Some(a)) if a.status == "rejected"
        )
    }

    async fn store_tool_result(&self, call: &PendingCall, content: &str) -> Result<(), Abort> {
        let meta = Meta {
            tool_call_id: Some(call.id.clone()),
            tool_name: Some(call.name.clone()),
            ..Meta::default()
        };
        self.store_message("tool", content, meta).await
    }

    async fn execute(&self, call: &PendingCall, raw: &str) -> Result<Value, CoreError> {
        let Some(tools) = self.tools.clone() else {
            return Err(CoreError::NotFound(
                "No cloud is configured (PORTAL_CLOUD=none): tools are unavailable".into(),
            ));
        };
        let args: Value = serde_json::from_str(raw).map_err(|_| {
            CoreError::Validation(format!("the arguments of {} are not valid JSON", call.name))
        })?;
        let ctx = self.ctx();
        let req = gateway::Request {
            name: &call.name,
            args: &args,
            tool_call_id: Some(call.gateway_id.as_deref().unwrap_or(&call.id)),
            approval_id: call.approval_id.as_ref(),
        };
        let done = gateway::execute(
            &ctx,
            tools.as_ref(),
            self.engine.gateway_hooks.as_ref(),
            &self.principal,
            req,
            self.engine.tool_timeout,
        )
        .await?;
        Ok(json!({"cloud": done.cloud, "result": done.result}))
    }

    /// The tools the principal may run, as the model's tool schema.
    fn tool_defs(&self) -> Vec<ToolDef> {
        let Some(tools) = &self.tools else {
            return Vec::new();
        };
        tools
            .specs()
            .iter()
            .filter(|s| gateway::may_run(&self.principal, s))
            .map(|s| ToolDef {
                name: s.name.to_string(),
                description: format!("{} (risk: {})", s.description, s.risk.as_str()),
                parameters: s.schema(),
            })
            .collect()
    }

    /// Model rounds until the model answers without tool calls, or a limit or pause.
    async fn agent(&mut self) -> Result<Step, Abort> {
        loop {
            match self.model_round().await? {
                Step::Continue => {}
                other => return Ok(other),
            }
            match self.run_pending().await? {
                Step::Continue => {}
                other => return Ok(other),
            }
        }
    }

    async fn model_round(&mut self) -> Result<Step, Abort> {
        let Some(picked) = self
            .engine
            .providers
            .pick(self.state.model.as_deref())
            .await
        else {
            return Ok(Step::Finish(End::Stop));
        };
        let provider = picked.provider;
        if self.remaining().is_zero() {
            let secs = self.engine.settings.chat.turn_budget.as_secs();
            self.say(&format!("I stopped here: this turn reached its time budget of {secs} s. Ask me to continue if you want more."))
                .await?;
            return Ok(Step::Finish(End::TimeLimit));
        }
        let model = picked.model;
        let window = self.engine.settings.chat.history_messages;
        let session = self
            .engine
            .store
            .get_chat_session(
                &self.turn.org_id,
                &self.turn.principal_id,
                &self.turn.session_id,
            )
            .await?;
        let count = session.map(|s| s.message_count).unwrap_or(0);
        let after = (count - window as i64 - READ_SLACK).max(0);
        let stored = self
            .engine
            .store
            .list_chat_messages(
                &self.turn.org_id,
                &self.turn.session_id,
                after,
                window as i64 + READ_SLACK * 2,
            )
            .await?;
        let mut history = memory::history(&stored, window);
        if let Some(before) = history.unsummarised_before {
            if let Some(summary) = self.summarise(&provider, &model, before).await {
                history.summary = Some(summary);
            }
        }
        let cloud = self
            .engine
            .tools
            .as_ref()
            .map(|t| t.cloud())
            .unwrap_or("no");
        let request = ChatRequest {
            model: model.clone(),
            system: prompt::system(cloud, history.summary.as_deref()),
            messages: history.messages,
            tools: self.tool_defs(),
            max_tokens: self.engine.settings.chat.max_output_tokens,
        };
        self.emit(parts::start_step()).await?;
        // Followers on other replicas see everything up to here while the model thinks.
        self.sink.flush().await?;
        let asked = Instant::now();
        let deadline = tokio::time::Instant::now() + self.remaining();
        // The model call's span lasts until its stream is dropped; the request
        // to the provider is sent inside it (its traceparent names this span).
        let span = if portal_telemetry::enabled() {
            tracing::info_span!(
                target: "otel",
                "model",
                otel.name = %format_args!("chat {model}"),
                otel.kind = "client",
                gen_ai.system = %provider.kind(),
                gen_ai.request.model = %model,
                gen_ai.usage.input_tokens = tracing::field::Empty,
                gen_ai.usage.output_tokens = tracing::field::Empty,
            )
        } else {
            tracing::Span::none()
        };
        let opened = tokio::select! {
            r = provider.stream(request).instrument(span.clone()) => r,
            _ = self.stop.cancelled() => return Ok(Step::Stopped),
            _ = tokio::time::sleep_until(deadline) => return self.out_of_time().await,
        };
        let mut stream = opened.map_err(Abort::Provider)?;
        let mut redactor = redact::StreamRedactor::new();
        let mut text = String::new();
        let mut block: Option<String> = None;
        let mut calls: Vec<(String, String, String)> = Vec::new();
        let mut first_token = true;
        let finish;
        loop {
            let next = tokio::select! {
                ev = stream.next() => ev,
                _ = self.stop.cancelled() => {
                    self.keep_partial(&mut redactor, &mut block, &mut text).await?;
                    return Ok(Step::Stopped);
                }
                _ = tokio::time::sleep_until(deadline) => return self.out_of_time().await,
            };
            let Some(ev) = next else {
                return Err(Abort::Provider(ProviderError::Protocol(
                    "the stream ended without finishing".into(),
                )));
            };
            let ev = ev.map_err(Abort::Provider)?;
            if first_token {
                first_token = false;
                self.engine.hooks.first_token(
                    provider.kind(),
                    &model,
                    asked.elapsed().as_secs_f64(),
                );
            }
            match ev {
                StreamEvent::TextDelta(d) => {
                    let safe = redactor.push(&d);
                    self.stream_text(&mut block, &mut text, &safe).await?;
                }
                StreamEvent::ToolCallStart { index, id, name } => {
                    if calls.len() <= index {
                        calls.resize(index + 1, (String::new(), String::new(), String::new()));
                    }
                    calls[index] = (id, name, String::new());
                }
                StreamEvent::ToolCallDelta { index, delta } => {
                    if let Some(c) = calls.get_mut(index) {
                        c.2.push_str(&delta);
                    }
                }
                StreamEvent::Finish { reason, usage } => {
                    finish = reason;
                    self.state.usage.input_tokens += usage.input_tokens;
                    self.state.usage.output_tokens += usage.output_tokens;
                    span.record(
                        "gen_ai.usage.input_tokens",
                        i64::try_from(usage.input_tokens).unwrap_or(i64::MAX),
                    );
                    span.record(
                        "gen_ai.usage.output_tokens",
                        i64::try_from(usage.output_tokens).unwrap_or(i64::MAX),
                    );
                    self.engine.hooks.tokens(
                        provider.kind(),
                        &model,
                        usage.input_tokens,
                        usage.output_tokens,
                    );
                    break;
                }
            }
            self.renew_if_due().await?;
        }
        drop(stream);
        drop(span);
        let tail = redactor.finish();
        for hit in redactor.hits() {
            self.engine.hooks.guardrail(hit.kind.as_str());
        }
        self.stream_text(&mut block, &mut text, &tail).await?;
        if let Some(id) = block {
            self.emit(parts::text_end(&id)).await?;
        }
        self.emit(parts::finish_step()).await?;
        let calls: Vec<ToolCall> = calls
            .into_iter()
            .filter(|(id, name, _)| !id.is_empty() && !name.is_empty())
            .map(|(id, name, arguments)| ToolCall {
                id,
                name,
                arguments: if arguments.trim().is_empty() {
                    "{}".into()
                } else {
                    arguments
                },
            })
            .collect();
        let shown: Vec<ToolCall> = calls
            .iter()
            .map(|c| ToolCall {
                arguments: self.display_args(&c.name, &c.arguments).to_string(),
                ..c.clone()
            })
            .collect();
        self.store_message(
            "assistant",
            &text,
            Meta {
                tool_calls: shown,
                ..Meta::default()
            },
        )
        .await?;
        if calls.is_empty() {
            return Ok(Step::Finish(match finish {
                FinishReason::Length => End::Length,
                FinishReason::ContentFilter => End::ContentFilter,
                _ => End::Stop,
            }));
        }
        self.state.rounds += 1;
        if self.state.rounds > self.engine.settings.chat.max_rounds {
            for c in &calls {
                let p = self.pending_of(c);
                self.store_tool_result(&p, "Not run: this turn reached its limit of tool rounds.")
                    .await?;
            }
            let n = self.engine.settings.chat.max_rounds;
            self.say(&format!("I stopped here: this turn reached its limit of {n} tool rounds. Ask me to continue if you want more."))
                .await?;
            return Ok(Step::Finish(End::RoundLimit));
        }
        self.state.pending = calls.iter().map(|c| self.pending_of(c)).collect();
        Ok(Step::Continue)
    }

    /// Streams redacted text into the open text block (opening one if needed).
    async fn stream_text(
        &mut self,
        block: &mut Option<String>,
        text: &mut String,
        safe: &str,
    ) -> Result<(), Abort> {
        if safe.is_empty() {
            return Ok(());
        }
        let id = match block {
            Some(id) => id.clone(),
            None => {
                let id = self.next_block();
                self.emit(parts::text_start(&id)).await?;
                *block = Some(id.clone());
                id
            }
        };
        text.push_str(safe);
        self.emit(parts::text_delta(&id, safe)).await
    }

    async fn out_of_time(&mut self) -> Result<Step, Abort> {
        let secs = self.engine.settings.chat.turn_budget.as_secs();
        self.emit(parts::error(&format!(
            "This turn ran out of its time budget ({secs} s) and was stopped."
        )))
        .await?;
        Ok(Step::Finish(End::TimeLimit))
    }

    /// Summarises the messages before `before` (best effort) and stores the summary.
    async fn summarise(
        &self,
        provider: &Arc<dyn crate::provider::Provider>,
        model: &str,
        before: i64,
    ) -> Option<String> {
        let from = (before - 200).max(0);
        let older = self
            .engine
            .store
            .list_chat_messages(
                &self.turn.org_id,
                &self.turn.session_id,
                from,
                before - from - 1,
            )
            .await
            .ok()?;
        let transcript: String = older
            .iter()
            .filter(|m| !Meta::of(m).refused)
            .map(|m| {
                format!(
                    "{}: {}\n",
                    m.role,
                    m.content.chars().take(2000).collect::<String>()
                )
            })
            .collect();
        if transcript.is_empty() {
            return None;
        }
        let request = ChatRequest {
            model: model.to_string(),
            system: prompt::SUMMARISE.to_string(),
            messages: vec![Message::user(crate::guard::fence::tool_output(
                "transcript",
                &transcript,
            ))],
            tools: Vec::new(),
            max_tokens: 400,
        };
        let mut stream = provider.stream(request).await.ok()?;
        let mut out = String::new();
        while let Some(Ok(ev)) = stream.next().await {
            match ev {
                StreamEvent::TextDelta(d) => out.push_str(&d),
                StreamEvent::Finish { .. } => break,
                _ => {}
            }
        }
        let summary = redact::redact(out.trim()).text;
        if summary.is_empty() {
            return None;
        }
        let meta = Meta {
            through_seq: Some(before - 1),
            ..Meta::default()
        };
        self.store_message("summary", &summary, meta).await.ok()?;
        Some(summary)
    }

    /// A stopped turn: the calls it had not run are answered (so the model's
    /// view of the conversation stays well formed), then `abort` and the finish.
    async fn stopped(&mut self) -> Result<(), Abort> {
        for call in std::mem::take(&mut self.state.pending) {
            self.store_tool_result(&call, "Not run: the user stopped this turn.")
                .await?;
            if call.announced {
                self.emit(parts::tool_output_error(
                    &call.id,
                    "Not run: the user stopped this turn.",
                ))
                .await?;
            }
        }
        self.emit(parts::abort("stopped by the user")).await?;
        self.finish(&End::Stopped).await
    }

    /// Keeps what the model had said when the turn was stopped mid-answer: the
    /// open text block is closed, and the text stored as the model's message.
    async fn keep_partial(
        &mut self,
        redactor: &mut redact::StreamRedactor,
        block: &mut Option<String>,
        text: &mut String,
    ) -> Result<(), Abort> {
        let tail = redactor.finish();
        self.stream_text(block, text, &tail).await?;
        if let Some(id) = block.take() {
            self.emit(parts::text_end(&id)).await?;
        }
        self.emit(parts::finish_step()).await?;
        if !text.is_empty() {
            let kept = std::mem::take(text);
            self.store_message("assistant", &kept, Meta::default())
                .await?;
        }
        Ok(())
    }

    /// Ends the run: the final parts, the turn's status, metrics.
    async fn conclude(&mut self, outcome: Result<Step, Abort>) {
        let result = match outcome {
            Ok(Step::Finish(end)) => {
                self.engine.hooks.rounds(self.state.rounds);
                match self.finish(&end).await {
                    Ok(()) => self.save(TurnStatus::Done, None).await,
                    Err(e) => Err(e),
                }
            }
            Ok(Step::Paused) => {
                let ids = self
                    .state
                    .pending
                    .iter()
                    .filter_map(|c| c.approval_id.clone())
                    .take(1)
                    .collect();
                self.finish(&End::AwaitingApproval(ids)).await
            }
            Ok(Step::Continue) => match self.finish(&End::Stop).await {
                Ok(()) => self.save(TurnStatus::Done, None).await,
                Err(e) => Err(e),
            },
            Ok(Step::Stopped) => {
                tracing::info!(turn = %self.turn.id, "chat turn stopped on request");
                match self.stopped().await {
                    Ok(()) => self.save(TurnStatus::Done, None).await,
                    Err(e) => Err(e),
                }
            }
            Err(Abort::LostLease) => {
                tracing::warn!(turn = %self.turn.id, "lost the lease on a chat turn; another replica has it");
                return;
            }
            Err(Abort::Provider(e)) => {
                tracing::warn!(turn = %self.turn.id, error = %e, "model provider failed");
                let _ = self.emit(parts::error(&e.to_string())).await;
                let _ = self.finish(&End::Error).await;
                self.save(TurnStatus::Failed, None).await
            }
            Err(Abort::Store(e)) => Err(Abort::Store(e)),
            Err(Abort::Unavailable) => Err(Abort::Store("database unavailable".into())),
        };
        if let Err(Abort::Store(e)) = result {
            // The database stayed away longer than the writes were retried: tell
            // the client, then keep trying (without it) to mark the turn failed,
            // so its session takes new messages instead of waiting for the lease.
            tracing::error!(turn = %self.turn.id, error = %e, "chat turn failed");
            let _ = self
                .emit(parts::error(
                    "The turn failed: storage is unavailable. Retry shortly.",
                ))
                .await;
            self.sink.detach();
            // Only while the lease is still ours (with a margin), so no other
            // replica has claimed the turn meanwhile.
            let left = self.lease_until - now_ms() - durable::LEASE_MARGIN.as_millis() as i64;
            let within = Duration::from_millis(left.max(0) as u64).min(durable::RELEASE_FOR);
            if let Err(e) = self.save_within(TurnStatus::Failed, None, within).await {
                tracing::warn!(turn = %self.turn.id, error = ?e, "could not record the end of a chat turn");
            }
        } else if let Err(e) = result {
            tracing::warn!(turn = %self.turn.id, error = ?e, "could not record the end of a chat turn");
        }
        let _ = self.sink.flush().await;
    }
}
