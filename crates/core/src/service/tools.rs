//! The tool gateway (ARCHITECTURE.md rule 2): the only way a tool runs, from
//! every entry point, as the calling principal: permission → argument
//! validation → compartment policy → approval policy → audit (fail closed) →
//! execution with a timeout → activity → outbox event (`tool.executed`) →
//! metrics.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::auth::uuid_v4;
use super::{activity, approvals, audit, events, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::model::Activity;
use crate::rbac::Permission;
use crate::tools::{Risk, ToolSpec};

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
}

/// Something that can run tools (the OCI tool catalogue, or a test double).
#[async_trait]
pub trait ToolRunner: Send + Sync {
    /// Every tool it offers.
    fn specs(&self) -> &'static [ToolSpec];
    /// Which cloud answers (`emulator`, `oci`), named in every result.
    fn cloud(&self) -> &'static str;
    /// Runs a tool with validated arguments; the error is a message safe to show.
    async fn run(&self, name: &str, args: &Map<String, Value>) -> Result<Value, ToolError>;
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
        .specs()
        .iter()
        .find(|s| s.name == name)
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
    pub approval_id: Option<&'a str>,
}

/// Runs a tool for `p`, or refuses with the first rule that fails.
pub async fn execute(
    ctx: &Ctx<'_>,
    runner: &dyn ToolRunner,
    hooks: &dyn GatewayHooks,
    p: &Principal,
    req: Request<'_>,
    timeout: Duration,
) -> CoreResult<Executed> {
    let name = req.name;
    p.require(Permission::ToolsExecute)?;
    let org = p.org()?;
    let spec = find(runner, name)?;
    if spec.risk == Risk::Danger {
        p.require(Permission::ToolsDanger)?;
    }
    let args = spec.validate(req.args).map_err(CoreError::Validation)?;
    runner.check(name, &args).map_err(CoreError::Validation)?;
    let redacted = spec.redact(&args);
    super::compartments::check(runner, org, name, &args).await?;
    let approval_id = if spec.risk == Risk::Read {
        None
    } else {
        let hash = approvals::args_hash(&args);
        Some(
            approvals::authorize(
                ctx,
                p,
                org,
                spec,
                &hash,
                &redacted,
                req.tool_call_id,
                req.approval_id,
            )
            .await?,
        )
    };
    let id = uuid_v4();
    audit::append(
        ctx,
        Some(&org.id),
        &p.actor(),
        "tool.execute",
        Some(name),
        "success",
        json!({"executionId": id, "args": redacted, "risk": spec.risk.as_str(), "cloud": runner.cloud(), "approvalId": approval_id}),
    )
    .await?;
    let start = Instant::now();
    let outcome = match tokio::time::timeout(timeout, runner.run(name, &args)).await {
        Ok(r) => r,
        Err(_) => Err(ToolError::Cloud(format!(
            "{name} did not finish within {} s",
            timeout.as_secs()
        ))),
    };
    let elapsed = start.elapsed();
    let duration_ms = elapsed.as_millis() as i64;
    let (status, error) = match &outcome {
        Ok(_) => ("success", None),
        Err(e) => ("error", Some(e.message().to_string())),
    };
    let record = Activity {
        id: id.clone(),
        org_id: org.id.clone(),
        principal_id: p.id.clone(),
        tool_name: name.to_string(),
        category: spec.category.to_string(),
        risk: spec.risk.as_str().to_string(),
        status: status.to_string(),
        args: redacted.to_string(),
        error: error.clone(),
        duration_ms: Some(duration_ms),
        approval_id,
        created_at: ctx.now,
    };
    if let Err(e) = activity::record(ctx, &record).await {
        tracing::error!(error = %e, tool = name, "activity record could not be written");
    }
    let mut payload = json!({
        "executionId": id,
        "tool": name,
        "risk": spec.risk.as_str(),
        "status": status,
        "principal": p.id,
        "args": redacted,
        "approvalId": record.approval_id,
        "durationMs": duration_ms,
        "cloud": runner.cloud(),
    });
    if let (Some(e), Some(obj)) = (&error, payload.as_object_mut()) {
        obj.insert("error".into(), Value::String(e.clone()));
    }
    events::emit(ctx, &org.id, events::TOOL_EXECUTED, payload).await;
    hooks.executed(name, status, elapsed.as_secs_f64());
    match outcome {
        Ok(result) => Ok(Executed {
            spec,
            id,
            result,
            cloud: runner.cloud(),
            duration_ms,
        }),
        Err(ToolError::Cloud(m)) => Err(CoreError::Upstream(m)),
        Err(ToolError::NotFound(m)) => Err(CoreError::NotFound(m)),
        Err(ToolError::Invalid(m)) => Err(CoreError::Validation(m)),
    }
}
