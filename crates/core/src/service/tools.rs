//! The tool gateway (ARCHITECTURE.md rule 2): the only way a tool runs, from
//! every entry point, as the calling principal: permission → argument
//! validation → compartment policy → approval policy (refusals audited) →
//! `started` audit entry and `running` execution record (fail closed) →
//! execution with a timeout → outcome and outbox event (`tool.executed`) in one
//! transaction, retried (see [`executions`]) → audit of the outcome → metrics.

use crate::kinds::AuditAction;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tracing::Instrument;

use super::auth::uuid_v4;
use super::{approvals, audit, executions, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::model::{Activity, ExecutionStatus};
use crate::rbac::Permission;
use crate::tools::{Risk, ToolSpec};

tokio::task_local! {
    /// The idempotency token of the tool call running in this task, if its
    /// caller has one (a workflow step attempt): runners send it as
    /// `opc-retry-token` on requests that create or change something, so a
    /// call repeated after a crash changes the cloud once.
    static RETRY_TOKEN: (String, std::sync::atomic::AtomicU32);
}

/// Runs `f` (a gateway execution) with `token` as its retry token.
pub async fn with_retry_token<F: std::future::Future>(token: String, f: F) -> F::Output {
    RETRY_TOKEN
        .scope((token, std::sync::atomic::AtomicU32::new(0)), f)
        .await
}

/// The retry token for the next changing request of the current tool call:
/// the token itself for the first, then `<token>-2`, `<token>-3`, … (the
/// same sequence when the call is repeated); `None` outside a tokened call.
pub fn next_retry_token() -> Option<String> {
    RETRY_TOKEN
        .try_with(
            |(token, n)| match n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
                0 => token.clone(),
                k => format!("{token}-{}", k + 1),
            },
        )
        .ok()
}

/// Why a tool run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// The cloud refused or failed the call (its message).
    Cloud(String),
    /// The thing asked about does not exist (offline data, e.g. an unknown shape).
    NotFound(String),
    /// The arguments are valid in shape but not in meaning.
    Invalid(String),
}

impl ToolError {
    /// The message, for the activity record.
    pub fn message(&self) -> &str {
        match self {
            ToolError::Cloud(m) | ToolError::NotFound(m) | ToolError::Invalid(m) => m,
        }
    }
}

impl From<String> for ToolError {
    fn from(m: String) -> Self {
        ToolError::Cloud(m)
    }
}

impl From<&str> for ToolError {
    fn from(m: &str) -> Self {
        ToolError::Cloud(m.to_string())
    }
}

/// Where a tool call acts, for the organisation's compartment policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// On no customer compartment: offline data or tenancy metadata such as regions.
    Unbound,
    /// Across the whole tenancy (e.g. a list without a compartment, a tenancy-wide search).
    Tenancy,
    /// In these compartments, each given with its ancestors, nearest first, up to the root.
    Compartments(Vec<Vec<String>>),
    /// Only within the compartments the organisation may use, which the runner
    /// enumerates itself from the assignment it is given (a list without a
    /// compartment searching every allowed compartment; see
    /// [`ToolRunner::run_within`]).
    Allowed,
}

/// Something that can run tools (the OCI tool catalogue, or a test double).
#[async_trait]
pub trait ToolRunner: Send + Sync {
    /// Every tool it offers (borrowed for a static catalogue; an
    /// organisation's catalogue with its remote MCP tools is built).
    fn specs(&self) -> std::borrow::Cow<'static, [ToolSpec]>;
    /// The tool with this name. Every execution looks one up, so catalogues
    /// override this with a map built once; the default scans a borrowed
    /// `specs` (a runner that builds them must override it).
    fn spec(&self, name: &str) -> Option<&'static ToolSpec> {
        // A catalogue that builds its specs overrides this (its own map).
        match self.specs() {
            std::borrow::Cow::Borrowed(all) => all.iter().find(|s| s.name == name),
            std::borrow::Cow::Owned(_) => None,
        }
    }
    /// Which cloud answers (`emulator`, `oci`), named in every result.
    fn cloud(&self) -> &'static str;
    /// Who answers this tool: the cloud, or (`mcp`) a remote MCP server.
    fn cloud_of(&self, _name: &str) -> &'static str {
        self.cloud()
    }
    /// Runs a tool with validated arguments; the error is a message safe to show.
    async fn run(&self, name: &str, args: &Map<String, Value>) -> Result<Value, ToolError>;
    /// Runs a tool for an organisation assigned `allowed` (compartment or
    /// tenancy OCIDs, as [`super::compartments::check`] reads them). A call
    /// whose scope is [`Scope::Allowed`] must act only inside these
    /// compartments and their sub-compartments; the default ignores the
    /// assignment (a runner that never answers `Allowed`).
    async fn run_within(
        &self,
        name: &str,
        args: &Map<String, Value>,
        _allowed: &[String],
    ) -> Result<Value, ToolError> {
        self.run(name, args).await
    }
    /// Where a call with these validated arguments would act. Runners that cannot
    /// tell answer `Tenancy`, which a compartment policy refuses (fail closed).
    async fn scope(&self, _name: &str, _args: &Map<String, Value>) -> Result<Scope, ToolError> {
        Ok(Scope::Tenancy)
    }
    /// Checks what a schema cannot say (arguments that only make sense
    /// together) on validated arguments, before any approval is asked for;
    /// the error is a validation message naming the field.
    fn check(&self, _name: &str, _args: &Map<String, Value>) -> Result<(), String> {
        Ok(())
    }
    /// Why this tool cannot run now (its remote MCP server is disconnected or
    /// failing), answered before any approval is asked for; `None`: it can.
    fn unavailable(&self, _name: &str) -> Option<String> {
        None
    }
    /// Whether a call with these validated arguments must be approved by a
    /// second person whatever the organisation's four-eyes setting: calls that
    /// run code on machines or change who may do what.
    fn four_eyes(&self, _name: &str, _args: &Map<String, Value>) -> bool {
        false
    }
}

/// Gives each principal its catalogue: the cloud tools joined by its
/// organisation's remote MCP tools (the chat agent asks once per turn).
#[async_trait]
pub trait Catalogues: Send + Sync {
    /// The catalogue `p` runs tools from (`None`: no tools at all).
    async fn for_principal(&self, p: &Principal) -> Option<std::sync::Arc<dyn ToolRunner>>;
}

/// Observes executions (metrics live in the HTTP adapter's registry).
pub trait GatewayHooks: Send + Sync {
    /// Called once per execution that was attempted.
    fn executed(&self, tool: &str, status: &str, seconds: f64);
}

/// The outcome of a run.
pub struct Executed {
    /// The tool.
    pub spec: &'static ToolSpec,
    /// Execution id (also the activity record's id).
    pub id: String,
    /// The tool's (projected) output.
    pub result: Value,
    /// Which cloud answered.
    pub cloud: &'static str,
    /// How long it took.
    pub duration_ms: i64,
}

/// Looks a tool up by name.
pub fn find(runner: &dyn ToolRunner, name: &str) -> CoreResult<&'static ToolSpec> {
    runner
        .spec(name)
        .ok_or_else(|| CoreError::NotFound(format!("Unknown tool {name:?}")))
}

/// Whether the caller may run this tool without further checks on arguments.
pub fn may_run(p: &Principal, spec: &ToolSpec) -> bool {
    p.can(Permission::ToolsExecute) && (spec.risk != Risk::Danger || p.can(Permission::ToolsDanger))
}

/// A request to run a tool.
pub struct Request<'a> {
    /// Tool name.
    pub name: &'a str,
    /// Raw arguments.
    pub args: &'a Value,
    /// The caller's id for this call (binds an approval to it).
    pub tool_call_id: Option<&'a str>,
    /// The approval to spend, when the caller names it.
    pub approval_id: Option<&'a crate::ids::ApprovalId>,
}

/// What passed every check before a run.
struct Admitted {
    spec: &'static ToolSpec,
    args: Map<String, Value>,
    redacted: Value,
    approval_id: Option<crate::ids::ApprovalId>,
}

/// Permission → validation → compartment policy → approval.
async fn admit(
    ctx: &Ctx<'_>,
    runner: &dyn ToolRunner,
    p: &Principal,
    req: &Request<'_>,
    redacted_out: &mut Option<Value>,
) -> CoreResult<Admitted> {
    let name = req.name;
    p.require(Permission::ToolsExecute)?;
    let org = p.org()?;
    let spec = find(runner, name)?;
    if spec.risk == Risk::Danger {
        p.require(Permission::ToolsDanger)?;
    }
    if let Some(why) = runner.unavailable(name) {
        return Err(CoreError::Upstream(why));
    }
    let args = spec.validate(req.args).map_err(CoreError::Validation)?;
    runner.check(name, &args).map_err(CoreError::Validation)?;
    let redacted = spec.redact(&args);
    *redacted_out = Some(redacted.clone());
    super::compartments::check(runner, org, name, &args).await?;
    let approval_id = if spec.risk == Risk::Read {
        None
    } else {
        let binding = approvals::Binding {
            spec,
            args: &args,
            redacted: &redacted,
            four_eyes: runner.four_eyes(name, &args),
        };
        Some(approvals::authorize(ctx, p, org, &binding, req.tool_call_id, req.approval_id).await?)
    };
    Ok(Admitted {
        spec,
        args,
        redacted,
        approval_id,
    })
}

/// Runs a tool for `p`, or refuses with the first rule that fails. Refusals
/// (permission, compartment policy, a rejected or spent approval) are audited
/// as `denied`; only authenticated principals with an organisation reach here,
/// so anonymous callers cannot grow the ledger.
pub async fn execute(
    ctx: &Ctx<'_>,
    runner: &dyn ToolRunner,
    hooks: &dyn GatewayHooks,
    p: &Principal,
    req: Request<'_>,
    timeout: Duration,
) -> CoreResult<Executed> {
    if !portal_telemetry::enabled() {
        return run_tool(ctx, runner, hooks, p, req, timeout).await;
    }
    let span = tracing::info_span!(
        target: "otel",
        "tool",
        otel.name = %format_args!("tool {}", req.name),
        otel.status_code = tracing::field::Empty,
        tool = req.name,
        risk = tracing::field::Empty,
        outcome = tracing::field::Empty,
        cloud.latency_ms = tracing::field::Empty,
    );
    let result = run_tool(ctx, runner, hooks, p, req, timeout)
        .instrument(span.clone())
        .await;
    let outcome = match &result {
        Ok(_) => "success",
        Err(CoreError::Forbidden(_)) => "denied",
        Err(CoreError::Validation(_)) => "invalid",
        Err(_) => "error",
    };
    span.record("outcome", outcome);
    if outcome == "error" {
        span.record("otel.status_code", "ERROR");
    }
    result
}

/// [`execute`] without its span.
async fn run_tool(
    ctx: &Ctx<'_>,
    runner: &dyn ToolRunner,
    hooks: &dyn GatewayHooks,
    p: &Principal,
    req: Request<'_>,
    timeout: Duration,
) -> CoreResult<Executed> {
    let name = req.name;
    let mut redacted_seen = None;
    let Admitted {
        spec,
        args,
        redacted,
        approval_id,
    } = match admit(ctx, runner, p, &req, &mut redacted_seen).await {
        Ok(a) => a,
        Err(CoreError::Forbidden(m)) => {
            if let Some(org) = &p.org {
                audit::append_best_effort(
                    ctx,
                    Some(&org.id),
                    &p.actor(),
                    AuditAction::ToolExecute,
                    Some(name),
                    "denied",
                    json!({"reason": m, "args": redacted_seen}),
                )
                .await;
            }
            return Err(CoreError::Forbidden(m));
        }
        Err(e) => return Err(e),
    };
    if portal_telemetry::enabled() {
        tracing::Span::current().record("risk", spec.risk.as_str());
    }
    let org = p.org()?;
    let id = uuid_v4();
    let mut record = Activity {
        id: id.clone(),
        org_id: org.id.clone(),
        principal_id: p.id.clone(),
        tool_name: name.to_string(),
        category: spec.category.to_string(),
        risk: spec.risk,
        status: ExecutionStatus::Running,
        args: redacted.to_string(),
        error: None,
        duration_ms: None,
        approval_id,
        created_at: ctx.now,
    };
    executions::start(
        ctx,
        &p.actor(),
        &record,
        json!({"executionId": id, "args": redacted, "risk": spec.risk.as_str(), "cloud": runner.cloud_of(name), "approvalId": record.approval_id}),
    )
    .await?;
    let start = Instant::now();
    let run = runner.run_within(name, &args, &org.allowed_compartments);
    let outcome = match tokio::time::timeout(timeout, run).await {
        Ok(r) => r,
        Err(_) => Err(ToolError::Cloud(format!(
            "{name} did not finish within {} s",
            timeout.as_secs()
        ))),
    };
    let elapsed = start.elapsed();
    let duration_ms = elapsed.as_millis() as i64;
    if portal_telemetry::enabled() {
        tracing::Span::current().record("cloud.latency_ms", elapsed.as_secs_f64() * 1000.0);
    }
    let (status, error) = match &outcome {
        Ok(_) => (ExecutionStatus::Success, None),
        Err(e) => (ExecutionStatus::Error, Some(e.message().to_string())),
    };
    record.status = status;
    record.error = error.clone();
    record.duration_ms = Some(duration_ms);
    let mut payload = json!({
        "executionId": id,
        "tool": name,
        "risk": spec.risk.as_str(),
        "status": status,
        "principal": p.id,
        "args": redacted,
        "approvalId": record.approval_id,
        "durationMs": duration_ms,
        "cloud": runner.cloud_of(name),
    });
    if let (Some(e), Some(obj)) = (&error, payload.as_object_mut()) {
        obj.insert("error".into(), Value::String(e.clone()));
    }
    executions::finish(ctx, &p.actor(), &record, &payload).await;
    // Whatever may have changed the cloud (even a failed or timed-out call)
    // makes the tenancy snapshots stale; every run changes the usage graph.
    if let Some(t) = ctx.tenancy {
        if spec.risk != Risk::Read {
            t.invalidate();
        }
        t.usage.executed(&org.id);
    }
    hooks.executed(name, status.as_str(), elapsed.as_secs_f64());
    match outcome {
        Ok(result) => Ok(Executed {
            spec,
            id,
            result,
            cloud: runner.cloud_of(name),
            duration_ms,
        }),
        Err(ToolError::Cloud(m)) => Err(CoreError::Upstream(m)),
        Err(ToolError::NotFound(m)) => Err(CoreError::NotFound(m)),
        Err(ToolError::Invalid(m)) => Err(CoreError::Validation(m)),
    }
}
