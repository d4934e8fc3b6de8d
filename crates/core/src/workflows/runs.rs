//! Changing a run safely: read it fresh, compute the change, write it only if
//! nobody changed the run meanwhile (its revision), else read again. Every
//! writer of runs (step jobs, decisions, cancel, retry) goes through here.

use super::definition::Definition;
use super::engine::Change;
use super::model::{WorkflowRun, WorkflowStep};
use crate::error::{CoreError, CoreResult};
use crate::journal::Journal;
use crate::service::Ctx;

/// How often a change is recomputed when concurrent writers keep winning.
const MAX_TRIES: usize = 8;

/// A run with its steps.
pub struct Loaded {
    /// The run.
    pub run: WorkflowRun,
    /// Its steps.
    pub steps: Vec<WorkflowStep>,
}

/// The run and its steps, or 404.
pub async fn load(ctx: &Ctx<'_>, org_id: &crate::ids::OrgId, run_id: &str) -> CoreResult<Loaded> {
    let run = ctx
        .store
        .get_workflow_run(org_id, run_id)
        .await?
        .ok_or_else(|| CoreError::NotFound("Workflow run not found".into()))?;
    let steps = ctx.store.list_workflow_steps(org_id, run_id).await?;
    Ok(Loaded { run, steps })
}

/// The definition a run executes (its frozen version).
pub async fn definition(ctx: &Ctx<'_>, run: &WorkflowRun) -> CoreResult<Definition> {
    ctx.store
        .get_workflow_version(&run.org_id, &run.workflow_id, run.version)
        .await?
        .map(|v| v.definition)
        .ok_or_else(|| CoreError::NotFound("Workflow version not found".into()))
}

/// Applies `f` to a fresh copy of the run until the write wins; returns what
/// `f` returned last. A change with no event is not written (nothing happened).
pub async fn commit<T>(
    ctx: &Ctx<'_>,
    def: &Definition,
    org_id: &crate::ids::OrgId,
    run_id: &str,
    f: impl FnMut(&mut Change<'_>) -> CoreResult<T>,
) -> CoreResult<T> {
    commit_recorded(ctx, def, org_id, run_id, Journal::NONE, f).await
}

/// [`commit`] with the change's journal (a person's decision is audited with
/// the run's advance, in its transaction).
pub async fn commit_recorded<T>(
    ctx: &Ctx<'_>,
    def: &Definition,
    org_id: &crate::ids::OrgId,
    run_id: &str,
    j: &Journal<'_>,
    mut f: impl FnMut(&mut Change<'_>) -> CoreResult<T>,
) -> CoreResult<T> {
    for _ in 0..MAX_TRIES {
        let l = load(ctx, org_id, run_id).await?;
        let mut c = Change::new(def, l.run, l.steps, ctx.now);
        let out = f(&mut c)?;
        let a = c.into_advance();
        if a.events.is_empty() || ctx.store.advance_workflow_run(&a, j).await? {
            return Ok(out);
        }
    }
    Err(CoreError::Conflict(
        "The run kept changing; try again".into(),
    ))
}
