//! Workflow definitions and their frozen versions.

use super::StoreResult;
use crate::journal::Journal;
use crate::model::Page;
use crate::workflows::model::{Workflow, WorkflowFilter, WorkflowVersion};
use async_trait::async_trait;

/// Workflow definitions and their frozen versions, per organisation.
#[async_trait]
pub trait WorkflowRepo: Send + Sync {
    /// Stores a new definition.
    async fn create_workflow(&self, w: &Workflow, j: &Journal<'_>) -> StoreResult<()>;
    /// One definition of the organisation.
    async fn get_workflow(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<Workflow>>;
    /// The organisation's definitions matching `f`, most recently changed first.
    async fn list_workflows(
        &self,
        org_id: &crate::ids::OrgId,
        f: &WorkflowFilter,
    ) -> StoreResult<Page<Workflow>>;
    /// Saves the draft, status and version of a definition, only if it was
    /// last changed at `expected_updated_at` (false otherwise: a concurrent edit).
    async fn save_workflow(
        &self,
        w: &Workflow,
        expected_updated_at: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool>;
    /// Deletes a definition with its versions, runs and their steps and events.
    async fn delete_workflow(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
        j: &Journal<'_>,
    ) -> StoreResult<bool>;
    /// Freezes a version and saves the definition (now `published` at that
    /// version) in one transaction; `Conflict` if that version exists.
    async fn publish_workflow(
        &self,
        w: &Workflow,
        v: &WorkflowVersion,
        j: &Journal<'_>,
    ) -> StoreResult<()>;
    /// One frozen version.
    async fn get_workflow_version(
        &self,
        org_id: &crate::ids::OrgId,
        workflow_id: &str,
        version: i64,
    ) -> StoreResult<Option<WorkflowVersion>>;
    /// Every frozen version, newest first.
    async fn list_workflow_versions(
        &self,
        org_id: &crate::ids::OrgId,
        workflow_id: &str,
    ) -> StoreResult<Vec<WorkflowVersion>>;
}
