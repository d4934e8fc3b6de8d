//! What adapters call about runs: start, read, cancel, retry, decide an
//! approval step, and the events a stream replays (`workflows:execute` to
//! change a run, `workflows:read` to see one; scoped to the caller's organisation).

use crate::kinds::AuditAction;
use serde_json::{json, Value};

use super::definition::NodeKind;
use super::engine::Change;
use super::executor;
use super::model::*;
use super::runs::{self, commit, commit_recorded};
use super::service::{get, not_found, page, DEFAULT_MAX_STEPS};
use crate::error::{CoreError, CoreResult};
use crate::identity::{Principal, PrincipalSnapshot};
use crate::model::Page;
use crate::rbac::{Permission, Role};
use crate::service::Ctx;

/// Starts a run of a published version (the latest unless `version` names
/// one) as the caller (`workflows:execute`), its input checked against the
/// version's `inputSchema`. The first step is queued with the run.
pub async fn start(
    ctx: &Ctx<'_>,
    p: &Principal,
    id: &str,
    input: Value,
    version: Option<i64>,
) -> CoreResult<WorkflowRun> {
    p.require(Permission::WorkflowsExecute)?;
    let w = get(ctx, p, id).await?;
    match w.status {
        WorkflowStatus::Archived => {
            return Err(CoreError::Conflict(
                "An archived workflow cannot run".into(),
            ))
        }
        _ if w.version == 0 => {
            return Err(CoreError::Conflict(
                "Publish the workflow before running it".into(),
            ))
        }
        _ => {}
    }
    let n = version.unwrap_or(w.version);
    let v = ctx
        .store
        .get_workflow_version(&w.org_id, &w.id, n)
        .await?
        .ok_or_else(|| CoreError::NotFound(format!("Version {n} not found")))?;
    if !input.is_object() {
        return Err(CoreError::Validation("input: must be a JSON object".into()));
    }
    if let Some(schema) = &v.definition.input_schema {
        super::schema::check(schema, &input, "input").map_err(CoreError::Validation)?;
    }
    let start_node = v
        .definition
        .nodes
        .iter()
        .find(|n| matches!(n.kind, NodeKind::Input(_)))
        .map(|n| n.id.clone())
        .ok_or_else(|| CoreError::Validation("nodes: the version has no input node".into()))?;
    let run = WorkflowRun {
        id: crate::service::auth::uuid_v4(),
        org_id: w.org_id.clone(),
        workflow_id: w.id.clone(),
        version: n,
        status: RunStatus::Running,
        input,
        output: None,
        error: None,
        started_by: p.id.clone(),
        principal: PrincipalSnapshot::of(p),
        steps_used: 0,
        max_steps: v.definition.max_steps.map_or(DEFAULT_MAX_STEPS, i64::from),
        event_seq: 0,
        rev: 0,
        created_at: ctx.now,
        updated_at: ctx.now,
        finished_at: None,
    };
    let mut c = Change::new(&v.definition, run, Vec::new(), ctx.now);
    c.start(&start_node);
    let a = c.into_advance();
    ctx.store.create_workflow_run(&a).await?;
    Ok(a.run)
}

/// The organisation's runs (`workflows:read`).
pub async fn list_runs(
    ctx: &Ctx<'_>,
    p: &Principal,
    workflow_id: Option<&str>,
    status: Option<RunStatus>,
    limit: i64,
    offset: i64,
) -> CoreResult<Page<WorkflowRun>> {
    p.require(Permission::WorkflowsRead)?;
    page(limit, offset)?;
    let org = &p.org()?.id;
    if let Some(w) = workflow_id {
        ctx.store
            .get_workflow(org, w)
            .await?
            .ok_or_else(not_found)?;
    }
    Ok(ctx
        .store
        .list_workflow_runs(org, workflow_id, status, limit, offset)
        .await?)
}

/// One run with its steps (`workflows:read`).
pub async fn get_run(ctx: &Ctx<'_>, p: &Principal, run_id: &str) -> CoreResult<runs::Loaded> {
    p.require(Permission::WorkflowsRead)?;
    runs::load(ctx, &p.org()?.id, run_id).await
}

async fn change(
    ctx: &Ctx<'_>,
    p: &Principal,
    run_id: &str,
    f: impl FnMut(&mut Change<'_>) -> CoreResult<()>,
) -> CoreResult<WorkflowRun> {
    p.require(Permission::WorkflowsExecute)?;
    let org = p.org()?.id.clone();
    let l = runs::load(ctx, &org, run_id).await?;
    let def = runs::definition(ctx, &l.run).await?;
    commit(ctx, &def, &org, run_id, f).await?;
    Ok(runs::load(ctx, &org, run_id).await?.run)
}

/// Cancels a run that has not ended (`workflows:execute`); a step already
/// executing finishes, and nothing after it runs.
pub async fn cancel(ctx: &Ctx<'_>, p: &Principal, run_id: &str) -> CoreResult<WorkflowRun> {
    change(ctx, p, run_id, |c| {
        if c.run().status.is_terminal() {
            return Err(CoreError::Conflict(format!(
                "The run is {}; only a running or suspended run can be cancelled",
                c.run().status
            )));
        }
        c.cancel(&p.id);
        Ok(())
    })
    .await
}

/// Runs a failed run again from its failed step(s) (`workflows:execute`).
pub async fn retry(ctx: &Ctx<'_>, p: &Principal, run_id: &str) -> CoreResult<WorkflowRun> {
    change(ctx, p, run_id, |c| {
        if c.run().status != RunStatus::Failed {
            return Err(CoreError::Conflict(
                "Only a failed run can be retried".into(),
            ));
        }
        if c.retry() == 0 {
            return Err(CoreError::Conflict(
                "The run has no failed step to retry".into(),
            ));
        }
        Ok(())
    })
    .await
}

fn rank(r: Role) -> u8 {
    match r {
        Role::Viewer => 0,
        Role::Operator => 1,
        Role::Admin => 2,
    }
}

/// Approves or rejects a parked approval step (`workflows:execute`, and
/// whatever the node asks of its approvers).
pub async fn decide(
    ctx: &Ctx<'_>,
    p: &Principal,
    run_id: &str,
    node_id: &str,
    approved: bool,
    reason: Option<&str>,
) -> CoreResult<WorkflowRun> {
    p.require(Permission::WorkflowsExecute)?;
    let org = p.org()?.id.clone();
    let reason = reason
        .map(|r| crate::validate::text("reason", r, 500))
        .transpose()?;
    let l = runs::load(ctx, &org, run_id).await?;
    let def = runs::definition(ctx, &l.run).await?;
    let Some(NodeKind::Approval(a)) = def.node(node_id).map(|n| &n.kind) else {
        return Err(CoreError::NotFound(
            "No approval step with that id in this run".into(),
        ));
    };
    if let Some(who) = a.approvers {
        if let Some(perm) = who.permission {
            p.require(perm)?;
        }
        if let Some(role) = who.role {
            if p.role.is_none_or(|r| rank(r) < rank(role)) {
                return Err(CoreError::Forbidden(format!(
                    "Only a member with role {} or above may decide this step",
                    role.as_str()
                )));
            }
        }
    }
    let mut j = ctx.journal();
    j.audit(
        Some(&org),
        &p.actor(),
        if approved {
            AuditAction::WorkflowStepApproved
        } else {
            AuditAction::WorkflowStepRejected
        },
        Some(run_id),
        "success",
        json!({"runId": run_id, "nodeId": node_id, "reason": reason}),
    );
    commit_recorded(ctx, &def, &org, run_id, &j, |c| {
        let waiting = c
            .step(node_id)
            .is_some_and(|s| s.status == StepStatus::Waiting);
        if !waiting || c.run().status != RunStatus::Suspended {
            return Err(CoreError::Conflict(
                "This step is not waiting for a decision".into(),
            ));
        }
        executor::decide(c, &def, node_id, approved, &p.id, reason.as_deref());
        Ok(())
    })
    .await?;
    Ok(runs::load(ctx, &org, run_id).await?.run)
}

/// A run's events after `after` (`workflows:read`), for the stream.
pub async fn events(
    ctx: &Ctx<'_>,
    p: &Principal,
    run_id: &str,
    after: i64,
) -> CoreResult<Vec<RunEvent>> {
    p.require(Permission::WorkflowsRead)?;
    Ok(ctx
        .store
        .list_run_events(&p.org()?.id, run_id, after, 500)
        .await?)
}
