//! The durable executor: the handler of `workflow.step` jobs. One job runs
//! one step of one run: it marks the step running, acts (a tool through the
//! gateway as the run's starter, an expression, a park for an approval) and
//! records the result with whatever becomes due next, in one transaction.
//! A parked run is only rows: a decision enqueues the continuation.
//!
//! Delivery is at least once: a job whose worker died runs again and finds
//! its step `running`, so it runs it again (read steps are harmless; a tool
//! whose approval was already spent is refused by the gateway, not repeated).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::definition::{ApprovalNode, Definition, NodeKind, OnReject, ToolNode};
use super::engine::{Change, StepJob};
use super::expr::{self, Scope};
use super::model::{RunStatus, StepStatus, WorkflowRun};
use super::runs::{self, commit};
use crate::error::{CoreError, CoreResult};
use crate::identity::{resume_principal, Principal};
use crate::jobs::{Job, JobError, JobHandler};
use crate::service::tools::{self as gateway, GatewayHooks, ToolRunner};
use crate::service::{Contexts, Ctx};

/// What the executor needs besides the store.
pub struct Executor {
    contexts: Contexts,
    tools: Option<Arc<dyn ToolRunner>>,
    hooks: Arc<dyn GatewayHooks>,
    timeout: Duration,
}

impl Executor {
    /// The executor over this process's contexts and tool gateway (`None`: no cloud).
    pub fn new(
        contexts: Contexts,
        tools: Option<Arc<dyn ToolRunner>>,
        hooks: Arc<dyn GatewayHooks>,
        timeout: Duration,
    ) -> Self {
        Self {
            contexts,
            tools,
            hooks,
            timeout,
        }
    }
}

#[async_trait]
impl JobHandler for Executor {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let sj: StepJob = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad workflow.step payload: {e}")))?;
        let ctx = self.contexts.ctx(None, Some("portal-workflows"));
        let r = if sj.timeout {
            lapse(&ctx, &sj).await
        } else {
            self.step(&ctx, &sj).await
        };
        r.map_err(|e| JobError::Retry(e.to_string()))
    }
}

/// What acting on a node gave.
enum Acted {
    Done(Value),
    Park {
        approval_id: Option<crate::ids::ApprovalId>,
        deadline: Option<i64>,
        info: Value,
    },
    Failed(String),
}

/// Whether this job's step is still to be run (not stale, the run not ended).
fn due(c: &Change<'_>, sj: &StepJob) -> bool {
    let step_due = c.step(&sj.node_id).is_some_and(|s| {
        s.attempt == sj.attempt
            && matches!(
                s.status,
                StepStatus::Pending | StepStatus::Running | StepStatus::Waiting
            )
    });
    step_due && !c.run().status.is_terminal()
}

impl Executor {
    async fn step(&self, ctx: &Ctx<'_>, sj: &StepJob) -> CoreResult<()> {
        let loaded = match runs::load(ctx, &sj.org_id, &sj.run_id).await {
            Ok(l) => l,
            Err(CoreError::NotFound(_)) => return Ok(()), // deleted with its workflow
            Err(e) => return Err(e),
        };
        if loaded.run.status.is_terminal() {
            return Ok(());
        }
        let def = runs::definition(ctx, &loaded.run).await?;
        let Some(node) = def.node(&sj.node_id).cloned() else {
            return Ok(());
        };
        // An approval step already parked waits for its decision, not for this job.
        let parked_approval = matches!(node.kind, NodeKind::Approval(_))
            && loaded
                .steps
                .iter()
                .any(|s| s.node_id == sj.node_id && s.status == StepStatus::Waiting);
        if parked_approval {
            return Ok(());
        }
        let principal =
            match resume_principal(ctx.store, &sj.org_id, &loaded.run.principal, ctx.now).await? {
                Ok(p) => Some(p),
                Err(why) => {
                    let msg = why.to_string();
                    commit(ctx, &def, &sj.org_id, &sj.run_id, |c| {
                        if due(c, sj) {
                            c.fail_run(&msg);
                        }
                        Ok(())
                    })
                    .await?;
                    None
                }
            };
        let Some(principal) = principal else {
            return Ok(());
        };
        let go = commit(ctx, &def, &sj.org_id, &sj.run_id, |c| {
            if !due(c, sj) {
                return Ok(false);
            }
            if c.run().steps_used >= c.run().max_steps {
                let max = c.run().max_steps;
                c.fail_run(&format!("The run used its budget of {max} steps"));
                return Ok(false);
            }
            c.begin(&sj.node_id);
            Ok(true)
        })
        .await?;
        if !go {
            return Ok(());
        }
        let run = runs::load(ctx, &sj.org_id, &sj.run_id).await?;
        let outputs = Change::new(&def, run.run.clone(), run.steps, ctx.now).outputs();
        let (acted, input) = self
            .act(ctx, &principal, &run.run, sj, &node.kind, &outputs)
            .await?;
        commit(ctx, &def, &sj.org_id, &sj.run_id, |c| {
            let running = c
                .step(&sj.node_id)
                .is_some_and(|s| s.attempt == sj.attempt && s.status == StepStatus::Running);
            if !running {
                return Ok(());
            }
            if let Some(i) = &input {
                c.set_input(&sj.node_id, i.clone());
            }
            if c.run().status.is_terminal() {
                match &acted {
                    Acted::Done(out) => c.settle_after_end(&sj.node_id, Some(out.clone()), None),
                    Acted::Failed(e) => c.settle_after_end(&sj.node_id, None, Some(e)),
                    Acted::Park { .. } => {
                        c.settle_after_end(&sj.node_id, None, Some("The run ended"))
                    }
                }
                return Ok(());
            }
            match &acted {
                Acted::Done(out) => c.complete(&sj.node_id, out.clone()),
                Acted::Failed(e) => c.fail_step(&sj.node_id, e),
                Acted::Park {
                    approval_id,
                    deadline,
                    info,
                } => c.park(&sj.node_id, approval_id.clone(), *deadline, info.clone()),
            }
            Ok(())
        })
        .await?;
        // An approver may have decided between the gateway's request and the
        // park: the wake then found no waiting step, so wake it now.
        if let Acted::Park {
            approval_id: Some(id),
            ..
        } = &acted
        {
            let decided = ctx
                .store
                .get_approval(&sj.org_id, id)
                .await?
                .is_some_and(|a| a.status != crate::status::ApprovalStatus::Pending);
            if decided {
                wake(ctx, &sj.org_id, id).await?;
            }
        }
        Ok(())
    }

    /// Acts on one node; the result and the input to record.
    async fn act(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        run: &WorkflowRun,
        sj: &StepJob,
        kind: &NodeKind,
        outputs: &serde_json::Map<String, Value>,
    ) -> CoreResult<(Acted, Option<Value>)> {
        let scope = &Scope::new(&run.input, outputs);
        Ok(match kind {
            NodeKind::Input(_) => (Acted::Done(run.input.clone()), None),
            NodeKind::Condition(c) => match expr::truth(&c.expression, scope) {
                Ok(b) => (Acted::Done(json!({"result": b})), None),
                Err(e) => (Acted::Failed(format!("expression {e}")), None),
            },
            NodeKind::Output(o) => {
                if o.mapping.is_empty() {
                    return Ok((Acted::Done(Value::Object(outputs.clone())), None));
                }
                let mut out = serde_json::Map::new();
                for (k, v) in &o.mapping {
                    let src = v.as_str().unwrap_or_default();
                    match expr::Expr::parse(src).and_then(|e| e.eval(scope)) {
                        Ok(x) => {
                            out.insert(k.clone(), x);
                        }
                        Err(e) => return Ok((Acted::Failed(format!("mapping {k}: {e}")), None)),
                    }
                }
                (Acted::Done(Value::Object(out)), None)
            }
            NodeKind::Approval(a) => (park_approval(a, scope, ctx.now), None),
            NodeKind::Tool(t) => self.tool(ctx, p, sj, t, scope).await?,
            NodeKind::AiStep(_) | NodeKind::Loop(_) | NodeKind::Parallel(_) => (
                Acted::Failed(format!(
                    "{} nodes are not supported by this executor yet",
                    kind.name()
                )),
                None,
            ),
        })
    }

    async fn tool(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        sj: &StepJob,
        t: &ToolNode,
        scope: &Scope,
    ) -> CoreResult<(Acted, Option<Value>)> {
        let Some(tools) = &self.tools else {
            return Ok((
                Acted::Failed("No cloud is configured: tools are unavailable".into()),
                None,
            ));
        };
        let args = match expr::render_value(&Value::Object(t.args.clone()), scope) {
            Ok(a) => a,
            Err(e) => return Ok((Acted::Failed(format!("arguments: {e}")), None)),
        };
        let spec = gateway::find(tools.as_ref(), &t.tool_name).ok();
        let redacted = spec.and_then(|spec| spec.validate(&args).ok().map(|a| spec.redact(&a)));
        let mutating = spec.is_some_and(|s| !s.read_only());
        // Binds any approval the gateway asks for to this very step attempt.
        let call_id = format!("wf-{}-{}-{}", sj.run_id, sj.node_id, sj.attempt);
        let req = gateway::Request {
            name: &t.tool_name,
            args: &args,
            tool_call_id: Some(&call_id),
            approval_id: None,
        };
        // Deterministic per step attempt: a repeat after a crash changes the cloud once.
        let token = crate::crypto::sha256_hex(call_id.as_bytes())[..48].to_string();
        let run = gateway::execute(
            ctx,
            tools.as_ref(),
            self.hooks.as_ref(),
            p,
            req,
            self.timeout,
        );
        // Only calls that change the cloud carry one (OCI's reads take no retry token).
        let outcome = match mutating {
            true => gateway::with_retry_token(token, run).await,
            false => run.await,
        };
        let acted = match outcome {
            Ok(done) => Acted::Done(json!({
                "executionId": done.id, "tool": done.spec.name, "result": done.result,
            })),
            Err(CoreError::ApprovalRequired(a)) => Acted::Park {
                approval_id: Some(a.id.clone()),
                deadline: None,
                info: json!({"tool": a.tool_name, "risk": a.risk, "approvalId": a.id}),
            },
            Err(e @ (CoreError::Unavailable | CoreError::Internal(_))) => return Err(e),
            Err(e) => Acted::Failed(e.to_string()),
        };
        Ok((acted, redacted))
    }
}

fn park_approval(a: &ApprovalNode, scope: &Scope, now: i64) -> Acted {
    let message = match expr::render(&a.message, scope) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => return Acted::Failed(format!("message: {e}")),
    };
    Acted::Park {
        approval_id: None,
        deadline: a.timeout_minutes.map(|m| now + i64::from(m) * 60_000),
        info: json!({"message": message}),
    }
}

/// Decides a parked approval step: approved, it completes and the run goes
/// on; rejected, the node's rule applies (fail the run, or end it here).
pub fn decide(
    c: &mut Change<'_>,
    def: &Definition,
    node: &str,
    approved: bool,
    by: &str,
    reason: Option<&str>,
) {
    let rule = match def.node(node).map(|n| &n.kind) {
        Some(NodeKind::Approval(a)) => a.on_reject,
        _ => OnReject::Fail,
    };
    let out = json!({"approved": approved, "decidedBy": by, "reason": reason});
    if approved || rule == OnReject::End {
        c.complete(node, out);
    } else {
        let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
        c.fail_step(node, &format!("Rejected by {by}{why}"));
    }
}

/// A lapse check: an approval step still waiting past its deadline is rejected.
async fn lapse(ctx: &Ctx<'_>, sj: &StepJob) -> CoreResult<()> {
    let loaded = match runs::load(ctx, &sj.org_id, &sj.run_id).await {
        Ok(l) => l,
        Err(CoreError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    if loaded.run.status.is_terminal() {
        return Ok(());
    }
    let def = runs::definition(ctx, &loaded.run).await?;
    commit(ctx, &def, &sj.org_id, &sj.run_id, |c| {
        let lapsed = c.step(&sj.node_id).is_some_and(|s| {
            s.attempt == sj.attempt
                && s.status == StepStatus::Waiting
                && s.deadline.is_some_and(|d| d <= ctx.now)
        });
        if lapsed && c.run().status == RunStatus::Suspended {
            decide(c, &def, &sj.node_id, false, "system", Some("timed out"));
        }
        Ok(())
    })
    .await
}

/// A tool approval was decided: the step waiting for it runs again (the
/// gateway spends the approval, or reports the rejection).
pub async fn wake(
    ctx: &Ctx<'_>,
    org_id: &crate::ids::OrgId,
    approval_id: &crate::ids::ApprovalId,
) -> CoreResult<()> {
    let Some(step) = ctx
        .store
        .step_waiting_for_approval(org_id, approval_id)
        .await?
    else {
        return Ok(());
    };
    let sj = StepJob {
        org_id: org_id.into(),
        run_id: step.run_id.clone(),
        node_id: step.node_id.clone(),
        attempt: step.attempt,
        timeout: false,
    };
    let short: String = approval_id.chars().take(12).collect();
    match ctx
        .store
        .enqueue(&sj.job(&format!("-a{short}"), ctx.now), ctx.now)
        .await
    {
        Ok(_) | Err(crate::StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
