//! What adapters call: definitions (CRUD, validate, publish, archive,
//! versions) and runs (start, read, cancel, retry, decide an approval step,
//! events). Permissions: `workflows:read`, `workflows:write`, `workflows:execute`;
//! every read and write is scoped to the caller's organisation.

use serde_json::{json, Value};

use super::definition::{Definition, NodeKind};
use super::engine::Change;
use super::executor;
use super::model::*;
use super::runs::{self, commit};
use super::validate::{self, Issue};
use crate::error::{CoreError, CoreResult};
use crate::identity::{Principal, PrincipalSnapshot};
use crate::model::Page;
use crate::rbac::{Permission, Role};
use crate::service::tools::ToolRunner;
use crate::service::{audit, Ctx};

/// Steps a run may execute unless its definition says otherwise (`maxSteps`).
pub const DEFAULT_MAX_STEPS: i64 = 100;
/// Largest page.
pub const MAX_PAGE: i64 = 100;

fn not_found() -> CoreError {
    CoreError::NotFound("Workflow not found".into())
}

/// Every problem of a definition (`workflows:read`).
pub fn check(tools: Option<&dyn ToolRunner>, d: &Definition) -> Vec<Issue> {
    let lookup = |name: &str| tools.and_then(|t| t.spec(name));
    validate::check(d, &lookup)
}

fn refuse_invalid(tools: Option<&dyn ToolRunner>, d: &Definition) -> CoreResult<()> {
    let issues = check(tools, d);
    match issues.first() {
        None => Ok(()),
        Some(first) if issues.len() == 1 => Err(CoreError::Validation(first.to_string())),
        Some(first) => Err(CoreError::Validation(format!(
            "{first} (and {} more problems; see /validate)",
            issues.len() - 1
        ))),
    }
}

/// Parses a definition body, naming the bad field.
pub fn parse(body: Value) -> CoreResult<Definition> {
    Definition::from_value(body).map_err(|e| CoreError::Validation(format!("body{e}")))
}

fn page(limit: i64, offset: i64) -> CoreResult<()> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(CoreError::Validation(format!(
            "limit: must be between 1 and {MAX_PAGE}"
        )));
    }
    if offset < 0 {
        return Err(CoreError::Validation("offset: must not be negative".into()));
    }
    Ok(())
}

/// Stores a new draft (`workflows:write`); refused with the first problem when invalid.
pub async fn create(
    ctx: &Ctx<'_>,
    p: &Principal,
    tools: Option<&dyn ToolRunner>,
    d: Definition,
) -> CoreResult<Workflow> {
    p.require(Permission::WorkflowsWrite)?;
    let org = p.org()?;
    refuse_invalid(tools, &d)?;
    let w = Workflow {
        id: crate::service::auth::uuid_v4(),
        org_id: org.id.clone(),
        owner_id: p.id.clone(),
        status: WorkflowStatus::Draft,
        version: 0,
        definition: d,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    ctx.store.create_workflow(&w).await?;
    audit::append(
        ctx,
        Some(&org.id),
        &p.actor(),
        "workflow.created",
        Some(&w.id),
        "success",
        json!({"name": w.definition.name}),
    )
    .await?;
    Ok(w)
}

/// One definition (`workflows:read`).
pub async fn get(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<Workflow> {
    p.require(Permission::WorkflowsRead)?;
    ctx.store
        .get_workflow(&p.org()?.id, id)
        .await?
        .ok_or_else(not_found)
}

/// The organisation's definitions (`workflows:read`).
pub async fn list(ctx: &Ctx<'_>, p: &Principal, f: &WorkflowFilter) -> CoreResult<Page<Workflow>> {
    p.require(Permission::WorkflowsRead)?;
    page(f.limit, f.offset)?;
    if f.search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(CoreError::Validation(
            "search: at most 200 characters".into(),
        ));
    }
    Ok(ctx.store.list_workflows(&p.org()?.id, f).await?)
}

async fn save(ctx: &Ctx<'_>, w: &Workflow, read_at: i64) -> CoreResult<()> {
    if ctx.store.save_workflow(w, read_at).await? {
        Ok(())
    } else {
        Err(CoreError::Conflict(
            "The workflow changed meanwhile; reload it and try again".into(),
        ))
    }
}

/// Replaces the draft (`workflows:write`); archived definitions are read-only.
pub async fn update(
    ctx: &Ctx<'_>,
    p: &Principal,
    tools: Option<&dyn ToolRunner>,
    id: &str,
    d: Definition,
) -> CoreResult<Workflow> {
    p.require(Permission::WorkflowsWrite)?;
    let mut w = get(ctx, p, id).await?;
    if w.status == WorkflowStatus::Archived {
        return Err(CoreError::Conflict(
            "An archived workflow cannot be changed".into(),
        ));
    }
    refuse_invalid(tools, &d)?;
    let read_at = w.updated_at;
    w.definition = d;
    w.updated_at = ctx.now.max(read_at + 1);
    save(ctx, &w, read_at).await?;
    Ok(w)
}

/// Deletes a definition with its history (`workflows:write`).
pub async fn delete(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<()> {
    p.require(Permission::WorkflowsWrite)?;
    let org = p.org()?;
    if !ctx.store.delete_workflow(&org.id, id).await? {
        return Err(not_found());
    }
    audit::append(
        ctx,
        Some(&org.id),
        &p.actor(),
        "workflow.deleted",
        Some(id),
        "success",
        json!({}),
    )
    .await?;
    Ok(())
}

/// Freezes the draft as the next version (`workflows:write`), after validating it.
pub async fn publish(
    ctx: &Ctx<'_>,
    p: &Principal,
    tools: Option<&dyn ToolRunner>,
    id: &str,
) -> CoreResult<Workflow> {
    p.require(Permission::WorkflowsWrite)?;
    let mut w = get(ctx, p, id).await?;
    if w.status == WorkflowStatus::Archived {
        return Err(CoreError::Conflict(
            "An archived workflow cannot be published".into(),
        ));
    }
    refuse_invalid(tools, &w.definition)?;
    w.version += 1;
    w.status = WorkflowStatus::Published;
    w.updated_at = ctx.now.max(w.updated_at + 1);
    let v = WorkflowVersion {
        workflow_id: w.id.clone(),
        org_id: w.org_id.clone(),
        version: w.version,
        definition: w.definition.clone(),
        published_by: p.id.clone(),
        created_at: ctx.now,
    };
    ctx.store
        .publish_workflow(&w, &v)
        .await
        .map_err(|e| match e {
            crate::StoreError::Conflict(_) => {
                CoreError::Conflict("Published concurrently; reload".into())
            }
            other => other.into(),
        })?;
    audit::append(
        ctx,
        Some(&w.org_id),
        &p.actor(),
        "workflow.published",
        Some(&w.id),
        "success",
        json!({"version": w.version}),
    )
    .await?;
    Ok(w)
}

/// Archives a definition (`workflows:write`): kept with its runs, runs no more.
pub async fn archive(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<Workflow> {
    p.require(Permission::WorkflowsWrite)?;
    let mut w = get(ctx, p, id).await?;
    let read_at = w.updated_at;
    w.status = WorkflowStatus::Archived;
    w.updated_at = ctx.now.max(read_at + 1);
    save(ctx, &w, read_at).await?;
    Ok(w)
}

/// Every frozen version (`workflows:read`).
pub async fn versions(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<Vec<WorkflowVersion>> {
    let w = get(ctx, p, id).await?;
    Ok(ctx.store.list_workflow_versions(&w.org_id, &w.id).await?)
}

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
    commit(ctx, &def, &org, run_id, |c| {
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
    audit::append(
        ctx,
        Some(&org),
        &p.actor(),
        if approved {
            "workflow.step.approved"
        } else {
            "workflow.step.rejected"
        },
        Some(run_id),
        "success",
        json!({"runId": run_id, "nodeId": node_id, "reason": reason}),
    )
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
