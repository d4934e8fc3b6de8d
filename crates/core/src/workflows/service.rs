//! What adapters call about definitions: CRUD, validate, publish, archive,
//! versions (and, re-exported from [`super::run_control`], about runs).
//! Permissions: `workflows:read`, `workflows:write`, `workflows:execute`;
//! every read and write is scoped to the caller's organisation.

pub use super::run_control::*;

use crate::kinds::AuditAction;
use serde_json::{json, Value};

use super::definition::Definition;
use super::model::*;
use super::validate::{self, Issue};
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::journal::Journal;
use crate::model::Page;
use crate::rbac::Permission;
use crate::service::tools::ToolRunner;
use crate::service::Ctx;

/// Steps a run may execute unless its definition says otherwise (`maxSteps`).
pub const DEFAULT_MAX_STEPS: i64 = 100;
/// Largest page.
pub const MAX_PAGE: i64 = 100;

pub(super) fn not_found() -> CoreError {
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

pub(super) fn page(limit: i64, offset: i64) -> CoreResult<()> {
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
    let j = record(
        ctx,
        p,
        &w,
        AuditAction::WorkflowCreated,
        json!({"name": w.definition.name}),
    );
    ctx.store.create_workflow(&w, &j).await?;
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

/// The journal of a change to `w`: one audit entry in its organisation's chain.
fn record<'k>(
    ctx: &Ctx<'k>,
    p: &Principal,
    w: &Workflow,
    action: AuditAction,
    detail: Value,
) -> Journal<'k> {
    let mut j = ctx.journal();
    j.audit(
        Some(&w.org_id),
        &p.actor(),
        action,
        Some(&w.id),
        "success",
        detail,
    );
    j
}

/// Saves `w` if it is unchanged since `read_at`, recording `action`.
async fn save(
    ctx: &Ctx<'_>,
    p: &Principal,
    w: &Workflow,
    read_at: i64,
    action: AuditAction,
) -> CoreResult<()> {
    let j = record(ctx, p, w, action, json!({"name": w.definition.name}));
    if ctx.store.save_workflow(w, read_at, &j).await? {
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
    save(ctx, p, &w, read_at, AuditAction::WorkflowUpdated).await?;
    Ok(w)
}

/// Deletes a definition with its history (`workflows:write`).
pub async fn delete(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<()> {
    p.require(Permission::WorkflowsWrite)?;
    let org = p.org()?;
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        &p.actor(),
        AuditAction::WorkflowDeleted,
        Some(id),
        "success",
        json!({}),
    );
    if !ctx.store.delete_workflow(&org.id, id, &j).await? {
        return Err(not_found());
    }
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
    let j = record(
        ctx,
        p,
        &w,
        AuditAction::WorkflowPublished,
        json!({"version": w.version}),
    );
    ctx.store
        .publish_workflow(&w, &v, &j)
        .await
        .map_err(|e| match e {
            crate::StoreError::Conflict(_) => {
                CoreError::Conflict("Published concurrently; reload".into())
            }
            other => other.into(),
        })?;
    Ok(w)
}

/// Archives a definition (`workflows:write`): kept with its runs, runs no more.
pub async fn archive(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<Workflow> {
    p.require(Permission::WorkflowsWrite)?;
    let mut w = get(ctx, p, id).await?;
    let read_at = w.updated_at;
    w.status = WorkflowStatus::Archived;
    w.updated_at = ctx.now.max(read_at + 1);
    save(ctx, p, &w, read_at, AuditAction::WorkflowArchived).await?;
    Ok(w)
}

/// Every frozen version (`workflows:read`).
pub async fn versions(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<Vec<WorkflowVersion>> {
    let w = get(ctx, p, id).await?;
    Ok(ctx.store.list_workflow_versions(&w.org_id, &w.id).await?)
}
