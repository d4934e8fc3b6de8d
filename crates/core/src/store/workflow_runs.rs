//! Workflow runs: the run row, its steps and its events, changed only by
//! whole [`Advance`]s (with their jobs and outbox events) in one transaction.

use super::StoreResult;
use crate::journal::Journal;
use crate::model::Page;
use crate::workflows::model::{Advance, RunEvent, RunStatus, WorkflowRun, WorkflowStep};
use async_trait::async_trait;

/// Workflow runs, their steps and events.
#[async_trait]
pub trait WorkflowRunRepo: Send + Sync {
    /// Stores a new run (its row as given) with the advance's steps, events,
    /// jobs and outbox events, in one transaction.
    async fn create_workflow_run(&self, a: &Advance) -> StoreResult<()>;
    /// Applies an advance if the run is still at revision `a.run.rev` (then
    /// bumps it): the run row, step upserts, events, jobs (an existing job id
    /// is kept) and outbox events in one transaction. False when another
    /// writer changed the run first (nothing is written), with the change's journal.
    async fn advance_workflow_run(&self, a: &Advance, j: &Journal<'_>) -> StoreResult<bool>;
    /// One run of the organisation.
    async fn get_workflow_run(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<WorkflowRun>>;
    /// The organisation's runs (of one workflow, in one status), newest first.
    async fn list_workflow_runs(
        &self,
        org_id: &crate::ids::OrgId,
        workflow_id: Option<&str>,
        status: Option<RunStatus>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<WorkflowRun>>;
    /// A run's steps, in the order they became due.
    async fn list_workflow_steps(
        &self,
        org_id: &crate::ids::OrgId,
        run_id: &str,
    ) -> StoreResult<Vec<WorkflowStep>>;
    /// A run's events after `after_seq`, oldest first, at most `limit`.
    async fn list_run_events(
        &self,
        org_id: &crate::ids::OrgId,
        run_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<RunEvent>>;
    /// The step waiting for this (tool) approval, if any.
    async fn step_waiting_for_approval(
        &self,
        org_id: &crate::ids::OrgId,
        approval_id: &crate::ids::ApprovalId,
    ) -> StoreResult<Option<WorkflowStep>>;
}
