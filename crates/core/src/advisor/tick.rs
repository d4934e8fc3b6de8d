//! The handler of `advisor.tick` jobs (see [`super::schedule`]): decides
//! what the tick does (run, skip for overlap, skip as missed), computes the
//! next tick and writes both in one transaction fenced on this tick.

use crate::kinds::EventKind;
use async_trait::async_trait;
use serde_json::json;

use super::model::{RunStatus, Trigger};
use super::schedule::{tick_job, Overlap, Pattern, Tick};
use super::service::{new_run_as, run_job};
use crate::error::CoreResult;
use crate::jobs::{Job, JobError, JobHandler};
use crate::service::{Contexts, Ctx};

/// Handles schedule ticks.
pub struct TickHandler {
    contexts: Contexts,
}

impl TickHandler {
    /// The handler over this process's contexts.
    pub fn new(contexts: Contexts) -> Self {
        Self { contexts }
    }
}

#[async_trait]
impl JobHandler for TickHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let t: Tick = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad advisor.tick payload: {e}")))?;
        let ctx = self.contexts.ctx(None, Some("portal-advisor-scheduler"));
        tick(&ctx, &t)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}

/// Handles one tick; a stale one (the schedule moved on, paused, or was
/// deleted) does nothing.
pub async fn tick(ctx: &Ctx<'_>, t: &Tick) -> CoreResult<()> {
    let Some(mut s) = ctx
        .store
        .get_advisor_schedule(&t.org_id, &t.schedule_id)
        .await?
    else {
        return Ok(());
    };
    if s.paused || s.next_at != Some(t.tick) {
        return Ok(());
    }
    let now = ctx.now;
    let pattern = Pattern::parse(&s.cron)?;
    // Ticks beyond the catch-up window are not made up: the next is after now.
    let next = pattern.next_after(t.tick.max(now - s.catch_up_ms));
    let missed = now > t.tick + s.jitter_ms + s.catch_up_ms;
    let busy =
        s.overlap == Overlap::Skip && ctx.store.active_schedule_runs(&s.org_id, &s.id).await? > 0;
    let mut run = new_run_as(
        &s.principal,
        &s.created_by,
        &s.org_id,
        Trigger::Schedule,
        Some(&s.id),
        now,
    );
    run.tick_at = Some(t.tick);
    let mut j = ctx.journal();
    if missed || busy {
        run.status = RunStatus::Skipped;
        run.finished_at = Some(now);
        run.error = Some(if missed {
            "Missed: the tick is past the schedule's catch-up window".into()
        } else {
            "Skipped: the schedule's previous run is still going".into()
        });
    } else {
        j.job(run_job(&run, now));
    }
    s.last_tick_at = Some(t.tick);
    s.next_at = next;
    s.updated_at = now.max(s.updated_at + 1);
    if let Some(n) = next {
        j.job(tick_job(&s, n));
    }
    j.event(
        &s.org_id,
        EventKind::AdvisorScheduleTicked,
        &json!({"scheduleId": s.id, "tick": t.tick, "runId": run.id, "status": run.status.as_str()}),
    );
    ctx.store
        .advance_advisor_schedule(&s, t.tick, Some(&run), &j)
        .await?;
    Ok(())
}
