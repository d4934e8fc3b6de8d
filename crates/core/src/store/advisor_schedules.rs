//! Advisor schedules.

use async_trait::async_trait;

use super::StoreResult;
use crate::advisor::model::AdvisorRun;
use crate::advisor::schedule::Schedule;
use crate::journal::Journal;

/// Advisor schedules, per organisation.
#[async_trait]
pub trait AdvisorScheduleRepo: Send + Sync {
    /// Stores a new schedule with its journal (its first tick job).
    async fn create_advisor_schedule(&self, s: &Schedule, j: &Journal<'_>) -> StoreResult<()>;
    /// One schedule.
    async fn get_advisor_schedule(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<Schedule>>;
    /// The organisation's schedules, oldest first.
    async fn list_advisor_schedules(
        &self,
        org_id: &crate::ids::OrgId,
    ) -> StoreResult<Vec<Schedule>>;
    /// Saves a changed schedule if still at `read_at` (its `updated_at`), with its journal.
    async fn update_advisor_schedule(
        &self,
        s: &Schedule,
        read_at: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool>;
    /// Deletes a schedule (its runs stay); false when there was none.
    async fn delete_advisor_schedule(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
        j: &Journal<'_>,
    ) -> StoreResult<bool>;
    /// Handles a tick: if the schedule still waits for `tick` (and is not
    /// paused), stores its new `next_at`, the tick's run (if any) and the
    /// journal (the run's job, the next tick's job) in one transaction; false
    /// when another replica handled the tick first, or it was paused or changed.
    async fn advance_advisor_schedule(
        &self,
        s: &Schedule,
        tick: i64,
        run: Option<&AdvisorRun>,
        j: &Journal<'_>,
    ) -> StoreResult<bool>;
    /// Counts a scheduled run's outcome: a failure adds one (pausing the
    /// schedule with `reason` once it reaches its maximum), a success resets.
    async fn advisor_schedule_outcome(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
        failed: bool,
        reason: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// Runs of the schedule still queued or running.
    async fn active_schedule_runs(&self, org_id: &crate::ids::OrgId, id: &str) -> StoreResult<i64>;
}
