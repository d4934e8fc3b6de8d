//! The advisor's runs and findings.

use async_trait::async_trait;

use super::StoreResult;
use crate::advisor::model::{AdvisorRun, Finding, FindingFilter};
use crate::journal::Journal;
use crate::model::Page;

/// Advisor runs and findings, per organisation.
#[async_trait]
pub trait AdvisorRepo: Send + Sync {
    /// Stores a new run with its journal (the run's job among it).
    async fn create_advisor_run(&self, run: &AdvisorRun, j: &Journal<'_>) -> StoreResult<()>;
    /// Saves a run's status, summary and times.
    async fn save_advisor_run(&self, run: &AdvisorRun) -> StoreResult<()>;
    /// Ends a run: its row, the findings it changed (each with whether its
    /// lifecycle moves) and the journal, in one transaction.
    async fn finish_advisor_run(
        &self,
        run: &AdvisorRun,
        findings: &[(Finding, bool)],
        j: &Journal<'_>,
    ) -> StoreResult<()>;
    /// One run.
    async fn get_advisor_run(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<AdvisorRun>>;
    /// Runs, newest first (of one schedule).
    async fn list_advisor_runs(
        &self,
        org_id: &crate::ids::OrgId,
        schedule_id: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<AdvisorRun>>;
    /// Every finding of the organisation (for a scan to reconcile against).
    async fn all_findings(&self, org_id: &crate::ids::OrgId) -> StoreResult<Vec<Finding>>;
    /// Findings matching a filter, most severe and newest first.
    async fn list_findings(
        &self,
        org_id: &crate::ids::OrgId,
        f: &FindingFilter,
    ) -> StoreResult<Page<Finding>>;
    /// One finding.
    async fn get_finding(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<Finding>>;
    /// Saves a decision (acknowledge, dismiss) if the finding is still at
    /// `read_at` (its `updated_at`), with its journal; false when it moved.
    async fn decide_finding(&self, f: &Finding, read_at: i64, j: &Journal<'_>)
        -> StoreResult<bool>;
}
